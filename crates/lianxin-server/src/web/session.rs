//! Console sessions: the `lx_session` cookie over the sessions table, the per-session CSRF
//! token, the language cookie, and the sign-in and sign-out pages.

use super::i18n::{Lang, Tr};
use super::page::{Page, html, page_error};
use crate::auth::{CurrentUser, SESSION_MS, new_token, token_hash};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, middleware::Next};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "lx_session";
pub const LANG_COOKIE: &str = "lx_lang";
pub const LOGIN_CSRF_COOKIE: &str = "lx_login_csrf";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, `Secure` behind an HTTPS proxy.
fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("lx_invalid=1"))
}

fn behind_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The CSRF token of a session: derived from the session token, so it needs no storage
/// and dies with the session.
pub fn csrf_token(session_token: &str) -> String {
    hex::encode(Sha256::digest(format!("csrf:{session_token}").as_bytes()))
}

/// Compares two tokens in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The language of a request: `?lang=` first, then the `lx_lang` cookie, else Chinese.
pub fn lang_of(parts: &Parts) -> Lang {
    query_lang(parts.uri.query())
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)))
        .unwrap_or_default()
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::parse(v))
}

/// Remembers `?lang=` in a cookie for the pages that follow.
pub async fn remember_lang(req: Request, next: Next) -> Response {
    let lang = query_lang(req.uri().query());
    let secure = behind_https(req.headers());
    let mut resp = next.run(req).await;
    if let Some(l) = lang {
        resp.headers_mut().append(header::SET_COOKIE, set_cookie(LANG_COOKIE, l.code(), "/", 365 * 86_400, secure));
    }
    resp
}

/// A signed-in console user. Without a live session, pages redirect to `/login`.
#[derive(Debug, Clone)]
pub struct Console {
    pub user: CurrentUser,
    pub token: String,
    pub lang: Lang,
    /// Path and query of the request (for the language switch and `next`).
    pub path: String,
}

impl Console {
    pub fn t(&self) -> Tr {
        Tr::new(self.lang)
    }

    pub fn csrf(&self) -> String {
        csrf_token(&self.token)
    }
}

/// Percent-encodes a query value.
pub fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.,".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn login_redirect(path: &str) -> Response {
    Redirect::to(&format!("/login?next={}", enc(path))).into_response()
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        let path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/console".into());
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(login_redirect(&path));
        };
        match state.session_user(&token_hash(&token)).await {
            Ok(Some(u)) => Ok(Console { user: u.into(), token, lang, path }),
            Ok(None) => Err(login_redirect(&path)),
            Err(e) => Err(page_error(&Page::anonymous(Tr::new(lang)), &ApiError::from(e))),
        }
    }
}

/// A console form post: the signed-in user and the form's fields, its CSRF token checked.
pub struct Posted {
    pub console: Console,
    pub fields: Vec<(String, String)>,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, state).await.map_err(|r| {
            // A post without a session is not followed back after sign-in.
            if r.status().is_redirection() { Redirect::to("/login").into_response() } else { r }
        })?;
        let req = Request::from_parts(parts, body);
        let fields = match Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(Form(f)) => f,
            Err(_) => Vec::new(),
        };
        let given = fields.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        if !same(given, &console.csrf()) {
            tracing::warn!(user = %console.user.actor.username, "console form post refused: bad CSRF token");
            let page = super::page_for(state, &console, console.t().s("err.title"));
            return Err(csrf_refused(&page));
        }
        Ok(Posted { console, fields })
    }
}

/// The 403 page of a form whose CSRF token is missing or wrong.
pub fn csrf_refused(page: &Page) -> Response {
    let err = ApiError::new(StatusCode::FORBIDDEN, "csrf", "the form's CSRF token is missing or wrong");
    page_error(page, &err)
}

impl Posted {
    /// The first value of a field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    lang_href: String,
    csrf: String,
    next: String,
    username: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    /// Seconds to wait after too many failed sign-ins.
    retry_after: Option<u64>,
    demo: Vec<(String, String)>,
}

#[derive(serde::Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    bye: Option<String>,
}

/// Only paths inside the console are followed after sign-in.
fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    (n.starts_with("/console") && !n.contains("//") && !n.contains('\\')).then(|| n.to_owned())
}

async fn demo_accounts(state: &AppState, t: Tr) -> Vec<(String, String)> {
    if !matches!(state.store().meta("demo_loaded_at").await, Ok(Some(_))) {
        return Vec::new();
    }
    let mut out: Vec<(String, String)> =
        crate::demo::STAFF.iter().map(|(u, _, r)| ((*u).to_owned(), t.role(r.as_str()))).collect();
    for (u, what) in [
        ("handler.d440106", "天河区人民政府"),
        ("handler.s440106001", "五山街道办事处"),
        ("handler.city-urban", "市城市管理和综合执法局"),
    ] {
        out.push((u.to_owned(), format!("{} · {what}", t.role("handler"))));
    }
    out
}

/// What a sign-in page answers: in which language, where to go next.
struct LoginCtx {
    lang: Lang,
    next: String,
    secure: bool,
}

