//! All SQL of Lianxin. One [`Store`] over sqlx's `Any` driver serves SQLite (the default,
//! embedded) and PostgreSQL; every query is written once with `$n` placeholders, which both
//! accept. Dialect differences live in the migrations folders and in [`Backend`].

mod anchors;
mod copy;
mod error;
mod incidents;
mod logins;
mod notify;
mod orders;
mod problems;
mod recount;
mod reference;
mod rollup;
mod scan;
mod sql;
mod texts;
mod users;
mod verify;
mod vocabulary;
mod writer;

pub use copy::CopyReport;
pub use error::StoreError;
pub use incidents::StoredIncident;
pub use logins::{LoginAttempt, LoginFilter, LoginOutcome, LoginRecord, NewSession};
pub use notify::Notification;
pub use orders::{ActError, Changed, OrderFilter, OrderPage, OrderSort, StoredEvent};
pub use problems::{NewPart, NewProblem, Reported, StoredPart, StoredProblem, StoredReport};
pub use reference::{AdminChange, ReferenceWrite};
pub use rollup::Grouping;
pub use scan::Progress;
pub use texts::{ArticleImport, StoredArticle};
pub use users::{AuditEntry, UserRecord, UserWrite};
pub use verify::{Problem, VerifyReport};
pub use vocabulary::Vocabulary;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database: a connection pool and its backend.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time. Queueing writers here, in FIFO order, replaces
    /// SQLite's busy handler (which sleeps and retries) with a prompt hand-over.
    write_gate: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// The group-commit writer of every change to work orders.
    writer: tokio::sync::mpsc::Sender<writer::Job>,
    /// The local time offset that dates KPI rollups.
    offset: DayOffset,
    /// The unit tree the per-unit rollup cells are counted under.
    anchors: anchors::AnchorCache,
    /// Told after every commit of order changes (by this process), so the search index
    /// catches up at once rather than at its next poll.
    changed: std::sync::Arc<tokio::sync::Notify>,
    /// Where the store connected, for the rare connection outside the pool (`db copy`'s
    /// COPY on PostgreSQL). It carries the credentials, so its `Debug` is [`redact`]ed.
    url: Url,
}

