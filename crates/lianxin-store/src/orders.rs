//! Work orders and their event log: the write path where every state change is one
//! transaction (order row + event + optimistic version check).

use crate::error::corrupt;
use crate::sql::Sql;
use crate::{Store, StoreError};
use lianxin_domain::chain::{self, EventRecord, GENESIS};
use lianxin_domain::kpi::rollup_deltas;
use lianxin_domain::lifecycle::{ReplayError, apply};
use lianxin_domain::scope::Scope;
use lianxin_domain::*;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// An event as stored, with its place in the hash chain.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event: Event,
    pub comment: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Filters of the order list. Empty vectors and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub statuses: Vec<Status>,
    pub categories: Vec<CategoryCode>,
    pub unit: Option<UnitCode>,
    pub street: Option<JurisdictionCode>,
    /// Orders located in this district.
    pub district: Option<JurisdictionCode>,
    pub request_type: Option<RequestType>,
    pub channel: Option<Channel>,
    pub created_from: Option<Millis>,
    pub created_to: Option<Millis>,
    pub phone: Option<PhoneNumber>,
    /// Leave out confidential callers (a handler looking a caller up by phone).
    pub hide_confidential: bool,
    /// Only orders being handled past their deadline at this time.
    pub overdue_at: Option<Millis>,
    /// Only orders being handled past their yellow point but not yet overdue at a time.
    pub at_risk_at: Option<Millis>,
    /// Only orders whose QA sample stands so.
    pub qa: Option<QaResult>,
    /// Only orders being handled that are neither overdue nor at risk at this time.
    pub on_time_at: Option<Millis>,
    /// Only orders being handled that are overdue or at risk at this time.
    pub marked_at: Option<Millis>,
    /// Only orders whose number starts with these digits.
    pub number_prefix: Option<String>,
    /// Only orders whose address contains this text (letters compared case-blind).
    pub address: Option<String>,
    /// Only orders led by this unit.
    pub lead_unit: Option<UnitCode>,
    /// Only orders not led by this unit (another unit, or none).
    pub not_lead_unit: Option<UnitCode>,
    /// Only orders with an extension request awaiting a decision.
    pub extension_pending: bool,
    /// Only replied orders awaiting their callback (as `statuses = [replied]`, written so
    /// that the partial index of the callback queue serves it).
    pub awaiting_callback: bool,
}

/// The order in which a page of orders is read; every one ends with the order number, so
/// pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSort {
    /// Newest first (the API's lists).
    Newest,
    /// Most urgent first, then oldest first: the order intake, review and dispatch work in.
    Urgency,
    /// Waiting to be signed for first, then by deadline (soonest first, none last).
    SignThenDeadline,
    /// Oldest reply first (the callback queue, with `awaiting_callback`).
    OldestReply,
    /// Oldest extension request first (with `extension_pending`).
    OldestExtension,
    /// Overdue, then at risk, then within the limit at this time; each by deadline.
    Supervision(Millis),
}

/// One page of orders, newest first.
#[derive(Debug, Clone)]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub next_cursor: Option<String>,
}

