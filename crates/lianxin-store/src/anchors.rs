//! The unit tree the per-unit rollup cells are counted under ([`Anchors`]).
//!
//! Every transaction that changes rollups reads the database's `units.version` (on
//! PostgreSQL with `FOR SHARE`) and counts under the anchors of that version, reloading them
//! from the `units` table when this process's copy is older. A change of the unit tree takes
//! the same row `FOR UPDATE`, so it waits for the writers counting under the old tree and
//! they wait for it; when the change moves orders between anchors (a unit's parent or
//! district changed, a new district government), it recounts the per-unit cells in its own
//! transaction. The anchors the cells were last counted under are kept in `meta` as
//! `rollup.scope`, so an opened database whose cells are missing or were counted under
//! another tree is recounted once ([`Store::ensure_scope_cells`]).

use crate::rollup::Fold;
use crate::{Backend, Store, StoreError};
use lianxin_domain::calendar::Calendar;
use lianxin_domain::kpi::Dimension;
use lianxin_domain::reference::Unit;
use lianxin_domain::scope::Anchors;
use lianxin_domain::{JurisdictionCode, UnitCode, UnitKind};
use sqlx::{AnyConnection, Row};
use std::sync::Arc;

/// The `meta` row whose value is the unit tree's version.
const VERSION: &str = "units.version";
/// The `meta` row holding the anchors the per-unit cells were counted under (JSON).
const COUNTED: &str = "rollup.scope";
/// The `meta` row naming the layout of the rollups (their dimensions and counters) the
/// database was counted under.
const LAYOUT_KEY: &str = "rollup.layout";
/// The layout this build keeps: 2 added request types, hours, category × hour, the gauges
/// of open and overdue orders and the per-unit cells; 3 the tough problems' signals by
/// category × place. A database counted under another layout is recounted in full when opened
/// (migrations 0012 and 0013 mark an empty one as counted).
const LAYOUT: &str = "3";

/// This process's copy of the anchors, with the version it was loaded at.
#[derive(Debug, Clone, Default)]
pub(crate) struct AnchorCache(Arc<std::sync::Mutex<Option<Loaded>>>);

/// Anchors and the version of the unit tree they were loaded at.
type Loaded = (String, Arc<Anchors>);

impl AnchorCache {
    /// The anchors to count under in the transaction on `conn` (see the module's documentation).
    pub(crate) async fn current(&self, conn: &mut AnyConnection, backend: Backend) -> Result<Arc<Anchors>, StoreError> {
        let version = version(conn, backend, Lock::Share).await?;
        if let Some((v, a)) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *v == version
        {
            return Ok(a.clone());
        }
        let anchors = Arc::new(load(conn).await?);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, anchors.clone()));
        Ok(anchors)
    }
}

/// How the version row is locked (PostgreSQL; SQLite has one writer at a time).
#[derive(Debug, Clone, Copy)]
enum Lock {
    /// By a transaction counting under the tree.
    Share,
    /// By a transaction changing it.
    Update,
}

/// The unit tree's version, the row locked on PostgreSQL.
async fn version(conn: &mut AnyConnection, backend: Backend, lock: Lock) -> Result<String, StoreError> {
    let text = match (backend, lock) {
        (Backend::Sqlite, _) => "SELECT value FROM meta WHERE key = $1",
        (Backend::Postgres, Lock::Share) => "SELECT value FROM meta WHERE key = $1 FOR SHARE",
        (Backend::Postgres, Lock::Update) => "SELECT value FROM meta WHERE key = $1 FOR UPDATE",
    };
    let row = sqlx::query(text).bind(VERSION).fetch_optional(&mut *conn).await?;
    Ok(match row {
        Some(r) => r.try_get("value")?,
        None => "0".into(),
    })
}

/// The anchors of the unit tree as stored.
pub(crate) async fn load(conn: &mut AnyConnection) -> Result<Anchors, StoreError> {
    let rows = sqlx::query("SELECT code, kind, parent, jurisdiction FROM units").fetch_all(&mut *conn).await?;
    let mut units = Vec::with_capacity(rows.len());
    for r in rows {
        let parse = |s: String| UnitCode::parse(&s).map_err(|e| crate::error::corrupt(e.to_string()));
        let kind: String = r.try_get("kind")?;
        let parent: Option<String> = r.try_get("parent")?;
        let jurisdiction: Option<String> = r.try_get("jurisdiction")?;
        units.push(Unit {
            code: parse(r.try_get("code")?)?,
            name: String::new(),
            kind: UnitKind::parse(&kind).ok_or_else(|| crate::error::corrupt(format!("unit kind {kind}")))?,
            parent: parent.map(parse).transpose()?,
            jurisdiction: jurisdiction
                .map(|j| JurisdictionCode::parse(&j).map_err(|e| crate::error::corrupt(e.to_string())))
                .transpose()?,
            active: true,
        });
    }
    Ok(Anchors::new(&units))
}

/// Called in a transaction that changed the unit tree, after the change: bumps the version
/// (taken `FOR UPDATE` by [`lock_tree`] first) and recounts the per-unit cells when the
/// change moves orders between anchors.
pub(crate) async fn tree_changed(
    conn: &mut AnyConnection,
    backend: Backend,
    cal: &Calendar,
    old_version: &str,
) -> Result<(), StoreError> {
    let next = old_version.parse::<i64>().unwrap_or(0) + 1;
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(VERSION)
        .bind(next.to_string())
        .execute(&mut *conn)
        .await?;
    settle(conn, backend, cal).await?;
    Ok(())
}