/// A line on the sign-in page.
enum Say {
    Nothing,
    Notice(&'static str),
    Error(&'static str),
    /// Too many failed sign-ins: wait this many seconds.
    Throttled(u64),
}

async fn login_page(state: &AppState, cx: LoginCtx, username: String, say: Say, status: StatusCode) -> Response {
    let t = Tr::new(cx.lang);
    let csrf = new_token();
    let other = if cx.lang == Lang::En { "zh" } else { "en" };
    let lang_href = if cx.next.is_empty() {
        format!("/login?lang={other}")
    } else {
        format!("/login?lang={other}&next={}", enc(&cx.next))
    };
    let (error, notice, retry_after) = match say {
        Say::Nothing => (None, None, None),
        Say::Notice(k) => (None, Some(k), None),
        Say::Error(k) => (Some(k), None, None),
        Say::Throttled(secs) => (Some("login.throttled"), None, Some(secs)),
    };
    let page = LoginPage {
        t,
        lang_href,
        csrf: csrf.clone(),
        next: cx.next,
        username,
        error,
        notice,
        retry_after,
        demo: demo_accounts(state, t).await,
    };
    let mut resp = html(status, &page);
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, &csrf, "/login", 3600, cx.secure));
    resp
}

/// `GET /login`.
pub async fn login_form(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    let q: LoginQuery = Query::try_from_uri(&parts.uri).map(|Query(q)| q).unwrap_or_default();
    if let Ok(c) = Console::from_request_parts(&mut parts, &state).await {
        return Redirect::to(&super::home(&c.user)).into_response();
    }
    let say = if q.bye.is_some() { Say::Notice("login.signed_out") } else { Say::Nothing };
    let next = safe_next(q.next.as_deref()).unwrap_or_default();
    let cx = LoginCtx { lang: lang_of(&parts), next, secure: behind_https(&parts.headers) };
    login_page(&state, cx, String::new(), say, StatusCode::OK).await
}

/// `POST /login`: double-submit CSRF (cookie = field), then the password.
pub async fn login_submit(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let lang = lang_of(&parts);
    let secure = behind_https(&parts.headers);
    let fields =
        match Form::<Vec<(String, String)>>::from_request(Request::from_parts(parts.clone(), body), &state).await {
            Ok(Form(f)) => f,
            Err(_) => Vec::new(),
        };
    let get = |k: &str| fields.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let next = safe_next(Some(&get("next"))).unwrap_or_default();
    let cookie_token = cookie(&parts.headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let given = get("_csrf");
    if cookie_token.is_empty() || !same(&cookie_token, &given) {
        let cx = LoginCtx { lang, next, secure };
        return login_page(&state, cx, get("username"), Say::Error("err.csrf"), StatusCode::FORBIDDEN).await;
    }
    let username = get("username").trim().to_owned();
    let password = get("password");
    let mut parts = parts;
    let Ok(from) = crate::net::ClientAddr::from_request_parts(&mut parts, &state).await;
    let (token, user) = match crate::auth::sign_in(&state, &username, password, &from.0, "console").await {
        Ok(crate::auth::SignIn::Done(token, user)) => (token, user),
        Ok(crate::auth::SignIn::Refused) => {
            let cx = LoginCtx { lang, next, secure };
            return login_page(&state, cx, username, Say::Error("login.failed"), StatusCode::UNAUTHORIZED).await;
        }
        Ok(crate::auth::SignIn::Throttled(secs)) => {
            let cx = LoginCtx { lang, next, secure };
            let mut resp = login_page(&state, cx, username, Say::Throttled(secs), StatusCode::TOO_MANY_REQUESTS).await;
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return resp;
        }
        Err(e) => return page_error(&Page::anonymous(Tr::new(lang)), &ApiError::from(e)),
    };
    let current = CurrentUser::from(user);
    let to = if next.is_empty() { super::home(&current) } else { next };
    let mut resp = Redirect::to(&to).into_response();
    let h = resp.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, "/", SESSION_MS / 1000, secure));
    h.append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, "", "/login", 0, secure));
    resp
}

/// `POST /logout`.
pub async fn logout(State(state): State<AppState>, posted: Posted) -> Response {
    let c = &posted.console;
    state.forget_session(&token_hash(&c.token));
    if let Err(e) = state.store().delete_session(&token_hash(&c.token)).await {
        return page_error(&Page::new(c, c.t().s("err.title")), &ApiError::from(e));
    }
    let mut resp = Redirect::to("/login?bye=1").into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", "/", 0, false));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_many() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; lx_session=abc ; lx_lang=en"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, LANG_COOKIE).as_deref(), Some("en"));
        assert_eq!(cookie(&h, "nope"), None);
    }

    #[test]
    fn csrf_tokens_are_per_session_and_compared_whole() {
        let a = csrf_token("one");
        assert_eq!(a, csrf_token("one"));
        assert_ne!(a, csrf_token("two"));
        assert!(same(&a, &csrf_token("one")));
        assert!(!same(&a, ""));
        assert!(!same(&a, &a[..10]));
    }

    #[test]
    fn only_console_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/console/orders/1")).as_deref(), Some("/console/orders/1"));
        assert_eq!(safe_next(Some("//evil.example")), None);
        assert_eq!(safe_next(Some("https://evil.example/console")), None);
        assert_eq!(safe_next(Some("/console//evil")), None);
    }
}
