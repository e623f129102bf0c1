//! Administration over HTTP: import and export, reference items, the routing catalogue,
//! accounts and the change history (all through [`crate::admin`], as the console).

use crate::admin::{self, UserInput};
use crate::auth::CurrentUser;
use crate::body::{JsonObject, Params, invalid, media_type, unsupported_media_type};
use crate::error::ApiError;
use crate::setup::{Kind, Report, table::Format};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianxin_store::{AdminChange, UserRecord};
use serde::Serialize;
use utoipa::ToSchema;

fn kind_of(s: &str) -> Result<Kind, ApiError> {
    Kind::parse(s).ok_or_else(|| {
        ApiError::not_found(format!(
            "unknown kind `{s}`: one of jurisdictions, units, categories, routes, users, orders"
        ))
    })
}

fn reference_kind(s: &str) -> Result<Kind, ApiError> {
    match kind_of(s)? {
        k @ (Kind::Jurisdictions | Kind::Units | Kind::Categories) => Ok(k),
        _ => Err(ApiError::not_found(format!("no items of kind `{s}` here; use /admin/routes or /admin/users"))),
    }
}

/// The format of an import body: `?format=`, else its media type (`text/csv`,
/// `application/json`; `text/plain`, `application/octet-stream` or none are CSV). Any
/// other media type is a 415.
fn format_of(params: &Params, headers: &HeaderMap) -> Result<Format, ApiError> {
    let mut errs = lianxin_domain::error::FieldErrors::new();
    let format = params.one_of("format", &mut errs, &["csv", "json"]);
    errs.finish()?;
    let media = media_type(headers);
    match media.as_deref() {
        None | Some("text/csv" | "text/plain" | "application/octet-stream" | "application/json") => {}
        Some(other) => {
            return Err(unsupported_media_type(Some(other), "`text/csv` or `application/json`"));
        }
    }
    Ok(match (format, media.as_deref()) {
        (Some("json"), _) | (None, Some("application/json")) => Format::Json,
        _ => Format::Csv,
    })
}

/// Import a file (the body: CSV, or JSON with `Content-Type: application/json` or
/// `?format=json`). All rows or none; every bad row is named in `fields` as
/// `line N: column`. `?dry_run=true` reports what would change and writes nothing.
#[utoipa::path(post, path = "/api/v1/admin/import/{kind}", tag = "admin", operation_id = "admin_import",
    params(("kind" = String, Path, description = "jurisdictions, units, categories, routes, users or orders"),
           ("dry_run" = Option<bool>, Query), ("format" = Option<String>, Query, description = "csv or json")),
    request_body(description = "the file, as API.md fixes its columns (at most 64 MiB)",
                 content((String = "text/csv"), (String = "application/json"))),
    responses((status = 200, description = "What was (or, with dry_run, would be) created and updated", body = Report),
              (status = 403, description = "Only an admin may import"),
              (status = 404, description = "No such kind"),
              (status = 422, description = "Bad rows (every one named as `line N: column`) or parameters; nothing written")),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(kind): Path<String>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Report>, ApiError> {
    let kind = kind_of(&kind)?;
    admin::require_admin(&user)?;
    let mut errs = lianxin_domain::error::FieldErrors::new();
    let dry_run = params.boolean("dry_run", &mut errs).unwrap_or(false);
    errs.finish()?;
    let format = format_of(&params, &headers)?;
    Ok(Json(admin::import(&state, &user, kind, &body, format, dry_run).await?))
}

/// Export what `import` reads (CSV by default, `?format=json`).
#[utoipa::path(get, path = "/api/v1/admin/export/{kind}", tag = "admin", operation_id = "admin_export",
    params(("kind" = String, Path, description = "jurisdictions, units, categories, routes, users or orders"),
           ("format" = Option<String>, Query, description = "csv (default) or json")),
    responses((status = 200, description = "The file import reads",
               content((String = "text/csv"), (Vec<serde_json::Value> = "application/json"))),
              (status = 403, description = "Only an admin may export"),
              (status = 404, description = "No such kind")),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(kind): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let kind = kind_of(&kind)?;
    admin::require_admin(&user)?;
    let mut errs = lianxin_domain::error::FieldErrors::new();
    let format = match params.one_of("format", &mut errs, &["csv", "json"]) {
        Some("json") => Format::Json,
        _ => Format::Csv,
    };
    errs.finish()?;
    let bytes = admin::export(&state, &user, kind, format).await?;
    let (ct, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.{ext}\"", kind.as_str())) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Create or edit one jurisdiction, unit or category: the body has the import columns as
