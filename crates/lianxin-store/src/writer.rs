//! The database writer: one task per store that commits every change to work orders
//! (registrations, lifecycle actions, the sweeper's urges, QA sampling) and the audit log of
//! unmasked personal data in batches, so that
//! one commit (one fsync) carries many changes.
//!
//! Each change is decided by its caller on the state it read, and arrives here as the rows
//! to write and the version it was decided on. Inside the batch's transaction an action's
//! update is guarded by that version: when another change got there first (in this batch or
//! elsewhere) the action is answered [`Outcome::Stale`] and its caller decides again on the
//! fresh state. Nothing is acknowledged before its batch commits. When a batch of several
//! changes fails, each is retried alone, so one bad change never sinks the others.

use crate::orders::{
    insert_event_rows, insert_order_rows, qa_status, record, replay_err, reserve_numbers, warn_level, write_order_units,
};
use crate::sql::Sql;
use crate::{Backend, StoreError};
use lianxin_domain::calendar::Calendar;
use lianxin_domain::chain::{self, EventRecord, GENESIS};
use lianxin_domain::kpi::rollup_deltas;
use lianxin_domain::lifecycle::apply;
use lianxin_domain::order::Intake;
use lianxin_domain::*;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row, Transaction};
use tokio::sync::{mpsc, oneshot};

/// The error of a change whose writer is gone (the store is shutting down).
pub(crate) fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

/// Most changes committed in one transaction.
const MAX_BATCH: usize = 128;

/// How many changes may wait for the writer before senders wait too.
pub(crate) const QUEUE: usize = 1024;

/// An action decided on `old` (at its version), ready to be written.
pub(crate) struct Prepared {
    pub old: Order,
    pub new: Order,
    pub event: Event,
    pub record: EventRecord,
    pub hash: String,
}

/// What became of an action.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Written: the order as it now stands.
    Committed(Box<Order>),
    /// The order changed since it was read: decide again.
    Stale,
}

/// A change waiting for the writer.
pub(crate) enum Job {
    /// A new order from its first event (with a placeholder number) and its local day.
    Register { day: String, event: Box<Event>, reply: oneshot::Sender<Result<Order, StoreError>> },
    /// An action on an existing order.
    Act { prepared: Box<Prepared>, reply: oneshot::Sender<Result<Outcome, StoreError>> },
    /// An entry of the audit log of unmasked personal data (one per request that showed it).
    Audit { entry: Box<crate::AuditEntry>, reply: oneshot::Sender<Result<(), StoreError>> },
}

/// What a job produced inside a batch, before the commit.
enum Done {
    Audited,
    Registered(Box<Order>),
    /// Whether the action was written (else it was stale).
    Acted(bool),
}

impl Job {
    fn answer(self, r: Result<Done, StoreError>) {
        match (self, r) {
            (Job::Register { reply, .. }, Ok(Done::Registered(o))) => {
                let _ = reply.send(Ok(*o));
            }
            (Job::Act { reply, prepared }, Ok(Done::Acted(written))) => {
                let _ =
                    reply.send(Ok(if written { Outcome::Committed(Box::new(prepared.new)) } else { Outcome::Stale }));
            }
            (Job::Audit { reply, .. }, Ok(Done::Audited)) => {
                let _ = reply.send(Ok(()));
            }
            (Job::Audit { reply, .. }, Err(e)) => {
                let _ = reply.send(Err(e));
            }
            (Job::Register { reply, .. }, Err(e)) => {
                let _ = reply.send(Err(e));
            }
            (Job::Act { reply, .. }, Err(e)) => {
                let _ = reply.send(Err(e));
            }
            (job, Ok(_)) => job.answer(Err(StoreError::Unavailable("the writer mixed up its answers".into()))),
        }
    }
}

