//! The work queues of each role, the supervisor board and the order search. Each is a
//! `service::list` query (scoped like the API) shown as rows with quick actions.

use super::i18n::Tr;
use super::page::{Page, html, page_error, refuse_page};
use super::page_for;
use super::session::{Console, enc};
use super::supervision::{Mark, mark};
use super::view::{Row, rows};
use crate::error::ApiError;
use crate::service;
use crate::service::Queue;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::*;

/// One table of a queue page.
struct Section {
    title: String,
    kind: &'static str,
    rows: Vec<Row>,
}

/// Filters of the order search, as given.
#[derive(Default)]
struct Filters {
    status: String,
    request_type: String,
    category: String,
    channel: String,
    statuses: Vec<(String, String)>,
    request_types: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    channels: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    p: Page,
    t: Tr,
    heading: String,
    sections: Vec<Section>,
    filters: Option<Filters>,
    next_href: String,
    first_href: String,
    return_to: &'static str,
    hint: String,
}

/// Up to `max` orders of a list query, following cursors.
async fn fetch(state: &AppState, c: &Console, params: &[(&str, &str)], max: usize) -> Result<Vec<Order>, ApiError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut p: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        p.push(("limit".into(), "200".into()));
        if let Some(cur) = &cursor {
            p.push(("cursor".into(), cur.clone()));
        }
        let page = service::list(state, &c.user, &p).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(n) if out.len() < max => cursor = Some(n),
            _ => break,
        }
    }
    out.truncate(max);
    Ok(out)
}

fn urgency_rank(u: Urgency) -> u8 {
    match u {
        Urgency::Emergency => 0,
        Urgency::Urgent => 1,
        Urgency::Normal => 2,
    }
}

/// Most urgent first, then oldest first: the order work is taken in.
fn work_order(orders: &mut [Order]) {
    orders.sort_by(|a, b| {
        (urgency_rank(a.intake.urgency), a.created_at, &a.number).cmp(&(
            urgency_rank(b.intake.urgency),
            b.created_at,
            &b.number,
        ))
    });
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
    n: Option<String>,
}

fn flash(t: Tr, q: &DoneQuery) -> Option<String> {
    let a = q.done.as_deref().filter(|a| Action::parse(a).is_some())?;
    let n = q.n.as_deref().filter(|n| OrderNumber::parse(n).is_ok()).unwrap_or("");
    Some(format!("{} · {} {n}", t.s(&format!("done.{a}")), t.s("order.title")))
}

async fn queue(
    state: &AppState,
    c: &Console,
    q: &DoneQuery,
    heading_key: &str,
    return_to: &'static str,
    sections: Vec<Section>,
    hint: String,
) -> Response {
    let t = c.t();
    let mut p = page_for(state, c, t.s(heading_key));
    p.flash = flash(t, q);
    let page = QueuePage {
        p,
        t,
        heading: t.s(heading_key).to_owned(),
        sections,
        filters: None,
        next_href: String::new(),
        first_href: String::new(),
        return_to,
        hint,
    };
    html(StatusCode::OK, &page)
}

fn failed(state: &AppState, c: &Console, e: &ApiError) -> Response {
    page_error(&page_for(state, c, ""), e)
}

/// `GET /console/registered`: the operator's orders not yet submitted (or sent back).
pub async fn registered(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    if let Some(e) = refuse_page(&c.user, "/console/registered") {
        return failed(&state, &c, &e);
    }
    let mut orders = match fetch(&state, &c, &[("status", "registered")], 200).await {
        Ok(o) => o,
        Err(e) => return failed(&state, &c, &e),
    };
    work_order(&mut orders);
    let rows = rows(&state, &c, &orders, "list_orders").await;
    let t = c.t();
    let sections = vec![Section { title: t.s("queue.registered").into(), kind: "registered", rows }];
    queue(&state, &c, &q, "queue.registered", "/console/registered", sections, String::new()).await
}

/// `GET /console/review`: orders in review.
pub async fn review(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    if let Some(e) = refuse_page(&c.user, "/console/review") {
        return failed(&state, &c, &e);
    }
    let mut orders = match fetch(&state, &c, &[("status", "in_review")], 200).await {
        Ok(o) => o,
        Err(e) => return failed(&state, &c, &e),
    };
    work_order(&mut orders);
    let rows = rows(&state, &c, &orders, "list_orders").await;
    let t = c.t();
    let sections = vec![Section { title: t.s("queue.review").into(), kind: "review", rows }];
    queue(&state, &c, &q, "queue.review", "/console/review", sections, t.s("queue.open_to_send_back").into()).await
}

