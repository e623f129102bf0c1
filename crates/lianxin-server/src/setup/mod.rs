//! Setting up a city without touching SQL: `import` and `export` of jurisdictions, units,
//! categories, the routing catalogue, users and past orders (API.md, "Setting up a city"),
//! shared by the CLI, the admin API and the admin console.
//!
//! An import reads the whole file, checks every row against what is stored (through
//! [`lianxin_domain::setup`]), and writes all of it in one transaction or nothing; every
//! bad row is reported as `LINE: column: message`. Rows are matched by code, so importing
//! the same file again changes nothing. Every change is recorded in the admin history.

pub mod table;

use crate::auth::hash_password;
use lianxin_domain::calendar::{Calendar, TimeLimit};
use lianxin_domain::lifecycle::{self, Context, PastOrder, Policy};
use lianxin_domain::order::{Caller, Intake, Location};
use lianxin_domain::reference::{Category, CategorySpec, Directory, Jurisdiction, PartialLimits, RouteRule, Unit};
use lianxin_domain::setup::{self, Plan, RowError};
use lianxin_domain::*;
use lianxin_store::{AdminChange, ReferenceWrite, Store, StoreError, UserRecord, UserWrite};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use table::{Format, Row};

/// What can be imported and exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jurisdictions,
    Units,
    Categories,
    Routes,
    Users,
    Orders,
}

impl Kind {
    pub const ALL: &'static [Kind] =
        &[Kind::Jurisdictions, Kind::Units, Kind::Categories, Kind::Routes, Kind::Users, Kind::Orders];

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Jurisdictions => "jurisdictions",
            Kind::Units => "units",
            Kind::Categories => "categories",
            Kind::Routes => "routes",
            Kind::Users => "users",
            Kind::Orders => "orders",
        }
    }

    /// The name of one item in the admin history.
    pub fn item(self) -> &'static str {
        match self {
            Kind::Jurisdictions => "jurisdiction",
            Kind::Units => "unit",
            Kind::Categories => "category",
            Kind::Routes => "route",
            Kind::Users => "user",
            Kind::Orders => "order",
        }
    }

    /// The columns a file may have (`required` lists those it must have).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Jurisdictions => &["code", "name", "level", "parent", "active"],
            Kind::Units => &["code", "name", "kind", "parent", "jurisdiction", "active"],
            Kind::Categories => &[
                "code",
                "name",
                "parent",
                "limit_normal",
                "limit_urgent",
                "limit_emergency",
                "request_type",
                "prompts",
                "keywords",
                "active",
            ],
            Kind::Routes => &["category", "jurisdiction", "unit"],
            Kind::Users => &["username", "display_name", "roles", "unit", "active"],
            Kind::Orders => &[
                "source_ref",
                "created_at",
                "channel",
                "request_type",
                "category",
                "urgency",
                "title",
                "content",
                "caller_phone",
                "caller_name",
                "district",
                "street",
                "address",
                "lat",
                "lon",
                "lead_unit",
                "replied_at",
                "reply",
                "closed_at",
                "satisfaction",
            ],
        }
    }

    /// The columns a file must have.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Jurisdictions => &["code", "name", "level"],
            Kind::Units => &["code", "name", "kind"],
            Kind::Categories => &["code", "name"],
            Kind::Routes => &["category", "unit"],
            Kind::Users => &["username", "roles"],
            Kind::Orders => &["created_at", "request_type", "category", "content"],
        }
    }
}

/// One change an import makes (or would make, in a dry run).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeOut {
    pub code: String,
    /// `create` or `update`.
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub kind: String,
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Each change with its row before and after (the first 500).
    pub changes: Vec<ChangeOut>,
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportError {
    /// Bad rows, every one named.
    Rows(Vec<RowError>),
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
    }
}

impl From<Vec<RowError>> for ImportError {
    fn from(e: Vec<RowError>) -> Self {
        ImportError::Rows(e)
    }
}

/// Who imports, and when.
#[derive(Debug, Clone)]
pub struct Importer {
    pub actor: String,
    pub now: Millis,
}

