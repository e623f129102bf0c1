//! Passes over the whole database (`verify`, `db copy`): one connection reading one snapshot
//! a page or a stream at a time, so that memory stays bounded whatever the database holds.

use crate::{Backend, Store, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

/// How far a long pass has got, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// What is counted: `orders` for `verify`, a table's name for `db copy`.
    pub what: &'static str,
    pub done: i64,
    /// How many there were when the pass began.
    pub total: i64,
}

impl Store {
    /// A connection for a whole-database pass. On SQLite its reads are not memory-mapped:
    /// mapped pages count against the process's resident memory up to `mmap_size`
    /// (256 MiB), which a pass over a large file would fill for nothing. Its page cache is
    /// small for the same reason: a pass reads each page about once, and the pool's 32 MiB
    /// cache would otherwise fill with pages of a large file, growing memory with it.
    pub(crate) async fn scan_connection(&self) -> Result<PoolConnection<Any>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA mmap_size = 0").execute(&mut *conn).await?;
            sqlx::query("PRAGMA cache_size = -4096").execute(&mut *conn).await?;
        }
        Ok(conn)
    }

    /// Gives a scan connection its pool settings back.
    pub(crate) async fn end_scan(&self, mut conn: PoolConnection<Any>) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA mmap_size = 268435456").execute(&mut *conn).await?;
            sqlx::query("PRAGMA cache_size = -32768").execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Starts the read-only snapshot a pass reads: every page of it sees the same database,
    /// even while a server writes (SQLite's WAL keeps the snapshot; PostgreSQL's repeatable
    /// read does).
    pub(crate) async fn begin_snapshot(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Ends the snapshot (nothing was written).
    pub(crate) async fn end_snapshot(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        sqlx::query("ROLLBACK").execute(&mut *conn).await?;
        Ok(())
    }
}
