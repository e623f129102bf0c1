//! The knowledge base, intake templates, referral directory, announcements, and the
//! suggestions at the moment of the call (`POST /api/v1/suggest`).

use crate::auth::CurrentUser;
use crate::body::{Fields, JsonObject, Params};
use crate::error::ApiError;
use crate::knowledge::{self, read_csv, read_markdown};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use lianxin_domain::error::FieldErrors;
use lianxin_domain::knowledge::{Announcement, AnnouncementKind, Article, Referral, Template};
use lianxin_domain::{CategoryCode, JurisdictionCode, Role, UnitCode};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct KbHit {
    pub id: String,
    pub title: String,
    /// A piece of the body around the words.
    pub snippet: String,
    /// `[start, end)` character offsets into `snippet` of each marked word.
    #[schema(value_type = Vec<Vec<u32>>)]
    pub highlights: Vec<(usize, usize)>,
    /// The article holds today (within valid_from..valid_to).
    pub valid: bool,
    pub unit: Option<String>,
    pub categories: Vec<String>,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KbHits {
    pub items: Vec<KbHit>,
}

fn hit_of(f: knowledge::FoundArticle) -> KbHit {
    KbHit {
        id: f.stored.id,
        title: f.stored.article.title,
        snippet: f.snippet.text,
        highlights: f.snippet.highlights,
        valid: f.valid,
        unit: f.stored.article.unit.map(|u| u.to_string()),
        categories: f.stored.article.categories.iter().map(|c| c.to_string()).collect(),
        version: f.stored.version,
    }
}

/// Search the knowledge base: every word must match (a synonym or its characters in a
/// row count); articles valid today first.
#[utoipa::path(get, path = "/api/v1/kb/search", tag = "knowledge", operation_id = "kb_search",
    params(("q" = String, Query), ("category" = Option<String>, Query, description = "rank this category's articles first"),
           ("limit" = Option<i64>, Query, minimum = 1, description = "default 10; larger than 50 is 50")),
    responses((status = 200, description = "Articles matching every word, those valid today first", body = KbHits)), security(("bearer" = [])))]
pub async fn kb_search(
    State(state): State<AppState>,
    _user: CurrentUser,
    params: Params,
) -> Result<Json<KbHits>, ApiError> {
    let mut errs = FieldErrors::new();
    let q = params.get("q").map(str::trim).unwrap_or("").to_owned();
    if q.is_empty() {
        errs.add("q", "is required: the words to search for");
    } else if q.chars().count() > crate::search::MAX_QUERY {
        errs.add("q", "is longer than 200 characters");
    }
    let category = params.parsed("category", &mut errs, CategoryCode::parse);
    let limit = params.limit("limit", &mut errs, 1, 50).unwrap_or(10) as usize;
    errs.finish()?;
    let found = knowledge::search_articles(&state, &q, true, category.as_ref().map(|c| c.as_str()), limit).await?;
    Ok(Json(KbHits { items: found.into_iter().map(hit_of).collect() }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleOut {
    pub id: String,
    pub title: String,
    pub body: String,
    pub categories: Vec<String>,
    pub unit: Option<String>,
    pub tags: Vec<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub version: i64,
    pub active: bool,
    pub updated_at: String,
    pub updated_by: String,
}

fn article_out(state: &AppState, s: lianxin_store::StoredArticle) -> ArticleOut {
    ArticleOut {
        id: s.id,
        title: s.article.title,
        body: s.article.body,
        categories: s.article.categories.iter().map(|c| c.to_string()).collect(),
        unit: s.article.unit.map(|u| u.to_string()),
        tags: s.article.tags,
        valid_from: s.article.valid_from,
        valid_to: s.article.valid_to,
        version: s.version,
        active: s.active,
        updated_at: state.calendar().rfc3339(s.updated_at),
        updated_by: s.updated_by,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub items: Vec<ArticleOut>,
}

/// Every article (staff read them all).
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "knowledge", operation_id = "kb_articles",
    responses((status = 200, description = "Every article", body = ArticleList)), security(("bearer" = [])))]
pub async fn articles(State(state): State<AppState>, _user: CurrentUser) -> Result<Json<ArticleList>, ApiError> {
    let all = state.store().articles().await?;
    Ok(Json(ArticleList { items: all.into_iter().map(|a| article_out(&state, a)).collect() }))
}

/// One article, its current version.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "knowledge", operation_id = "kb_article",
    params(("id" = String, Path)), responses((status = 200, description = "The article's current version", body = ArticleOut)), security(("bearer" = [])))]