/// Collects row problems while parsing.
struct Errs(Vec<RowError>);

impl Errs {
    fn add(&mut self, row: &Row, column: &str, message: impl Into<String>) {
        self.0.push(RowError::new(row.line, column, message));
    }

    /// Parses a cell with `parse`, reporting a failure on its column.
    fn cell<T>(&mut self, row: &Row, column: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let v = row.get(column)?;
        match parse(v) {
            Ok(x) => Some(x),
            Err(m) => {
                self.add(row, column, m);
                None
            }
        }
    }

    /// A required cell.
    fn need<T>(&mut self, row: &Row, column: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        if row.get(column).is_none() {
            self.add(row, column, "must not be empty");
            return None;
        }
        self.cell(row, column, parse)
    }

    fn finish(self) -> Result<(), Vec<RowError>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }
}

fn vocab<T>(parse: fn(&str) -> Option<T>, allowed: String, what: &'static str) -> impl Fn(&str) -> Result<T, String> {
    move |s| parse(s).ok_or_else(|| format!("`{s}` is not a {what}; one of: {allowed}"))
}

fn name_text(max: usize) -> impl Fn(&str) -> Result<String, String> {
    move |s| {
        if s.chars().count() > max {
            Err(format!("must be at most {max} characters"))
        } else if s.chars().any(|c| c.is_control()) {
            Err("must not contain control characters".into())
        } else {
            Ok(s.to_owned())
        }
    }
}

fn flag(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Ok(true),
        "false" | "0" | "no" | "n" => Ok(false),
        _ => Err(format!("`{s}` is not true or false")),
    }
}

fn limit(s: &str) -> Result<TimeLimit, String> {
    TimeLimit::parse(s).map_err(|_| {
        format!(
            "`{s}` is not a time limit: write a number and a unit, 5wd (working days), 8wh (working hours), 2h or 30m"
        )
    })
}

fn parse_jurisdictions(rows: &[Row]) -> Result<Vec<(usize, Jurisdiction)>, Vec<RowError>> {
    let mut e = Errs(Vec::new());
    let mut out = Vec::new();
    for r in rows {
        let code = e.need(r, "code", JurisdictionCode::parse);
        let name = e.need(r, "name", name_text(100));
        let level = e.need(r, "level", vocab(JurisdictionLevel::parse, JurisdictionLevel::allowed(), "level"));
        let parent = e.cell(r, "parent", JurisdictionCode::parse);
        let active = e.cell(r, "active", flag).unwrap_or(true);
        if let (Some(code), Some(name), Some(level)) = (code, name, level) {
            out.push((r.line, Jurisdiction { code, name, level, parent, active }));
        }
    }
    e.finish().map(|_| out)
}

fn parse_units(rows: &[Row]) -> Result<Vec<(usize, Unit)>, Vec<RowError>> {
    let mut e = Errs(Vec::new());
    let mut out = Vec::new();
    for r in rows {
        let code = e.need(r, "code", UnitCode::parse);
        let name = e.need(r, "name", name_text(100));
        let kind = e.need(r, "kind", vocab(UnitKind::parse, UnitKind::allowed(), "unit kind"));
        let parent = e.cell(r, "parent", UnitCode::parse);
        let jurisdiction = e.cell(r, "jurisdiction", JurisdictionCode::parse);
        let active = e.cell(r, "active", flag).unwrap_or(true);
        if let (Some(code), Some(name), Some(kind)) = (code, name, kind) {
            out.push((r.line, Unit { code, name, kind, parent, jurisdiction, active }));
        }
    }
    e.finish().map(|_| out)
}

