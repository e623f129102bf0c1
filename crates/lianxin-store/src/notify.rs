//! Notifications: written with the event that causes them; read per user.

use crate::sql::Sql;
use crate::{Store, StoreError};
use lianxin_domain::notify::{Recipient, notifications};
use lianxin_domain::{Event, Millis, Order, Role, UnitCode};
use sqlx::{Any, Row, Transaction};

/// A notification as a user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub number: String,
    pub at: Millis,
    pub kind: String,
    pub message: String,
    pub read: bool,
}

/// Writes the notifications the events cause (each with the order as it stands after its
/// event) in one statement. Ids are `number-seq-index`, so writing the same event twice is
/// impossible (the event's own key already forbids it).
pub(crate) async fn insert_many(
    tx: &mut Transaction<'_, Any>,
    backend: crate::Backend,
    events: &[(&Order, &Event)],
) -> Result<(), StoreError> {
    let mut q = Sql::for_backend(
        "INSERT INTO notifications (id, number, at, recipient_kind, recipient, kind, message) VALUES ",
        backend,
    );
    let mut rows = 0;
    for (after, ev) in events {
        for (i, d) in notifications(after, ev).into_iter().enumerate() {
            let (kind, recipient) = match &d.recipient {
                Recipient::Unit(u) => ("unit", u.to_string()),
                Recipient::Role(r) => ("role", r.to_string()),
            };
            q.push(if rows == 0 { "(" } else { ", (" });
            q.text(format!("{}-{}-{}", ev.order, ev.seq, i)).push(", ").text(ev.order.as_str()).push(", ");
            q.int(ev.at).push(", ").text(kind).push(", ").text(recipient).push(", ");
            q.text(d.kind).push(", ").text(d.message).push(")");
            rows += 1;
        }
    }
    if rows > 0 {
        q.query().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Whose notifications a user receives: their unit's and their roles'.
fn recipients(q: &mut Sql, unit: Option<&UnitCode>, roles: &[Role]) {
    q.push("((n.recipient_kind = 'role' AND n.recipient IN ");
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    if roles.is_empty() {
        q.push("('')");
    } else {
        q.list(roles);
    }
    q.push(")");
    if let Some(u) = unit {
        q.push(" OR (n.recipient_kind = 'unit' AND n.recipient = ").text(u.as_str()).push(")");
    }
    q.push(")");
}

impl Store {
    /// Writes a notification to everyone with `role` that is about no one order (a surge
    /// alarm); `id` makes it once only. Returns whether it was new.
    pub async fn notify_role(
        &self,
        id: &str,
        at: Millis,
        role: Role,
        kind: &str,
        message: &str,
    ) -> Result<bool, StoreError> {
        self.notify_once(id, at, ("role", role.as_str()), kind, message).await
    }

    /// Writes a notification to a unit that is about no one order (a tough problem's part
    /// past its day); `id` makes it once only. Returns whether it was new.
    pub async fn notify_unit(
        &self,
        id: &str,
        at: Millis,
        unit: &str,
        kind: &str,
        message: &str,
    ) -> Result<bool, StoreError> {
        self.notify_once(id, at, ("unit", unit), kind, message).await
    }

    async fn notify_once(
        &self,
        id: &str,
        at: Millis,
        (recipient_kind, recipient): (&str, &str),
        kind: &str,
        message: &str,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let r = sqlx::query(
            "INSERT INTO notifications (id, number, at, recipient_kind, recipient, kind, message) \
             VALUES ($1, '', $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(at)
        .bind(recipient_kind)
        .bind(recipient)
        .bind(kind)
        .bind(message)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// A user's notifications, newest first.
    pub async fn notifications(
        &self,
        username: &str,
        unit: Option<&UnitCode>,
        roles: &[Role],
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut q = Sql::new("SELECT n.id, n.number, n.at, n.kind, n.message, r.at AS read_at FROM notifications n ");
        q.push("LEFT JOIN notification_reads r ON r.id = n.id AND r.username = ").text(username);
        q.push(" WHERE ");
        recipients(&mut q, unit, roles);
        if unread_only {
            q.push(" AND r.at IS NULL");
        }
        q.push(" ORDER BY n.at DESC, n.id DESC LIMIT ").int(limit);
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let read_at: Option<i64> = r.try_get("read_at")?;
                Ok(Notification {
                    id: r.try_get("id")?,
                    number: r.try_get("number")?,
                    at: r.try_get("at")?,
                    kind: r.try_get("kind")?,
                    message: r.try_get("message")?,
                    read: read_at.is_some(),
                })
            })
            .collect()
    }

    /// Marks notifications read for a user; only ids addressed to the user count. Returns
    /// how many were newly marked.
    pub async fn mark_read(
        &self,
        username: &str,
        unit: Option<&UnitCode>,
        roles: &[Role],
        ids: Option<&[String]>,
        now: Millis,
    ) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let mut q = Sql::new("INSERT INTO notification_reads (id, username, at) SELECT n.id, ");
        q.text(username).push(", ").int(now).push(" FROM notifications n WHERE ");
        recipients(&mut q, unit, roles);
        if let Some(ids) = ids {
            if ids.is_empty() {
                return Ok(0);
            }
            q.push(" AND n.id IN ").list(ids.iter().cloned());
        }
        q.push(" AND NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.id = n.id AND r.username = ")
            .text(username)
            .push(")");
        Ok(q.query().execute(&self.pool).await?.rows_affected())
    }
}
