//! The admin console under `/console/admin` (F-8): the jurisdiction, unit and category
//! trees, the routing catalogue (派单目录), accounts, and import and export of files.
//!
//! Every write goes through [`crate::admin`], the functions the admin API uses, so the
//! checks, the one-transaction writes and the change history are theirs; reference data
//! is read from the directory. Admins see every page; a unit admin sees only the accounts
//! of its units; anyone else gets the not-allowed page.

mod import;
mod logins;
mod overview;
mod routes;
mod tree;
mod users;

use super::i18n::{self, Tr};
use super::page::{ErrorBox, Page, error_box, html};
use super::page_for;
use super::session::Console;
use super::view::{fmt_dt, initials};
use crate::admin;
use crate::error::ApiError;
use crate::setup::Kind;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lianxin_domain::Role;
use lianxin_store::AdminChange;
use serde_json::Value;
use std::collections::BTreeMap;

/// The admin console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/admin", get(overview::show))
        .route("/console/admin/", get(overview::show))
        .route("/console/admin/routes", get(routes::list).post(routes::save))
        .route("/console/admin/routes/delete", post(routes::delete))
        .route("/console/admin/users", get(users::list).post(users::create))
        .route("/console/admin/users/{username}", get(users::show).post(users::save))
        .route("/console/admin/users/{username}/active", post(users::active))
        .route("/console/admin/users/{username}/password", post(users::password))
        .route("/console/admin/import", get(import::form).post(import::submit))
        .route("/console/admin/logins", get(logins::list))
        .route("/console/admin/export/{kind}", get(import::export))
        .route("/console/admin/{kind}", get(tree::list).post(tree::create))
        .route("/console/admin/{kind}/{code}", get(tree::show).post(tree::save))
        .route("/console/admin/{kind}/{code}/active", post(tree::active))
        .route("/console/assets/admin.css", get(css))
        .route("/console/assets/admin.js", get(js))
}

