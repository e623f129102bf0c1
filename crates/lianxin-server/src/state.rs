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
    /// Recently checked sessions: token hash → user and when to check again.
    sessions: std::sync::Mutex<
        std::collections::HashMap<String, (lianxin_store::UserRecord, std::time::Instant, lianxin_domain::Millis)>,
    >,
    directory: RwLock<Arc<Directory>>,
    calendar: RwLock<Arc<Calendar>>,
    policy: Policy,
    clock: Clock,
    settings: Settings,
    /// How many argon2 password verifications this server has run (a check that unknown
    /// usernames cost what real ones do).
    password_checks: std::sync::atomic::AtomicU64,
    search: Arc<crate::search::Search>,
}

/// How the server meets the network: sign-in throttling, the proxy in front, TLS.
#[derive(Debug, Clone)]
pub struct Settings {
    pub login: lianxin_domain::login::LoginPolicy,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The public URL is `https`: cookies are `Secure`, answers carry HSTS.
    pub https: bool,
    /// How long a request body may stall before the request is answered 408.
    pub body_timeout: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            login: Default::default(),
            trusted_proxies: Vec::new(),
            https: false,
            body_timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl AppState {
    /// The state of a server with its search index in `search`.
    pub fn with_settings(
        store: Store,
        directory: Directory,
        calendar: Calendar,
        clock: Clock,
        settings: Settings,
        search: Arc<crate::search::Search>,
    ) -> AppState {
        store.set_utc_offset(calendar.utc_offset_minutes);
        AppState {
            inner: Arc::new(Inner {
                store,
                sessions: std::sync::Mutex::new(std::collections::HashMap::new()),
                directory: RwLock::new(Arc::new(directory)),
                calendar: RwLock::new(Arc::new(calendar)),
                policy: Policy::default(),
                clock,
                settings,
                password_checks: std::sync::atomic::AtomicU64::new(0),
                search,
            }),
        }
    }

    /// The user behind a session token hash. A hit is remembered for a few seconds so that
    /// busy clients do not read the sessions table on every request; a logout through this
    /// process forgets it at once, through another within that time.
    pub async fn session_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<lianxin_store::UserRecord>, lianxin_store::StoreError> {
        const FRESH: std::time::Duration = std::time::Duration::from_secs(5);
        let now = self.now();
        // Fresh by the wall clock and by the server's clock (which tests move).
        let fresh = |checked: &std::time::Instant, at: lianxin_domain::Millis| {
            checked.elapsed() < FRESH && (0..FRESH.as_millis() as i64).contains(&(now - at))
        };
        if let Ok(cache) = self.inner.sessions.lock()
            && let Some((user, checked, at)) = cache.get(token_hash)
            && fresh(checked, *at)
        {
            return Ok(Some(user.clone()));
        }
        let user = self.inner.store.session_user(token_hash, now).await?;
        if let Ok(mut cache) = self.inner.sessions.lock() {
            if cache.len() > 10_000 {
                cache.retain(|_, (_, checked, at)| fresh(checked, *at));
            }
            match &user {
                Some(u) => {
                    cache.insert(token_hash.to_owned(), (u.clone(), std::time::Instant::now(), now));
                }
                None => {
                    cache.remove(token_hash);
                }
            }
        }
        Ok(user)
    }

    /// Forgets a session (logout).
    pub fn forget_session(&self, token_hash: &str) {
        if let Ok(mut cache) = self.inner.sessions.lock() {
            cache.remove(token_hash);
        }
    }

    /// Forgets every cached session of a user (disabled, or their roles changed), so that
    /// the next request of theirs reads the database.
    pub fn forget_user(&self, username: &str) {
        if let Ok(mut cache) = self.inner.sessions.lock() {
            cache.retain(|_, (u, _, _)| u.username != username);
        }
    }

    /// The network settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Counts one argon2 password verification.
    pub fn count_password_check(&self) {
        self.inner.password_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many argon2 password verifications this server has run.
    pub fn password_checks(&self) -> u64 {
        self.inner.password_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The search index and the texts read at intake.
    pub fn search(&self) -> Arc<crate::search::Search> {
        self.inner.search.clone()
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