/// keys (the path's code wins). Returns the change report.
#[utoipa::path(put, path = "/api/v1/admin/{kind}/{code}", tag = "admin", operation_id = "admin_put_item",
    params(("kind" = String, Path, description = "jurisdictions, units or categories"), ("code" = String, Path)),
    request_body(content = BTreeMap<String, String>, description = "the import columns of the kind as strings, e.g. {\"name\",\"kind\",\"parent\",\"jurisdiction\"}"),
    responses((status = 200, description = "What changed", body = Report),
              (status = 403, description = "Only an admin may edit reference data"),
              (status = 404, description = "No such kind"),
              (status = 422, description = "Invalid columns, every one named")),
    security(("bearer" = [])))]
pub async fn put_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((kind, code)): Path<(String, String)>,
    JsonObject(obj): JsonObject,
) -> Result<Json<Report>, ApiError> {
    let mut obj = obj;
    let kind = reference_kind(&kind)?;
    obj.insert("code".into(), serde_json::Value::String(code));
    Ok(Json(admin::save_item(&state, &user, kind, obj).await?))
}

/// One jurisdiction, unit or category as the import columns.
#[utoipa::path(get, path = "/api/v1/admin/{kind}/{code}", tag = "admin", operation_id = "admin_get_item",
    params(("kind" = String, Path, description = "jurisdictions, units or categories"), ("code" = String, Path)),
    responses((status = 200, description = "The item's import columns", body = serde_json::Value),
              (status = 403, description = "Only an admin may read reference items here"),
              (status = 404, description = "No such kind or item")),
    security(("bearer" = [])))]
pub async fn get_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((kind, code)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let kind = reference_kind(&kind)?;
    admin::require_admin(&user)?;
    admin::item_object(&state, kind, &code)
        .map(|m| Json(serde_json::Value::Object(m)))
        .ok_or_else(|| ApiError::not_found(format!("no {} `{code}`", kind.item())))
}

/// Deactivate (nothing is deleted: it stays on old orders, leaves intake and dispatch) or
/// reactivate a jurisdiction, unit or category.
#[utoipa::path(post, path = "/api/v1/admin/{kind}/{code}/{toggle}", tag = "admin", operation_id = "admin_toggle_item",
    params(("kind" = String, Path, description = "jurisdictions, units or categories"), ("code" = String, Path),
           ("toggle" = String, Path, description = "deactivate or activate")),
    responses((status = 200, description = "What changed", body = Report),
              (status = 403, description = "Only an admin may (de)activate reference items"),
              (status = 404, description = "No such kind, item or toggle"),
              (status = 422, description = "The item cannot be (de)activated, e.g. a parent of active items")),
    security(("bearer" = [])))]
pub async fn toggle_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((kind, code, toggle)): Path<(String, String, String)>,
) -> Result<Json<Report>, ApiError> {
    let kind = reference_kind(&kind)?;
    let active = match toggle.as_str() {
        "deactivate" => false,
        "activate" => true,
        other => return Err(ApiError::not_found(format!("unknown action `{other}`: deactivate or activate"))),
    };
    Ok(Json(admin::set_active(&state, &user, kind, &code, active).await?))
}

/// A row of the routing catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteOut {
    pub category: String,
    /// A district or street; null: anywhere.
    pub jurisdiction: Option<String>,
    pub unit: String,
}

/// The routing catalogue (派单目录).
#[utoipa::path(get, path = "/api/v1/admin/routes", tag = "admin", operation_id = "admin_list_routes",
    responses((status = 200, description = "Every route", body = [RouteOut]),
              (status = 403, description = "Only an admin may read the routing catalogue here")),
    security(("bearer" = [])))]
pub async fn routes(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<RouteOut>>, ApiError> {
    admin::require_admin(&user)?;
    Ok(Json(
        state
            .directory()
            .routes()
            .map(|r| RouteOut {
                category: r.category.to_string(),
                jurisdiction: r.jurisdiction.as_ref().map(|j| j.to_string()),
                unit: r.unit.to_string(),
            })
            .collect(),
    ))
}

/// Add or replace a route: `{"category","jurisdiction"?,"unit"}`.
#[utoipa::path(put, path = "/api/v1/admin/routes", tag = "admin", operation_id = "admin_put_route",
    request_body = crate::openapi::RouteIn,
    responses((status = 200, description = "What changed", body = Report),
              (status = 403, description = "Only an admin may edit the routing catalogue"),
              (status = 422, description = "Invalid values, every one named")),
    security(("bearer" = [])))]
pub async fn put_route(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(admin::save_item(&state, &user, Kind::Routes, obj).await?))
}

/// Remove a route.
#[utoipa::path(delete, path = "/api/v1/admin/routes", tag = "admin", operation_id = "admin_delete_route",
    params(("category" = String, Query), ("jurisdiction" = Option<String>, Query, description = "absent: the row for anywhere")),
    responses((status = 204, description = "Removed"),
              (status = 403, description = "Only an admin may edit the routing catalogue"),
              (status = 404, description = "No such route"),
              (status = 422, description = "`category` missing or invalid")),
    security(("bearer" = [])))]
