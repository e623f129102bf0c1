//! Shared state of the running server.

use crate::clock::Clock;
use lianxin_domain::Millis;
use lianxin_domain::calendar::Calendar;
use lianxin_domain::lifecycle::{Context, Policy};
use lianxin_domain::reference::Directory;
use lianxin_store::Store;
use std::sync::{Arc, RwLock};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    directory: RwLock<Arc<Directory>>,
    calendar: RwLock<Arc<Calendar>>,
    policy: Policy,
    clock: Clock,
}

impl AppState {
    pub fn new(store: Store, directory: Directory, calendar: Calendar, clock: Clock) -> AppState {
        store.set_utc_offset(calendar.utc_offset_minutes);
        AppState {
            inner: Arc::new(Inner {
                store,
                directory: RwLock::new(Arc::new(directory)),
                calendar: RwLock::new(Arc::new(calendar)),
                policy: Policy::default(),
                clock,
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The current working calendar.
    pub fn calendar(&self) -> Arc<Calendar> {
        match self.inner.calendar.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the working calendar (after an admin edit or import).
    pub fn set_calendar(&self, c: Calendar) {
        self.inner.store.set_utc_offset(c.utc_offset_minutes);
        match self.inner.calendar.write() {
            Ok(mut g) => *g = Arc::new(c),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(c),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Renders an order for an actor at the current time.
    pub fn order_out(
        &self,
        o: &lianxin_domain::Order,
        actor: &lianxin_domain::Actor,
    ) -> (crate::views::OrderOut, bool) {
        crate::views::order_out(o, actor, &self.calendar(), self.now(), self.inner.policy.warn_percent)
    }

    /// The current reference data.
    pub fn directory(&self) -> Arc<Directory> {
        match self.inner.directory.read() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the reference data (after an admin edit or import).
    pub fn set_directory(&self, d: Directory) {
        match self.inner.directory.write() {
            Ok(mut g) => *g = Arc::new(d),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(d),
        }
    }

    /// The domain context over snapshots of the directory and the calendar.
    pub fn context<'a>(&'a self, directory: &'a Directory, calendar: &'a Calendar) -> Context<'a> {
        Context { directory, calendar, policy: &self.inner.policy }
    }
}
