//! Statistics: KPIs by unit, category, district, channel or day, and unit rankings.

use crate::auth::CurrentUser;
use crate::body::{JsonObject, Params};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use lianxin_domain::Role;
use lianxin_domain::calendar::Calendar;
use lianxin_domain::error::FieldErrors;
use lianxin_domain::kpi::{self, Dimension, Kpis, Totals, Weights};
use lianxin_domain::scope::{Scope, scope_of};
use lianxin_store::Grouping;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One group's KPIs.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiRow {
    /// The unit, category, district, channel or request type code, the day (`YYYY-MM-DD`),
    /// or `all`.
    pub key: String,
    /// A readable name of the key, where it has one.
    pub name: Option<String>,
    /// Rates are fractions 0..1, `null` where the denominator is 0; see the formulas in
    /// the documentation of `lianxin_domain::kpi`.
    #[schema(value_type = Object)]
    pub kpis: Kpis,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpiReport {
    /// First local day counted.
    pub from: String,
    /// First local day not counted.
    pub to: String,
    pub group_by: String,
    pub rows: Vec<KpiRow>,
}

/// A period: local days `[from, to)`. Dates (`2026-11-01`) or RFC 3339 times (their local
/// day) are accepted; `to` defaults to tomorrow, `from` to 30 days before `to`.
pub fn period(params: &Params, cal: &Calendar, now: i64) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let mut errs = FieldErrors::new();
    let day = |v: &str| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .or_else(|| Calendar::parse_rfc3339(v).map(|t| cal.local_date(t)))
            .filter(|d| crate::api::calendar::YEARS.contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| "must be a date like 2026-11-01 or an RFC 3339 time, in the years 2000 to 2100".to_owned())
    };
    let to = params.parsed("to", &mut errs, day).unwrap_or_else(|| cal.local_date(now) + chrono::Duration::days(1));
    let from = params.parsed("from", &mut errs, day).unwrap_or(to - chrono::Duration::days(30));
    if errs.is_empty() && from >= to {
        errs.add("to", "must be after from");
    } else if errs.is_empty() && (to - from).num_days() > 3660 {
        errs.add("from", "a period is at most ten years");
    }
    errs.finish()?;
    Ok((from, to))
}

fn grouping(params: &Params) -> Result<(Grouping, &'static str, Option<Dimension>), ApiError> {
    let mut errs = FieldErrors::new();
    let g = params.one_of(
        "group_by",
        &mut errs,
        &["all", "unit", "category", "district", "channel", "request_type", "day"],
    );
    errs.finish()?;
    let name = g.unwrap_or("all");
    let (grouping, dim) = grouping_for(name);
    Ok((grouping, name, dim))
}

/// The rollup grouping of a `group_by` value (`all` for one the API does not know; the API
/// has checked it is one of its values).
pub fn grouping_for(name: &str) -> (Grouping, Option<Dimension>) {
    let key = |d: Dimension| (Grouping::Key(d), Some(d));
    match name {
        "unit" => key(Dimension::Unit),
        "category" => key(Dimension::Category),
        "district" => key(Dimension::District),
        "channel" => key(Dimension::Channel),
        "request_type" => key(Dimension::RequestType),
        "day" => (Grouping::Day, None),
        _ => key(Dimension::All),
    }
}

/// Whose cells a reader reads: the city's, a unit's (the orders its scope allows, with the
/// units of its subtree for the rows by unit), or none (a unit outside the directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Within {
    City,
    Unit { unit: lianxin_domain::UnitCode, units: std::collections::BTreeSet<lianxin_domain::UnitCode> },
    Nothing,
}

/// The cells an actor reads, by the one scope function.
pub fn within_of(actor: &lianxin_domain::command::Actor, dir: &lianxin_domain::reference::Directory) -> Within {
    match scope_of(actor, dir) {
        Scope::All => Within::City,
        Scope::Limited { units, .. } => match actor.unit.clone().filter(|u| units.contains(u)) {
            Some(unit) => Within::Unit { unit, units },
            None => Within::Nothing,
        },
    }
}