pub async fn delete_route(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<StatusCode, ApiError> {
    let Some(category) = params.get("category") else {
        admin::require_admin(&user)?;
        return Err(invalid("category", "is required"));
    };
    admin::delete_route(&state, &user, category, params.get("jurisdiction")).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account as admins see it (never its password).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub unit: Option<String>,
    pub active: bool,
    /// False for an imported account that cannot sign in until a password is set.
    pub has_password: bool,
}

fn account(u: &UserRecord) -> AccountOut {
    AccountOut {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles: u.roles.iter().map(|r| r.to_string()).collect(),
        unit: u.unit.as_ref().map(|c| c.to_string()),
        active: u.active,
        has_password: !u.password_hash.is_empty(),
    }
}

/// The accounts the caller manages (an admin: all; a unit admin: its units').
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", operation_id = "admin_list_users",
    responses((status = 200, description = "The accounts", body = [AccountOut]),
              (status = 403, description = "Only an admin or unit admin manages accounts")),
    security(("bearer" = [])))]
pub async fn users(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<AccountOut>>, ApiError> {
    Ok(Json(admin::list_users(&state, &user).await?.iter().map(account).collect()))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/admin/users/{username}", tag = "admin", operation_id = "admin_get_user",
    params(("username" = String, Path)),
    responses((status = 200, description = "The account", body = AccountOut),
              (status = 403, description = "Only an admin or unit admin manages accounts"),
              (status = 404, description = "No such account among those the caller manages")),
    security(("bearer" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(username): Path<String>,
) -> Result<Json<AccountOut>, ApiError> {
    Ok(Json(account(&admin::get_user(&state, &user, &username).await?)))
}

/// Create or update an account: `{"display_name"?,"roles":[…],"unit"?,"active"?,"password"?}`.
/// A unit admin manages only its units' accounts, with handler and unit_admin roles.
/// Disabling ends the account's sessions and tokens at once.
#[utoipa::path(put, path = "/api/v1/admin/users/{username}", tag = "admin", operation_id = "admin_put_user",
    params(("username" = String, Path)),
    request_body = crate::openapi::UserIn,
    responses((status = 200, description = "Updated", body = AccountOut), (status = 201, description = "Created", body = AccountOut),
              (status = 403, description = "The caller may not manage this account or give these roles"),
              (status = 404, description = "No such account among those the caller manages"),
              (status = 409, description = "The change would leave no active admin, or conflicts with the stored account"),
              (status = 422, description = "Invalid values, every one named")),
    security(("bearer" = [])))]
pub async fn put_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(username): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<(StatusCode, Json<AccountOut>), ApiError> {
    let input: UserInput = admin::parse_user_input(&obj)?;
    let (u, created) = admin::save_user(&state, &user, &username, input).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(account(&u))))
}

/// Set an account's password: `{"password"}` (at least 8 characters); its sessions end.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/password", tag = "admin", operation_id = "admin_set_password",
    params(("username" = String, Path)),
    request_body = crate::openapi::PasswordIn,
    responses((status = 204, description = "Set; the account's sessions ended"),
              (status = 403, description = "The caller may not manage this account"),
              (status = 404, description = "No such account among those the caller manages"),
              (status = 422, description = "`password` missing, too short or holding control characters")),
    security(("bearer" = [])))]
pub async fn set_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(username): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<StatusCode, ApiError> {
    admin::get_user(&state, &user, &username).await?;
    let mut errs = lianxin_domain::error::FieldErrors::new();
    let password = crate::body::Fields::new(&obj).string("password", true, &mut errs).unwrap_or_default();
    errs.finish()?;
    if password.is_empty() {
        return Err(invalid("password", "is required"));
    }
    admin::set_password(&state, &user, &username, password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable or enable an account.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/{toggle}", tag = "admin", operation_id = "admin_toggle_user",
    params(("username" = String, Path), ("toggle" = String, Path, description = "disable or enable")),
    responses((status = 200, description = "The account", body = AccountOut),
              (status = 403, description = "The caller may not manage this account"),
              (status = 404, description = "No such account or toggle"),
              (status = 409, description = "Disabling would leave no active admin")),
    security(("bearer" = [])))]
pub async fn toggle_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((username, toggle)): Path<(String, String)>,
) -> Result<Json<AccountOut>, ApiError> {
    let active = match toggle.as_str() {
        "disable" => false,
        "enable" => true,
        other => return Err(ApiError::not_found(format!("unknown action `{other}`: disable or enable"))),
    };
    Ok(Json(account(&admin::set_user_active(&state, &user, &username, active).await?)))
}

