//! Announcements in the console (公告: outages, road closures, route changes): a list for
//! every staff member, and publishing, changing and withdrawing for admins and units through
//! the API's own functions ([`crate::api::knowledge::save_announcement`]).

use super::i18n::Tr;
use super::page::{Page, field_errors, html, page_error};
use super::session::{Console, Posted};
use super::view::{fmt_dt, fmt_input};
use super::{forms, page_for};
use crate::api::knowledge::{
    PUBLISHERS, changeable_announcement, may_change, save_announcement, withdraw_announcement,
};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::JurisdictionLevel;
use lianxin_domain::knowledge::{Announcement, AnnouncementKind};

/// An announcement as a row of the list.
struct Listed {
    id: String,
    title: String,
    body: String,
    kind: String,
    area: String,
    window: String,
    /// `now`, `later` or `past`.
    when: &'static str,
    publisher: String,
    can_change: bool,
}

#[derive(Template)]
#[template(path = "announcements.html")]
struct List {
    p: Page,
    t: Tr,
    items: Vec<Listed>,
    show: String,
    can_publish: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    /// `now` (default: in force or to come) or `all`.
    show: Option<String>,
    saved: Option<String>,
    withdrawn: Option<String>,
}

fn kind_label(t: Tr, k: AnnouncementKind) -> &'static str {
    t.s(&format!("ann.kind.{}", k.as_str()))
}

/// The districts and streets an announcement concerns, by name.
fn area(state: &AppState, a: &Announcement) -> String {
    let dir = state.directory();
    let name =
        |c: &lianxin_domain::JurisdictionCode| dir.jurisdiction(c).map(|j| j.name.clone()).unwrap_or(c.to_string());
    a.districts.iter().chain(a.streets.iter()).map(name).collect::<Vec<_>>().join("、")
}

/// `GET /console/announcements`.
pub async fn list(State(state): State<AppState>, c: Console, Query(q): Query<ListQuery>) -> Response {
    let t = c.t();
    let mut p = page_for(&state, &c, t.s("nav.announcements"));
    let all = match state.store().announcements(None).await {
        Ok(all) => all,
        Err(e) => return page_error(&p, &e.into()),
    };
    let show = if q.show.as_deref() == Some("all") { "all" } else { "now" };
    let now = state.now();
    let cal = state.calendar();
    let dir = state.directory();
    let mut items: Vec<(i64, Listed)> = all
        .into_iter()
        .filter(|(_, a)| show == "all" || a.ends_at > now)
        .map(|(id, a)| {
            let when = if a.active_at(now) {
                "now"
            } else if a.starts_at > now {
                "later"
            } else {
                "past"
            };
            let publisher = match &a.unit {
                Some(u) => dir.unit(u).map(|x| x.name.clone()).unwrap_or(u.to_string()),
                None => t.s("kb.no_unit").to_owned(),
            };
            let row = Listed {
                can_change: c.user.actor.has_any(PUBLISHERS) && may_change(&state, &c.user, a.unit.as_ref()),
                title: a.title.clone(),
                body: a.body.clone(),
                kind: kind_label(t, a.kind).to_owned(),
                area: area(&state, &a),
                window: format!("{} – {}", fmt_dt(&cal, a.starts_at), fmt_dt(&cal, a.ends_at)),
                when,
                publisher,
                id,
            };
            (a.starts_at, row)
        })
        .collect();
    // In force first, then those to come, then the past; the latest start first within each.
    let rank = |w: &str| match w {
        "now" => 0,
        "later" => 1,
        _ => 2,
    };
    items.sort_by(|a, b| rank(a.1.when).cmp(&rank(b.1.when)).then(b.0.cmp(&a.0)));
    if q.saved.is_some() {
        p.flash = Some(t.s("ann.saved").to_owned());
    } else if q.withdrawn.is_some() {
        p.flash = Some(t.s("ann.withdrawn").to_owned());
    }
    let page = List {
        p,
        t,
        items: items.into_iter().map(|(_, r)| r).collect(),
        show: show.to_owned(),
        can_publish: c.user.actor.has_any(PUBLISHERS),
    };
    html(StatusCode::OK, &page)
}

/// What the form holds.
#[derive(Default)]
struct Values {
    title: String,
    body: String,
    kind: String,
    districts: Vec<String>,
    streets: Vec<String>,
    starts_at: String,
    ends_at: String,
}

struct Group {
    district: String,
    streets: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "announcement_edit.html")]
struct Edit {
    p: Page,
    t: Tr,
    id: String,
    v: Values,
    kinds: Vec<(&'static str, &'static str)>,
    districts: Vec<(String, String)>,
    groups: Vec<Group>,
    errors: Vec<(String, String)>,
}

impl Edit {
    fn has_district(&self, code: &str) -> bool {
        self.v.districts.iter().any(|d| d == code)
    }
    fn has_street(&self, code: &str) -> bool {
        self.v.streets.iter().any(|d| d == code)
    }
}

