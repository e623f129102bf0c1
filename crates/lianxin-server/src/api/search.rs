//! Search: orders (scoped like the order list), and the city's search vocabulary.

use crate::auth::CurrentUser;
use crate::body::{Fields, JsonObject, Params};
use crate::error::ApiError;
use crate::search::SearchStatus;
use crate::state::AppState;
use crate::views::OrderOut;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lianxin_domain::Role;
use lianxin_domain::error::FieldErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A piece of the order's text with the query's words marked.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnippetOut {
    pub text: String,
    /// `[start, end)` character offsets into `text` of each marked word.
    #[schema(value_type = Vec<Vec<u32>>)]
    pub highlights: Vec<(usize, usize)>,
}

/// A found order: the order as the order list shows it, with the snippet and its score.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundOrder {
    #[serde(flatten)]
    pub order: OrderOut,
    pub snippet: SnippetOut,
    /// The relevance score (0 when sorted by time).
    pub score: f32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<FoundOrder>,
    /// Orders matching within scope and filters.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
}

/// Full-text search of the orders the caller may see.
#[utoipa::path(get, path = "/api/v1/search/orders", tag = "search", operation_id = "search_orders",
    params(("q" = String, Query, description = "The words; every word must match (as a word, a synonym, or its characters in a row)"),
        ("sort" = Option<String>, Query, description = "`relevance` (default) or `newest`"),
        ("status" = Option<String>, Query, description = "comma-separated statuses"),
        ("category" = Option<String>, Query, description = "a category; a group selects its leaves"),
        ("unit" = Option<String>, Query, description = "led or assisted by this unit"), ("lead_unit" = Option<String>, Query, description = "led by this unit (the KPIs' unit)"), ("street" = Option<String>, Query), ("district" = Option<String>, Query, description = "orders located in this district"),
        ("request_type" = Option<String>, Query), ("channel" = Option<String>, Query),
        ("created_from" = Option<String>, Query, description = "RFC 3339, inclusive"),
        ("created_to" = Option<String>, Query, description = "RFC 3339, exclusive"),
        ("offset" = Option<usize>, Query, maximum = 10000), ("limit" = Option<usize>, Query, minimum = 1, description = "default 20; larger than 100 is 100")),
    responses((status = 200, description = "The best matches first (or the newest)", body = SearchResults),
              (status = 422, description = "No `q`, or a bad filter, every one named")),
    security(("bearer" = [])))]
pub async fn orders(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<SearchResults>, ApiError> {
    let p = crate::search::parse_search(&params.0, &state.directory())?;
    let page = crate::search::search_orders(&state, &user, &p).await?;
    let orders: Vec<_> = page.items.iter().map(|f| f.order.clone()).collect();
    let views = crate::service::render(&state, &user, &orders, "search_orders").await;
    let items = views
        .into_iter()
        .zip(page.items)
        .map(|(order, f)| FoundOrder {
            order,
            snippet: SnippetOut { text: f.snippet.text, highlights: f.snippet.highlights },
            score: f.score,
        })
        .collect();
    Ok(Json(SearchResults { items, total: page.total, offset: page.offset, limit: page.limit }))
}

/// Where the order index stands against the database.
#[utoipa::path(get, path = "/api/v1/search/status", tag = "search", operation_id = "search_status",
    responses((status = 200, description = "Where the index stands", body = SearchStatus)), security(("bearer" = [])))]
pub async fn status(State(state): State<AppState>, _user: CurrentUser) -> Result<Json<SearchStatus>, ApiError> {
    let s = state.search().status_now(state.store()).await.map_err(|e| {
        tracing::warn!(error = %e, "search status");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable; try again shortly",
        )
    })?;
    Ok(Json(s))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SynonymGroup {
    pub id: String,
    pub words: Vec<String>,
}

/// The city's own dictionary words and synonyms.
#[derive(Debug, Serialize, ToSchema)]
pub struct VocabularyOut {
    pub words: Vec<String>,
    pub synonyms: Vec<SynonymGroup>,
}

/// Words to add: to the dictionary (kept whole) or as one synonym group.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WordsIn {
    #[schema(min_items = 1, max_items = 100)]
    pub words: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupCreated {
    pub id: String,
}

async fn vocabulary_out(state: &AppState) -> Result<VocabularyOut, ApiError> {
    let v = state.store().vocabulary().await?;
    Ok(VocabularyOut {
        words: v.words,
        synonyms: v.synonyms.into_iter().map(|(id, words)| SynonymGroup { id, words }).collect(),
    })
}

/// The city's search vocabulary (admin).
#[utoipa::path(get, path = "/api/v1/search/vocabulary", tag = "search", operation_id = "get_vocabulary",
    responses((status = 200, description = "The vocabulary now", body = VocabularyOut), (status = 403, description = "Admins only")),
    security(("bearer" = [])))]
