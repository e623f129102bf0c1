//! The texts read at intake, for the API and the console: knowledge-base articles (import
//! from CSV and Markdown, edits as new versions), templates, referrals and announcements,
//! and the in-memory text index rebuilt whenever they change.

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::http::StatusCode;
use lianxin_domain::error::FieldErrors;
use lianxin_domain::knowledge::{Article, is_day};
use lianxin_domain::{CategoryCode, Role, UnitCode};
use lianxin_search::TextDoc;
use lianxin_store::StoredArticle;
use sha2::Digest;

/// The id an article without one gets: stable for its title, so importing a file again
/// finds the same articles.
pub fn id_for(title: &str) -> String {
    let h = sha2::Sha256::digest(title.trim().as_bytes());
    format!("kb-{}", &hex::encode(h)[..12])
}

/// Whether `id` is an article id as given by a person: 1 to 64 of a-z, 0-9, `-`, `_`, `.`.
pub fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// One article read from a file, with the line it starts on.
#[derive(Debug, Clone)]
pub struct ReadArticle {
    pub line: usize,
    pub id: String,
    pub article: Article,
    pub active: bool,
}

fn list(v: &str, sep: char) -> Vec<String> {
    v.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn from_fields(
    line: usize,
    get: &dyn Fn(&str) -> Option<String>,
    list_sep: char,
    problems: &mut Vec<String>,
) -> Option<ReadArticle> {
    let title = get("title").unwrap_or_default();
    let body = get("body").unwrap_or_default();
    let mut bad = |m: String| problems.push(format!("{line}: {m}"));
    let mut categories = Vec::new();
    for c in list(&get("categories").unwrap_or_default(), list_sep) {
        match CategoryCode::parse(&c) {
            Ok(c) => categories.push(c),
            Err(m) => bad(format!("categories: {m}")),
        }
    }
    let unit = match get("unit").filter(|u| !u.is_empty()) {
        Some(u) => match UnitCode::parse(&u) {
            Ok(u) => Some(u),
            Err(m) => {
                bad(format!("unit: {m}"));
                None
            }
        },
        None => None,
    };
    let day = |k: &str| get(k).filter(|v| !v.is_empty());
    let id = match get("id").filter(|v| !v.is_empty()) {
        Some(id) if is_id(&id) => id,
        Some(id) => {
            bad(format!("id: `{id}` must be 1 to 64 of a-z, 0-9, -, _ and ."));
            return None;
        }
        None => id_for(&title),
    };
    let active = !matches!(get("active").as_deref().map(str::trim), Some("0" | "false" | "no"));
    Some(ReadArticle {
        line,
        id,
        article: Article {
            title: title.trim().to_owned(),
            body: body.trim().to_owned(),
            categories,
            unit,
            tags: list(&get("tags").unwrap_or_default(), list_sep),
            valid_from: day("valid_from"),
            valid_to: day("valid_to"),
        },
        active,
    })
}

/// Articles in Markdown: each a front matter between lines of `---` (`key: value` lines:
/// title, categories and tags separated by commas, unit, valid_from, valid_to, optional
/// id and active), then its body up to the next `---`.
pub fn read_markdown(text: &str) -> (Vec<ReadArticle>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    while i < lines.len() {
        if lines[i].trim_end() != "---" {
            problems.push(format!("{}: expected `---` to start an article's front matter", i + 1));
            break;
        }
        let start = i + 1;
        i += 1;
        let mut front: Vec<(String, String)> = Vec::new();
        while i < lines.len() && lines[i].trim_end() != "---" {
            let l = lines[i];
            if !l.trim().is_empty() {
                match l.split_once(':').or_else(|| l.split_once('：')) {
                    Some((k, v)) => front.push((k.trim().to_lowercase(), v.trim().to_owned())),
                    None => problems.push(format!("{}: a front-matter line is `key: value`", i + 1)),
                }
            }
            i += 1;
        }
        if i >= lines.len() {
            problems.push(format!("{start}: the front matter has no closing `---`"));
            break;
        }
        i += 1;
        let body_start = i;
        while i < lines.len() && lines[i].trim_end() != "---" {
            i += 1;
        }
        let body = lines[body_start..i].join("\n");
        for (k, _) in &front {
            if !["id", "title", "categories", "unit", "tags", "valid_from", "valid_to", "active"].contains(&k.as_str())
            {
                problems.push(format!("{start}: unknown front-matter key `{k}`"));
            }
        }
        let get = |k: &str| -> Option<String> {
            if k == "body" {
                return Some(body.clone());
            }
            front.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
        };
        if let Some(a) = from_fields(start, &get, ',', &mut problems) {
            out.push(a);
        }
    }
    (out, problems)
}

/// Articles in CSV: `id,title,body,categories,unit,tags,valid_from,valid_to,active` (lists
/// separated by `|`; `id` and `active` optional).
pub fn read_csv(text: &str) -> (Vec<ReadArticle>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut rd = csv::ReaderBuilder::new().flexible(false).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = match rd.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_lowercase()).collect(),
        Err(e) => return (out, vec![format!("1: {e}")]),
    };
    for h in &headers {
        if !["id", "title", "body", "categories", "unit", "tags", "valid_from", "valid_to", "active"]
            .contains(&h.as_str())
        {
            problems.push(format!("1: unknown column `{h}`"));
        }
    }
    for (n, rec) in rd.records().enumerate() {
        let line = n + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{line}: {e}"));
                continue;
            }
        };
        let get = |k: &str| headers.iter().position(|h| h == k).and_then(|i| rec.get(i)).map(|v| v.trim().to_owned());
        if let Some(a) = from_fields(line, &get, '|', &mut problems) {
            out.push(a);
        }
    }
    (out, problems)
}

