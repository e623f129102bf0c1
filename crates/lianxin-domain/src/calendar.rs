//! Working calendar and deadline arithmetic (限时办结).
//!
//! A limit counted in working time only runs inside working periods (by default 08:30–12:00
//! and 14:00–17:30, local time) on working days: Monday to Friday, less public holidays, plus
//! make-up working days (调休) that fall on a weekend. `N` working days are `N` times the
//! working minutes of one day, so an order dispatched at 10:00 on a Monday with a limit of
//! five working days is due at 10:00 the next Monday. Wall-clock limits (emergencies) ignore
//! the calendar.

use crate::Millis;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// A time limit: an amount and how it is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// Working days of the calendar (`5wd`).
    WorkingDays(u32),
    /// Working hours of the calendar (`4wh`).
    WorkingHours(u32),
    /// Wall-clock hours (`2h`).
    Hours(u32),
    /// Wall-clock minutes (`10m`).
    Minutes(u32),
}

impl TimeLimit {
    /// Parses `5wd`, `4wh`, `2h` or `10m`.
    pub fn parse(s: &str) -> Result<TimeLimit, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u32 = num.parse().map_err(|_| format!("`{s}` is not a time limit like 5wd, 4wh, 2h or 10m"))?;
        if n == 0 || n > 10_000 {
            return Err(format!("time limit `{s}` must be between 1 and 10000"));
        }
        match unit {
            "wd" => Ok(TimeLimit::WorkingDays(n)),
            "wh" => Ok(TimeLimit::WorkingHours(n)),
            "h" => Ok(TimeLimit::Hours(n)),
            "m" => Ok(TimeLimit::Minutes(n)),
            _ => Err(format!("`{s}` is not a time limit like 5wd, 4wh, 2h or 10m")),
        }
    }
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeLimit::WorkingDays(n) => write!(f, "{n}wd"),
            TimeLimit::WorkingHours(n) => write!(f, "{n}wh"),
            TimeLimit::Hours(n) => write!(f, "{n}h"),
            TimeLimit::Minutes(n) => write!(f, "{n}m"),
        }
    }
}

impl Serialize for TimeLimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TimeLimit::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A working period within a day, in minutes after local midnight: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: u16,
    pub end: u16,
}

/// The working calendar of a hotline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    /// Local time's offset from UTC in minutes (China: +480).
    pub utc_offset_minutes: i32,
    /// Working periods of a working day, sorted, not overlapping.
    pub periods: Vec<Period>,
    /// Days off that would otherwise be working days (public holidays).
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are worked (调休 make-up days).
    pub workdays: BTreeSet<NaiveDate>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            utc_offset_minutes: 8 * 60,
            periods: vec![Period { start: 8 * 60 + 30, end: 12 * 60 }, Period { start: 14 * 60, end: 17 * 60 + 30 }],
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
        }
    }
}

const MINUTE: Millis = 60_000;
const DAY: Millis = 86_400_000;

impl Calendar {
    fn offset_ms(&self) -> Millis {
        i64::from(self.utc_offset_minutes) * MINUTE
    }

    /// The local calendar date of an instant.
    pub fn local_date(&self, at: Millis) -> NaiveDate {
        let local = at + self.offset_ms();
        let days = local.div_euclid(DAY);
        NaiveDate::from_num_days_from_ce_opt(719_163 + days as i32).unwrap_or(NaiveDate::MIN)
    }

    /// The instant a local day begins (its local midnight).
    pub fn day_start(&self, date: NaiveDate) -> Millis {
        (i64::from(date.num_days_from_ce()) - 719_163) * DAY - self.offset_ms()
    }

    /// The local hour (0–23) of an instant.
    pub fn local_hour(&self, at: Millis) -> u32 {
        ((at + self.offset_ms()).rem_euclid(DAY) / (60 * MINUTE)) as u32
    }

    /// The local date as `YYYYMMDD`, the prefix of order numbers.
    pub fn local_day_code(&self, at: Millis) -> String {
        self.local_date(at).format("%Y%m%d").to_string()
    }

    /// An instant as RFC 3339 in the calendar's local offset.
    pub fn rfc3339(&self, at: Millis) -> String {
        let offset = chrono::FixedOffset::east_opt(self.utc_offset_minutes * 60)
            .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset is valid"));
        match Utc.timestamp_millis_opt(at).single() {
            Some(t) => t.with_timezone(&offset).to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            None => String::new(),
        }
    }