fn parse_categories(rows: &[Row]) -> Result<Vec<(usize, Category)>, Vec<RowError>> {
    let mut e = Errs(Vec::new());
    let mut out = Vec::new();
    for r in rows {
        let code = e.need(r, "code", CategoryCode::parse);
        let name = e.need(r, "name", name_text(100));
        let parent = e.cell(r, "parent", CategoryCode::parse);
        let time_limits = PartialLimits {
            normal: e.cell(r, "limit_normal", limit),
            urgent: e.cell(r, "limit_urgent", limit),
            emergency: e.cell(r, "limit_emergency", limit),
        };
        let request_type = e.cell(r, "request_type", vocab(RequestType::parse, RequestType::allowed(), "request type"));
        let prompts: Vec<String> = r
            .get("prompts")
            .map(|p| p.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        if prompts.iter().any(|p| p.chars().count() > 200) {
            e.add(r, "prompts", "each prompt must be at most 200 characters");
        }
        let keywords: Vec<String> = r
            .get("keywords")
            .map(|p| p.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        if keywords.iter().any(|k| k.chars().count() > 50) {
            e.add(r, "keywords", "each keyword must be at most 50 characters");
        }
        let active = e.cell(r, "active", flag).unwrap_or(true);
        if let (Some(code), Some(name)) = (code, name) {
            out.push((
                r.line,
                Category {
                    code,
                    name,
                    parent,
                    position: 0,
                    spec: CategorySpec { request_type, time_limits, prompts, keywords },
                    active,
                    leaf: None,
                },
            ));
        }
    }
    e.finish().map(|_| out)
}

fn parse_routes(rows: &[Row]) -> Result<Vec<(usize, RouteRule)>, Vec<RowError>> {
    let mut e = Errs(Vec::new());
    let mut out = Vec::new();
    for r in rows {
        let category = e.need(r, "category", CategoryCode::parse);
        let jurisdiction = e.cell(r, "jurisdiction", JurisdictionCode::parse);
        let unit = e.need(r, "unit", UnitCode::parse);
        if let (Some(category), Some(unit)) = (category, unit) {
            out.push((r.line, RouteRule { category, jurisdiction, unit }));
        }
    }
    e.finish().map(|_| out)
}

/// A username: 2–64 characters of letters, digits, `.`, `-`, `_` and `@`.
pub fn check_username(s: &str) -> Result<String, String> {
    let ok = (2..=64).contains(&s.chars().count())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!("`{s}` is not a valid username (2 to 64 letters, digits, '.', '-', '_' or '@')"))
    }
}

/// Roles separated by `|`; `system` is the platform's own and cannot be given.
pub fn parse_roles(s: &str) -> Result<Vec<Role>, String> {
    let mut roles = Vec::new();
    for part in s.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        match Role::parse(part) {
            Some(Role::System) | None => {
                return Err(format!(
                    "unknown role `{part}`; roles are: operator, reviewer, dispatcher, handler, unit_admin, callback, supervisor, leader, admin"
                ));
            }
            Some(r) if !roles.contains(&r) => roles.push(r),
            Some(_) => {}
        }
    }
    if roles.is_empty() { Err("give at least one role".into()) } else { Ok(roles) }
}

/// An account's facts as the admin history shows them (never the password hash).
pub fn user_json(u: &UserRecord) -> serde_json::Value {
    serde_json::json!({
        "username": u.username,
        "display_name": u.display_name,
        "roles": u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "unit": u.unit.as_ref().map(|c| c.as_str()),
        "active": u.active,
        "has_password": !u.password_hash.is_empty(),
    })
}

/// Checks an account against the directory: a known unit, and one for unit roles.
pub fn check_user(dir: &Directory, u: &UserRecord) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match &u.unit {
        Some(c) if dir.unit(c).is_none() => out.push(("unit", format!("unknown unit `{c}`"))),
        None if u.roles.iter().any(|r| matches!(r, Role::Handler | Role::UnitAdmin)) => {
            out.push(("unit", "a handler or unit admin needs a unit".to_owned()))
        }
        _ => {}
    }
    out
}

