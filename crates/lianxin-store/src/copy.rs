//! `db copy`: moves a whole database to another (typically SQLite → PostgreSQL), table by
//! table in pages, parents before children. Rows are copied verbatim, so event hash chains
//! still verify on the target.

use crate::sql::{Param, Sql};
use crate::{Store, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Int,
}

/// A copied table: its columns with their types, and the key that orders its pages.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Ty)],
    order_by: &'static str,
}

use Ty::*;

/// In dependency order. Sessions are not copied: users sign in again on the new database.
const TABLES: &[Table] = &[
    Table { name: "meta", columns: &[("key", Text), ("value", Text)], order_by: "key" },
    Table {
        name: "jurisdictions",
        columns: &[("code", Text), ("name", Text), ("level", Text), ("parent", Text), ("active", Int)],
        order_by: "code",
    },
    Table {
        name: "units",
        columns: &[
            ("code", Text),
            ("name", Text),
            ("kind", Text),
            ("parent", Text),
            ("jurisdiction", Text),
            ("active", Int),
        ],
        order_by: "code",
    },
    Table {
        name: "categories",
        columns: &[
            ("code", Text),
            ("name", Text),
            ("parent", Text),
            ("position", Int),
            ("leaf", Text),
            ("active", Int),
        ],
        order_by: "code",
    },
    Table {
        name: "routes",
        columns: &[("category", Text), ("jurisdiction", Text), ("unit", Text)],
        order_by: "category, jurisdiction",
    },
    Table {
        name: "users",
        columns: &[
            ("username", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("roles", Text),
            ("unit", Text),
            ("active", Int),
            ("created_at", Int),
        ],
        order_by: "username",
    },
    Table { name: "order_counters", columns: &[("day", Text), ("last", Int)], order_by: "day" },
    Table {
        name: "orders",
        columns: &[
            ("number", Text),
            ("status", Text),
            ("channel", Text),
            ("request_type", Text),
            ("category", Text),
            ("urgency", Text),
            ("caller_phone", Text),
            ("confidential", Int),
            ("street", Text),
            ("district", Text),
            ("lead_unit", Text),
            ("deadline", Int),
            ("sign_deadline", Int),
            ("created_at", Int),
            ("updated_at", Int),
            ("closed_at", Int),
            ("version", Int),
            ("last_hash", Text),
            ("data", Text),
            ("dispatched_at", Int),
            ("callback_deadline", Int),
            ("warn_level", Int),
            ("qa_status", Text),
            ("warn_at", Int),
            ("source_ref", Text),
        ],
        order_by: "number",
    },
    Table {
        name: "order_units",
        columns: &[("number", Text), ("unit", Text), ("role", Text)],
        order_by: "number, unit",
    },
    Table {
        name: "events",
        columns: &[
            ("number", Text),
            ("seq", Int),
            ("at", Int),
            ("actor", Text),
            ("unit", Text),
            ("action", Text),
            ("from_status", Text),
            ("to_status", Text),
            ("comment", Text),
            ("payload", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
        order_by: "number, seq",
    },
    Table {
        name: "kpi_rollup",
        columns: &[("dim", Text), ("day", Text), ("key", Text), ("counter", Text), ("value", Int)],
        order_by: "dim, day, key, counter",
    },
    Table {
        name: "notifications",
        columns: &[
            ("id", Text),
            ("number", Text),
            ("at", Int),
            ("recipient_kind", Text),
            ("recipient", Text),
            ("kind", Text),
            ("message", Text),
        ],
        order_by: "id",
    },
    Table {
        name: "notification_reads",
        columns: &[("id", Text), ("username", Text), ("at", Int)],
        order_by: "id, username",
    },
    Table {
        name: "audit_log",
        columns: &[("at", Int), ("actor", Text), ("action", Text), ("subject", Text), ("detail", Text)],
        order_by: "id",
    },
    Table {
        name: "admin_changes",
        columns: &[
            ("at", Int),
            ("actor", Text),
            ("kind", Text),
            ("code", Text),
            ("action", Text),
            ("before", Text),
            ("after", Text),
        ],
        order_by: "id",
    },
    Table {
        name: "login_attempts",
        columns: &[("at", Int), ("username", Text), ("address", Text), ("outcome", Text), ("via", Text)],
        order_by: "id",
    },
];

/// Tree tables whose rows must be inserted parents first.
fn parent_column(table: &str) -> Option<usize> {
    match table {
        "jurisdictions" => Some(3),
        "units" => Some(3),
        "categories" => Some(2),
        _ => None,
    }
}

const PAGE: i64 = 2000;

#[derive(Debug, Clone)]
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

fn read(row: &AnyRow, columns: &[(&str, Ty)]) -> Result<Vec<Value>, StoreError> {
    columns
        .iter()
        .map(|(c, t)| {
            Ok(match t {
                Text => Value::Text(row.try_get(*c)?),
                Int => Value::Int(row.try_get(*c)?),
            })
        })
        .collect()
}

/// Row counts per table, as copied.
pub type CopyReport = BTreeMap<String, i64>;

impl Store {
    /// Whether the database holds any data (reference data, users or orders).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        for t in ["units", "users", "orders", "events", "jurisdictions", "categories"] {
            let sql = Sql::new(&format!("SELECT COUNT(*) AS n FROM {t}"));
            let n: i64 = sql.query().fetch_one(&self.pool).await?.try_get("n")?;
            if n > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Deletes every row (for `db copy --replace`), children first.
    pub async fn clear(&self) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for t in ["sessions"].iter().chain(TABLES.iter().rev().map(|t| &t.name)) {
            if matches!(*t, "jurisdictions" | "units" | "categories") {
                // Self-referencing: clear the parent links first.
                Sql::new(&format!("UPDATE {t} SET parent = NULL")).query().execute(&mut *tx).await?;
                if *t == "units" {
                    Sql::new("UPDATE units SET jurisdiction = NULL").query().execute(&mut *tx).await?;
                }
            }
            Sql::new(&format!("DELETE FROM {t}")).query().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Copies every table into `target`, which must be empty unless `replace` (then it is
    /// cleared first). Returns the rows copied per table.
    pub async fn copy_to(&self, target: &Store, replace: bool) -> Result<CopyReport, StoreError> {
        if !target.is_empty().await? {
            if !replace {
                return Err(StoreError::Conflict(
                    "the target database is not empty; pass --replace to delete its data and copy over it".into(),
                ));
            }
            target.clear().await?;
        }
        let mut report = CopyReport::new();
        for table in TABLES {
            let cols: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
            let select = format!("SELECT {} FROM {} ORDER BY {}", cols.join(", "), table.name, table.order_by);
            let mut count = 0i64;
            let mut offset = 0i64;
            let mut tree_rows: Vec<Vec<Value>> = Vec::new();
            loop {
                let mut q = Sql::new(&select);
                q.push(" LIMIT ").int(PAGE).push(" OFFSET ").int(offset);
                let rows = q.query().fetch_all(&self.pool).await?;
                if rows.is_empty() {
                    break;
                }
                offset += rows.len() as i64;
                let values = rows.iter().map(|r| read(r, table.columns)).collect::<Result<Vec<_>, _>>()?;
                if parent_column(table.name).is_some() {
                    tree_rows.extend(values);
                    continue;
                }
                count += values.len() as i64;
                target.insert_rows(table, &values).await?;
            }
            if let Some(pc) = parent_column(table.name) {
                let ordered = parents_first(tree_rows, pc);
                count += ordered.len() as i64;
                target.insert_rows(table, &ordered).await?;
            }
            report.insert(table.name.to_owned(), count);
        }
        Ok(report)
    }

    async fn insert_rows(&self, table: &Table, rows: &[Vec<Value>]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let cols: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
        // Several rows per statement, below every backend's parameter limit.
        let per_stmt = (900 / cols.len()).max(1);
        for chunk in rows.chunks(per_stmt) {
            let mut q = Sql::new(&format!("INSERT INTO {} ({}) VALUES ", table.name, cols.join(", ")));
            for (i, row) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                for (j, v) in row.iter().enumerate() {
                    if j > 0 {
                        q.push(", ");
                    }
                    match v {
                        Value::Text(Some(s)) => q.bind(Param::Text(s.clone())),
                        Value::Int(Some(n)) => q.bind(Param::Int(*n)),
                        Value::Text(None) | Value::Int(None) => q.push("NULL"),
                    };
                }
                q.push(")");
            }
            q.query().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Orders tree rows so that every parent comes before its children.
fn parents_first(rows: Vec<Vec<Value>>, parent_col: usize) -> Vec<Vec<Value>> {
    let key = |r: &Vec<Value>, i: usize| match &r[i] {
        Value::Text(Some(s)) => Some(s.clone()),
        _ => None,
    };
    let mut placed = std::collections::BTreeSet::new();
    let mut pending = rows;
    let mut out = Vec::with_capacity(pending.len());
    loop {
        let before = pending.len();
        let mut rest = Vec::new();
        for r in pending {
            match key(&r, parent_col) {
                Some(p) if !placed.contains(&p) => rest.push(r),
                _ => {
                    if let Some(k) = key(&r, 0) {
                        placed.insert(k);
                    }
                    out.push(r);
                }
            }
        }
        if rest.is_empty() || rest.len() == before {
            // A dangling parent cannot be ordered; insert it anyway and let the database say.
            out.extend(rest);
            return out;
        }
        pending = rest;
    }
}
