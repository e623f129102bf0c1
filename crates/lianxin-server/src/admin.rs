//! Administration (F-8 setup): the operations the admin API and the admin console share.
//! Reference edits go through the same import path as files (one row is a one-row file),
//! so every edit is checked, written in one transaction and recorded with before and after.
//!
//! Admins manage everything; a unit admin manages the accounts of its own unit and the
//! units below it, and can give them only unit roles.

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::setup::{self, ImportError, Importer, Kind, Report, table::Format};
use crate::state::AppState;
use axum::http::StatusCode;
use lianxin_domain::setup::RowError;
use lianxin_domain::*;
use lianxin_store::{AdminChange, UserRecord, UserWrite};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn forbidden(rule: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden_role", rule)
}

/// 403 unless the user is an admin.
pub fn require_admin(user: &CurrentUser) -> Result<(), ApiError> {
    user.require(&[Role::Admin], "only an admin may change the city's set-up")
}

/// Bad rows as a 422 naming each as `line N: column`.
pub fn rows_error(errs: &[RowError]) -> ApiError {
    let mut fields = BTreeMap::new();
    for e in errs {
        let key =
            if e.column.is_empty() { format!("line {}", e.line) } else { format!("line {}: {}", e.line, e.column) };
        fields
            .entry(key)
            .and_modify(|m: &mut String| {
                m.push_str("; ");
                m.push_str(&e.message);
            })
            .or_insert_with(|| e.message.clone());
    }
    let mut err = ApiError::invalid(fields);
    err.code = "invalid_rows";
    err.message = format!("{} problem(s); nothing was written: {}", errs.len(), err.message);
    err
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::Rows(errs) => rows_error(&errs),
        ImportError::Store(e) => e.into(),
    }
}

/// Reloads the directory after a reference write, so that intake, dispatch and scope see it.
async fn reload(state: &AppState) -> Result<(), ApiError> {
    state.set_directory(state.store().load_directory().await?);
    Ok(())
}

/// Imports a file (admin). With `dry_run` nothing is written and the report says what would be.
pub async fn import(
    state: &AppState,
    user: &CurrentUser,
    kind: Kind,
    bytes: &[u8],
    format: Format,
    dry_run: bool,
) -> Result<Report, ApiError> {
    require_admin(user)?;
    let dir = state.directory();
    let cal = state.calendar();
    let who = Importer { actor: user.actor.username.clone(), now: state.now() };
    let report =
        setup::import(state.store(), &dir, &cal, kind, (bytes, format), dry_run, &who).await.map_err(import_error)?;
    if !dry_run && (report.created > 0 || report.updated > 0) {
        reload(state).await?;
        tracing::info!(kind = kind.as_str(), created = report.created, updated = report.updated, by = %user.actor.username, "imported");
    }
    Ok(report)
}

/// Exports `kind` (admin).
pub async fn export(state: &AppState, user: &CurrentUser, kind: Kind, format: Format) -> Result<Vec<u8>, ApiError> {
    require_admin(user)?;
    Ok(setup::export(state.store(), &state.directory(), &state.calendar(), kind, format).await?)
}

/// Creates or edits one reference item (jurisdiction, unit, category or route) from an
/// object with the import columns as keys (admin).
pub async fn save_item(
    state: &AppState,
    user: &CurrentUser,
    kind: Kind,
    item: Map<String, Value>,
) -> Result<Report, ApiError> {
    if matches!(kind, Kind::Users | Kind::Orders) {
        return Err(ApiError::not_found(format!("no admin item kind `{}`", kind.as_str())));
    }
    let body =
        serde_json::to_vec(&Value::Array(vec![Value::Object(item)])).map_err(|e| ApiError::malformed(e.to_string()))?;
    let report = import(state, user, kind, &body, Format::Json, false).await;
    // One item: say `name` rather than `line 1: name`.
    report.map_err(|mut e| {
        if let Some(fields) = e.fields.take() {
            let fields: BTreeMap<String, String> =
                fields.into_iter().map(|(k, v)| (k.strip_prefix("line 1: ").unwrap_or(&k).to_owned(), v)).collect();
            let code = e.code;
            e = ApiError::invalid(fields);
            e.code = code;
        }
        e
    })
}