/// Totals per group over local days `[from, to)` from the rollups, for `within`.
pub async fn totals_in(
    store: &lianxin_store::Store,
    within: &Within,
    grouping: Grouping,
    dim: Option<Dimension>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, Totals>, lianxin_store::StoreError> {
    let (from_s, to_s) = (from.to_string(), to.to_string());
    match within {
        Within::City => store.kpi_totals(grouping, None, &from_s, &to_s).await,
        Within::Nothing => Ok(BTreeMap::new()),
        Within::Unit { unit, units } => {
            let mut out = store.kpi_totals(grouping, Some(unit), &from_s, &to_s).await?;
            // A unit sees its own units' rows only.
            if dim == Some(Dimension::Unit) {
                out.retain(|k, _| units.iter().any(|u| u.as_str() == k));
            }
            Ok(out)
        }
    }
}

/// Totals per group for the user's scope, from the rollups: the hotline's cells for
/// hotline-wide roles, the cells of the user's unit (the orders its scope allows) for a unit.
pub(crate) async fn totals(
    state: &AppState,
    user: &CurrentUser,
    grouping: Grouping,
    dim: Option<Dimension>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, Totals>, ApiError> {
    let within = within_of(&user.actor, &state.directory());
    Ok(totals_in(state.store(), &within, grouping, dim, from, to).await?)
}

pub(crate) fn name_of(state: &AppState, dim: Option<Dimension>, key: &str) -> Option<String> {
    name_in(&state.directory(), dim, key)
}

/// The readable name of a group's key in the directory.
pub fn name_in(dir: &lianxin_domain::reference::Directory, dim: Option<Dimension>, key: &str) -> Option<String> {
    match dim {
        Some(Dimension::Unit) => {
            lianxin_domain::UnitCode::parse(key).ok().and_then(|u| dir.unit(&u).map(|u| u.name.clone()))
        }
        Some(Dimension::Category) => {
            lianxin_domain::CategoryCode::parse(key).ok().and_then(|c| dir.category(&c).map(|c| c.name.clone()))
        }
        Some(Dimension::District) => {
            lianxin_domain::JurisdictionCode::parse(key).ok().and_then(|j| dir.jurisdiction(&j).map(|j| j.name.clone()))
        }
        _ => None,
    }
}

/// KPIs for a period, grouped (scoped like orders).
#[utoipa::path(get, path = "/api/v1/stats/kpis", tag = "stats", operation_id = "kpis",
    params(("from" = Option<String>, Query, description = "first day, inclusive (date or RFC 3339); default 30 days before `to`"),
           ("to" = Option<String>, Query, description = "last day, exclusive; default tomorrow"),
           ("group_by" = Option<String>, Query, description = "all (default: one row `all`), unit, category, district, channel, request_type or day")),
    responses((status = 200, description = "One row per group", body = KpiReport)), security(("bearer" = [])))]