/// One recorded administrative change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeRecord {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub code: String,
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Who changed what, when, before and after: `?kind=unit&code=…` for one item's history.
#[utoipa::path(get, path = "/api/v1/admin/history", tag = "admin", operation_id = "admin_history",
    params(("kind" = Option<String>, Query, description = "jurisdiction, unit, category, route or user"),
           ("code" = Option<String>, Query),
           ("limit" = Option<i64>, Query, minimum = 1, description = "default 100; larger than 1000 is 1000")),
    responses((status = 200, description = "The changes, newest first", body = [ChangeRecord]),
              (status = 403, description = "Only an admin reads the whole history; a unit admin an account's"),
              (status = 404, description = "No such account among those the caller manages")),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<Vec<ChangeRecord>>, ApiError> {
    let mut errs = lianxin_domain::error::FieldErrors::new();
    let limit = params.limit("limit", &mut errs, 1, 1000).unwrap_or(100);
    errs.finish()?;
    let rows = admin::history(&state, &user, params.get("kind"), params.get("code"), limit).await?;
    Ok(Json(rows.iter().map(|c| change_record(&state, c)).collect()))
}

fn change_record(state: &AppState, c: &AdminChange) -> ChangeRecord {
    let parse = |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str(t).ok());
    ChangeRecord {
        at: state.calendar().rfc3339(c.at),
        actor: c.actor.clone(),
        kind: c.kind.clone(),
        code: c.code.clone(),
        action: c.action.clone(),
        before: parse(&c.before),
        after: parse(&c.after),
    }
}

/// One recorded sign-in attempt (never its password).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAttemptOut {
    pub id: i64,
    pub at: String,
    /// The username as tried; it may name no account.
    pub username: String,
    /// The client's address.
    pub address: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// `api` or `console`.
    pub via: String,
}

/// A page of the login log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginLog {
    pub items: Vec<LoginAttemptOut>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    pub next_cursor: Option<String>,
}

/// The login log: every checked sign-in (API and console), newest first, paged with
/// `cursor`; `?username=`, `?address=`, `?outcome=success|failure` narrow it. Admins only.
/// Attempts refused with 429 were not checked and are not in it.
#[utoipa::path(get, path = "/api/v1/admin/logins", tag = "admin", operation_id = "admin_logins",
    params(("username" = Option<String>, Query), ("address" = Option<String>, Query),
           ("outcome" = Option<String>, Query, description = "success or failure"),
           ("limit" = Option<i64>, Query, minimum = 1, description = "default 50; larger than 200 is 200"),
           ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "Checked sign-in attempts, newest first", body = LoginLog),
              (status = 403, description = "Only an admin reads the login log"),
              (status = 422, description = "A bad `outcome`, `limit` or `cursor`")),
    security(("bearer" = [])))]
pub async fn logins(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<LoginLog>, ApiError> {
    admin::require_login_log(&user)?;
    let get = |k: &str| params.get(k).map(str::to_owned);
    let (filter, limit) = login_filter(get("username"), get("address"), get("outcome"), get("limit"), get("cursor"))?;
    Ok(Json(login_page(&state, &user, &filter, limit).await?))
}

/// The filter and page size of a login-log query; bad values are one 422.
pub fn login_filter(
    username: Option<String>,
    address: Option<String>,
    outcome: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
) -> Result<(lianxin_store::LoginFilter, i64), ApiError> {
    let mut errs = std::collections::BTreeMap::new();
    let some = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let outcome = match some(outcome) {
        None => None,
        Some(o) => match lianxin_store::LoginOutcome::parse(&o) {
            Some(x) => Some(x),
            None => {
                errs.insert("outcome".to_owned(), format!("`{o}` is not one of: success, failure"));
                None
            }
        },
    };
    let limit = match some(limit) {
        None => 50,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > 0 => n.min(200),
            _ => {
                errs.insert("limit".to_owned(), format!("`{s}` is not a positive whole number"));
                50
            }
        },
    };
    let before_id = match some(cursor) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errs.insert("cursor".to_owned(), "is not a cursor this list gave".to_owned());
                None
            }
        },
    };
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    Ok((lianxin_store::LoginFilter { username: some(username), address: some(address), outcome, before_id }, limit))
}

/// One page of the login log.
pub async fn login_page(
    state: &AppState,
    user: &CurrentUser,
    f: &lianxin_store::LoginFilter,
    limit: i64,
) -> Result<LoginLog, ApiError> {
    let (rows, next) = admin::login_log(state, user, f, limit).await?;
    let cal = state.calendar();
    let items = rows
        .into_iter()
        .map(|r| LoginAttemptOut {
            id: r.id,
            at: cal.rfc3339(r.attempt.at),
            username: r.attempt.username,
            address: r.attempt.address,
            outcome: r.attempt.outcome.as_str().to_owned(),
            via: r.attempt.via,
        })
        .collect();
    Ok(LoginLog { items, next_cursor: next.map(|n| n.to_string()) })
}
