//! Incidents (事件): the rule proposes, a dispatcher confirms, later orders join, and one
//! reply answers every order in it (each its own `reply` event and deadline record).

use crate::auth::CurrentUser;
use crate::body::{Fields, JsonObject, Params};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianxin_domain::Role;
use lianxin_domain::error::FieldErrors;
use lianxin_domain::incident::{IncidentRule, propose};
use serde::Serialize;
use utoipa::ToSchema;

/// How long after it was made a confirmed incident is offered at intake to new orders of
/// its category and district.
pub const OFFER_HOURS: i64 = 48;

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentOut {
    pub id: String,
    pub title: String,
    pub category: String,
    pub district: Option<String>,
    /// proposed, confirmed or dismissed
    pub status: String,
    pub created_at: String,
    /// Who confirmed it (or dismissed it).
    pub confirmed_by: Option<String>,
    pub replied_at: Option<String>,
    pub orders: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    pub items: Vec<IncidentOut>,
}

pub fn out(state: &AppState, i: lianxin_store::StoredIncident) -> IncidentOut {
    let cal = state.calendar();
    IncidentOut {
        id: i.id,
        title: i.title,
        category: i.category,
        district: i.district,
        status: i.status,
        created_at: cal.rfc3339(i.created_at),
        confirmed_by: i.confirmed_by,
        replied_at: i.replied_at.map(|t| cal.rfc3339(t)),
        orders: i.numbers,
    }
}

/// Who decides on a proposal.
pub const DECIDERS: &[Role] = &[Role::Dispatcher, Role::Supervisor];
/// Who may look for incidents on demand.
pub const DETECTORS: &[Role] = &[Role::Dispatcher, Role::Supervisor, Role::Admin];
/// Who may add orders to an incident.
pub const JOINERS: &[Role] = &[Role::Dispatcher, Role::Supervisor, Role::Operator];

const STAFF: &[Role] = &[Role::Dispatcher, Role::Supervisor, Role::Operator, Role::Reviewer, Role::Leader, Role::Admin];

/// The rule in force (`meta.incident_rule`, else 10 orders in 120 minutes).
pub async fn rule(state: &AppState) -> IncidentRule {
    match state.store().meta("incident_rule").await {
        Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_default(),
        _ => IncidentRule::default(),
    }
}

/// Proposes incidents from the open orders of the rule's window; returns those made.
pub async fn detect_now(state: &AppState, by: &str) -> Result<Vec<lianxin_store::StoredIncident>, ApiError> {
    let rule = rule(state).await;
    let now = state.now();
    let candidates = state.store().incident_candidates(now - rule.window_minutes * 60_000).await?;
    let dir = state.directory();
    let mut made = Vec::new();
    for p in propose(&candidates, rule, now) {
        let cat = dir.category(&p.category).map(|c| c.name.clone()).unwrap_or_else(|| p.category.to_string());
        let place = dir.jurisdiction(&p.district).map(|j| j.name.clone()).unwrap_or_else(|| p.district.to_string());
        let title = format!("{place} · {cat}（{} 件）", p.numbers.len());
        let id = format!("inc-{}", &crate::auth::new_token()[..12].to_ascii_lowercase());
        state
            .store()
            .create_incident(&id, &title, p.category.as_str(), Some(p.district.as_str()), &p.numbers, by, now)
            .await?;
        if let Some(i) = state.store().incident(&id).await? {
            made.push(i);
        }
    }
    Ok(made)
}

/// Incidents, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", operation_id = "incidents",
    params(("status" = Option<String>, Query, description = "proposed, confirmed or dismissed")),
    responses((status = 200, description = "The incidents", body = IncidentList),
              (status = 403, description = "Hotline staff only")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<IncidentList>, ApiError> {
    user.require(STAFF, "incidents are for the hotline's staff")?;
    let mut errs = FieldErrors::new();
    let status = params.parsed("status", &mut errs, parse_status);
    errs.finish()?;
    let items = state.store().incidents(status.as_deref()).await?;
    Ok(Json(IncidentList { items: items.into_iter().map(|i| out(&state, i)).collect() }))
}

/// Look for incidents now (the supervision sweep does too): each group of at least the
/// rule's number of open orders of one category in one district within its window.
#[utoipa::path(post, path = "/api/v1/incidents/detect", tag = "incidents", operation_id = "detect_incidents",
    responses((status = 200, description = "The incidents proposed now", body = IncidentList),
              (status = 403, description = "Dispatchers, supervisors and admins only")), security(("bearer" = [])))]
pub async fn detect(State(state): State<AppState>, user: CurrentUser) -> Result<Json<IncidentList>, ApiError> {
    let made = detect_for(&state, &user).await?;
    Ok(Json(IncidentList { items: made.into_iter().map(|i| out(&state, i)).collect() }))
}