fn parse_users(rows: &[Row], dir: &Directory) -> Result<Vec<(usize, UserRecord)>, Vec<RowError>> {
    let mut e = Errs(Vec::new());
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows {
        let username = e.need(r, "username", check_username);
        let display_name = e.cell(r, "display_name", name_text(100));
        let roles = e.need(r, "roles", parse_roles);
        let unit = e.cell(r, "unit", UnitCode::parse);
        let active = e.cell(r, "active", flag).unwrap_or(true);
        if let (Some(username), Some(roles)) = (username, roles) {
            if let Some(first) = seen.get(&username) {
                e.add(r, "username", format!("duplicate `{username}`: also on line {first}"));
                continue;
            }
            seen.insert(username.clone(), r.line);
            let u = UserRecord {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                password_hash: String::new(),
                roles,
                unit,
                active,
            };
            for (col, m) in check_user(dir, &u) {
                e.add(r, col, m);
            }
            out.push((r.line, u));
        }
    }
    e.finish().map(|_| out)
}

/// Parses a time of the previous system: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` (also with
/// `/` and single-digit parts) in the calendar's zone.
pub fn parse_time(s: &str, cal: &Calendar) -> Result<Millis, String> {
    if let Some(t) = Calendar::parse_rfc3339(s) {
        return Ok(t);
    }
    let normal = s.replace('/', "-");
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&normal, f) {
            return Ok(t.and_utc().timestamp_millis() - i64::from(cal.utc_offset_minutes) * 60_000);
        }
    }
    Err(format!("`{s}` is not a time: write RFC 3339 (2026-11-24T09:30:00+08:00) or 2026-11-24 09:30:00"))
}

fn number(s: &str) -> Result<f64, String> {
    s.parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(|| format!("`{s}` is not a number"))
}

/// A stable id for a row that has no `source_ref`: the hash of what it says.
fn derived_ref(r: &Row) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (k, v) in &r.cells {
        if k != "source_ref" {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.trim().as_bytes());
            h.update([0]);
        }
    }
    format!("sha256:{}", &hex::encode(h.finalize())[..24])
}

fn parse_orders(rows: &[Row], cal: &Calendar) -> Result<Vec<(usize, PastOrder)>, Vec<RowError>> {
    let mut e = Errs(Vec::new());
    let mut out = Vec::new();
    for r in rows {
        let created_at = e.need(r, "created_at", |s| parse_time(s, cal));
        let request_type = e.need(r, "request_type", vocab(RequestType::parse, RequestType::allowed(), "request type"));
        let category = e.need(r, "category", CategoryCode::parse);
        let content = e.need(r, "content", |s| Ok::<_, String>(s.to_owned()));
        let channel = e.cell(r, "channel", vocab(Channel::parse, Channel::allowed(), "channel"));
        let urgency = e.cell(r, "urgency", vocab(Urgency::parse, Urgency::allowed(), "urgency"));
        let phone = e.cell(r, "caller_phone", PhoneNumber::parse);
        let lat = e.cell(r, "lat", number);
        let lon = e.cell(r, "lon", number);
        let street = e.cell(r, "street", JurisdictionCode::parse);
        let district = e.cell(r, "district", JurisdictionCode::parse);
        let lead_unit = e.cell(r, "lead_unit", UnitCode::parse);
        let replied_at = e.cell(r, "replied_at", |s| parse_time(s, cal));
        let closed_at = e.cell(r, "closed_at", |s| parse_time(s, cal));
        let satisfaction =
            e.cell(r, "satisfaction", vocab(Satisfaction::parse, Satisfaction::allowed(), "satisfaction"));
        let address = r.get("address").map(str::to_owned);
        let (Some(created_at), Some(request_type), Some(category), Some(content)) =
            (created_at, request_type, category, content)
        else {
            continue;
        };
        let source_ref = r.get("source_ref").map(str::to_owned).unwrap_or_else(|| derived_ref(r));
        out.push((
            r.line,
            PastOrder {
                source_ref,
                created_at,
                intake: Intake {
                    channel,
                    request_type,
                    category,
                    urgency: urgency.unwrap_or(Urgency::Normal),
                    title: r.get("title").unwrap_or("").to_owned(),
                    content,
                    caller: Caller { phone, name: r.get("caller_name").map(str::to_owned), confidential: false },
                    location: Location { address, street, district, lat, lon },
                },
                lead_unit,
                replied_at,
                reply: r.get("reply").map(str::to_owned),
                closed_at,
                satisfaction,
            },
        ));
    }
    e.finish().map(|_| out)
}

