//! Tough problems (疑难问题): the candidates (a category in a place with repeated contacts,
//! dissatisfied callbacks or overdue orders, read from the rollups), the tracked problems an
//! analyst makes of them with each responsible unit's part and due day, and the units'
//! reports; a problem closes when its last part is done. The API's and the console's one
//! path for each.

use crate::auth::CurrentUser;
use crate::body::{Fields, JsonObject, Params};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use lianxin_domain::error::FieldErrors;
use lianxin_domain::problem::{self, CandidateRule, PartIn, PartState};
use lianxin_domain::reference::Directory;
use lianxin_domain::scope::{Area, Scope, area_of, scope_of};
use lianxin_domain::{CategoryCode, JurisdictionCode, Role, UnitCode};
use lianxin_store::{NewPart, NewProblem, Reported, StoredProblem};
use serde::Serialize;
use utoipa::ToSchema;

/// Who finds candidates and makes problems of them: the supervisors (the hotline's
/// analysts) and leaders (a district's leader within its area).
pub const ANALYSTS: &[Role] = &[Role::Supervisor, Role::Leader];
/// Who reports on a part: the unit's own accounts.
pub const REPORTERS: &[Role] = &[Role::Handler, Role::UnitAdmin, Role::Leader];
/// How far back the candidates look by default.
pub const DEFAULT_DAYS: i64 = 90;

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    pub category: String,
    pub category_name: Option<String>,
    /// A street's code (or a district's, with `level=district`).
    pub place: String,
    pub place_name: Option<String>,
    pub registered: i64,
    /// Orders whose caller had one of the same category within 30 days.
    pub repeat: i64,
    /// Callbacks rated neither satisfied nor basically satisfied.
    pub dissatisfied: i64,
    /// Replied after the deadline in the period, or being handled past it now.
    pub late: i64,
    /// Of `late`, those past their deadline now.
    pub overdue: i64,
    /// repeat + dissatisfied + late: the list is sorted by it.
    pub score: i64,
    /// An open problem already tracking this category in this place.
    pub problem: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateList {
    /// The period's first local day.
    pub from: String,
    /// The day after its last.
    pub to: String,
    /// street or district
    pub level: String,
    /// At least this many orders…
    pub min_orders: i64,
    /// …and this many of one kind of trouble (repeats, dissatisfied, late).
    pub min_signal: i64,
    pub items: Vec<CandidateOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartOut {
    /// From 1.
    pub part: i64,
    pub unit: String,
    pub unit_name: Option<String>,
    pub task: String,
    /// The local day it is due.
    pub due: String,
    /// open, overdue (not done, past its day) or done
    pub state: String,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub part: i64,
    /// progress or done
    pub kind: String,
    pub note: String,
    pub at: String,
    pub by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemOut {
    pub id: String,
    pub title: String,
    pub description: String,
    pub category: Option<String>,
    pub category_name: Option<String>,
    pub place: Option<String>,
    pub place_name: Option<String>,
    /// open or closed
    pub status: String,
    pub created_at: String,
    pub created_by: String,
    pub closed_at: Option<String>,
    pub parts_done: usize,
    pub parts_overdue: usize,
    pub parts: Vec<PartOut>,
    /// The orders behind it.
    pub orders: Vec<String>,
    /// The units' reports, oldest first.
    pub reports: Vec<ReportOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemList {
    pub items: Vec<ProblemOut>,
}

fn category_name(state: &AppState, code: &str) -> Option<String> {
    CategoryCode::parse(code).ok().and_then(|c| state.directory().category(&c).map(|c| c.name.clone()))
}

fn place_name(state: &AppState, code: &str) -> Option<String> {
    JurisdictionCode::parse(code).ok().and_then(|j| state.directory().jurisdiction(&j).map(|j| j.name.clone()))
}

/// A problem as the API shows it, its parts' states as of today.
pub fn out(state: &AppState, p: StoredProblem) -> ProblemOut {
    let cal = state.calendar();
    let today = cal.local_date(state.now());
    let dir = state.directory();
    let parts: Vec<PartOut> = p
        .parts
        .into_iter()
        .map(|part| {
            let due = NaiveDate::parse_from_str(&part.due_day, "%Y-%m-%d").unwrap_or(today);
            let st = problem::part_state(part.done_at.is_some(), due, today);
            PartOut {
                part: part.part,
                unit_name: UnitCode::parse(&part.unit).ok().and_then(|u| dir.unit(&u).map(|u| u.name.clone())),
                unit: part.unit,
                task: part.task,
                due: part.due_day,
                state: state_name(st).to_owned(),
                done_at: part.done_at.map(|t| cal.rfc3339(t)),
                done_by: part.done_by,
            }
        })
        .collect();
    ProblemOut {
        category_name: p.category.as_deref().and_then(|c| category_name(state, c)),
        place_name: p.place.as_deref().and_then(|c| place_name(state, c)),
        parts_done: parts.iter().filter(|x| x.state == "done").count(),
        parts_overdue: parts.iter().filter(|x| x.state == "overdue").count(),
        reports: p
            .reports
            .into_iter()
            .map(|r| ReportOut { part: r.part, kind: r.kind, note: r.note, at: cal.rfc3339(r.at), by: r.by })
            .collect(),
        id: p.id,
        title: p.title,
        description: p.description,
        category: p.category,
        place: p.place,
        status: p.status,
        created_at: cal.rfc3339(p.created_at),
        created_by: p.created_by,
        closed_at: p.closed_at.map(|t| cal.rfc3339(t)),
        parts,
        orders: p.numbers,
    }
}

fn state_name(s: PartState) -> &'static str {
    match s {
        PartState::Open => "open",
        PartState::Overdue => "overdue",
        PartState::Done => "done",
    }
}

/// Whether `user` sees problem `p` (the one scope function: `problem::sees`).
pub fn sees(state: &AppState, user: &CurrentUser, p: &StoredProblem) -> bool {
    let dir = state.directory();
    seen_within(&scope_of(&user.actor, &dir), &area_of(&user.actor, &dir), &dir, p)
}

/// Whether a reader with `scope` and `area` sees stored problem `p` (`problem::sees` on its
/// place and its parts' units): for a user, and for a report of a unit's scope.
pub fn seen_within(scope: &Scope, area: &Area, dir: &Directory, p: &StoredProblem) -> bool {
    let place = p.place.as_deref().and_then(|c| JurisdictionCode::parse(c).ok());
    let units: Vec<UnitCode> = p.parts.iter().filter_map(|x| UnitCode::parse(&x.unit).ok()).collect();
    problem::sees(scope, area, place.as_ref(), units.iter(), dir)
}

/// The candidates of local days `[from, to)` within `user`'s area, from the place cells;
/// each says whether an open problem already tracks it.
pub async fn candidates_for(
    state: &AppState,
    user: &CurrentUser,
    (from, to): (NaiveDate, NaiveDate),
    level: &str,
    category: Option<&str>,
    limit: usize,
) -> Result<CandidateList, ApiError> {
    user.require(ANALYSTS, "only a supervisor or a leader looks for tough problems")?;
    let dir = state.directory();
    let area = area_of(&user.actor, &dir);
    if area == Area::Nowhere {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_role",
            "tough problems are shared by place: your unit has no place of its own",
        ));
    }
    let rule = CandidateRule::default();
    let cells =
        state.store().place_signals(level == "district", &from.to_string(), &to.to_string(), rule.min_orders).await?;
    let cells =
        cells.into_iter().filter(|(cat, place, _)| crate::api::stats::cell_within(cat, place, category, &area, &dir));
    let open = state.store().problems(None, 1000).await?;
    let items = problem::candidates(cells, rule)
        .into_iter()
        .take(limit)
        .map(|c| {
            let tracked = open.iter().find(|p| {
                p.status == "open"
                    && p.category.as_deref() == Some(c.category.as_str())
                    && p.place.as_deref() == Some(c.place.as_str())
            });
            CandidateOut {
                category_name: category_name(state, &c.category),
                place_name: place_name(state, &c.place),
                registered: c.signals.registered,
                repeat: c.signals.repeat,
                dissatisfied: c.signals.dissatisfied(),
                late: c.signals.late(),
                overdue: c.signals.overdue,
                score: c.signals.score(),
                problem: tracked.map(|p| p.id.clone()),
                category: c.category,
                place: c.place,
            }
        })
        .collect();
    Ok(CandidateList {
        from: from.to_string(),
        to: to.to_string(),
        level: level.to_owned(),
        min_orders: rule.min_orders,
        min_signal: rule.min_signal,
        items,
    })
}