pub async fn article(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ArticleOut>, ApiError> {
    let a = state.store().article(&id).await?.ok_or_else(|| ApiError::not_found(format!("no article `{id}`")))?;
    Ok(Json(article_out(&state, a)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub categories: Vec<String>,
    pub unit: Option<String>,
    pub tags: Vec<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub active: bool,
    pub edited_at: String,
    pub edited_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionOut>,
}

/// Every version of an article, newest first.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "knowledge", operation_id = "kb_versions",
    params(("id" = String, Path)), responses((status = 200, description = "Every version, newest first", body = VersionList)), security(("bearer" = [])))]
pub async fn versions(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<VersionList>, ApiError> {
    let vs = state.store().article_versions(&id).await?;
    if vs.is_empty() {
        return Err(ApiError::not_found(format!("no article `{id}`")));
    }
    let cal = state.calendar();
    let items = vs
        .into_iter()
        .map(|(version, a, active, at, by)| VersionOut {
            version,
            title: a.title,
            body: a.body,
            categories: a.categories.iter().map(|c| c.to_string()).collect(),
            unit: a.unit.map(|u| u.to_string()),
            tags: a.tags,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
            active,
            edited_at: cal.rfc3339(at),
            edited_by: by,
        })
        .collect();
    Ok(Json(VersionList { items }))
}

/// An article as written in a form or by an API client.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ArticleIn {
    /// Optional on create (a stable id from the title is made): 1–64 of a-z 0-9 - _ .
    id: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[schema(min_length = 1, max_length = 20000)]
    body: String,
    categories: Option<Vec<String>>,
    unit: Option<String>,
    tags: Option<Vec<String>>,
    #[schema(format = Date)]
    valid_from: Option<String>,
    #[schema(format = Date)]
    valid_to: Option<String>,
    /// On edit: the version you edited (a newer one is a 409).
    version: Option<i64>,
    /// false withdraws the article (kept with its versions).
    active: Option<bool>,
}

fn read_article(
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<(Option<String>, Article, bool, Option<i64>), ApiError> {
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    let id = f.string("id", false, &mut errs).filter(|s| !s.trim().is_empty());
    if let Some(i) = &id
        && !knowledge::is_id(i)
    {
        errs.add("id", "must be 1 to 64 of a-z, 0-9, -, _ and .");
    }
    let mut categories = Vec::new();
    for c in f.string_list("categories", &mut errs) {
        match CategoryCode::parse(&c) {
            Ok(c) => categories.push(c),
            Err(m) => errs.add("categories", m),
        }
    }
    let unit = f.parsed("unit", false, &mut errs, UnitCode::parse);
    let day = |errs: &mut FieldErrors, k: &str| f.string(k, false, errs).filter(|s| !s.trim().is_empty());
    let article = Article {
        title: f.string("title", true, &mut errs).unwrap_or_default(),
        body: f.string("body", true, &mut errs).unwrap_or_default(),
        categories,
        unit,
        tags: f.string_list("tags", &mut errs).into_iter().map(|t| t.trim().to_owned()).collect(),
        valid_from: day(&mut errs, "valid_from"),
        valid_to: day(&mut errs, "valid_to"),
    };
    let version = f.integer("version", false, &mut errs);
    let active = f.boolean("active", false, &mut errs).unwrap_or(true);
    errs.finish()?;
    Ok((id, article, active, version))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleWritten {
    pub id: String,
    pub version: i64,
}

/// Write a new article (admin, or a unit admin for their unit).
#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "knowledge", operation_id = "kb_create",
    request_body = ArticleIn,
    responses((status = 201, description = "The article and its version now", body = ArticleWritten), (status = 403, description = "Admins and unit admins only"),
              (status = 409, description = "The id is taken")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<(StatusCode, Json<ArticleWritten>), ApiError> {
    require_editor(&user)?;
    let (id, article, active, _) = read_article(&obj)?;
    let id = id.unwrap_or_else(|| knowledge::id_for(&article.title));
    if state.store().article(&id).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("an article `{id}` exists: edit it with PUT"),
        ));
    }
    knowledge::write_articles(&state, &user, vec![(id.clone(), article, active, None)], Vec::new()).await?;
    Ok((StatusCode::CREATED, Json(ArticleWritten { id, version: 1 })))
}

/// Edit an article: a new version (the old ones are kept).
#[utoipa::path(put, path = "/api/v1/kb/articles/{id}", tag = "knowledge", operation_id = "kb_edit",
    params(("id" = String, Path)), request_body = ArticleIn,
    responses((status = 200, description = "The article and its version now", body = ArticleWritten), (status = 403, description = "Not your unit's article"),
              (status = 409, description = "Someone saved a newer version")),
    security(("bearer" = [])))]
