//! Hotspots in the console (热点): a period, a level and a category group; the ranked cells
//! with their growth and the emerging test, and a heat table of categories × places; every
//! count opens the orders behind it. The figures are the API's (`api::stats::hotspot_report`).

use super::i18n::Tr;
use super::page::{Page, html, page_error};
use super::page_for;
use super::session::{Console, enc};
use crate::api::stats::{HotspotOut, hotspot_report};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

#[derive(Debug, Default, serde::Deserialize)]
pub struct HotspotQuery {
    /// 7, 30 or 90: the last days up to today.
    days: Option<String>,
    /// A period of its own: first and last day, both included.
    from: Option<String>,
    to: Option<String>,
    level: Option<String>,
    category: Option<String>,
}

struct Ranked {
    rank: usize,
    h: HotspotOut,
    growth: String,
    href: String,
}

struct HeatRow {
    name: String,
    /// (count, heat class 0–9, drill-down link)
    cells: Vec<(i64, u8, String)>,
}

#[derive(Template)]
#[template(path = "hotspots.html")]
struct HotspotsPage {
    p: Page,
    t: Tr,
    days: String,
    from: String,
    to: String,
    level: String,
    category: String,
    groups: Vec<(String, String)>,
    period: String,
    baseline_from: String,
    ranked: Vec<Ranked>,
    places: Vec<String>,
    heat: Vec<HeatRow>,
    errors: Vec<(String, String)>,
}

/// The orders behind a cell: the order list filtered by category, place and days.
pub(super) fn drill(level: &str, category: &str, place: &str, from: NaiveDate, last: NaiveDate) -> String {
    let place_key = if level == "district" { "district" } else { "street" };
    format!(
        "/console/orders?category={}&{place_key}={}&created_from={from}&created_to={last}",
        enc(category),
        enc(place)
    )
}

fn percent(g: Option<f64>, t: Tr) -> String {
    match g {
        Some(g) => format!("{:+.0}%", g * 100.0),
        None => t.s("hot.new").to_owned(),
    }
}

/// `GET /console/hotspots`.
pub async fn page(State(state): State<AppState>, c: Console, Query(q): Query<HotspotQuery>) -> Response {
    let t = c.t();
    let cal = state.calendar();
    let today = cal.local_date(state.now());
    let picked =
        super::period::pick(t, today, q.days.as_deref(), q.from.as_deref(), q.to.as_deref(), &["7", "30", "90"]);
    let super::period::Picked { from, last, from_s, to_s, days: days_sel, errors } = picked;
    let date = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let level = if q.level.as_deref() == Some("district") { "district" } else { "street" };
    let category = date(&q.category).unwrap_or_default();
    let dir = state.directory();
    let mut groups: Vec<&lianxin_domain::reference::Category> =
        dir.categories().filter(|x| x.parent.is_none()).collect();
    groups.sort_by_key(|x| (x.position, x.code.clone()));
    let groups: Vec<(String, String)> = groups.iter().map(|x| (x.code.to_string(), x.name.clone())).collect();
    drop(dir);
    let cat = groups.iter().any(|(c, _)| *c == category).then_some(category.as_str());
    let to = last + Duration::days(1);
    let report = match hotspot_report(&state, &c.user, (from, to), level, cat, 1000).await {
        Ok(r) => r,
        Err(e) => return page_error(&page_for(&state, &c, t.s("nav.hotspots")), &e),
    };
    // The heat table: the ten busiest categories × the ten busiest places of the period.
    let mut by_cat: BTreeMap<String, (String, i64)> = BTreeMap::new();
    let mut by_place: BTreeMap<String, (String, i64)> = BTreeMap::new();
    for h in &report.items {
        let e = by_cat.entry(h.category.clone()).or_insert((h.category_name.clone().unwrap_or_default(), 0));
        e.1 += h.count;
        let e = by_place.entry(h.place.clone()).or_insert((h.place_name.clone().unwrap_or_default(), 0));
        e.1 += h.count;
    }
    let top = |m: BTreeMap<String, (String, i64)>| {
        let mut v: Vec<(String, String, i64)> = m.into_iter().map(|(k, (n, c))| (k, n, c)).collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        v.truncate(10);
        v
    };
    let (cats, places) = (top(by_cat), top(by_place));
    let count_of: BTreeMap<(&str, &str), i64> =
        report.items.iter().map(|h| ((h.category.as_str(), h.place.as_str()), h.count)).collect();
    let max = report.items.iter().map(|h| h.count).max().unwrap_or(1).max(1);
    let heat = cats
        .iter()
        .map(|(code, name, _)| HeatRow {
            name: name.clone(),
            cells: places
                .iter()
                .map(|(place, _, _)| {
                    let n = count_of.get(&(code.as_str(), place.as_str())).copied().unwrap_or(0);
                    let class = if n == 0 { 0 } else { (1 + (n * 8) / max).min(9) as u8 };
                    (n, class, drill(level, code, place, from, last))
                })
                .collect(),
        })
        .collect();
    let ranked = report
        .items
        .into_iter()
        .take(30)
        .enumerate()
        .map(|(i, h)| Ranked {
            rank: i + 1,
            growth: percent(h.growth, t),
            href: drill(level, &h.category, &h.place, from, last),
            h,
        })
        .collect();
    let page = HotspotsPage {
        p: page_for(&state, &c, t.s("nav.hotspots")),
        t,
        days: days_sel,
        from: from_s,
        to: to_s,
        level: level.to_owned(),
        category,
        groups,
        period: format!("{from} – {last}"),
        baseline_from: report.baseline_from,
        ranked,
        places: places.into_iter().map(|(_, n, _)| n).collect(),
        heat,
        errors,
    };
    html(if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, &page)
}
