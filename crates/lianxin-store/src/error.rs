use std::fmt;

/// A failure of the store.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (HTTP 503).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A bad configuration, such as an unknown URL scheme.
    #[error("{0}")]
    Config(String),
    /// A uniqueness or reference rule of the schema was broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data cannot be read back (a bug or tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(String),
    #[error("migration failed: {0}")]
    Migrate(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                // PostgreSQL: 08xxx connection, 57P0x shutdown; 23xxx constraint violations.
                if code.starts_with("08") || code.starts_with("57P") {
                    StoreError::Unavailable(db.message().to_owned())
                } else if db.is_unique_violation() || db.is_foreign_key_violation() || code.starts_with("23") {
                    StoreError::Conflict(db.message().to_owned())
                } else {
                    StoreError::Database(db.message().to_owned())
                }
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => StoreError::from(inner),
            other => StoreError::Migrate(other.to_string()),
        }
    }
}

pub(crate) fn corrupt(what: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