pub async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<Json<ArticleWritten>, ApiError> {
    require_editor(&user)?;
    let old = state.store().article(&id).await?.ok_or_else(|| ApiError::not_found(format!("no article `{id}`")))?;
    let (_, article, active, version) = read_article(&obj)?;
    let r = knowledge::write_articles(&state, &user, vec![(id.clone(), article, active, version)], Vec::new()).await?;
    let version = if r.unchanged == 1 { old.version } else { old.version + 1 };
    Ok(Json(ArticleWritten { id, version }))
}

fn require_editor(user: &CurrentUser) -> Result<(), ApiError> {
    user.require(&[Role::Admin, Role::UnitAdmin], "only an admin or a unit admin may edit the knowledge base")
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportDone {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Import articles from Markdown (`text/markdown`: front matter between `---` lines, then
/// the body) or CSV (`text/csv`: `id,title,body,categories,unit,tags,valid_from,valid_to,
/// active`, lists separated by `|`). All or none; a changed article gets a new version.
#[utoipa::path(post, path = "/api/v1/kb/import", tag = "knowledge", operation_id = "kb_import",
    request_body(content = String, content_type = "text/markdown", description = "Markdown or CSV (text/csv)"),
    responses((status = 200, description = "What the import did", body = ImportDone), (status = 403, description = "Admins and unit admins only")),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportDone>, ApiError> {
    require_editor(&user)?;
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let Ok(text) = std::str::from_utf8(&body) else {
        return Err(ApiError::malformed("the file is not UTF-8 text"));
    };
    let (read, problems) = if media.starts_with("text/csv") {
        read_csv(text)
    } else if media.starts_with("text/markdown") || media.starts_with("text/plain") {
        read_markdown(text)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send text/markdown or text/csv",
        ));
    };
    if read.is_empty() && problems.is_empty() {
        let mut errs = FieldErrors::new();
        errs.add("articles", "the file holds no article");
        return Err(ApiError::invalid(errs.into_map()));
    }
    let items = read.into_iter().map(|a| (a.id, a.article, a.active, None)).collect();
    let r = knowledge::write_articles(&state, &user, items, problems).await?;
    Ok(Json(ImportDone { created: r.created, updated: r.updated, unchanged: r.unchanged }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    pub category: String,
    pub category_name: String,
    pub name: String,
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateOut>,
}

/// Intake templates (the content's skeleton per category), all or one category's.
#[utoipa::path(get, path = "/api/v1/templates", tag = "knowledge", operation_id = "templates",
    params(("category" = Option<String>, Query)), responses((status = 200, description = "The templates", body = TemplateList)), security(("bearer" = [])))]
pub async fn templates(
    State(state): State<AppState>,
    _user: CurrentUser,
    params: Params,
) -> Result<Json<TemplateList>, ApiError> {
    let mut errs = FieldErrors::new();
    let category = params.parsed("category", &mut errs, CategoryCode::parse);
    errs.finish()?;
    let dir = state.directory();
    let items = state
        .store()
        .templates()
        .await?
        .into_iter()
        .filter(|t| category.as_ref().is_none_or(|c| &t.category == c))
        .map(|t| TemplateOut {
            category_name: dir.category(&t.category).map(|c| c.name.clone()).unwrap_or_default(),
            category: t.category.to_string(),
            name: t.name,
            body: t.body,
        })
        .collect();
    Ok(Json(TemplateList { items }))
}

#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct TemplateIn {
    #[schema(min_length = 1, max_length = 60)]
    name: String,
    #[schema(min_length = 1, max_length = 2000)]
    body: String,
}

