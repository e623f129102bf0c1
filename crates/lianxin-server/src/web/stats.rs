//! Statistics in the console (统计分析) for leaders and analysts: the KPIs of a period
//! grouped by unit, category, district, channel, request type or day, and the unit ranking
//! (考核排名). Every figure is the API's (`api::stats::totals` and `rank`, from the rollups
//! for the viewer's scope); each group's registrations open the orders behind them.

use super::i18n::Tr;
use super::page::{Page, html, page_error, refuse_page};
use super::page_for;
use super::session::{Console, enc};
use crate::api::stats::{grouping_for, name_of, rank, totals};
use crate::report::percent as rate;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use lianxin_domain::kpi::{self, Counter, Dimension, Kpis};
use lianxin_store::Grouping;

#[derive(Debug, Default, serde::Deserialize)]
pub struct StatsQuery {
    days: Option<String>,
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

/// One row of the KPI table: rates as text, the registrations with their drill-down.
pub struct Row {
    key: String,
    name: String,
    registered: i64,
    href: String,
    dispatched: i64,
    replied: i64,
    on_time: String,
    satisfaction: String,
    resolution: String,
    completion: String,
    returns: String,
    fcr: String,
    hours: String,
}

pub struct RankRow {
    rank: usize,
    name: String,
    score: String,
    href: String,
    on_time: String,
    satisfaction: String,
    resolution: String,
    sign: String,
    returns: String,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    p: Page,
    t: Tr,
    view: &'static str,
    days: String,
    from: String,
    to: String,
    group_by: String,
    /// The label key of the first column.
    col_label: String,
    groups: Vec<(&'static str, &'static str)>,
    period: String,
    total: Option<Row>,
    rows: Vec<Row>,
    ranking: Vec<RankRow>,
    errors: Vec<(String, String)>,
}

/// The groupings offered: (value, label key).
const GROUPS: &[(&str, &str)] = &[
    ("unit", "stats.by_unit"),
    ("category", "stats.by_category"),
    ("district", "stats.by_district"),
    ("channel", "stats.by_channel"),
    ("request_type", "stats.by_type"),
    ("day", "stats.by_day"),
];

/// The orders registered in the period that a group's row counts.
fn drill(group: &str, key: &str, from: NaiveDate, last: NaiveDate) -> String {
    match group {
        "day" => format!("/console/orders?created_from={key}&created_to={key}"),
        "all" => format!("/console/orders?created_from={from}&created_to={last}"),
        g => {
            let param = if g == "unit" { "lead_unit" } else { g };
            format!("/console/orders?{param}={}&created_from={from}&created_to={last}", enc(key))
        }
    }
}

fn row(group: &str, key: &str, name: String, k: &Kpis, period: (NaiveDate, NaiveDate)) -> Row {
    let count = |c: Counter| k.counts.get(c.as_str()).copied().unwrap_or(0);
    Row {
        key: key.to_owned(),
        name,
        registered: count(Counter::Registered),
        href: drill(group, key, period.0, period.1),
        dispatched: count(Counter::Dispatched),
        replied: count(Counter::Replied),
        on_time: rate(k.on_time_rate),
        satisfaction: rate(k.satisfaction_rate),
        resolution: rate(k.resolution_rate),
        completion: rate(k.completion_rate),
        returns: rate(k.return_rate),
        fcr: rate(k.first_contact_resolution_rate),
        hours: k.avg_handling_hours.map(|h| format!("{h:.1}")).unwrap_or_else(|| "–".into()),
    }
}

/// `GET /console/stats` (KPIs) and `GET /console/stats/ranking`.
async fn show(state: AppState, c: Console, q: StatsQuery, view: &'static str) -> Response {
    let t = c.t();
    let p = page_for(&state, &c, t.s("nav.stats"));
    if let Some(e) = refuse_page(&c.user, "/console/stats") {
        return page_error(&p, &e);
    }
    let today = state.calendar().local_date(state.now());
    let picked =
        super::period::pick(t, today, q.days.as_deref(), q.from.as_deref(), q.to.as_deref(), &["30", "7", "90", "365"]);
    let (from, last) = (picked.from, picked.last);
    let to = last + Duration::days(1);
    let group_by = q.group_by.as_deref().filter(|g| GROUPS.iter().any(|(v, _)| v == g)).unwrap_or("unit").to_owned();
    let (mut total, mut rows, mut ranking) = (None, Vec::new(), Vec::new());
    if view == "kpis" {
        let all = match totals(&state, &c.user, Grouping::Key(Dimension::All), Some(Dimension::All), from, to).await {
            Ok(t) => t,
            Err(e) => return page_error(&p, &e),
        };
        let k = kpi::kpis(&all.get("all").cloned().unwrap_or_default());
        total = Some(row("all", "all", t.s("stats.total").to_owned(), &k, (from, last)));
        let (grouping, dim) = grouping_for(&group_by);
        let groups = match totals(&state, &c.user, grouping, dim, from, to).await {
            Ok(t) => t,
            Err(e) => return page_error(&p, &e),
        };
        for (key, tot) in &groups {
            if key.is_empty() || tot.get(Counter::Registered) + tot.get(Counter::Replied) + tot.get(Counter::Due) == 0 {
                continue;
            }
            let name = match group_by.as_str() {
                "channel" => t.channel(key),
                "request_type" => t.request_type(key),
                "day" => key.clone(),
                _ => name_of(&state, dim, key).unwrap_or_else(|| key.clone()),
            };
            rows.push(row(&group_by, key, name, &kpi::kpis(tot), (from, last)));
        }
        if group_by != "day" {
            rows.sort_by(|a, b| b.registered.cmp(&a.registered).then_with(|| a.key.cmp(&b.key)));
        }
    } else {
        let r = match rank(&state, &c.user, from, to, 10).await {
            Ok(r) => r,
            Err(e) => return page_error(&p, &e),
        };
        ranking = r
            .items
            .into_iter()
            .map(|u| RankRow {
                rank: u.rank,
                name: u.name.clone().unwrap_or_else(|| u.unit.clone()),
                score: format!("{:.1}", u.score),
                href: drill("unit", &u.unit, from, last),
                on_time: rate(u.kpis.on_time_rate),
                satisfaction: rate(u.kpis.satisfaction_rate),
                resolution: rate(u.kpis.resolution_rate),
                sign: rate(u.kpis.on_time_sign_rate),
                returns: rate(u.kpis.return_rate),
            })
            .collect();
    }
    let page = StatsPage {
        p,
        t,
        view,
        days: picked.days,
        from: picked.from_s,
        to: picked.to_s,
        col_label: format!("stats.col_{group_by}"),
        group_by,
        groups: GROUPS.to_vec(),
        period: format!("{from} – {last}"),
        total,
        rows,
        ranking,
        errors: picked.errors,
    };
    html(StatusCode::OK, &page)
}

pub async fn kpis(State(state): State<AppState>, c: Console, Query(q): Query<StatsQuery>) -> Response {
    show(state, c, q, "kpis").await
}

pub async fn ranking(State(state): State<AppState>, c: Console, Query(q): Query<StatsQuery>) -> Response {
    show(state, c, q, "ranking").await
}