fn json<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

fn jurisdiction_json(j: &Jurisdiction) -> serde_json::Value {
    serde_json::json!({"code": j.code, "name": j.name, "level": j.level, "parent": j.parent, "active": j.active})
}

fn unit_json(u: &Unit) -> serde_json::Value {
    serde_json::json!({"code": u.code, "name": u.name, "kind": u.kind, "parent": u.parent,
        "jurisdiction": u.jurisdiction, "active": u.active})
}

fn category_json(c: &Category) -> serde_json::Value {
    serde_json::json!({"code": c.code, "name": c.name, "parent": c.parent,
        "limit_normal": c.spec.time_limits.normal, "limit_urgent": c.spec.time_limits.urgent,
        "limit_emergency": c.spec.time_limits.emergency, "request_type": c.spec.request_type,
        "prompts": c.spec.prompts, "keywords": c.spec.keywords, "active": c.active})
}

fn route_code(r: &RouteRule) -> String {
    match &r.jurisdiction {
        Some(j) => format!("{}@{j}", r.category),
        None => r.category.to_string(),
    }
}

/// Turns a plan into a report and the change records to write.
fn account<T>(
    kind: Kind,
    plan: &Plan<T>,
    who: &Importer,
    code: impl Fn(&T) -> String,
    show: impl Fn(&T) -> serde_json::Value,
    dry_run: bool,
) -> (Report, Vec<AdminChange>) {
    let mut changes = Vec::new();
    let mut records = Vec::new();
    for c in &plan.created {
        let after = show(c);
        records.push(AdminChange {
            at: who.now,
            actor: who.actor.clone(),
            kind: kind.item().into(),
            code: code(c),
            action: "create".into(),
            before: None,
            after: Some(after.to_string()),
        });
        changes.push(ChangeOut { code: code(c), action: "create".into(), before: None, after: Some(after) });
    }
    for (b, a) in &plan.updated {
        let (before, after) = (show(b), show(a));
        let action = match (before.get("active"), after.get("active")) {
            (Some(serde_json::Value::Bool(true)), Some(serde_json::Value::Bool(false))) => "deactivate",
            (Some(serde_json::Value::Bool(false)), Some(serde_json::Value::Bool(true))) => "activate",
            _ => "update",
        };
        records.push(AdminChange {
            at: who.now,
            actor: who.actor.clone(),
            kind: kind.item().into(),
            code: code(a),
            action: action.into(),
            before: Some(before.to_string()),
            after: Some(after.to_string()),
        });
        changes.push(ChangeOut { code: code(a), action: action.into(), before: Some(before), after: Some(after) });
    }
    changes.truncate(500);
    let report = Report {
        kind: kind.as_str().into(),
        dry_run,
        created: plan.created.len(),
        updated: plan.updated.len(),
        unchanged: plan.unchanged,
        changes,
    };
    (report, records)
}