/// Looks for incidents now on `user`'s request (the API's and the console's one path).
pub async fn detect_for(state: &AppState, user: &CurrentUser) -> Result<Vec<lianxin_store::StoredIncident>, ApiError> {
    user.require(DETECTORS, "only a dispatcher or a supervisor may look for incidents")?;
    detect_now(state, user.actor.username.as_str()).await
}

/// An incident's status as a filter.
pub fn parse_status(v: &str) -> Result<String, String> {
    match v {
        "proposed" | "confirmed" | "dismissed" => Ok(v.to_owned()),
        _ => Err("must be proposed, confirmed or dismissed".to_owned()),
    }
}

/// The rule that proposes incidents.
#[utoipa::path(get, path = "/api/v1/incidents/rule", tag = "incidents", operation_id = "get_incident_rule",
    responses((status = 200, description = "The rule in force", body = RuleDoc),
              (status = 403, description = "Hotline staff only")), security(("bearer" = [])))]
pub async fn get_rule(State(state): State<AppState>, user: CurrentUser) -> Result<Json<IncidentRule>, ApiError> {
    user.require(STAFF, "incidents are for the hotline's staff")?;
    Ok(Json(rule(&state).await))
}

/// `{"min_orders", "window_minutes"}`: at least this many open orders of one category in one
/// district created within the window make a proposed incident.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct RuleDoc {
    #[schema(minimum = 2, maximum = 10000)]
    min_orders: i64,
    #[schema(minimum = 10, maximum = 10080)]
    window_minutes: i64,
}

/// Set the rule (admin); the next sweep and detection use it.
#[utoipa::path(put, path = "/api/v1/incidents/rule", tag = "incidents", operation_id = "put_incident_rule",
    request_body = RuleDoc,
    responses((status = 200, description = "The rule now in force", body = RuleDoc),
              (status = 403, description = "Only an admin may change the rule"),
              (status = 422, description = "A value out of bounds, named")), security(("bearer" = [])))]
pub async fn put_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<IncidentRule>, ApiError> {
    set_rule(&state, &user, &obj).await.map(Json)
}

/// Checks and sets the rule (admin; the API's and the console's one path).
pub async fn set_rule(
    state: &AppState,
    user: &CurrentUser,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<IncidentRule, ApiError> {
    user.require(&[Role::Admin], "only an admin may change the incident rule")?;
    let new = parse_rule(obj)?;
    save_rule(state, new).await?;
    Ok(new)
}

/// Reads a rule from a body, checked.
fn parse_rule(obj: &serde_json::Map<String, serde_json::Value>) -> Result<IncidentRule, ApiError> {
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    let min = f.integer("min_orders", true, &mut errs);
    let window = f.integer("window_minutes", true, &mut errs);
    errs.finish()?;
    let new = IncidentRule {
        min_orders: usize::try_from(min.unwrap_or(0)).unwrap_or(0),
        window_minutes: window.unwrap_or(0),
    };
    new.check().map_err(|e| ApiError::invalid(e.into_map()))?;
    Ok(new)
}

async fn save_rule(state: &AppState, rule: IncidentRule) -> Result<(), ApiError> {
    let json = serde_json::to_string(&rule).map_err(|e| ApiError::malformed(e.to_string()))?;
    state.store().set_meta("incident_rule", &json).await?;
    Ok(())
}

async fn found(state: &AppState, id: &str) -> Result<lianxin_store::StoredIncident, ApiError> {
    state.store().incident(id).await?.ok_or_else(|| ApiError::not_found(format!("no incident `{id}`")))
}

/// Confirm a proposed incident (dispatcher): later similar orders are offered to join it.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/confirm", tag = "incidents", operation_id = "confirm_incident",
    params(("id" = String, Path)),
    responses((status = 200, description = "The incident", body = IncidentOut), (status = 403, description = "Dispatchers and supervisors only"),
              (status = 409, description = "Not a proposed incident")),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<IncidentOut>, ApiError> {
    decide(&state, &user, &id, "confirmed").await.map(Json)
}

/// Confirms or dismisses a proposed incident (a dispatcher's or a supervisor's decision).
pub async fn decide(state: &AppState, user: &CurrentUser, id: &str, to: &str) -> Result<IncidentOut, ApiError> {
    user.require(DECIDERS, "only a dispatcher or a supervisor may decide on an incident")?;
    let i = found(state, id).await?;
    if !state.store().set_incident_status(id, to, user.actor.username.as_str(), state.now()).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "illegal_transition",
            format!("the incident is {}, not proposed", i.status),
        ));
    }
    Ok(out(state, found(state, id).await?))
}

