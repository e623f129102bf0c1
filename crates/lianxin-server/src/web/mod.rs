//! The staff console (server-rendered pages) under `/login` and `/console`.
//!
//! Pages are askama templates in `templates/`, one stylesheet and one script of our own in
//! `static/` (embedded in the binary). Every read and write goes through
//! [`crate::service`], the same functions the JSON API uses, so scope, masking, audit and
//! the lifecycle rules are the API's exactly. Sessions are the API's sessions table behind
//! an HttpOnly, SameSite=Strict cookie; every form carries a per-session CSRF token.

mod admin;
mod aids;
mod announcements;
mod batch;
mod forms;
mod hotspots;
mod i18n;
mod incidents;
mod intake;
mod kb;
mod order;
mod page;
mod period;
mod problems;
mod queues;
mod reports;
mod search;
mod session;
mod stats;
pub mod supervision;
mod view;
pub(crate) mod wall;

pub use i18n::{Lang, Tr};

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use page::{Page, page_error};
use session::Console;

/// All console routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(session::login_form).post(session::login_submit))
        .route("/logout", post(session::logout))
        .route("/console", get(console_home))
        .route("/console/", get(console_home))
        .route("/console/intake", get(intake::form).post(intake::submit))
        .route("/console/callers", get(intake::caller_history))
        .route("/console/intake/aids", get(aids::aids))
        .route("/console/registered", get(queues::registered))
        .route("/console/review", get(queues::review))
        .route("/console/dispatch", get(queues::dispatch))
        .route("/console/dispatch/batch", post(batch::dispatch))
        .route("/console/inbox", get(queues::inbox))
        .route("/console/callback", get(queues::callback))
        .route("/console/supervise", get(queues::supervise))
        .route("/console/search", get(search::page))
        .route("/console/kb", get(kb::list))
        .route("/console/kb/new", get(kb::new_form))
        .route("/console/kb/save", post(kb::save))
        .route("/console/kb/{id}", get(kb::show))
        .route("/console/kb/{id}/edit", get(kb::edit_form))
        .route("/console/announcements", get(announcements::list))
        .route("/console/announcements/new", get(announcements::new_form))
        .route("/console/announcements/save", post(announcements::save))
        .route("/console/announcements/{id}/edit", get(announcements::edit_form))
        .route("/console/announcements/{id}/withdraw", post(announcements::withdraw))
        .route("/console/hotspots", get(hotspots::page))
        .route("/console/incidents", get(incidents::list))
        .route("/console/incidents/detect", post(incidents::detect))
        .route("/console/incidents/rule", post(incidents::save_rule))
        .route("/console/incidents/{id}", get(incidents::show))
        .route("/console/incidents/{id}/confirm", post(incidents::confirm))
        .route("/console/incidents/{id}/dismiss", post(incidents::dismiss))
        .route("/console/incidents/{id}/orders", post(incidents::add_orders))
        .route("/console/incidents/{id}/reply", post(incidents::reply))
        .route("/console/problems", get(problems::list))
        .route("/console/problems/new", get(problems::new_form).post(problems::create))
        .route("/console/problems/{id}", get(problems::show))
        .route("/console/problems/{id}/report", post(problems::report))
        .route("/console/orders", get(queues::orders))
        .route("/console/orders/{number}", get(order::show))
        .route("/console/orders/{number}/actions/{action}", post(order::act))
        .route("/console/reports", get(reports::page))
        .route("/console/reports/download", get(reports::download))
        .route("/console/assets/report.css", get(reports::css))
        .route("/console/stats", get(stats::kpis))
        .route("/console/stats/ranking", get(stats::ranking))
        .route("/wall", get(wall::page))
        .route("/wall/events", get(wall::events))
        .route("/wall/assets/wall.css", get(wall::css))
        .route("/wall/assets/wall.js", get(wall::js))
        .route("/console/assets/console.css", get(css))
        .route("/console/assets/console.js", get(js))
        .merge(admin::routes())
        .route("/console/{*rest}", get(not_found))
        .layer(axum::middleware::from_fn(session::remember_lang))
}

/// Where a user lands after signing in: the first page of their navigation.
pub fn home(user: &CurrentUser) -> String {
    page::nav_for(user, Tr::default(), "")
        .first()
        .map(|n| n.href.to_owned())
        .unwrap_or_else(|| "/console/orders".into())
}

async fn console_home(c: Console) -> Redirect {
    Redirect::to(&home(&c.user))
}

async fn not_found(state: axum::extract::State<AppState>, c: Console) -> Response {
    page_error(&page_for(&state, &c, ""), &ApiError::not_found("page"))
}

/// A page header for the signed-in user, the unit named from the reference data.
pub(crate) fn page_for(state: &AppState, c: &Console, title: &str) -> Page {
    let dir = state.directory();
    let unit = c.user.actor.unit.as_ref().and_then(|u| dir.unit(u)).map(|u| u.name.clone());
    Page::new(c, title).with_unit_name(unit)
}

pub(crate) fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

async fn css() -> Response {
    asset(include_str!("../../static/console.css"), "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(include_str!("../../static/console.js"), "text/javascript; charset=utf-8")
}