pub async fn vocabulary(State(state): State<AppState>, user: CurrentUser) -> Result<Json<VocabularyOut>, ApiError> {
    user.require(&[Role::Admin], "only an admin may see and change the search vocabulary")?;
    Ok(Json(vocabulary_out(&state).await?))
}

/// Reads `words`: 1 to 100 words of 1 to 20 characters, no spaces; each once.
fn read_words(obj: &serde_json::Map<String, serde_json::Value>, min: usize) -> Result<Vec<String>, ApiError> {
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    if !obj.contains_key("words") {
        errs.add("words", "is required: a list of words");
    }
    let mut words: Vec<String> = Vec::new();
    for w in f.string_list("words", &mut errs) {
        let w = w.trim().to_lowercase();
        let n = w.chars().count();
        if n == 0 || n > 20 || w.chars().any(char::is_whitespace) {
            errs.add("words", format!("`{w}` must be one word of 1 to 20 characters, without spaces"));
        } else if !words.contains(&w) {
            words.push(w);
        }
    }
    if errs.is_empty() && words.len() < min {
        errs.add("words", format!("must hold at least {min} different words"));
    }
    if words.len() > 100 {
        errs.add("words", "at most 100 words at a time");
    }
    errs.finish()?;
    Ok(words)
}

/// Add words to the city's dictionary (admin): jieba keeps each whole. The index is
/// rebuilt with them in the background.
#[utoipa::path(post, path = "/api/v1/search/words", tag = "search", operation_id = "add_search_words",
    request_body = WordsIn,
    responses((status = 200, description = "The vocabulary now", body = VocabularyOut),
              (status = 403, description = "Admins only"), (status = 422, description = "Not a list of words")),
    security(("bearer" = [])))]
pub async fn add_words(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<VocabularyOut>, ApiError> {
    user.require(&[Role::Admin], "only an admin may see and change the search vocabulary")?;
    let words = read_words(&obj, 1)?;
    state.store().add_search_words(&words, user.actor.username.as_str(), state.now()).await?;
    refresh(&state).await;
    Ok(Json(vocabulary_out(&state).await?))
}

/// Remove a word from the city's dictionary (admin).
#[utoipa::path(delete, path = "/api/v1/search/words/{word}", tag = "search", operation_id = "remove_search_word",
    params(("word" = String, Path)),
    responses((status = 200, description = "The vocabulary now", body = VocabularyOut), (status = 403, description = "Admins only"),
              (status = 404, description = "No such word")),
    security(("bearer" = [])))]
pub async fn remove_word(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(word): Path<String>,
) -> Result<Json<VocabularyOut>, ApiError> {
    user.require(&[Role::Admin], "only an admin may see and change the search vocabulary")?;
    if !state.store().remove_search_word(&word.to_lowercase()).await? {
        return Err(ApiError::not_found(format!("`{word}` is not one of the city's words")));
    }
    refresh(&state).await;
    Ok(Json(vocabulary_out(&state).await?))
}

/// Make words synonyms (admin): a search for one finds the others (摆摊 ≈ 占道经营).
#[utoipa::path(post, path = "/api/v1/search/synonyms", tag = "search", operation_id = "add_synonyms",
    request_body = WordsIn,
    responses((status = 201, description = "The group's id", body = GroupCreated),
              (status = 403, description = "Admins only"), (status = 422, description = "Fewer than two words")),
    security(("bearer" = [])))]
pub async fn add_synonyms(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<(StatusCode, Json<GroupCreated>), ApiError> {
    user.require(&[Role::Admin], "only an admin may see and change the search vocabulary")?;
    let words = read_words(&obj, 2)?;
    let id = format!("g{}", &crate::auth::new_token()[..10]);
    state.store().add_synonyms(&id, &words, user.actor.username.as_str(), state.now()).await?;
    refresh(&state).await;
    Ok((StatusCode::CREATED, Json(GroupCreated { id })))
}

/// Remove a synonym group (admin).
#[utoipa::path(delete, path = "/api/v1/search/synonyms/{id}", tag = "search", operation_id = "remove_synonyms",
    params(("id" = String, Path)),
    responses((status = 200, description = "The vocabulary now", body = VocabularyOut), (status = 403, description = "Admins only"),
              (status = 404, description = "No such group")),
    security(("bearer" = [])))]
pub async fn remove_synonyms(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<VocabularyOut>, ApiError> {
    user.require(&[Role::Admin], "only an admin may see and change the search vocabulary")?;
    if !state.store().remove_synonyms(&id).await? {
        return Err(ApiError::not_found(format!("no synonym group `{id}`")));
    }
    refresh(&state).await;
    Ok(Json(vocabulary_out(&state).await?))
}

async fn refresh(state: &AppState) {
    if let Err(e) = state.search().refresh_vocabulary(state.store()).await {
        tracing::warn!(error = %e, "search vocabulary not reloaded");
    }
}
