//! What every console page shares: the header (user, role-aware navigation, language
//! switch, sign-out), flash and error boxes, and turning a template into a response with
//! the console's security headers.

use super::i18n::{Lang, Tr};
use super::session::Console;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianxin_domain::Role;

/// One entry of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub key: usize,
    pub active: bool,
}

/// A refused action, ready to show.
#[derive(Debug, Clone, Default)]
pub struct ErrorBox {
    pub title: String,
    pub message: String,
    /// The API's own message, for the curious and for support.
    pub detail: String,
    pub fields: Vec<(String, String)>,
    /// The API names of the fields, for the page to focus the first.
    pub keys: String,
    /// Each field's API name and message, which the page shows next to the field itself.
    pub inline: Vec<(String, String)>,
    /// The id of the form the error is about, if any.
    pub form: String,
    pub code: String,
}

/// The header and boxes of a page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub t: Tr,
    pub title: String,
    pub signed_in: bool,
    pub user_name: String,
    pub roles: String,
    pub unit_name: String,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub lang_href: String,
    pub flash: Option<String>,
    pub error: Option<ErrorBox>,
}

/// The console's pages, in navigation order, with the roles that see each.
const PAGES: &[(&str, &str, &[Role])] = &[
    ("/console/intake", "nav.intake", &[Role::Operator]),
    ("/console/registered", "nav.registered", &[Role::Operator]),
    ("/console/review", "nav.review", &[Role::Reviewer]),
    ("/console/dispatch", "nav.dispatch", &[Role::Dispatcher]),
    ("/console/inbox", "nav.inbox", &[Role::Handler, Role::UnitAdmin]),
    ("/console/callback", "nav.callback", &[Role::Callback]),
    ("/console/supervise", "nav.supervise", &[Role::Supervisor, Role::Dispatcher, Role::Leader]),
    ("/console/incidents", "nav.incidents", &[Role::Dispatcher, Role::Supervisor, Role::Admin]),
    ("/console/hotspots", "nav.hotspots", &[Role::Leader, Role::Supervisor, Role::Admin, Role::UnitAdmin]),
    ("/console/stats", "nav.stats", &[Role::Leader, Role::Supervisor, Role::Admin, Role::UnitAdmin]),
    ("/console/problems", "nav.problems", &[Role::Leader, Role::Supervisor, Role::Handler, Role::UnitAdmin]),
    ("/console/reports", "nav.reports", &[Role::Leader, Role::Supervisor, Role::Admin, Role::UnitAdmin]),
    ("/wall", "nav.wall", &[Role::Leader, Role::Supervisor, Role::Admin, Role::UnitAdmin]),
    ("/console/search", "nav.search", &[]),
    ("/console/kb", "nav.kb", &[]),
    ("/console/announcements", "nav.announcements", &[]),
    ("/console/orders", "nav.orders", &[]),
    ("/console/admin", "nav.admin", &[Role::Admin]),
    ("/console/admin/users", "nav.admin_users", &[Role::UnitAdmin]),
];

/// Refuses a console page whose roles `user` has none of, as the API refuses an action
/// (403 `forbidden_role`): a street handler opening the supervisor board gets the
/// not-allowed page, not an empty board. `None` when the page may be opened.
pub fn refuse_page(user: &CurrentUser, href: &str) -> Option<ApiError> {
    let (_, label, roles) = PAGES.iter().find(|(h, _, _)| *h == href)?;
    if roles.is_empty() || user.actor.has_any(roles) {
        return None;
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Some(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_role",
        format!("`{}` ({label}) is for the roles {}", href, names.join(", ")),
    ))
}

/// The pages a user sees in the navigation bar (an empty role list means everyone).
pub fn nav_for(user: &CurrentUser, t: Tr, path: &str) -> Vec<NavItem> {
    PAGES
        .iter()
        .filter(|(_, _, roles)| roles.is_empty() || user.actor.has_any(roles))
        // An admin reaches the accounts through the admin pages.
        .filter(|(href, _, _)| *href != "/console/admin/users" || !user.actor.has(Role::Admin))
        .enumerate()
        .map(|(i, (href, key, _))| NavItem {
            href,
            label: t.s(key),
            key: i + 1,
            active: path == *href || path.starts_with(&format!("{href}?")) || path.starts_with(&format!("{href}/")),
        })
        .collect()
}

/// `path` with `lang=` set to the other language.
fn switch_href(path: &str, lang: Lang) -> String {
    let other = if lang == Lang::En { "zh" } else { "en" };
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut params: Vec<&str> = query.split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("lang=")).collect();
    let lang_kv = format!("lang={other}");
    params.push(&lang_kv);
    format!("{base}?{}", params.join("&"))
}