/// A connection URL whose password never reaches a log or a `Debug` print.
#[derive(Clone)]
struct Url(std::sync::Arc<str>);

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl std::ops::Deref for Url {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The UTC offset (minutes) of the hotline's local days, shared by every clone of a store.
#[derive(Debug, Clone)]
pub(crate) struct DayOffset(std::sync::Arc<std::sync::atomic::AtomicI32>);

impl DayOffset {
    pub(crate) fn calendar(&self) -> lianxin_domain::calendar::Calendar {
        lianxin_domain::calendar::Calendar {
            utc_offset_minutes: self.0.load(std::sync::atomic::Ordering::Relaxed),
            ..Default::default()
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`), creating a SQLite file when
    /// missing, and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL `{}`: use sqlite://FILE or postgres://…",
                redact(url)
            )));
        };
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
                AnyPoolOptions::new()
                    .max_connections(8)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the one writer; FULL makes every
                            // acknowledged commit durable; the busy timeout queues writers.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            // A larger page cache and memory-mapped reads spare a syscall
                            // per page read on the hot path.
                            conn.execute("PRAGMA cache_size = -32768").await?;
                            conn.execute("PRAGMA mmap_size = 268435456").await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(3))
                    .test_before_acquire(true)
                    .connect(url)
                    .await?
            }
        };
        let write_gate = (backend == Backend::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        // Both backends commit concurrent changes in batches: one commit (one fsync) for
        // many changes beats many commits queueing on the disk, and on PostgreSQL the day's
        // counter row is a hot spot held until commit.
        let (writer, rx) = tokio::sync::mpsc::channel(writer::QUEUE);
        let offset = DayOffset(std::sync::Arc::new(std::sync::atomic::AtomicI32::new(8 * 60)));
        let changed = std::sync::Arc::new(tokio::sync::Notify::new());
        let anchors = anchors::AnchorCache::default();
        tokio::spawn(writer::run(
            pool.clone(),
            backend,
            write_gate.clone(),
            offset.clone(),
            anchors.clone(),
            changed.clone(),
            rx,
        ));
        let store = Store { pool, backend, write_gate, writer, offset, anchors, changed, url: Url(url.into()) };
        store.migrate().await?;
        Ok(store)
    }

    /// Runs pending migrations of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Waits for this process's turn to write (SQLite only; PostgreSQL writers run in parallel).
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_gate {
            Some(g) => Some(g.clone().lock_owned().await),
            None => None,
        }
    }

    /// Sets the local offset that dates KPI rollups (the working calendar's).
    pub fn set_utc_offset(&self, minutes: i32) {
        self.offset.0.store(minutes, std::sync::atomic::Ordering::Relaxed);
    }

    /// A calendar carrying only the offset, for dating rollups.
    pub(crate) fn calendar_for_days(&self) -> lianxin_domain::calendar::Calendar {
        self.offset.calendar()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Copies a live SQLite database into one consistent file (`VACUUM INTO`), while other
    /// connections keep reading and writing. Refuses an existing file.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Config(
                "db backup copies the embedded SQLite database; back up PostgreSQL with pg_dump (see the README)"
                    .into(),
            ));
        }
        if path.exists() {
            return Err(StoreError::Config(format!("{} exists already; give a new file", path.display())));
        }
        let target = path.to_str().ok_or_else(|| StoreError::Config("the backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
        Ok(())
    }

    /// The baseline of `bench import`: inserts `rows` rows of `payload` bytes into a scratch
    /// table in one transaction (as an import does) and returns the seconds it took.
    pub async fn baseline_inserts(&self, rows: usize, payload: usize) -> Result<f64, StoreError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS bench_baseline (k TEXT PRIMARY KEY, v BIGINT NOT NULL, d TEXT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM bench_baseline").execute(&self.pool).await?;
        let text = "x".repeat(payload);
        let started = std::time::Instant::now();
        {
            let _turn = self.write_turn().await;
            let mut tx = self.pool.begin().await?;
            for i in 0..rows {
                sqlx::query("INSERT INTO bench_baseline (k, v, d) VALUES ($1, $2, $3)")
                    .bind(format!("k{i:09}"))
                    .bind(i as i64)
                    .bind(&text)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        let secs = started.elapsed().as_secs_f64();
        sqlx::query("DROP TABLE bench_baseline").execute(&self.pool).await?;
        Ok(secs)
    }

    /// The baseline of `bench actions`: the raw durable commit rate of this database, with
    /// its own settings (WAL and `synchronous = FULL` on SQLite), measured for `seconds`.
    /// On SQLite one writer commits one two-statement transaction after another (SQLite
    /// has one writer at a time); on PostgreSQL `clients` connections each commit single-row
    /// inserts back to back, as pgbench's insert script does. Returns commits per second.
    pub async fn baseline_commits(&self, clients: usize, seconds: f64) -> Result<f64, StoreError> {
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_commits (k TEXT PRIMARY KEY, v BIGINT NOT NULL)")
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM bench_commits").execute(&self.pool).await?;
        let until = std::time::Instant::now() + Duration::from_secs_f64(seconds);
        let started = std::time::Instant::now();
        let clients = if self.backend == Backend::Sqlite { 1 } else { clients.max(1) };
        let mut tasks = Vec::new();
        for c in 0..clients {
            let pool = self.pool.clone();
            let sqlite = self.backend == Backend::Sqlite;
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while std::time::Instant::now() < until {
                    let k = format!("c{c}-{n}");
                    if sqlite {
                        let mut tx = pool.begin().await?;
                        sqlx::query("INSERT INTO bench_commits (k, v) VALUES ($1, 0)")
                            .bind(&k)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("UPDATE bench_commits SET v = v + 1 WHERE k = $1")
                            .bind(&k)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                    } else {
                        sqlx::query("INSERT INTO bench_commits (k, v) VALUES ($1, 0)").bind(&k).execute(&pool).await?;
                    }
                    n += 1;
                }
                Ok::<u64, sqlx::Error>(n)
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.map_err(|e| StoreError::Unavailable(e.to_string()))??;
        }
        let secs = started.elapsed().as_secs_f64();
        sqlx::query("DROP TABLE bench_commits").execute(&self.pool).await?;
        Ok(total as f64 / secs)
    }

    /// A value from the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let v: Option<(String,)> =
            sqlx::query_as("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        Ok(v.map(|v| v.0))
    }

    /// Sets a value in the `meta` table.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A database URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stores_url_never_shows_its_password_in_debug() {
        let url = Url("postgres://lianxin:s3cret@db.example:5432/city".into());
        assert_eq!(format!("{url:?}"), "postgres://lianxin:***@db.example:5432/city");
        assert_eq!(&*url, "postgres://lianxin:s3cret@db.example:5432/city");
    }
}
