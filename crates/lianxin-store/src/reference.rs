//! Reference data (jurisdictions, units, categories, the routing catalogue) and the record
//! of administrative changes.

use crate::error::corrupt;
use crate::{Store, StoreError};
use lianxin_domain::reference::{Category, CategorySpec, Directory, Jurisdiction, RouteRule, Unit};
use lianxin_domain::*;
use sqlx::{Any, Row, Transaction};

fn parse<T>(r: Result<T, String>) -> Result<T, StoreError> {
    r.map_err(corrupt)
}

/// One administrative change: who changed which item, when, and what it was before and after
/// (JSON; `None` before a creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminChange {
    pub at: Millis,
    pub actor: String,
    /// `jurisdiction`, `unit`, `category`, `route` or `user`.
    pub kind: String,
    pub code: String,
    /// `create`, `update`, `deactivate`, `activate`, `password`, …
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Reference rows to write in one transaction, each upserted by its code.
#[derive(Debug, Clone, Default)]
pub struct ReferenceWrite {
    pub jurisdictions: Vec<Jurisdiction>,
    pub units: Vec<Unit>,
    pub categories: Vec<Category>,
    pub routes: Vec<RouteRule>,
    pub changes: Vec<AdminChange>,
}

fn opt(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

/// Orders rows so that each parent comes before its children (rows whose parent is not in
/// the list, or stored already, come first).
fn parents_first<T: Clone>(rows: &[T], code: impl Fn(&T) -> String, parent: impl Fn(&T) -> Option<String>) -> Vec<T> {
    let codes: std::collections::BTreeSet<String> = rows.iter().map(&code).collect();
    let mut done: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut left: Vec<&T> = rows.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|r| {
            let ready = parent(r).is_none_or(|p| !codes.contains(&p) || done.contains(&p));
            if ready {
                done.insert(code(r));
                out.push((*r).clone());
            }
            !ready
        });
        if left.len() == before {
            // A cycle: the caller checked for these; keep the rest in their order.
            out.extend(left.into_iter().cloned());
            break;
        }
    }
    out
}