/// Set a category's intake template (admin).
#[utoipa::path(put, path = "/api/v1/templates/{category}", tag = "knowledge", operation_id = "put_template",
    params(("category" = String, Path)), request_body = TemplateIn,
    responses((status = 200, description = "The template now", body = TemplateOut), (status = 403, description = "Admins only")),
    security(("bearer" = [])))]
pub async fn put_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(category): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<Json<TemplateOut>, ApiError> {
    user.require(&[Role::Admin], "only an admin may edit the intake templates")?;
    let dir = state.directory();
    let code = CategoryCode::parse(&category).ok().filter(|c| dir.category(c).is_some());
    let Some(code) = code else { return Err(ApiError::not_found(format!("no category `{category}`"))) };
    let mut errs = FieldErrors::new();
    let f = Fields::new(&obj);
    let t = Template {
        category: code,
        name: f.string("name", true, &mut errs).unwrap_or_default(),
        body: f.string("body", true, &mut errs).unwrap_or_default(),
    };
    t.check(&dir, &mut errs);
    errs.finish()?;
    state.store().put_templates(std::slice::from_ref(&t), user.actor.username.as_str(), state.now()).await?;
    knowledge::reload_texts(&state).await;
    Ok(Json(TemplateOut {
        category_name: dir.category(&t.category).map(|c| c.name.clone()).unwrap_or_default(),
        category: t.category.to_string(),
        name: t.name,
        body: t.body,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralOut {
    pub id: String,
    pub name: String,
    pub handles: String,
    pub phone: String,
    pub address: String,
    pub hours: String,
    pub keywords: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralList {
    pub items: Vec<ReferralOut>,
}

fn referral_out(id: String, r: Referral, active: bool) -> ReferralOut {
    ReferralOut {
        id,
        name: r.name,
        handles: r.handles,
        phone: r.phone,
        address: r.address,
        hours: r.hours,
        keywords: r.keywords,
        active,
    }
}

/// The referral directory (bodies outside the hotline): all, or those matching `q`.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "knowledge", operation_id = "referrals",
    params(("q" = Option<String>, Query, description = "the caller's words")), responses((status = 200, description = "The entries", body = ReferralList)),
    security(("bearer" = [])))]
pub async fn referrals(
    State(state): State<AppState>,
    _user: CurrentUser,
    params: Params,
) -> Result<Json<ReferralList>, ApiError> {
    let mut errs = FieldErrors::new();
    let q = params.get("q").map(str::trim).unwrap_or("").to_owned();
    if q.chars().count() > crate::search::MAX_QUERY {
        errs.add("q", "is longer than 200 characters");
    }
    errs.finish()?;
    let all = state.store().referrals().await?;
    if q.is_empty() {
        return Ok(Json(ReferralList { items: all.into_iter().map(|(i, r, a)| referral_out(i, r, a)).collect() }));
    }
    let ids = referral_ids(&state, &q, 10).await?;
    let items = ids
        .into_iter()
        .filter_map(|id| all.iter().find(|(i, _, a)| *i == id && *a).cloned())
        .map(|(i, r, a)| referral_out(i, r, a))
        .collect();
    Ok(Json(ReferralList { items }))
}

/// Referral entries matching the caller's words, best first.
pub async fn referral_ids(state: &AppState, q: &str, limit: usize) -> Result<Vec<String>, ApiError> {
    text_ids(state, "referral", q, limit).await
}

async fn text_ids(state: &AppState, kind: &'static str, q: &str, limit: usize) -> Result<Vec<String>, ApiError> {
    let search = state.search();
    let q = q.to_owned();
    let hits =
        tokio::task::spawn_blocking(move || search.texts.search(kind, &q, false, &search.synonyms(), None, limit))
            .await
            .map_err(|_| unavailable())?
            .map_err(|_| unavailable())?;
    Ok(hits.into_iter().map(|h| h.id).collect())
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "search_unavailable",
        "the search index is unavailable; try again shortly",
    )
}

#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ReferralIn {
    name: String,
    handles: String,
    phone: String,
    address: Option<String>,
    hours: Option<String>,
    keywords: Option<Vec<String>>,
    active: Option<bool>,
}

/// Create or replace a referral entry (admin).
#[utoipa::path(put, path = "/api/v1/referrals/{id}", tag = "knowledge", operation_id = "put_referral",
    params(("id" = String, Path)), request_body = ReferralIn,
    responses((status = 200, description = "The entry now", body = ReferralOut), (status = 403, description = "Admins only")),
    security(("bearer" = [])))]
