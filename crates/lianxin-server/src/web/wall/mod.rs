//! The live wall (实时大屏) at `/wall`: full screen and dark, for the hall's big screen.
//! Today's registrations by hour against the usual day (the same weekday of the four weeks
//! before), request types, channels, level-1 categories, places, the open and overdue
//! gauges, the day's KPIs and the surge alarm. Every figure is read from the rollups for the
//! viewer's scope (a district leader's wall shows its own orders, its places' streets).
//!
//! The page is rendered whole; `/wall/events` (server-sent events) then sends the wall's
//! body again whenever an order has changed (the database's change head, checked every
//! second, so changes by any server process show) and every 30 s for the clock; the stream
//! ends as soon as its session does (signed out, expired or the account disabled). Each
//! connection holds no more than its stream's state; the browser's `EventSource` reconnects
//! after a restart by itself, and the page reloads when the server refuses it (signed out).

mod chart;

use super::i18n::Tr;
use super::page::{html, page_error, refuse_page};
use super::page_for;
use super::session::Console;
use crate::api::stats::{Within, name_of, totals, within_of};
use crate::error::ApiError;
use crate::report::percent as rate;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use lianxin_domain::JurisdictionCode;
use lianxin_domain::hotspot::{SurgeTest, surge};
use lianxin_domain::kpi::{self, Counter, Dimension};
use lianxin_domain::scope::{Area, area_of};
use lianxin_store::Grouping;
use std::collections::BTreeMap;

/// A big number at the top of the wall.
struct Figure {
    id: &'static str,
    label: &'static str,
    value: String,
    class: &'static str,
}

#[derive(Template)]
#[template(path = "wall/body.html")]
struct WallBody {
    t: Tr,
    scope: String,
    updated: String,
    figures: Vec<Figure>,
    hours: String,
    types: String,
    channels: String,
    categories: String,
    places_title: &'static str,
    places: String,
    surges: Vec<String>,
}

#[derive(Template)]
#[template(path = "wall/wall.html")]
struct WallPage {
    t: Tr,
    lang_href: String,
    body: String,
}

/// Hours of the surge alarm's window: this hour and the two before it.
pub const SURGE_HOURS: u32 = 3;

/// Registrations per key, most first.
fn ranked(t: &BTreeMap<String, kpi::Totals>, name: impl Fn(&str) -> String, top: usize) -> Vec<(String, i64)> {
    let mut rows: Vec<(String, i64)> = t
        .iter()
        .filter(|(k, v)| !k.is_empty() && v.get(Counter::Registered) > 0)
        .map(|(k, v)| (name(k), v.get(Counter::Registered)))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(top);
    rows
}

/// The level-1 category (a root of the tree) of a category code.
fn level1(state: &AppState, code: &str) -> (String, String) {
    crate::report::level1(&state.directory(), code)
}

/// Level-1 categories whose registrations of this hour and the two before it break the band
/// of the same hours on the 28 days before ([`lianxin_domain::hotspot::surge`], k = 3,
/// at least 10): (code, name, the test's figures).
pub async fn surges(state: &AppState) -> Result<Vec<(String, String, lianxin_domain::hotspot::Surge)>, ApiError> {
    let cal = state.calendar();
    let now = state.now();
    let today = cal.local_date(now);
    let hour = cal.local_hour(now);
    let first = hour.saturating_sub(SURGE_HOURS - 1);
    let days: Vec<String> = (0..=28).map(|i| (today - Duration::days(i)).to_string()).collect();
    let keys = (format!("{first:02}|"), format!("{:02}|", hour + 1));
    let cells = state.store().registrations_on(Dimension::CategoryHour, None, &days, Some((&keys.0, &keys.1))).await?;
    // (level-1 code) → (name, day → count)
    let mut by: BTreeMap<String, (String, BTreeMap<String, i64>)> = BTreeMap::new();
    for (day, key, v) in cells {
        let Some((_, category)) = key.split_once('|') else { continue };
        let (code, name) = level1(state, category);
        *by.entry(code).or_insert_with(|| (name, BTreeMap::new())).1.entry(day).or_default() += v;
    }
    let today_s = today.to_string();
    let mut out = Vec::new();
    for (code, (name, per_day)) in by {
        let recent = per_day.get(&today_s).copied().unwrap_or(0);
        let history: Vec<i64> = days[1..].iter().map(|d| per_day.get(d).copied().unwrap_or(0)).collect();
        let s = surge(recent, &history, SurgeTest::default());
        if s.surging {
            out.push((code, name, s));
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.2.count));
    Ok(out)
}

