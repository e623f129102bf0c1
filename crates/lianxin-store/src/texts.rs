//! The texts read at intake: knowledge-base articles (every version kept), intake
//! templates, referral entries and announcements.

use crate::{Store, StoreError};
use lianxin_domain::knowledge::{Announcement, AnnouncementKind, Article, Referral, Template};
use lianxin_domain::{CategoryCode, JurisdictionCode, Millis, UnitCode};
use sqlx::Row;
use sqlx::any::AnyRow;

/// An article as stored: its current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredArticle {
    pub id: String,
    pub article: Article,
    pub version: i64,
    pub active: bool,
    pub updated_at: Millis,
    pub updated_by: String,
}

/// What an import of articles did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleImport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

fn json_list<T: serde::Serialize>(v: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(crate::error::corrupt)
}

fn parse_list<T: serde::de::DeserializeOwned>(s: &str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(s).map_err(crate::error::corrupt)
}

fn article_of(r: &AnyRow) -> Result<Article, StoreError> {
    let categories: String = r.try_get("categories")?;
    let tags: String = r.try_get("tags")?;
    let unit: Option<String> = r.try_get("unit")?;
    Ok(Article {
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        categories: parse_list::<CategoryCode>(&categories)?,
        unit: unit.map(|u| UnitCode::parse(&u)).transpose().map_err(crate::error::corrupt)?,
        tags: parse_list(&tags)?,
        valid_from: r.try_get("valid_from")?,
        valid_to: r.try_get("valid_to")?,
    })
}

fn stored_of(r: &AnyRow) -> Result<StoredArticle, StoreError> {
    Ok(StoredArticle {
        id: r.try_get("id")?,
        article: article_of(r)?,
        version: r.try_get("version")?,
        active: r.try_get::<i64, _>("active")? != 0,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
    })
}

const ARTICLE_COLUMNS: &str =
    "id, title, body, categories, unit, tags, valid_from, valid_to, version, active, updated_at, updated_by";

