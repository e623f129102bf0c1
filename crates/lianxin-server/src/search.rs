//! The server's search: the order index following the database's change sequence, the
//! city's vocabulary, and the texts read at intake. The database stays the source of
//! truth: every hit is read back from it within the caller's scope before it is shown.

use crate::state::AppState;
use lianxin_domain::Order;
use lianxin_search::{IndexState, OrderDoc, OrderIndex, SCHEMA_VERSION, Synonyms, TextIndex, Words};
use lianxin_store::Store;
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Orders read from the database per step (one index commit each).
const STEP: i64 = 2000;

/// How long the follower sleeps when nothing happened in this process (changes committed
/// by another process are found by this poll).
const POLL: Duration = Duration::from_millis(200);

/// Where the order index lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexLocation {
    Memory,
    Dir(PathBuf),
}

impl IndexLocation {
    /// `--index-dir` when given; else next to a SQLite file (`FILE.index`); else in memory
    /// (rebuilt on every start: give `--index-dir` on PostgreSQL).
    pub fn resolve(index_dir: Option<&Path>, database_url: &str) -> IndexLocation {
        if let Some(d) = index_dir {
            return IndexLocation::Dir(d.to_owned());
        }
        if let Some(rest) = database_url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or("");
            if !path.is_empty() && path != ":memory:" {
                return IndexLocation::Dir(PathBuf::from(format!("{path}.index")));
            }
        }
        IndexLocation::Memory
    }
}

/// The search side of a running server.
pub struct Search {
    pub orders: OrderIndex,
    pub texts: TextIndex,
    synonyms: RwLock<Arc<Synonyms>>,
    /// The fingerprint of the city's words the index was built with.
    words_fp: RwLock<String>,
    /// The last change applied.
    applied: AtomicI64,
    /// The database's head when last looked at.
    head: AtomicI64,
    rebuilding: AtomicBool,
    /// Whole rebuilds since the server started.
    rebuilds: std::sync::atomic::AtomicU64,
    location: IndexLocation,
    /// Wakes the follower (the vocabulary changed).
    wake: tokio::sync::Notify,
}

/// What `GET /api/v1/search/status` says.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SearchStatus {
    /// Orders in the index.
    pub indexed: u64,
    /// The last change of the database the index holds.
    pub seq: i64,
    /// The database's last change when last looked at.
    pub head: i64,
    pub rebuilding: bool,
    /// Whole rebuilds since the server started (0 when it caught up from where it stood).
    pub rebuilds: u64,
    /// The index holds every change of the database, segmented with the current words.
    pub current: bool,
    /// `memory` or the index directory.
    pub location: String,
}

impl Search {
    pub fn open(location: IndexLocation) -> anyhow::Result<Search> {
        let words = Words::new();
        let dir = match &location {
            IndexLocation::Memory => None,
            IndexLocation::Dir(d) => Some(d.as_path()),
        };
        let orders = OrderIndex::open(dir, words.clone())?;
        let texts = TextIndex::new(words)?;
        Ok(Search {
            orders,
            texts,
            synonyms: RwLock::new(Arc::new(Synonyms::default())),
            words_fp: RwLock::new(fingerprint(&[])),
            applied: AtomicI64::new(-1),
            head: AtomicI64::new(0),
            rebuilding: AtomicBool::new(false),
            rebuilds: std::sync::atomic::AtomicU64::new(0),
            location,
            wake: tokio::sync::Notify::new(),
        })
    }

