//! KPI rollups: daily counters per dimension, changed in the same transaction as the events
//! that change them.
//!
//! A cell is stored as (dim, day, key, counter). The per-unit dimensions put their unit into
//! the stored dim (`scope:d440106`, key `all`; `scope_category:d440106`, key a category), so
//! one unit's cells of a period are one range of the primary key, as the city's are.

use crate::sql::Sql;
use crate::{Store, StoreError};
use lianxin_domain::kpi::{Counter, Dimension, RollupDelta, Totals};
use lianxin_domain::scope::Anchors;
use sqlx::{AnyConnection, Row};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The stored (dim, key) of a cell: a per-unit dimension's key `unit|key` becomes the dim
/// `dim:unit` and the key `key`.
pub(crate) fn stored(dim: Dimension, key: &str) -> (Cow<'static, str>, &str) {
    if dim.is_anchored()
        && let Some((unit, rest)) = key.split_once('|')
    {
        return (Cow::Owned(format!("{}:{unit}", dim.as_str())), rest);
    }
    (Cow::Borrowed(dim.as_str()), key)
}

/// The stored dim of a dimension for the orders `within` sees (the hotline's: `None`).
pub(crate) fn stored_dim(dim: Dimension, within: Option<&str>) -> Cow<'static, str> {
    match (dim.anchored(), within) {
        (Some(a), Some(unit)) => Cow::Owned(format!("{}:{unit}", a.as_str())),
        _ => Cow::Borrowed(dim.as_str()),
    }
}

/// Adds deltas to the rollup cells (summing duplicates first).
pub(crate) async fn apply_deltas(conn: &mut AnyConnection, deltas: &[RollupDelta]) -> Result<(), StoreError> {
    apply_deltas_with(conn, deltas, None).await
}

/// [`apply_deltas`] with many cells a statement, for bulk writes (imports).
pub(crate) async fn apply_deltas_for(
    conn: &mut AnyConnection,
    deltas: &[RollupDelta],
    backend: crate::Backend,
) -> Result<(), StoreError> {
    apply_deltas_with(conn, deltas, Some(backend)).await
}

pub(crate) use apply_deltas_for as apply_deltas_for_conn;