/// The period of a candidates request: as for `/stats/kpis`, but `from` defaults to 90 days
/// before `to`.
pub fn candidate_period(params: &Params, state: &AppState) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let (from, to) = crate::api::stats::period(params, &state.calendar(), state.now())?;
    Ok(if params.get("from").is_none() { (to - chrono::Duration::days(DEFAULT_DAYS), to) } else { (from, to) })
}

/// Candidates for tough problems: the categories in a place (street, or district) whose
/// orders in the period show repeated contacts, dissatisfied callbacks or lateness, read
/// from the rollups. A candidate has at least 5 orders and at least 3 of one kind of
/// trouble; the most troubled first (score = repeats + dissatisfied + late).
#[utoipa::path(get, path = "/api/v1/problems/candidates", tag = "problems", operation_id = "problem_candidates",
    params(("from" = Option<String>, Query, description = "first local day (default 90 days before `to`)"),
           ("to" = Option<String>, Query, description = "the day after the last (default tomorrow)"),
           ("level" = Option<String>, Query, description = "street (default) or district"),
           ("category" = Option<String>, Query, description = "only categories at or below this code"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "default 50")),
    responses((status = 200, description = "The candidates, most troubled first", body = CandidateList),
              (status = 403, description = "Supervisors and leaders only (a unit with a place of its own)"),
              (status = 422, description = "A parameter that is not understood, named")),
    security(("bearer" = [])))]