/// The current row of a reference item as the import columns, for editing.
pub fn item_object(state: &AppState, kind: Kind, code: &str) -> Option<Map<String, Value>> {
    let dir = state.directory();
    let text = |s: &str| Value::String(s.to_owned());
    let opt = |s: Option<String>| s.map(Value::String).unwrap_or(Value::Null);
    let mut m = Map::new();
    match kind {
        Kind::Jurisdictions => {
            let j = dir.jurisdiction(&JurisdictionCode::parse(code).ok()?)?;
            m.insert("code".into(), text(j.code.as_str()));
            m.insert("name".into(), text(&j.name));
            m.insert("level".into(), text(j.level.as_str()));
            m.insert("parent".into(), opt(j.parent.as_ref().map(|p| p.to_string())));
            m.insert("active".into(), Value::Bool(j.active));
        }
        Kind::Units => {
            let u = dir.unit(&UnitCode::parse(code).ok()?)?;
            m.insert("code".into(), text(u.code.as_str()));
            m.insert("name".into(), text(&u.name));
            m.insert("kind".into(), text(u.kind.as_str()));
            m.insert("parent".into(), opt(u.parent.as_ref().map(|p| p.to_string())));
            m.insert("jurisdiction".into(), opt(u.jurisdiction.as_ref().map(|p| p.to_string())));
            m.insert("active".into(), Value::Bool(u.active));
        }
        Kind::Categories => {
            let c = dir.category(&CategoryCode::parse(code).ok()?)?;
            let l = &c.spec.time_limits;
            m.insert("code".into(), text(c.code.as_str()));
            m.insert("name".into(), text(&c.name));
            m.insert("parent".into(), opt(c.parent.as_ref().map(|p| p.to_string())));
            m.insert("limit_normal".into(), opt(l.normal.map(|x| x.to_string())));
            m.insert("limit_urgent".into(), opt(l.urgent.map(|x| x.to_string())));
            m.insert("limit_emergency".into(), opt(l.emergency.map(|x| x.to_string())));
            m.insert("request_type".into(), opt(c.spec.request_type.map(|x| x.to_string())));
            m.insert("prompts".into(), Value::Array(c.spec.prompts.iter().map(|p| text(p)).collect()));
            m.insert("keywords".into(), Value::Array(c.spec.keywords.iter().map(|p| text(p)).collect()));
            m.insert("active".into(), Value::Bool(c.active));
        }
        Kind::Routes | Kind::Users | Kind::Orders => return None,
    }
    Some(m)
}

/// Deactivates or reactivates a jurisdiction, unit or category (admin). Nothing is deleted:
/// a deactivated item stays on its old orders and leaves intake and dispatch.
pub async fn set_active(
    state: &AppState,
    user: &CurrentUser,
    kind: Kind,
    code: &str,
    active: bool,
) -> Result<Report, ApiError> {
    require_admin(user)?;
    let mut item =
        item_object(state, kind, code).ok_or_else(|| ApiError::not_found(format!("no {} `{code}`", kind.item())))?;
    item.insert("active".into(), Value::Bool(active));
    save_item(state, user, kind, item).await
}

/// Removes a row of the routing catalogue (admin).
pub async fn delete_route(
    state: &AppState,
    user: &CurrentUser,
    category: &str,
    jurisdiction: Option<&str>,
) -> Result<(), ApiError> {
    require_admin(user)?;
    let category =
        CategoryCode::parse(category).map_err(|m| ApiError::invalid(BTreeMap::from([("category".into(), m)])))?;
    let jurisdiction = jurisdiction
        .filter(|j| !j.is_empty())
        .map(JurisdictionCode::parse)
        .transpose()
        .map_err(|m| ApiError::invalid(BTreeMap::from([("jurisdiction".into(), m)])))?;
    let dir = state.directory();
    let before = dir.routes().find(|r| r.category == category && r.jurisdiction == jurisdiction).cloned();
    let Some(before) = before else { return Err(ApiError::not_found("no such route")) };
    let code = match &jurisdiction {
        Some(j) => format!("{category}@{j}"),
        None => category.to_string(),
    };
    let change = AdminChange {
        at: state.now(),
        actor: user.actor.username.clone(),
        kind: "route".into(),
        code,
        action: "delete".into(),
        before: serde_json::to_string(&before).ok(),
        after: None,
    };
    state.store().delete_route(&category, jurisdiction.as_ref(), &change).await?;
    reload(state).await
}

/// The units whose accounts `user` manages: all for an admin, the own unit and those
/// below it for a unit admin, none otherwise.
enum Manages {
    All,
    Units(std::collections::BTreeSet<UnitCode>),
}

