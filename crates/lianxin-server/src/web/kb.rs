//! The knowledge base in the console (知识库): a reader for everyone, with search, each
//! article's versions, and editing for admins and unit admins.

use super::i18n::Tr;
use super::page::{Page, html, page_error};
use super::page_for;
use super::session::{Console, Posted, enc};
use crate::knowledge::{self, may_edit};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::knowledge::Article;
use lianxin_domain::{CategoryCode, Role, UnitCode};

#[derive(Debug, Default, serde::Deserialize)]
pub struct KbQuery {
    q: Option<String>,
}

struct Listed {
    id: String,
    title: String,
    unit: String,
    snippet_html: String,
    valid: bool,
    version: i64,
}

#[derive(Template)]
#[template(path = "kb_list.html")]
struct KbList {
    p: Page,
    t: Tr,
    q: String,
    items: Vec<Listed>,
    total: usize,
    can_edit: bool,
}

fn unit_name(state: &AppState, u: &Option<UnitCode>) -> String {
    u.as_ref().and_then(|u| state.directory().unit(u).map(|x| x.name.clone())).unwrap_or_default()
}

pub async fn list(State(state): State<AppState>, c: Console, Query(q): Query<KbQuery>) -> Response {
    let t = c.t();
    let q = q.q.unwrap_or_default().trim().chars().take(200).collect::<String>();
    let today = knowledge::today(&state);
    let items: Vec<Listed> = if q.is_empty() {
        match state.store().articles().await {
            Ok(mut all) => {
                all.retain(|a| a.active);
                all.sort_by(|a, b| a.article.title.cmp(&b.article.title));
                all.into_iter()
                    .map(|a| Listed {
                        valid: a.article.valid_on(&today),
                        unit: unit_name(&state, &a.article.unit),
                        snippet_html: String::new(),
                        title: a.article.title,
                        id: a.id,
                        version: a.version,
                    })
                    .collect()
            }
            Err(e) => return page_error(&page_for(&state, &c, ""), &e.into()),
        }
    } else {
        match knowledge::search_articles(&state, &q, true, None, 50).await {
            Ok(found) => found
                .into_iter()
                .map(|f| Listed {
                    valid: f.valid,
                    unit: unit_name(&state, &f.stored.article.unit),
                    snippet_html: f.snippet.to_html(),
                    title: f.stored.article.title,
                    id: f.stored.id,
                    version: f.stored.version,
                })
                .collect(),
            Err(e) => return page_error(&page_for(&state, &c, ""), &e),
        }
    };
    let can_edit = c.user.actor.has_any(&[Role::Admin, Role::UnitAdmin]);
    let total = items.len();
    html(StatusCode::OK, &KbList { p: page_for(&state, &c, t.s("nav.kb")), t, q, items, total, can_edit })
}

/// The Markdown of an article as HTML: paragraphs, `- ` and `1. ` lists, `**bold**`;
/// everything else escaped.
pub fn markdown(text: &str) -> String {
    fn inline(s: &str) -> String {
        let esc = s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let mut out = String::new();
        for (i, part) in esc.split("**").enumerate() {
            if i % 2 == 1 {
                out.push_str("<strong>");
                out.push_str(part);
                out.push_str("</strong>");
            } else {
                out.push_str(part);
            }
        }
        if esc.matches("**").count() % 2 == 1 { esc } else { out }
    }
    let mut out = String::new();
    let mut list: Option<&str> = None;
    let close = |out: &mut String, list: &mut Option<&str>| {
        if let Some(tag) = list.take() {
            out.push_str(&format!("</{tag}>"));
        }
    };
    for line in text.lines() {
        let l = line.trim();
        let numbered = l.split_once(". ").filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if let Some(item) = l.strip_prefix("- ") {
            if list != Some("ul") {
                close(&mut out, &mut list);
                out.push_str("<ul>");
                list = Some("ul");
            }
            out.push_str(&format!("<li>{}</li>", inline(item)));
        } else if let Some((_, item)) = numbered {
            if list != Some("ol") {
                close(&mut out, &mut list);
                out.push_str("<ol>");
                list = Some("ol");
            }
            out.push_str(&format!("<li>{}</li>", inline(item)));
        } else if l.is_empty() {
            close(&mut out, &mut list);
        } else {
            close(&mut out, &mut list);
            out.push_str(&format!("<p>{}</p>", inline(l)));
        }
    }
    close(&mut out, &mut list);
    out
}