/// Imports a file of `kind` into the store: all rows or none. With `dry_run`, checks and
/// reports what would change without writing. The caller reloads its directory after a
/// write.
pub async fn import(
    store: &Store,
    dir: &Directory,
    cal: &Calendar,
    kind: Kind,
    file: (&[u8], Format),
    dry_run: bool,
    who: &Importer,
) -> Result<Report, ImportError> {
    let rows = table::read(file.0, file.1, kind.columns(), kind.required())?;
    let mut write = ReferenceWrite::default();
    let (report, records) = match kind {
        Kind::Jurisdictions => {
            let plan = setup::plan_jurisdictions(dir, &parse_jurisdictions(&rows)?)?;
            let r = account(kind, &plan, who, |j| j.code.to_string(), jurisdiction_json, dry_run);
            write.jurisdictions = changed(plan);
            r
        }
        Kind::Units => {
            let plan = setup::plan_units(dir, &parse_units(&rows)?)?;
            let r = account(kind, &plan, who, |u| u.code.to_string(), unit_json, dry_run);
            write.units = changed(plan);
            r
        }
        Kind::Categories => {
            let in_use = store.categories_in_use().await?;
            let plan = setup::plan_categories(dir, &parse_categories(&rows)?, &in_use)?;
            let r = account(kind, &plan, who, |c| c.code.to_string(), category_json, dry_run);
            write.categories = changed(plan);
            r
        }
        Kind::Routes => {
            let plan = setup::plan_routes(dir, &parse_routes(&rows)?)?;
            let r = account(kind, &plan, who, route_code, |r| json(r).unwrap_or_default(), dry_run);
            write.routes = changed(plan);
            r
        }
        Kind::Users => return import_users(store, dir, &rows, dry_run, who).await,
        Kind::Orders => return import_orders(store, dir, cal, &rows, dry_run, who).await,
    };
    if !dry_run && !records.is_empty() {
        write.changes = records;
        store.write_reference(&write).await?;
    }
    Ok(report)
}

fn changed<T>(plan: Plan<T>) -> Vec<T> {
    plan.created.into_iter().chain(plan.updated.into_iter().map(|(_, a)| a)).collect()
}

async fn import_users(
    store: &Store,
    dir: &Directory,
    rows: &[Row],
    dry_run: bool,
    who: &Importer,
) -> Result<Report, ImportError> {
    let parsed = parse_users(rows, dir)?;
    let stored: BTreeMap<String, UserRecord> =
        store.users().await?.into_iter().map(|u| (u.username.clone(), u)).collect();
    let mut plan: Plan<UserRecord> = Plan::default();
    for (_, u) in parsed {
        match stored.get(&u.username) {
            None => plan.created.push(u),
            Some(s) => {
                let mut next = u;
                next.password_hash = s.password_hash.clone();
                if next == *s {
                    plan.unchanged += 1;
                } else {
                    plan.updated.push((s.clone(), next));
                }
            }
        }
    }
    let (report, records) = account(Kind::Users, &plan, who, |u| u.username.clone(), user_json, dry_run);
    if !dry_run && !records.is_empty() {
        let writes: Vec<UserWrite> =
            changed(plan).into_iter().map(|user| UserWrite { user, set_password: false }).collect();
        store.write_users(&writes, &records, who.now).await?;
    }
    Ok(report)
}

/// The actor that past orders are imported as.
fn import_actor(who: &Importer) -> Actor {
    Actor { username: who.actor.clone(), roles: vec![Role::System], unit: None }
}

