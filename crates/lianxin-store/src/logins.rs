//! The login log: every checked sign-in attempt (never its password), which throttling
//! counts and admins read.

use crate::sql::Sql;
use crate::{Store, StoreError};
use lianxin_domain::Millis;
use lianxin_domain::login::Failures;
use sqlx::Row;

/// How a sign-in attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Success,
    Failure,
}

impl LoginOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginOutcome::Success => "success",
            LoginOutcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<LoginOutcome> {
        match s {
            "success" => Some(LoginOutcome::Success),
            "failure" => Some(LoginOutcome::Failure),
            _ => None,
        }
    }
}

/// One sign-in attempt to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    pub at: Millis,
    /// The username as tried (it may name no account).
    pub username: String,
    /// The client's address (IP, no port).
    pub address: String,
    pub outcome: LoginOutcome,
    /// `api` or `console`.
    pub via: String,
}

/// A recorded attempt, with its id (newer attempts have larger ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    pub id: i64,
    pub attempt: LoginAttempt,
}

/// The session a successful sign-in opens: its token hash and when it expires.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub expires_at: Millis,
}

/// Which attempts to list.
#[derive(Debug, Clone, Default)]
pub struct LoginFilter {
    pub username: Option<String>,
    pub address: Option<String>,
    pub outcome: Option<LoginOutcome>,
    /// Only attempts older than this id (the previous page's last id).
    pub before_id: Option<i64>,
}

impl Store {
    /// Records an attempt and, for a success, opens its session, in one transaction.
    pub async fn record_login(&self, a: &LoginAttempt, session: Option<NewSession<'_>>) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO login_attempts (at, username, address, outcome, via) VALUES ($1, $2, $3, $4, $5)")
            .bind(a.at)
            .bind(&a.username)
            .bind(&a.address)
            .bind(a.outcome.as_str())
            .bind(&a.via)
            .execute(&mut *tx)
            .await?;
        if let Some(s) = session {
            sqlx::query("INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(s.token_hash)
                .bind(&a.username)
                .bind(a.at)
                .bind(s.expires_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The failures after `since` of an account (only those after its last success) and of
    /// an address (whatever the account).
    pub async fn login_failures(
        &self,
        username: &str,
        address: &str,
        since: Millis,
    ) -> Result<(Failures, Failures), StoreError> {
        let account = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_attempts \
             WHERE username = $1 AND outcome = 'failure' AND at > $2 AND id > COALESCE( \
               (SELECT MAX(id) FROM login_attempts WHERE username = $1 AND outcome = 'success'), 0)",
        )
        .bind(username)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let address = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_attempts \
             WHERE address = $1 AND outcome = 'failure' AND at > $2",
        )
        .bind(address)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let read = |r: &sqlx::any::AnyRow| -> Result<Failures, StoreError> {
            let n: i64 = r.try_get("n")?;
            Ok(Failures { count: u32::try_from(n).unwrap_or(u32::MAX), last_at: r.try_get("last")? })
        };
        Ok((read(&account)?, read(&address)?))
    }

    /// Recorded attempts, newest first.
    pub async fn login_attempts(&self, f: &LoginFilter, limit: i64) -> Result<Vec<LoginRecord>, StoreError> {
        let mut q = Sql::new("SELECT id, at, username, address, outcome, via FROM login_attempts WHERE 1 = 1");
        if let Some(u) = &f.username {
            q.push(" AND username = ").text(u.clone());
        }
        if let Some(a) = &f.address {
            q.push(" AND address = ").text(a.clone());
        }
        if let Some(o) = f.outcome {
            q.push(" AND outcome = ").text(o.as_str());
        }
        if let Some(b) = f.before_id {
            q.push(" AND id < ").int(b);
        }
        q.push(" ORDER BY id DESC LIMIT ").int(limit);
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let outcome: String = r.try_get("outcome")?;
                Ok(LoginRecord {
                    id: r.try_get("id")?,
                    attempt: LoginAttempt {
                        at: r.try_get("at")?,
                        username: r.try_get("username")?,
                        address: r.try_get("address")?,
                        outcome: LoginOutcome::parse(&outcome)
                            .ok_or_else(|| crate::error::corrupt(format!("login outcome {outcome}")))?,
                        via: r.try_get("via")?,
                    },
                })
            })
            .collect()
    }

    /// How many attempts the log holds.
    pub async fn login_attempt_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM login_attempts").fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// How many sessions are open (expired ones included).
    pub async fn session_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM sessions").fetch_one(&self.pool).await?.try_get("n")?)
    }
}
