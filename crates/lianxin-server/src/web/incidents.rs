//! Incidents in the console (事件): the proposals the rule made, confirming or dismissing
//! them, adding orders, and one reply for every order in one; the rule itself for admins.
//! Every change goes through the API's own functions in [`crate::api::incidents`].

use super::i18n::Tr;
use super::page::{Page, field_errors, html, page_error};
use super::page_for;
use super::session::{Console, Posted, enc};
use super::view::{Names, Row, fmt_dt, rows};
use crate::api::incidents as api;
use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::error::FieldErrors;
use lianxin_domain::{CategoryCode, JurisdictionCode, Role};
use lianxin_store::StoredIncident;

use api::{DECIDERS, DETECTORS, JOINERS};
/// Who replies: the units handling the orders.
const REPLIERS: &[Role] = &[Role::Handler, Role::UnitAdmin];
const STATUSES: &[&str] = &["proposed", "confirmed", "dismissed"];

struct Listed {
    id: String,
    title: String,
    category: String,
    district: String,
    status: String,
    status_label: String,
    orders: usize,
    created: String,
    decided_by: String,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct List {
    p: Page,
    t: Tr,
    items: Vec<Listed>,
    show: String,
    counts: Vec<(&'static str, String, usize)>,
    can_decide: bool,
    can_detect: bool,
    is_admin: bool,
    min_orders: usize,
    window_minutes: i64,
    rule_errors: Vec<(String, String)>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    done: Option<String>,
    found: Option<usize>,
}

fn status_label(t: Tr, s: &str) -> String {
    t.s(&format!("inc.status.{s}")).to_owned()
}

fn listed(state: &AppState, t: Tr, i: StoredIncident) -> Listed {
    let dir = state.directory();
    let names = Names(&dir);
    let category = CategoryCode::parse(&i.category).map(|c| names.category(&c)).unwrap_or(i.category.clone());
    let district = i
        .district
        .as_deref()
        .and_then(|d| JurisdictionCode::parse(d).ok())
        .and_then(|d| dir.jurisdiction(&d).map(|j| j.name.clone()))
        .unwrap_or_default();
    let cal = state.calendar();
    Listed {
        // A confirmed incident stays open to later orders after its reply.
        status_label: status_label(
            t,
            if i.status == "confirmed" && i.replied_at.is_some() { "replied" } else { &i.status },
        ),
        orders: i.numbers.len(),
        created: fmt_dt(&cal, i.created_at),
        decided_by: i.confirmed_by.unwrap_or_default(),
        id: i.id,
        title: i.title,
        category,
        district,
        status: i.status,
    }
}

fn refuse(c: &Console) -> Option<ApiError> {
    super::page::refuse_page(&c.user, "/console/incidents")
}

async fn list_page(state: &AppState, c: &Console, q: ListQuery, rule_errors: Vec<(String, String)>) -> Response {
    let t = c.t();
    let mut p = page_for(state, c, t.s("nav.incidents"));
    if let Some(e) = refuse(c) {
        return page_error(&p, &e);
    }
    let all = match state.store().incidents(None).await {
        Ok(all) => all,
        Err(e) => return page_error(&p, &e.into()),
    };
    let show = q.status.filter(|s| STATUSES.contains(&s.as_str()) || s == "all").unwrap_or_else(|| "proposed".into());
    let counts =
        STATUSES.iter().map(|s| (*s, status_label(t, s), all.iter().filter(|i| i.status == *s).count())).collect();
    let items = all.into_iter().filter(|i| show == "all" || i.status == show).map(|i| listed(state, t, i)).collect();
    p.flash = match q.done.as_deref() {
        Some("detect") => Some(format!("{}{}", t.s("inc.detected"), q.found.unwrap_or(0))),
        Some("rule") => Some(t.s("inc.rule_saved").to_owned()),
        _ => None,
    };
    let rule = api::rule(state).await;
    let page = List {
        p,
        t,
        items,
        show,
        counts,
        can_decide: c.user.actor.has_any(DECIDERS),
        can_detect: c.user.actor.has_any(DETECTORS),
        is_admin: c.user.actor.has(Role::Admin),
        min_orders: rule.min_orders,
        window_minutes: rule.window_minutes,
        rule_errors,
    };
    html(if page.rule_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, &page)
}

/// `GET /console/incidents`.
pub async fn list(State(state): State<AppState>, c: Console, Query(q): Query<ListQuery>) -> Response {
    list_page(&state, &c, q, Vec::new()).await
}

/// `POST /console/incidents/detect`: look for incidents now.
pub async fn detect(State(state): State<AppState>, posted: Posted) -> Response {
    let c = &posted.console;
    match api::detect_for(&state, &c.user).await {
        Ok(made) => Redirect::to(&format!("/console/incidents?done=detect&found={}", made.len())).into_response(),
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}

/// `POST /console/incidents/rule`: the admin sets the rule.
pub async fn save_rule(State(state): State<AppState>, posted: Posted) -> Response {
    let c = &posted.console;
    let mut obj = serde_json::Map::new();
    for k in ["min_orders", "window_minutes"] {
        let v = posted.get(k).unwrap_or("").trim();
        obj.insert(k.into(), v.parse::<i64>().map(Into::into).unwrap_or_else(|_| v.into()));
    }
    let t = c.t();
    match api::set_rule(&state, &c.user, &obj).await.map(|_| ()) {
        Ok(()) => Redirect::to("/console/incidents?done=rule").into_response(),
        Err(e) if e.fields.is_some() => {
            let errors = field_errors(t, &e, |k| t.s(&format!("inc.{k}")).to_owned());
            list_page(&state, c, ListQuery::default(), errors).await
        }
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}

#[derive(Template)]
#[template(path = "incident.html")]
struct Detail {
    p: Page,
    t: Tr,
    i: Listed,
    rows: Vec<Row>,
    /// Orders of the incident the user may not see.
    hidden: usize,
    replied_at: String,
    can_decide: bool,
    can_join: bool,
    can_reply: bool,
    /// What the last reply did: orders replied to, and those refused with why.
    replied: Vec<String>,
    refused: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    numbers: String,
    content: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DetailQuery {
    done: Option<String>,
}

/// What a post on the detail page leaves to show.
#[derive(Default)]
struct Outcome {
    flash: Option<String>,
    replied: Vec<String>,
    refused: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    numbers: String,
    content: String,
}

async fn detail_page(state: &AppState, c: &Console, id: &str, out: Outcome, status: StatusCode) -> Response {
    let t = c.t();
    let mut p = page_for(state, c, t.s("inc.title"));
    let i = match state.store().incident(id).await {
        Ok(Some(i)) => i,
        Ok(None) => return page_error(&p, &ApiError::not_found(format!("no incident `{id}`"))),
        Err(e) => return page_error(&p, &e.into()),
    };
    // The hotline's staff see every incident; a unit those with an order it may see, and
    // only those orders.
    let mut orders = Vec::new();
    for n in &i.numbers {
        if let Ok((o, _)) = service::visible_order(state, &c.user, n).await {
            orders.push(o);
        }
    }
    if refuse(c).is_some() && orders.is_empty() {
        return page_error(&p, &ApiError::not_found(format!("no incident `{id}`")));
    }
    let hidden = i.numbers.len() - orders.len();
    let rows = rows(state, c, &orders, "incident").await;
    let cal = state.calendar();
    let replied_at = i.replied_at.map(|at| fmt_dt(&cal, at)).unwrap_or_default();
    let open = i.status == "proposed" || i.status == "confirmed";
    let can_reply = c.user.actor.has_any(REPLIERS) && i.status == "confirmed";
    p.flash = out.flash;
    let page = Detail {
        p,
        t,
        can_decide: c.user.actor.has_any(DECIDERS) && i.status == "proposed",
        can_join: c.user.actor.has_any(JOINERS) && open,
        can_reply,
        i: listed(state, t, i),
        rows,
        hidden,
        replied_at,
        replied: out.replied,
        refused: out.refused,
        errors: out.errors,
        numbers: out.numbers,
        content: out.content,
    };
    html(status, &page)
}

/// `GET /console/incidents/{id}`.
pub async fn show(
    State(state): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let t = c.t();
    let flash = q.done.as_deref().and_then(|d| match d {
        "confirmed" | "dismissed" | "orders" => Some(t.s(&format!("inc.done.{d}")).to_owned()),
        _ => None,
    });
    detail_page(&state, &c, &id, Outcome { flash, ..Outcome::default() }, StatusCode::OK).await
}

/// `POST /console/incidents/{id}/confirm` and `…/dismiss`.
async fn decide(state: AppState, id: String, posted: Posted, to: &str) -> Response {
    let c = &posted.console;
    let r = api::decide(&state, &c.user, &id, to).await.map(|_| ());
    match r {
        Ok(()) => Redirect::to(&format!("/console/incidents/{}?done={to}", enc(&id))).into_response(),
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}

pub async fn confirm(State(state): State<AppState>, Path(id): Path<String>, posted: Posted) -> Response {
    decide(state, id, posted, "confirmed").await
}

pub async fn dismiss(State(state): State<AppState>, Path(id): Path<String>, posted: Posted) -> Response {
    decide(state, id, posted, "dismissed").await
}

/// `POST /console/incidents/{id}/orders`: add orders by number (one per line or comma).
pub async fn add_orders(State(state): State<AppState>, Path(id): Path<String>, posted: Posted) -> Response {
    let c = &posted.console;
    let t = c.t();
    let typed = posted.get("numbers").unwrap_or("").to_owned();
    let numbers: Vec<String> = typed
        .split([',', '，', '\n', ' ', '\r', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    match api::add(&state, &c.user, &id, numbers, FieldErrors::new()).await {
        Ok(refused) if refused.is_empty() => {
            Redirect::to(&format!("/console/incidents/{}?done=orders", enc(&id))).into_response()
        }
        Ok(refused) => {
            let errors = refused.into_iter().map(|n| (n, t.s("inc.in_other").to_owned())).collect();
            let out = Outcome { errors, numbers: typed, ..Outcome::default() };
            detail_page(&state, c, &id, out, StatusCode::OK).await
        }
        Err(e) if e.fields.is_some() => {
            let errors = field_errors(t, &e, |_| t.s("inc.numbers").to_owned());
            let out = Outcome { errors, numbers: typed, ..Outcome::default() };
            detail_page(&state, c, &id, out, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}

/// `POST /console/incidents/{id}/reply`: one reply for every order of the incident.
pub async fn reply(State(state): State<AppState>, Path(id): Path<String>, posted: Posted) -> Response {
    let c = &posted.console;
    let t = c.t();
    let content = posted.get("content").unwrap_or("").replace("\r\n", "\n");
    let mut obj = serde_json::Map::new();
    if !content.trim().is_empty() {
        obj.insert("content".into(), content.trim().into());
    }
    // Whether the matter is solved is the unit's word: never preset, required.
    match posted.get("solved") {
        Some("true") => obj.insert("solved".into(), true.into()),
        Some("false") => obj.insert("solved".into(), false.into()),
        _ => None,
    };
    match api::reply_all(&state, &c.user, &id, &obj).await {
        Ok(done) => {
            let out = Outcome {
                flash: Some(format!("{}{}", t.s("inc.replied_n"), done.replied.len())),
                replied: done.replied,
                refused: done.refused.into_iter().map(|r| (r.number, r.message)).collect(),
                ..Outcome::default()
            };
            detail_page(&state, c, &id, out, StatusCode::OK).await
        }
        Err(e) if e.fields.is_some() => {
            let errors = field_errors(t, &e, |k| t.field(k));
            let out = Outcome { errors, content, ..Outcome::default() };
            detail_page(&state, c, &id, out, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}