/// Whether `user` may write an article owned by `unit`: an admin any; a unit admin those
/// of their unit and the units below it.
pub fn may_edit(state: &AppState, user: &CurrentUser, unit: Option<&UnitCode>) -> bool {
    if user.actor.has(Role::Admin) {
        return true;
    }
    if !user.actor.has(Role::UnitAdmin) {
        return false;
    }
    let (Some(mine), Some(unit)) = (user.actor.unit.as_ref(), unit) else { return false };
    state.directory().subtree(mine).contains(unit)
}

/// Checks and writes articles read from a file or a form: all or none.
pub async fn write_articles(
    state: &AppState,
    user: &CurrentUser,
    items: Vec<(String, Article, bool, Option<i64>)>,
    mut problems: Vec<String>,
) -> Result<lianxin_store::ArticleImport, ApiError> {
    if !user.actor.has_any(&[Role::Admin, Role::UnitAdmin]) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_role",
            "only an admin or a unit admin may edit the knowledge base",
        ));
    }
    let dir = state.directory();
    let mut seen = std::collections::BTreeSet::new();
    for (i, (id, a, _, _)) in items.iter().enumerate() {
        let mut errs = FieldErrors::new();
        a.check(&dir, &mut errs);
        for (k, m) in errs.into_map() {
            problems.push(format!("{}: {k}: {m}", i + 1));
        }
        if !seen.insert(id.clone()) {
            problems.push(format!("{}: the id `{id}` (or the same title) comes twice", i + 1));
        }
        if !may_edit(state, user, a.unit.as_ref()) {
            problems.push(format!("{}: unit: you may only write articles of your own unit", i + 1));
        } else if let Some(old) = state.store().article(id).await?
            && !may_edit(state, user, old.article.unit.as_ref())
        {
            problems.push(format!("{}: the article `{id}` belongs to another unit", i + 1));
        }
    }
    if !problems.is_empty() {
        let mut errs = FieldErrors::new();
        errs.add("articles", problems.join("; "));
        return Err(ApiError::invalid(errs.into_map()));
    }
    let done = state.store().put_articles(&items, user.actor.username.as_str(), state.now()).await?;
    reload_texts(state).await;
    Ok(done)
}

/// Today's local date, `YYYY-MM-DD`.
pub fn today(state: &AppState) -> String {
    state.calendar().local_date(state.now()).format("%Y-%m-%d").to_string()
}