/// Why an action on an order did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActError<E> {
    #[error("no such order")]
    NotFound,
    /// The caller's decision refused it.
    #[error("refused")]
    Rejected(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<sqlx::Error> for ActError<E> {
    fn from(e: sqlx::Error) -> Self {
        ActError::Store(e.into())
    }
}

pub(crate) fn replay_err(e: ReplayError) -> StoreError {
    corrupt(format!("event does not apply: {e}"))
}

/// The stored form of an event, which the hash covers.
pub(crate) fn record(ev: &Event, prev_hash: &str) -> Result<EventRecord, StoreError> {
    Ok(EventRecord {
        order: ev.order.to_string(),
        seq: ev.seq,
        at: ev.at,
        actor: ev.actor.clone(),
        unit: ev.unit.as_ref().map(|u| u.to_string()),
        action: ev.action().as_str().to_owned(),
        from_status: ev.from_status.map(|s| s.as_str().to_owned()),
        to_status: ev.to_status.as_str().to_owned(),
        comment: ev.change.comment(),
        payload: serde_json::to_string(&ev.change).map_err(corrupt)?,
        prev_hash: prev_hash.to_owned(),
    })
}

pub(crate) fn record_from_row(r: &AnyRow) -> Result<(EventRecord, String), StoreError> {
    Ok((
        EventRecord {
            order: r.try_get("number")?,
            seq: r.try_get("seq")?,
            at: r.try_get("at")?,
            actor: r.try_get("actor")?,
            unit: r.try_get("unit")?,
            action: r.try_get("action")?,
            from_status: r.try_get("from_status")?,
            to_status: r.try_get("to_status")?,
            comment: r.try_get("comment")?,
            payload: r.try_get("payload")?,
            prev_hash: r.try_get("prev_hash")?,
        },
        r.try_get("hash")?,
    ))
}

/// Parses a stored event record back into a domain event.
pub(crate) fn event_from_record(rec: &EventRecord) -> Result<Event, String> {
    let status = |s: &str| Status::parse(s).ok_or_else(|| format!("unknown status `{s}`"));
    let change: Change = serde_json::from_str(&rec.payload).map_err(|e| format!("payload: {e}"))?;
    if change.action().as_str() != rec.action {
        return Err(format!("action `{}` does not match its payload `{}`", rec.action, change.action()));
    }
    Ok(Event {
        order: OrderNumber::parse(&rec.order)?,
        seq: rec.seq,
        at: rec.at,
        actor: rec.actor.clone(),
        unit: rec.unit.as_deref().map(UnitCode::parse).transpose()?,
        from_status: rec.from_status.as_deref().map(status).transpose()?,
        to_status: status(&rec.to_status)?,
        change,
    })
}

pub(crate) async fn insert_event(
    tx: &mut Transaction<'_, Any>,
    rec: &EventRecord,
    hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (number, seq, at, actor, unit, action, from_status, to_status, comment, payload, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&rec.order)
    .bind(rec.seq)
    .bind(rec.at)
    .bind(&rec.actor)
    .bind(rec.unit.clone())
    .bind(&rec.action)
    .bind(rec.from_status.clone())
    .bind(&rec.to_status)
    .bind(rec.comment.clone())
    .bind(&rec.payload)
    .bind(&rec.prev_hash)
    .bind(hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends events to the chain whose head is `prev_hash`; returns the new head.
pub(crate) async fn append_events(
    tx: &mut Transaction<'_, Any>,
    events: &[Event],
    mut prev_hash: String,
) -> Result<String, StoreError> {
    for ev in events {
        let rec = record(ev, &prev_hash)?;
        let h = chain::hash(&rec);
        insert_event(tx, &rec, &h).await?;
        prev_hash = h;
    }
    Ok(prev_hash)
}

pub(crate) async fn insert_order_row(
    tx: &mut Transaction<'_, Any>,
    o: &Order,
    last_hash: &str,
    change: i64,
) -> Result<(), StoreError> {
    let data = serde_json::to_string(o).map_err(corrupt)?;
    sqlx::query(
        "INSERT INTO orders (number, status, channel, request_type, category, urgency, caller_phone, confidential, \
         street, district, lead_unit, deadline, sign_deadline, created_at, updated_at, closed_at, version, last_hash, data, \
         dispatched_at, callback_deadline, warn_level, qa_status, warn_at, source_ref, address, replied_at, extension_at, \
         change_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, \
         $26, $27, $28, $29)",
    )
    .bind(o.number.as_str())
    .bind(o.status.as_str())
    .bind(o.intake.channel.map(|c| c.as_str()).unwrap_or(""))
    .bind(o.intake.request_type.as_str())
    .bind(o.intake.category.as_str())
    .bind(o.intake.urgency.as_str())
    .bind(o.intake.caller.phone.as_ref().map(|p| p.as_str()).unwrap_or(""))
    .bind(i64::from(o.intake.caller.confidential))
    .bind(o.intake.location.street.as_ref().map(|s| s.as_str()).unwrap_or(""))
    .bind(o.intake.location.district.as_ref().map(|d| d.to_string()))
    .bind(o.lead_unit.as_ref().map(|d| d.to_string()))
    .bind(o.deadline)
    .bind(o.sign_deadline)
    .bind(o.created_at)
    .bind(o.updated_at)
    .bind(o.closed_at)
    .bind(o.version)
    .bind(last_hash)
    .bind(data)
    .bind(o.dispatched_at)
    .bind(o.callback_deadline)
    .bind(warn_level(o))
    .bind(qa_status(o))
    .bind(o.yellow_at(75))
    .bind(o.source_ref.clone())
    .bind(address(o))
    .bind(replied_at(o))
    .bind(extension_at(o))
    .bind(change)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The `address` column: the caller's address as given, `None` when there is none.
pub(crate) fn address(o: &Order) -> Option<String> {
    o.intake.location.address.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned)
}

/// The `replied_at` column: when the current reply was given.
pub(crate) fn replied_at(o: &Order) -> Option<Millis> {
    o.reply.as_ref().map(|r| r.at)
}

/// The `extension_at` column: when the pending extension was requested, `None` when none is.
pub(crate) fn extension_at(o: &Order) -> Option<Millis> {
    o.pending_extension.as_ref().map(|e| e.requested_at)
}

/// The `warn_level` column: the warning given for the current deadline.
pub(crate) fn warn_level(o: &Order) -> i64 {
    match o.warned_level() {
        None => 0,
        Some(WarnLevel::Yellow) => 1,
        Some(WarnLevel::Red) => 2,
    }
}

pub(crate) fn qa_status(o: &Order) -> Option<String> {
    o.qa.as_ref().map(|q| q.result.as_str().to_owned())
}

pub(crate) async fn write_order_units(
    tx: &mut Transaction<'_, Any>,
    o: &Order,
    replace: bool,
) -> Result<(), StoreError> {
    if replace {
        sqlx::query("DELETE FROM order_units WHERE number = $1").bind(o.number.as_str()).execute(&mut **tx).await?;
    }
    let lead = o.lead_unit.iter().map(|u| (u, "lead"));
    for (unit, role) in lead.chain(o.assisting_units.iter().map(|u| (u, "assisting"))) {
        sqlx::query("INSERT INTO order_units (number, unit, role) VALUES ($1, $2, $3)")
            .bind(o.number.as_str())
            .bind(unit.as_str())
            .bind(role)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub(crate) fn order_from_row(r: &AnyRow) -> Result<(Order, String), StoreError> {
    let data: String = r.try_get("data")?;
    let o: Order = serde_json::from_str(&data).map_err(corrupt)?;
    Ok((o, r.try_get("last_hash")?))
}

impl Store {
    /// Registers a new order from its validated first event (whose number is a placeholder):
    /// the day's next number is taken inside the same transaction as the order row and the
    /// event, so a failed registration leaves no gap. Concurrent registrations
    /// are committed together by one writer task (group commit: one fsync for many orders),
    /// on either backend.
    pub async fn register_order(&self, day: &str, event: Event) -> Result<Order, StoreError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let job = crate::writer::Job::Register { day: day.to_owned(), event: Box::new(event), reply };
        self.writer.send(job).await.map_err(|_| crate::writer::stopped())?;
        rx.await.map_err(|_| crate::writer::stopped())?
    }

    /// An order by number.
    pub async fn order(&self, number: &str) -> Result<Option<Order>, StoreError> {
        let row = sqlx::query("SELECT data, last_hash FROM orders WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(order_from_row).transpose()?.map(|(o, _)| o))
    }

    /// Performs one action: `decide` sees the current order and returns the one event to
    /// append (or refuses). The event, the new order row, the unit links, the rollups and
    /// the notifications are written by the store's writer in one transaction (with other
    /// changes waiting at the same moment), guarded by the order's version; when another
    /// change got there first, `decide` runs again on the fresh state. Returns once the
    /// change is committed.
    pub async fn act<E>(
        &self,
        number: &str,
        mut decide: impl FnMut(&Order) -> Result<Event, E>,
    ) -> Result<Order, ActError<E>> {
        for _attempt in 0..20 {
            let row = sqlx::query("SELECT data, last_hash FROM orders WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Err(ActError::NotFound) };
            let (old, head) = order_from_row(&row)?;
            let event = decide(&old).map_err(ActError::Rejected)?;
            let new = apply(Some(old.clone()), &event).map_err(replay_err)?;
            let record = record(&event, &head)?;
            let hash = chain::hash(&record);
            let prepared = crate::writer::Prepared { old, new, event, record, hash };
            let (reply, rx) = tokio::sync::oneshot::channel();
            let job = crate::writer::Job::Act { prepared: Box::new(prepared), reply };
            self.writer.send(job).await.map_err(|_| crate::writer::stopped())?;
            match rx.await.map_err(|_| crate::writer::stopped())?? {
                crate::writer::Outcome::Committed(order) => return Ok(*order),
                crate::writer::Outcome::Stale => tokio::task::yield_now().await,
            }
        }
        Err(ActError::Store(StoreError::Conflict("the order is changing too fast; try again".into())))
    }

    /// Orders within `scope` matching `filter`, newest first, after `cursor`.
    pub async fn list_orders(
        &self,
        scope: &Scope,
        filter: &OrderFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<OrderPage, StoreError> {
        let mut q = Sql::new("SELECT o.data, o.last_hash FROM orders o WHERE 1 = 1");
        push_filter(&mut q, scope, filter);
        if let Some(c) = cursor {
            q.push(" AND o.number < ").text(c);
        }
        q.push(" ORDER BY o.number DESC LIMIT ").int(limit + 1);
        let rows = q.query().fetch_all(&self.pool).await?;
        let mut items = rows.iter().map(|r| order_from_row(r).map(|(o, _)| o)).collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|o| o.number.to_string())
        } else {
            None
        };
        Ok(OrderPage { items, next_cursor })
    }

    /// Up to `limit` orders within `scope` matching `filter` in `sort` order, after the
    /// first `offset`. The console's queues page this way: their orders are sorted by
    /// urgency, deadline or age rather than by number, and a queue's length bounds the
    /// offset.
    pub async fn page_orders(
        &self,
        scope: &Scope,
        filter: &OrderFilter,
        sort: OrderSort,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Order>, StoreError> {
        // The page's numbers first, sorted on the narrow columns (and an index where the
        // sort has one), then the rows of just those: the sort never carries the JSON.
        let mut q = Sql::new(
            "SELECT o.data, o.last_hash FROM orders o WHERE o.number IN (SELECT o.number FROM orders o WHERE 1 = 1",
        );
        push_filter(&mut q, scope, filter);
        q.push(" ORDER BY ");
        push_sort(&mut q, sort);
        q.push(" LIMIT ").int(limit.max(0)).push(" OFFSET ").int(offset.max(0));
        q.push(") ORDER BY ");
        push_sort(&mut q, sort);
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| order_from_row(r).map(|(o, _)| o)).collect()
    }

    /// How many orders within `scope` match `filter`.
    pub async fn count_orders(&self, scope: &Scope, filter: &OrderFilter) -> Result<i64, StoreError> {
        let mut q = Sql::new("SELECT COUNT(*) AS n FROM orders o WHERE 1 = 1");
        push_filter(&mut q, scope, filter);
        Ok(q.query().fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// An order's events in order.
    pub async fn events(&self, number: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query("SELECT * FROM events WHERE number = $1 ORDER BY seq")
            .bind(number)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let (rec, hash) = record_from_row(r)?;
                let event = event_from_record(&rec).map_err(corrupt)?;
                Ok(StoredEvent { event, comment: rec.comment, prev_hash: rec.prev_hash, hash })
            })
            .collect()
    }

    /// Number of events of an order (0 when it has none).
    pub async fn event_count(&self, number: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM events WHERE number = $1").bind(number).fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Writes whole orders from their event logs in one transaction (demo history and
    /// imports) and advances the day counters past their numbers.
    pub async fn insert_history(&self, logs: &[Vec<Event>]) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let mut days: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        let cal = self.calendar_for_days();
        let mut deltas = Vec::new();
        // A write first: the transaction holds SQLite's write lock from its start.
        let mut change = crate::writer::take_changes(&mut tx, logs.len().max(1) as i64).await?;
        let anchors = self.anchors.current(&mut tx, self.backend).await?;
        for log in logs {
            let mut state = None;
            for ev in log {
                state = Some(apply(state, ev).map_err(replay_err)?);
            }
            let Some(order) = state else { continue };
            let head = append_events(&mut tx, log, GENESIS.to_owned()).await?;
            insert_order_row(&mut tx, &order, &head, change).await?;
            change += 1;
            write_order_units(&mut tx, &order, false).await?;
            deltas.extend(rollup_deltas(None, &order, &cal, &anchors));
            let n = order.number.as_str();
            let (day, seq) = n.split_at(8);
            let seq: i64 = seq.parse().map_err(corrupt)?;
            let e = days.entry(day.to_owned()).or_insert(0);
            *e = (*e).max(seq);
        }
        crate::rollup::apply_deltas(&mut tx, &deltas).await?;
        for (day, last) in days {
            sqlx::query(
                "INSERT INTO order_counters (day, last) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET last = \
                 CASE WHEN excluded.last > order_counters.last THEN excluded.last ELSE order_counters.last END",
            )
            .bind(day)
            .bind(last)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.changed.notify_one();
        Ok(())
    }

    /// How many orders there are.
    pub async fn order_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders").fetch_one(&self.pool).await?;
        Ok(n)
    }
}

/// Takes the next numbers of each day from its counter, one upsert per day (a write, so
/// SQLite takes its write lock at once): for every day among `days` (one entry per order),
/// the first of its consecutive new sequence numbers.
pub(crate) async fn reserve_numbers<'a>(
    tx: &mut Transaction<'_, Any>,
    days: impl Iterator<Item = &'a str>,
) -> Result<std::collections::BTreeMap<&'a str, i64>, StoreError> {
    let mut per_day: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for day in days {
        *per_day.entry(day).or_default() += 1;
    }
    let mut next = std::collections::BTreeMap::new();
    for (day, n) in per_day {
        let (last,): (i64,) = sqlx::query_as(
            "INSERT INTO order_counters (day, last) VALUES ($1, $2) \
             ON CONFLICT (day) DO UPDATE SET last = order_counters.last + $2 RETURNING last",
        )
        .bind(day)
        .bind(n)
        .fetch_one(&mut **tx)
        .await?;
        next.insert(day, last - n + 1);
    }
    Ok(next)
}

/// Orders per multi-row statement of an import (2,500 parameters; on SQLite with `?`
/// placeholders, see `Sql::for_backend`).
const IMPORT_CHUNK: usize = 100;

/// Inserts many events in one statement.
pub(crate) async fn insert_event_rows<'a>(
    tx: &mut Transaction<'_, Any>,
    backend: crate::Backend,
    rows: impl Iterator<Item = (&'a EventRecord, &'a str)>,
) -> Result<(), StoreError> {
    let mut q = Sql::for_backend(
        "INSERT INTO events (number, seq, at, actor, unit, action, from_status, to_status, comment, payload, prev_hash, hash) VALUES ",
        backend,
    );
    for (i, (r, h)) in rows.enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        q.text(r.order.as_str())
            .push(", ")
            .int(r.seq)
            .push(", ")
            .int(r.at)
            .push(", ")
            .text(r.actor.as_str())
            .push(", ");
        q.opt_text(r.unit.clone()).push(", ").text(r.action.as_str()).push(", ").opt_text(r.from_status.clone());
        q.push(", ").text(r.to_status.as_str()).push(", ").opt_text(r.comment.clone()).push(", ");
        q.text(r.payload.as_str()).push(", ").text(r.prev_hash.as_str()).push(", ").text(h).push(")");
    }
    q.query().execute(&mut **tx).await?;
    Ok(())
}

/// Inserts many order rows in one statement (the columns of `insert_order_row`).
pub(crate) async fn insert_order_rows<'a>(
    tx: &mut Transaction<'_, Any>,
    backend: crate::Backend,
    rows: impl Iterator<Item = (&'a Order, &'a str, i64)>,
) -> Result<(), StoreError> {
    let mut q = Sql::for_backend(
        "INSERT INTO orders (number, status, channel, request_type, category, urgency, caller_phone, confidential, \
         street, district, lead_unit, deadline, sign_deadline, created_at, updated_at, closed_at, version, last_hash, data, \
         dispatched_at, callback_deadline, warn_level, qa_status, warn_at, source_ref, address, replied_at, extension_at, \
         change_seq) VALUES ",
        backend,
    );
    for (i, (o, h, change)) in rows.enumerate() {
        let data = serde_json::to_string(o).map_err(corrupt)?;
        let l = &o.intake.location;
        q.push(if i == 0 { "(" } else { ", (" });
        q.text(o.number.as_str()).push(", ").text(o.status.as_str()).push(", ");
        q.text(o.intake.channel.map(|c| c.as_str()).unwrap_or("")).push(", ");
        q.text(o.intake.request_type.as_str()).push(", ").text(o.intake.category.as_str()).push(", ");
        q.text(o.intake.urgency.as_str()).push(", ");
        q.text(o.intake.caller.phone.as_ref().map(|p| p.as_str()).unwrap_or("")).push(", ");
        q.int(i64::from(o.intake.caller.confidential)).push(", ");
        q.text(l.street.as_ref().map(|s| s.as_str()).unwrap_or("")).push(", ");
        q.opt_text(l.district.as_ref().map(|d| d.to_string())).push(", ");
        q.opt_text(o.lead_unit.as_ref().map(|u| u.to_string())).push(", ");
        q.opt_int(o.deadline).push(", ").opt_int(o.sign_deadline).push(", ").int(o.created_at).push(", ");
        q.int(o.updated_at).push(", ").opt_int(o.closed_at).push(", ").int(o.version).push(", ").text(h).push(", ");
        q.text(data).push(", ").opt_int(o.dispatched_at).push(", ").opt_int(o.callback_deadline).push(", ");
        q.int(warn_level(o)).push(", ").opt_text(qa_status(o)).push(", ").opt_int(o.yellow_at(75)).push(", ");
        q.opt_text(o.source_ref.clone()).push(", ").opt_text(address(o)).push(", ");
        q.opt_int(replied_at(o)).push(", ").opt_int(extension_at(o)).push(", ").int(change).push(")");
    }
    q.query().execute(&mut **tx).await?;
    Ok(())
}