async fn css() -> Response {
    asset(include_str!("../../../static/admin.css"), "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(include_str!("../../../static/admin.js"), "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// One tab of the admin section.
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// The admin section's tabs the user may open; `current` is the active one's href.
pub fn tabs(c: &Console, current: &str) -> Vec<Tab> {
    let t = c.t();
    let all: &[(&str, &str)] = if c.user.actor.has(Role::Admin) {
        &[
            ("/console/admin", "adm.tab.overview"),
            ("/console/admin/jurisdictions", "adm.tab.jurisdictions"),
            ("/console/admin/units", "adm.tab.units"),
            ("/console/admin/categories", "adm.tab.categories"),
            ("/console/admin/routes", "adm.tab.routes"),
            ("/console/admin/users", "adm.tab.users"),
            ("/console/admin/import", "adm.tab.import"),
            ("/console/admin/logins", "adm.tab.logins"),
        ]
    } else {
        &[("/console/admin/users", "adm.tab.users")]
    };
    all.iter().map(|(href, key)| Tab { href, label: t.s(key), active: *href == current }).collect()
}

/// A string of this module's table, or `fallback` when the key has none.
pub fn label(t: Tr, key: &str, fallback: &str) -> String {
    if i18n::has(key) { t.s(key).to_owned() } else { fallback.to_owned() }
}

/// The label of a column / form field.
pub fn field_label(t: Tr, key: &str) -> String {
    label(t, &format!("adm.f.{key}"), key)
}

/// A page that says what went wrong (403 not allowed, 404 not found, …), in the page
/// language, with the error's status.
pub fn fail(state: &AppState, c: &Console, e: &ApiError) -> Response {
    let mut p = page_for(state, c, "");
    let t = c.t();
    let mut eb = boxed(t, e, "");
    if e.code == "not_found" && e.message == "page" {
        eb.message = t.s("err.page_not_found").to_owned();
        eb.detail.clear();
    }
    eb.title = match e.code {
        "not_found" => t.s("err.title_not_found").to_owned(),
        "forbidden_role" => t.s("adm.err.not_allowed_title").to_owned(),
        "database_unavailable" | "internal_error" => t.s("err.title_unavailable").to_owned(),
        _ => eb.title,
    };
    p.title = eb.title.clone();
    p.error = Some(eb);
    html(e.status, &ErrorPage { p })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    p: Page,
}

/// The error box of a refused admin action, its fields named as the form names them.
pub fn boxed(t: Tr, e: &ApiError, form: &str) -> ErrorBox {
    let mut eb = error_box(t, e, None);
    let key = format!("adm.err.{}", e.code);
    if i18n::has(&key) {
        eb.message = t.s(&key).to_owned();
    }
    eb.fields = e
        .fields
        .as_ref()
        .map(|f| f.iter().map(|(k, v)| (field_label(t, k), message(t, v))).collect())
        .unwrap_or_default();
    eb.form = form.to_owned();
    eb
}

/// A field message of the service in the page language (as the service says it in English).
pub fn message(t: Tr, msg: &str) -> String {
    t.field_message(msg)
}

/// The refusal of one field, by field name.
#[derive(Debug, Clone, Default)]
pub struct Errs(BTreeMap<String, (String, String)>);

impl Errs {
    pub fn of(t: Tr, e: &ApiError) -> Errs {
        Errs(e.fields.iter().flatten().map(|(k, v)| (k.clone(), (message(t, v), v.clone()))).collect())
    }

    pub fn get(&self, key: &str) -> (String, String) {
        self.0.get(key).cloned().unwrap_or_default()
    }
}

/// An option of a select or a checkbox of a group.
#[derive(Debug, Clone, Default)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub initials: String,
    pub selected: bool,
    pub muted: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Opt {
        let label = label.into();
        Opt { value: value.into(), initials: initials(&label), label, ..Opt::default() }
    }
}

/// One field of an admin form, rendered by `admin/_field.html`.
#[derive(Debug, Clone, Default)]
pub struct Field {
    pub name: &'static str,
    /// The element id: `{form}-{name}`.
    pub id: String,
    pub label: String,
    /// `text`, `password`, `select`, `textarea`, `checks` or `fixed` (shown, sent hidden).
    pub input: &'static str,
    pub value: String,
    pub options: Vec<Opt>,
    pub placeholder: String,
    pub hint: String,
    pub required: bool,
    /// A type-to-filter box above a long select.
    pub filter: bool,
    pub error: String,
    /// The service's own words, when the page shows them translated.
    pub error_raw: String,
}

impl Field {
    pub fn new(form: &str, name: &'static str, label: String, input: &'static str) -> Field {
        Field { name, id: format!("{form}-{name}"), label, input, ..Field::default() }
    }

    pub fn value(mut self, v: impl Into<String>) -> Field {
        self.value = v.into();
        self
    }

    pub fn options(mut self, opts: Vec<Opt>) -> Field {
        let v = self.value.clone();
        let chosen: Vec<&str> = v.split('|').collect();
        self.options = opts
            .into_iter()
            .map(|mut o| {
                o.selected = chosen.contains(&o.value.as_str());
                o
            })
            .collect();
        self.filter = self.options.len() > 20;
        self
    }

    pub fn placeholder(mut self, p: impl Into<String>) -> Field {
        self.placeholder = p.into();
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> Field {
        self.hint = h.into();
        self
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// Marks the field refused when `errs` names it.
    pub fn errs(mut self, errs: &Errs) -> Field {
        let (msg, raw) = errs.get(self.name);
        self.error = msg;
        self.error_raw = if raw == self.error { String::new() } else { raw };
        self
    }
}

/// What a form posted, to show again after a refusal.
#[derive(Debug, Clone, Default)]
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated field joined with `|` (checkboxes).
    pub fn all(&self, key: &str) -> String {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect::<Vec<_>>().join("|")
    }
}

/// One change of the admin history as a table row.
pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub code: String,
    pub kind: String,
    pub action_wire: String,
    pub action: String,
    /// `(field, before, after)`: what changed.
    pub diff: Vec<(String, String, String)>,
    pub href: String,
}

/// A value of the history as text.
fn show_value(t: Tr, key: &str, v: &Value) -> String {
    match v {
        Value::Null => t.s("common.none").to_owned(),
        Value::Bool(b) if key == "active" => t.s(if *b { "adm.active" } else { "adm.inactive" }).to_owned(),
        Value::Bool(b) => t.s(if *b { "common.yes" } else { "common.no" }).to_owned(),
        Value::String(s) if key == "kind" => t.unit_kind(s),
        Value::String(s) if key == "level" => label(t, &format!("adm.level.{s}"), s),
        Value::String(s) if key == "request_type" => t.request_type(s),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|x| match (key, x.as_str()) {
                ("roles", Some(r)) => t.role(r),
                (_, Some(s)) => s.to_owned(),
                _ => x.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" | "),
        other => other.to_string(),
    }
}

/// The fields a change touched: every field of a creation, the differing ones of an update.
pub fn diff(t: Tr, before: Option<&str>, after: Option<&str>) -> Vec<(String, String, String)> {
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok());
    diff_values(t, parse(before).as_ref(), parse(after).as_ref())
}

/// Like [`diff`] over parsed values.
pub fn diff_values(t: Tr, before: Option<&Value>, after: Option<&Value>) -> Vec<(String, String, String)> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort_by_key(|k| column_rank(k));
    keys.dedup();
    let null = Value::Null;
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (b.get(k).unwrap_or(&null), a.get(k).unwrap_or(&null));
            let skip = if before.is_none() || after.is_none() {
                // A creation or deletion: what it says, without the empty fields.
                (x.is_null() && y.is_null())
                    || matches!((x, y), (Value::Array(v), _) | (_, Value::Array(v)) if v.is_empty())
            } else {
                x == y
            };
            if skip {
                return None;
            }
            let show = |v: &Value, present: bool| if present { show_value(t, k, v) } else { String::new() };
            Some((field_label(t, k), show(x, before.is_some()), show(y, after.is_some())))
        })
        .collect()
}

