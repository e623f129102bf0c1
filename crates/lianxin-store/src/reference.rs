//! Reference data: jurisdictions, units and categories.

use crate::error::corrupt;
use crate::{Store, StoreError};
use lianxin_domain::reference::{Category, Directory, Jurisdiction, LeafInfo, Unit};
use lianxin_domain::*;
use sqlx::Row;

fn parse<T>(r: Result<T, String>) -> Result<T, StoreError> {
    r.map_err(corrupt)
}

impl Store {
    /// Loads all reference data into a [`Directory`].
    pub async fn load_directory(&self) -> Result<Directory, StoreError> {
        let mut jurisdictions = Vec::new();
        for r in sqlx::query("SELECT code, name, level, parent FROM jurisdictions").fetch_all(&self.pool).await? {
            let level: String = r.try_get("level")?;
            let parent: Option<String> = r.try_get("parent")?;
            jurisdictions.push(Jurisdiction {
                code: parse(JurisdictionCode::parse(&r.try_get::<String, _>("code")?))?,
                name: r.try_get("name")?,
                level: JurisdictionLevel::parse(&level)
                    .ok_or_else(|| corrupt(format!("jurisdiction level {level}")))?,
                parent: parent.map(|p| parse(JurisdictionCode::parse(&p))).transpose()?,
            });
        }
        let mut units = Vec::new();
        for r in sqlx::query("SELECT code, name, kind, parent, jurisdiction FROM units").fetch_all(&self.pool).await? {
            let kind: String = r.try_get("kind")?;
            let parent: Option<String> = r.try_get("parent")?;
            let jurisdiction: Option<String> = r.try_get("jurisdiction")?;
            units.push(Unit {
                code: parse(UnitCode::parse(&r.try_get::<String, _>("code")?))?,
                name: r.try_get("name")?,
                kind: UnitKind::parse(&kind).ok_or_else(|| corrupt(format!("unit kind {kind}")))?,
                parent: parent.map(|p| parse(UnitCode::parse(&p))).transpose()?,
                jurisdiction: jurisdiction.map(|j| parse(JurisdictionCode::parse(&j))).transpose()?,
            });
        }
        let mut categories = Vec::new();
        for r in sqlx::query("SELECT code, name, parent, position, leaf FROM categories").fetch_all(&self.pool).await? {
            let parent: Option<String> = r.try_get("parent")?;
            let leaf: Option<String> = r.try_get("leaf")?;
            categories.push(Category {
                code: parse(CategoryCode::parse(&r.try_get::<String, _>("code")?))?,
                name: r.try_get("name")?,
                parent: parent.map(|p| parse(CategoryCode::parse(&p))).transpose()?,
                position: r.try_get("position")?,
                leaf: leaf.map(|l| serde_json::from_str::<LeafInfo>(&l).map_err(corrupt)).transpose()?,
            });
        }
        Ok(Directory::new(jurisdictions, units, categories))
    }

    /// Inserts reference data in one transaction; parents must come before children.
    pub async fn insert_reference(
        &self,
        jurisdictions: &[Jurisdiction],
        units: &[Unit],
        categories: &[Category],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for j in jurisdictions {
            sqlx::query("INSERT INTO jurisdictions (code, name, level, parent) VALUES ($1, $2, $3, $4)")
                .bind(j.code.as_str())
                .bind(&j.name)
                .bind(j.level.as_str())
                .bind(j.parent.as_ref().map(|p| p.as_str().to_owned()))
                .execute(&mut *tx)
                .await?;
        }
        for u in units {
            sqlx::query("INSERT INTO units (code, name, kind, parent, jurisdiction) VALUES ($1, $2, $3, $4, $5)")
                .bind(u.code.as_str())
                .bind(&u.name)
                .bind(u.kind.as_str())
                .bind(u.parent.as_ref().map(|p| p.as_str().to_owned()))
                .bind(u.jurisdiction.as_ref().map(|p| p.as_str().to_owned()))
                .execute(&mut *tx)
                .await?;
        }
        for c in categories {
            let leaf = c.leaf.as_ref().map(|l| serde_json::to_string(l).map_err(corrupt)).transpose()?;
            sqlx::query("INSERT INTO categories (code, name, parent, position, leaf) VALUES ($1, $2, $3, $4, $5)")
                .bind(c.code.as_str())
                .bind(&c.name)
                .bind(c.parent.as_ref().map(|p| p.as_str().to_owned()))
                .bind(c.position)
                .bind(leaf)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
