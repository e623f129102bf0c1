//! `db copy`: moves a whole database to another (typically SQLite → PostgreSQL), table by
//! table, parents before children, streaming each table from one snapshot of the source in
//! bounded memory. Rows are copied verbatim, so event hash chains still verify on the target.

use crate::scan::Progress;
use crate::sql::Sql;
use crate::{Backend, Store, StoreError};
use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection, Row};
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
            ("address", Text),
            ("replied_at", Int),
            ("extension_at", Int),
            ("change_seq", Int),
        ],
        order_by: "number",
    },
    Table { name: "change_head", columns: &[("id", Int), ("last", Int)], order_by: "id" },
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
    Table {
        name: "search_words",
        columns: &[("word", Text), ("created_by", Text), ("created_at", Int)],
        order_by: "word",
    },
    Table {
        name: "search_synonyms",
        columns: &[("word", Text), ("grp", Text), ("created_by", Text), ("created_at", Int)],
        order_by: "word",
    },
    Table {
        name: "kb_articles",
        columns: &[
            ("id", Text),
            ("title", Text),
            ("body", Text),
            ("categories", Text),
            ("unit", Text),
            ("tags", Text),
            ("valid_from", Text),
            ("valid_to", Text),
            ("version", Int),
            ("active", Int),
            ("updated_at", Int),
            ("updated_by", Text),
        ],
        order_by: "id",
    },
    Table {
        name: "kb_versions",
        columns: &[
            ("id", Text),
            ("version", Int),
            ("title", Text),
            ("body", Text),
            ("categories", Text),
            ("unit", Text),
            ("tags", Text),
            ("valid_from", Text),
            ("valid_to", Text),
            ("active", Int),
            ("edited_at", Int),
            ("edited_by", Text),
        ],
        order_by: "id, version",
    },
    Table {
        name: "intake_templates",
        columns: &[("category", Text), ("name", Text), ("body", Text), ("updated_at", Int), ("updated_by", Text)],
        order_by: "category",
    },
    Table {
        name: "referrals",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("handles", Text),
            ("phone", Text),
            ("address", Text),
            ("hours", Text),
            ("keywords", Text),
            ("active", Int),
            ("updated_at", Int),
            ("updated_by", Text),
        ],
        order_by: "id",
    },
    Table {
        name: "announcements",
        columns: &[
            ("id", Text),
            ("title", Text),
            ("body", Text),
            ("kind", Text),
            ("districts", Text),
            ("streets", Text),
            ("starts_at", Int),
            ("ends_at", Int),
            ("unit", Text),
            ("created_by", Text),
            ("updated_at", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "incidents",
        columns: &[
            ("id", Text),
            ("title", Text),
            ("category", Text),
            ("district", Text),
            ("status", Text),
            ("created_at", Int),
            ("confirmed_at", Int),
            ("confirmed_by", Text),
            ("replied_at", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "incident_orders",
        columns: &[("number", Text), ("incident_id", Text), ("added_at", Int), ("added_by", Text)],
        order_by: "number",
    },
    Table {
        name: "problems",
        columns: &[
            ("id", Text),
            ("title", Text),
            ("description", Text),
            ("category", Text),
            ("place", Text),
            ("status", Text),
            ("created_at", Int),
            ("created_by", Text),
            ("closed_at", Int),
        ],
        order_by: "id",
    },
    Table {
        name: "problem_orders",
        columns: &[("problem_id", Text), ("number", Text)],
        order_by: "problem_id, number",
    },
    Table {
        name: "problem_parts",
        columns: &[
            ("problem_id", Text),
            ("part", Int),
            ("unit", Text),
            ("task", Text),
            ("due_day", Text),
            ("done_at", Int),
            ("done_by", Text),
        ],
        order_by: "problem_id, part",
    },
    Table {
        name: "problem_reports",
        columns: &[
            ("problem_id", Text),
            ("seq", Int),
            ("part", Int),
            ("kind", Text),
            ("note", Text),
            ("at", Int),
            ("by_user", Text),
        ],
        order_by: "problem_id, seq",
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

/// Rows handed to the target a transaction (one commit each), at most.
const BATCH_ROWS: usize = 20_000;
/// Bytes of values a batch, at most: two batches wait while one is read and one written.
const BATCH_BYTES: usize = 8 << 20;
/// Parameters a statement (SQLite allows 32,766, PostgreSQL 65,535).
const PARAMS: usize = 4000;

#[derive(Debug, Clone)]
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Value {
    fn bytes(&self) -> usize {
        std::mem::size_of::<Value>()
            + match self {
                Value::Text(Some(s)) => s.len(),
                _ => 0,
            }
    }
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
        self.copy_to_with(target, replace, &mut |_| {}).await
    }

    /// [`Store::copy_to`], telling `progress` after every batch. The source is read as one
    /// snapshot, each table as one stream, and written in batches of multi-row statements,
    /// reading the next batch while the last is written; memory holds a few batches whatever
    /// the size of the database.
    pub async fn copy_to_with(
        &self,
        target: &Store,
        replace: bool,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<CopyReport, StoreError> {
        if !target.is_empty().await? && !replace {
            return Err(StoreError::Conflict(
                "the target database is not empty; pass --replace to delete its data and copy over it".into(),
            ));
        }
        // Even an empty target has the rows its migrations made (its own identity, the
        // change head): the source's replace them.
        target.clear().await?;
        let _turn = target.write_turn().await;
        let mut source = self.scan_connection().await?;
        self.begin_snapshot(&mut source).await?;
        let mut sink = target.bulk_connection().await?;
        // PostgreSQL takes the rows through COPY, on a connection of its own (the pool's are
        // driver-neutral and cannot speak COPY).
        let mut copy_in = match target.backend {
            Backend::Postgres => Some(<sqlx::PgConnection as Connection>::connect(&target.url).await?),
            Backend::Sqlite => None,
        };
        let result = self.copy_tables(&mut source, target, &mut sink, copy_in.as_mut(), progress).await;
        if let Some(pg) = copy_in {
            pg.close().await?;
        }
        self.end_snapshot(&mut source).await?;
        self.end_scan(source).await?;
        target.end_bulk(sink).await?;
        result
    }

    async fn copy_tables(
        &self,
        source: &mut AnyConnection,
        target: &Store,
        sink: &mut AnyConnection,
        mut copy_in: Option<&mut sqlx::PgConnection>,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<CopyReport, StoreError> {
        let mut report = CopyReport::new();
        for table in TABLES {
            let count = Sql::new(&format!("SELECT COUNT(*) AS n FROM {}", table.name));
            let total: i64 = count.query().fetch_one(&mut *source).await?.try_get("n")?;
            let cols: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
            let select =
                Sql::new(&format!("SELECT {} FROM {} ORDER BY {}", cols.join(", "), table.name, table.order_by));
            if let Some(pc) = parent_column(table.name) {
                // Reference trees are small; they are ordered parents first in memory.
                let rows = select.query().fetch_all(&mut *source).await?;
                let values = rows.iter().map(|r| read(r, table.columns)).collect::<Result<Vec<_>, _>>()?;
                let ordered = parents_first(values, pc);
                let n = ordered.len() as i64;
                match copy_in.as_deref_mut() {
                    Some(pg) => copy_batch(pg, table, ordered).await?,
                    None => target.insert_batch(sink, table, ordered).await?,
                }
                progress(Progress { what: table.name, done: n, total });
                report.insert(table.name.to_owned(), n);
                continue;
            }
            let (batches, mut ready) = tokio::sync::mpsc::channel::<Vec<Vec<Value>>>(2);
            let src = &mut *source;
            let reader = async move {
                let mut rows = select.query().fetch(src);
                let mut batch = Vec::new();
                let mut bytes = 0usize;
                while let Some(row) = rows.try_next().await? {
                    let values = read(&row, table.columns)?;
                    bytes += values.iter().map(Value::bytes).sum::<usize>();
                    batch.push(values);
                    if batch.len() >= BATCH_ROWS || bytes >= BATCH_BYTES {
                        bytes = 0;
                        if batches.send(std::mem::take(&mut batch)).await.is_err() {
                            // The writer failed and says why.
                            return Ok(());
                        }
                    }
                }
                if !batch.is_empty() {
                    let _ = batches.send(batch).await;
                }
                Ok::<(), StoreError>(())
            };
            let snk = &mut *sink;
            let mut pg = copy_in.as_deref_mut();
            let progress = &mut *progress;
            let writer = async move {
                let mut n = 0i64;
                while let Some(batch) = ready.recv().await {
                    n += batch.len() as i64;
                    match pg.as_deref_mut() {
                        Some(pg) => copy_batch(pg, table, batch).await?,
                        None => target.insert_batch(snk, table, batch).await?,
                    }
                    progress(Progress { what: table.name, done: n, total });
                }
                Ok::<i64, StoreError>(n)
            };
            let (read, written) = tokio::join!(reader, writer);
            let n = written?;
            read?;
            report.insert(table.name.to_owned(), n);
        }
        Ok(report)
    }

    /// A connection for writing a copy. On SQLite: commits are not synced one by one (the
    /// checkpoint in [`Store::end_bulk`] syncs them all: a copy that stops half way is made
    /// again with `--replace`), reads are not memory-mapped, and the page cache is larger.
    async fn bulk_connection(&self) -> Result<PoolConnection<Any>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Sqlite {
            for pragma in ["PRAGMA synchronous = NORMAL", "PRAGMA mmap_size = 0", "PRAGMA cache_size = -65536"] {
                sqlx::query(pragma).execute(&mut *conn).await?;
            }
        }
        Ok(conn)
    }

    /// Makes a copy durable and gives its connection the pool's settings back.
    async fn end_bulk(&self, mut conn: PoolConnection<Any>) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            for pragma in [
                "PRAGMA synchronous = FULL",
                "PRAGMA mmap_size = 268435456",
                "PRAGMA cache_size = -32768",
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ] {
                sqlx::query(pragma).execute(&mut *conn).await?;
            }
        }
        Ok(())
    }

    /// Inserts rows in one transaction, many a statement.
    async fn insert_batch(
        &self,
        conn: &mut AnyConnection,
        table: &Table,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let per_statement = (PARAMS / table.columns.len()).max(1);
        let full = insert_text(table, per_statement, self.backend);
        let mut tx = conn.begin().await?;
        let mut rows = rows.into_iter();
        loop {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
            if chunk.is_empty() {
                break;
            }
            let text =
                if chunk.len() == per_statement { full.clone() } else { insert_text(table, chunk.len(), self.backend) };
            let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
            for v in chunk.into_iter().flatten() {
                q = match v {
                    Value::Text(s) => q.bind(s),
                    Value::Int(i) => q.bind(i),
                };
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Writes rows into a PostgreSQL table with one `COPY … FROM STDIN` (its own transaction),
/// in COPY's text format.
async fn copy_batch(pg: &mut sqlx::PgConnection, table: &Table, rows: Vec<Vec<Value>>) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut buf = Vec::with_capacity(rows.iter().flatten().map(Value::bytes).sum::<usize>());
    for row in &rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            copy_value(&mut buf, v);
        }
        buf.push(b'\n');
    }
    let cols: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
    let statement = format!("COPY {} ({}) FROM STDIN", table.name, cols.join(", "));
    let mut copy = pg.copy_in_raw(&statement).await?;
    if let Err(e) = copy.send(buf).await {
        let _ = copy.abort(e.to_string()).await;
        return Err(e.into());
    }
    copy.finish().await?;
    Ok(())
}

/// One value in COPY's text format: `\N` for NULL; backslash, tab, newline and carriage
/// return escaped.
fn copy_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Text(None) | Value::Int(None) => buf.extend_from_slice(b"\\N"),
        Value::Int(Some(i)) => buf.extend_from_slice(i.to_string().as_bytes()),
        Value::Text(Some(s)) => {
            // Runs without a special byte go over in one piece.
            let bytes = s.as_bytes();
            let mut start = 0;
            for (i, b) in bytes.iter().enumerate() {
                let escaped: &[u8] = match b {
                    b'\\' => b"\\\\",
                    b'\t' => b"\\t",
                    b'\n' => b"\\n",
                    b'\r' => b"\\r",
                    _ => continue,
                };
                buf.extend_from_slice(&bytes[start..i]);
                buf.extend_from_slice(escaped);
                start = i + 1;
            }
            buf.extend_from_slice(&bytes[start..]);
        }
    }
}

/// `INSERT INTO table (columns) VALUES (…), …` for `rows` rows, with `?` placeholders on
/// SQLite (whose driver looks every `$n` up by name) and `$n` on PostgreSQL.
fn insert_text(table: &Table, rows: usize, backend: Backend) -> String {
    let cols: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
    let mut text = format!("INSERT INTO {} ({}) VALUES ", table.name, cols.join(", "));
    let mut n = 0;
    for r in 0..rows {
        text.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols.len() {
            if c > 0 {
                text.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Sqlite => text.push('?'),
                Backend::Postgres => {
                    text.push('$');
                    text.push_str(&n.to_string());
                }
            }
        }
        text.push(')');
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Value) -> String {
        let mut buf = Vec::new();
        copy_value(&mut buf, &v);
        String::from_utf8(buf).expect("COPY text is UTF-8")
    }

    #[test]
    fn copy_text_format_escapes_what_postgres_reads_as_structure() {
        assert_eq!(text(Value::Text(None)), "\\N");
        assert_eq!(text(Value::Int(None)), "\\N");
        assert_eq!(text(Value::Int(Some(-42))), "-42");
        // A literal backslash-N stays text, not NULL.
        assert_eq!(text(Value::Text(Some("\\N".into()))), "\\\\N");
        assert_eq!(text(Value::Text(Some("路灯\t不亮\n第二行\r\\".into()))), "路灯\\t不亮\\n第二行\\r\\\\");
        assert_eq!(text(Value::Text(Some(String::new()))), "");
    }
}
