//! `verify`: recomputes every order's hash chain, replays its events and compares the
//! result with the stored order row, checks that no order number of a day is missing and
//! that the KPI rollups equal a recount — in one pass by order number, in bounded memory.

use crate::orders::{event_from_record, record_from_row};
use crate::recount::Recount;
use crate::scan::Progress;
use crate::{Store, StoreError};
use lianxin_domain::Order;
use lianxin_domain::chain::{self, EventRecord, GENESIS};
use lianxin_domain::lifecycle::apply;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;
use std::fmt;

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub order: String,
    pub seq: Option<i64>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seq {
            Some(s) => write!(f, "order {} event {}: {}", self.order, s, self.message),
            None => write!(f, "order {}: {}", self.order, self.message),
        }
    }
}

/// What `verify` checked and found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub orders: i64,
    pub events: i64,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    fn add(&mut self, order: &str, seq: Option<i64>, message: impl Into<String>) {
        self.problems.push(Problem { order: order.to_owned(), seq, message: message.into() });
    }
}

/// Orders read a page: their rows, events and recount stay well under a few megabytes.
const PAGE: i64 = 1000;

impl Store {
    /// Checks the whole database; stops collecting after `max_problems`.
    pub async fn verify(&self, max_problems: usize) -> Result<VerifyReport, StoreError> {
        self.verify_with(max_problems, &mut |_| {}).await
    }

    /// [`Store::verify`], telling `progress` after every page of orders. Reads one snapshot a
    /// page at a time, in memory bounded by a page and the KPI cells of the days still open
    /// (see `recount`), whatever the size of the database.
    pub async fn verify_with(
        &self,
        max_problems: usize,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<VerifyReport, StoreError> {
        let mut conn = self.scan_connection().await?;
        self.begin_snapshot(&mut conn).await?;
        let result = self.verify_on(&mut conn, max_problems, progress).await;
        self.end_snapshot(&mut conn).await?;
        self.end_scan(conn).await?;
        result
    }

    async fn verify_on(
        &self,
        conn: &mut AnyConnection,
        max_problems: usize,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<VerifyReport, StoreError> {
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders").fetch_one(&mut *conn).await?;
        // The days and dimensions that have stored cells (bounded by days, not orders).
        let mut stored_days: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (dim, day) in sqlx::query_as::<_, (String, String)>("SELECT DISTINCT dim, day FROM kpi_rollup")
            .fetch_all(&mut *conn)
            .await?
        {
            stored_days.entry(day).or_default().push(dim);
        }
        let mut pass = Pass {
            report: VerifyReport::default(),
            recount: Recount::default(),
            cal: self.calendar_for_days(),
            anchors: crate::anchors::load(conn).await?,
            max_problems,
        };
        // Each page is checked on a blocking thread while the next one is read.
        let mut after = String::new();
        let mut checking: Option<tokio::task::JoinHandle<Pass>> = None;
        loop {
            let page = read_page(conn, &after).await?;
            if let Some(running) = checking.take() {
                pass = running.await.map_err(|e| StoreError::Database(format!("verify: {e}")))?;
                if pass.report.problems.len() >= max_problems {
                    return Ok(pass.report);
                }
                progress(Progress { what: "orders", done: pass.report.orders, total });
                // Later orders have this day's number or a later one, so they contribute to
                // no earlier day: the days before it are final.
                if let Some(day) = rollup_day(&after) {
                    self.compare_days_before(conn, &mut pass.recount, &mut stored_days, Some(&day)).await?;
                }
            }
            let Some(page) = page else { break };
            after = page.last.clone();
            let mut p = std::mem::take(&mut pass);
            checking = Some(tokio::task::spawn_blocking(move || {
                p.check(page);
                p
            }));
        }
        let mut report = std::mem::take(&mut pass.report);
        let recount = &mut pass.recount;
        let orphans = sqlx::query(
            "SELECT e.number, COUNT(*) AS n FROM events e LEFT JOIN orders o ON o.number = e.number \
             WHERE o.number IS NULL GROUP BY e.number ORDER BY e.number LIMIT $1",
        )
        .bind(i64::try_from(max_problems - report.problems.len()).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
        for r in orphans {
            let n: i64 = r.try_get("n")?;
            let number: String = r.try_get("number")?;
            report.add(&number, None, format!("the order row is missing but {n} events remain (order deleted)"));
        }
        self.check_numbering(conn, &mut report).await?;
        if report.problems.is_empty() {
            // Every day left, then what came late.
            self.compare_days_before(conn, recount, &mut stored_days, None).await?;
            for (dim, day, key, counter) in recount.late_cells() {
                let stored: Option<(i64,)> = sqlx::query_as(
                    "SELECT value FROM kpi_rollup WHERE dim = $1 AND day = $2 AND key = $3 AND counter = $4",
                )
                .bind(&dim)
                .bind(&day)
                .bind(&key)
                .bind(&counter)
                .fetch_optional(&mut *conn)
                .await?;
                recount.settle((dim, day, key, counter), stored.map(|s| s.0).unwrap_or(0));
            }
            if let Some(diff) = recount.finding() {
                report.add("(kpi rollups)", None, format!("the KPI rollups differ from a recount: {diff}"));
            }
        }
        Ok(report)
    }

    /// Compares the recount of every day before `day` (of every day left: `None`) with its
    /// stored rollup cells.
    async fn compare_days_before(
        &self,
        conn: &mut AnyConnection,
        recount: &mut Recount,
        stored_days: &mut BTreeMap<String, Vec<String>>,
        day: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut days: Vec<String> = match day {
            Some(day) => stored_days
                .range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(day)))
                .map(|(d, _)| d.clone())
                .collect(),
            None => stored_days.keys().cloned().collect(),
        };
        days.extend(recount.open_days_before(day));
        days.sort_unstable();
        days.dedup();
        for d in days {
            let mut cells = Vec::new();
            for dim in stored_days.remove(&d).unwrap_or_default() {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT key, counter, value FROM kpi_rollup WHERE dim = $1 AND day = $2 AND value <> 0",
                )
                .bind(&dim)
                .bind(&d)
                .fetch_all(&mut *conn)
                .await?;
                cells.extend(rows.into_iter().map(|(key, counter, value)| (dim.clone(), key, counter, value)));
            }
            recount.compare_day(&d, cells);
        }
        if let Some(day) = day {
            recount.close_before(day);
        }
        Ok(())
    }

