//! Tough problems (疑难问题): the tracked matters, their orders, the units' parts and what the
//! units reported; and the place cells' signals the candidates are found from.

use crate::sql::Sql;
use crate::{Store, StoreError};
use lianxin_domain::kpi::{Counter, Dimension, GAUGE_DAY, Totals};
use lianxin_domain::{Millis, problem::Signals};
use sqlx::Row;
use std::collections::BTreeMap;

/// A problem as stored, with its parts, orders and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProblem {
    pub id: String,
    pub title: String,
    pub description: String,
    pub category: Option<String>,
    pub place: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    pub created_at: Millis,
    pub created_by: String,
    pub closed_at: Option<Millis>,
    pub parts: Vec<StoredPart>,
    pub numbers: Vec<String>,
    pub reports: Vec<StoredReport>,
}

/// One unit's part of a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    /// From 1.
    pub part: i64,
    pub unit: String,
    pub task: String,
    /// `YYYY-MM-DD`, local.
    pub due_day: String,
    pub done_at: Option<Millis>,
    pub done_by: Option<String>,
}

/// What a unit reported on its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub seq: i64,
    pub part: i64,
    /// `progress` or `done`.
    pub kind: String,
    pub note: String,
    pub at: Millis,
    pub by: String,
}

/// A part of a new problem, with the notice its unit receives.
#[derive(Debug, Clone)]
pub struct NewPart {
    pub unit: String,
    pub task: String,
    pub due_day: String,
    pub notice: String,
}

/// A new problem.
#[derive(Debug, Clone)]
pub struct NewProblem {
    pub id: String,
    pub title: String,
    pub description: String,
    pub category: Option<String>,
    pub place: Option<String>,
    pub by: String,
    pub at: Millis,
    pub numbers: Vec<String>,
    pub parts: Vec<NewPart>,
}

/// What a report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    /// Recorded; the problem is still open.
    Recorded,
    /// Recorded, and it was the last part done: the problem is closed.
    Closed,
    /// The problem is not open (closed, or none with that id): nothing recorded.
    NotOpen,
    /// The part is already done (or the problem has no such part): nothing recorded.
    PartDone,
}

