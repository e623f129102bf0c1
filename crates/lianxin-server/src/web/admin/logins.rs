//! `/console/admin/logins`: the login log — every checked sign-in, newest first, with
//! filters by account, address and outcome and pages of older attempts (admins only).

use super::{Tab, fail, tabs};
use crate::admin;
use crate::state::AppState;
use crate::web::i18n::Tr;
use crate::web::page::{Page, html};
use crate::web::page_for;
use crate::web::session::{Console, enc};
use crate::web::view::fmt_dt;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

/// One attempt as a table row.
pub struct LoginRow {
    pub at: String,
    pub username: String,
    pub address: String,
    pub outcome: &'static str,
    pub outcome_label: String,
    pub via: String,
}

#[derive(Template)]
#[template(path = "admin/logins.html")]
struct LoginsPage {
    p: Page,
    t: Tr,
    tabs: Vec<Tab>,
    username: String,
    address: String,
    outcome: String,
    rows: Vec<LoginRow>,
    /// The link to the next (older) page, if any.
    older: String,
    /// Whether this is a later page (a link back to the newest).
    paged: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct LoginsQuery {
    username: Option<String>,
    address: Option<String>,
    outcome: Option<String>,
    cursor: Option<String>,
}

/// `GET /console/admin/logins`.
pub async fn list(State(state): State<AppState>, c: Console, Query(q): Query<LoginsQuery>) -> Response {
    if let Err(e) = admin::require_login_log(&c.user) {
        return fail(&state, &c, &e);
    }
    let t = c.t();
    let keep = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_owned();
    let (username, address, outcome) = (keep(&q.username), keep(&q.address), keep(&q.outcome));
    let paged = q.cursor.as_deref().is_some_and(|s| !s.trim().is_empty());
    let parsed = crate::api::admin::login_filter(
        q.username.clone(),
        q.address.clone(),
        q.outcome.clone(),
        Some("50".into()),
        q.cursor.clone(),
    );
    let (filter, limit) = match parsed {
        Ok(x) => x,
        Err(e) => return fail(&state, &c, &e),
    };
    let (records, next) = match admin::login_log(&state, &c.user, &filter, limit).await {
        Ok(x) => x,
        Err(e) => return fail(&state, &c, &e),
    };
    let cal = state.calendar();
    let rows = records
        .into_iter()
        .map(|r| {
            let outcome = r.attempt.outcome.as_str();
            LoginRow {
                at: fmt_dt(&cal, r.attempt.at),
                username: r.attempt.username,
                address: r.attempt.address,
                outcome,
                outcome_label: t.s(&format!("adm.login.{outcome}")).to_owned(),
                via: t
                    .s(&format!("adm.login.via_{}", if r.attempt.via == "api" { "api" } else { "console" }))
                    .to_owned(),
            }
        })
        .collect();
    let older = next
        .map(|n| {
            format!(
                "/console/admin/logins?username={}&address={}&outcome={}&cursor={n}",
                enc(&username),
                enc(&address),
                enc(&outcome)
            )
        })
        .unwrap_or_default();
    let page = LoginsPage {
        p: page_for(&state, &c, t.s("adm.tab.logins")),
        t,
        tabs: tabs(&c, "/console/admin/logins"),
        username,
        address,
        outcome,
        rows,
        older,
        paged,
    };
    html(StatusCode::OK, &page)
}
