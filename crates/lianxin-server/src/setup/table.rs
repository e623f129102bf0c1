//! Reading and writing the files of `import` and `export`: CSV (UTF-8, a header row,
//! columns in any order) or JSON (an array of objects with the same keys).

use lianxin_domain::setup::RowError;
use std::collections::BTreeMap;

/// The format of an import or export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// JSON for a name ending in `.json`, CSV otherwise.
    pub fn of_path(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".json") { Format::Json } else { Format::Csv }
    }
}

/// One row: its line (CSV: the file line, the header being line 1; JSON: the item's
/// position from 1) and its non-empty cells by column.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub cells: BTreeMap<String, String>,
}

impl Row {
    /// A cell, trimmed; `None` when empty or absent (not given).
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cells.get(column).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

/// Reads a file into rows, refusing text that is not UTF-8, unknown columns and missing
/// required columns (all reported together, nothing half-read).
pub fn read(bytes: &[u8], format: Format, known: &[&str], required: &[&str]) -> Result<Vec<Row>, Vec<RowError>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(vec![RowError::new(
                line,
                "",
                format!("the file is not UTF-8 (byte {}); save it as UTF-8 and try again", e.valid_up_to() + 1),
            )]);
        }
    };
    let (columns, rows) = match format {
        Format::Csv => read_csv(text)?,
        Format::Json => read_json(text)?,
    };
    let mut errs = Vec::new();
    for row in &rows {
        for (column, text) in &row.cells {
            if let Err(m) = lianxin_domain::text::check(text) {
                errs.push(RowError::new(row.line, column, m));
            }
        }
    }
    for c in &columns {
        if !known.contains(&c.as_str()) {
            errs.push(RowError::new(1, c, format!("unknown column `{c}`; the columns are: {}", known.join(", "))));
        }
    }
    match format {
        Format::Csv => {
            for r in required {
                if !columns.iter().any(|c| c == r) {
                    errs.push(RowError::new(1, r, format!("the required column `{r}` is missing")));
                }
            }
        }
        Format::Json => {
            for row in &rows {
                for r in required {
                    if !row.cells.contains_key(*r) {
                        errs.push(RowError::new(row.line, r, format!("`{r}` is required")));
                    }
                }
            }
        }
    }
    if errs.is_empty() { Ok(rows) } else { Err(errs) }
}

fn read_csv(text: &str) -> Result<(Vec<String>, Vec<Row>), Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let columns: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Err(e) => return Err(vec![RowError::new(1, "", format!("cannot read the header row: {e}"))]),
    };
    if columns.iter().all(|c| c.is_empty()) {
        return Err(vec![RowError::new(1, "", "the file has no header row")]);
    }
    let mut dup = std::collections::BTreeSet::new();
    let mut errs = Vec::new();
    for c in &columns {
        if !dup.insert(c.clone()) {
            errs.push(RowError::new(1, c, format!("the column `{c}` is given twice")));
        }
    }
    let mut rows = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map(|p| p.line() as usize).unwrap_or(0);
                if r.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let cells = columns.iter().cloned().zip(r.iter().map(str::to_owned)).collect();
                rows.push(Row { line, cells });
            }
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("the row has {len} cells, the header {expected_len}")
                    }
                    _ => e.to_string(),
                };
                errs.push(RowError::new(line, "", message));
            }
        }
    }
    if errs.is_empty() { Ok((columns, rows)) } else { Err(errs) }
}

fn read_json(text: &str) -> Result<(Vec<String>, Vec<Row>), Vec<RowError>> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| vec![RowError::new(e.line(), "", format!("not valid JSON: {e}"))])?;
    let serde_json::Value::Array(items) = value else {
        return Err(vec![RowError::new(1, "", "a JSON import is an array of objects")]);
    };
    let mut columns = std::collections::BTreeSet::new();
    let mut rows = Vec::new();
    let mut errs = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let line = i + 1;
        let serde_json::Value::Object(obj) = item else {
            errs.push(RowError::new(line, "", "each item must be an object"));
            continue;
        };
        let mut cells = BTreeMap::new();
        for (k, v) in obj {
            columns.insert(k.clone());
            let text = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Array(a) => {
                    let parts: Option<Vec<String>> = a.iter().map(|x| x.as_str().map(str::to_owned)).collect();
                    match parts {
                        Some(p) => p.join("|"),
                        None => {
                            errs.push(RowError::new(line, &k, "a list must hold strings"));
                            continue;
                        }
                    }
                }
                serde_json::Value::Object(_) => {
                    errs.push(RowError::new(line, &k, "must be a string, number, boolean or list"));
                    continue;
                }
            };
            cells.insert(k, text);
        }
        rows.push(Row { line, cells });
    }
    if errs.is_empty() { Ok((columns.into_iter().collect(), rows)) } else { Err(errs) }
}

/// Writes rows (each a cell per column, `""` for not given) as CSV or JSON.
pub fn write(columns: &[&str], rows: &[Vec<String>], format: Format) -> Vec<u8> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            // Writing to memory cannot fail.
            let _ = w.write_record(columns);
            for r in rows {
                let _ = w.write_record(r);
            }
            w.into_inner().unwrap_or_default()
        }
        Format::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let obj: serde_json::Map<String, serde_json::Value> = columns
                        .iter()
                        .zip(r)
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(c, v)| ((*c).to_owned(), serde_json::Value::String(v.clone())))
                        .collect();
                    serde_json::Value::Object(obj)
                })
                .collect();
            let mut out = serde_json::to_vec_pretty(&items).unwrap_or_default();
            out.push(b'\n');
            out
        }
    }
}