pub async fn candidates(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<CandidateList>, ApiError> {
    let period = candidate_period(&params, &state)?;
    let mut errs = FieldErrors::new();
    let level = params.one_of("level", &mut errs, &["street", "district"]).unwrap_or("street");
    let category = params
        .parsed("category", &mut errs, |v| CategoryCode::parse(v).map(|c| c.to_string()).map_err(|m| m.to_string()));
    let limit = params.limit("limit", &mut errs, 1, 1000).unwrap_or(50) as usize;
    errs.finish()?;
    candidates_for(&state, &user, period, level, category.as_deref(), limit).await.map(Json)
}

/// The problems `user` sees, newest first: open ones, closed ones or (`None`) all.
pub async fn visible(
    state: &AppState,
    user: &CurrentUser,
    status: Option<&str>,
) -> Result<Vec<StoredProblem>, ApiError> {
    let all = state.store().problems(None, 1000).await?;
    Ok(all.into_iter().filter(|p| status.is_none_or(|s| p.status == s) && sees(state, user, p)).collect())
}

/// Tough problems the user sees, newest first: the hotline sees all, a unit those it has a
/// part in and those placed within its area.
#[utoipa::path(get, path = "/api/v1/problems", tag = "problems", operation_id = "problems",
    params(("status" = Option<String>, Query, description = "open or closed")),
    responses((status = 200, description = "The problems", body = ProblemList),
              (status = 422, description = "An unknown status")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<ProblemList>, ApiError> {
    let mut errs = FieldErrors::new();
    let status = params.one_of("status", &mut errs, &["open", "closed"]);
    errs.finish()?;
    let items = visible(&state, &user, status).await?;
    Ok(Json(ProblemList { items: items.into_iter().map(|p| out(&state, p)).collect() }))
}

/// The problem `id` if `user` sees it (else 404, as for one that does not exist).
pub async fn found(state: &AppState, user: &CurrentUser, id: &str) -> Result<StoredProblem, ApiError> {
    match state.store().problem(id).await? {
        Some(p) if sees(state, user, &p) => Ok(p),
        _ => Err(ApiError::not_found(format!("no tough problem `{id}`"))),
    }
}

/// One tough problem with its parts, orders and the units' reports.
#[utoipa::path(get, path = "/api/v1/problems/{id}", tag = "problems", operation_id = "problem",
    params(("id" = String, Path)),
    responses((status = 200, description = "The problem", body = ProblemOut),
              (status = 404, description = "No such problem, or not one the user sees")), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ProblemOut>, ApiError> {
    Ok(Json(out(&state, found(&state, &user, &id).await?)))
}

/// `{"title", "description"?, "category"?, "place"?, "orders"?: [numbers], "parts": [{"unit",
/// "task", "due"}]}`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ProblemIn {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[schema(max_length = 5000)]
    description: Option<String>,
    /// The category it is about (a candidate's).
    category: Option<String>,
    /// The street or district it is in (a candidate's).
    place: Option<String>,
    /// The orders behind it (at most 500).
    #[schema(max_items = 500)]
    orders: Option<Vec<String>>,
    #[schema(min_items = 1, max_items = 20)]
    parts: Vec<PartInDoc>,
}

/// One responsible unit's part.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PartInDoc {
    /// A handling unit's code.
    unit: String,
    /// What it is to do.
    #[schema(min_length = 1, max_length = 500)]
    task: String,
    /// The local day it is due (today or later), `2026-12-31`.
    due: String,
}