/// Dismiss a proposed incident (dispatcher): its orders are handled one by one as before.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/dismiss", tag = "incidents", operation_id = "dismiss_incident",
    params(("id" = String, Path)),
    responses((status = 200, description = "The incident", body = IncidentOut), (status = 403, description = "Dispatchers and supervisors only"),
              (status = 404, description = "No such incident"), (status = 409, description = "Not a proposed incident")),
    security(("bearer" = [])))]
pub async fn dismiss(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<IncidentOut>, ApiError> {
    decide(&state, &user, &id, "dismissed").await.map(Json)
}

#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct NumbersIn {
    #[schema(min_items = 1, max_items = 500)]
    numbers: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Joined {
    pub incident: IncidentOut,
    /// Orders already in another incident.
    pub refused: Vec<String>,
}

/// Add orders to an incident (a dispatcher or an operator at intake).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/orders", tag = "incidents", operation_id = "add_incident_orders",
    params(("id" = String, Path)), request_body = NumbersIn,
    responses((status = 200, description = "The incident now", body = Joined),
              (status = 403, description = "Dispatchers, supervisors and operators only"),
              (status = 404, description = "No such incident"),
              (status = 409, description = "The incident was dismissed")), security(("bearer" = [])))]
pub async fn add_orders(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<Json<Joined>, ApiError> {
    let mut errs = FieldErrors::new();
    let numbers = Fields::new(&obj).string_list("numbers", &mut errs);
    let refused = add(&state, &user, &id, numbers, errs).await?;
    Ok(Json(Joined { incident: out(&state, found(&state, &id).await?), refused }))
}

/// Adds open orders to an incident that is not dismissed (the API's and the intake's one
/// path); returns the numbers already in another incident.
pub async fn add(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    numbers: Vec<String>,
    mut errs: FieldErrors,
) -> Result<Vec<String>, ApiError> {
    user.require(JOINERS, "only a dispatcher or an operator may add orders to an incident")?;
    let i = found(state, id).await?;
    if i.status == "dismissed" {
        return Err(ApiError::new(StatusCode::CONFLICT, "illegal_transition", "the incident was dismissed"));
    }
    if numbers.is_empty() {
        errs.add("numbers", "name at least one order");
    }
    if numbers.len() > 500 {
        errs.add("numbers", "at most 500 orders at a time");
    }
    for n in &numbers {
        match state.store().order(n).await? {
            Some(o) if o.status.is_open() => {}
            Some(_) => errs.add("numbers", format!("{n} is no longer open")),
            None => errs.add("numbers", format!("no work order {n}")),
        }
    }
    errs.finish()?;
    Ok(state.store().add_to_incident(id, &numbers, user.actor.username.as_str(), state.now()).await?)
}

#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct IncidentReplyIn {
    #[schema(min_length = 1, max_length = 5000)]
    content: String,
    /// The unit's own word on whether the matter is solved.
    solved: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Refused {
    pub number: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentReplied {
    /// Orders that got the reply (each its own `reply` event).
    pub replied: Vec<String>,
    /// Orders the reply could not be given to, and why (not yours, not being handled…).
    pub refused: Vec<Refused>,
}

/// Reply once to every order of a confirmed incident: each order is replied to by its own
/// `reply` action, with the same rules as one by one.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/reply", tag = "incidents", operation_id = "reply_incident",
    params(("id" = String, Path)), request_body = IncidentReplyIn,
    responses((status = 200, description = "What was replied to", body = IncidentReplied),
              (status = 409, description = "The incident is not confirmed")),
    security(("bearer" = [])))]
pub async fn reply(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<Json<IncidentReplied>, ApiError> {
    reply_all(&state, &user, &id, &obj).await.map(Json)
}

/// Replies to every order of a confirmed incident (the API's and the console's one path).
pub async fn reply_all(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<IncidentReplied, ApiError> {
    let i = found(state, id).await?;
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    let content = f.string("content", true, &mut errs);
    let solved = f.boolean("solved", true, &mut errs);
    errs.finish()?;
    if i.status != "confirmed" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "illegal_transition",
            format!("the incident is {}: confirm it first", i.status),
        ));
    }
    let mut body = serde_json::Map::new();
    body.insert("content".into(), content.unwrap_or_default().into());
    body.insert("solved".into(), solved.unwrap_or(false).into());
    let (mut replied, mut refused) = (Vec::new(), Vec::new());
    for n in &i.numbers {
        match crate::service::perform(state, user, n, "reply", body.clone()).await {
            Ok(_) => replied.push(n.clone()),
            Err(e) => refused.push(Refused { number: n.clone(), code: e.code.to_owned(), message: e.message }),
        }
    }
    if !replied.is_empty() {
        state.store().set_incident_status(id, "replied", user.actor.username.as_str(), state.now()).await?;
    }
    Ok(IncidentReplied { replied, refused })
}