async fn body(state: &AppState, c: &Console) -> Result<WallBody, ApiError> {
    let t = c.t();
    let cal = state.calendar();
    let now = state.now();
    let today = cal.local_date(now);
    let tomorrow = today + Duration::days(1);
    let dir = state.directory();
    let within = within_of(&c.user.actor, &dir);
    let area = area_of(&c.user.actor, &dir);
    let scope_name = match &within {
        Within::City => t.s("wall.city").to_owned(),
        _ => c.user.actor.unit.as_ref().and_then(|u| dir.unit(u)).map(|u| u.name.clone()).unwrap_or_default(),
    };
    drop(dir);
    let seen = within != Within::Nothing;
    let unit = match &within {
        Within::Unit { unit, .. } => Some(unit.clone()),
        _ => None,
    };
    let by = |d: Dimension| totals(state, &c.user, Grouping::Key(d), Some(d), today, tomorrow);
    let day = by(Dimension::All).await?.remove("all").unwrap_or_default();
    let k = kpi::kpis(&day);
    let gauges = if seen { state.store().gauges(unit.as_ref()).await? } else { kpi::Totals::default() };

    // Today by hour, and the same weekday of the four weeks before.
    let days: Vec<NaiveDate> = (0..=4).map(|w| today - Duration::days(7 * w)).collect();
    let day_names: Vec<String> = days.iter().map(|d| d.to_string()).collect();
    let cells = if seen {
        state.store().registrations_on(Dimension::Hour, unit.as_ref(), &day_names, None).await?
    } else {
        Vec::new()
    };
    let (mut today_h, mut usual) = ([0i64; 24], [0f64; 24]);
    for (d, key, v) in cells {
        let Ok(h) = key.parse::<usize>() else { continue };
        if h >= 24 {
            continue;
        }
        if d == day_names[0] {
            today_h[h] += v;
        } else {
            usual[h] += v as f64 / 4.0;
        }
    }
    let hours = chart::hours(&today_h, &usual, cal.local_hour(now) as usize, t.s("wall.today"), t.s("wall.usual"));

    let types = ranked(&by(Dimension::RequestType).await?, |k| t.request_type(k), 8);
    let channels = ranked(&by(Dimension::Channel).await?, |k| t.channel(k), 8);
    let mut level1s: BTreeMap<String, i64> = BTreeMap::new();
    for (k, v) in by(Dimension::Category).await? {
        *level1s.entry(level1(state, &k).1).or_default() += v.get(Counter::Registered);
    }
    let mut categories: Vec<(String, i64)> = level1s.into_iter().filter(|(_, v)| *v > 0).collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    categories.truncate(8);

    let (places_title, places) = match &area {
        // A district's or street's wall shows the streets of its own area, by where the
        // orders are (as its hotspots do).
        Area::Within(_) => {
            let cells = state
                .store()
                .place_counts(Dimension::CategoryStreet, &[today.to_string(), tomorrow.to_string()])
                .await?;
            let dir = state.directory();
            let mut streets: BTreeMap<String, i64> = BTreeMap::new();
            for (key, counts) in cells {
                let Some((_, street)) = key.split_once('|') else { continue };
                let Ok(j) = JurisdictionCode::parse(street) else { continue };
                if area.contains(&j, &dir) {
                    let name = dir.jurisdiction(&j).map(|x| x.name.clone()).unwrap_or_else(|| street.to_owned());
                    *streets.entry(name).or_default() += counts.first().copied().unwrap_or(0);
                }
            }
            let mut rows: Vec<(String, i64)> = streets.into_iter().filter(|(_, v)| *v > 0).collect();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            rows.truncate(10);
            ("wall.streets", rows)
        }
        _ => {
            let rows = ranked(
                &by(Dimension::District).await?,
                |k| name_of(state, Some(Dimension::District), k).unwrap_or_else(|| k.to_owned()),
                12,
            );
            ("wall.districts", rows)
        }
    };
    let surges = match area {
        Area::All => surges(state)
            .await?
            .into_iter()
            .map(|(_, name, s)| {
                t.s("wall.surge_line")
                    .replace("{name}", &name)
                    .replace("{count}", &s.count.to_string())
                    .replace("{mean}", &format!("{:.1}", s.mean))
                    .replace("{upper}", &format!("{:.0}", s.upper))
            })
            .collect(),
        _ => Vec::new(),
    };
    let figures = vec![
        Figure {
            id: "wall-registered",
            label: "wall.registered",
            value: day.get(Counter::Registered).to_string(),
            class: "",
        },
        Figure { id: "wall-open", label: "wall.open", value: gauges.get(Counter::Open).to_string(), class: "" },
        Figure {
            id: "wall-overdue",
            label: "wall.overdue",
            value: gauges.get(Counter::Overdue).to_string(),
            class: if gauges.get(Counter::Overdue) > 0 { "alert" } else { "" },
        },
        Figure { id: "wall-fcr", label: "wall.fcr", value: rate(k.first_contact_resolution_rate), class: "" },
        Figure { id: "wall-ontime", label: "wall.on_time", value: rate(k.on_time_rate), class: "" },
        Figure { id: "wall-satisfaction", label: "wall.satisfaction", value: rate(k.satisfaction_rate), class: "" },
    ];
    Ok(WallBody {
        t,
        scope: scope_name,
        updated: cal.rfc3339(now).get(11..19).unwrap_or_default().to_owned(),
        figures,
        hours,
        types: chart::bars(&types, "types"),
        channels: chart::bars(&channels, "channels"),
        categories: chart::bars(&categories, "categories"),
        places_title,
        places: chart::bars(&places, "places"),
        surges,
    })
}