/// An order as the change sequence found it.
#[derive(Debug, Clone)]
pub struct Changed {
    pub seq: i64,
    pub order: Order,
}

impl Store {
    /// The last number of the change sequence: every order change up to it is committed.
    pub async fn change_head(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT last FROM change_head WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// Orders whose last change is after `after`, in change order, at most `limit`.
    pub async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<Changed>, StoreError> {
        let rows = sqlx::query(
            "SELECT change_seq, data, last_hash FROM orders WHERE change_seq > $1 ORDER BY change_seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(Changed { seq: r.try_get("change_seq")?, order: order_from_row(r)?.0 })).collect()
    }

    /// Those of `numbers` that exist within `scope` and `filter` (a search's hits read back
    /// from the source of truth), in no particular order.
    pub async fn orders_among(
        &self,
        scope: &Scope,
        filter: &OrderFilter,
        numbers: &[String],
    ) -> Result<Vec<Order>, StoreError> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("SELECT o.data, o.last_hash FROM orders o WHERE o.number IN ");
        q.list(numbers.iter().cloned());
        push_filter(&mut q, scope, filter);
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| order_from_row(r).map(|(o, _)| o)).collect()
    }

    /// A page of orders by number after `after` (a whole-index rebuild reads them so).
    pub async fn orders_after(&self, after: &str, limit: i64) -> Result<Vec<Order>, StoreError> {
        let rows = sqlx::query("SELECT data, last_hash FROM orders WHERE number > $1 ORDER BY number LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| order_from_row(r).map(|(o, _)| o)).collect()
    }

    /// Waits until this process commits order changes (or `timeout` passes).
    pub async fn changed(&self, timeout: std::time::Duration) {
        let _ = tokio::time::timeout(timeout, self.changed.notified()).await;
    }

    /// The database's identity (an index remembers which database it was built from).
    pub async fn instance_id(&self) -> Result<String, StoreError> {
        Ok(self.meta("instance_id").await?.unwrap_or_default())
    }

    /// Calls `f` with every order, by number, reading a page at a time.
    pub async fn each_order(&self, mut f: impl FnMut(&Order)) -> Result<(), StoreError> {
        let mut after = String::new();
        loop {
            let rows =
                sqlx::query("SELECT number, data, last_hash FROM orders WHERE number > $1 ORDER BY number LIMIT 1000")
                    .bind(&after)
                    .fetch_all(&self.pool)
                    .await?;
            let Some(last) = rows.last() else { return Ok(()) };
            after = last.try_get("number")?;
            for r in &rows {
                f(&order_from_row(r)?.0);
            }
        }
    }

    /// Which of these references name an order here already: the source ref of an imported
    /// order, or the number of one (an export of this platform's own orders).
    pub async fn imported_refs(&self, refs: &[String]) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let mut out = std::collections::BTreeSet::new();
        for chunk in refs.chunks(500) {
            let mut q = Sql::new("SELECT source_ref AS r FROM orders WHERE source_ref IN ");
            q.list(chunk.iter().cloned());
            q.push(" UNION SELECT number AS r FROM orders WHERE number IN ");
            q.list(chunk.iter().cloned());
            for r in q.query().fetch_all(&self.pool).await? {
                out.insert(r.try_get::<String, _>("r")?);
            }
        }
        Ok(out)
    }