pub async fn kpis(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<KpiReport>, ApiError> {
    let (from, to) = period(&params, &state.calendar(), state.now())?;
    let (grouping, name, dim) = grouping(&params)?;
    let totals = totals(&state, &user, grouping, dim, from, to).await?;
    let rows = totals
        .iter()
        .map(|(k, t)| KpiRow { key: k.clone(), name: name_of(&state, dim, k), kpis: kpi::kpis(t) })
        .collect();
    Ok(Json(KpiReport { from: from.to_string(), to: to.to_string(), group_by: name.into(), rows }))
}

/// One unit's place in the ranking.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedUnit {
    pub rank: usize,
    pub unit: String,
    pub name: Option<String>,
    /// Weighted score 0..100.
    pub score: f64,
    #[schema(value_type = Object)]
    pub kpis: Kpis,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ranking {
    pub from: String,
    pub to: String,
    #[schema(value_type = Object)]
    pub weights: Weights,
    pub items: Vec<RankedUnit>,
}

/// The assessment weights in force.
pub async fn load_weights(state: &AppState) -> Result<Weights, ApiError> {
    Ok(match state.store().meta("assessment_weights").await? {
        Some(json) => serde_json::from_str(&json).unwrap_or_default(),
        None => Weights::default(),
    })
}

/// Units ranked by their weighted assessment score for a period (考核排名); units with fewer
/// than `min_orders` orders dispatched or replied in the period (default 10) are left out.
#[utoipa::path(get, path = "/api/v1/stats/ranking", tag = "stats", operation_id = "ranking",
    params(("from" = Option<String>, Query, description = "as for /stats/kpis"), ("to" = Option<String>, Query),
           ("min_orders" = Option<i64>, Query, minimum = 0, description = "default 10")),
    responses((status = 200, description = "Units by score, best first", body = Ranking)), security(("bearer" = [])))]
pub async fn ranking(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<Ranking>, ApiError> {
    let (from, to) = period(&params, &state.calendar(), state.now())?;
    let mut errs = FieldErrors::new();
    let min_orders = params.limit("min_orders", &mut errs, 0, i64::MAX).unwrap_or(10);
    errs.finish()?;
    Ok(Json(rank(&state, &user, from, to, min_orders).await?))
}

/// The units ranked for local days `[from, to)` in the user's scope, leaving out units with
/// fewer than `min_orders` orders dispatched or replied (the API's and the console's ranking).
pub async fn rank(
    state: &AppState,
    user: &CurrentUser,
    from: NaiveDate,
    to: NaiveDate,
    min_orders: i64,
) -> Result<Ranking, ApiError> {
    let weights = load_weights(state).await?;
    let totals = totals(state, user, Grouping::Key(Dimension::Unit), Some(Dimension::Unit), from, to).await?;
    let items = rank_of(&totals, &weights, min_orders, |k| name_of(state, Some(Dimension::Unit), k));
    Ok(Ranking { from: from.to_string(), to: to.to_string(), weights, items })
}

/// Units ranked by their weighted score from their summed counters (the lead unit's
/// cells), best first; units with fewer than `min_orders` orders dispatched or replied are
/// left out, since they would rank on luck.
pub fn rank_of(
    totals: &BTreeMap<String, Totals>,
    weights: &Weights,
    min_orders: i64,
    name: impl Fn(&str) -> Option<String>,
) -> Vec<RankedUnit> {
    let mut items: Vec<RankedUnit> = totals
        .iter()
        .filter(|(k, t)| {
            let volume = t.get(kpi::Counter::Dispatched).max(t.get(kpi::Counter::Replied));
            !k.is_empty() && volume > 0 && volume >= min_orders
        })
        .filter_map(|(k, t)| {
            let k_ = kpi::kpis(t);
            let score = weights.score(&k_)?;
            Some(RankedUnit { rank: 0, unit: k.clone(), name: name(k), score, kpis: k_ })
        })
        .collect();
    items.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.unit.cmp(&b.unit)));
    for (i, it) in items.iter_mut().enumerate() {
        it.rank = i + 1;
    }
    items
}

/// The assessment weights.
#[utoipa::path(get, path = "/api/v1/stats/weights", tag = "stats", operation_id = "get_weights",
    responses((status = 200, description = "KPI name → weight", body = BTreeMap<String, f64>)), security(("bearer" = [])))]
pub async fn get_weights(State(state): State<AppState>, _user: CurrentUser) -> Result<Json<Weights>, ApiError> {
    Ok(Json(load_weights(&state).await?))
}

