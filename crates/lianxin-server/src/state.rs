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
    calendar: Calendar,
    policy: Policy,
    clock: Clock,
}

impl AppState {
    pub fn new(store: Store, directory: Directory, calendar: Calendar, clock: Clock) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                directory: RwLock::new(Arc::new(directory)),
                calendar,
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

    pub fn calendar(&self) -> &Calendar {
        &self.inner.calendar
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

    /// The domain context over a directory snapshot.
    pub fn context<'a>(&'a self, directory: &'a Directory) -> Context<'a> {
        Context { directory, calendar: &self.inner.calendar, policy: &self.inner.policy }
    }
}