async fn apply_deltas_with(
    conn: &mut AnyConnection,
    deltas: &[RollupDelta],
    bulk: Option<crate::Backend>,
) -> Result<(), StoreError> {
    let mut cells: std::collections::HashMap<(Cow<'static, str>, &str, &str, &'static str), i64> =
        std::collections::HashMap::with_capacity(deltas.len() / 4 + 16);
    for d in deltas {
        let (dim, key) = stored(d.dimension, &d.key);
        *cells.entry((dim, d.day.as_str(), key, d.counter.as_str())).or_default() += d.delta;
    }
    let mut cells: Vec<_> = cells.into_iter().filter(|(_, v)| *v != 0).collect();
    // A fixed order keeps concurrent writers from deadlocking on PostgreSQL.
    cells.sort_unstable();
    // 40 cells (200 parameters) a statement: sqlx's SQLite driver looks each `$n` up by name,
    // which grows with the square of a statement's parameters.
    let per_statement = if bulk.is_some() { 400 } else { 40 };
    for chunk in cells.chunks(per_statement) {
        let text = "INSERT INTO kpi_rollup (dim, day, key, counter, value) VALUES ";
        let mut q = match bulk {
            Some(b) => Sql::for_backend(text, b),
            None => Sql::new(text),
        };
        for (i, ((dim, day, key, counter), v)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.text(dim.as_ref())
                .push(", ")
                .text(*day)
                .push(", ")
                .text(*key)
                .push(", ")
                .text(*counter)
                .push(", ")
                .int(*v);
            q.push(")");
        }
        q.push(" ON CONFLICT (dim, day, key, counter) DO UPDATE SET value = kpi_rollup.value + excluded.value");
        q.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The rollup deltas of many new orders, folded into their cells as they are computed (a
/// bulk import adds millions of contributions to about a hundred thousand cells): equal to
/// concatenating `rollup_deltas(None, o)` for each, without an allocation per contribution.
#[derive(Debug, Default)]
pub(crate) struct Fold {
    names: std::collections::HashMap<String, u32>,
    texts: Vec<String>,
    cells: std::collections::HashMap<(Dimension, u32, u32, Counter), i64>,
}

impl Fold {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.names.get(s) {
            return *id;
        }
        let id = self.texts.len() as u32;
        self.names.insert(s.to_owned(), id);
        self.texts.push(s.to_owned());
        id
    }

    /// Adds what a new order contributes.
    pub(crate) fn add(
        &mut self,
        o: &lianxin_domain::Order,
        cal: &lianxin_domain::calendar::Calendar,
        anchors: &Anchors,
    ) {
        self.add_dims(o, cal, anchors, Dimension::ALL);
    }

    /// Adds what a new order contributes to the cells of `dims`.
    pub(crate) fn add_dims(
        &mut self,
        o: &lianxin_domain::Order,
        cal: &lianxin_domain::calendar::Calendar,
        anchors: &Anchors,
        dims: &[Dimension],
    ) {
        let contributions = lianxin_domain::kpi::contributions(o, cal);
        for dim in dims {
            for key in dim.keys(o, anchors, cal) {
                let key = self.id(&key);
                for c in contributions.iter().filter(|c| dim.takes(c.counter)) {
                    let day = self.id(&c.day);
                    *self.cells.entry((*dim, key, day, c.counter)).or_default() += c.value;
                }
            }
        }
    }

    pub(crate) fn into_deltas(self) -> Vec<RollupDelta> {
        let texts = self.texts;
        self.cells
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .map(|((dimension, key, day, counter), delta)| RollupDelta {
                dimension,
                key: texts[key as usize].clone(),
                day: texts[day as usize].clone(),
                counter,
                delta,
            })
            .collect()
    }
}

/// How rollup rows are grouped for a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// By the dimension's key (unit, category, district, channel).
    Key(Dimension),
    /// By day (all orders together).
    Day,
}

impl Store {
    /// Summed counters per group over local days `[from_day, to_day)` (`YYYY-MM-DD`): of
    /// every order, or (`within` a unit) of the orders that unit's scope allows. Grouped by
    /// unit, the rows are every lead unit's, whatever `within` says.
    pub async fn kpi_totals(
        &self,
        grouping: Grouping,
        within: Option<&lianxin_domain::UnitCode>,
        from_day: &str,
        to_day: &str,
    ) -> Result<BTreeMap<String, Totals>, StoreError> {
        let (dim, group) = match grouping {
            Grouping::Key(d) => (d, "key"),
            Grouping::Day => (Dimension::All, "day"),
        };
        let dim = stored_dim(dim, within.map(|u| u.as_str()));
        let mut q = Sql::new(&format!(
            "SELECT {group} AS g, counter, CAST(SUM(value) AS BIGINT) AS v FROM kpi_rollup WHERE dim = "
        ));
        q.text(dim.as_ref()).push(" AND day >= ").text(from_day).push(" AND day < ").text(to_day);
        q.push(&format!(" GROUP BY {group}, counter"));
        let rows = q.query().fetch_all(&self.pool).await?;
        let mut out: BTreeMap<String, Totals> = BTreeMap::new();
        for r in rows {
            let g: String = r.try_get("g")?;
            let counter: String = r.try_get("counter")?;
            let v: i64 = r.try_get("v")?;
            if let Some(c) = Counter::parse(&counter) {
                out.entry(g).or_default().add(c, v);
            }
        }
        Ok(out)
    }

    /// Registrations per (day, key) of `dim` on `days`, of every order or of those `within`
    /// a unit sees; with `keys`, only keys in `[from, to)` (one index range a day).
    pub async fn registrations_on(
        &self,
        dim: Dimension,
        within: Option<&lianxin_domain::UnitCode>,
        days: &[String],
        keys: Option<(&str, &str)>,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        if days.is_empty() {
            return Ok(Vec::new());
        }
        let dim = stored_dim(dim, within.map(|u| u.as_str()));
        let mut q = Sql::new("SELECT day, key, value FROM kpi_rollup WHERE dim = ");
        q.text(dim.as_ref()).push(" AND day IN ").list(days.iter().cloned());
        if let Some((from, to)) = keys {
            q.push(" AND key >= ").text(from).push(" AND key < ").text(to);
        }
        q.push(" AND counter = 'registered'");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("day")?, r.try_get("key")?, r.try_get("value")?))).collect()
    }

    /// The gauges of the present (open and overdue orders), of every order or of those
    /// `within` a unit sees.
    pub async fn gauges(&self, within: Option<&lianxin_domain::UnitCode>) -> Result<Totals, StoreError> {
        let dim = stored_dim(Dimension::All, within.map(|u| u.as_str()));
        let mut q = Sql::new("SELECT counter, value FROM kpi_rollup WHERE dim = ");
        q.text(dim.as_ref()).push(" AND day = ").text(lianxin_domain::kpi::GAUGE_DAY);
        let mut t = Totals::default();
        for r in q.query().fetch_all(&self.pool).await? {
            if let Some(c) = Counter::parse(&r.try_get::<String, _>("counter")?) {
                t.add(c, r.try_get("value")?);
            }
        }
        Ok(t)
    }

    /// Every rollup cell, for checking against a recount.
    pub async fn rollup_cells(&self) -> Result<BTreeMap<(String, String, String, String), i64>, StoreError> {
        let rows = sqlx::query("SELECT dim, day, key, counter, value FROM kpi_rollup WHERE value <> 0")
            .fetch_all(&self.pool)
            .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            out.insert(
                (r.try_get("dim")?, r.try_get("day")?, r.try_get("key")?, r.try_get("counter")?),
                r.try_get("value")?,
            );
        }
        Ok(out)
    }
}