/// Set the assessment weights (admin): `{"on_time_rate": 0.3, …}`.
#[utoipa::path(put, path = "/api/v1/stats/weights", tag = "stats", operation_id = "put_weights",
    request_body(content = BTreeMap<String, f64>, description = "KPI name → weight ≥ 0"),
    responses((status = 200, description = "The weights now in force", body = BTreeMap<String, f64>),
              (status = 403, description = "Only an admin may set the assessment weights"),
              (status = 422, description = "An unknown KPI or a bad weight")),
    security(("bearer" = [])))]
pub async fn put_weights(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<Weights>, ApiError> {
    user.require(&[Role::Admin], "only an admin may set the assessment weights")?;
    let mut errs = FieldErrors::new();
    let mut w = BTreeMap::new();
    for (k, v) in &obj {
        match v.as_f64() {
            Some(x) => {
                w.insert(k.clone(), x);
            }
            None => errs.add(k, "must be a number"),
        }
    }
    errs.finish()?;
    let weights = Weights(w);
    if let Err(m) = weights.validate() {
        let mut errs = FieldErrors::new();
        errs.add("weights", m);
        return Err(ApiError::invalid(errs.into_map()));
    }
    let json = serde_json::to_string(&weights).map_err(|e| ApiError::malformed(e.to_string()))?;
    state.store().set_meta("assessment_weights", &json).await?;
    Ok(Json(weights))
}

/// One (category, place) cell of the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct HotspotOut {
    pub category: String,
    pub category_name: Option<String>,
    /// A street or district code, as `level` asks.
    pub place: String,
    pub place_name: Option<String>,
    /// Orders registered in the period.
    pub count: i64,
    /// The mean count of the previous four periods of equal length.
    pub baseline: f64,
    /// (count − baseline) / baseline; `null` when the baseline is 0.
    pub growth: Option<f64>,
    /// P(X ≥ count) for X ~ Poisson(max(baseline, 0.5)).
    pub p_value: f64,
    /// At least `test.min_count` orders and `p_value` below `test.alpha`.
    pub emerging: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HotspotReport {
    pub from: String,
    pub to: String,
    /// The first day of the baseline (four periods before `from`).
    pub baseline_from: String,
    /// street or district
    pub level: String,
    /// The emerging-hotspot test in force: `min_count`, `floor`, `alpha`.
    #[schema(value_type = Object)]
    pub test: lianxin_domain::hotspot::HotspotTest,
    /// Emerging first, then by count; at most `limit`.
    pub items: Vec<HotspotOut>,
}

/// Hotspots (热点): registrations per category × street (or × district) in a period, with
/// growth against the previous four periods of equal length and the emerging-hotspot test
/// (a Poisson tail, see `lianxin_domain::hotspot`). Read from the rollups; a district's or
/// street's units see their own area's places only.
#[utoipa::path(get, path = "/api/v1/stats/hotspots", tag = "stats", operation_id = "hotspots",
    params(("from" = Option<String>, Query, description = "as for /stats/kpis"), ("to" = Option<String>, Query),
           ("level" = Option<String>, Query, description = "street (default) or district"),
           ("category" = Option<String>, Query, description = "a category or category group code: only those below it"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "default 100")),
    responses((status = 200, description = "The cells, emerging first", body = HotspotReport),
              (status = 403, description = "The user's unit has no place of its own")),
    security(("bearer" = [])))]
pub async fn hotspots(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<HotspotReport>, ApiError> {
    let (from, to) = period(&params, &state.calendar(), state.now())?;
    let mut errs = FieldErrors::new();
    let level = params.one_of("level", &mut errs, &["street", "district"]).unwrap_or("street");
    let category = params.parsed("category", &mut errs, |v| {
        lianxin_domain::CategoryCode::parse(v).map(|c| c.to_string()).map_err(|m| m.to_string())
    });
    let limit = params.limit("limit", &mut errs, 1, 1000).unwrap_or(100) as usize;
    errs.finish()?;
    hotspot_report(&state, &user, (from, to), level, category.as_deref(), limit).await.map(Json)
}

/// The hotspots of local days `[from, to)` for `user`'s area (the API's and the console's
/// one path): `level` street or district, only categories under `category` when given.
pub async fn hotspot_report(
    state: &AppState,
    user: &CurrentUser,
    (from, to): (NaiveDate, NaiveDate),
    level: &str,
    category: Option<&str>,
    limit: usize,
) -> Result<HotspotReport, ApiError> {
    use lianxin_domain::scope::{Area, area_of};
    let area = area_of(&user.actor, &state.directory());
    if area == Area::Nowhere {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden_role",
            "hotspots are shared by place: your unit has no place of its own",
        ));
    }
    Ok(hotspots_in(state.store(), &state.directory(), &area, (from, to), level, category, limit).await?)
}

