//! `verify`: recomputes every order's hash chain, replays its events and compares the
//! result with the stored order row, and checks that no order number of a day is missing.

use crate::orders::{event_from_record, record_from_row};
use crate::{Store, StoreError};
use lianxin_domain::Order;
use lianxin_domain::chain::{self, GENESIS};
use lianxin_domain::lifecycle::apply;
use sqlx::Row;
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

const PAGE: i64 = 500;

impl Store {
    /// Checks the whole database; stops collecting after `max_problems`.
    pub async fn verify(&self, max_problems: usize) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        let mut after = String::new();
        loop {
            let orders = sqlx::query(
                "SELECT number, status, version, last_hash, data FROM orders WHERE number > $1 ORDER BY number LIMIT $2",
            )
            .bind(&after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            let (Some(first), Some(last)) = (orders.first(), orders.last()) else { break };
            let first: String = first.try_get("number")?;
            let last: String = last.try_get("number")?;
            let rows = sqlx::query("SELECT * FROM events WHERE number >= $1 AND number <= $2 ORDER BY number, seq")
                .bind(&first)
                .bind(&last)
                .fetch_all(&self.pool)
                .await?;
            let mut by_order: BTreeMap<String, Vec<_>> = BTreeMap::new();
            for r in &rows {
                let (rec, hash) = record_from_row(r)?;
                by_order.entry(rec.order.clone()).or_default().push((rec, hash));
            }
            for o in &orders {
                let number: String = o.try_get("number")?;
                report.orders += 1;
                let events = by_order.remove(&number).unwrap_or_default();
                report.events += events.len() as i64;
                check_order(&mut report, &number, o, &events)?;
                if report.problems.len() >= max_problems {
                    return Ok(report);
                }
            }
            after = last;
        }
        let orphans = sqlx::query(
            "SELECT e.number, COUNT(*) AS n FROM events e LEFT JOIN orders o ON o.number = e.number \
             WHERE o.number IS NULL GROUP BY e.number ORDER BY e.number",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in orphans {
            let n: i64 = r.try_get("n")?;
            let number: String = r.try_get("number")?;
            report.add(&number, None, format!("the order row is missing but {n} events remain (order deleted)"));
        }
        self.check_numbering(&mut report).await?;
        if report.problems.is_empty() {
            self.check_rollups(&mut report).await?;
        }
        Ok(report)
    }

    /// The KPI rollups equal a recount from the orders.
    async fn check_rollups(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let cal = self.calendar_for_days();
        let mut recount: BTreeMap<(String, String, String, String), i64> = BTreeMap::new();
        for o in self.all_orders().await? {
            for d in lianxin_domain::kpi::rollup_deltas(None, &o, &cal) {
                *recount
                    .entry((d.dimension.as_str().to_owned(), d.day, d.key, d.counter.as_str().to_owned()))
                    .or_default() += d.delta;
            }
        }
        recount.retain(|_, v| *v != 0);
        let stored = self.rollup_cells().await?;
        if stored != recount {
            let diff = recount
                .iter()
                .find(|(k, v)| stored.get(*k) != Some(*v))
                .map(|(k, v)| format!("{k:?}: recount {v}, stored {:?}", stored.get(k)))
                .or_else(|| {
                    stored
                        .iter()
                        .find(|(k, _)| !recount.contains_key(*k))
                        .map(|(k, v)| format!("{k:?}: stored {v}, recount none"))
                })
                .unwrap_or_default();
            report.add("(kpi rollups)", None, format!("the KPI rollups differ from a recount: {diff}"));
        }
        Ok(())
    }

    /// Every day's numbers run from 1 to the day's counter without a gap.
    async fn check_numbering(&self, report: &mut VerifyReport) -> Result<(), StoreError> {
        let counters = sqlx::query("SELECT day, last FROM order_counters ORDER BY day").fetch_all(&self.pool).await?;
        let counts =
            sqlx::query("SELECT substr(number, 1, 8) AS day, COUNT(*) AS n FROM orders GROUP BY substr(number, 1, 8)")
                .fetch_all(&self.pool)
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
                    .fetch_all(&self.pool)
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

fn check_order(
    report: &mut VerifyReport,
    number: &str,
    row: &sqlx::any::AnyRow,
    events: &[(lianxin_domain::chain::EventRecord, String)],
) -> Result<(), StoreError> {
    if events.is_empty() {
        report.add(number, None, "the order has no events");
        return Ok(());
    }
    let mut prev = GENESIS.to_owned();
    let mut state: Option<Order> = None;
    for (i, (rec, stored_hash)) in events.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if rec.seq != expected_seq {
            report.add(number, Some(expected_seq), format!("event is missing (found event {} next)", rec.seq));
            return Ok(());
        }
        if rec.prev_hash != prev {
            report.add(
                number,
                Some(rec.seq),
                "the link to the previous event is broken (an event was deleted, reordered or modified)",
            );
            return Ok(());
        }
        let h = chain::hash(rec);
        if &h != stored_hash {
            report.add(number, Some(rec.seq), "the event's content does not match its hash (modified)");
            return Ok(());
        }
        let ev = match event_from_record(rec) {
            Ok(ev) => ev,
            Err(e) => {
                report.add(number, Some(rec.seq), format!("unreadable event: {e}"));
                return Ok(());
            }
        };
        match apply(state.take(), &ev) {
            Ok(o) => state = Some(o),
            Err(e) => {
                report.add(number, Some(rec.seq), format!("the event does not follow from the order's state: {e}"));
                return Ok(());
            }
        }
        prev = h;
    }
    let last_hash: String = row.try_get("last_hash")?;
    if last_hash != prev {
        report.add(number, None, "the order's chain head does not match its last event (events deleted at the end?)");
        return Ok(());
    }
    let data: String = row.try_get("data")?;
    let stored: Order = match serde_json::from_str(&data) {
        Ok(o) => o,
        Err(e) => {
            report.add(number, None, format!("unreadable order row: {e}"));
            return Ok(());
        }
    };
    let status: String = row.try_get("status")?;
    let version: i64 = row.try_get("version")?;
    if state.is_some_and(|r| r != stored || status != r.status.as_str() || version != r.version) {
        report.add(number, None, "the order row differs from what its events explain (modified)");
    }
    Ok(())
}
