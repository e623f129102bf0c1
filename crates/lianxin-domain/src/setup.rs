//! Setting up a city: checks proposed reference rows (an import file, or one edit in the
//! admin console) against what is stored, and says what would change. Nothing is ever
//! deleted: a row absent from a file stays as it is; deactivating is an edit.
//!
//! Every problem is reported with the line and column it comes from, so that a whole file
//! is either accepted or refused with every bad row named.

use crate::model::*;
use crate::reference::{Category, Directory, Jurisdiction, RouteRule, Unit};
use std::collections::{BTreeMap, BTreeSet};

/// One problem with one row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowError {
    /// The line in the file (the header is line 1); for JSON, the item's position from 1.
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl RowError {
    pub fn new(line: usize, column: &str, message: impl Into<String>) -> RowError {
        RowError { line, column: column.to_owned(), message: message.into() }
    }
}

/// What applying some rows would do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<T> {
    pub created: Vec<T>,
    /// `(before, after)`.
    pub updated: Vec<(T, T)>,
    pub unchanged: usize,
}

impl<T> Plan<T> {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty()
    }
}

impl<T> Default for Plan<T> {
    fn default() -> Self {
        Plan { created: Vec::new(), updated: Vec::new(), unchanged: 0 }
    }
}

/// Sorts rows into created, updated and unchanged against what is stored.
fn diff<T: Clone + PartialEq>(rows: &[(usize, T)], stored: impl Fn(&T) -> Option<T>) -> Plan<T> {
    let mut plan = Plan::default();
    for (_, row) in rows {
        match stored(row) {
            None => plan.created.push(row.clone()),
            Some(before) if before == *row => plan.unchanged += 1,
            Some(before) => plan.updated.push((before, row.clone())),
        }
    }
    plan
}

/// Reports codes given twice in one file.
fn duplicates<K: Ord + Clone + std::fmt::Display>(
    rows: impl Iterator<Item = (usize, K)>,
    column: &str,
    errs: &mut Vec<RowError>,
) {
    let mut seen: BTreeMap<K, usize> = BTreeMap::new();
    for (line, key) in rows {
        if let Some(first) = seen.get(&key) {
            errs.push(RowError::new(line, column, format!("duplicate `{key}`: also on line {first}")));
        } else {
            seen.insert(key, line);
        }
    }
}

/// Finds every node of a parent map that lies on a cycle, reporting it on its line.
fn cycles<K: Ord + Clone + std::fmt::Display>(
    parents: &BTreeMap<K, Option<K>>,
    lines: &BTreeMap<K, usize>,
    errs: &mut Vec<RowError>,
) {
    let mut on_cycle: BTreeSet<K> = BTreeSet::new();
    for start in lines.keys() {
        let mut path: Vec<K> = vec![start.clone()];
        let mut cur = parents.get(start).cloned().flatten();
        while let Some(p) = cur {
            if let Some(pos) = path.iter().position(|k| *k == p) {
                on_cycle.extend(path[pos..].iter().cloned());
                break;
            }
            if path.len() > parents.len() {
                break;
            }
            path.push(p.clone());
            cur = parents.get(&p).cloned().flatten();
        }
    }
    for k in on_cycle {
        if let Some(line) = lines.get(&k) {
            errs.push(RowError::new(*line, "parent", format!("`{k}` would be its own ancestor (a cycle in the tree)")));
        }
    }
}

fn finish<T>(plan: Plan<T>, mut errs: Vec<RowError>) -> Result<Plan<T>, Vec<RowError>> {
    if errs.is_empty() {
        Ok(plan)
    } else {
        errs.sort();
        errs.dedup();
        Err(errs)
    }
}

fn level_rank(l: JurisdictionLevel) -> u8 {
    match l {
        JurisdictionLevel::City => 0,
        JurisdictionLevel::District => 1,
        JurisdictionLevel::Street => 2,
        JurisdictionLevel::Community => 3,
    }
}

/// Checks jurisdiction rows: known parents, no cycle, the city alone without a parent, and
/// each node one level below its parent (district under the city, street under a district,
/// community under a street).
pub fn plan_jurisdictions(
    dir: &Directory,
    rows: &[(usize, Jurisdiction)],
) -> Result<Plan<Jurisdiction>, Vec<RowError>> {
    let mut errs = Vec::new();
    duplicates(rows.iter().map(|(l, j)| (*l, j.code.clone())), "code", &mut errs);
    let mut merged: BTreeMap<JurisdictionCode, Jurisdiction> =
        dir.jurisdictions().map(|j| (j.code.clone(), j.clone())).collect();
    let mut lines = BTreeMap::new();
    for (line, j) in rows {
        merged.insert(j.code.clone(), j.clone());
        lines.insert(j.code.clone(), *line);
    }
    let parents = merged.iter().map(|(k, j)| (k.clone(), j.parent.clone())).collect();
    cycles(&parents, &lines, &mut errs);
    let cities: Vec<&Jurisdiction> = merged.values().filter(|j| j.level == JurisdictionLevel::City).collect();
    for (line, j) in rows {
        match (&j.parent, j.level) {
            (None, JurisdictionLevel::City) => {
                if let Some(other) = cities.iter().find(|c| c.code != j.code) {
                    errs.push(RowError::new(*line, "level", format!("there is already a city, `{}`", other.code)));
                }
            }
            (None, level) => errs.push(RowError::new(*line, "parent", format!("a {level} needs a parent"))),
            (Some(_), JurisdictionLevel::City) => errs.push(RowError::new(*line, "parent", "the city has no parent")),
            (Some(p), level) => match merged.get(p) {
                None => errs.push(RowError::new(*line, "parent", format!("unknown parent `{p}`"))),
                Some(parent) if level_rank(parent.level) + 1 != level_rank(level) => errs.push(RowError::new(
                    *line,
                    "parent",
                    format!("a {level} cannot lie directly under `{p}`, a {}", parent.level),
                )),
                Some(_) => {}
            },
        }
    }
    finish(diff(rows, |j| dir.jurisdiction(&j.code).cloned()), errs)
}