impl Store {
    /// Records a problem with its orders and parts, and notifies each part's unit (one
    /// transaction).
    pub async fn create_problem(&self, p: &NewProblem) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO problems (id, title, description, category, place, status, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
        )
        .bind(&p.id)
        .bind(&p.title)
        .bind(&p.description)
        .bind(p.category.as_deref())
        .bind(p.place.as_deref())
        .bind(p.at)
        .bind(&p.by)
        .execute(&mut *tx)
        .await?;
        for n in &p.numbers {
            sqlx::query(
                "INSERT INTO problem_orders (problem_id, number) VALUES ($1, $2) ON CONFLICT (problem_id, number) DO NOTHING",
            )
            .bind(&p.id)
            .bind(n)
            .execute(&mut *tx)
            .await?;
        }
        for (i, part) in p.parts.iter().enumerate() {
            let no = i as i64 + 1;
            sqlx::query(
                "INSERT INTO problem_parts (problem_id, part, unit, task, due_day) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&p.id)
            .bind(no)
            .bind(&part.unit)
            .bind(&part.task)
            .bind(&part.due_day)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO notifications (id, number, at, recipient_kind, recipient, kind, message) \
                 VALUES ($1, '', $2, 'unit', $3, 'problem', $4) ON CONFLICT (id) DO NOTHING",
            )
            .bind(format!("{}-part-{no}", p.id))
            .bind(p.at)
            .bind(&part.unit)
            .bind(&part.notice)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a unit's report on a part of an open problem; a `done` report marks the part
    /// done (once) and, when it was the last, closes the problem and tells the supervisors
    /// (`closed_notice`). One transaction, which takes the problem's row first, so two last
    /// parts reported at once close it exactly once.
    #[allow(clippy::too_many_arguments)]
    pub async fn report_problem(
        &self,
        id: &str,
        part: i64,
        done: bool,
        note: &str,
        by: &str,
        at: Millis,
        closed_notice: &str,
    ) -> Result<Reported, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let open = sqlx::query("UPDATE problems SET status = status WHERE id = $1 AND status = 'open'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if open.rows_affected() == 0 {
            return Ok(Reported::NotOpen);
        }
        // Read under the problem's row: a report that raced another on the same part sees it.
        let state: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT done_at FROM problem_parts WHERE problem_id = $1 AND part = $2")
                .bind(id)
                .bind(part)
                .fetch_optional(&mut *tx)
                .await?;
        if !matches!(state, Some((None,))) {
            return Ok(Reported::PartDone);
        }
        let seq: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM problem_reports WHERE problem_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO problem_reports (problem_id, seq, part, kind, note, at, by_user) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(seq)
        .bind(part)
        .bind(if done { "done" } else { "progress" })
        .bind(note)
        .bind(at)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        let mut outcome = Reported::Recorded;
        if done {
            sqlx::query("UPDATE problem_parts SET done_at = $3, done_by = $4 WHERE problem_id = $1 AND part = $2")
                .bind(id)
                .bind(part)
                .bind(at)
                .bind(by)
                .execute(&mut *tx)
                .await?;
            let left: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM problem_parts WHERE problem_id = $1 AND done_at IS NULL",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if left == 0 {
                sqlx::query("UPDATE problems SET status = 'closed', closed_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO notifications (id, number, at, recipient_kind, recipient, kind, message) \
                     VALUES ($1, '', $2, 'role', 'supervisor', 'problem', $3) ON CONFLICT (id) DO NOTHING",
                )
                .bind(format!("{id}-closed"))
                .bind(at)
                .bind(closed_notice)
                .execute(&mut *tx)
                .await?;
                outcome = Reported::Closed;
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// The parts of open problems not done by their due day, before local day `today`:
    /// (problem id, problem title, part). One query, for the sweep's reminders.
    pub async fn overdue_parts(&self, today: &str) -> Result<Vec<(String, String, StoredPart)>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.id, p.title, t.part, t.unit, t.task, t.due_day FROM problem_parts t \
             JOIN problems p ON p.id = t.problem_id \
             WHERE p.status = 'open' AND t.done_at IS NULL AND t.due_day < $1 ORDER BY p.id, t.part",
        )
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let part = StoredPart {
                    part: r.try_get("part")?,
                    unit: r.try_get("unit")?,
                    task: r.try_get("task")?,
                    due_day: r.try_get("due_day")?,
                    done_at: None,
                    done_by: None,
                };
                Ok((r.try_get("id")?, r.try_get("title")?, part))
            })
            .collect()
    }

    /// The problem `id` with its parts, orders and reports.
    pub async fn problem(&self, id: &str) -> Result<Option<StoredProblem>, StoreError> {
        let mut q = Sql::new("SELECT id FROM problems WHERE id = ");
        q.text(id);
        Ok(self.problems_of(q).await?.into_iter().next())
    }

    /// Problems, newest first, at most `limit`: every one, or those open at some moment of
    /// `[from, to)` (made before `to` and not closed before `from`).
    pub async fn problems(
        &self,
        during: Option<(Millis, Millis)>,
        limit: i64,
    ) -> Result<Vec<StoredProblem>, StoreError> {
        let mut q = Sql::new("SELECT id FROM problems");
        if let Some((from, to)) = during {
            q.push(" WHERE created_at < ").int(to).push(" AND (closed_at IS NULL OR closed_at >= ").int(from).push(")");
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ").int(limit);
        self.problems_of(q).await
    }

    /// The problems whose ids `chosen` selects, newest first, each with its parts, orders
    /// and reports (four queries).
    async fn problems_of(&self, chosen: Sql) -> Result<Vec<StoredProblem>, StoreError> {
        let ids: Vec<String> =
            chosen.query().fetch_all(&self.pool).await?.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let select = |head: &str, tail: &str| {
            let mut q = Sql::new(head);
            q.push(" WHERE problem_id IN ").list(ids.iter().cloned()).push(tail);
            q
        };
        let mut parts: BTreeMap<String, Vec<StoredPart>> = BTreeMap::new();
        for r in select(
            "SELECT problem_id, part, unit, task, due_day, done_at, done_by FROM problem_parts",
            " ORDER BY part",
        )
        .query()
        .fetch_all(&self.pool)
        .await?
        {
            parts.entry(r.try_get("problem_id")?).or_default().push(StoredPart {
                part: r.try_get("part")?,
                unit: r.try_get("unit")?,
                task: r.try_get("task")?,
                due_day: r.try_get("due_day")?,
                done_at: r.try_get("done_at")?,
                done_by: r.try_get("done_by")?,
            });
        }
        let mut numbers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in select("SELECT problem_id, number FROM problem_orders", " ORDER BY number")
            .query()
            .fetch_all(&self.pool)
            .await?
        {
            numbers.entry(r.try_get("problem_id")?).or_default().push(r.try_get("number")?);
        }
        let mut reports: BTreeMap<String, Vec<StoredReport>> = BTreeMap::new();
        for r in select("SELECT problem_id, seq, part, kind, note, at, by_user FROM problem_reports", " ORDER BY seq")
            .query()
            .fetch_all(&self.pool)
            .await?
        {
            reports.entry(r.try_get("problem_id")?).or_default().push(StoredReport {
                seq: r.try_get("seq")?,
                part: r.try_get("part")?,
                kind: r.try_get("kind")?,
                note: r.try_get("note")?,
                at: r.try_get("at")?,
                by: r.try_get("by_user")?,
            });
        }
        let mut q = Sql::new(
            "SELECT id, title, description, category, place, status, created_at, created_by, closed_at FROM problems WHERE id IN ",
        );
        q.list(ids.iter().cloned()).push(" ORDER BY created_at DESC, id DESC");
        let mut out = Vec::with_capacity(ids.len());
        for r in q.query().fetch_all(&self.pool).await? {
            let id: String = r.try_get("id")?;
            out.push(StoredProblem {
                parts: parts.remove(&id).unwrap_or_default(),
                numbers: numbers.remove(&id).unwrap_or_default(),
                reports: reports.remove(&id).unwrap_or_default(),
                title: r.try_get("title")?,
                description: r.try_get("description")?,
                category: r.try_get("category")?,
                place: r.try_get("place")?,
                status: r.try_get("status")?,
                created_at: r.try_get("created_at")?,
                created_by: r.try_get("created_by")?,
                closed_at: r.try_get("closed_at")?,
                id,
            });
        }
        Ok(out)
    }

    /// The signals of the places (streets, or with `district` districts) and categories
    /// with at least `min_orders` registered over local days `[from_day, to_day)`, with
    /// their overdue orders of now: (category, place, signals). Read from the rollups: the
    /// hotspots' registrations summed by the database, then the problems' signals and
    /// gauges of those cells only.
    pub async fn place_signals(
        &self,
        district: bool,
        from_day: &str,
        to_day: &str,
        min_orders: i64,
    ) -> Result<Vec<(String, String, Signals)>, StoreError> {
        let (counts, signals) = if district {
            (Dimension::CategoryDistrict, Dimension::ProblemDistrict)
        } else {
            (Dimension::CategoryStreet, Dimension::ProblemStreet)
        };
        let mut q = Sql::new("SELECT key, CAST(SUM(value) AS BIGINT) AS v FROM kpi_rollup WHERE dim = ");
        q.text(counts.as_str()).push(" AND counter = 'registered' AND day >= ").text(from_day);
        q.push(" AND day < ").text(to_day).push(" AND key <> '' GROUP BY key HAVING SUM(value) >= ").int(min_orders);
        let mut cells: BTreeMap<String, Totals> = BTreeMap::new();
        for r in q.query().fetch_all(&self.pool).await? {
            cells.entry(r.try_get("key")?).or_default().add(Counter::Registered, r.try_get("v")?);
        }
        // The period's signals of those cells: named when they are few (the database then
        // returns only theirs), else the whole range; and the overdue gauges of now.
        let mut q = Sql::new("SELECT key, counter, CAST(SUM(value) AS BIGINT) AS v FROM kpi_rollup WHERE dim = ");
        q.text(signals.as_str()).push(" AND day >= ").text(from_day).push(" AND day < ").text(to_day);
        if cells.len() <= 500 {
            if cells.is_empty() {
                return Ok(Vec::new());
            }
            q.push(" AND key IN ").list(cells.keys().cloned());
        }
        q.push(" GROUP BY key, counter");
        let mut gauges = Sql::new("SELECT key, counter, value AS v FROM kpi_rollup WHERE dim = ");
        gauges.text(signals.as_str()).push(" AND day = ").text(GAUGE_DAY);
        gauges.push(" AND counter = ").text(Counter::Overdue.as_str());
        for q in [q, gauges] {
            for r in q.query().fetch_all(&self.pool).await? {
                let key: String = r.try_get("key")?;
                let counter: String = r.try_get("counter")?;
                if let (Some(c), Some(cell)) = (Counter::parse(&counter), cells.get_mut(&key)) {
                    cell.add(c, r.try_get("v")?);
                }
            }
        }
        Ok(cells
            .into_iter()
            .filter_map(|(key, t)| {
                let (category, place) = key.split_once('|')?;
                let signals = Signals {
                    registered: t.get(Counter::Registered),
                    repeat: t.get(Counter::Repeat),
                    rated: t.get(Counter::Rated),
                    satisfied: t.get(Counter::Satisfied),
                    replied: t.get(Counter::Replied),
                    replied_on_time: t.get(Counter::RepliedOnTime),
                    overdue: t.get(Counter::Overdue),
                };
                Some((category.to_owned(), place.to_owned(), signals))
            })
            .collect())
    }

    /// The orders of `category` registered in `[from, to)` in `street` (or, with
    /// `district`, anywhere in that district), oldest first, at most `limit`: those behind a
    /// candidate.
    pub async fn orders_of_place(
        &self,
        category: &str,
        place: &str,
        district: bool,
        (from, to): (Millis, Millis),
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut q = Sql::new("SELECT number FROM orders WHERE category = ");
        q.text(category).push(if district { " AND district = " } else { " AND street = " }).text(place);
        q.push(" AND created_at >= ").int(from).push(" AND created_at < ").int(to);
        q.push(" ORDER BY created_at, number LIMIT ").int(limit);
        q.query().fetch_all(&self.pool).await?.iter().map(|r| Ok(r.try_get("number")?)).collect()
    }
}
