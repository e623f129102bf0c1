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

use crate::StoreError;
use crate::orders::{
    append_events, insert_event, insert_order_row, qa_status, replay_err, warn_level, write_order_units,
};
use lianxin_domain::calendar::Calendar;
use lianxin_domain::chain::{EventRecord, GENESIS};
use lianxin_domain::kpi::rollup_deltas;
use lianxin_domain::lifecycle::apply;
use lianxin_domain::order::Intake;
use lianxin_domain::*;
use sqlx::{Any, AnyPool, Transaction};
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
    Registered(Order),
    /// Whether the action was written (else it was stale).
    Acted(bool),
}

impl Job {
    fn answer(self, r: Result<Done, StoreError>) {
        match (self, r) {
            (Job::Register { reply, .. }, Ok(Done::Registered(o))) => {
                let _ = reply.send(Ok(o));
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
    gate: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    offset: crate::DayOffset,
    mut rx: mpsc::Receiver<Job>,
) {
    while let Some(first) = rx.recv().await {
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
        match commit(&pool, &jobs, &cal).await {
            Ok(done) => {
                for (job, d) in jobs.into_iter().zip(done) {
                    job.answer(Ok(d));
                }
            }
            Err(e) if jobs.len() == 1 => jobs.into_iter().for_each(|j| j.answer(Err(e.clone()))),
            Err(_) => {
                // Something in the batch failed and the whole transaction rolled back:
                // each change goes again on its own, and only a failing one hears of it.
                for job in jobs {
                    let r = commit(&pool, std::slice::from_ref(&job), &cal).await;
                    job.answer(r.map(|mut d| d.remove(0)));
                }
            }
        }
    }
}

/// Writes `jobs` in one transaction, in order.
async fn commit(pool: &AnyPool, jobs: &[Job], cal: &Calendar) -> Result<Vec<Done>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut out = Vec::with_capacity(jobs.len());
    let mut deltas = Vec::new();
    for job in jobs {
        out.push(match job {
            Job::Register { day, event, .. } => {
                let order = register(&mut tx, day, event).await?;
                deltas.extend(rollup_deltas(None, &order, cal));
                Done::Registered(order)
            }
            Job::Act { prepared, .. } => {
                let written = act(&mut tx, prepared).await?;
                if written {
                    deltas.extend(rollup_deltas(Some(&prepared.old), &prepared.new, cal));
                }
                Done::Acted(written)
            }
            Job::Audit { entry, .. } => {
                crate::users::insert_audit(&mut tx, entry).await?;
                Done::Audited
            }
        });
    }
    crate::rollup::apply_deltas(&mut tx, &deltas).await?;
    tx.commit().await?;
    Ok(out)
}

/// Registers one order: the day's next number, the first event, the order row.
async fn register(tx: &mut Transaction<'_, Any>, day: &str, event: &Event) -> Result<Order, StoreError> {
    // A write first, so SQLite takes its write lock at once rather than upgrading later.
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO order_counters (day, last) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET last = order_counters.last + 1 RETURNING last",
    )
    .bind(day)
    .fetch_one(&mut **tx)
    .await?;
    let mut ev = event.clone();
    ev.order = OrderNumber::format(day, seq as u64);
    ev.seq = 1;
    if let Change::Registered { intake, repeat_contact } = &mut ev.change {
        *repeat_contact = is_repeat_contact(tx, intake, ev.at).await?;
    }
    let order = apply(None, &ev).map_err(replay_err)?;
    let head = append_events(tx, std::slice::from_ref(&ev), GENESIS.to_owned()).await?;
    insert_order_row(tx, &order, &head).await?;
    Ok(order)
}

/// Whether the caller had an order in the same category within the 30 days before `at`.
async fn is_repeat_contact(tx: &mut Transaction<'_, Any>, intake: &Intake, at: Millis) -> Result<bool, StoreError> {
    let Some(phone) = &intake.caller.phone else { return Ok(false) };
    let hit = sqlx::query(
        "SELECT 1 FROM orders WHERE caller_phone = $1 AND category = $2 AND created_at >= $3 AND created_at <= $4 LIMIT 1",
    )
    .bind(phone.as_str())
    .bind(intake.category.as_str())
    .bind(at - 30 * 86_400_000)
    .bind(at)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(hit.is_some())
}

/// Writes one decided action, guarded by the version it was decided on; false when the
/// order has moved on since.
async fn act(tx: &mut Transaction<'_, Any>, p: &Prepared) -> Result<bool, StoreError> {
    let (old, new) = (&p.old, &p.new);
    let data = serde_json::to_string(new).map_err(crate::error::corrupt)?;
    let updated = sqlx::query(
        "UPDATE orders SET status = $1, lead_unit = $2, deadline = $3, sign_deadline = $4, updated_at = $5, \
         closed_at = $6, version = $7, last_hash = $8, data = $9, dispatched_at = $12, callback_deadline = $13, \
         warn_level = $14, qa_status = $15, warn_at = $16 WHERE number = $10 AND version = $11",
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
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    insert_event(tx, &p.record, &p.hash).await?;
    if old.lead_unit != new.lead_unit || old.assisting_units != new.assisting_units {
        write_order_units(tx, new, true).await?;
    }
    crate::notify::insert(tx, new, &p.event).await?;
    Ok(true)
}