    /// Parses RFC 3339 into milliseconds.
    pub fn parse_rfc3339(s: &str) -> Option<Millis> {
        DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_millis())
    }

    /// Epoch milliseconds of local midnight starting `date`.
    fn midnight(&self, date: NaiveDate) -> Millis {
        let naive = date.and_time(NaiveTime::MIN);
        naive.and_utc().timestamp_millis() - self.offset_ms()
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// Working minutes in one working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.periods.iter().map(|p| i64::from(p.end.saturating_sub(p.start))).sum()
    }

    /// The instant `minutes` working minutes after `start`. Ten years without a working
    /// minute (an empty calendar) give up and count wall-clock time instead.
    pub fn add_working_minutes(&self, start: Millis, minutes: i64) -> Millis {
        if minutes <= 0 {
            return start;
        }
        if self.minutes_per_day() == 0 {
            return start + minutes * MINUTE;
        }
        let mut remaining = minutes * MINUTE;
        let mut date = self.local_date(start);
        for _ in 0..3660 {
            if self.is_working_day(date) {
                let midnight = self.midnight(date);
                for p in &self.periods {
                    let from = (midnight + i64::from(p.start) * MINUTE).max(start);
                    let to = midnight + i64::from(p.end) * MINUTE;
                    if from >= to {
                        continue;
                    }
                    let span = to - from;
                    if remaining <= span {
                        return from + remaining;
                    }
                    remaining -= span;
                }
            }
            date += Duration::days(1);
        }
        start + minutes * MINUTE
    }

    /// Working minutes between two instants (0 when `end <= start`).
    pub fn working_minutes_between(&self, start: Millis, end: Millis) -> i64 {
        if end <= start || self.minutes_per_day() == 0 {
            return 0;
        }
        let mut total = 0;
        let mut date = self.local_date(start);
        let last = self.local_date(end);
        while date <= last {
            if self.is_working_day(date) {
                let midnight = self.midnight(date);
                for p in &self.periods {
                    let from = (midnight + i64::from(p.start) * MINUTE).max(start);
                    let to = (midnight + i64::from(p.end) * MINUTE).min(end);
                    if to > from {
                        total += to - from;
                    }
                }
            }
            date += Duration::days(1);
        }
        total / MINUTE
    }

    /// The point `percent` of the way through a limit starting at `start`, counted the way
    /// the limit counts (working or wall-clock time).
    pub fn partial_deadline(&self, start: Millis, limit: TimeLimit, percent: u8) -> Millis {
        let p = i64::from(percent);
        match limit {
            TimeLimit::WorkingDays(n) => {
                self.add_working_minutes(start, i64::from(n) * self.minutes_per_day() * p / 100)
            }
            TimeLimit::WorkingHours(n) => self.add_working_minutes(start, i64::from(n) * 60 * p / 100),
            TimeLimit::Hours(n) => start + i64::from(n) * 60 * MINUTE * p / 100,
            TimeLimit::Minutes(n) => start + i64::from(n) * MINUTE * p / 100,
        }
    }

    /// The point `percent` of the working time between `start` and `end` (an explicit new
    /// deadline, such as an approved extension); wall-clock time when no working time lies
    /// between them.
    pub fn partial_between(&self, start: Millis, end: Millis, percent: u8) -> Millis {
        let working = self.working_minutes_between(start, end);
        if working == 0 {
            return start + (end - start).max(0) * i64::from(percent) / 100;
        }
        self.add_working_minutes(start, working * i64::from(percent) / 100).min(end)
    }

    /// The deadline that a limit starting at `start` gives.
    pub fn deadline(&self, start: Millis, limit: TimeLimit) -> Millis {
        match limit {
            TimeLimit::WorkingDays(n) => self.add_working_minutes(start, i64::from(n) * self.minutes_per_day()),
            TimeLimit::WorkingHours(n) => self.add_working_minutes(start, i64::from(n) * 60),
            TimeLimit::Hours(n) => start + i64::from(n) * 60 * MINUTE,
            TimeLimit::Minutes(n) => start + i64::from(n) * MINUTE,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> Millis {
        Calendar::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn limits_parse_and_print() {
        for s in ["5wd", "4wh", "2h", "10m"] {
            assert_eq!(TimeLimit::parse(s).unwrap().to_string(), s);
        }
        assert!(TimeLimit::parse("5").is_err());
        assert!(TimeLimit::parse("0wd").is_err());
        assert!(TimeLimit::parse("wd").is_err());
    }

    #[test]
    fn five_working_days_from_monday_morning_is_next_monday_morning() {
        let c = Calendar::default();
        // 2026-11-23 is a Monday.
        let d = c.deadline(at("2026-11-23T10:00:00+08:00"), TimeLimit::WorkingDays(5));
        assert_eq!(c.rfc3339(d), "2026-11-30T10:00:00.000+08:00");
    }

    #[test]
    fn working_hours_skip_lunch_and_nights() {
        let c = Calendar::default();
        let d = c.deadline(at("2026-11-23T11:30:00+08:00"), TimeLimit::WorkingHours(1));
        assert_eq!(c.rfc3339(d), "2026-11-23T14:30:00.000+08:00");
        let d = c.deadline(at("2026-11-23T17:00:00+08:00"), TimeLimit::WorkingHours(1));
        assert_eq!(c.rfc3339(d), "2026-11-24T09:00:00.000+08:00");
    }

    #[test]
    fn an_order_registered_at_night_starts_counting_next_morning() {
        let c = Calendar::default();
        let d = c.deadline(at("2026-11-27T22:00:00+08:00"), TimeLimit::WorkingHours(2));
        // Friday night → Monday 08:30 + 2h.
        assert_eq!(c.rfc3339(d), "2026-11-30T10:30:00.000+08:00");
    }

    #[test]
    fn a_limit_ending_at_close_of_business_stays_that_day() {
        let c = Calendar::default();
        let d = c.deadline(at("2026-11-23T08:30:00+08:00"), TimeLimit::WorkingDays(1));
        assert_eq!(c.rfc3339(d), "2026-11-23T17:30:00.000+08:00");
    }

    #[test]
    fn holidays_are_skipped_and_make_up_days_worked() {
        let mut c = Calendar::default();
        // 2026-10-01..07 National Day holiday, 2026-10-10 (Saturday) worked.
        for d in 1..=7 {
            c.holidays.insert(NaiveDate::from_ymd_opt(2026, 10, d).unwrap());
        }
        c.workdays.insert(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap());
        let d = c.deadline(at("2026-09-30T17:00:00+08:00"), TimeLimit::WorkingHours(1));
        assert_eq!(c.rfc3339(d), "2026-10-08T09:00:00.000+08:00");
        // Friday 9 Oct 17:00 + 1 working hour → the make-up Saturday.
        let d = c.deadline(at("2026-10-09T17:00:00+08:00"), TimeLimit::WorkingHours(1));
        assert_eq!(c.rfc3339(d), "2026-10-10T09:00:00.000+08:00");
    }

    #[test]
    fn emergencies_count_wall_clock_time() {
        let c = Calendar::default();
        let d = c.deadline(at("2026-11-28T23:30:00+08:00"), TimeLimit::Hours(2));
        assert_eq!(c.rfc3339(d), "2026-11-29T01:30:00.000+08:00");
        let d = c.deadline(at("2026-11-28T23:55:00+08:00"), TimeLimit::Minutes(10));
        assert_eq!(c.rfc3339(d), "2026-11-29T00:05:00.000+08:00");
    }

    #[test]
    fn the_yellow_point_is_a_share_of_working_time() {
        let c = Calendar::default();
        let start = at("2026-11-23T10:00:00+08:00");
        // 75% of 5 working days = 26 h 15 min of working time: Thursday 17:15.
        let y = c.partial_deadline(start, TimeLimit::WorkingDays(5), 75);
        assert_eq!(c.rfc3339(y), "2026-11-26T17:15:00.000+08:00");
        assert_eq!(c.working_minutes_between(start, c.deadline(start, TimeLimit::WorkingDays(5))), 5 * 7 * 60);
        assert_eq!(c.partial_between(start, c.deadline(start, TimeLimit::WorkingDays(5)), 75), y);
        // Wall-clock limits split wall-clock time.
        let e = c.partial_deadline(start, TimeLimit::Hours(2), 75);
        assert_eq!(c.rfc3339(e), "2026-11-23T11:30:00.000+08:00");
    }

    #[test]
    fn counting_crosses_the_year_end() {
        let c = Calendar::default();
        let d = c.deadline(at("2026-12-31T16:00:00+08:00"), TimeLimit::WorkingDays(1));
        // Thursday 31 Dec 16:00 → Friday 1 Jan 2027 16:00 (no holidays configured).
        assert_eq!(c.rfc3339(d), "2027-01-01T16:00:00.000+08:00");
        assert_eq!(c.local_day_code(at("2026-12-31T23:59:59+08:00")), "20261231");
        assert_eq!(c.local_day_code(at("2026-12-31T16:00:00Z")), "20270101");
    }
}
