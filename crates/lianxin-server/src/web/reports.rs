//! Reports in the console (报告): pick a week, a month or any two days; read the report as a
//! printable page or download it as an Excel workbook. For the viewer's scope, as every
//! statistic (a district government gets its own district's report).

use super::i18n::Tr;
use super::page::{Page, html, page_error, refuse_page, secure_headers};
use super::page_for;
use super::session::Console;
use crate::api::stats::{load_weights, within_of};
use crate::error::ApiError;
use crate::report::{self, Context, Period};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Duration};
use lianxin_domain::scope::area_of;

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReportQuery {
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    p: Page,
    t: Tr,
    /// (period, label)
    presets: Vec<(String, String)>,
    from: String,
    to: String,
    error: String,
}

/// The period asked for: `period`, or `from` and `to` (a special report).
fn asked(q: &ReportQuery) -> Option<Result<Period, String>> {
    let v = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    match (v(&q.period), v(&q.from), v(&q.to)) {
        (Some(p), _, _) => Some(Period::parse(&p)),
        (None, Some(f), Some(t)) => Some(Period::parse(&format!("{f}..{t}"))),
        (None, Some(_), None) | (None, None, Some(_)) => Some(Err("give both the first and the last day".into())),
        _ => None,
    }
}

async fn build(state: &AppState, c: &Console, period: &Period) -> Result<report::Report, ApiError> {
    let dir = state.directory();
    let cx = Context {
        store: state.store(),
        dir: &dir,
        cal: &state.calendar(),
        within: within_of(&c.user.actor, &dir),
        area: area_of(&c.user.actor, &dir),
        weights: load_weights(state).await?,
        now: state.now(),
    };
    Ok(report::build(&cx, period).await?)
}

/// `GET /console/reports`: the choice of reports, or (with a period) the report itself.
pub async fn page(State(state): State<AppState>, c: Console, Query(q): Query<ReportQuery>) -> Response {
    let t = c.t();
    let p = page_for(&state, &c, t.s("nav.reports"));
    if let Some(e) = refuse_page(&c.user, "/console/reports") {
        return page_error(&p, &e);
    }
    let today = state.calendar().local_date(state.now());
    let error = match asked(&q) {
        Some(Ok(period)) => {
            return match build(&state, &c, &period).await.map(|r| report::html(&r, false)) {
                Ok(Ok(body)) => {
                    let mut resp = (StatusCode::OK, body).into_response();
                    let h = resp.headers_mut();
                    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
                    secure_headers(h);
                    resp
                }
                Ok(Err(e)) => {
                    page_error(&p, &ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))
                }
                Err(e) => page_error(&p, &e),
            };
        }
        Some(Err(m)) => m,
        None => String::new(),
    };
    // Last week, this and last month, and the last three months before.
    let mut presets = Vec::new();
    let last_week = today - Duration::days(7);
    let w = last_week.iso_week();
    presets.push((format!("{}-W{:02}", w.year(), w.week()), format!("{}年第{}周（上周）", w.year(), w.week())));
    let mut month = today.with_day(1).unwrap_or(today);
    for i in 0..4 {
        let label = if i == 0 {
            format!("{}年{}月（本月至今）", month.year(), month.month())
        } else {
            format!("{}年{}月", month.year(), month.month())
        };
        presets.push((format!("{}-{:02}", month.year(), month.month()), label));
        month = (month - Duration::days(1)).with_day(1).unwrap_or(month);
    }
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    html(StatusCode::OK, &ReportsPage { p, t, presets, from: v(&q.from), to: v(&q.to), error })
}

/// `GET /console/reports/download?period=…`: the report as `.xlsx`.
pub async fn download(State(state): State<AppState>, c: Console, Query(q): Query<ReportQuery>) -> Response {
    if let Some(e) = refuse_page(&c.user, "/console/reports") {
        return e.into_response();
    }
    let period = match asked(&q) {
        Some(Ok(p)) => p,
        Some(Err(m)) => return ApiError::malformed(m).into_response(),
        None => return ApiError::malformed("give a period: 2026-10, 2026-W44 or from and to").into_response(),
    };
    let r = match build(&state, &c, &period).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match report::workbook(&r) {
        Ok(bytes) => {
            let mut resp = (StatusCode::OK, bytes).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            );
            let name = format!("attachment; filename=\"report-{}.xlsx\"", period.name.replace("..", "_"));
            if let Ok(v) = HeaderValue::from_str(&name) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response(),
    }
}

/// `GET /console/assets/report.css`.
pub async fn css() -> Response {
    super::asset(include_str!("../../static/report.css"), "text/css; charset=utf-8")
}
