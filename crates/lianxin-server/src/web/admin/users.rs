//! Accounts: the list with search and a create form, and one page per account (roles,
//! unit, disable / enable, reset password, history). A unit admin sees and manages only the
//! accounts of its own unit and the units below it, with the unit roles; the service
//! enforces it, the page only offers no more than that.

use super::tree::{nodes, tree_options};
use super::{Errs, Field, HistoryRow, Opt, Posted, Tab, boxed, fail, field_label, flash, item_history, matches, tabs};
use crate::admin;
use crate::error::ApiError;
use crate::setup::Kind;
use crate::state::AppState;
use crate::web::i18n::Tr;
use crate::web::page::{Page, html};
use crate::web::page_for;
use crate::web::session::{self, Console, enc};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::*;
use lianxin_store::UserRecord;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One account of the list.
pub struct UserRow {
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub unit: String,
    pub unit_name: String,
    pub active: bool,
    pub has_password: bool,
    pub href: String,
}

fn user_href(username: &str) -> String {
    format!("/console/admin/users/{}", enc(username))
}

/// The roles `c` may give.
fn grantable(c: &Console) -> Vec<Role> {
    if c.user.actor.has(Role::Admin) {
        Role::ALL.iter().copied().filter(|r| *r != Role::System).collect()
    } else {
        vec![Role::Handler, Role::UnitAdmin]
    }
}

/// The units `c` may put accounts in.
fn unit_scope(state: &AppState, c: &Console) -> Option<BTreeSet<String>> {
    if c.user.actor.has(Role::Admin) {
        return None;
    }
    let dir = state.directory();
    Some(
        c.user
            .actor
            .unit
            .as_ref()
            .map(|u| dir.subtree(u).into_iter().map(|x| x.to_string()).collect())
            .unwrap_or_default(),
    )
}

fn role_options(t: Tr, c: &Console, held: &[&str]) -> Vec<Opt> {
    let can = grantable(c);
    let mut out: Vec<Opt> = can.iter().map(|r| Opt::new(r.as_str(), t.role(r.as_str()))).collect();
    // Roles the account holds that this admin cannot give stay as they are (shown, fixed).
    for h in held {
        if !out.iter().any(|o| o.value == *h) && Role::parse(h).is_some() {
            let mut o = Opt::new(*h, t.role(h));
            o.muted = true;
            out.push(o);
        }
    }
    out
}

fn unit_options(state: &AppState, c: &Console, t: Tr) -> Vec<Opt> {
    let dir = state.directory();
    let units = nodes(&dir, Kind::Units, t);
    let scope = unit_scope(state, c);
    let mut opts = tree_options(t, &units, None, |n| scope.as_ref().is_none_or(|s| s.contains(&n.code)));
    if scope.is_some() {
        opts[0] = Opt::new("", t.s("adm.choose_option"));
    }
    opts
}

/// The account form's fields; `editing` leaves the username fixed and has no password.
fn fields(
    state: &AppState,
    c: &Console,
    form: &str,
    editing: Option<&str>,
    v: &dyn Fn(&str) -> String,
    errs: &Errs,
) -> Vec<Field> {
    let t = c.t();
    let f = |name: &'static str, input: &'static str| {
        Field::new(form, name, field_label(t, name), input).value(v(name)).errs(errs)
    };
    let roles = v("roles");
    let held: Vec<&str> = roles.split('|').filter(|r| !r.is_empty()).collect();
    let mut out = vec![
        match editing {
            Some(u) => f("username", "fixed").value(u),
            None => f("username", "text").required().placeholder("zhang.san").hint(t.s("adm.hint.username")),
        },
        f("display_name", "text"),
        f("roles", "checks").required().options(role_options(t, c, &held)),
        f("unit", "select").options(unit_options(state, c, t)).hint(t.s("adm.hint.unit")),
    ];
    if editing.is_none() {
        out.push(f("password", "password").value("").hint(t.s("adm.hint.password")));
    }
    out
}

/// The account object `admin::parse_user_input` reads, from a form.
fn input_object(posted: &Posted, active: bool, with_password: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("display_name".into(), Value::String(posted.get("display_name").unwrap_or("").to_owned()));
    let roles: Vec<Value> =
        posted.0.iter().filter(|(k, _)| k == "roles").map(|(_, v)| Value::String(v.clone())).collect();
    m.insert("roles".into(), Value::Array(roles));
    m.insert("unit".into(), Value::String(posted.get("unit").unwrap_or("").to_owned()));
    m.insert("active".into(), Value::Bool(active));
    if with_password {
        m.insert("password".into(), Value::String(posted.get("password").unwrap_or("").to_owned()));
    }
    m
}