pub async fn put_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<Json<ReferralOut>, ApiError> {
    user.require(&[Role::Admin], "only an admin may edit the referral directory")?;
    if !knowledge::is_id(&id) {
        return Err(ApiError::not_found("a referral id is 1 to 64 of a-z, 0-9, -, _ and ."));
    }
    let mut errs = FieldErrors::new();
    let f = Fields::new(&obj);
    let r = Referral {
        name: f.string("name", true, &mut errs).unwrap_or_default(),
        handles: f.string("handles", true, &mut errs).unwrap_or_default(),
        phone: f.string("phone", true, &mut errs).unwrap_or_default(),
        address: f.string("address", false, &mut errs).unwrap_or_default(),
        hours: f.string("hours", false, &mut errs).unwrap_or_default(),
        keywords: f.string_list("keywords", &mut errs),
    };
    let active = f.boolean("active", false, &mut errs).unwrap_or(true);
    r.check(&mut errs);
    errs.finish()?;
    state.store().put_referrals(&[(id.clone(), r.clone(), active)], user.actor.username.as_str(), state.now()).await?;
    knowledge::reload_texts(&state).await;
    Ok(Json(referral_out(id, r, active)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementOut {
    pub id: String,
    pub title: String,
    pub body: String,
    pub kind: String,
    pub districts: Vec<String>,
    pub streets: Vec<String>,
    pub starts_at: String,
    pub ends_at: String,
    pub unit: Option<String>,
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementList {
    pub items: Vec<AnnouncementOut>,
}

pub fn announcement_out(state: &AppState, id: String, a: Announcement) -> AnnouncementOut {
    let cal = state.calendar();
    AnnouncementOut {
        active: a.active_at(state.now()),
        id,
        title: a.title,
        body: a.body,
        kind: a.kind.as_str().to_owned(),
        districts: a.districts.iter().map(|d| d.to_string()).collect(),
        streets: a.streets.iter().map(|d| d.to_string()).collect(),
        starts_at: cal.rfc3339(a.starts_at),
        ends_at: cal.rfc3339(a.ends_at),
        unit: a.unit.map(|u| u.to_string()),
    }
}

/// Announcements in force now for a place (`street`, or `district`), or every one with
/// `all=true`.
#[utoipa::path(get, path = "/api/v1/announcements", tag = "knowledge", operation_id = "announcements",
    params(("street" = Option<String>, Query), ("district" = Option<String>, Query),
           ("all" = Option<bool>, Query, description = "also those past or to come")),
    responses((status = 200, description = "The announcements", body = AnnouncementList)), security(("bearer" = [])))]
pub async fn announcements(
    State(state): State<AppState>,
    _user: CurrentUser,
    params: Params,
) -> Result<Json<AnnouncementList>, ApiError> {
    let mut errs = FieldErrors::new();
    let street = params.parsed("street", &mut errs, JurisdictionCode::parse);
    let district = params.parsed("district", &mut errs, JurisdictionCode::parse);
    let all = params.boolean("all", &mut errs).unwrap_or(false);
    errs.finish()?;
    let items = active_announcements(&state, street.as_ref(), district.as_ref(), all).await?;
    Ok(Json(AnnouncementList { items: items.into_iter().map(|(i, a)| announcement_out(&state, i, a)).collect() }))
}

/// Announcements for a place: in force now (unless `all`), and covering the place when one
/// is given.
pub async fn active_announcements(
    state: &AppState,
    street: Option<&JurisdictionCode>,
    district: Option<&JurisdictionCode>,
    all: bool,
) -> Result<Vec<(String, Announcement)>, ApiError> {
    let at = (!all).then(|| state.now());
    let dir = state.directory();
    let items = state.store().announcements(at).await?;
    Ok(items
        .into_iter()
        .filter(|(_, a)| (street.is_none() && district.is_none()) || a.covers(&dir, street, district))
        .collect())
}

#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct AnnouncementIn {
    title: String,
    body: String,
    /// outage, road_closure, route_change, other
    kind: String,
    districts: Option<Vec<String>>,
    streets: Option<Vec<String>>,
    /// RFC 3339
    starts_at: String,
    /// RFC 3339
    ends_at: String,
}

fn read_announcement(
    state: &AppState,
    user: &CurrentUser,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<Announcement, ApiError> {
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    let codes = |errs: &mut FieldErrors, k: &str| -> Vec<JurisdictionCode> {
        let mut out = Vec::new();
        for v in f.string_list(k, errs) {
            match JurisdictionCode::parse(&v) {
                Ok(c) => out.push(c),
                Err(m) => errs.add(k, m),
            }
        }
        out
    };
    let time = |errs: &mut FieldErrors, k: &str| -> i64 {
        match f.string(k, true, errs) {
            Some(v) => lianxin_domain::calendar::Calendar::parse_rfc3339(&v).unwrap_or_else(|| {
                errs.add(k, "must be an RFC 3339 time such as 2026-12-02T08:00:00+08:00");
                0
            }),
            None => 0,
        }
    };
    let kind = f.vocab("kind", true, &mut errs, AnnouncementKind::parse, AnnouncementKind::allowed());
    let a = Announcement {
        title: f.string("title", true, &mut errs).unwrap_or_default(),
        body: f.string("body", true, &mut errs).unwrap_or_default(),
        kind: kind.unwrap_or(AnnouncementKind::Other),
        districts: codes(&mut errs, "districts"),
        streets: codes(&mut errs, "streets"),
        starts_at: time(&mut errs, "starts_at"),
        ends_at: time(&mut errs, "ends_at"),
        // A unit publishes as itself; the hotline's roles as the hotline.
        unit: if user.actor.has(Role::Admin) { None } else { user.actor.unit.clone() },
    };
    if errs.is_empty() {
        a.check(&state.directory(), &mut errs);
    }
    errs.finish()?;
    Ok(a)
}

/// Who may publish announcements (a unit for itself).
pub const PUBLISHERS: &[Role] = &[Role::Admin, Role::UnitAdmin, Role::Handler];

fn require_publisher(user: &CurrentUser) -> Result<(), ApiError> {
    user.require(PUBLISHERS, "only an admin or a unit may publish announcements")
}

/// Whether `user` may change an announcement published by `unit`.
pub fn may_change(state: &AppState, user: &CurrentUser, unit: Option<&UnitCode>) -> bool {
    user.actor.has(Role::Admin)
        || matches!((user.actor.unit.as_ref(), unit), (Some(mine), Some(u)) if state.directory().subtree(mine).contains(u))
}

/// Publishes a new announcement (`id` = None) or changes one: the one path of the API and
/// the console. An admin publishes for the hotline, a unit for itself; only the publisher
/// (or a unit above it) or an admin may change or withdraw one.
pub async fn save_announcement(
    state: &AppState,
    user: &CurrentUser,
    id: Option<&str>,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<(String, Announcement), ApiError> {
    require_publisher(user)?;
    let id = match id {
        Some(id) => {
            changeable_announcement(state, user, id).await?;
            id.to_owned()
        }
        None => format!("ann-{}", &crate::auth::new_token()[..12].to_ascii_lowercase()),
    };
    let a = read_announcement(state, user, obj)?;
    state.store().put_announcements(&[(id.clone(), a.clone())], user.actor.username.as_str(), state.now()).await?;
    knowledge::reload_texts(state).await;
    Ok((id, a))
}

/// Withdraws an announcement (its publisher or an admin).
pub async fn withdraw_announcement(state: &AppState, user: &CurrentUser, id: &str) -> Result<(), ApiError> {
    require_publisher(user)?;
    changeable_announcement(state, user, id).await?;
    state.store().delete_announcement(id).await?;
    knowledge::reload_texts(state).await;
    Ok(())
}

/// The announcement `id`, if `user` may change it.
pub async fn changeable_announcement(state: &AppState, user: &CurrentUser, id: &str) -> Result<Announcement, ApiError> {
    let old =
        state.store().announcement(id).await?.ok_or_else(|| ApiError::not_found(format!("no announcement `{id}`")))?;
    if !may_change(state, user, old.unit.as_ref()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_role",
            "only its publisher or an admin may change an announcement",
        ));
    }
    Ok(old)
}

/// Publish an announcement (admin, or a unit for itself).
#[utoipa::path(post, path = "/api/v1/announcements", tag = "knowledge", operation_id = "create_announcement",
    request_body = AnnouncementIn,
    responses((status = 201, description = "The announcement", body = AnnouncementOut), (status = 403, description = "Admins and units only")),
    security(("bearer" = [])))]