/// `GET /console/dispatch`: orders awaiting dispatch (returned ones marked) and extension
/// requests awaiting a decision.
pub async fn dispatch(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    if let Some(e) = refuse_page(&c.user, "/console/dispatch") {
        return failed(&state, &c, &e);
    }
    let t = c.t();
    let mut pending = match fetch(&state, &c, &[("status", "pending_dispatch")], 200).await {
        Ok(o) => o,
        Err(e) => return failed(&state, &c, &e),
    };
    work_order(&mut pending);
    let mut prows = rows(&state, &c, &pending, "list_orders").await;
    // The reason of the latest return, for orders a unit sent back.
    for (o, r) in pending.iter().zip(prows.iter_mut()) {
        if o.returns > 0
            && let Ok(events) = service::events(&state, &c.user, o.number.as_str()).await
            && let Some(e) = events.iter().rev().find(|e| e.event.action() == Action::Return)
        {
            r.note = e.comment.clone().unwrap_or_default();
        }
    }
    let mut sections = vec![Section { title: t.s("queue.dispatch").into(), kind: "dispatch", rows: prows }];
    if c.user.actor.has_any(&[Role::Dispatcher, Role::Supervisor]) {
        let handling = match fetch(&state, &c, &[("status", "dispatched,in_progress")], 1000).await {
            Ok(o) => o,
            Err(e) => return failed(&state, &c, &e),
        };
        let ext: Vec<Order> = handling.into_iter().filter(|o| o.pending_extension.is_some()).collect();
        if !ext.is_empty() {
            let rows = rows(&state, &c, &ext, "list_orders").await;
            sections.push(Section { title: t.s("queue.extensions").into(), kind: "extensions", rows });
        }
    }
    queue(&state, &c, &q, "queue.dispatch", "/console/dispatch", sections, String::new()).await
}

/// `GET /console/inbox`: the signed-in unit's orders being handled.
pub async fn inbox(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    if let Some(e) = refuse_page(&c.user, "/console/inbox") {
        return failed(&state, &c, &e);
    }
    let t = c.t();
    let mut orders = match fetch(&state, &c, &[("status", "dispatched,in_progress")], 1000).await {
        Ok(o) => o,
        Err(e) => return failed(&state, &c, &e),
    };
    // Waiting to be signed first, then by deadline.
    orders.sort_by_key(|o| (o.status != Status::Dispatched, o.deadline.unwrap_or(i64::MAX), o.number.clone()));
    let all = rows(&state, &c, &orders, "list_orders").await;
    let (mine, other): (Vec<Row>, Vec<Row>) = all.into_iter().partition(|r| r.lead_is_mine);
    let mut sections = vec![Section { title: t.s("queue.inbox_lead").into(), kind: "inbox", rows: mine }];
    if !other.is_empty() {
        sections.push(Section { title: t.s("queue.inbox_other").into(), kind: "inbox_other", rows: other });
    }
    queue(&state, &c, &q, "nav.inbox", "/console/inbox", sections, String::new()).await
}

/// `GET /console/callback`: replied orders awaiting a callback.
pub async fn callback(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    if let Some(e) = refuse_page(&c.user, "/console/callback") {
        return failed(&state, &c, &e);
    }
    let t = c.t();
    let mut orders = match fetch(&state, &c, &[("status", "replied")], 200).await {
        Ok(o) => o,
        Err(e) => return failed(&state, &c, &e),
    };
    orders.sort_by_key(|o| (o.reply.as_ref().map(|r| r.at).unwrap_or(o.updated_at), o.number.clone()));
    let rows = rows(&state, &c, &orders, "list_orders").await;
    let sections = vec![Section { title: t.s("queue.callback").into(), kind: "callback", rows }];
    queue(&state, &c, &q, "queue.callback", "/console/callback", sections, String::new()).await
}