    /// Writes imported orders, each from its single `import` event (whose number is a
    /// placeholder), in one transaction: each gets the next numbers of its creation day
    /// (`YYYYMMDD`, local), an event chain, its unit links and its KPI rollups.
    pub async fn insert_imported(&self, items: &[(String, Event)]) -> Result<Vec<OrderNumber>, StoreError> {
        let _turn = self.write_turn().await;
        let mut conn = self.pool.acquire().await?;
        if self.backend == crate::Backend::Sqlite {
            // A large import touches far more pages than the live cache holds; a bigger cache
            // for this one transaction spares it spilling and re-reading index pages.
            sqlx::query("PRAGMA cache_size = -524288").execute(&mut *conn).await?;
        }
        let result = self.insert_imported_on(&mut conn, items).await;
        if self.backend == crate::Backend::Sqlite {
            sqlx::query("PRAGMA cache_size = -32768").execute(&mut *conn).await?;
        }
        result
    }

    async fn insert_imported_on(
        &self,
        conn: &mut sqlx::pool::PoolConnection<Any>,
        items: &[(String, Event)],
    ) -> Result<Vec<OrderNumber>, StoreError> {
        use sqlx::Connection;
        let mut tx = conn.begin().await?;
        let mut next = reserve_numbers(&mut tx, items.iter().map(|(day, _)| day.as_str())).await?;
        let first_change = crate::writer::take_changes(&mut tx, items.len().max(1) as i64).await?;
        let cal = self.calendar_for_days();
        let anchors = self.anchors.current(&mut tx, self.backend).await?;
        let mut fold = crate::rollup::Fold::default();
        let mut numbers = Vec::with_capacity(items.len());
        let mut rows: Vec<(Order, EventRecord, String, i64)> = Vec::with_capacity(items.len());
        for (day, ev) in items {
            let seq = next.get_mut(day.as_str()).ok_or_else(|| corrupt("day counter"))?;
            let mut ev = ev.clone();
            ev.order = OrderNumber::format(day, *seq as u64);
            *seq += 1;
            let order = apply(None, &ev).map_err(replay_err)?;
            let rec = record(&ev, GENESIS)?;
            let hash = chain::hash(&rec);
            fold.add(&order, &cal, &anchors);
            numbers.push(order.number.clone());
            let change = first_change + rows.len() as i64;
            rows.push((order, rec, hash, change));
        }
        tracing::debug!(orders = rows.len(), "insert_imported: prepared");
        // Many rows a statement: an import is bound by statements, not by bytes.
        for chunk in rows.chunks(IMPORT_CHUNK) {
            insert_event_rows(&mut tx, self.backend, chunk.iter().map(|(_, r, h, _)| (r, h.as_str()))).await?;
            insert_order_rows(&mut tx, self.backend, chunk.iter().map(|(o, _, h, c)| (o, h.as_str(), *c))).await?;
            let links: Vec<(&str, &str, &str)> = chunk
                .iter()
                .flat_map(|(o, _, _, _)| {
                    let lead = o.lead_unit.iter().map(move |u| (o.number.as_str(), u.as_str(), "lead"));
                    lead.chain(o.assisting_units.iter().map(move |u| (o.number.as_str(), u.as_str(), "assisting")))
                })
                .collect();
            if !links.is_empty() {
                let mut q = Sql::for_backend("INSERT INTO order_units (number, unit, role) VALUES ", self.backend);
                for (i, (n, u, r)) in links.iter().enumerate() {
                    q.push(if i == 0 { "(" } else { ", (" });
                    q.text(*n).push(", ").text(*u).push(", ").text(*r).push(")");
                }
                q.query().execute(&mut *tx).await?;
            }
        }
        let deltas = fold.into_deltas();
        tracing::debug!(cells = deltas.len(), "insert_imported: rows written");
        crate::rollup::apply_deltas_for(&mut tx, &deltas, self.backend).await?;
        tracing::debug!("insert_imported: rollups written");
        tx.commit().await?;
        self.changed.notify_one();
        Ok(numbers)
    }