pub async fn create_announcement(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<(StatusCode, Json<AnnouncementOut>), ApiError> {
    let (id, a) = save_announcement(&state, &user, None, &obj).await?;
    Ok((StatusCode::CREATED, Json(announcement_out(&state, id, a))))
}

/// Change an announcement (its publisher or an admin).
#[utoipa::path(put, path = "/api/v1/announcements/{id}", tag = "knowledge", operation_id = "put_announcement",
    params(("id" = String, Path)), request_body = AnnouncementIn,
    responses((status = 200, description = "The announcement", body = AnnouncementOut), (status = 403, description = "Not your unit's")),
    security(("bearer" = [])))]
pub async fn put_announcement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonObject(obj): JsonObject,
) -> Result<Json<AnnouncementOut>, ApiError> {
    let (id, a) = save_announcement(&state, &user, Some(&id), &obj).await?;
    Ok(Json(announcement_out(&state, id, a)))
}

/// Withdraw an announcement (its publisher or an admin).
#[utoipa::path(delete, path = "/api/v1/announcements/{id}", tag = "knowledge", operation_id = "delete_announcement",
    params(("id" = String, Path)),
    responses((status = 204, description = "Withdrawn"), (status = 403, description = "Not your unit's")),
    security(("bearer" = [])))]