fn roles_text(t: Tr, u: &UserRecord) -> String {
    u.roles.iter().map(|r| t.role(r.as_str())).collect::<Vec<_>>().join(if t.is_en() { ", " } else { "、" })
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    p: Page,
    t: Tr,
    tabs: Vec<Tab>,
    q: String,
    rows: Vec<UserRow>,
    total: usize,
    disabled: usize,
    fields: Vec<Field>,
    unit_admin: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
}

async fn list_page(state: &AppState, c: &Console, q: &str, refused: Option<(&ApiError, &Posted)>) -> Response {
    let t = c.t();
    let users = match admin::list_users(state, &c.user).await {
        Ok(u) => u,
        Err(e) => return fail(state, c, &e),
    };
    let dir = state.directory();
    let names = crate::web::view::Names(&dir);
    let query = q.trim().to_lowercase();
    let total = users.len();
    let disabled = users.iter().filter(|u| !u.active).count();
    let rows = users
        .iter()
        .map(|u| UserRow {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: roles_text(t, u),
            unit: u.unit.as_ref().map(|x| x.to_string()).unwrap_or_default(),
            unit_name: u.unit.as_ref().map(|x| names.unit(x)).unwrap_or_default(),
            active: u.active,
            has_password: !u.password_hash.is_empty(),
            href: user_href(&u.username),
        })
        .filter(|r| {
            query.is_empty()
                || matches(&query, &r.display_name, &r.username)
                || matches(&query, &r.unit_name, &r.unit)
                || r.roles.to_lowercase().contains(&query)
        })
        .collect();
    let mut p = page_for(state, c, t.s("adm.tab.users"));
    let (errs, posted, status) = match refused {
        Some((e, posted)) => {
            p.error = Some(boxed(t, e, "create"));
            (Errs::of(t, e), posted.clone(), e.status)
        }
        None => (Errs::default(), Posted::default(), StatusCode::OK),
    };
    let v = |k: &str| if k == "roles" { posted.all(k) } else { posted.get(k).unwrap_or("").to_owned() };
    let fields = fields(state, c, "new", None, &v, &errs);
    let page = UsersPage {
        p,
        t,
        tabs: tabs(c, "/console/admin/users"),
        q: q.trim().to_owned(),
        rows,
        total,
        disabled,
        fields,
        unit_admin: !c.user.actor.has(Role::Admin),
    };
    html(status, &page)
}

/// `GET /console/admin/users`.
pub async fn list(State(state): State<AppState>, c: Console, Query(q): Query<ListQuery>) -> Response {
    list_page(&state, &c, q.q.as_deref().unwrap_or(""), None).await
}

fn refusable(e: &ApiError) -> bool {
    matches!(e.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::FORBIDDEN | StatusCode::CONFLICT)
        && e.code != "csrf"
}

