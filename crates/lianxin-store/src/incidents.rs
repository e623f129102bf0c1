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

/// A value bound into an incident query.
enum Bind<'a> {
    Text(&'a str),
    Int(i64),
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

    /// Sets an incident's status: `confirmed` or `dismissed` (only a proposed one; records who
    /// decided and when), or `replied` (the reply time).
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
            // A dismissal is decided like a confirmation: once, from proposed, by someone.
            "dismissed" => {
                sqlx::query("UPDATE incidents SET status = 'dismissed', confirmed_at = $2, confirmed_by = $3 WHERE id = $1 AND status = 'proposed'")
                    .bind(id)
                    .bind(at)
                    .bind(by)
                    .execute(&self.pool)
                    .await?
            }
            other => return Err(StoreError::Config(format!("no incident status `{other}`"))),
        };
        Ok(r.rows_affected() > 0)
    }

    /// Incidents, newest first (only those of `status` when given), with their orders.
    pub async fn incidents(&self, status: Option<&str>) -> Result<Vec<StoredIncident>, StoreError> {
        match status {
            Some(s) => self.incidents_where("status = $1", &[Bind::Text(s)]).await,
            None => self.incidents_where("1 = 1", &[]).await,
        }
    }

    pub async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, StoreError> {
        Ok(self.incidents_where("id = $1", &[Bind::Text(id)]).await?.into_iter().next())
    }

    /// Confirmed incidents of `category` made since `since`, in `district` when given: those a
    /// new order about the same matter is offered to join at intake.
    pub async fn incidents_to_join(
        &self,
        category: &str,
        district: Option<&str>,
        since: Millis,
    ) -> Result<Vec<StoredIncident>, StoreError> {
        match district {
            Some(d) => {
                self.incidents_where(
                    "status = 'confirmed' AND category = $1 AND created_at >= $2 AND district = $3",
                    &[Bind::Text(category), Bind::Int(since), Bind::Text(d)],
                )
                .await
            }
            None => {
                self.incidents_where(
                    "status = 'confirmed' AND category = $1 AND created_at >= $2",
                    &[Bind::Text(category), Bind::Int(since)],
                )
                .await
            }
        }
    }

    /// Incidents matching `condition` (fixed SQL, never user text; values bound in order),
    /// newest first, at most 200, with their orders read in one more query.
    async fn incidents_where(
        &self,
        condition: &'static str,
        values: &[Bind<'_>],
    ) -> Result<Vec<StoredIncident>, StoreError> {
        let chosen = format!("SELECT id FROM incidents WHERE {condition} ORDER BY created_at DESC, id LIMIT 200");
        let sql = format!(
            "SELECT id, title, category, district, status, created_at, confirmed_at, confirmed_by, replied_at \
             FROM incidents WHERE id IN ({chosen}) ORDER BY created_at DESC, id"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            q = match v {
                Bind::Text(t) => q.bind(*t),
                Bind::Int(i) => q.bind(*i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        let sql =
            format!("SELECT incident_id, number FROM incident_orders WHERE incident_id IN ({chosen}) ORDER BY number");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            q = match v {
                Bind::Text(t) => q.bind(*t),
                Bind::Int(i) => q.bind(*i),
            };
        }
        let mut numbers: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for r in q.fetch_all(&self.pool).await? {
            numbers.entry(r.try_get("incident_id")?).or_default().push(r.try_get("number")?);
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            out.push(StoredIncident {
                numbers: numbers.remove(&id).unwrap_or_default(),
                id,
                title: r.try_get("title")?,
                category: r.try_get("category")?,
                district: r.try_get("district")?,
                status: r.try_get("status")?,
                created_at: r.try_get("created_at")?,
                confirmed_at: r.try_get("confirmed_at")?,
                confirmed_by: r.try_get("confirmed_by")?,
                replied_at: r.try_get("replied_at")?,
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
