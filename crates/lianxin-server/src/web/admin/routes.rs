//! The routing catalogue (派单目录): which unit an order of a category in a place goes to
//! by default. A table with search, an add / replace form and a delete button per row.

use super::tree::{nodes, tree_options};
use super::{Errs, Field, HistoryRow, Opt, Posted, Tab, boxed, fail, field_label, flash, history_rows, matches, tabs};
use crate::admin;
use crate::error::ApiError;
use crate::setup::Kind;
use crate::state::AppState;
use crate::web::i18n::Tr;
use crate::web::page::{Page, html};
use crate::web::page_for;
use crate::web::session::{self, Console, enc};
use crate::web::view::Names;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::reference::Directory;
use lianxin_domain::*;
use serde_json::{Map, Value};

/// One row of the catalogue.
pub struct RouteRow {
    pub category: String,
    pub category_name: String,
    pub category_path: String,
    pub group: bool,
    pub place: String,
    pub place_name: String,
    pub unit: String,
    pub unit_name: String,
    pub unit_usable: bool,
    pub edit_href: String,
}

#[derive(Template)]
#[template(path = "admin/routes.html")]
struct RoutesPage {
    p: Page,
    t: Tr,
    tabs: Vec<Tab>,
    q: String,
    rows: Vec<RouteRow>,
    total: usize,
    fields: Vec<Field>,
    history: Vec<HistoryRow>,
    history_error: String,
}

#[derive(serde::Deserialize, Default)]
pub struct RoutesQuery {
    q: Option<String>,
    done: Option<String>,
    category: Option<String>,
    jurisdiction: Option<String>,
    unit: Option<String>,
}

fn rows(dir: &Directory, t: Tr, q: &str) -> (Vec<RouteRow>, usize) {
    let names = Names(dir);
    let mut all: Vec<&lianxin_domain::reference::RouteRule> = dir.routes().collect();
    all.sort();
    let total = all.len();
    let rows = all
        .into_iter()
        .map(|r| {
            let place_name = match &r.jurisdiction {
                Some(j) => dir.jurisdiction(j).map(|x| x.name.clone()).unwrap_or_else(|| j.to_string()),
                None => t.s("adm.anywhere").to_owned(),
            };
            let cat = dir.category(&r.category);
            let unit = dir.unit(&r.unit);
            let place = r.jurisdiction.as_ref().map(|j| j.to_string()).unwrap_or_default();
            RouteRow {
                category: r.category.to_string(),
                category_name: names.category(&r.category),
                category_path: names.category_parents(&r.category),
                group: cat.is_some_and(|c| c.leaf.is_none()),
                edit_href: format!(
                    "/console/admin/routes?category={}&jurisdiction={}&unit={}#route-form",
                    enc(r.category.as_str()),
                    enc(&place),
                    enc(r.unit.as_str())
                ),
                place,
                place_name,
                unit: r.unit.to_string(),
                unit_name: names.unit(&r.unit),
                unit_usable: unit.is_some_and(|u| u.active && u.kind.can_handle()),
            }
        })
        .filter(|r| {
            q.is_empty()
                || matches(q, &r.category_name, &r.category)
                || matches(q, &r.category_path, "")
                || matches(q, &r.place_name, &r.place)
                || matches(q, &r.unit_name, &r.unit)
        })
        .collect();
    (rows, total)
}

fn form_fields(state: &AppState, t: Tr, v: &dyn Fn(&str) -> String, errs: &Errs) -> Vec<Field> {
    let dir = state.directory();
    let f = |name: &'static str| {
        Field::new("route", name, field_label(t, &format!("route_{name}")), "select").value(v(name)).errs(errs)
    };
    let cats = nodes(&dir, Kind::Categories, t);
    let mut cat_opts = tree_options(t, &cats, None, |_| true);
    cat_opts[0] = Opt::new("", t.s("adm.choose_option"));
    let places = nodes(&dir, Kind::Jurisdictions, t);
    let levels: std::collections::BTreeMap<String, JurisdictionLevel> =
        dir.jurisdictions().map(|j| (j.code.to_string(), j.level)).collect();
    let mut place_opts = tree_options(t, &places, None, |n| {
        matches!(levels.get(&n.code), Some(JurisdictionLevel::District | JurisdictionLevel::Street))
    });
    place_opts[0] = Opt::new("", t.s("adm.anywhere"));
    let units = nodes(&dir, Kind::Units, t);
    let mut unit_opts = tree_options(t, &units, None, |n| {
        UnitCode::parse(&n.code).ok().and_then(|c| dir.unit(&c).map(|u| u.kind.can_handle())).unwrap_or(false)
    });
    unit_opts[0] = Opt::new("", t.s("adm.choose_option"));
    vec![
        f("category").required().options(cat_opts).hint(t.s("adm.hint.route_category")),
        f("jurisdiction").options(place_opts).hint(t.s("adm.hint.route_place")),
        f("unit").required().options(unit_opts),
    ]
}