fn manages(state: &AppState, user: &CurrentUser) -> Result<Manages, ApiError> {
    if user.actor.has(Role::Admin) {
        return Ok(Manages::All);
    }
    if user.actor.has(Role::UnitAdmin)
        && let Some(unit) = &user.actor.unit
    {
        return Ok(Manages::Units(state.directory().subtree(unit)));
    }
    Err(forbidden("only an admin or a unit admin may manage accounts"))
}

fn may_see(m: &Manages, u: &UserRecord) -> bool {
    match m {
        Manages::All => true,
        Manages::Units(units) => u.unit.as_ref().is_some_and(|c| units.contains(c)),
    }
}

/// The accounts `user` manages, by username.
pub async fn list_users(state: &AppState, user: &CurrentUser) -> Result<Vec<UserRecord>, ApiError> {
    let m = manages(state, user)?;
    Ok(state.store().users().await?.into_iter().filter(|u| may_see(&m, u)).collect())
}

/// One account `user` manages; 404 for one outside their units (never saying it exists).
pub async fn get_user(state: &AppState, user: &CurrentUser, username: &str) -> Result<UserRecord, ApiError> {
    let m = manages(state, user)?;
    state
        .store()
        .user(username)
        .await?
        .filter(|u| may_see(&m, u))
        .ok_or_else(|| ApiError::not_found(format!("no account `{username}`")))
}

/// What an admin form or API body says of an account.
#[derive(Debug, Clone)]
pub struct UserInput {
    pub display_name: Option<String>,
    pub roles: Vec<Role>,
    pub unit: Option<UnitCode>,
    pub active: bool,
    /// For a new account (optional: without one it cannot sign in until one is set).
    pub password: Option<String>,
}

/// Parses an account body: `display_name?`, `roles` (list or `a|b`), `unit?`, `active?`,
/// `password?`.
pub fn parse_user_input(obj: &Map<String, Value>) -> Result<UserInput, ApiError> {
    let mut errs = BTreeMap::new();
    for k in ["display_name", "unit", "password"] {
        if let Some(Err(m)) = obj.get(k).and_then(Value::as_str).map(lianxin_domain::text::check) {
            errs.insert(k.to_owned(), m);
        }
    }
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let roles = match obj.get("roles") {
        Some(Value::Array(a)) => {
            let parts: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
            match parts {
                Some(p) => setup::parse_roles(&p.join("|")),
                None => Err("must be a list of role names".into()),
            }
        }
        Some(Value::String(s)) => setup::parse_roles(s),
        None | Some(Value::Null) => Err("is required".into()),
        Some(_) => Err("must be a list of role names".into()),
    };
    let roles = roles.map_err(|m| errs.insert("roles".to_owned(), m)).unwrap_or_default();
    let unit = match text("unit") {
        Some(u) => UnitCode::parse(&u).map(Some).unwrap_or_else(|m| {
            errs.insert("unit".into(), m);
            None
        }),
        None => None,
    };
    let display_name = text("display_name");
    if !errs.contains_key("display_name") && display_name.as_ref().is_some_and(|d| d.chars().count() > 100) {
        errs.insert("display_name".into(), "must be at most 100 characters".into());
    }
    let active = match obj.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errs.insert("active".into(), "must be true or false".into());
            true
        }
    };
    let password = obj.get("password").and_then(Value::as_str).filter(|p| !p.is_empty()).map(str::to_owned);
    if password.as_ref().is_some_and(|p| p.chars().count() < 8) {
        errs.insert("password".into(), "must have at least 8 characters".into());
    }
    if errs.is_empty() {
        Ok(UserInput { display_name, roles, unit, active, password })
    } else {
        Err(ApiError::invalid(errs))
    }
}