/// `GET /wall`.
pub async fn page(State(state): State<AppState>, c: Console) -> Response {
    if let Some(e) = refuse_page(&c.user, "/wall") {
        return page_error(&page_for(&state, &c, ""), &e);
    }
    let b = match body(&state, &c).await {
        Ok(b) => b,
        Err(e) => return page_error(&page_for(&state, &c, ""), &e),
    };
    let rendered = match b.render() {
        Ok(r) => r,
        Err(e) => {
            let e = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string());
            return page_error(&page_for(&state, &c, ""), &e);
        }
    };
    let other = if c.t().is_en() { "zh" } else { "en" };
    html(StatusCode::OK, &WallPage { t: c.t(), lang_href: format!("/wall?lang={other}"), body: rendered })
}

/// `GET /wall/events`: the wall's body as an SSE `wall` event whenever an order changed,
/// and every 30 s.
pub async fn events(State(state): State<AppState>, c: Console) -> Response {
    if let Some(e) = refuse_page(&c.user, "/wall") {
        return e.into_response();
    }
    struct Tick {
        state: AppState,
        c: Console,
        head: Option<i64>,
        quiet: u32,
    }
    let start = Tick { state, c, head: None, quiet: 0 };
    let stream = futures_util::stream::unfold(start, |mut s| async move {
        loop {
            if s.head.is_some() {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            // The session is checked every second: a signed-out or disabled account's
            // stream ends at once (the page then reloads to the sign-in).
            match s.state.session_user(&crate::auth::token_hash(&s.c.token)).await {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(_) => continue,
            }
            let head = s.state.store().change_head().await.ok();
            s.quiet += 1;
            if s.head.is_none() || head != s.head || s.quiet >= 30 {
                s.quiet = 0;
                s.head = head.or(Some(0));
                if let Ok(Ok(html)) = body(&s.state, &s.c).await.map(|b| b.render()) {
                    let ev = Event::default().event("wall").retry(std::time::Duration::from_secs(2)).data(html);
                    return Some((Ok::<_, std::convert::Infallible>(ev), s));
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// `GET /wall/assets/wall.css`.
pub async fn css() -> Response {
    super::asset(include_str!("../../../static/wall.css"), "text/css; charset=utf-8")
}

/// `GET /wall/assets/wall.js`.
pub async fn js() -> Response {
    super::asset(include_str!("../../../static/wall.js"), "text/javascript; charset=utf-8")
}
