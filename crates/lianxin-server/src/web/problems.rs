//! Tough problems in the console (疑难问题): the candidates of a period (supervisors and
//! leaders), making a tracked problem of one with each unit's part, the problems a user
//! sees, and a unit's report on its part. Every figure and change goes through
//! [`crate::api::problems`].

use super::i18n::Tr;
use super::page::{Page, field_errors, html, page_error};
use super::page_for;
use super::session::{Console, Posted, enc};
use super::view::{Row, fmt_dt, rows};
use crate::api::problems::{self as api, ANALYSTS, CandidateOut, ProblemOut};
use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDate};
use lianxin_domain::problem::MAX_ORDERS;
use lianxin_domain::scope::scope_of;

/// How many part rows the new-problem form offers.
const PART_ROWS: usize = 4;

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    show: Option<String>,
    days: Option<String>,
    from: Option<String>,
    to: Option<String>,
    level: Option<String>,
    done: Option<String>,
}

struct Cand {
    c: CandidateOut,
    /// The orders behind it.
    orders_href: String,
    new_href: String,
}

#[derive(Template)]
#[template(path = "problems.html")]
struct List {
    p: Page,
    t: Tr,
    show: String,
    counts: Vec<(&'static str, usize)>,
    items: Vec<ProblemOut>,
    analyst: bool,
    days: String,
    from: String,
    to: String,
    level: String,
    period: String,
    min_orders: i64,
    min_signal: i64,
    candidates: Vec<Cand>,
    errors: Vec<(String, String)>,
}

fn analyst(c: &Console) -> bool {
    c.user.actor.has_any(ANALYSTS)
}

/// `GET /console/problems`: the problems the user sees and, for an analyst, the candidates.
pub async fn list(State(state): State<AppState>, c: Console, Query(q): Query<ListQuery>) -> Response {
    let t = c.t();
    let mut p = page_for(&state, &c, t.s("nav.problems"));
    p.flash = (q.done.as_deref() == Some("made")).then(|| t.s("prb.done.made").to_owned());
    let all = match api::visible(&state, &c.user, None).await {
        Ok(all) => all,
        Err(e) => return page_error(&p, &e),
    };
    let show = match q.show.as_deref() {
        Some(s @ ("open" | "closed" | "all")) => s.to_owned(),
        _ => "open".to_owned(),
    };
    let counts = ["open", "closed"].map(|s| (s, all.iter().filter(|x| x.status == s).count())).to_vec();
    let items: Vec<ProblemOut> =
        all.into_iter().filter(|x| show == "all" || x.status == show).map(|x| api::out(&state, x)).collect();
    let today = state.calendar().local_date(state.now());
    let picked =
        super::period::pick(t, today, q.days.as_deref(), q.from.as_deref(), q.to.as_deref(), &["90", "30", "180"]);
    let super::period::Picked { from, last, from_s, to_s, days, errors } = picked;
    let level = if q.level.as_deref() == Some("district") { "district" } else { "street" };
    let mut list = List {
        show,
        counts,
        items,
        analyst: analyst(&c),
        days,
        from: from_s,
        to: to_s,
        level: level.to_owned(),
        period: format!("{from} – {last}"),
        min_orders: 0,
        min_signal: 0,
        candidates: Vec::new(),
        errors,
        p,
        t,
    };
    if list.analyst {
        let to = last + Duration::days(1);
        match api::candidates_for(&state, &c.user, (from, to), level, None, 50).await {
            Ok(r) => {
                list.min_orders = r.min_orders;
                list.min_signal = r.min_signal;
                list.candidates = r
                    .items
                    .into_iter()
                    .map(|x| Cand {
                        orders_href: super::hotspots::drill(level, &x.category, &x.place, from, last),
                        new_href: format!(
                            "/console/problems/new?category={}&place={}&level={level}&from={from}&to={last}",
                            enc(&x.category),
                            enc(&x.place)
                        ),
                        c: x,
                    })
                    .collect();
            }
            // A leader of a unit without a place of its own: the list without candidates.
            Err(e) if e.status == StatusCode::FORBIDDEN => list.analyst = false,
            Err(e) => return page_error(&list.p, &e),
        }
    }
    html(if list.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, &list)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct NewQuery {
    category: Option<String>,
    place: Option<String>,
    level: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// One row of the parts in the form.
#[derive(Default, Clone)]
struct PartRow {
    unit: String,
    task: String,
    due: String,
}

#[derive(Template)]
#[template(path = "problem_new.html")]
struct NewForm {
    p: Page,
    t: Tr,
    category: String,
    category_name: String,
    place: String,
    place_name: String,
    title: String,
    description: String,
    orders: String,
    parts: Vec<PartRow>,
    /// (code, name) of the units a part may go to.
    units: Vec<(String, String)>,
    /// The routing table's lead unit for the candidate's orders, as a hint.
    suggested: String,
    errors: Vec<(String, String)>,
}

/// The form's choice of units: the active handling units within the user's scope, by name.
fn unit_choices(state: &AppState, c: &Console) -> Vec<(String, String)> {
    let dir = state.directory();
    let scope = scope_of(&c.user.actor, &dir);
    let mut v: Vec<(String, String)> = dir
        .units()
        .filter(|u| u.active && u.kind.can_handle() && api::in_scope(&scope, &u.code))
        .map(|u| (u.code.to_string(), u.name.clone()))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    v
}

fn names(state: &AppState, category: &str, place: &str) -> (String, String) {
    let dir = state.directory();
    let c = lianxin_domain::CategoryCode::parse(category).ok().and_then(|c| dir.category(&c).map(|c| c.name.clone()));
    let p =
        lianxin_domain::JurisdictionCode::parse(place).ok().and_then(|j| dir.jurisdiction(&j).map(|j| j.name.clone()));
    (c.unwrap_or_default(), p.unwrap_or_default())
}

/// `GET /console/problems/new`: the form, filled from a candidate when one is named (its
/// title, the signals as description, its orders, and its category's suggested lead unit).
pub async fn new_form(State(state): State<AppState>, c: Console, Query(q): Query<NewQuery>) -> Response {
    let t = c.t();
    let p = page_for(&state, &c, t.s("prb.new"));
    if !analyst(&c) {
        return page_error(
            &p,
            &ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_role",
                "only a supervisor or a leader makes a tough problem",
            ),
        );
    }
    let category = q.category.unwrap_or_default();
    let place = q.place.unwrap_or_default();
    let (category_name, place_name) = names(&state, &category, &place);
    let cal = state.calendar();
    let today = cal.local_date(state.now());
    let day = |v: &Option<String>| v.as_deref().and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok());
    let last = day(&q.to).unwrap_or(today);
    let from = day(&q.from).unwrap_or(last - Duration::days(api::DEFAULT_DAYS - 1));
    let mut orders = Vec::new();
    let mut description = String::new();
    if !category.is_empty() && !place.is_empty() {
        let district = q.level.as_deref() == Some("district");
        let span = (cal.day_start(from), cal.day_start(last + Duration::days(1)));
        match state.store().orders_of_place(&category, &place, district, span, MAX_ORDERS as i64).await {
            Ok(v) => orders = v,
            Err(e) => return page_error(&p, &e.into()),
        }
        let level = if district { "district" } else { "street" };
        if let Ok(r) =
            api::candidates_for(&state, &c.user, (from, last + Duration::days(1)), level, Some(&category), 1000).await
            && let Some(x) = r.items.iter().find(|x| x.category == category && x.place == place)
        {
            description = format!(
                "{from} 至 {last}，{place_name}「{category_name}」受理 {} 件：重复来电 {} 件，不满意回访 {} 件，超期答复或正在超期 {} 件。",
                x.registered, x.repeat, x.dissatisfied, x.late
            );
        }
    }
    // Units and due days are the analyst's to choose: the routing table's lead unit for
    // these orders is shown as a hint, never preselected.
    let suggested = lianxin_domain::CategoryCode::parse(&category).ok().and_then(|code| {
        let dir = state.directory();
        let at = lianxin_domain::JurisdictionCode::parse(&place).ok();
        let district = at.as_ref().and_then(|j| dir.district_of(j)).map(|d| d.code.clone());
        let street = at.filter(|j| Some(j) != district.as_ref());
        dir.suggest_lead(&code, street.as_ref(), district.as_ref()).map(|u| u.name.clone())
    });
    let title =
        if place_name.is_empty() { category_name.clone() } else { format!("{place_name}{category_name}问题") };
    let page = NewForm {
        units: unit_choices(&state, &c),
        p,
        t,
        category,
        category_name,
        place,
        place_name,
        title,
        description,
        orders: orders.join("\n"),
        parts: vec![PartRow::default(); PART_ROWS],
        suggested: suggested.unwrap_or_default(),
        errors: Vec::new(),
    };
    html(StatusCode::OK, &page)
}

/// `POST /console/problems/new`.
pub async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let c = &posted.console;
    let t = c.t();
    let get = |k: &str| posted.get(k).unwrap_or("").replace("\r\n", "\n");
    let mut obj = serde_json::Map::new();
    for k in ["title", "description", "category", "place"] {
        let v = get(k);
        if !v.trim().is_empty() {
            obj.insert(k.into(), v.trim().into());
        }
    }
    let orders_text = get("orders");
    let numbers: Vec<serde_json::Value> = orders_text
        .split([',', '，', '\n', ' ', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.to_owned().into())
        .collect();
    obj.insert("orders".into(), numbers.into());
    let mut rows_in = Vec::new();
    let mut parts = Vec::new();
    for i in 0..PART_ROWS {
        let row = PartRow {
            unit: get(&format!("unit_{i}")).trim().to_owned(),
            task: get(&format!("task_{i}")).trim().to_owned(),
            due: get(&format!("due_{i}")).trim().to_owned(),
        };
        // A row with neither unit nor task is an unused one.
        if !(row.unit.is_empty() && row.task.is_empty()) {
            let mut m = serde_json::Map::new();
            m.insert("unit".into(), row.unit.clone().into());
            m.insert("task".into(), row.task.clone().into());
            m.insert("due".into(), row.due.clone().into());
            parts.push(serde_json::Value::Object(m));
        }
        rows_in.push(row);
    }
    obj.insert("parts".into(), parts.into());
    match api::make(&state, &c.user, &obj).await {
        Ok(p) => Redirect::to(&format!("/console/problems/{}?done=made", enc(&p.id))).into_response(),
        Err(e) if e.fields.is_some() => {
            let errors = field_errors(t, &e, |k| label(t, k));
            let category = get("category");
            let place = get("place");
            let (category_name, place_name) = names(&state, &category, &place);
            let page = NewForm {
                p: page_for(&state, c, t.s("prb.new")),
                t,
                units: unit_choices(&state, c),
                category,
                category_name,
                place,
                place_name,
                title: get("title"),
                description: get("description"),
                orders: orders_text,
                parts: rows_in,
                suggested: String::new(),
                errors,
            };
            html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}

/// A field's label: `parts[1].task` → "任务 2 · 任务" (the second part's task).
fn label(t: Tr, key: &str) -> String {
    if let Some(rest) = key.strip_prefix("parts[")
        && let Some((i, field)) = rest.split_once("].")
        && let Ok(i) = i.parse::<usize>()
    {
        return format!("{}{} · {}", t.s("prb.part_no"), i + 1, t.s(&format!("prb.{field}")));
    }
    t.s(&format!("prb.{key}")).to_owned()
}

#[derive(Template)]
#[template(path = "problem.html")]
struct Detail {
    p: Page,
    t: Tr,
    x: ProblemOut,
    status_label: String,
    rows: Vec<Row>,
    hidden: usize,
    /// The parts this user may report on (not done): (number, unit name, task).
    mine: Vec<(i64, String, String)>,
    created: String,
    errors: Vec<(String, String)>,
    note: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DetailQuery {
    done: Option<String>,
}

async fn detail_page(
    state: &AppState,
    c: &Console,
    id: &str,
    flash: Option<String>,
    errors: Vec<(String, String)>,
    note: String,
    status: StatusCode,
) -> Response {
    let t = c.t();
    let mut p = page_for(state, c, t.s("nav.problems"));
    let x = match api::found(state, &c.user, id).await {
        Ok(x) => x,
        Err(e) => return page_error(&p, &e),
    };
    let mut orders = Vec::new();
    for n in &x.numbers {
        if let Ok((o, _)) = service::visible_order(state, &c.user, n).await {
            orders.push(o);
        }
    }
    let hidden = x.numbers.len() - orders.len();
    let rows = rows(state, c, &orders, "problem").await;
    let created = fmt_dt(&state.calendar(), x.created_at);
    let x = api::out(state, x);
    let mine = x
        .parts
        .iter()
        .filter(|q| x.status == "open" && q.state != "done" && api::reports_for(state, &c.user, &q.unit))
        .map(|q| (q.part, q.unit_name.clone().unwrap_or_else(|| q.unit.clone()), q.task.clone()))
        .collect();
    p.flash = flash;
    let status_label = t.s(&format!("prb.status.{}", x.status)).to_owned();
    html(status, &Detail { p, t, x, status_label, rows, hidden, mine, created, errors, note })
}

/// `GET /console/problems/{id}`.
pub async fn show(
    State(state): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let t = c.t();
    let flash = match q.done.as_deref() {
        Some(d @ ("made" | "reported" | "closed")) => Some(t.s(&format!("prb.done.{d}")).to_owned()),
        _ => None,
    };
    detail_page(&state, &c, &id, flash, Vec::new(), String::new(), StatusCode::OK).await
}

/// `POST /console/problems/{id}/report`: a unit's report on its part.
pub async fn report(State(state): State<AppState>, Path(id): Path<String>, posted: Posted) -> Response {
    let c = &posted.console;
    let t = c.t();
    let note = posted.get("note").unwrap_or("").to_owned();
    // Whether the part is finished is the unit's word: the radio is never preset, and a form
    // without it is refused as the API refuses a body without `done`.
    let obj = super::forms::to_json(&posted.fields, state.calendar().utc_offset_minutes);
    match api::report_on(&state, &c.user, &id, &obj).await {
        Ok(p) => {
            let done = if p.status == "closed" { "closed" } else { "reported" };
            Redirect::to(&format!("/console/problems/{}?done={done}", enc(&id))).into_response()
        }
        Err(e) if e.fields.is_some() => {
            let errors = field_errors(t, &e, |k| label(t, k));
            detail_page(&state, c, &id, None, errors, note, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => page_error(&page_for(&state, c, ""), &e),
    }
}
