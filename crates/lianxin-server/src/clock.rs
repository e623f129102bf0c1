//! The one source of `now` for the server. Tests set it; nothing else calls the system clock.

use lianxin_domain::Millis;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Where the server takes the current time from.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system clock.
    System,
    /// A clock tests move by hand.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock starting at `at`.
    pub fn manual(at: Millis) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(at)))
    }

    /// The current time in epoch milliseconds.
    pub fn now(&self) -> Millis {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as Millis)
                .unwrap_or(0),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Sets a manual clock (no effect on the system clock).
    pub fn set(&self, at: Millis) {
        if let Clock::Manual(t) = self {
            t.store(at, Ordering::SeqCst);
        }
    }

    /// Moves a manual clock forward.
    pub fn advance(&self, ms: Millis) {
        if let Clock::Manual(t) = self {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }
}