/// Creates or updates an account. A unit admin may only manage accounts of its units and
/// give them handler or unit_admin roles; a disabled account's sessions and tokens end at
/// once. Returns the account and whether it was created.
pub async fn save_user(
    state: &AppState,
    user: &CurrentUser,
    username: &str,
    input: UserInput,
) -> Result<(UserRecord, bool), ApiError> {
    let m = manages(state, user)?;
    let username =
        setup::check_username(username).map_err(|msg| ApiError::invalid(BTreeMap::from([("username".into(), msg)])))?;
    let stored = state.store().user(&username).await?;
    if let Some(s) = &stored
        && !may_see(&m, s)
    {
        return Err(ApiError::not_found(format!("no account `{username}`")));
    }
    if let Manages::Units(units) = &m {
        if input.roles.iter().any(|r| !matches!(r, Role::Handler | Role::UnitAdmin)) {
            return Err(forbidden("a unit admin may give only the handler and unit_admin roles"));
        }
        if !input.unit.as_ref().is_some_and(|u| units.contains(u)) {
            return Err(forbidden("a unit admin may manage only accounts of its own unit and the units below it"));
        }
    }
    if stored.as_ref().is_some_and(|s| s.username == user.actor.username) && !input.active {
        return Err(ApiError::new(StatusCode::CONFLICT, "own_account", "you cannot disable your own account"));
    }
    let hash = match &input.password {
        Some(p) => Some(
            setup::new_password_hash(p.clone())
                .await
                .map_err(|msg| ApiError::invalid(BTreeMap::from([("password".into(), msg)])))?,
        ),
        None => None,
    };
    let next = UserRecord {
        display_name: input
            .display_name
            .clone()
            .or_else(|| stored.as_ref().map(|s| s.display_name.clone()))
            .unwrap_or_else(|| username.clone()),
        username: username.clone(),
        password_hash: hash.clone().or_else(|| stored.as_ref().map(|s| s.password_hash.clone())).unwrap_or_default(),
        roles: input.roles,
        unit: input.unit,
        active: input.active,
    };
    let errs: BTreeMap<String, String> =
        setup::check_user(&state.directory(), &next).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    if stored.as_ref() == Some(&next) {
        return Ok((next, false));
    }
    let action = match &stored {
        None => "create",
        Some(s) if s.active && !next.active => "disable",
        Some(s) if !s.active && next.active => "enable",
        Some(_) => "update",
    };
    let change = AdminChange {
        at: state.now(),
        actor: user.actor.username.clone(),
        kind: "user".into(),
        code: username.clone(),
        action: action.into(),
        before: stored.as_ref().map(|s| setup::user_json(s).to_string()),
        after: Some(setup::user_json(&next).to_string()),
    };
    state
        .store()
        .write_users(&[UserWrite { user: next.clone(), set_password: hash.is_some() }], &[change], state.now())
        .await?;
    state.forget_user(&username);
    Ok((next, stored.is_none()))
}

/// Sets an account's password; its sessions end.
pub async fn set_password(
    state: &AppState,
    user: &CurrentUser,
    username: &str,
    password: String,
) -> Result<(), ApiError> {
    let mut target = get_user(state, user, username).await?;
    target.password_hash = setup::new_password_hash(password)
        .await
        .map_err(|m| ApiError::invalid(BTreeMap::from([("password".into(), m)])))?;
    let change = AdminChange {
        at: state.now(),
        actor: user.actor.username.clone(),
        kind: "user".into(),
        code: target.username.clone(),
        action: "password".into(),
        before: None,
        after: None,
    };
    let name = target.username.clone();
    state.store().write_users(&[UserWrite { user: target, set_password: true }], &[change], state.now()).await?;
    state.forget_user(&name);
    Ok(())
}

/// Disables or enables an account.
pub async fn set_user_active(
    state: &AppState,
    user: &CurrentUser,
    username: &str,
    active: bool,
) -> Result<UserRecord, ApiError> {
    let target = get_user(state, user, username).await?;
    let input = UserInput {
        display_name: Some(target.display_name.clone()),
        roles: target.roles.clone(),
        unit: target.unit.clone(),
        active,
        password: None,
    };
    Ok(save_user(state, user, &target.username, input).await?.0)
}

/// The recorded changes of one item, or of a whole kind (admin; a unit admin sees those of
/// the accounts it manages).
pub async fn history(
    state: &AppState,
    user: &CurrentUser,
    kind: Option<&str>,
    code: Option<&str>,
    limit: i64,
) -> Result<Vec<AdminChange>, ApiError> {
    if !user.actor.has(Role::Admin) {
        match (kind, code) {
            (Some("user"), Some(name)) => {
                get_user(state, user, name).await?;
            }
            _ => return Err(forbidden("only an admin may read the whole admin history")),
        }
    }
    Ok(state.store().admin_changes(kind, code, limit.clamp(1, 500)).await?)
}

/// Only an admin reads the login log.
pub fn require_login_log(user: &CurrentUser) -> Result<(), ApiError> {
    user.require(&[Role::Admin], "only an admin may read the login log")
}

/// A page of the login log, newest first, and the cursor of the next (older) page.
pub async fn login_log(
    state: &AppState,
    user: &CurrentUser,
    filter: &lianxin_store::LoginFilter,
    limit: i64,
) -> Result<(Vec<lianxin_store::LoginRecord>, Option<i64>), ApiError> {
    require_login_log(user)?;
    let mut rows = state.store().login_attempts(filter, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next = if more { rows.last().map(|r| r.id) } else { None };
    Ok((rows, next))
}