    pub fn synonyms(&self) -> Arc<Synonyms> {
        match self.synonyms.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn words_fp(&self) -> String {
        match self.words_fp.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Where the index stands against the database's head now.
    pub async fn status_now(&self, store: &Store) -> anyhow::Result<SearchStatus> {
        let head = store.change_head().await?;
        self.head.store(head, Ordering::Relaxed);
        Ok(self.status())
    }

    pub fn status(&self) -> SearchStatus {
        SearchStatus {
            indexed: self.orders.len(),
            seq: self.orders.state().map(|s| s.seq).unwrap_or(0),
            head: self.head.load(Ordering::Relaxed),
            rebuilding: self.rebuilding.load(Ordering::Relaxed),
            rebuilds: self.rebuilds.load(Ordering::Relaxed),
            current: !self.rebuilding.load(Ordering::Relaxed)
                && self
                    .orders
                    .state()
                    .is_some_and(|s| s.seq >= self.head.load(Ordering::Relaxed) && s.words == self.words_fp()),
            location: match &self.location {
                IndexLocation::Memory => "memory".into(),
                IndexLocation::Dir(d) => d.display().to_string(),
            },
        }
    }

    /// Reads the city's words and synonyms again; true when the words changed (the index
    /// must then be rebuilt with them).
    pub async fn refresh_vocabulary(&self, store: &Store) -> anyhow::Result<bool> {
        let v = store.vocabulary().await?;
        let synonyms = Synonyms::new(v.synonyms.iter().map(|(_, ws)| ws.clone()));
        match self.synonyms.write() {
            Ok(mut s) => *s = Arc::new(synonyms),
            Err(p) => *p.into_inner() = Arc::new(synonyms),
        }
        let fp = fingerprint(&v.words);
        if fp == self.words_fp() {
            return Ok(false);
        }
        self.orders.words().set_city_words(&v.words);
        match self.words_fp.write() {
            Ok(mut s) => *s = fp,
            Err(p) => *p.into_inner() = fp,
        }
        self.wake.notify_one();
        Ok(true)
    }
}

/// A stable fingerprint of a word list.
fn fingerprint(words: &[String]) -> String {
    let mut h = sha2::Sha256::new();
    for w in words {
        h.update(w.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// What an order contributes to the index.
pub fn doc_of(o: &Order) -> OrderDoc {
    let i = &o.intake;
    let mut text = String::with_capacity(i.title.len() + i.content.len() + 64);
    // A title made from the content's first words (ending in …) adds nothing.
    let stem = i.title.trim().trim_end_matches('…');
    let title = (!i.content.contains(stem)).then_some(i.title.as_str());
    for part in
        [title, Some(i.content.as_str()), i.location.address.as_deref(), o.reply.as_ref().map(|r| r.content.as_str())]
            .into_iter()
            .flatten()
    {
        let part = part.trim();
        if part.is_empty() || text.contains(part) {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(part);
    }
    let mut units: Vec<String> = o.lead_unit.iter().map(|u| u.to_string()).collect();
    units.extend(o.assisting_units.iter().map(|u| u.to_string()));
    OrderDoc {
        number: o.number.to_string(),
        text,
        status: o.status.as_str().to_owned(),
        category: i.category.to_string(),
        request_type: i.request_type.as_str().to_owned(),
        channel: i.channel.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        street: i.location.street.as_ref().map(|s| s.to_string()),
        district: i.location.district.as_ref().map(|d| d.to_string()),
        lead_unit: o.lead_unit.as_ref().map(|u| u.to_string()),
        units,
        confidential: i.caller.confidential,
        created_at: o.created_at,
    }
}

/// Brings the index up to the database: rebuilds it when it is missing, from another
/// database, built with other words, or ahead of the database; else applies the changes
/// after its position. Returns whether more changes may be waiting.
pub async fn step(search: &Arc<Search>, store: &Store) -> anyhow::Result<bool> {
    let db = store.instance_id().await?;
    let head = store.change_head().await?;
    search.head.store(head, Ordering::Relaxed);
    let words = search.words_fp();
    let state = search.orders.state();
    let fresh = match &state {
        Some(s) => s.db == db && s.words == words && s.seq <= head && s.schema == SCHEMA_VERSION,
        None => false,
    };
    if !fresh {
        rebuild(search, store, db, words, head).await?;
        return Ok(true);
    }
    let Some(state) = state else { return Ok(false) };
    if state.seq >= head {
        search.applied.store(state.seq, Ordering::Relaxed);
        return Ok(false);
    }
    let changes = store.changes_after(state.seq, STEP).await?;
    let more = changes.len() as i64 == STEP;
    // Every change up to `head` was committed before `head` was read, so a read that
    // ended short of STEP holds them all: the index stands at `head` even when the last
    // numbers were taken by actions that lost a race and wrote nothing.
    let last = match (more, changes.last()) {
        (true, Some(c)) => c.seq,
        (false, Some(c)) => c.seq.max(head),
        (_, None) => head,
    };
    let docs: Vec<OrderDoc> = changes.iter().map(|c| doc_of(&c.order)).collect();
    let next = IndexState { seq: last, ..state };
    let s = search.clone();
    tokio::task::spawn_blocking(move || s.orders.apply(&docs, &next)).await??;
    search.applied.store(last, Ordering::Relaxed);
    metrics::counter!("lianxin_search_indexed_total").increment(changes.len() as u64);
    Ok(more)
}

/// Rebuilds the whole order index from the database, at change `head` (read before the
/// orders, so every later change is applied after).
async fn rebuild(search: &Arc<Search>, store: &Store, db: String, words: String, head: i64) -> anyhow::Result<()> {
    search.rebuilding.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<OrderDoc>>(2);
    let s = search.clone();
    let state = IndexState { schema: SCHEMA_VERSION, db, seq: head, words };
    let writer = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let mut r = s.orders.rebuild()?;
        while let Some(docs) = rx.blocking_recv() {
            r.add(&docs)?;
        }
        Ok(r.finish(&state)?)
    });
    let mut after = String::new();
    let read = async {
        loop {
            let page = store.orders_after(&after, STEP).await?;
            let Some(last) = page.last() else { break };
            after = last.number.to_string();
            if tx.send(page.iter().map(doc_of).collect()).await.is_err() {
                break;
            }
        }
        anyhow::Ok(())
    }
    .await;
    drop(tx);
    let n = writer.await?;
    search.rebuilding.store(false, Ordering::Relaxed);
    read?;
    let n = n?;
    search.applied.store(head, Ordering::Relaxed);
    search.rebuilds.fetch_add(1, Ordering::Relaxed);
    tracing::info!(orders = n, seconds = started.elapsed().as_secs_f64(), "search index rebuilt");
    Ok(())
}

/// Rebuilds the index at `location` from scratch (`lianxin reindex`); returns how many
/// orders it holds.
pub async fn reindex(store: &Store, location: IndexLocation) -> anyhow::Result<u64> {
    let search = Arc::new(Search::open(location)?);
    search.refresh_vocabulary(store).await?;
    let db = store.instance_id().await?;
    let head = store.change_head().await?;
    rebuild(&search, store, db, search.words_fp(), head).await?;
    let n = search.orders.len();
    // The command exits next: let tantivy's merges finish rather than abandon them.
    if let Ok(search) = Arc::try_unwrap(search) {
        tokio::task::spawn_blocking(move || search.orders.close()).await??;
    }
    Ok(n)
}

/// The follower: keeps the index up to the database until the server stops.
pub fn spawn_follower(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let search = state.search();
        let store = state.store().clone();
        let mut vocabulary_at = Instant::now() - Duration::from_secs(60);
        loop {
            if *stop.borrow() {
                break;
            }
            // Another process may have changed the vocabulary: look every few seconds.
            if vocabulary_at.elapsed() > Duration::from_secs(3) {
                vocabulary_at = Instant::now();
                if let Err(e) = search.refresh_vocabulary(&store).await {
                    tracing::warn!(error = %e, "search vocabulary not read");
                }
            }
            let more = match step(&search, &store).await {
                Ok(more) => more,
                Err(e) => {
                    tracing::warn!(error = %e, "search index not updated; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    false
                }
            };
            if more {
                continue;
            }
            tokio::select! {
                _ = store.changed(POLL) => {}
                _ = search.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    })
}

/// One found order, read back from the database.
#[derive(Debug, Clone)]
pub struct Found {
    pub order: Order,
    pub score: f32,
    pub snippet: lianxin_search::Snippet,
}

/// A page of search results.
#[derive(Debug, Clone)]
pub struct FoundPage {
    pub items: Vec<Found>,
    /// Orders matching within scope and filters (the index's count).
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
}

/// Longest query a search takes.
pub const MAX_QUERY: usize = 200;
/// Deepest a search pages.
pub const MAX_OFFSET: usize = 10_000;

/// The order list's filters in the index's terms.
pub fn index_filter(f: &lianxin_store::OrderFilter) -> lianxin_search::Filter {
    lianxin_search::Filter {
        statuses: f.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        categories: f.categories.iter().map(|c| c.to_string()).collect(),
        unit: f.unit.as_ref().map(|u| u.to_string()),
        lead_unit: f.lead_unit.as_ref().map(|u| u.to_string()),
        street: f.street.as_ref().map(|s| s.to_string()),
        district: f.district.as_ref().map(|d| d.to_string()),
        request_type: f.request_type.map(|t| t.as_str().to_owned()),
        channel: f.channel.map(|c| c.as_str().to_owned()),
        created_from: f.created_from,
        created_to: f.created_to,
        hide_confidential: f.hide_confidential,
    }
}

/// Parameters of an order search besides the list's filters.
#[derive(Debug, Clone)]
pub struct SearchParams {
    pub q: String,
    pub sort: lianxin_search::Sort,
    pub offset: usize,
    pub limit: usize,
    pub filter: lianxin_store::OrderFilter,
}

/// Reads `q`, `sort`, `offset`, `limit` and the order list's filters; every bad value named.
pub fn parse_search(
    params: &[(String, String)],
    dir: &lianxin_domain::reference::Directory,
) -> Result<SearchParams, crate::error::ApiError> {
    let mut errs = lianxin_domain::error::FieldErrors::new();
    let mut out = SearchParams {
        q: String::new(),
        sort: lianxin_search::Sort::Relevance,
        offset: 0,
        limit: 20,
        filter: Default::default(),
    };
    let mut rest = Vec::new();
    for (k, v) in params {
        let v = v.trim();
        match k.as_str() {
            "q" => out.q = v.to_owned(),
            "sort" => match v {
                "" | "relevance" => out.sort = lianxin_search::Sort::Relevance,
                "newest" => out.sort = lianxin_search::Sort::Newest,
                _ => errs.add("sort", "must be `relevance` or `newest`"),
            },
            "offset" => match v.parse::<usize>() {
                Ok(n) if n <= MAX_OFFSET => out.offset = n,
                _ => errs.add("offset", format!("must be a whole number from 0 to {MAX_OFFSET}")),
            },
            "limit" => match v.parse::<usize>() {
                Ok(n) if n >= 1 => out.limit = n.min(100),
                _ => errs.add("limit", "must be a whole number from 1 (larger than 100 counts as 100)"),
            },
            "cursor" => {}
            _ => rest.push((k.clone(), v.to_owned())),
        }
    }
    if out.q.is_empty() {
        errs.add("q", "is required: the words to search for");
    } else if out.q.chars().count() > MAX_QUERY {
        errs.add("q", format!("is longer than {MAX_QUERY} characters"));
    }
    let filter = match crate::service::parse_filter(&rest, dir) {
        Ok((f, _, _)) => Some(f),
        Err(e) => {
            for (k, m) in e.fields.unwrap_or_default() {
                errs.add(&k, m);
            }
            None
        }
    };
    errs.finish()?;
    out.filter = filter.unwrap_or_default();
    Ok(out)
}

/// Searches the orders within the user's scope: the index ranks, the database confirms
/// (an order whose scope or filters changed since it was indexed is left out).
pub async fn search_orders(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    p: &SearchParams,
) -> Result<FoundPage, crate::error::ApiError> {
    let dir = state.directory();
    let scope = lianxin_domain::scope::scope_of(&user.actor, &dir);
    let mut filter = p.filter.clone();
    if filter.phone.is_some() && !matches!(scope, lianxin_domain::scope::Scope::All) {
        filter.hide_confidential = true;
    }
    let search = state.search();
    let (q, sort, offset, limit) = (p.q.clone(), p.sort, p.offset, p.limit);
    let ix_filter = index_filter(&filter);
    let scope2 = scope.clone();
    let started = Instant::now();
    let hits = tokio::task::spawn_blocking(move || {
        search.orders.search(&q, &search.synonyms(), &scope2, &ix_filter, sort, offset, limit)
    })
    .await
    .map_err(|e| anyhow_to_api(e.into()))?
    .map_err(|e| anyhow_to_api(e.into()))?;
    metrics::histogram!("lianxin_search_seconds").record(started.elapsed().as_secs_f64());
    let numbers: Vec<String> = hits.hits.iter().map(|h| h.number.clone()).collect();
    let orders = state.store().orders_among(&scope, &filter, &numbers).await?;
    let mut by_number: std::collections::HashMap<String, Order> =
        orders.into_iter().map(|o| (o.number.to_string(), o)).collect();
    let items = hits
        .hits
        .into_iter()
        .filter_map(|h| by_number.remove(&h.number).map(|order| Found { order, score: h.score, snippet: h.snippet }))
        .collect();
    Ok(FoundPage { items, total: hits.total, offset: p.offset, limit: p.limit })
}

fn anyhow_to_api(e: anyhow::Error) -> crate::error::ApiError {
    tracing::error!(error = %e, "search failed");
    crate::error::ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "search_unavailable",
        "the search index is unavailable; try again shortly",
    )
}

/// An open order like the one being typed, and why.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SimilarOrder {
    pub number: String,
    /// 0..1: the share of the caller's words the order holds, plus 0.2 for the same
    /// street and 0.1 for the same category (at most 1).
    pub score: f64,
    /// The caller's words found in the order.
    pub shared_words: Vec<String>,
    pub same_street: bool,
    pub same_category: bool,
    pub title: String,
    pub status: String,
    pub snippet: String,
}

/// Lowest score a similar order is shown with.
pub const SIMILAR_FLOOR: f64 = 0.3;
/// How far back similar orders are looked for.
const SIMILAR_DAYS: i64 = 30;

/// Open orders of the last 30 days within the user's scope that look like `content`.
pub async fn similar_orders(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    content: &str,
    street: Option<&lianxin_domain::JurisdictionCode>,
    category: Option<&lianxin_domain::CategoryCode>,
    limit: usize,
) -> Result<Vec<SimilarOrder>, crate::error::ApiError> {
    let dir = state.directory();
    let scope = lianxin_domain::scope::scope_of(&user.actor, &dir);
    let open: Vec<lianxin_domain::Status> =
        lianxin_domain::Status::ALL.iter().copied().filter(|s| s.is_open()).collect();
    let filter = lianxin_store::OrderFilter {
        statuses: open,
        created_from: Some(state.now() - SIMILAR_DAYS * 86_400_000),
        ..Default::default()
    };
    let ix_filter = index_filter(&filter);
    let search = state.search();
    let (text, scope2) = (content.to_owned(), scope.clone());
    let found = tokio::task::spawn_blocking(move || {
        search.orders.similar(&text, &search.synonyms(), &scope2, &ix_filter, limit.max(1) * 2)
    })
    .await
    .map_err(|e| anyhow_to_api(e.into()))?
    .map_err(|e| anyhow_to_api(e.into()))?;
    let numbers: Vec<String> = found.iter().map(|f| f.number.clone()).collect();
    let orders = state.store().orders_among(&scope, &filter, &numbers).await?;
    let mut out = Vec::new();
    for f in found {
        let Some(o) = orders.iter().find(|o| o.number.as_str() == f.number) else { continue };
        let same_street = street.is_some_and(|s| o.intake.location.street.as_ref() == Some(s));
        let same_category = category.is_some_and(|c| &o.intake.category == c);
        let share = if f.of == 0 { 0.0 } else { f.shared_words.len() as f64 / f.of as f64 };
        let score = (share + if same_street { 0.2 } else { 0.0 } + if same_category { 0.1 } else { 0.0 }).min(1.0);
        if score < SIMILAR_FLOOR || f.shared_words.is_empty() {
            continue;
        }
        out.push(SimilarOrder {
            number: f.number,
            score: (score * 100.0).round() / 100.0,
            shared_words: f.shared_words,
            same_street,
            same_category,
            title: o.intake.title.clone(),
            status: o.status.as_str().to_owned(),
            snippet: f.snippet.text,
        });
    }
    out.sort_by(|a, b| b.score.partial_cmp(&a.score).unwrap_or(std::cmp::Ordering::Equal));
    out.truncate(limit);
    Ok(out)
}