    /// Orders being handled that have earned a supervision warning not yet given at `now`,
    /// most urgent first.
    pub async fn supervision_candidates(&self, now: Millis, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT number FROM orders WHERE status IN ('dispatched', 'in_progress') \
             AND deadline IS NOT NULL AND warn_at IS NOT NULL \
             AND ((warn_level < 1 AND warn_at <= $1) OR (warn_level < 2 AND deadline <= $1)) \
             ORDER BY deadline LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("number")?)).collect()
    }

    /// Closed orders in `[from, to)` (by closing time) never sampled for QA.
    pub async fn qa_candidates(&self, from: Millis, to: Millis) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT number FROM orders WHERE status = 'closed' AND qa_status IS NULL \
             AND closed_at >= $1 AND closed_at < $2 ORDER BY number",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("number")?)).collect()
    }

    /// Calls `f` with every order within `scope` that may contribute to KPIs of days in
    /// `[from, to)`: created before `to`, and touched or due since `from`. Streams the rows,
    /// so a district's year costs no more memory than a day's.
    pub async fn each_order_for_recount(
        &self,
        scope: &Scope,
        from: Millis,
        to: Millis,
        mut f: impl FnMut(&Order) + Send,
    ) -> Result<(), StoreError> {
        use futures_util::TryStreamExt;
        let mut q = Sql::new("SELECT o.data, o.last_hash FROM orders o WHERE o.created_at < ");
        q.int(to).push(" AND (o.updated_at >= ").int(from).push(" OR o.deadline >= ").int(from).push(")");
        push_scope(&mut q, scope);
        let mut rows = q.query().fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            f(&order_from_row(&r)?.0);
        }
        Ok(())
    }
}

