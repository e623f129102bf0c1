//! Users, sessions and the audit log of access to personal data.

use crate::error::corrupt;
use crate::{Store, StoreError};
use lianxin_domain::{Millis, Role, UnitCode};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A user account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub unit: Option<UnitCode>,
    pub active: bool,
}

/// One account to create or update; `set_password` says whether its hash replaces the
/// stored one (an update otherwise keeps the password).
#[derive(Debug, Clone)]
pub struct UserWrite {
    pub user: UserRecord,
    pub set_password: bool,
}

/// One audit entry: who accessed what personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: Option<String>,
}

fn user_from_row(r: &AnyRow) -> Result<UserRecord, StoreError> {
    let roles: String = r.try_get("roles")?;
    let roles: Vec<String> = serde_json::from_str(&roles).map_err(corrupt)?;
    let unit: Option<String> = r.try_get("unit")?;
    Ok(UserRecord {
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        roles: roles
            .iter()
            .map(|s| Role::parse(s).ok_or_else(|| corrupt(format!("role {s}"))))
            .collect::<Result<_, _>>()?,
        unit: unit.map(|u| UnitCode::parse(&u).map_err(corrupt)).transpose()?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

macro_rules! user_columns {
    () => {
        "SELECT u.username, u.display_name, u.password_hash, u.roles, u.unit, u.active"
    };
}

impl Store {
    /// Creates users in one transaction.
    pub async fn insert_users(&self, users: &[UserRecord], now: Millis) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for u in users {
            let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            sqlx::query(
                "INSERT INTO users (username, display_name, password_hash, roles, unit, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&u.username)
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(serde_json::to_string(&roles).map_err(corrupt)?)
            .bind(u.unit.as_ref().map(|c| c.as_str().to_owned()))
            .bind(i64::from(u.active))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates or updates accounts (matched by username) and records the changes, in one
    /// transaction. A stored password is kept unless the write carries a new hash; an
    /// account written inactive loses its sessions at once.
    pub async fn write_users(
        &self,
        writes: &[UserWrite],
        changes: &[crate::AdminChange],
        now: Millis,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for w in writes {
            let u = &w.user;
            let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            sqlx::query(
                "INSERT INTO users (username, display_name, password_hash, roles, unit, active, created_at)                  VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO UPDATE SET                  display_name = excluded.display_name, roles = excluded.roles, unit = excluded.unit,                  active = excluded.active,                  password_hash = CASE WHEN $8 = 1 THEN excluded.password_hash ELSE users.password_hash END",
            )
            .bind(&u.username)
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(serde_json::to_string(&roles).map_err(corrupt)?)
            .bind(u.unit.as_ref().map(|c| c.as_str().to_owned()))
            .bind(i64::from(u.active))
            .bind(now)
            .bind(i64::from(w.set_password))
            .execute(&mut *tx)
            .await?;
            if !u.active || w.set_password {
                sqlx::query("DELETE FROM sessions WHERE username = $1").bind(&u.username).execute(&mut *tx).await?;
            }
        }
        for c in changes {
            crate::reference::insert_change(&mut tx, c).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every account, by username.
    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let sql = concat!(user_columns!(), " FROM users u ORDER BY u.username");
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// A user by name.
    pub async fn user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = concat!(user_columns!(), " FROM users u WHERE u.username = $1");
        let row = sqlx::query(sql).bind(username).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Records a session token (only its hash is stored).
    pub async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(username)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The active user behind a live session token hash.
    pub async fn session_user(&self, token_hash: &str, now: Millis) -> Result<Option<UserRecord>, StoreError> {
        let sql = concat!(
            user_columns!(),
            " FROM sessions s JOIN users u ON u.username = s.username \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        );
        let row = sqlx::query(sql).bind(token_hash).bind(now).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    /// Appends to the audit log.
    pub async fn audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let stopped = crate::writer::stopped;
        let job = crate::writer::Job::Audit { entry: Box::new(e.clone()), reply };
        self.writer.send(job).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// The newest audit entries, newest first.
    pub async fn audit_entries(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}

/// Writes audit entries in one statement (the writer batches them with other changes).
pub(crate) async fn insert_audits(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: crate::Backend,
    entries: &[&AuditEntry],
) -> Result<(), StoreError> {
    let mut q =
        crate::sql::Sql::for_backend("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ", backend);
    for (i, e) in entries.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        q.int(e.at).push(", ").text(e.actor.as_str()).push(", ").text(e.action.as_str()).push(", ");
        q.text(e.subject.as_str()).push(", ").opt_text(e.detail.clone()).push(")");
    }
    q.query().execute(&mut **tx).await?;
    Ok(())
}