pub async fn delete_announcement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    withdraw_announcement(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SuggestIn {
    /// What the caller has said so far.
    #[schema(min_length = 1, max_length = 5000)]
    content: String,
    street: Option<String>,
    category: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Scored {
    pub code: String,
    pub score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TextSuggestion {
    pub id: String,
    pub title: String,
    pub snippet: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// Categories of the similar open orders, weighted by similarity (the learned
    /// classifier replaces this vote).
    pub categories: Vec<Scored>,
    pub request_types: Vec<Scored>,
    pub units: Vec<Scored>,
    /// Open orders of the last 30 days like this one.
    pub similar: Vec<crate::search::SimilarOrder>,
    pub articles: Vec<KbHit>,
    pub templates: Vec<TemplateOut>,
    pub referrals: Vec<ReferralOut>,
    pub announcements: Vec<AnnouncementOut>,
    /// Confirmed incidents this order may be about: same category (the chosen one, else the
    /// one most similar orders have) and same district, made within the last 48 hours.
    pub incidents: Vec<crate::api::incidents::IncidentOut>,
}

fn vote(items: impl Iterator<Item = (String, f64)>) -> Vec<Scored> {
    let mut m: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    let mut total = 0.0;
    for (k, w) in items {
        *m.entry(k).or_default() += w;
        total += w;
    }
    let mut v: Vec<Scored> = m
        .into_iter()
        .map(|(code, w)| Scored { code, score: if total > 0.0 { ((w / total) * 100.0).round() / 100.0 } else { 0.0 } })
        .collect();
    v.sort_by(|a, b| b.score.partial_cmp(&a.score).unwrap_or(std::cmp::Ordering::Equal));
    v.truncate(5);
    v
}

/// What to show at the moment of the call: similar open orders (and what they suggest),
/// knowledge-base answers, templates, referral entries and announcements for the place.
#[utoipa::path(post, path = "/api/v1/suggest", tag = "knowledge", operation_id = "suggest",
    request_body = SuggestIn, responses((status = 200, description = "What to show at the moment of the call", body = Suggestions)), security(("bearer" = [])))]
pub async fn suggest(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<Suggestions>, ApiError> {
    let mut errs = FieldErrors::new();
    let f = Fields::new(&obj);
    let content = f.string("content", true, &mut errs).unwrap_or_default();
    if content.chars().count() > lianxin_domain::lifecycle::MAX_TEXT {
        errs.add("content", "is longer than 5000 characters");
    }
    let street = f.parsed("street", false, &mut errs, JurisdictionCode::parse);
    let category = f.parsed("category", false, &mut errs, CategoryCode::parse);
    errs.finish()?;
    Ok(Json(suggestions(&state, &user, &content, street.as_ref(), category.as_ref()).await?))
}

/// The suggestions of [`suggest`] (the intake page asks for them as the operator types).
pub async fn suggestions(
    state: &AppState,
    user: &CurrentUser,
    content: &str,
    street: Option<&JurisdictionCode>,
    category: Option<&CategoryCode>,
) -> Result<Suggestions, ApiError> {
    let similar = if content.trim().is_empty() {
        Vec::new()
    } else {
        crate::search::similar_orders(state, user, content, street, category, 5).await?
    };
    let numbers: Vec<String> = similar.iter().map(|s| s.number.clone()).collect();
    let dir = state.directory();
    let scope = lianxin_domain::scope::scope_of(&user.actor, &dir);
    let orders = state.store().orders_among(&scope, &Default::default(), &numbers).await?;
    let weight = |n: &str| similar.iter().find(|s| s.number == n).map(|s| s.score).unwrap_or(0.0);
    let categories = vote(orders.iter().map(|o| (o.intake.category.to_string(), weight(o.number.as_str()))));
    let request_types =
        vote(orders.iter().map(|o| (o.intake.request_type.as_str().to_owned(), weight(o.number.as_str()))));
    let units =
        vote(orders.iter().filter_map(|o| o.lead_unit.as_ref().map(|u| (u.to_string(), weight(o.number.as_str())))));
    let cat = category.map(|c| c.as_str().to_owned());
    let articles = if content.trim().is_empty() && cat.is_none() {
        Vec::new()
    } else {
        knowledge::search_articles(state, content, false, cat.as_deref(), 5).await?.into_iter().map(hit_of).collect()
    };
    let all_templates = state.store().templates().await?;
    let templates = all_templates
        .into_iter()
        .filter(|t| category.is_some_and(|c| &t.category == c))
        .map(|t| TemplateOut {
            category_name: dir.category(&t.category).map(|c| c.name.clone()).unwrap_or_default(),
            category: t.category.to_string(),
            name: t.name,
            body: t.body,
        })
        .collect();
    let referrals = if content.trim().is_empty() {
        Vec::new()
    } else {
        let ids = referral_ids(state, content, 3).await?;
        let all = state.store().referrals().await?;
        ids.into_iter()
            .filter_map(|id| all.iter().find(|(i, _, a)| *i == id && *a).cloned())
            .map(|(i, r, a)| referral_out(i, r, a))
            .collect()
    };
    let district = street.and_then(|s| dir.district_of(s)).map(|d| d.code.clone());
    let announcements = if street.is_some() {
        active_announcements(state, street, district.as_ref(), false)
            .await?
            .into_iter()
            .map(|(i, a)| announcement_out(state, i, a))
            .collect()
    } else {
        Vec::new()
    };
    let incident_category = category
        .map(|c| c.to_string())
        .or_else(|| categories.first().filter(|c| c.score >= 0.5).map(|c| c.code.clone()));
    let incidents = match &incident_category {
        Some(c) => {
            let since = state.now() - crate::api::incidents::OFFER_HOURS * 3_600_000;
            state
                .store()
                .incidents_to_join(c, district.as_ref().map(|d| d.as_str()), since)
                .await?
                .into_iter()
                .map(|i| crate::api::incidents::out(state, i))
                .collect()
        }
        None => Vec::new(),
    };
    Ok(Suggestions {
        categories,
        request_types,
        units,
        similar,
        articles,
        templates,
        referrals,
        announcements,
        incidents,
    })
}