/// Whether a place cell (`category|place`) is of `category` or a category below it (any
/// when `None`) and lies within `area`: the hotspots' and the tough problems' one filter.
pub fn cell_within(
    cat: &str,
    place: &str,
    category: Option<&str>,
    area: &lianxin_domain::scope::Area,
    dir: &lianxin_domain::reference::Directory,
) -> bool {
    let of_category =
        category.is_none_or(|c| cat == c || cat.strip_prefix(c).is_some_and(|rest| rest.starts_with('.')));
    of_category
        && (*area == lianxin_domain::scope::Area::All
            || lianxin_domain::JurisdictionCode::parse(place).is_ok_and(|code| area.contains(&code, dir)))
}

/// The hotspots of `[from, to)` within `area`, from the rollups (see [`hotspot_report`]).
pub async fn hotspots_in(
    store: &lianxin_store::Store,
    dir: &lianxin_domain::reference::Directory,
    area: &lianxin_domain::scope::Area,
    (from, to): (NaiveDate, NaiveDate),
    level: &str,
    category: Option<&str>,
    limit: usize,
) -> Result<HotspotReport, lianxin_store::StoreError> {
    use lianxin_domain::hotspot::{self, BASELINE_PERIODS, Cell, HotspotTest};
    let len = (to - from).num_days();
    let dim = if level == "district" { Dimension::CategoryDistrict } else { Dimension::CategoryStreet };
    // The four earlier periods, oldest first, then this one.
    let bounds: Vec<String> = (0..=BASELINE_PERIODS as i64)
        .map(|i| (from - chrono::Duration::days(len * (BASELINE_PERIODS as i64 - i))).to_string())
        .chain(std::iter::once(to.to_string()))
        .collect();
    let counts = store.place_counts(dim, &bounds).await?;
    let mut cells: Vec<Cell> = Vec::new();
    for (key, per) in counts {
        let Some((cat, place)) = key.split_once('|') else { continue };
        if !cell_within(cat, place, category, area, dir) {
            continue;
        }
        let Some((&count, earlier)) = per.split_last() else { continue };
        // Most recent earlier period first.
        cells.push(Cell {
            category: cat.to_owned(),
            place: place.to_owned(),
            count,
            previous: earlier.iter().rev().copied().collect(),
        });
    }
    let test = HotspotTest::default();
    let items = hotspot::hotspots(&cells, test)
        .into_iter()
        .take(limit)
        .map(|h| HotspotOut {
            category_name: lianxin_domain::CategoryCode::parse(&h.category)
                .ok()
                .and_then(|c| dir.category(&c).map(|c| c.name.clone())),
            place_name: lianxin_domain::JurisdictionCode::parse(&h.place)
                .ok()
                .and_then(|j| dir.jurisdiction(&j).map(|j| j.name.clone())),
            category: h.category,
            place: h.place,
            count: h.count,
            baseline: h.baseline,
            growth: h.growth,
            p_value: h.p_value,
            emerging: h.emerging,
        })
        .collect();
    Ok(HotspotReport {
        from: from.to_string(),
        to: to.to_string(),
        baseline_from: bounds[0].clone(),
        level: level.to_owned(),
        test,
        items,
    })
}