    /// Every day's numbers run from 1 to the day's counter without a gap.
    async fn check_numbering(&self, conn: &mut AnyConnection, report: &mut VerifyReport) -> Result<(), StoreError> {
        let counters = sqlx::query("SELECT day, last FROM order_counters ORDER BY day").fetch_all(&mut *conn).await?;
        let counts =
            sqlx::query("SELECT substr(number, 1, 8) AS day, COUNT(*) AS n FROM orders GROUP BY substr(number, 1, 8)")
                .fetch_all(&mut *conn)
                .await?;
        let mut have: BTreeMap<String, i64> = BTreeMap::new();
        for r in counts {
            have.insert(r.try_get("day")?, r.try_get("n")?);
        }
        for r in counters {
            let day: String = r.try_get("day")?;
            let last: i64 = r.try_get("last")?;
            if have.get(&day).copied().unwrap_or(0) == last {
                continue;
            }
            let present: Vec<(String,)> =
                sqlx::query_as("SELECT number FROM orders WHERE number LIKE $1 ORDER BY number")
                    .bind(format!("{day}%"))
                    .fetch_all(&mut *conn)
                    .await?;
            let present: std::collections::BTreeSet<String> = present.into_iter().map(|p| p.0).collect();
            for seq in 1..=last {
                let number = lianxin_domain::OrderNumber::format(&day, seq as u64).to_string();
                if !present.contains(&number) {
                    report.add(&number, None, "the order was issued but its row is missing (order deleted)");
                    break;
                }
            }
        }
        Ok(())
    }
}

/// An order row as `verify` reads it.
struct OrderRow {
    number: String,
    status: String,
    version: i64,
    last_hash: String,
    data: String,
}

/// A page of orders with their events, by order.
struct Page {
    orders: Vec<OrderRow>,
    events: BTreeMap<String, Vec<(EventRecord, String)>>,
    /// The last number of the page.
    last: String,
}

