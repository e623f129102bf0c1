//! Sign-in throttling: how long an account or an address must wait after repeated failed
//! sign-ins. Pure arithmetic over what the login log recorded; the store counts, the
//! server asks here.

use crate::Millis;

/// When further sign-ins are refused and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// Failures counted: those within this window before now.
    pub window_ms: Millis,
    /// Failures of one account (since its last success) that start the delays.
    pub account_failures: u32,
    /// Failures from one address (whatever the accounts) that start the delays.
    pub address_failures: u32,
    /// The first delay; each further failure doubles it.
    pub base_delay_ms: Millis,
    /// The longest delay.
    pub max_delay_ms: Millis,
}

impl Default for LoginPolicy {
    /// 5 failures per account or 20 per address within 15 minutes, then 5 s, 10 s, 20 s …
    /// up to 15 minutes.
    fn default() -> Self {
        LoginPolicy {
            window_ms: 15 * 60_000,
            account_failures: 5,
            address_failures: 20,
            base_delay_ms: 5_000,
            max_delay_ms: 15 * 60_000,
        }
    }
}

/// The failures the log holds for one key (an account or an address) within the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Failures {
    pub count: u32,
    /// When the newest of them happened.
    pub last_at: Option<Millis>,
}

impl LoginPolicy {
    /// The delay after `count` failures with `threshold` allowed: none below the threshold,
    /// then the base delay doubled for every failure beyond it, capped.
    pub fn delay(&self, count: u32, threshold: u32) -> Option<Millis> {
        if threshold == 0 || count < threshold {
            return None;
        }
        let doublings = (count - threshold).min(40);
        let d = self.base_delay_ms.saturating_mul(1i64 << doublings);
        Some(d.min(self.max_delay_ms))
    }

    /// The earliest time a sign-in may be tried again, when that is after `now`: the later
    /// of the account's and the address's waits, each counted from its newest failure.
    pub fn retry_at(&self, account: Failures, address: Failures, now: Millis) -> Option<Millis> {
        let wait = |f: Failures, threshold: u32| {
            let last = f.last_at?;
            self.delay(f.count, threshold).map(|d| last.saturating_add(d))
        };
        [wait(account, self.account_failures), wait(address, self.address_failures)]
            .into_iter()
            .flatten()
            .max()
            .filter(|at| *at > now)
    }
}

/// Seconds to announce in `Retry-After` for a wait until `at` (at least one).
pub fn retry_after_seconds(at: Millis, now: Millis) -> u64 {
    let ms = (at - now).max(0) as u64;
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(count: u32, last_at: Millis) -> Failures {
        Failures { count, last_at: Some(last_at) }
    }

    #[test]
    fn below_the_threshold_there_is_no_wait() {
        let p = LoginPolicy::default();
        assert_eq!(p.retry_at(f(4, 1000), f(19, 1000), 1000), None);
        assert_eq!(p.retry_at(Failures::default(), Failures::default(), 0), None);
    }

    #[test]
    fn the_wait_doubles_with_every_further_failure_and_is_capped() {
        let p = LoginPolicy::default();
        assert_eq!(p.delay(5, 5), Some(5_000));
        assert_eq!(p.delay(6, 5), Some(10_000));
        assert_eq!(p.delay(7, 5), Some(20_000));
        assert_eq!(p.delay(30, 5), Some(15 * 60_000));
        assert_eq!(p.delay(u32::MAX, 5), Some(15 * 60_000));
    }

    #[test]
    fn the_wait_counts_from_the_newest_failure_and_the_longer_key_wins() {
        let p = LoginPolicy::default();
        let now = 100_000;
        assert_eq!(p.retry_at(f(5, now - 1_000), Failures::default(), now), Some(now + 4_000));
        assert_eq!(p.retry_at(f(5, now - 6_000), Failures::default(), now), None, "the wait is over");
        assert_eq!(p.retry_at(f(5, now), f(21, now), now), Some(now + 10_000), "the address waits longer");
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(10_001, 0), 11);
        assert_eq!(retry_after_seconds(5, 5), 1);
    }
}
