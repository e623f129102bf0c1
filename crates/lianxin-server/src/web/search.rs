//! The console's full-text search (全文检索): the words, the order list's filters, ranked
//! or newest first, snippets with the words marked; j/k and Enter move through the hits.

use super::i18n::Tr;
use super::page::{Page, html};
use super::page_for;
use super::queues::{Filters, href, page_no, search_filter};
use super::session::Console;
use super::view::{Row, rows};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lianxin_domain::*;

#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchForm {
    q: Option<String>,
    sort: Option<String>,
    status: Option<String>,
    request_type: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    created_from: Option<String>,
    created_to: Option<String>,
    page: Option<String>,
}

/// One hit: the order's row and its snippet as HTML (escaped, words in `<mark>`).
pub(super) struct HitRow {
    pub row: Row,
    pub snippet_html: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    p: Page,
    t: Tr,
    q: String,
    q_error: String,
    sort: String,
    f: Filters,
    searched: bool,
    hits: Vec<HitRow>,
    total: usize,
    page: usize,
    pages: usize,
    prev_href: String,
    next_href: String,
}

/// Results a page.
const PER_PAGE: usize = 20;

pub async fn page(State(state): State<AppState>, c: Console, Query(form): Query<SearchForm>) -> Response {
    let t = c.t();
    let val = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let dir = state.directory();
    let mut cats: Vec<&lianxin_domain::reference::Category> = dir.categories().filter(|x| x.parent.is_none()).collect();
    cats.sort_by_key(|x| (x.position, x.code.clone()));
    let mut f = Filters {
        status: val(&form.status),
        request_type: val(&form.request_type),
        category: val(&form.category),
        channel: val(&form.channel),
        created_from: val(&form.created_from),
        created_to: val(&form.created_to),
        statuses: Status::ALL.iter().map(|s| (s.as_str().to_owned(), t.status(s.as_str()))).collect(),
        request_types: RequestType::ALL.iter().map(|s| (s.as_str().to_owned(), t.request_type(s.as_str()))).collect(),
        categories: cats.iter().map(|x| (x.code.to_string(), x.name.clone())).collect(),
        channels: Channel::ALL.iter().map(|s| (s.as_str().to_owned(), t.channel(s.as_str()))).collect(),
        ..Filters::default()
    };
    drop(dir);
    let q = val(&form.q);
    let sort = if val(&form.sort) == "newest" { "newest".to_owned() } else { "relevance".to_owned() };
    let filter = search_filter(t, &state, &mut f);
    let mut q_error = String::new();
    if q.chars().count() > crate::search::MAX_QUERY {
        q_error = t.s("fts.too_long").to_owned();
    }
    let page = page_no(&form.page).clamp(1, (crate::search::MAX_OFFSET / PER_PAGE) as i64) as usize;
    let mut out = SearchPage {
        p: page_for(&state, &c, t.s("nav.search")),
        t,
        q: q.clone(),
        q_error: q_error.clone(),
        sort: sort.clone(),
        f,
        searched: false,
        hits: Vec::new(),
        total: 0,
        page,
        pages: 1,
        prev_href: String::new(),
        next_href: String::new(),
    };
    let Some(filter) = filter.filter(|_| q_error.is_empty()) else {
        return html(StatusCode::UNPROCESSABLE_ENTITY, &out);
    };
    if q.is_empty() {
        return html(StatusCode::OK, &out);
    }
    let params = crate::search::SearchParams {
        q: q.clone(),
        sort: if sort == "newest" { lianxin_search::Sort::Newest } else { lianxin_search::Sort::Relevance },
        offset: (page - 1) * PER_PAGE,
        limit: PER_PAGE,
        filter,
    };
    let found = match crate::search::search_orders(&state, &c.user, &params).await {
        Ok(f) => f,
        Err(e) => return super::page::page_error(&out.p, &e),
    };
    let orders: Vec<Order> = found.items.iter().map(|f| f.order.clone()).collect();
    let rs = rows(&state, &c, &orders, "search_orders").await;
    out.hits =
        rs.into_iter().zip(found.items).map(|(row, f)| HitRow { row, snippet_html: f.snippet.to_html() }).collect();
    out.searched = true;
    out.total = found.total;
    out.pages = found.total.div_ceil(PER_PAGE).clamp(1, crate::search::MAX_OFFSET / PER_PAGE);
    let keep = |p: usize| -> Vec<(&'static str, String)> {
        vec![
            ("q", q.clone()),
            ("sort", if sort == "newest" { sort.clone() } else { String::new() }),
            ("status", out.f.status.clone()),
            ("request_type", out.f.request_type.clone()),
            ("category", out.f.category.clone()),
            ("channel", out.f.channel.clone()),
            ("created_from", out.f.created_from.clone()),
            ("created_to", out.f.created_to.clone()),
            ("page", p.to_string()),
        ]
    };
    if page > 1 {
        out.prev_href = href("/console/search", &keep(page - 1));
    }
    if page < out.pages {
        out.next_href = href("/console/search", &keep(page + 1));
    }
    html(StatusCode::OK, &out)
}
