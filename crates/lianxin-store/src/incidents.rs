//! Incidents: groups of orders about one event, and the open orders the rule looks at.

use crate::{Store, StoreError};
use lianxin_domain::incident::Candidate;
use lianxin_domain::{CategoryCode, JurisdictionCode, Millis};
use sqlx::Row;

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIncident {
    pub id: String,
    pub title: String,
    pub category: String,
    pub district: Option<String>,
    /// `proposed`, `confirmed` or `dismissed`.
    pub status: String,
    pub created_at: Millis,
    pub confirmed_at: Option<Millis>,
    pub confirmed_by: Option<String>,
    pub replied_at: Option<Millis>,
    pub numbers: Vec<String>,
}

impl Store {
    /// Open orders created since `from` that are in no incident yet.
    pub async fn incident_candidates(&self, from: Millis) -> Result<Vec<Candidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.number, o.district, o.category, o.created_at FROM orders o \
             WHERE o.created_at >= $1 AND o.status NOT IN ('closed', 'merged', 'cancelled') \
             AND o.number NOT IN (SELECT number FROM incident_orders)",
        )
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let d: Option<String> = r.try_get("district")?;
                let c: String = r.try_get("category")?;
                Ok(Candidate {
                    number: r.try_get("number")?,
                    district: d.and_then(|d| JurisdictionCode::parse(&d).ok()),
                    category: CategoryCode::parse(&c).map_err(crate::error::corrupt)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    /// Records a proposed incident with its orders (one transaction); orders already in
    /// another incident are left out. Returns how many joined.
    pub async fn create_incident(
        &self,
        id: &str,
        title: &str,
        category: &str,
        district: Option<&str>,
        numbers: &[String],
        by: &str,
        at: Millis,
    ) -> Result<usize, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO incidents (id, title, category, district, status, created_at) VALUES ($1, $2, $3, $4, 'proposed', $5)")
            .bind(id)
            .bind(title)
            .bind(category)
            .bind(district)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let mut n = 0;
        for number in numbers {
            let r = sqlx::query(
                "INSERT INTO incident_orders (number, incident_id, added_at, added_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (number) DO NOTHING",
            )
            .bind(number)
            .bind(id)
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            n += r.rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Adds orders to an incident; an order in another incident is refused (its number is
    /// returned).
    pub async fn add_to_incident(
        &self,
        id: &str,
        numbers: &[String],
        by: &str,
        at: Millis,
    ) -> Result<Vec<String>, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let mut refused = Vec::new();
        for number in numbers {
            let r = sqlx::query(
                "INSERT INTO incident_orders (number, incident_id, added_at, added_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (number) DO NOTHING",
            )
            .bind(number)
            .bind(id)
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 0 {
                let there: Option<String> =
                    sqlx::query_scalar("SELECT incident_id FROM incident_orders WHERE number = $1")
                        .bind(number)
                        .fetch_optional(&mut *tx)
                        .await?;
                if there.as_deref() != Some(id) {
                    refused.push(number.clone());
                }
            }
        }
        tx.commit().await?;
        Ok(refused)
    }

    /// Sets an incident's status (`confirmed` records who and when; `replied` the reply time).
    pub async fn set_incident_status(&self, id: &str, status: &str, by: &str, at: Millis) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let r = match status {
            "confirmed" => {
                sqlx::query("UPDATE incidents SET status = 'confirmed', confirmed_at = $2, confirmed_by = $3 WHERE id = $1 AND status = 'proposed'")
                    .bind(id)
                    .bind(at)
                    .bind(by)
                    .execute(&self.pool)
                    .await?
            }
            "replied" => {
                sqlx::query("UPDATE incidents SET replied_at = $2 WHERE id = $1").bind(id).bind(at).execute(&self.pool).await?
            }
            other => sqlx::query("UPDATE incidents SET status = $2 WHERE id = $1").bind(id).bind(other).execute(&self.pool).await?,
        };
        Ok(r.rows_affected() > 0)
    }

    /// Incidents, newest first (only those of `status` when given), with their orders.
    pub async fn incidents(&self, status: Option<&str>) -> Result<Vec<StoredIncident>, StoreError> {
        self.incidents_where(status.map(|s| ("status", s))).await
    }

    pub async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, StoreError> {
        Ok(self.incidents_where(Some(("id", id))).await?.into_iter().next())
    }

    /// Incidents whose `column` (`status` or `id`, never user text) equals the value.
    async fn incidents_where(&self, filter: Option<(&'static str, &str)>) -> Result<Vec<StoredIncident>, StoreError> {
        let mut sql = "SELECT id, title, category, district, status, created_at, confirmed_at, confirmed_by, replied_at FROM incidents".to_owned();
        if let Some((column, _)) = filter {
            sql.push_str(&format!(" WHERE {column} = $1"));
        }
        sql.push_str(" ORDER BY created_at DESC, id LIMIT 200");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some((_, v)) = filter {
            q = q.bind(v);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            let numbers =
                sqlx::query_scalar("SELECT number FROM incident_orders WHERE incident_id = $1 ORDER BY number")
                    .bind(&id)
                    .fetch_all(&self.pool)
                    .await?;
            out.push(StoredIncident {
                id,
                title: r.try_get("title")?,
                category: r.try_get("category")?,
                district: r.try_get("district")?,
                status: r.try_get("status")?,
                created_at: r.try_get("created_at")?,
                confirmed_at: r.try_get("confirmed_at")?,
                confirmed_by: r.try_get("confirmed_by")?,
                replied_at: r.try_get("replied_at")?,
                numbers,
            });
        }
        Ok(out)
    }

    /// The incident an order belongs to.
    pub async fn incident_of(&self, number: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT incident_id FROM incident_orders WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?)
    }
}