impl Page {
    /// A page for a signed-in user.
    pub fn new(c: &Console, title: &str) -> Page {
        let t = c.t();
        let unit_name = c.user.actor.unit.as_ref().map(|u| u.to_string()).unwrap_or_default();
        Page {
            t,
            title: title.to_owned(),
            signed_in: true,
            user_name: c.user.display_name.clone(),
            roles: c.user.actor.roles.iter().map(|r| t.role(r.as_str())).collect::<Vec<_>>().join(" · "),
            unit_name,
            nav: nav_for(&c.user, t, c.path.split('?').next().unwrap_or("")),
            csrf: c.csrf(),
            lang_href: switch_href(&c.path, c.lang),
            flash: None,
            error: None,
        }
    }

    /// A page for nobody in particular (errors before sign-in).
    pub fn anonymous(t: Tr) -> Page {
        Page { t, title: t.s("err.title").to_owned(), lang_href: switch_href("/login", t.lang), ..Page::default() }
    }

    /// Names the unit by its name rather than its code.
    pub fn with_unit_name(mut self, name: Option<String>) -> Page {
        if let Some(n) = name {
            self.unit_name = n;
        }
        self
    }
}

/// The fields a refusal names, each labelled by `label` and its message in the page's
/// language.
pub fn field_errors(t: Tr, e: &ApiError, label: impl Fn(&str) -> String) -> Vec<(String, String)> {
    e.fields.as_ref().map(|f| f.iter().map(|(k, v)| (label(k), t.field_message(v))).collect()).unwrap_or_default()
}

/// The error box of a refused action.
pub fn error_box(t: Tr, e: &ApiError, context: Option<(&str, &str)>) -> ErrorBox {
    let key = format!("err.{}", e.code);
    let mut message = if super::i18n::has(&key) { t.s(&key).to_owned() } else { t.s("err.other").to_owned() };
    if let (Some((action, status)), "illegal_transition" | "forbidden_role") = (context, e.code) {
        message = if t.is_en() {
            format!("{message} ({}: {}; action: {})", t.s("err.state_rule"), t.status(status), t.action(action))
        } else {
            format!("{message}（{}：{}；操作：{}）", t.s("err.state_rule"), t.status(status), t.action(action))
        };
    }
    let fields = field_errors(t, e, |k| t.field(k));
    let keys = e.fields.as_ref().map(|f| f.keys().cloned().collect::<Vec<_>>().join(",")).unwrap_or_default();
    let inline =
        e.fields.as_ref().map(|f| f.iter().map(|(k, v)| (k.clone(), t.field_message(v))).collect()).unwrap_or_default();
    // A missing order is said in the page's language; the API's English adds nothing.
    let detail = if e.code == "not_found" { String::new() } else { e.message.clone() };
    ErrorBox {
        title: t.s("err.title").to_owned(),
        message,
        detail,
        fields,
        keys,
        inline,
        form: String::new(),
        code: e.code.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    p: &'a Page,
}

/// A whole page that only says what went wrong, with the error's status.
pub fn page_error(page: &Page, e: &ApiError) -> Response {
    let mut p = page.clone();
    let code = if e.code == "not_found" && e.message == "page" { "page_not_found" } else { e.code };
    let mut eb = error_box(p.t, e, None);
    if code == "page_not_found" {
        eb.message = p.t.s("err.page_not_found").to_owned();
        eb.detail.clear();
    }
    match e.code {
        "not_found" => eb.title = p.t.s("err.title_not_found").to_owned(),
        "database_unavailable" | "internal_error" => eb.title = p.t.s("err.title_unavailable").to_owned(),
        "forbidden_role" => eb.title = p.t.s("err.title_forbidden").to_owned(),
        _ => {}
    }
    p.title = eb.title.clone();
    p.error = Some(eb);
    html(e.status, &ErrorPage { p: &p })
}

/// Renders a template with the console's headers; a template failure is a plain 500.
pub fn html<T: Template>(status: StatusCode, tpl: &T) -> Response {
    match tpl.render() {
        Ok(body) => {
            let mut resp = (status, body).into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            secure_headers(h);
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            let mut resp = (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>500</title><p>internal error / 系统内部错误</p>",
            )
                .into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            resp
        }
    }
}

/// Headers of every console page: no caching of personal data, no framing, our own
/// scripts and styles only.
pub fn secure_headers(h: &mut axum::http::HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_switch_keeps_other_parameters() {
        assert_eq!(
            switch_href("/console/orders?status=closed&lang=zh", Lang::Zh),
            "/console/orders?status=closed&lang=en"
        );
        assert_eq!(switch_href("/console/intake", Lang::En), "/console/intake?lang=zh");
    }
}