impl Store {
    /// Every article (the current version of each), by id.
    pub async fn articles(&self) -> Result<Vec<StoredArticle>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles ORDER BY id")))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(stored_of).collect()
    }

    pub async fn article(&self, id: &str) -> Result<Option<StoredArticle>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(stored_of).transpose()
    }

    /// Every version of an article, newest first: (version, article, active, when, who).
    pub async fn article_versions(&self, id: &str) -> Result<Vec<(i64, Article, bool, Millis, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, title, body, categories, unit, tags, valid_from, valid_to, active, edited_at, edited_by \
             FROM kb_versions WHERE id = $1 ORDER BY version DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("version")?,
                    article_of(r)?,
                    r.try_get::<i64, _>("active")? != 0,
                    r.try_get("edited_at")?,
                    r.try_get("edited_by")?,
                ))
            })
            .collect()
    }

    /// Writes articles: a new id is created at version 1, a changed one gets the next
    /// version (the old stays in `kb_versions`), an identical one is left alone. With
    /// `expected`, an article whose version moved on is a conflict. One transaction.
    pub async fn put_articles(
        &self,
        items: &[(String, Article, bool, Option<i64>)],
        by: &str,
        at: Millis,
    ) -> Result<ArticleImport, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let mut out = ArticleImport::default();
        for (id, a, active, expected) in items {
            let row =
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE id = $1")))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let current = row.as_ref().map(stored_of).transpose()?;
            if let (Some(e), Some(c)) = (expected, &current)
                && *e != c.version
            {
                return Err(StoreError::Conflict(format!(
                    "the article `{id}` is at version {}, you edited version {e}: reload and edit again",
                    c.version
                )));
            }
            let version = match &current {
                Some(c) if c.article == *a && c.active == *active => {
                    out.unchanged += 1;
                    continue;
                }
                Some(c) => {
                    out.updated += 1;
                    c.version + 1
                }
                None => {
                    out.created += 1;
                    1
                }
            };
            let (cats, tags) = (json_list(&a.categories)?, json_list(&a.tags)?);
            let unit = a.unit.as_ref().map(|u| u.to_string());
            if current.is_some() {
                sqlx::query(
                    "UPDATE kb_articles SET title = $2, body = $3, categories = $4, unit = $5, tags = $6, valid_from = $7, \
                     valid_to = $8, version = $9, active = $10, updated_at = $11, updated_by = $12 WHERE id = $1",
                )
                .bind(id)
                .bind(&a.title)
                .bind(&a.body)
                .bind(&cats)
                .bind(&unit)
                .bind(&tags)
                .bind(&a.valid_from)
                .bind(&a.valid_to)
                .bind(version)
                .bind(i64::from(*active))
                .bind(at)
                .bind(by)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "INSERT INTO kb_articles (id, title, body, categories, unit, tags, valid_from, valid_to, version, active, \
                     updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(id)
                .bind(&a.title)
                .bind(&a.body)
                .bind(&cats)
                .bind(&unit)
                .bind(&tags)
                .bind(&a.valid_from)
                .bind(&a.valid_to)
                .bind(version)
                .bind(i64::from(*active))
                .bind(at)
                .bind(by)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO kb_versions (id, version, title, body, categories, unit, tags, valid_from, valid_to, active, \
                 edited_at, edited_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id)
            .bind(version)
            .bind(&a.title)
            .bind(&a.body)
            .bind(&cats)
            .bind(&unit)
            .bind(&tags)
            .bind(&a.valid_from)
            .bind(&a.valid_to)
            .bind(i64::from(*active))
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn templates(&self) -> Result<Vec<Template>, StoreError> {
        let rows = sqlx::query("SELECT category, name, body FROM intake_templates ORDER BY category")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let c: String = r.try_get("category")?;
                Ok(Template {
                    category: CategoryCode::parse(&c).map_err(crate::error::corrupt)?,
                    name: r.try_get("name")?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }

    /// Sets the templates of their categories (one transaction).
    pub async fn put_templates(&self, items: &[Template], by: &str, at: Millis) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for t in items {
            sqlx::query(
                "INSERT INTO intake_templates (category, name, body, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (category) DO UPDATE SET name = excluded.name, body = excluded.body, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(t.category.as_str())
            .bind(&t.name)
            .bind(&t.body)
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_template(&self, category: &str) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let r =
            sqlx::query("DELETE FROM intake_templates WHERE category = $1").bind(category).execute(&self.pool).await?;
        Ok(r.rows_affected() > 0)
    }

    /// Every referral entry: (id, entry, active).
    pub async fn referrals(&self) -> Result<Vec<(String, Referral, bool)>, StoreError> {
        self.read_referrals(None).await
    }

    /// One referral entry and whether it is in use.
    pub async fn referral(&self, id: &str) -> Result<Option<(Referral, bool)>, StoreError> {
        Ok(self.read_referrals(Some(id)).await?.into_iter().next().map(|(_, r, a)| (r, a)))
    }

    async fn read_referrals(&self, id: Option<&str>) -> Result<Vec<(String, Referral, bool)>, StoreError> {
        let mut sql = "SELECT id, name, handles, phone, address, hours, keywords, active FROM referrals".to_owned();
        if id.is_some() {
            sql.push_str(" WHERE id = $1");
        }
        sql.push_str(" ORDER BY id");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(id) = id {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let kw: String = r.try_get("keywords")?;
                Ok((
                    r.try_get("id")?,
                    Referral {
                        name: r.try_get("name")?,
                        handles: r.try_get("handles")?,
                        phone: r.try_get("phone")?,
                        address: r.try_get("address")?,
                        hours: r.try_get("hours")?,
                        keywords: parse_list(&kw)?,
                    },
                    r.try_get::<i64, _>("active")? != 0,
                ))
            })
            .collect()
    }

    /// Creates or replaces referral entries (one transaction).
    pub async fn put_referrals(
        &self,
        items: &[(String, Referral, bool)],
        by: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for (id, r, active) in items {
            sqlx::query(
                "INSERT INTO referrals (id, name, handles, phone, address, hours, keywords, active, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 handles = excluded.handles, phone = excluded.phone, address = excluded.address, hours = excluded.hours, \
                 keywords = excluded.keywords, active = excluded.active, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(id)
            .bind(&r.name)
            .bind(&r.handles)
            .bind(&r.phone)
            .bind(&r.address)
            .bind(&r.hours)
            .bind(json_list(&r.keywords)?)
            .bind(i64::from(*active))
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Announcements in force at `at` (every one when `None`), newest start first.
    pub async fn announcements(&self, at: Option<Millis>) -> Result<Vec<(String, Announcement)>, StoreError> {
        self.read_announcements(at, None).await
    }

    pub async fn announcement(&self, id: &str) -> Result<Option<Announcement>, StoreError> {
        Ok(self.read_announcements(None, Some(id)).await?.into_iter().next().map(|(_, a)| a))
    }

    async fn read_announcements(
        &self,
        at: Option<Millis>,
        id: Option<&str>,
    ) -> Result<Vec<(String, Announcement)>, StoreError> {
        let mut sql =
            "SELECT id, title, body, kind, districts, streets, starts_at, ends_at, unit FROM announcements".to_owned();
        if at.is_some() {
            sql.push_str(" WHERE ends_at > $1 AND starts_at <= $1");
        } else if id.is_some() {
            sql.push_str(" WHERE id = $1");
        }
        sql.push_str(" ORDER BY starts_at DESC, id");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(t) = at {
            q = q.bind(t);
        } else if let Some(id) = id {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let (d, s): (String, String) = (r.try_get("districts")?, r.try_get("streets")?);
                let kind: String = r.try_get("kind")?;
                let unit: Option<String> = r.try_get("unit")?;
                Ok((
                    r.try_get("id")?,
                    Announcement {
                        title: r.try_get("title")?,
                        body: r.try_get("body")?,
                        kind: AnnouncementKind::parse(&kind)
                            .ok_or_else(|| crate::error::corrupt("announcement kind"))?,
                        districts: parse_list::<JurisdictionCode>(&d)?,
                        streets: parse_list::<JurisdictionCode>(&s)?,
                        starts_at: r.try_get("starts_at")?,
                        ends_at: r.try_get("ends_at")?,
                        unit: unit.map(|u| UnitCode::parse(&u)).transpose().map_err(crate::error::corrupt)?,
                    },
                ))
            })
            .collect()
    }

    /// Creates or replaces announcements (one transaction).
    pub async fn put_announcements(
        &self,
        items: &[(String, Announcement)],
        by: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for (id, a) in items {
            sqlx::query(
                "INSERT INTO announcements (id, title, body, kind, districts, streets, starts_at, ends_at, unit, created_by, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO UPDATE SET \
                 title = excluded.title, body = excluded.body, kind = excluded.kind, districts = excluded.districts, \
                 streets = excluded.streets, starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
                 unit = excluded.unit, updated_at = excluded.updated_at",
            )
            .bind(id)
            .bind(&a.title)
            .bind(&a.body)
            .bind(a.kind.as_str())
            .bind(json_list(&a.districts)?)
            .bind(json_list(&a.streets)?)
            .bind(a.starts_at)
            .bind(a.ends_at)
            .bind(a.unit.as_ref().map(|u| u.to_string()))
            .bind(by)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_announcement(&self, id: &str) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let r = sqlx::query("DELETE FROM announcements WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(r.rows_affected() > 0)
    }
}