/// Checks unit rows: known parents, no cycle, known jurisdictions.
pub fn plan_units(dir: &Directory, rows: &[(usize, Unit)]) -> Result<Plan<Unit>, Vec<RowError>> {
    let mut errs = Vec::new();
    duplicates(rows.iter().map(|(l, u)| (*l, u.code.clone())), "code", &mut errs);
    let mut parents: BTreeMap<UnitCode, Option<UnitCode>> =
        dir.units().map(|u| (u.code.clone(), u.parent.clone())).collect();
    let mut lines = BTreeMap::new();
    for (line, u) in rows {
        parents.insert(u.code.clone(), u.parent.clone());
        lines.insert(u.code.clone(), *line);
    }
    cycles(&parents, &lines, &mut errs);
    for (line, u) in rows {
        if let Some(p) = &u.parent
            && !parents.contains_key(p)
        {
            errs.push(RowError::new(*line, "parent", format!("unknown parent `{p}`")));
        }
        if let Some(j) = &u.jurisdiction
            && dir.jurisdiction(j).is_none()
        {
            errs.push(RowError::new(*line, "jurisdiction", format!("unknown jurisdiction `{j}`")));
        }
    }
    finish(diff(rows, |u| dir.unit(&u.code).cloned()), errs)
}

/// Checks category rows: known parents, no cycle, and no category that orders carry turning
/// into a group (`in_use`: the categories orders carry).
pub fn plan_categories(
    dir: &Directory,
    rows: &[(usize, Category)],
    in_use: &BTreeSet<CategoryCode>,
) -> Result<Plan<Category>, Vec<RowError>> {
    let mut errs = Vec::new();
    duplicates(rows.iter().map(|(l, c)| (*l, c.code.clone())), "code", &mut errs);
    let mut parents: BTreeMap<CategoryCode, Option<CategoryCode>> =
        dir.categories().map(|c| (c.code.clone(), c.parent.clone())).collect();
    let mut lines = BTreeMap::new();
    for (line, c) in rows {
        parents.insert(c.code.clone(), c.parent.clone());
        lines.insert(c.code.clone(), *line);
    }
    cycles(&parents, &lines, &mut errs);
    for (line, c) in rows {
        if let Some(p) = &c.parent {
            if !parents.contains_key(p) {
                errs.push(RowError::new(*line, "parent", format!("unknown parent `{p}`")));
            } else if in_use.contains(p) {
                errs.push(RowError::new(
                    *line,
                    "parent",
                    format!("`{p}` is the category of existing orders, so it cannot become a group"),
                ));
            }
        }
    }
    // Rows keep their stored position; new rows go after their siblings in file order.
    let mut next: BTreeMap<Option<CategoryCode>, i64> = BTreeMap::new();
    for c in dir.categories() {
        let e = next.entry(c.parent.clone()).or_insert(0);
        *e = (*e).max(c.position + 1);
    }
    let rows: Vec<(usize, Category)> = rows
        .iter()
        .map(|(line, c)| {
            let mut c = c.clone();
            c.leaf = None;
            c.position = match dir.category(&c.code) {
                Some(s) if s.parent == c.parent => s.position,
                _ => {
                    let e = next.entry(c.parent.clone()).or_insert(0);
                    *e += 1;
                    *e - 1
                }
            };
            (*line, c)
        })
        .collect();
    let stored = |c: &Category| {
        dir.category(&c.code).cloned().map(|mut s| {
            s.leaf = None;
            s
        })
    };
    finish(diff(&rows, stored), errs)
}

/// Checks routing rows: a known category, a district or street (or anywhere), and a known
/// unit that can handle orders; one row per category and place.
pub fn plan_routes(dir: &Directory, rows: &[(usize, RouteRule)]) -> Result<Plan<RouteRule>, Vec<RowError>> {
    let mut errs = Vec::new();
    duplicates(
        rows.iter().map(|(l, r)| {
            (*l, format!("{} {}", r.category, r.jurisdiction.as_ref().map(|j| j.as_str()).unwrap_or("(anywhere)")))
        }),
        "category",
        &mut errs,
    );
    for (line, r) in rows {
        if dir.category(&r.category).is_none() {
            errs.push(RowError::new(*line, "category", format!("unknown category `{}`", r.category)));
        }
        if let Some(j) = &r.jurisdiction {
            match dir.jurisdiction(j) {
                None => errs.push(RowError::new(*line, "jurisdiction", format!("unknown jurisdiction `{j}`"))),
                Some(x) if !matches!(x.level, JurisdictionLevel::District | JurisdictionLevel::Street) => {
                    errs.push(RowError::new(
                        *line,
                        "jurisdiction",
                        format!("`{j}` is a {}; give a district or a street", x.level),
                    ))
                }
                Some(_) => {}
            }
        }
        match dir.unit(&r.unit) {
            None => errs.push(RowError::new(*line, "unit", format!("unknown unit `{}`", r.unit))),
            Some(u) if !u.kind.can_handle() => errs.push(RowError::new(
                *line,
                "unit",
                format!("`{}` is a {}, which cannot handle orders", r.unit, u.kind),
            )),
            Some(_) => {}
        }
    }
    let stored =
        |r: &RouteRule| dir.routes().find(|s| s.category == r.category && s.jurisdiction == r.jurisdiction).cloned();
    finish(diff(rows, stored), errs)
}