/// Make a tracked problem (an analyst): its title, the orders behind it, and each
/// responsible unit's part with its due day. Each unit is notified.
#[utoipa::path(post, path = "/api/v1/problems", tag = "problems", operation_id = "create_problem",
    request_body = ProblemIn,
    responses((status = 201, description = "The problem, open", body = ProblemOut),
              (status = 403, description = "Supervisors and leaders only; a district's leader within its area"),
              (status = 422, description = "A field that is missing or wrong, named")), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<(StatusCode, Json<ProblemOut>), ApiError> {
    let p = make(&state, &user, &obj).await?;
    Ok((StatusCode::CREATED, Json(out(&state, p))))
}

/// Checks and records a new problem (the API's and the console's one path).
pub async fn make(
    state: &AppState,
    user: &CurrentUser,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<StoredProblem, ApiError> {
    user.require(ANALYSTS, "only a supervisor or a leader makes a tough problem")?;
    let dir = state.directory();
    let scope = scope_of(&user.actor, &dir);
    let area = area_of(&user.actor, &dir);
    let cal = state.calendar();
    let today = cal.local_date(state.now());
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    let title = f.string("title", true, &mut errs).unwrap_or_default();
    let description = f.string("description", false, &mut errs).unwrap_or_default();
    let category = f.parsed("category", false, &mut errs, |v| {
        let c = CategoryCode::parse(v).map_err(|m| m.to_string())?;
        dir.category(&c).map(|_| c.to_string()).ok_or_else(|| format!("no category `{v}`"))
    });
    let place = f.parsed("place", false, &mut errs, |v| {
        let j = JurisdictionCode::parse(v).map_err(|m| m.to_string())?;
        if dir.jurisdiction(&j).is_none() {
            return Err(format!("no street or district `{v}`"));
        }
        if area != Area::All && !area.contains(&j, &dir) {
            return Err("must lie within your own area".to_owned());
        }
        Ok(j.to_string())
    });
    let numbers = f.string_list("orders", &mut errs);
    if numbers.len() > problem::MAX_ORDERS {
        errs.add("orders", format!("at most {} orders", problem::MAX_ORDERS));
    }
    let mut parts = Vec::new();
    let mut units = Vec::new();
    for pf in f.objects("parts", &mut errs) {
        units.push(pf.parsed("unit", true, &mut errs, |v| {
            let u = UnitCode::parse(v).map_err(|m| m.to_string())?;
            match dir.unit(&u) {
                None => Err(format!("no unit `{v}`")),
                Some(x) if !x.kind.can_handle() || !x.active => Err(format!("`{v}` is not an active handling unit")),
                Some(_) if !in_scope(&scope, &u) => Err("must be your own unit or one below it".to_owned()),
                Some(_) => Ok(u),
            }
        }));
        let task = pf.string("task", true, &mut errs).unwrap_or_default();
        let due = pf.parsed("due", true, &mut errs, |v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| "must be a date like 2026-12-31".to_owned())
        });
        // A part whose day is unreadable has its error already; it stands in as due today.
        parts.push(PartIn { task, due: due.unwrap_or(today) });
    }
    problem::check_new(&title, &description, &parts, today, &mut errs);
    for n in numbers.iter().take(problem::MAX_ORDERS) {
        match state.store().order(n).await? {
            Some(_) if crate::service::visible_order(state, user, n).await.is_ok() => {}
            _ => errs.add("orders", format!("no work order {n}")),
        }
    }
    errs.finish()?;
    let id = format!("prb-{}", &crate::auth::new_token()[..12].to_ascii_lowercase());
    let title = title.trim().to_owned();
    let new = NewProblem {
        id: id.clone(),
        title: title.clone(),
        description: description.trim().to_owned(),
        category,
        place,
        by: user.actor.username.as_str().to_owned(),
        at: state.now(),
        numbers,
        parts: units
            .into_iter()
            .flatten()
            .zip(parts)
            .map(|(u, p)| NewPart {
                unit: u.to_string(),
                notice: format!("疑难问题「{title}」：请于 {} 前完成：{}", p.due, p.task.trim()),
                task: p.task.trim().to_owned(),
                due_day: p.due.to_string(),
            })
            .collect(),
    };
    state.store().create_problem(&new).await?;
    found(state, user, &id).await
}