#[derive(Template)]
#[template(path = "supervise.html")]
struct SupervisePage {
    p: Page,
    t: Tr,
    rows: Vec<Row>,
    extensions: Vec<Row>,
    red: usize,
    yellow: usize,
    green: usize,
    show_all: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct BoardQuery {
    all: Option<String>,
    done: Option<String>,
    n: Option<String>,
}

/// `GET /console/supervise`: overdue (red) and at-risk (yellow) orders, worst first.
pub async fn supervise(State(state): State<AppState>, c: Console, Query(q): Query<BoardQuery>) -> Response {
    if let Some(e) = refuse_page(&c.user, "/console/supervise") {
        return failed(&state, &c, &e);
    }
    let t = c.t();
    let show_all = q.all.is_some();
    // Counts and rows come from the store's queue queries, so the board scales with the
    // number of marked orders, not with everything being handled.
    let board = async {
        let red = service::queue_len(&state, &c.user, Queue::Overdue).await? as usize;
        let yellow = service::queue_len(&state, &c.user, Queue::AtRisk).await? as usize;
        let handled = service::queue_len(&state, &c.user, Queue::Handled).await? as usize;
        let page = |queue| {
            let (state, user) = (&state, &c.user);
            async move {
                let p = [("limit".to_owned(), "200".to_owned())];
                service::queue(state, user, queue, &p).await.map(|p| p.items)
            }
        };
        let mut orders = page(Queue::Overdue).await?;
        orders.extend(page(Queue::AtRisk).await?);
        if show_all {
            let marked: std::collections::BTreeSet<_> = orders.iter().map(|o| o.number.clone()).collect();
            orders.extend(page(Queue::Handled).await?.into_iter().filter(|o| !marked.contains(&o.number)));
        }
        let pending = fetch(&state, &c, &[("status", "dispatched,in_progress")], 1000).await?;
        let ext: Vec<Order> = pending.into_iter().filter(|o| o.pending_extension.is_some()).collect();
        Ok::<_, ApiError>((red, yellow, handled.saturating_sub(red + yellow), orders, ext))
    };
    let (red, yellow, green, orders, extensions) = match board.await {
        Ok(b) => b,
        Err(e) => return failed(&state, &c, &e),
    };
    let extensions = rows(&state, &c, &extensions, "list_orders").await;
    let mut marked: Vec<(Mark, Order)> = orders.into_iter().filter_map(|o| mark(&state, &o).map(|m| (m, o))).collect();
    marked.sort_by_key(|(m, o)| (*m, o.deadline, o.number.clone()));
    marked.truncate(300);
    let orders: Vec<Order> = marked.into_iter().map(|(_, o)| o).collect();
    let rows = rows(&state, &c, &orders, "list_orders").await;
    let mut p = page_for(&state, &c, t.s("super.title"));
    p.flash = flash(t, &DoneQuery { done: q.done, n: q.n });
    html(StatusCode::OK, &SupervisePage { p, t, rows, extensions, red, yellow, green, show_all })
}

#[derive(serde::Deserialize, Default)]
pub struct SearchQuery {
    number: Option<String>,
    status: Option<String>,
    request_type: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    cursor: Option<String>,
}

/// `GET /console/orders`: find orders (newest first), or jump to one by number.
pub async fn orders(State(state): State<AppState>, c: Console, Query(q): Query<SearchQuery>) -> Response {
    let t = c.t();
    if let Some(n) = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        return Redirect::to(&format!(
            "/console/orders/{}",
            n.chars().filter(char::is_ascii_digit).collect::<String>()
        ))
        .into_response();
    }
    let get = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut params: Vec<(String, String)> = vec![("limit".into(), "50".into())];
    for (k, v) in [
        ("status", &q.status),
        ("request_type", &q.request_type),
        ("category", &q.category),
        ("channel", &q.channel),
        ("cursor", &q.cursor),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            params.push((k.into(), v.clone()));
        }
    }
    let page = match service::list(&state, &c.user, &params).await {
        Ok(p) => p,
        Err(e) => return failed(&state, &c, &e),
    };
    let rows = rows(&state, &c, &page.items, "list_orders").await;
    let dir = state.directory();
    let mut cats: Vec<&lianxin_domain::reference::Category> = dir.categories().filter(|x| x.parent.is_none()).collect();
    cats.sort_by_key(|x| (x.position, x.code.clone()));
    let filters = Filters {
        status: get(&q.status),
        request_type: get(&q.request_type),
        category: get(&q.category),
        channel: get(&q.channel),
        statuses: Status::ALL.iter().map(|s| (s.as_str().to_owned(), t.status(s.as_str()))).collect(),
        request_types: RequestType::ALL.iter().map(|s| (s.as_str().to_owned(), t.request_type(s.as_str()))).collect(),
        categories: cats.iter().map(|x| (x.code.to_string(), x.name.clone())).collect(),
        channels: Channel::ALL.iter().map(|s| (s.as_str().to_owned(), t.channel(s.as_str()))).collect(),
    };
    let base: Vec<String> =
        [("status", &q.status), ("request_type", &q.request_type), ("category", &q.category), ("channel", &q.channel)]
            .iter()
            .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", enc(v))))
            .collect();
    let first_href = if q.cursor.is_some() { format!("/console/orders?{}", base.join("&")) } else { String::new() };
    let next_href = page
        .next_cursor
        .map(|cur| {
            let mut b = base.clone();
            b.push(format!("cursor={cur}"));
            format!("/console/orders?{}", b.join("&"))
        })
        .unwrap_or_default();
    let mut p = page_for(&state, &c, t.s("queue.orders"));
    p.flash = None;
    let page = QueuePage {
        p,
        t,
        heading: t.s("queue.orders").into(),
        sections: vec![Section { title: t.s("queue.orders").into(), kind: "orders", rows }],
        filters: Some(filters),
        next_href,
        first_href,
        return_to: "/console/orders",
        hint: String::new(),
    };
    html(StatusCode::OK, &page)
}