async fn import_orders(
    store: &Store,
    dir: &Directory,
    cal: &Calendar,
    rows: &[Row],
    dry_run: bool,
    who: &Importer,
) -> Result<Report, ImportError> {
    let t0 = std::time::Instant::now();
    let parsed = parse_orders(rows, cal)?;
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, "import orders: parsed");
    let mut errs = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (line, p) in &parsed {
        if let Some(first) = seen.insert(p.source_ref.as_str(), *line) {
            errs.push(RowError::new(
                *line,
                "source_ref",
                format!("duplicate `{}`: also on line {first}", p.source_ref),
            ));
        }
    }
    let refs: Vec<String> = parsed.iter().map(|(_, p)| p.source_ref.clone()).collect();
    // Refs already imported, and (an export of this platform's own orders names them by
    // number) numbers already here.
    let known = store.imported_refs(&refs).await?;
    let policy = Policy::default();
    let ctx = Context { directory: dir, calendar: cal, policy: &policy };
    let actor = import_actor(who);
    let placeholder = OrderNumber::format("00000000", 0);
    let mut items: Vec<(String, Event)> = Vec::new();
    let mut unchanged = 0;
    for (line, p) in parsed {
        if known.contains(&p.source_ref) {
            unchanged += 1;
            continue;
        }
        let day = cal.local_day_code(p.created_at);
        match lifecycle::import(&ctx, p, placeholder.clone(), &actor) {
            Ok(ev) => items.push((day, ev)),
            Err(DomainError::Invalid { fields }) => {
                for (field, message) in fields {
                    let column = match field.as_str() {
                        "caller.name" => "caller_name",
                        other => other.strip_prefix("location.").unwrap_or(other),
                    };
                    errs.push(RowError::new(line, column, message));
                }
            }
            Err(e) => errs.push(RowError::new(line, "", e.to_string())),
        }
    }
    if !errs.is_empty() {
        errs.sort();
        return Err(ImportError::Rows(errs));
    }
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, "import orders: decided");
    // Numbers follow creation time within each day, as live registration gives them.
    items.sort_by_key(|(_, ev)| ev.at);
    let created = items.len();
    // In a dry run there are no numbers yet: a change is named by its source ref.
    let numbers: Vec<Option<OrderNumber>> = if !dry_run && created > 0 {
        let numbers = store.insert_imported(&items).await?;
        tracing::debug!(ms = t0.elapsed().as_millis() as u64, "import orders: written");
        tracing::info!(orders = created, by = %who.actor, "imported past orders");
        numbers.into_iter().map(Some).collect()
    } else {
        vec![None; items.len()]
    };
    let changes = items
        .iter()
        .zip(&numbers)
        .take(500)
        .map(|((_, ev), n)| {
            let source = match &ev.change {
                Change::Imported { source_ref, .. } => source_ref.clone(),
                _ => String::new(),
            };
            let mut after = serde_json::json!({"source_ref": source, "status": ev.to_status});
            if let Some(n) = n {
                after["number"] = serde_json::json!(n);
            }
            ChangeOut {
                code: n.as_ref().map(|n| n.to_string()).unwrap_or(source),
                action: "create".into(),
                before: None,
                after: Some(after),
            }
        })
        .collect();
    Ok(Report { kind: "orders".into(), dry_run, created, updated: 0, unchanged, changes })
}

fn s<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Exports `kind` as a file that `import` reads back unchanged.
pub async fn export(
    store: &Store,
    dir: &Directory,
    cal: &Calendar,
    kind: Kind,
    format: Format,
) -> Result<Vec<u8>, StoreError> {
    let rows: Vec<Vec<String>> = match kind {
        Kind::Jurisdictions => tree_order(
            dir.jurisdictions().collect(),
            |j| j.code.to_string(),
            |j| j.parent.as_ref().map(|p| p.to_string()),
        )
        .into_iter()
        .map(|j| {
            vec![j.code.to_string(), j.name.clone(), j.level.to_string(), s(j.parent.as_ref()), j.active.to_string()]
        })
        .collect(),
        Kind::Units => {
            tree_order(dir.units().collect(), |u| u.code.to_string(), |u| u.parent.as_ref().map(|p| p.to_string()))
                .into_iter()
                .map(|u| {
                    vec![
                        u.code.to_string(),
                        u.name.clone(),
                        u.kind.to_string(),
                        s(u.parent.as_ref()),
                        s(u.jurisdiction.as_ref()),
                        u.active.to_string(),
                    ]
                })
                .collect()
        }
        Kind::Categories => {
            let mut cats: Vec<&Category> = dir.categories().collect();
            cats.sort_by(|a, b| (a.position, &a.code).cmp(&(b.position, &b.code)));
            tree_order(cats, |c| c.code.to_string(), |c| c.parent.as_ref().map(|p| p.to_string()))
                .into_iter()
                .map(|c| {
                    vec![
                        c.code.to_string(),
                        c.name.clone(),
                        s(c.parent.as_ref()),
                        s(c.spec.time_limits.normal),
                        s(c.spec.time_limits.urgent),
                        s(c.spec.time_limits.emergency),
                        s(c.spec.request_type),
                        c.spec.prompts.join("|"),
                        c.spec.keywords.join("|"),
                        c.active.to_string(),
                    ]
                })
                .collect()
        }
        Kind::Routes => {
            dir.routes().map(|r| vec![r.category.to_string(), s(r.jurisdiction.as_ref()), r.unit.to_string()]).collect()
        }
        Kind::Users => store
            .users()
            .await?
            .into_iter()
            .map(|u| {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                vec![
                    u.username.clone(),
                    u.display_name.clone(),
                    roles.join("|"),
                    s(u.unit.as_ref()),
                    u.active.to_string(),
                ]
            })
            .collect(),
        Kind::Orders => {
            let mut out = Vec::new();
            store
                .each_order(|o| {
                    out.push(order_row(o, cal));
                })
                .await?;
            out
        }
    };
    Ok(table::write(kind.columns(), &rows, format))
}