/// The order columns are shown in.
fn column_rank(k: &str) -> (usize, String) {
    const ORDER: &[&str] = &[
        "code",
        "username",
        "name",
        "display_name",
        "level",
        "kind",
        "category",
        "parent",
        "jurisdiction",
        "unit",
        "roles",
        "limit_normal",
        "limit_urgent",
        "limit_emergency",
        "request_type",
        "prompts",
        "keywords",
        "active",
        "has_password",
    ];
    (ORDER.iter().position(|c| *c == k).unwrap_or(ORDER.len()), k.to_owned())
}

/// Where an item of the history is edited.
fn history_href(kind: &str, code: &str) -> String {
    use super::session::enc;
    match kind {
        "jurisdiction" => format!("/console/admin/jurisdictions/{}", enc(code)),
        "unit" => format!("/console/admin/units/{}", enc(code)),
        "category" => format!("/console/admin/categories/{}", enc(code)),
        "user" => format!("/console/admin/users/{}", enc(code)),
        "route" => "/console/admin/routes".to_owned(),
        _ => String::new(),
    }
}

/// The history as rows, the actors named by their display names.
pub async fn history_rows(state: &AppState, t: Tr, changes: &[AdminChange]) -> Vec<HistoryRow> {
    let cal = state.calendar();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for ch in changes {
        if !names.contains_key(&ch.actor) {
            let name = match state.store().user(&ch.actor).await {
                Ok(Some(u)) => u.display_name,
                _ => ch.actor.clone(),
            };
            names.insert(ch.actor.clone(), name);
        }
    }
    changes
        .iter()
        .map(|ch| HistoryRow {
            at: fmt_dt(&cal, ch.at),
            who: names.get(&ch.actor).cloned().unwrap_or_else(|| ch.actor.clone()),
            code: ch.code.clone(),
            kind: label(t, &format!("adm.item.{}", ch.kind), &ch.kind),
            action_wire: ch.action.clone(),
            action: label(t, &format!("adm.action.{}", ch.action), &ch.action),
            diff: diff(t, ch.before.as_deref(), ch.after.as_deref()),
            href: history_href(&ch.kind, &ch.code),
        })
        .collect()
}

/// The recorded changes of one item (newest first), or nothing when they cannot be read.
pub async fn item_history(state: &AppState, c: &Console, kind: &str, code: &str) -> Result<Vec<HistoryRow>, ApiError> {
    let changes = admin::history(state, &c.user, Some(kind), Some(code), 100).await?;
    Ok(history_rows(state, c.t(), &changes).await)
}

/// The flash line of a `?done=` redirect.
pub fn flash(t: Tr, done: Option<&str>, what: &str) -> Option<String> {
    let d = done?;
    let key = format!("adm.done.{d}");
    if !i18n::has(&key) {
        return None;
    }
    Some(if what.is_empty() { t.s(&key).to_owned() } else { format!("{} · {what}", t.s(&key)) })
}

/// The kinds the tree pages show.
pub fn tree_kind(s: &str) -> Option<Kind> {
    match Kind::parse(s)? {
        k @ (Kind::Jurisdictions | Kind::Units | Kind::Categories) => Some(k),
        _ => None,
    }
}

/// Whether `q` (lower case) finds a name or code: a part of either, or the pinyin initials.
pub fn matches(q: &str, name: &str, code: &str) -> bool {
    q.is_empty()
        || name.to_lowercase().contains(q)
        || code.to_lowercase().contains(q)
        || (q.is_ascii() && initials(name).starts_with(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t.s("…")` of the admin templates names a key of the table.
    #[test]
    fn every_admin_template_key_is_translated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/admin");
        let mut missing = Vec::new();
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            seen += 1;
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for part in text.split("t.s(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                if !i18n::has(key) {
                    missing.push(format!("{}: {key}", entry.file_name().to_string_lossy()));
                }
            }
        }
        assert!(seen > 3, "the admin templates are in {}", dir.display());
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    #[test]
    fn a_change_shows_what_it_changed() {
        let t = Tr::new(i18n::Lang::En);
        let d = diff(
            t,
            Some(r#"{"code":"x","name":"A","active":true,"prompts":[]}"#),
            Some(r#"{"code":"x","name":"B","active":false,"prompts":[]}"#),
        );
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].1, "A");
        assert_eq!(d[0].2, "B");
        let created = diff(t, None, Some(r#"{"code":"x","parent":null,"prompts":[]}"#));
        assert_eq!(created.len(), 1, "a creation leaves out its empty fields: {created:?}");
    }

    #[test]
    fn search_finds_names_codes_and_initials() {
        assert!(matches("ldbl", "路灯不亮", "urban.x"));
        assert!(matches("路灯", "路灯不亮", "urban.x"));
        assert!(matches("urban", "路灯不亮", "urban.x"));
        assert!(!matches("水", "路灯不亮", "urban.x"));
    }
}