/// `POST /console/admin/users`: creates an account.
pub async fn create(State(state): State<AppState>, form: session::Posted) -> Response {
    let c = &form.console;
    let posted = Posted(form.fields.clone());
    let username = posted.get("username").unwrap_or("").trim().to_owned();
    let taken = || ApiError::invalid(BTreeMap::from([("username".to_owned(), "already exists".to_owned())]));
    if let Err(e) = admin::list_users(&state, &c.user).await {
        return fail(&state, c, &e);
    }
    if !username.is_empty() && admin::get_user(&state, &c.user, &username).await.is_ok() {
        return list_page(&state, c, "", Some((&taken(), &posted))).await;
    }
    let input = match admin::parse_user_input(&input_object(&posted, true, true)) {
        Ok(i) => i,
        Err(e) => return list_page(&state, c, "", Some((&e, &posted))).await,
    };
    match admin::save_user(&state, &c.user, &username, input).await {
        Ok((u, _)) => Redirect::to(&format!("{}?done=create", user_href(&u.username))).into_response(),
        // An account of another unit: the name is taken, whoever has it.
        Err(e) if e.code == "not_found" => list_page(&state, c, "", Some((&taken(), &posted))).await,
        Err(e) if refusable(&e) => list_page(&state, c, "", Some((&e, &posted))).await,
        Err(e) => fail(&state, c, &e),
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    p: Page,
    t: Tr,
    tabs: Vec<Tab>,
    href: String,
    username: String,
    display_name: String,
    roles: String,
    unit_name: String,
    active: bool,
    has_password: bool,
    own: bool,
    fields: Vec<Field>,
    password: Field,
    history: Vec<HistoryRow>,
    history_error: String,
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn user_page(
    state: &AppState,
    c: &Console,
    username: &str,
    done: Option<&str>,
    refused: Option<(&ApiError, &Posted, &'static str)>,
) -> Response {
    let t = c.t();
    let u = match admin::get_user(state, &c.user, username).await {
        Ok(u) => u,
        Err(e) => return fail(state, c, &e),
    };
    let dir = state.directory();
    let names = crate::web::view::Names(&dir);
    let mut p = page_for(state, c, &u.display_name);
    p.flash = flash(t, done, "");
    let (errs, posted, status) = match refused {
        Some((e, posted, form)) => {
            p.error = Some(boxed(t, e, form));
            (Errs::of(t, e), (form == "edit").then(|| posted.clone()), e.status)
        }
        None => (Errs::default(), None, StatusCode::OK),
    };
    let stored = |k: &str| match k {
        "display_name" => u.display_name.clone(),
        "roles" => u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("|"),
        "unit" => u.unit.as_ref().map(|x| x.to_string()).unwrap_or_default(),
        _ => String::new(),
    };
    let v = |k: &str| match &posted {
        Some(ps) if k == "roles" => ps.all(k),
        Some(ps) => ps.get(k).unwrap_or("").to_owned(),
        None => stored(k),
    };
    let fields = fields(state, c, "edit", Some(&u.username), &v, &errs);
    let password = Field::new("pw", "password", t.s("adm.f.new_password").to_owned(), "password")
        .errs(&errs)
        .hint(t.s("adm.hint.new_password"));
    let (history, history_error) = match item_history(state, c, "user", &u.username).await {
        Ok(h) => (h, String::new()),
        Err(e) => (Vec::new(), e.message),
    };
    let page = UserPage {
        tabs: tabs(c, "/console/admin/users"),
        p,
        t,
        href: user_href(&u.username),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles: roles_text(t, &u),
        unit_name: u.unit.as_ref().map(|x| names.unit(x)).unwrap_or_default(),
        active: u.active,
        has_password: !u.password_hash.is_empty(),
        own: u.username == c.user.actor.username,
        fields,
        password,
        history,
        history_error,
    };
    html(status, &page)
}

/// `GET /console/admin/users/{username}`.
pub async fn show(
    State(state): State<AppState>,
    c: Console,
    Path(username): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    user_page(&state, &c, &username, q.done.as_deref(), None).await
}

/// `POST /console/admin/users/{username}`: saves display name, roles and unit.
pub async fn save(State(state): State<AppState>, Path(username): Path<String>, form: session::Posted) -> Response {
    let c = &form.console;
    let stored = match admin::get_user(&state, &c.user, &username).await {
        Ok(u) => u,
        Err(e) => return fail(&state, c, &e),
    };
    let posted = Posted(form.fields.clone());
    let input = match admin::parse_user_input(&input_object(&posted, stored.active, false)) {
        Ok(i) => i,
        Err(e) => return user_page(&state, c, &username, None, Some((&e, &posted, "edit"))).await,
    };
    match admin::save_user(&state, &c.user, &stored.username, input).await {
        Ok((u, _)) => {
            let same = u == stored;
            Redirect::to(&format!("{}?done={}", user_href(&u.username), if same { "unchanged" } else { "update" }))
                .into_response()
        }
        Err(e) if refusable(&e) => user_page(&state, c, &username, None, Some((&e, &posted, "edit"))).await,
        Err(e) => fail(&state, c, &e),
    }
}

/// `POST /console/admin/users/{username}/active`: disables (`active=false`) or enables an
/// account; a disabled account's sessions end at once.
pub async fn active(State(state): State<AppState>, Path(username): Path<String>, form: session::Posted) -> Response {
    let c = &form.console;
    let on = form.get("active") == Some("true");
    match admin::set_user_active(&state, &c.user, &username, on).await {
        Ok(u) => Redirect::to(&format!("{}?done={}", user_href(&u.username), if on { "enable" } else { "disable" }))
            .into_response(),
        Err(e) if refusable(&e) => {
            user_page(&state, c, &username, None, Some((&e, &Posted::default(), "active"))).await
        }
        Err(e) => fail(&state, c, &e),
    }
}

/// `POST /console/admin/users/{username}/password`: sets a new password; the account's
/// sessions end.
pub async fn password(State(state): State<AppState>, Path(username): Path<String>, form: session::Posted) -> Response {
    let c = &form.console;
    let pw = form.get("password").unwrap_or("").to_owned();
    match admin::set_password(&state, &c.user, &username, pw).await {
        Ok(()) => Redirect::to(&format!("{}?done=password", user_href(&username))).into_response(),
        Err(e) if refusable(&e) => {
            user_page(&state, c, &username, None, Some((&e, &Posted::default(), "password"))).await
        }
        Err(e) => fail(&state, c, &e),
    }
}