fn edit_page(state: &AppState, c: &Console, id: String, v: Values, errors: Vec<(String, String)>) -> Edit {
    let t = c.t();
    let dir = state.directory();
    let districts: Vec<(String, String)> = dir
        .jurisdictions()
        .filter(|j| j.level == JurisdictionLevel::District && j.active)
        .map(|j| (j.code.to_string(), j.name.clone()))
        .collect();
    let groups = districts
        .iter()
        .map(|(code, name)| Group {
            district: name.clone(),
            streets: dir
                .jurisdictions()
                .filter(|j| {
                    j.level == JurisdictionLevel::Street
                        && j.active
                        && dir.district_of(&j.code).is_some_and(|d| d.code.as_str() == code)
                })
                .map(|j| (j.code.to_string(), j.name.clone()))
                .collect(),
        })
        .collect();
    let title = if id.is_empty() { t.s("ann.new") } else { t.s("ann.edit") };
    Edit {
        p: page_for(state, c, title),
        t,
        id,
        v,
        kinds: AnnouncementKind::ALL.iter().map(|k| (k.as_str(), kind_label(t, *k))).collect(),
        districts,
        groups,
        errors,
    }
}

/// A field of the form by its label.
fn field_label(t: Tr, field: &str) -> String {
    let key = match field {
        "title" => "kb.title",
        "body" => "kb.body",
        "kind" => "ann.kind",
        "districts" | "streets" => "ann.area",
        "starts_at" => "ann.starts_at",
        "ends_at" => "ann.ends_at",
        other => return t.field(other),
    };
    t.s(key).to_owned()
}

fn forbidden() -> crate::error::ApiError {
    crate::error::ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_role",
        "only an admin or a unit may publish announcements",
    )
}

/// `GET /console/announcements/new`.
pub async fn new_form(State(state): State<AppState>, c: Console) -> Response {
    if !c.user.actor.has_any(PUBLISHERS) {
        return page_error(&page_for(&state, &c, ""), &forbidden());
    }
    let cal = state.calendar();
    let now = state.now();
    let v = Values { starts_at: fmt_input(&cal, now).replace('T', " "), ..Values::default() };
    html(StatusCode::OK, &edit_page(&state, &c, String::new(), v, Vec::new()))
}

/// `GET /console/announcements/{id}/edit`.
pub async fn edit_form(State(state): State<AppState>, c: Console, Path(id): Path<String>) -> Response {
    let a = match changeable_announcement(&state, &c.user, &id).await {
        Ok(a) if c.user.actor.has_any(PUBLISHERS) => a,
        Ok(_) => return page_error(&page_for(&state, &c, ""), &forbidden()),
        Err(e) => return page_error(&page_for(&state, &c, ""), &e),
    };
    let cal = state.calendar();
    let v = Values {
        title: a.title,
        body: a.body,
        kind: a.kind.as_str().to_owned(),
        districts: a.districts.iter().map(|d| d.to_string()).collect(),
        streets: a.streets.iter().map(|d| d.to_string()).collect(),
        starts_at: fmt_dt(&cal, a.starts_at),
        ends_at: fmt_dt(&cal, a.ends_at),
    };
    html(StatusCode::OK, &edit_page(&state, &c, id, v, Vec::new()))
}

/// `POST /console/announcements/save`: publish or change, as the API does.
pub async fn save(State(state): State<AppState>, posted: Posted) -> Response {
    let c = &posted.console;
    let id = posted.get("id").unwrap_or("").trim().to_owned();
    let fields: Vec<(String, String)> = posted.fields.iter().filter(|(k, _)| k != "id").cloned().collect();
    let mut obj = forms::to_json(&fields, state.calendar().utc_offset_minutes);
    if let Some(serde_json::Value::String(b)) = obj.get_mut("body") {
        *b = b.replace("\r\n", "\n");
    }
    match save_announcement(&state, &c.user, (!id.is_empty()).then_some(id.as_str()), &obj).await {
        Ok(_) => Redirect::to("/console/announcements?saved=1").into_response(),
        Err(e) if e.fields.is_some() => {
            let all = |k: &str| posted.fields.iter().filter(|(f, _)| f == k).map(|(_, v)| v.clone()).collect();
            let one = |k: &str| posted.get(k).unwrap_or("").to_owned();
            let v = Values {
                title: one("title"),
                body: one("body"),
                kind: one("kind"),
                districts: all("districts"),
                streets: all("streets"),
                starts_at: one("starts_at"),
                ends_at: one("ends_at"),
            };
            let t = c.t();
            let errors = field_errors(t, &e, |k| field_label(t, k));
            html(StatusCode::UNPROCESSABLE_ENTITY, &edit_page(&state, c, id, v, errors))
        }
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}

/// `POST /console/announcements/{id}/withdraw`.
pub async fn withdraw(State(state): State<AppState>, Path(id): Path<String>, posted: Posted) -> Response {
    let c = &posted.console;
    match withdraw_announcement(&state, &c.user, &id).await {
        Ok(()) => Redirect::to("/console/announcements?withdrawn=1").into_response(),
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}