/// Takes the unit tree's version row for a change of the tree; returns the version. On
/// SQLite a write comes first, so the transaction holds the write lock from its start (a
/// read followed by a write could not upgrade while another process writes).
pub(crate) async fn lock_tree(conn: &mut AnyConnection, backend: Backend) -> Result<String, StoreError> {
    if backend == Backend::Sqlite {
        sqlx::query("UPDATE meta SET value = value WHERE key = $1").bind(VERSION).execute(&mut *conn).await?;
    }
    version(conn, backend, Lock::Update).await
}

/// Recounts the per-unit cells when they were counted under anchors that differ (in a way
/// that matters) from the tree as stored, or never; records the anchors. Returns the orders
/// recounted, if it recounted.
async fn settle(conn: &mut AnyConnection, backend: Backend, cal: &Calendar) -> Result<Option<u64>, StoreError> {
    let now = load(conn).await?;
    let counted = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(COUNTED).fetch_optional(&mut *conn).await?;
    let counted = match counted {
        Some(r) => Anchors::from_json(&r.try_get::<String, _>("value")?),
        None => None,
    };
    let recounted = match &counted {
        Some(c) if !c.recount_needed(&now) => None,
        _ => Some(recount(conn, backend, cal, &now, Dimension::ANCHORED).await?),
    };
    if counted.as_ref() != Some(&now) {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(COUNTED)
        .bind(now.to_json())
        .execute(&mut *conn)
        .await?;
    }
    Ok(recounted)
}

/// Orders read (and folded) between two writes of their cells: the cells of a page are
/// added to the stored ones, so memory holds a page's cells whatever the database holds.
const PAGE: i64 = 2_000;
const FLUSH: usize = 25_000;

/// Replaces the cells of `dims` (every one, the per-unit ones, or some hotline-wide ones)
/// with a count of the stored orders under `anchors`.
pub(crate) async fn recount(
    conn: &mut AnyConnection,
    backend: Backend,
    cal: &Calendar,
    anchors: &Anchors,
    dims: &[Dimension],
) -> Result<u64, StoreError> {
    let t0 = std::time::Instant::now();
    if dims == Dimension::ALL {
        sqlx::query("DELETE FROM kpi_rollup").execute(&mut *conn).await?;
    } else if dims == Dimension::ANCHORED {
        sqlx::query("DELETE FROM kpi_rollup WHERE dim LIKE 'scope%'").execute(&mut *conn).await?;
    } else {
        // Hotline-wide dims only: a per-unit dim is stored under one name per unit.
        debug_assert!(dims.iter().all(|d| !Dimension::ANCHORED.contains(d)));
        for d in dims {
            sqlx::query("DELETE FROM kpi_rollup WHERE dim = $1").bind(d.as_str()).execute(&mut *conn).await?;
        }
    }
    let mut fold = Fold::default();
    let mut folded = 0usize;
    let mut after = String::new();
    let mut n = 0u64;
    loop {
        let rows = sqlx::query("SELECT number, data, last_hash FROM orders WHERE number > $1 ORDER BY number LIMIT $2")
            .bind(&after)
            .bind(PAGE)
            .fetch_all(&mut *conn)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("number")?;
        for r in &rows {
            let (o, _) = crate::orders::order_from_row(r)?;
            fold.add_dims(&o, cal, anchors, dims);
            n += 1;
            folded += 1;
        }
        if folded >= FLUSH {
            crate::rollup::apply_deltas_for_conn(conn, &std::mem::take(&mut fold).into_deltas(), backend).await?;
            folded = 0;
        }
    }
    crate::rollup::apply_deltas_for_conn(conn, &fold.into_deltas(), backend).await?;
    tracing::info!(orders = n, seconds = t0.elapsed().as_secs_f64(), dims = dims.len(), "KPI cells recounted");
    Ok(n)
}

impl Store {
    /// Counts the per-unit rollup cells of a database that has none yet (one made before
    /// they were kept) or whose cells were counted under another unit tree; a no-op
    /// otherwise. One transaction. Returns the orders recounted, if it recounted.
    ///
    /// A database counted under an older layout of the rollups is recounted in full first.
    pub async fn ensure_scope_cells(&self) -> Result<Option<u64>, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        lock_tree(&mut tx, self.backend).await?;
        let cal = self.calendar_for_days();
        let layout =
            sqlx::query("SELECT value FROM meta WHERE key = $1").bind(LAYOUT_KEY).fetch_optional(&mut *tx).await?;
        let layout: Option<String> = layout.map(|r| r.try_get("value")).transpose()?;
        let n = if layout.as_deref() != Some(LAYOUT) {
            let anchors = load(&mut tx).await?;
            let n = recount(&mut tx, self.backend, &cal, &anchors, Dimension::ALL).await?;
            for (key, value) in [(LAYOUT_KEY, LAYOUT.to_owned()), (COUNTED, anchors.to_json())] {
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            Some(n)
        } else {
            settle(&mut tx, self.backend, &cal).await?
        };
        tx.commit().await?;
        Ok(n)
    }
}