/// Restricts a query over `orders o` to a scope and a filter.
fn push_filter(q: &mut Sql, scope: &Scope, filter: &OrderFilter) {
    push_scope(q, scope);
    if !filter.statuses.is_empty() {
        q.push(" AND o.status IN ").list(filter.statuses.iter().map(|s| s.as_str().to_owned()));
    }
    if !filter.categories.is_empty() {
        q.push(" AND o.category IN ").list(filter.categories.iter().map(|s| s.to_string()));
    }
    if let Some(u) = &filter.unit {
        q.push(" AND o.number IN (SELECT number FROM order_units WHERE unit = ").text(u.as_str()).push(")");
    }
    if let Some(s) = &filter.street {
        q.push(" AND o.street = ").text(s.as_str());
    }
    if let Some(d) = &filter.district {
        q.push(" AND o.district = ").text(d.as_str());
    }
    if let Some(t) = filter.request_type {
        q.push(" AND o.request_type = ").text(t.as_str());
    }
    if let Some(c) = filter.channel {
        q.push(" AND o.channel = ").text(c.as_str());
    }
    if let Some(f) = filter.created_from {
        q.push(" AND o.created_at >= ").int(f);
    }
    if let Some(t) = filter.created_to {
        q.push(" AND o.created_at < ").int(t);
    }
    if let Some(p) = &filter.phone {
        q.push(" AND o.caller_phone = ").text(p.as_str());
    }
    if filter.hide_confidential {
        q.push(" AND o.confidential = 0");
    }
    if let Some(now) = filter.overdue_at {
        q.push(" AND o.status IN ('dispatched', 'in_progress') AND o.deadline <= ").int(now);
    }
    if let Some(now) = filter.at_risk_at {
        q.push(" AND o.status IN ('dispatched', 'in_progress') AND o.deadline > ").int(now);
        q.push(" AND o.warn_at <= ").int(now);
    }
    if let Some(qa) = filter.qa {
        q.push(" AND o.qa_status = ").text(qa.as_str());
    }
    // Within the limit: the complement of overdue and at risk among the orders handled
    // (a missing deadline or yellow point has not passed).
    if let Some(now) = filter.on_time_at {
        q.push(" AND o.status IN ('dispatched', 'in_progress') AND (o.deadline IS NULL OR o.deadline > ").int(now);
        q.push(") AND (o.warn_at IS NULL OR o.warn_at > ").int(now).push(")");
    }
    if let Some(now) = filter.marked_at {
        q.push(" AND o.status IN ('dispatched', 'in_progress') AND (o.deadline <= ").int(now);
        q.push(" OR o.warn_at <= ").int(now).push(")");
    }
    if let Some(p) = &filter.number_prefix {
        // A range, so the primary key serves it: from `p` up to the next digit string of
        // its length (digits only, so no collation puts anything else in between).
        q.push(" AND o.number >= ").text(p.as_str());
        if let Some(end) = next_digits(p) {
            q.push(" AND o.number < ").text(end);
        }
    }
    if let Some(a) = &filter.address {
        // A substring can use no b-tree order; the narrow partial index on the address
        // is scanned instead of the rows and their JSON.
        let escaped: String = a
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        q.push(
            " AND o.number IN (SELECT a.number FROM orders a WHERE a.address IS NOT NULL AND LOWER(a.address) LIKE ",
        );
        q.text(format!("%{escaped}%")).push(" ESCAPE '\\')");
    }
    if let Some(u) = &filter.lead_unit {
        q.push(" AND o.lead_unit = ").text(u.as_str());
    }
    if let Some(u) = &filter.not_lead_unit {
        q.push(" AND (o.lead_unit IS NULL OR o.lead_unit <> ").text(u.as_str()).push(")");
    }
    if filter.extension_pending {
        q.push(" AND o.extension_at IS NOT NULL");
    }
    if filter.awaiting_callback {
        q.push(" AND o.status = 'replied'");
    }
}