/// Rebuilds the in-memory text index from the database (after any change of these texts,
/// and at start).
pub async fn reload_texts(state: &AppState) {
    if let Err(e) = try_reload(state).await {
        tracing::warn!(error = %e, "the intake texts were not indexed");
    }
}

async fn try_reload(state: &AppState) -> anyhow::Result<()> {
    let store = state.store();
    let articles = store.articles().await?;
    let templates = store.templates().await?;
    let referrals = store.referrals().await?;
    let announcements = store.announcements(None).await?;
    let dir = state.directory();
    let kb: Vec<TextDoc> = articles
        .iter()
        .filter(|a| a.active)
        .map(|a| TextDoc {
            kind: "kb".into(),
            id: a.id.clone(),
            title: a.article.title.clone(),
            // Snippets show the text as read out: without the Markdown marks.
            body: a.article.body.replace("**", ""),
            categories: a.article.categories.iter().map(|c| c.to_string()).collect(),
            tags: a.article.tags.clone(),
        })
        .collect();
    let tp: Vec<TextDoc> = templates
        .iter()
        .map(|t| {
            let cat = dir.category(&t.category).map(|c| c.name.clone()).unwrap_or_default();
            TextDoc {
                kind: "template".into(),
                id: t.category.to_string(),
                title: format!("{} {cat}", t.name),
                body: t.body.clone(),
                categories: vec![t.category.to_string()],
                tags: Vec::new(),
            }
        })
        .collect();
    let rf: Vec<TextDoc> = referrals
        .iter()
        .filter(|r| r.2)
        .map(|(id, r, _)| TextDoc {
            kind: "referral".into(),
            id: id.clone(),
            title: r.name.clone(),
            body: r.handles.clone(),
            categories: Vec::new(),
            tags: r.keywords.clone(),
        })
        .collect();
    let an: Vec<TextDoc> = announcements
        .iter()
        .map(|(id, a)| TextDoc {
            kind: "announcement".into(),
            id: id.clone(),
            title: a.title.clone(),
            body: a.body.clone(),
            categories: Vec::new(),
            tags: Vec::new(),
        })
        .collect();
    let search = state.search();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        search.texts.replace("kb", &kb)?;
        search.texts.replace("template", &tp)?;
        search.texts.replace("referral", &rf)?;
        search.texts.replace("announcement", &an)?;
        Ok(())
    })
    .await??;
    Ok(())
}

/// An article found by a search.
#[derive(Debug, Clone)]
pub struct FoundArticle {
    pub stored: StoredArticle,
    pub snippet: lianxin_search::Snippet,
    pub score: f32,
    pub valid: bool,
}

/// Searches the knowledge base: every word with `all`, else the caller's words ranked by
/// how many match; the caller's category first. Articles out of their validity come last
/// and say so.
pub async fn search_articles(
    state: &AppState,
    q: &str,
    all: bool,
    category: Option<&str>,
    limit: usize,
) -> Result<Vec<FoundArticle>, ApiError> {
    let search = state.search();
    let (q2, cat) = (q.to_owned(), category.map(str::to_owned));
    let hits = tokio::task::spawn_blocking(move || {
        search.texts.search("kb", &q2, all, &search.synonyms(), cat.as_deref(), limit)
    })
    .await
    .map_err(|_| unavailable())?
    .map_err(|_| unavailable())?;
    let today = today(state);
    let mut out = Vec::new();
    // Words of a caller's story match loosely: keep what is near the best answer.
    let floor = if all { 0.0 } else { hits.first().map(|h| h.score * 0.35).unwrap_or(0.0) };
    for h in hits.into_iter().filter(|h| h.score >= floor) {
        if let Some(a) = state.store().article(&h.id).await?
            && a.active
        {
            let valid = a.article.valid_on(&today);
            out.push(FoundArticle { stored: a, snippet: h.snippet, score: h.score, valid });
        }
    }
    out.sort_by_key(|f| !f.valid);
    Ok(out)
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "search_unavailable",
        "the search index is unavailable; try again shortly",
    )
}

/// Whether a date of a form is fine (`YYYY-MM-DD` or empty).
pub fn day_or_empty(v: &str) -> bool {
    v.is_empty() || is_day(v)
}