struct VersionRow {
    version: i64,
    when: String,
    by: String,
    title: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "kb_article.html")]
struct KbArticle {
    p: Page,
    t: Tr,
    id: String,
    title: String,
    body_html: String,
    unit: String,
    categories: Vec<String>,
    tags: Vec<String>,
    validity: String,
    valid: bool,
    active: bool,
    version: i64,
    versions: Vec<VersionRow>,
    shown_version: i64,
    can_edit: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct VersionQuery {
    version: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(v): Query<VersionQuery>,
) -> Response {
    let t = c.t();
    let p = page_for(&state, &c, t.s("nav.kb"));
    let stored = match state.store().article(&id).await {
        Ok(Some(a)) => a,
        Ok(None) => return page_error(&p, &crate::error::ApiError::not_found(format!("no article `{id}`"))),
        Err(e) => return page_error(&p, &e.into()),
    };
    let versions = state.store().article_versions(&id).await.unwrap_or_default();
    let cal = state.calendar();
    // An older version is shown when asked for (the history's links).
    let (shown_version, article) = match v.version.and_then(|n| versions.iter().find(|x| x.0 == n)) {
        Some((n, a, ..)) => (*n, a.clone()),
        None => (stored.version, stored.article.clone()),
    };
    let dir = state.directory();
    let today = knowledge::today(&state);
    let validity = match (&article.valid_from, &article.valid_to) {
        (None, None) => String::new(),
        (f, to) => format!("{} – {}", f.as_deref().unwrap_or(""), to.as_deref().unwrap_or("")),
    };
    let page = KbArticle {
        p: Page { title: article.title.clone(), ..p },
        t,
        id: stored.id.clone(),
        title: article.title.clone(),
        body_html: markdown(&article.body),
        unit: unit_name(&state, &article.unit),
        categories: article
            .categories
            .iter()
            .map(|c| dir.category(c).map(|x| x.name.clone()).unwrap_or_else(|| c.to_string()))
            .collect(),
        tags: article.tags.clone(),
        validity,
        valid: article.valid_on(&today),
        active: stored.active,
        version: stored.version,
        versions: versions
            .iter()
            .map(|(n, a, active, at, by)| VersionRow {
                version: *n,
                when: cal.rfc3339(*at).replace('T', " ").chars().take(16).collect(),
                by: by.clone(),
                title: a.title.clone(),
                active: *active,
            })
            .collect(),
        shown_version,
        can_edit: may_edit(&state, &c.user, stored.article.unit.as_ref()),
    };
    html(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "kb_edit.html")]
struct KbEdit {
    p: Page,
    t: Tr,
    /// Empty for a new article.
    id: String,
    version: i64,
    title: String,
    body: String,
    categories: String,
    unit: String,
    tags: String,
    valid_from: String,
    valid_to: String,
    active: bool,
    units: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

fn editable_units(state: &AppState, c: &Console) -> Vec<(String, String)> {
    let dir = state.directory();
    let mut v: Vec<(String, String)> = dir
        .units()
        .filter(|u| may_edit(state, &c.user, Some(&u.code)))
        .map(|u| (u.code.to_string(), u.name.clone()))
        .collect();
    v.sort();
    v
}

pub async fn new_form(State(state): State<AppState>, c: Console) -> Response {
    let t = c.t();
    if !c.user.actor.has_any(&[Role::Admin, Role::UnitAdmin]) {
        return page_error(&page_for(&state, &c, ""), &forbidden());
    }
    let unit = if c.user.actor.has(Role::Admin) {
        String::new()
    } else {
        c.user.actor.unit.as_ref().map(|u| u.to_string()).unwrap_or_default()
    };
    let units = editable_units(&state, &c);
    let page = KbEdit {
        p: page_for(&state, &c, t.s("kb.new")),
        t,
        id: String::new(),
        version: 0,
        title: String::new(),
        body: String::new(),
        categories: String::new(),
        unit,
        tags: String::new(),
        valid_from: String::new(),
        valid_to: String::new(),
        active: true,
        units,
        errors: Vec::new(),
    };
    html(StatusCode::OK, &page)
}

fn forbidden() -> crate::error::ApiError {
    crate::error::ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_role",
        "only an admin or the unit's admin may edit this article",
    )
}

pub async fn edit_form(State(state): State<AppState>, c: Console, Path(id): Path<String>) -> Response {
    let t = c.t();
    let p = page_for(&state, &c, t.s("kb.edit"));
    let a = match state.store().article(&id).await {
        Ok(Some(a)) => a,
        Ok(None) => return page_error(&p, &crate::error::ApiError::not_found(format!("no article `{id}`"))),
        Err(e) => return page_error(&p, &e.into()),
    };
    if !may_edit(&state, &c.user, a.article.unit.as_ref()) {
        return page_error(&p, &forbidden());
    }
    let units = editable_units(&state, &c);
    let page = KbEdit {
        p,
        t,
        id: a.id,
        version: a.version,
        title: a.article.title,
        body: a.article.body,
        categories: a.article.categories.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
        unit: a.article.unit.map(|u| u.to_string()).unwrap_or_default(),
        tags: a.article.tags.join(", "),
        valid_from: a.article.valid_from.unwrap_or_default(),
        valid_to: a.article.valid_to.unwrap_or_default(),
        active: a.active,
        units,
        errors: Vec::new(),
    };
    html(StatusCode::OK, &page)
}

fn words(v: &str) -> Vec<String> {
    v.split([',', '，', '|']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

pub async fn save(State(state): State<AppState>, posted: Posted) -> Response {
    let c = &posted.console;
    let t = c.t();
    let get = |k: &str| posted.get(k).unwrap_or("").trim().to_owned();
    let id = get("id");
    let version: i64 = get("version").parse().unwrap_or(0);
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut categories = Vec::new();
    for code in words(&get("categories")) {
        match CategoryCode::parse(&code) {
            Ok(c) => categories.push(c),
            Err(m) => errors.push(("categories".into(), m)),
        }
    }
    let unit = match get("unit").as_str() {
        "" => None,
        u => match UnitCode::parse(u) {
            Ok(u) => Some(u),
            Err(m) => {
                errors.push(("unit".into(), m));
                None
            }
        },
    };
    let article = Article {
        title: get("title"),
        body: posted.get("body").unwrap_or("").replace("\r\n", "\n").trim().to_owned(),
        categories,
        unit,
        tags: words(&get("tags")),
        valid_from: Some(get("valid_from")).filter(|s| !s.is_empty()),
        valid_to: Some(get("valid_to")).filter(|s| !s.is_empty()),
    };
    let active = posted.get("active").is_some();
    let new = id.is_empty();
    let the_id = if new { knowledge::id_for(&article.title) } else { id.clone() };
    if new && let Ok(Some(_)) = state.store().article(&the_id).await {
        errors.push(("title".into(), t.s("kb.title_taken").to_owned()));
    }
    let result = if errors.is_empty() {
        let expected = (!new).then_some(version);
        knowledge::write_articles(
            &state,
            &c.user,
            vec![(the_id.clone(), article.clone(), active, expected)],
            Vec::new(),
        )
        .await
        .map(|_| ())
    } else {
        Ok(())
    };
    match result {
        Ok(()) if errors.is_empty() => {
            return Redirect::to(&format!("/console/kb/{}?saved=1", enc(&the_id))).into_response();
        }
        Ok(()) => {}
        Err(e) => match e.fields {
            Some(f) => errors.extend(f),
            None => errors.push(("article".into(), e.message)),
        },
    }
    let units = editable_units(&state, c);
    let page = KbEdit {
        p: page_for(&state, c, t.s(if new { "kb.new" } else { "kb.edit" })),
        t,
        id,
        version,
        title: article.title,
        body: article.body,
        categories: article.categories.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
        unit: article.unit.map(|u| u.to_string()).unwrap_or_default(),
        tags: article.tags.join(", "),
        valid_from: article.valid_from.unwrap_or_default(),
        valid_to: article.valid_to.unwrap_or_default(),
        active,
        units,
        errors,
    };
    html(StatusCode::UNPROCESSABLE_ENTITY, &page)
}