pub(crate) async fn insert_change(tx: &mut Transaction<'_, Any>, c: &AdminChange) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO admin_changes (at, actor, kind, code, action, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.at)
    .bind(&c.actor)
    .bind(&c.kind)
    .bind(&c.code)
    .bind(&c.action)
    .bind(c.before.clone())
    .bind(c.after.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Loads all reference data into a [`Directory`].
    pub async fn load_directory(&self) -> Result<Directory, StoreError> {
        let mut jurisdictions = Vec::new();
        for r in
            sqlx::query("SELECT code, name, level, parent, active FROM jurisdictions").fetch_all(&self.pool).await?
        {
            let level: String = r.try_get("level")?;
            let parent: Option<String> = r.try_get("parent")?;
            jurisdictions.push(Jurisdiction {
                code: parse(JurisdictionCode::parse(&r.try_get::<String, _>("code")?))?,
                name: r.try_get("name")?,
                level: JurisdictionLevel::parse(&level)
                    .ok_or_else(|| corrupt(format!("jurisdiction level {level}")))?,
                parent: parent.map(|p| parse(JurisdictionCode::parse(&p))).transpose()?,
                active: r.try_get::<i64, _>("active")? != 0,
            });
        }
        let mut units = Vec::new();
        for r in sqlx::query("SELECT code, name, kind, parent, jurisdiction, active FROM units")
            .fetch_all(&self.pool)
            .await?
        {
            let kind: String = r.try_get("kind")?;
            let parent: Option<String> = r.try_get("parent")?;
            let jurisdiction: Option<String> = r.try_get("jurisdiction")?;
            units.push(Unit {
                code: parse(UnitCode::parse(&r.try_get::<String, _>("code")?))?,
                name: r.try_get("name")?,
                kind: UnitKind::parse(&kind).ok_or_else(|| corrupt(format!("unit kind {kind}")))?,
                parent: parent.map(|p| parse(UnitCode::parse(&p))).transpose()?,
                jurisdiction: jurisdiction.map(|j| parse(JurisdictionCode::parse(&j))).transpose()?,
                active: r.try_get::<i64, _>("active")? != 0,
            });
        }
        let mut categories = Vec::new();
        for r in sqlx::query("SELECT code, name, parent, position, leaf, active FROM categories")
            .fetch_all(&self.pool)
            .await?
        {
            let parent: Option<String> = r.try_get("parent")?;
            let spec: Option<String> = r.try_get("leaf")?;
            categories.push(Category {
                code: parse(CategoryCode::parse(&r.try_get::<String, _>("code")?))?,
                name: r.try_get("name")?,
                parent: parent.map(|p| parse(CategoryCode::parse(&p))).transpose()?,
                position: r.try_get("position")?,
                spec: spec
                    .map(|l| serde_json::from_str::<CategorySpec>(&l).map_err(corrupt))
                    .transpose()?
                    .unwrap_or_default(),
                active: r.try_get::<i64, _>("active")? != 0,
                leaf: None,
            });
        }
        let mut routes = Vec::new();
        for r in sqlx::query("SELECT category, jurisdiction, unit FROM routes").fetch_all(&self.pool).await? {
            let j: String = r.try_get("jurisdiction")?;
            routes.push(RouteRule {
                category: parse(CategoryCode::parse(&r.try_get::<String, _>("category")?))?,
                jurisdiction: if j.is_empty() { None } else { Some(parse(JurisdictionCode::parse(&j))?) },
                unit: parse(UnitCode::parse(&r.try_get::<String, _>("unit")?))?,
            });
        }
        Ok(Directory::new(jurisdictions, units, categories, routes))
    }

    /// Inserts reference data into an empty database (the demo) in one transaction.
    pub async fn insert_reference(
        &self,
        jurisdictions: &[Jurisdiction],
        units: &[Unit],
        categories: &[Category],
        routes: &[RouteRule],
    ) -> Result<(), StoreError> {
        self.write_reference(&ReferenceWrite {
            jurisdictions: jurisdictions.to_vec(),
            units: units.to_vec(),
            categories: categories.to_vec(),
            routes: routes.to_vec(),
            changes: Vec::new(),
        })
        .await
    }

    /// Upserts reference rows (matched by code) and records their changes, all in one
    /// transaction; parents are written before their children.
    /// A change of the unit tree recounts the per-unit KPI cells in the same transaction
    /// when it moves orders between them (see `anchors`).
    pub async fn write_reference(&self, w: &ReferenceWrite) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        // Before anything else: writers counting under the old tree finish first.
        let tree = match w.units.is_empty() {
            true => None,
            false => Some(crate::anchors::lock_tree(&mut tx, self.backend).await?),
        };
        let js = parents_first(&w.jurisdictions, |j| j.code.to_string(), |j| j.parent.as_ref().map(|p| p.to_string()));
        for j in &js {
            sqlx::query(
                "INSERT INTO jurisdictions (code, name, level, parent, active) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
                 parent = excluded.parent, active = excluded.active",
            )
            .bind(j.code.as_str())
            .bind(&j.name)
            .bind(j.level.as_str())
            .bind(opt(j.parent.as_ref().map(|p| p.as_str())))
            .bind(i64::from(j.active))
            .execute(&mut *tx)
            .await?;
        }
        let us = parents_first(&w.units, |u| u.code.to_string(), |u| u.parent.as_ref().map(|p| p.to_string()));
        for u in &us {
            sqlx::query(
                "INSERT INTO units (code, name, kind, parent, jurisdiction, active) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                 parent = excluded.parent, jurisdiction = excluded.jurisdiction, active = excluded.active",
            )
            .bind(u.code.as_str())
            .bind(&u.name)
            .bind(u.kind.as_str())
            .bind(opt(u.parent.as_ref().map(|p| p.as_str())))
            .bind(opt(u.jurisdiction.as_ref().map(|p| p.as_str())))
            .bind(i64::from(u.active))
            .execute(&mut *tx)
            .await?;
        }
        let cs = parents_first(&w.categories, |c| c.code.to_string(), |c| c.parent.as_ref().map(|p| p.to_string()));
        for c in &cs {
            let spec = serde_json::to_string(&c.spec).map_err(corrupt)?;
            sqlx::query(
                "INSERT INTO categories (code, name, parent, position, leaf, active) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent, \
                 position = excluded.position, leaf = excluded.leaf, active = excluded.active",
            )
            .bind(c.code.as_str())
            .bind(&c.name)
            .bind(opt(c.parent.as_ref().map(|p| p.as_str())))
            .bind(c.position)
            .bind(spec)
            .bind(i64::from(c.active))
            .execute(&mut *tx)
            .await?;
        }
        for r in &w.routes {
            sqlx::query(
                "INSERT INTO routes (category, jurisdiction, unit) VALUES ($1, $2, $3) \
                 ON CONFLICT (category, jurisdiction) DO UPDATE SET unit = excluded.unit",
            )
            .bind(r.category.as_str())
            .bind(r.jurisdiction.as_ref().map(|j| j.as_str()).unwrap_or(""))
            .bind(r.unit.as_str())
            .execute(&mut *tx)
            .await?;
        }
        for c in &w.changes {
            insert_change(&mut tx, c).await?;
        }
        if let Some(version) = tree {
            crate::anchors::tree_changed(&mut tx, self.backend, &self.calendar_for_days(), &version).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes one row of the routing catalogue (a route is a rule, not a record orders
    /// refer to), recording the change.
    pub async fn delete_route(
        &self,
        category: &CategoryCode,
        jurisdiction: Option<&JurisdictionCode>,
        change: &AdminChange,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query("DELETE FROM routes WHERE category = $1 AND jurisdiction = $2")
            .bind(category.as_str())
            .bind(jurisdiction.map(|j| j.as_str()).unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            insert_change(&mut tx, change).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// The categories that orders carry.
    pub async fn categories_in_use(&self) -> Result<std::collections::BTreeSet<CategoryCode>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT category FROM orders").fetch_all(&self.pool).await?;
        rows.iter().map(|r| parse(CategoryCode::parse(&r.try_get::<String, _>("category")?))).collect()
    }

    /// The recorded changes of one item (or of every item of a kind when `code` is `None`),
    /// newest first.
    pub async fn admin_changes(
        &self,
        kind: Option<&str>,
        code: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AdminChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor, kind, code, action, before, after FROM admin_changes \
             WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR code = $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(kind.unwrap_or(""))
        .bind(code.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AdminChange {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    kind: r.try_get("kind")?,
                    code: r.try_get("code")?,
                    action: r.try_get("action")?,
                    before: r.try_get("before")?,
                    after: r.try_get("after")?,
                })
            })
            .collect()
    }
}