async fn page(state: &AppState, c: &Console, q: &RoutesQuery, refused: Option<(&ApiError, &Posted)>) -> Response {
    let t = c.t();
    let dir = state.directory();
    let query = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    let (rows, total) = rows(&dir, t, &query);
    let mut p = page_for(state, c, t.s("adm.tab.routes"));
    p.flash = flash(t, q.done.as_deref(), "");
    let (errs, status, posted) = match refused {
        Some((e, posted)) => {
            p.error = Some(boxed(t, e, "route-form"));
            (Errs::of(t, e), e.status, Some(posted.clone()))
        }
        None => (Errs::default(), StatusCode::OK, None),
    };
    let v = |k: &str| match &posted {
        Some(ps) => ps.get(k).unwrap_or("").to_owned(),
        None => match k {
            "category" => q.category.clone().unwrap_or_default(),
            "jurisdiction" => q.jurisdiction.clone().unwrap_or_default(),
            "unit" => q.unit.clone().unwrap_or_default(),
            _ => String::new(),
        },
    };
    let fields = form_fields(state, t, &v, &errs);
    let (history, history_error) = match admin::history(state, &c.user, Some("route"), None, 20).await {
        Ok(h) => (history_rows(state, t, &h).await, String::new()),
        Err(e) => (Vec::new(), e.message),
    };
    let page = RoutesPage {
        p,
        t,
        tabs: tabs(c, "/console/admin/routes"),
        q: q.q.clone().unwrap_or_default().trim().to_owned(),
        rows,
        total,
        fields,
        history,
        history_error,
    };
    html(status, &page)
}

/// `GET /console/admin/routes`.
pub async fn list(State(state): State<AppState>, c: Console, Query(q): Query<RoutesQuery>) -> Response {
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, &c, &e);
    }
    page(&state, &c, &q, None).await
}

/// `POST /console/admin/routes`: adds a row, or replaces the unit of the row of the same
/// category and place.
pub async fn save(State(state): State<AppState>, form: session::Posted) -> Response {
    let c = &form.console;
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, c, &e);
    }
    let posted = Posted(form.fields.clone());
    let mut item = Map::new();
    for col in Kind::Routes.columns() {
        item.insert((*col).to_owned(), Value::String(posted.get(col).unwrap_or("").trim().to_owned()));
    }
    let category = posted.get("category").unwrap_or("").trim().to_owned();
    match admin::save_item(&state, &c.user, Kind::Routes, item).await {
        Ok(r) => {
            let done = if r.created > 0 {
                "route_create"
            } else if r.updated > 0 {
                "route_update"
            } else {
                "unchanged"
            };
            Redirect::to(&format!("/console/admin/routes?done={done}&q={}", enc(&category))).into_response()
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            page(&state, c, &RoutesQuery::default(), Some((&e, &posted))).await
        }
        Err(e) => fail(&state, c, &e),
    }
}

/// `POST /console/admin/routes/delete`: removes the row of `category` and `jurisdiction`.
pub async fn delete(State(state): State<AppState>, form: session::Posted) -> Response {
    let c = &form.console;
    let category = form.get("category").unwrap_or("").to_owned();
    let jurisdiction = form.get("jurisdiction").unwrap_or("").to_owned();
    match admin::delete_route(&state, &c.user, &category, Some(jurisdiction.as_str())).await {
        Ok(()) => Redirect::to(&format!("/console/admin/routes?done=delete&q={}", enc(&category))).into_response(),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            page(&state, c, &RoutesQuery::default(), Some((&e, &Posted::default()))).await
        }
        Err(e) => fail(&state, c, &e),
    }
}