/// The `meta` key that says the hotspot cells (category × street, category × district) were
/// counted for the orders registered before they existed.
const PLACE_CELLS: &str = "rollup.category_place";

impl Store {
    /// Counts the hotspot cells of the orders a database held before they were kept (once per
    /// database; a database made since keeps them with every change). One transaction: the
    /// first process to claim the `meta` key counts, any other finds it claimed and returns.
    /// Returns the orders counted (0 when already done).
    pub async fn backfill_place_cells(&self) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query("INSERT INTO meta (key, value) VALUES ($1, '1') ON CONFLICT (key) DO NOTHING")
            .bind(PLACE_CELLS)
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() == 0 {
            return Ok(0);
        }
        let cal = self.calendar_for_days();
        let anchors = crate::anchors::load(&mut tx).await?;
        let dims = [
            Dimension::CategoryStreet,
            Dimension::CategoryDistrict,
            Dimension::ProblemStreet,
            Dimension::ProblemDistrict,
        ];
        let n = crate::anchors::recount(&mut tx, self.backend, &cal, &anchors, &dims).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Registrations per place cell of `dim` (category × street or × district) in each of
    /// the periods between `bounds` (local days, oldest first: `bounds[i]..bounds[i + 1]`),
    /// summed by the database: (key `category|place`, one count per period), for the cells
    /// with registrations in the last period.
    pub async fn place_counts(&self, dim: Dimension, bounds: &[String]) -> Result<Vec<(String, Vec<i64>)>, StoreError> {
        let periods = bounds.len().saturating_sub(1);
        if periods == 0 {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("SELECT key");
        for i in 0..periods {
            q.push(", CAST(SUM(CASE WHEN day >= ")
                .text(&bounds[i])
                .push(" AND day < ")
                .text(&bounds[i + 1])
                .push(&format!(" THEN value ELSE 0 END) AS BIGINT) AS p{i}"));
        }
        q.push(" FROM kpi_rollup WHERE dim = ").text(dim.as_str());
        q.push(" AND counter = 'registered' AND day >= ").text(&bounds[0]);
        // Only the cells with registrations in the last period: the others are no hotspot,
        // and every row read back costs far more than the database's sum.
        q.push(" AND day < ").text(&bounds[periods]).push(" AND key <> '' GROUP BY key HAVING SUM(CASE WHEN day >= ");
        q.text(&bounds[periods - 1]).push(" THEN value ELSE 0 END) > 0");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let key: String = r.try_get("key")?;
                let counts =
                    (0..periods).map(|i| r.try_get::<i64, _>(format!("p{i}").as_str())).collect::<Result<_, _>>()?;
                Ok((key, counts))
            })
            .collect()
    }

    /// The hotspots' 30-day counts the plain way, for the benchmark's baseline: a GROUP BY
    /// over the orders registered in `[from, to)`. Returns the cells.
    pub async fn plain_place_counts(&self, from: i64, to: i64) -> Result<usize, StoreError> {
        let rows = sqlx::query(
            "SELECT category, street, COUNT(*) AS n FROM orders WHERE created_at >= $1 AND created_at < $2 \
             GROUP BY category, street",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.len())
    }
}