/// An order as a row of the orders file. Its `source_ref` is the one it came with, or its
/// number here; its state is what a history can say (the reply only of a closed order).
fn order_row(o: &Order, cal: &Calendar) -> Vec<String> {
    let t = |ms: Millis| cal.rfc3339(ms);
    let l = &o.intake.location;
    let c = &o.intake.caller;
    let closed = o.status == Status::Closed;
    let reply = o.reply.as_ref().filter(|_| closed);
    vec![
        o.source_ref.clone().unwrap_or_else(|| o.number.to_string()),
        t(o.created_at),
        s(o.intake.channel),
        o.intake.request_type.to_string(),
        o.intake.category.to_string(),
        o.intake.urgency.to_string(),
        o.intake.title.clone(),
        o.intake.content.clone(),
        s(c.phone.as_ref()),
        c.name.clone().unwrap_or_default(),
        s(l.district.as_ref()),
        s(l.street.as_ref()),
        l.address.clone().unwrap_or_default(),
        s(l.lat),
        s(l.lon),
        s(o.lead_unit.as_ref().filter(|_| {
            matches!(o.status, Status::Closed | Status::Dispatched | Status::InProgress | Status::Replied)
        })),
        s(reply.map(|r| t(r.at))),
        reply
            .map(|r| r.content.clone())
            .or_else(|| o.first_contact.as_ref().filter(|_| closed).map(|f| f.resolution.clone()))
            .unwrap_or_default(),
        s(o.closed_at.filter(|_| closed).map(t)),
        s(o.callback.as_ref().filter(|_| closed).map(|c| c.satisfaction)),
    ]
}

/// Rows in depth-first order from the roots, so that every parent comes before its children.
fn tree_order<T>(rows: Vec<&T>, code: impl Fn(&T) -> String, parent: impl Fn(&T) -> Option<String>) -> Vec<&T> {
    let codes: BTreeSet<String> = rows.iter().map(|r| code(r)).collect();
    let mut children: BTreeMap<Option<String>, Vec<&T>> = BTreeMap::new();
    for r in &rows {
        let p = parent(r).filter(|p| codes.contains(p));
        children.entry(p).or_default().push(*r);
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut stack: Vec<&T> = children.get(&None).map(|v| v.iter().rev().copied().collect()).unwrap_or_default();
    let mut seen = BTreeSet::new();
    while let Some(r) = stack.pop() {
        if !seen.insert(code(r)) {
            continue;
        }
        out.push(r);
        if let Some(kids) = children.get(&Some(code(r))) {
            stack.extend(kids.iter().rev().copied());
        }
    }
    // Anything on a cycle (never stored, but never lost either).
    for r in rows {
        if !seen.contains(&code(r)) {
            out.push(r);
        }
    }
    out
}

/// Formats row problems as `FILE:LINE: column: message`, one per line.
pub fn format_errors(file: &str, errs: &[RowError]) -> String {
    errs.iter()
        .map(|e| {
            if e.column.is_empty() {
                format!("{file}:{}: {}", e.line, e.message)
            } else {
                format!("{file}:{}: {}: {}", e.line, e.column, e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Hashes a new password (argon2, off the async runtime), refusing one that is too short.
pub async fn new_password_hash(password: String) -> Result<String, String> {
    if password.chars().count() < 8 {
        return Err("a password must have at least 8 characters".into());
    }
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|e| e.to_string())?
}