/// The writer task: takes every change waiting (up to [`MAX_BATCH`]), commits them in one
/// transaction, answers each. On SQLite it holds the process's write gate for the batch, so
/// the other writes of this process (setup, accounts, notification reads) queue behind it
/// rather than in SQLite's busy handler.
pub(crate) async fn run(
    pool: AnyPool,
    backend: Backend,
    gate: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    offset: crate::DayOffset,
    anchors: crate::anchors::AnchorCache,
    changed: std::sync::Arc<tokio::sync::Notify>,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut conn: Option<PoolConnection<Any>> = None;
    // `Pool::close` waits for every connection to come back: the writer gives its own back
    // when the pool closes, even while no change is waiting.
    let closing = pool.close_event();
    tokio::pin!(closing);
    let mut closed = false;
    loop {
        let first = tokio::select! {
            job = rx.recv() => match job {
                Some(job) => job,
                None => break,
            },
            _ = &mut closing, if !closed => {
                closed = true;
                conn = None;
                continue;
            }
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        metrics::histogram!("lianxin_write_batch_size").record(jobs.len() as f64);
        let _turn = match &gate {
            Some(g) => Some(g.lock().await),
            None => None,
        };
        let cal = offset.calendar();
        match commit_on_own(&pool, &mut conn, backend, &jobs, &cal, &anchors).await {
            Ok(done) => {
                changed.notify_one();
                for (job, d) in jobs.into_iter().zip(done) {
                    job.answer(Ok(d));
                }
            }
            Err(e) if jobs.len() == 1 => jobs.into_iter().for_each(|j| j.answer(Err(e.clone()))),
            Err(_) => {
                // Something in the batch failed and the whole transaction rolled back:
                // each change goes again on its own, and only a failing one hears of it.
                for job in jobs {
                    let r = commit_on_own(&pool, &mut conn, backend, std::slice::from_ref(&job), &cal, &anchors).await;
                    if r.is_ok() {
                        changed.notify_one();
                    }
                    job.answer(r.map(|mut d| d.remove(0)));
                }
            }
        }
    }
}

/// [`commit`] on the writer's own connection, taken from the pool once and kept: a batch
/// never waits behind the readers for a connection (nor for the pool's liveness check).
/// After a failure the connection goes back to the pool, which checks it before lending it
/// again, since the connection may be what failed.
async fn commit_on_own(
    pool: &AnyPool,
    conn: &mut Option<PoolConnection<Any>>,
    backend: Backend,
    jobs: &[Job],
    cal: &Calendar,
    anchors: &crate::anchors::AnchorCache,
) -> Result<Vec<Done>, StoreError> {
    let c = match conn {
        Some(c) => c,
        None => conn.insert(pool.acquire().await?),
    };
    let r = commit(c, backend, jobs, cal, anchors).await;
    if r.is_err() {
        *conn = None;
    }
    r
}

/// Writes `jobs` in one transaction, with one multi-row statement per table where it can:
/// a registration costs no statement of its own beyond its day's counter (shared by the
/// batch), an action one guarded update.
async fn commit(
    conn: &mut AnyConnection,
    backend: Backend,
    jobs: &[Job],
    cal: &Calendar,
    anchors: &crate::anchors::AnchorCache,
) -> Result<Vec<Done>, StoreError> {
    let t0 = std::time::Instant::now();
    let mut tx = conn.begin().await?;
    // Numbers first: one counter upsert per day of the batch's registrations, which is a
    // write, so SQLite takes its write lock at once rather than upgrading later.
    let days = jobs.iter().filter_map(|j| match j {
        Job::Register { day, .. } => Some(day.as_str()),
        _ => None,
    });
    let mut next = reserve_numbers(&mut tx, days).await?;
    // The batch's change numbers (one per order change; a stale action leaves a gap).
    let changes = jobs.iter().filter(|j| !matches!(j, Job::Audit { .. })).count();
    let mut change = match changes {
        0 => 0,
        n => take_changes(&mut tx, n as i64).await?,
    };
    // After the first write (SQLite's write lock is held): the unit tree to count under.
    // (An audit-only batch writes no rollups and reads none.)
    let anchors = match changes {
        0 => std::sync::Arc::default(),
        _ => anchors.current(&mut tx, backend).await?,
    };
    let mut repeats = RecentContacts::load(&mut tx, jobs).await?;

    let mut out = Vec::with_capacity(jobs.len());
    let mut deltas = Vec::new();
    let mut new_orders: Vec<(Order, EventRecord, String, i64)> = Vec::new();
    let mut acted: Vec<&Prepared> = Vec::new();
    let mut audits: Vec<&crate::AuditEntry> = Vec::new();
    for job in jobs {
        out.push(match job {
            Job::Register { day, event, .. } => {
                let seq = next.get_mut(day.as_str()).ok_or_else(|| crate::error::corrupt("day counter"))?;
                let mut ev = (**event).clone();
                ev.order = OrderNumber::format(day, *seq as u64);
                ev.seq = 1;
                *seq += 1;
                if let Change::Registered { intake, repeat_contact } = &mut ev.change {
                    *repeat_contact = repeats.check(intake, ev.at);
                }
                let order = apply(None, &ev).map_err(replay_err)?;
                let rec = record(&ev, GENESIS)?;
                let hash = chain::hash(&rec);
                deltas.extend(rollup_deltas(None, &order, cal, &anchors));
                new_orders.push((order.clone(), rec, hash, change));
                change += 1;
                Done::Registered(Box::new(order))
            }
            Job::Act { prepared, .. } => {
                let written = update(&mut tx, prepared, change).await?;
                change += 1;
                if written {
                    deltas.extend(rollup_deltas(Some(&prepared.old), &prepared.new, cal, &anchors));
                    acted.push(prepared);
                }
                Done::Acted(written)
            }
            Job::Audit { entry, .. } => {
                audits.push(entry);
                Done::Audited
            }
        });
    }
    let events =
        new_orders.iter().map(|(_, r, h, _)| (r, h.as_str())).chain(acted.iter().map(|p| (&p.record, p.hash.as_str())));
    let events: Vec<_> = events.collect();
    for chunk in events.chunks(CHUNK) {
        insert_event_rows(&mut tx, backend, chunk.iter().copied()).await?;
    }
    for chunk in new_orders.chunks(CHUNK) {
        insert_order_rows(&mut tx, backend, chunk.iter().map(|(o, _, h, c)| (o, h.as_str(), *c))).await?;
    }
    for p in &acted {
        if p.old.lead_unit != p.new.lead_unit || p.old.assisting_units != p.new.assisting_units {
            write_order_units(&mut tx, &p.new, true).await?;
        }
    }
    let notices: Vec<(&Order, &Event)> = acted.iter().map(|p| (&p.new, &p.event)).collect();
    for chunk in notices.chunks(CHUNK) {
        crate::notify::insert_many(&mut tx, backend, chunk).await?;
    }
    for chunk in audits.chunks(CHUNK) {
        crate::users::insert_audits(&mut tx, backend, chunk).await?;
    }
    crate::rollup::apply_deltas_for(&mut tx, &deltas, backend).await?;
    tx.commit().await?;
    metrics::histogram!("lianxin_write_batch_seconds").record(t0.elapsed().as_secs_f64());
    Ok(out)
}

/// Rows a multi-row statement of the writer carries.
const CHUNK: usize = 100;

/// How far back an earlier contact makes a registration a repeat contact.
const REPEAT_WINDOW: Millis = 30 * 86_400_000;

/// The earlier contacts (phone, category, time) of the batch's callers, from the database
/// and from the batch's own registrations as they are numbered: one query per batch.
struct RecentContacts(Vec<(String, String, Millis)>);

impl RecentContacts {
    async fn load(tx: &mut Transaction<'_, Any>, jobs: &[Job]) -> Result<RecentContacts, StoreError> {
        let mut phones = std::collections::BTreeSet::new();
        let (mut from, mut to) = (Millis::MAX, Millis::MIN);
        for job in jobs {
            if let Job::Register { event, .. } = job
                && let Change::Registered { intake, .. } = &event.change
                && let Some(p) = &intake.caller.phone
            {
                phones.insert(p.as_str().to_owned());
                from = from.min(event.at - REPEAT_WINDOW);
                to = to.max(event.at);
            }
        }
        if phones.is_empty() {
            return Ok(RecentContacts(Vec::new()));
        }
        // `created_at + 0` keeps the time window out of the index choice: a caller has few
        // orders, while the last 30 days hold most of them. PostgreSQL's generic plan for
        // this prepared statement otherwise ANDs the created-at index over the whole window
        // in, which cost 35-50 ms a batch with 25,000 recent orders.
        let mut q = Sql::new("SELECT caller_phone, category, created_at FROM orders WHERE caller_phone IN ");
        q.list(phones).push(" AND created_at + 0 >= ").int(from).push(" AND created_at + 0 <= ").int(to);
        let rows = q.query().fetch_all(&mut **tx).await?;
        let mut seen = Vec::with_capacity(rows.len());
        for r in &rows {
            seen.push((r.try_get("caller_phone")?, r.try_get("category")?, r.try_get("created_at")?));
        }
        Ok(RecentContacts(seen))
    }

    /// Whether the caller had an order in the same category within the 30 days before
    /// `at`; then counts this one for the registrations after it.
    fn check(&mut self, intake: &Intake, at: Millis) -> bool {
        let Some(phone) = &intake.caller.phone else { return false };
        let (phone, category) = (phone.as_str(), intake.category.as_str());
        let hit = self.0.iter().any(|(p, c, t)| p == phone && c == category && *t >= at - REPEAT_WINDOW && *t <= at);
        self.0.push((phone.to_owned(), category.to_owned(), at));
        hit
    }
}

/// Takes the next `n` numbers of the change sequence; returns the first. The head is one
/// row, so a second writer (another process on PostgreSQL) waits for this transaction to
/// commit before it takes its numbers: changes become visible in the order of their numbers.
pub(crate) async fn take_changes(tx: &mut Transaction<'_, Any>, n: i64) -> Result<i64, StoreError> {
    let last: i64 = sqlx::query_scalar("UPDATE change_head SET last = last + $1 WHERE id = 1 RETURNING last")
        .bind(n)
        .fetch_one(&mut **tx)
        .await?;
    Ok(last - n + 1)
}

/// Updates the order row of one decided action, guarded by the version it was decided on;
/// false when the order has moved on since.
async fn update(tx: &mut Transaction<'_, Any>, p: &Prepared, change: i64) -> Result<bool, StoreError> {
    let (old, new) = (&p.old, &p.new);
    let data = serde_json::to_string(new).map_err(crate::error::corrupt)?;
    let updated = sqlx::query(
        "UPDATE orders SET status = $1, lead_unit = $2, deadline = $3, sign_deadline = $4, updated_at = $5, \
         closed_at = $6, version = $7, last_hash = $8, data = $9, dispatched_at = $12, callback_deadline = $13, \
         warn_level = $14, qa_status = $15, warn_at = $16, category = $17, request_type = $18, urgency = $19, \
         street = $20, district = $21, address = $22, replied_at = $23, extension_at = $24, change_seq = $25 \
         WHERE number = $10 AND version = $11",
    )
    .bind(new.status.as_str())
    .bind(new.lead_unit.as_ref().map(|d| d.to_string()))
    .bind(new.deadline)
    .bind(new.sign_deadline)
    .bind(new.updated_at)
    .bind(new.closed_at)
    .bind(new.version)
    .bind(&p.hash)
    .bind(data)
    .bind(new.number.as_str())
    .bind(old.version)
    .bind(new.dispatched_at)
    .bind(new.callback_deadline)
    .bind(warn_level(new))
    .bind(qa_status(new))
    .bind(new.yellow_at(75))
    // The intake's columns too: the queues sort and filter on them, and a correction may
    // change them.
    .bind(new.intake.category.as_str())
    .bind(new.intake.request_type.as_str())
    .bind(new.intake.urgency.as_str())
    .bind(new.intake.location.street.as_ref().map(|s| s.as_str()).unwrap_or(""))
    .bind(new.intake.location.district.as_ref().map(|d| d.to_string()))
    .bind(crate::orders::address(new))
    .bind(crate::orders::replied_at(new))
    .bind(crate::orders::extension_at(new))
    .bind(change)
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}
