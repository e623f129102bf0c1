//! `/console/admin`: what the city's set-up holds, with links, and the latest changes.

use super::{HistoryRow, Tab, fail, history_rows, tabs};
use crate::admin;
use crate::state::AppState;
use crate::web::i18n::Tr;
use crate::web::page::{Page, html};
use crate::web::page_for;
use crate::web::session::Console;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::Role;

/// One card of the overview.
pub struct Count {
    pub id: &'static str,
    pub href: &'static str,
    pub label: String,
    pub total: usize,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    p: Page,
    t: Tr,
    tabs: Vec<Tab>,
    counts: Vec<Count>,
    history: Vec<HistoryRow>,
}

fn detail(t: Tr, inactive: usize) -> String {
    if inactive == 0 { String::new() } else { format!("{inactive} {}", t.s("adm.inactive_count")) }
}

/// `GET /console/admin`. A unit admin goes on to its accounts.
pub async fn show(State(state): State<AppState>, c: Console) -> Response {
    if !c.user.actor.has(Role::Admin) && c.user.actor.has(Role::UnitAdmin) {
        return Redirect::to("/console/admin/users").into_response();
    }
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, &c, &e);
    }
    let t = c.t();
    let dir = state.directory();
    let users = match admin::list_users(&state, &c.user).await {
        Ok(u) => u,
        Err(e) => return fail(&state, &c, &e),
    };
    let leaves = dir.categories().filter(|x| x.leaf.is_some()).count();
    let groups = dir.categories().count() - leaves;
    let counts = vec![
        Count {
            id: "jurisdictions",
            href: "/console/admin/jurisdictions",
            label: t.s("adm.tab.jurisdictions").to_owned(),
            total: dir.jurisdictions().count(),
            detail: detail(t, dir.jurisdictions().filter(|j| !j.active).count()),
        },
        Count {
            id: "units",
            href: "/console/admin/units",
            label: t.s("adm.tab.units").to_owned(),
            total: dir.units().count(),
            detail: detail(t, dir.units().filter(|u| !u.active).count()),
        },
        Count {
            id: "categories",
            href: "/console/admin/categories",
            label: t.s("adm.tab.categories").to_owned(),
            total: dir.categories().count(),
            detail: {
                let mut d = format!("{groups} {} · {leaves} {}", t.s("adm.groups"), t.s("adm.leaves"));
                let off = dir.categories().filter(|x| !x.active).count();
                if off > 0 {
                    d.push_str(&format!(" · {}", detail(t, off)));
                }
                d
            },
        },
        Count {
            id: "routes",
            href: "/console/admin/routes",
            label: t.s("adm.tab.routes").to_owned(),
            total: dir.routes().count(),
            detail: String::new(),
        },
        Count {
            id: "users",
            href: "/console/admin/users",
            label: t.s("adm.tab.users").to_owned(),
            total: users.len(),
            detail: {
                let off = users.iter().filter(|u| !u.active).count();
                if off == 0 { String::new() } else { format!("{off} {}", t.s("adm.disabled_count")) }
            },
        },
    ];
    let history = match admin::history(&state, &c.user, None, None, 20).await {
        Ok(h) => history_rows(&state, t, &h).await,
        Err(e) => return fail(&state, &c, &e),
    };
    let page = OverviewPage {
        p: page_for(&state, &c, t.s("adm.tab.overview")),
        t,
        tabs: tabs(&c, "/console/admin"),
        counts,
        history,
    };
    html(StatusCode::OK, &page)
}