/// The `ORDER BY` terms of `sort` over `orders o`.
fn push_sort(q: &mut Sql, sort: OrderSort) {
    match sort {
        OrderSort::Newest => q.push("o.number DESC"),
        OrderSort::Urgency => {
            q.push("CASE o.urgency WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, o.created_at, o.number")
        }
        OrderSort::SignThenDeadline => q.push(
            "CASE WHEN o.status = 'dispatched' THEN 0 ELSE 1 END, \
             CASE WHEN o.deadline IS NULL THEN 1 ELSE 0 END, o.deadline, o.number",
        ),
        // The index order of `orders_replied` and `orders_extension`: a replied order has
        // a reply time (with `awaiting_callback`), a pending extension its request time
        // (with `extension_pending`).
        OrderSort::OldestReply => q.push("o.replied_at, o.number"),
        OrderSort::OldestExtension => q.push("o.extension_at, o.number"),
        OrderSort::Supervision(now) => {
            q.push("CASE WHEN o.deadline <= ").int(now);
            q.push(" THEN 0 WHEN o.warn_at <= ").int(now);
            q.push(" THEN 1 ELSE 2 END, CASE WHEN o.deadline IS NULL THEN 1 ELSE 0 END, o.deadline, o.number")
        }
    };
}

/// The digit string after every string that starts with `p` (`2026119` → `202612`);
/// `None` for all nines (or none).
fn next_digits(p: &str) -> Option<String> {
    let mut digits: Vec<u8> = p.bytes().collect();
    while let Some(last) = digits.pop() {
        if last < b'9' {
            digits.push(last + 1);
            return String::from_utf8(digits).ok();
        }
    }
    None
}

/// Restricts a query over `orders o` to a scope.
fn push_scope(q: &mut Sql, scope: &Scope) {
    match scope {
        Scope::All => {}
        Scope::Limited { units, district } => {
            if units.is_empty() && district.is_none() {
                q.push(" AND 1 = 0");
                return;
            }
            q.push(" AND (");
            if !units.is_empty() {
                q.push("o.number IN (SELECT ou.number FROM order_units ou WHERE ou.unit IN ");
                q.list(units.iter().map(|u| u.to_string()));
                q.push(")");
            }
            if let Some(d) = district {
                if !units.is_empty() {
                    q.push(" OR ");
                }
                q.push("o.district = ").text(d.as_str());
            }
            q.push(")");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::next_digits;

    #[test]
    fn a_number_prefix_ends_at_the_next_digit_string() {
        assert_eq!(next_digits("2026112").as_deref(), Some("2026113"));
        assert_eq!(next_digits("2026119").as_deref(), Some("202612"));
        assert_eq!(next_digits("999"), None);
        assert_eq!(next_digits(""), None);
    }
}