/// Reads the orders after `after` (a page of them) with their events; `None` past the last.
async fn read_page(conn: &mut AnyConnection, after: &str) -> Result<Option<Page>, StoreError> {
    let rows = sqlx::query(
        "SELECT number, status, version, last_hash, data FROM orders WHERE number > $1 ORDER BY number LIMIT $2",
    )
    .bind(after)
    .bind(PAGE)
    .fetch_all(&mut *conn)
    .await?;
    let mut orders = Vec::with_capacity(rows.len());
    for r in rows {
        orders.push(OrderRow {
            number: r.try_get("number")?,
            status: r.try_get("status")?,
            version: r.try_get("version")?,
            last_hash: r.try_get("last_hash")?,
            data: r.try_get("data")?,
        });
    }
    let (Some(first), Some(last)) = (orders.first(), orders.last()) else { return Ok(None) };
    let rows = sqlx::query("SELECT * FROM events WHERE number >= $1 AND number <= $2 ORDER BY number, seq")
        .bind(&first.number)
        .bind(&last.number)
        .fetch_all(&mut *conn)
        .await?;
    let mut events: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for r in &rows {
        let (rec, hash) = record_from_row(r)?;
        events.entry(rec.order.clone()).or_default().push((rec, hash));
    }
    let last = last.number.clone();
    Ok(Some(Page { orders, events, last }))
}

/// What a pass has found so far, handed from page to page.
#[derive(Default)]
struct Pass {
    report: VerifyReport,
    recount: Recount,
    cal: lianxin_domain::calendar::Calendar,
    /// The unit tree of the snapshot, which the per-unit cells are counted under.
    anchors: lianxin_domain::scope::Anchors,
    max_problems: usize,
}

impl Pass {
    /// Checks a page's orders and adds them to the recount, until `max_problems`.
    fn check(&mut self, mut page: Page) {
        for o in &page.orders {
            self.report.orders += 1;
            let events = page.events.remove(&o.number).unwrap_or_default();
            self.report.events += events.len() as i64;
            let stored = serde_json::from_str::<Order>(&o.data);
            check_order(&mut self.report, o, &events, &stored);
            if self.report.problems.len() >= self.max_problems {
                return;
            }
            if let Ok(stored) = &stored {
                self.recount.add(stored, &self.cal, &self.anchors);
            }
        }
    }
}

fn check_order(
    report: &mut VerifyReport,
    row: &OrderRow,
    events: &[(EventRecord, String)],
    stored: &Result<Order, serde_json::Error>,
) {
    let number = row.number.as_str();
    if events.is_empty() {
        report.add(number, None, "the order has no events");
        return;
    }
    let mut prev = GENESIS.to_owned();
    let mut state: Option<Order> = None;
    for (i, (rec, stored_hash)) in events.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if rec.seq != expected_seq {
            report.add(number, Some(expected_seq), format!("event is missing (found event {} next)", rec.seq));
            return;
        }
        if rec.prev_hash != prev {
            report.add(
                number,
                Some(rec.seq),
                "the link to the previous event is broken (an event was deleted, reordered or modified)",
            );
            return;
        }
        let h = chain::hash(rec);
        if &h != stored_hash {
            report.add(number, Some(rec.seq), "the event's content does not match its hash (modified)");
            return;
        }
        let ev = match event_from_record(rec) {
            Ok(ev) => ev,
            Err(e) => {
                report.add(number, Some(rec.seq), format!("unreadable event: {e}"));
                return;
            }
        };
        match apply(state.take(), &ev) {
            Ok(o) => state = Some(o),
            Err(e) => {
                report.add(number, Some(rec.seq), format!("the event does not follow from the order's state: {e}"));
                return;
            }
        }
        prev = h;
    }
    if row.last_hash != prev {
        report.add(number, None, "the order's chain head does not match its last event (events deleted at the end?)");
        return;
    }
    let stored = match stored {
        Ok(o) => o,
        Err(e) => {
            report.add(number, None, format!("unreadable order row: {e}"));
            return;
        }
    };
    if state.is_some_and(|r| &r != stored || row.status != r.status.as_str() || row.version != r.version) {
        report.add(number, None, "the order row differs from what its events explain (modified)");
    }
}

/// The rollup day (`YYYY-MM-DD`) of an order number's registration day (`YYYYMMDD…`).
fn rollup_day(number: &str) -> Option<String> {
    let d = number.get(..8).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
    Some(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]))
}