/// Whether a unit is within a scope's units (every unit for the hotline).
pub fn in_scope(scope: &Scope, u: &UnitCode) -> bool {
    match scope {
        Scope::All => true,
        Scope::Limited { units, .. } => units.contains(u),
    }
}

/// `{"part", "note", "done"}`: a unit's report on its part.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ReportIn {
    /// The part's number (from 1).
    part: i64,
    #[schema(min_length = 1, max_length = 2000)]
    note: String,
    /// Whether this finishes the part: the unit's own word, never assumed.
    done: bool,
}

/// Report progress on a part (its unit's handler, unit admin or leader). A report with
/// `done: true` finishes the part; when the last part is done the problem closes and the
/// supervisors are told.
#[utoipa::path(post, path = "/api/v1/problems/{id}/reports", tag = "problems", operation_id = "report_problem",
    params(("id" = String, Path)), request_body = ReportIn,
    responses((status = 200, description = "The problem now", body = ProblemOut),
              (status = 403, description = "Not the part's unit"),
              (status = 404, description = "No such problem or part"),
              (status = 409, description = "The problem is closed or the part already done"),
              (status = 422, description = "A field that is missing or wrong, named")), security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<Json<ProblemOut>, ApiError> {
    report_on(&state, &user, &id, &obj).await.map(|p| Json(out(&state, p)))
}

/// Whether `user` reports for `unit`: one of its own accounts, or of a unit above it.
pub fn reports_for(state: &AppState, user: &CurrentUser, unit: &str) -> bool {
    let dir = state.directory();
    user.actor.has_any(REPORTERS)
        && match (&user.actor.unit, UnitCode::parse(unit)) {
            (Some(mine), Ok(u)) => *mine == u || dir.is_below(&u, mine),
            _ => false,
        }
}

/// Checks and records a unit's report (the API's and the console's one path).
pub async fn report_on(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<StoredProblem, ApiError> {
    let p = found(state, user, id).await?;
    // The role before the values: one who reports for none of its units is refused first.
    if !p.parts.iter().any(|x| reports_for(state, user, &x.unit)) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden_role", "only a part's own unit reports on it"));
    }
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    let no = f.integer("part", true, &mut errs);
    let note = f.string("note", true, &mut errs).unwrap_or_default();
    let done = f.boolean("done", true, &mut errs);
    if no.is_some() && note.trim().is_empty() {
        errs.add("note", "say what was done");
    } else if note.chars().count() > problem::MAX_NOTE {
        errs.add("note", format!("at most {} characters", problem::MAX_NOTE));
    }
    errs.finish()?;
    let (Some(no), Some(done)) = (no, done) else {
        return Err(ApiError::malformed("part and done are required"));
    };
    let Some(part) = p.parts.iter().find(|x| x.part == no) else {
        return Err(ApiError::not_found(format!("the problem has no part {no}")));
    };
    if !reports_for(state, user, &part.unit) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden_role", "only the part's own unit reports on it"));
    }
    let conflict = |m: &str| ApiError::new(StatusCode::CONFLICT, "illegal_transition", m.to_owned());
    if p.status != "open" {
        return Err(conflict("the problem is closed"));
    }
    if part.done_at.is_some() {
        return Err(conflict("this part is already done"));
    }
    let closed = format!("疑难问题「{}」各部分均已完成，已办结", p.title);
    let by = user.actor.username.as_str();
    match state.store().report_problem(id, no, done, note.trim(), by, state.now(), &closed).await? {
        Reported::NotOpen => Err(conflict("the problem is closed")),
        Reported::PartDone => Err(conflict("this part is already done")),
        Reported::Recorded | Reported::Closed => found(state, user, id).await,
    }
}
