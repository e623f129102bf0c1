//! The work queues of each role, the supervisor board and the order search. Each table is
//! one page (`service::PAGE_ROWS`) of a `service::listed` query, scoped like the API and
//! sorted by the store in the queue's own work order, with the true total of the queue.
//!
//! Pages are numbered (`?page=2`) rather than cursored: the queues are sorted by urgency,
//! deadline or age, not by number, orders leave a queue as they are worked, and a queue's
//! length bounds the offset.

use super::i18n::Tr;
use super::page::{Page, html, page_error, refuse_page};
use super::page_for;
use super::session::{Console, enc};
use super::view::{Row, local_midnight, rows};
use crate::error::ApiError;
use crate::service;
use crate::service::{Listed, Queue};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::*;
use lianxin_store::{OrderFilter, OrderSort};

/// The true total of a table and the links to its neighbouring pages.
#[derive(Default)]
struct Pager {
    /// `共 120 条`.
    total: String,
    /// `第 2 / 3 页`; empty when everything fits on one page.
    label: String,
    prev: String,
    next: String,
}

impl Pager {
    /// The pager of `l`; `href(n)` is the address of page `n`.
    fn new(t: Tr, l: &Listed, href: impl Fn(i64) -> String) -> Pager {
        let n = l.total.to_string();
        Pager {
            total: t.s("list.total").replace("{n}", &n),
            label: if l.pages > 1 {
                t.s("list.page").replace("{p}", &l.page.to_string()).replace("{n}", &l.pages.to_string())
            } else {
                String::new()
            },
            prev: if l.page > 1 { href(l.page - 1) } else { String::new() },
            next: if l.page < l.pages { href(l.page + 1) } else { String::new() },
        }
    }
}

/// One table of a queue page.
struct Section {
    title: String,
    kind: &'static str,
    rows: Vec<Row>,
    pager: Pager,
}

/// The order search's form: the values as given and what was wrong with them.
#[derive(Default)]
pub(super) struct Filters {
    pub(super) status: String,
    pub(super) request_type: String,
    pub(super) category: String,
    pub(super) channel: String,
    pub(super) number: String,
    pub(super) phone: String,
    pub(super) address: String,
    pub(super) created_from: String,
    pub(super) created_to: String,
    /// A place the list is narrowed to (a hotspot's drill-down), and its name.
    pub(super) street: String,
    pub(super) district: String,
    pub(super) place_name: String,
    /// A lead unit the list is narrowed to (a statistic's drill-down), and its name.
    pub(super) lead_unit: String,
    pub(super) unit_name: String,
    pub(super) statuses: Vec<(String, String)>,
    pub(super) request_types: Vec<(String, String)>,
    pub(super) categories: Vec<(String, String)>,
    pub(super) channels: Vec<(String, String)>,
    /// (field, message) in the console's language.
    pub(super) errors: Vec<(&'static str, String)>,
}

impl Filters {
    /// The message about `field`, empty when it is fine.
    pub(super) fn err(&self, field: &str) -> &str {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str()).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    p: Page,
    t: Tr,
    heading: String,
    sections: Vec<Section>,
    filters: Option<Filters>,
    return_to: &'static str,
    hint: String,
    /// The units a batch dispatch may go to (the dispatch queue, for a dispatcher).
    batch_units: Vec<super::view::UnitGroup>,
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
    n: Option<String>,
    /// The page of the queue's main table.
    page: Option<String>,
    /// The page of its second table (extension requests, other units' orders).
    xpage: Option<String>,
    /// What a batch dispatch did (see `batch::dispatch`).
    #[serde(flatten)]
    batch: super::batch::BatchDone,
}

/// A page number as given; anything else is the first page.
pub(super) fn page_no(v: &Option<String>) -> i64 {
    v.as_deref().and_then(|v| v.trim().parse::<i64>().ok()).filter(|n| *n >= 1).unwrap_or(1)
}

fn flash(t: Tr, done: &Option<String>, n: &Option<String>) -> Option<String> {
    let a = done.as_deref().filter(|a| Action::parse(a).is_some())?;
    let n = n.as_deref().filter(|n| OrderNumber::parse(n).is_ok()).unwrap_or("");
    Some(format!("{} · {} {n}", t.s(&format!("done.{a}")), t.s("order.title")))
}

/// `path?k=v&…` of the non-empty parameters.
pub(super) fn href(path: &str, params: &[(&str, String)]) -> String {
    let q: Vec<String> = params.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", enc(v))).collect();
    if q.is_empty() { path.to_owned() } else { format!("{path}?{}", q.join("&")) }
}

fn failed(state: &AppState, c: &Console, e: &ApiError) -> Response {
    page_error(&page_for(state, c, ""), e)
}

fn only(statuses: &[Status]) -> OrderFilter {
    OrderFilter { statuses: statuses.to_vec(), ..OrderFilter::default() }
}

const HANDLED: &[Status] = &[Status::Dispatched, Status::InProgress];

/// A table of a queue page: page `page` of `filter` in `sort` order; `page_key` names its
/// page parameter in the links, `keep` the parameters the links keep.
#[allow(clippy::too_many_arguments)]
async fn section(
    state: &AppState,
    c: &Console,
    (kind, title_key): (&'static str, &str),
    filter: OrderFilter,
    sort: OrderSort,
    page: i64,
    (path, page_key, keep): (&str, &'static str, &[(&'static str, String)]),
) -> Result<(Section, Vec<Order>), ApiError> {
    let t = c.t();
    let l = service::listed(state, &c.user, filter, sort, page).await?;
    let pager = Pager::new(t, &l, |n| {
        let mut p: Vec<(&str, String)> = keep.iter().filter(|(k, _)| *k != page_key).cloned().collect();
        if n > 1 {
            p.push((page_key, n.to_string()));
        }
        href(path, &p)
    });
    let rows = rows(state, c, &l.items, "list_orders").await;
    Ok((Section { title: t.s(title_key).into(), kind, rows, pager }, l.items))
}

async fn queue_page(
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
    p.flash = flash(t, &q.done, &q.n);
    let dispatching = return_to == "/console/dispatch" && c.user.actor.has(Role::Dispatcher);
    if dispatching && let Some((flash, refused)) = q.batch.message(t, &state.directory()) {
        p.flash = Some(flash).filter(|f| !f.is_empty());
        if let Some(r) = refused {
            p.error = Some(super::page::ErrorBox {
                title: t.s("batch.refused_title").to_owned(),
                message: r,
                ..Default::default()
            });
        }
    }
    let batch_units = if dispatching { super::view::unit_groups(&state.directory(), t) } else { Vec::new() };
    let page =
        QueuePage { p, t, heading: t.s(heading_key).to_owned(), sections, filters: None, return_to, hint, batch_units };
    html(StatusCode::OK, &page)
}

/// The paging parameters of a queue page, to keep in the links of its other table.
fn keep(q: &DoneQuery) -> Vec<(&'static str, String)> {
    vec![("page", q.page.clone().unwrap_or_default()), ("xpage", q.xpage.clone().unwrap_or_default())]
}

/// A queue of one table in the work order (most urgent first, then oldest).
async fn work_queue(
    state: AppState,
    c: Console,
    q: DoneQuery,
    (path, kind, status): (&'static str, &'static str, Status),
    hint_key: Option<&str>,
) -> Response {
    if let Some(e) = refuse_page(&c.user, path) {
        return failed(&state, &c, &e);
    }
    let title = format!("queue.{kind}");
    let (s, _) = match section(
        &state,
        &c,
        (kind, &title),
        only(&[status]),
        OrderSort::Urgency,
        page_no(&q.page),
        (path, "page", &keep(&q)),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => return failed(&state, &c, &e),
    };
    let hint = hint_key.map(|k| c.t().s(k).to_owned()).unwrap_or_default();
    queue_page(&state, &c, &q, &title, path, vec![s], hint).await
}

/// `GET /console/registered`: the operator's orders not yet submitted (or sent back).
pub async fn registered(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    work_queue(state, c, q, ("/console/registered", "registered", Status::Registered), None).await
}

/// `GET /console/review`: orders in review.
pub async fn review(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    work_queue(state, c, q, ("/console/review", "review", Status::InReview), Some("queue.open_to_send_back")).await
}

/// The extension requests awaiting a decision, oldest first: a table of the dispatch
/// queue and of the supervisor board, paged by `xpage`.
async fn extensions(
    state: &AppState,
    c: &Console,
    page: i64,
    (path, keep): (&str, &[(&'static str, String)]),
) -> Result<Section, ApiError> {
    let filter = OrderFilter { extension_pending: true, ..only(HANDLED) };
    let (s, _) = section(
        state,
        c,
        ("extensions", "queue.extensions"),
        filter,
        OrderSort::OldestExtension,
        page,
        (path, "xpage", keep),
    )
    .await?;
    Ok(s)
}

/// `GET /console/dispatch`: orders awaiting dispatch (returned ones marked) and extension
/// requests awaiting a decision.
pub async fn dispatch(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    let path = "/console/dispatch";
    if let Some(e) = refuse_page(&c.user, path) {
        return failed(&state, &c, &e);
    }
    let keep = keep(&q);
    let pending = section(
        &state,
        &c,
        ("dispatch", "queue.dispatch"),
        only(&[Status::PendingDispatch]),
        OrderSort::Urgency,
        page_no(&q.page),
        (path, "page", &keep),
    );
    let (mut s, orders) = match pending.await {
        Ok(s) => s,
        Err(e) => return failed(&state, &c, &e),
    };
    // Who returned the order last and why: kept on the order; for orders returned before
    // returns were kept there, from the latest return event.
    let dir = state.directory();
    for (o, r) in orders.iter().zip(s.rows.iter_mut()) {
        if let Some(back) = o.returned.last() {
            let unit = back.unit.as_ref().map(|u| super::view::Names(&dir).unit(u)).unwrap_or_default();
            r.note = format!("{unit} · {}", back.reason);
        } else if o.returns > 0
            && let Ok(events) = service::events(&state, &c.user, o.number.as_str()).await
            && let Some(e) = events.iter().rev().find(|e| e.event.action() == Action::Return)
        {
            r.note = e.comment.clone().unwrap_or_default();
        }
    }
    let mut sections = vec![s];
    if c.user.actor.has_any(&[Role::Dispatcher, Role::Supervisor]) {
        match extensions(&state, &c, page_no(&q.xpage), (path, &keep)).await {
            Ok(x) if !x.rows.is_empty() => sections.push(x),
            Ok(_) => {}
            Err(e) => return failed(&state, &c, &e),
        }
    }
    queue_page(&state, &c, &q, "queue.dispatch", path, sections, String::new()).await
}

/// `GET /console/inbox`: the signed-in unit's orders being handled, waiting to be signed
/// for first, then by deadline; those it leads first, then the rest of its scope.
pub async fn inbox(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    let path = "/console/inbox";
    if let Some(e) = refuse_page(&c.user, path) {
        return failed(&state, &c, &e);
    }
    let keep = keep(&q);
    let unit = c.user.actor.unit.clone();
    let sort = OrderSort::SignThenDeadline;
    let lead = OrderFilter { lead_unit: unit.clone(), ..only(HANDLED) };
    let mine = async {
        match unit {
            Some(_) => {
                section(&state, &c, ("inbox", "queue.inbox_lead"), lead, sort, page_no(&q.page), (path, "page", &keep))
                    .await
                    .map(|(s, _)| s)
            }
            // A user of no unit leads nothing.
            None => Ok(Section {
                title: c.t().s("queue.inbox_lead").into(),
                kind: "inbox",
                rows: Vec::new(),
                pager: Pager { total: c.t().s("list.total").replace("{n}", "0"), ..Pager::default() },
            }),
        }
    };
    let other = OrderFilter { not_lead_unit: c.user.actor.unit.clone(), ..only(HANDLED) };
    let others = section(
        &state,
        &c,
        ("inbox_other", "queue.inbox_other"),
        other,
        sort,
        page_no(&q.xpage),
        (path, "xpage", &keep),
    );
    let (mine, others) = match tokio::try_join!(mine, others) {
        Ok(x) => x,
        Err(e) => return failed(&state, &c, &e),
    };
    let mut sections = vec![mine];
    if !others.0.rows.is_empty() {
        sections.push(others.0);
    }
    queue_page(&state, &c, &q, "nav.inbox", path, sections, String::new()).await
}

/// `GET /console/callback`: replied orders awaiting a callback, oldest reply first.
pub async fn callback(State(state): State<AppState>, c: Console, Query(q): Query<DoneQuery>) -> Response {
    let path = "/console/callback";
    if let Some(e) = refuse_page(&c.user, path) {
        return failed(&state, &c, &e);
    }
    let keep = keep(&q);
    let s = section(
        &state,
        &c,
        ("callback", "queue.callback"),
        OrderFilter { awaiting_callback: true, ..OrderFilter::default() },
        OrderSort::OldestReply,
        page_no(&q.page),
        (path, "page", &keep),
    );
    let (s, _) = match s.await {
        Ok(s) => s,
        Err(e) => return failed(&state, &c, &e),
    };
    queue_page(&state, &c, &q, "queue.callback", path, vec![s], String::new()).await
}

/// A count of the supervisor board, as a link to the orders it counts.
struct Tally {
    /// `red`, `yellow`, `green`.
    mark: &'static str,
    label: &'static str,
    count: i64,
    href: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "supervise.html")]
struct SupervisePage {
    p: Page,
    t: Tr,
    tallies: Vec<Tally>,
    /// Which orders the board lists: `marked` (red and yellow), `red`, `yellow`, `green`
    /// or `all`.
    view: &'static str,
    list: Section,
    extensions: Section,
}

#[derive(serde::Deserialize, Default)]
pub struct BoardQuery {
    /// The former "show all" switch, the same as `mark=all`.
    all: Option<String>,
    mark: Option<String>,
    page: Option<String>,
    xpage: Option<String>,
    done: Option<String>,
    n: Option<String>,
}

/// `GET /console/supervise`: overdue (red) and at-risk (yellow) orders, worst first; each
/// count a link to its own orders, and every order being handled on request.
pub async fn supervise(State(state): State<AppState>, c: Console, Query(q): Query<BoardQuery>) -> Response {
    let path = "/console/supervise";
    if let Some(e) = refuse_page(&c.user, path) {
        return failed(&state, &c, &e);
    }
    let t = c.t();
    let view = match q.mark.as_deref().map(str::trim) {
        Some("red") => "red",
        Some("yellow") => "yellow",
        Some("green") => "green",
        Some("all") => "all",
        _ if q.all.is_some() => "all",
        _ => "marked",
    };
    let (queue, title) = match view {
        "red" => (Queue::Overdue, "super.list_red"),
        "yellow" => (Queue::AtRisk, "super.list_yellow"),
        "green" => (Queue::OnTime, "super.list_green"),
        "all" => (Queue::Handled, "super.list_all"),
        _ => (Queue::Marked, "super.list_marked"),
    };
    let mark_param = if view == "marked" { String::new() } else { view.to_owned() };
    let keep = vec![
        ("mark", mark_param),
        ("page", q.page.clone().unwrap_or_default()),
        ("xpage", q.xpage.clone().unwrap_or_default()),
    ];
    let now = state.now();
    // Three counts, the listed page and the extension requests: each a bounded store
    // query, run side by side.
    let counts = async {
        tokio::try_join!(
            service::queue_len(&state, &c.user, Queue::Overdue),
            service::queue_len(&state, &c.user, Queue::AtRisk),
            service::queue_len(&state, &c.user, Queue::OnTime),
        )
    };
    let list = section(
        &state,
        &c,
        ("supervise", title),
        queue.filter(&state),
        OrderSort::Supervision(now),
        page_no(&q.page),
        (path, "page", &keep),
    );
    let ext = extensions(&state, &c, page_no(&q.xpage), (path, &keep));
    let ((red, yellow, green), (list, _), extensions) = match tokio::try_join!(counts, list, ext) {
        Ok(x) => x,
        Err(e) => return failed(&state, &c, &e),
    };
    let tally = |mark: &'static str, label: &'static str, count: i64| Tally {
        mark,
        label: t.s(label),
        count,
        href: href(path, &[("mark", mark.to_owned())]),
        active: view == mark,
    };
    let tallies = vec![
        tally("red", "super.red", red),
        tally("yellow", "super.yellow", yellow),
        tally("green", "super.green", green),
    ];
    let mut p = page_for(&state, &c, t.s("super.title"));
    p.flash = flash(t, &q.done, &q.n);
    html(StatusCode::OK, &SupervisePage { p, t, tallies, view, list, extensions })
}

#[derive(serde::Deserialize, Default)]
pub struct SearchQuery {
    /// The header's jump box: an order number or a phone number.
    q: Option<String>,
    /// Orders whose number starts with these digits.
    number: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    created_from: Option<String>,
    created_to: Option<String>,
    status: Option<String>,
    request_type: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    street: Option<String>,
    district: Option<String>,
    lead_unit: Option<String>,
    page: Option<String>,
}

/// A date of the search form. The form's dates are plain text inputs with the placeholder
/// `YYYY-MM-DD`, checked here: an `<input type="date">` shows and parses dates in the
/// browser's locale whatever the page's `lang`, so it would not follow the console's
/// language.
fn parse_date(v: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok()
}

/// Where the jump box goes: an order number opens the order, a phone number lists the
/// caller's orders; `None` when it is neither.
fn jump(q: &str) -> Option<String> {
    let q = q.trim();
    if let Ok(n) = OrderNumber::parse(q) {
        return Some(format!("/console/orders/{n}"));
    }
    let phone = PhoneNumber::parse(q).ok()?;
    Some(href("/console/orders", &[("phone", phone.normalized().to_string())]))
}

/// `GET /console/orders`: find orders (newest first) by their facts, the caller's phone,
/// the number, the address or the day of registration; or jump to one (`q`).
pub async fn orders(State(state): State<AppState>, c: Console, Query(q): Query<SearchQuery>) -> Response {
    let t = c.t();
    let val = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let jumped = val(&q.q);
    if !jumped.is_empty()
        && let Some(to) = jump(&jumped)
    {
        return Redirect::to(&to).into_response();
    }
    let dir = state.directory();
    let mut cats: Vec<&lianxin_domain::reference::Category> = dir.categories().filter(|x| x.parent.is_none()).collect();
    cats.sort_by_key(|x| (x.position, x.code.clone()));
    let mut f = Filters {
        status: val(&q.status),
        request_type: val(&q.request_type),
        category: val(&q.category),
        channel: val(&q.channel),
        number: val(&q.number),
        phone: val(&q.phone),
        address: val(&q.address),
        created_from: val(&q.created_from),
        created_to: val(&q.created_to),
        street: val(&q.street),
        district: val(&q.district),
        place_name: String::new(),
        lead_unit: val(&q.lead_unit),
        unit_name: String::new(),
        statuses: Status::ALL.iter().map(|s| (s.as_str().to_owned(), t.status(s.as_str()))).collect(),
        request_types: RequestType::ALL.iter().map(|s| (s.as_str().to_owned(), t.request_type(s.as_str()))).collect(),
        categories: cats.iter().map(|x| (x.code.to_string(), x.name.clone())).collect(),
        channels: Channel::ALL.iter().map(|s| (s.as_str().to_owned(), t.channel(s.as_str()))).collect(),
        errors: Vec::new(),
    };
    if !jumped.is_empty() {
        f.errors.push(("q", t.s("search.bad_jump").replace("{v}", &jumped)));
    }
    let filter = search_filter(t, &state, &mut f);
    drop(dir);
    let keep: Vec<(&'static str, String)> = vec![
        ("number", f.number.clone()),
        ("phone", f.phone.clone()),
        ("address", f.address.clone()),
        ("created_from", f.created_from.clone()),
        ("created_to", f.created_to.clone()),
        ("status", f.status.clone()),
        ("request_type", f.request_type.clone()),
        ("category", f.category.clone()),
        ("channel", f.channel.clone()),
        ("street", f.street.clone()),
        ("district", f.district.clone()),
        ("lead_unit", f.lead_unit.clone()),
    ];
    let mut sections = Vec::new();
    let status = match filter {
        Some(filter) => {
            let s = section(
                &state,
                &c,
                ("orders", "queue.orders"),
                filter,
                OrderSort::Newest,
                page_no(&q.page),
                ("/console/orders", "page", &keep),
            );
            match s.await {
                Ok((s, _)) => sections.push(s),
                Err(e) => return failed(&state, &c, &e),
            }
            StatusCode::OK
        }
        // Bad input is named next to its field; nothing is listed.
        None => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut p = page_for(&state, &c, t.s("queue.orders"));
    p.flash = None;
    let page = QueuePage {
        p,
        t,
        heading: t.s("queue.orders").into(),
        sections,
        filters: Some(f),
        return_to: "/console/orders",
        hint: String::new(),
        batch_units: Vec::new(),
    };
    html(status, &page)
}

/// The store filter of the search form, or `None` when a field is wrong (each wrong
/// field gets its message in `f.errors`).
pub(super) fn search_filter(t: Tr, state: &AppState, f: &mut Filters) -> Option<OrderFilter> {
    // The choices of the select boxes read as the API reads its list parameters.
    let params: Vec<(String, String)> = [
        ("status", &f.status),
        ("request_type", &f.request_type),
        ("category", &f.category),
        ("channel", &f.channel),
        ("street", &f.street),
        ("district", &f.district),
        ("lead_unit", &f.lead_unit),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| ((*k).to_owned(), (*v).clone()))
    .collect();
    let dir = state.directory();
    f.place_name = [&f.street, &f.district]
        .iter()
        .filter_map(|c| lianxin_domain::JurisdictionCode::parse(c).ok())
        .filter_map(|c| dir.jurisdiction(&c).map(|j| j.name.clone()))
        .collect::<Vec<_>>()
        .join(" ");
    f.unit_name = lianxin_domain::UnitCode::parse(&f.lead_unit)
        .ok()
        .and_then(|u| dir.unit(&u).map(|u| u.name.clone()))
        .unwrap_or_default();
    drop(dir);
    let mut filter = match service::parse_filter(&params, &state.directory()) {
        Ok((filter, _, _)) => filter,
        Err(e) => {
            for (k, m) in e.fields.unwrap_or_default() {
                let field = ["status", "request_type", "category", "channel", "street", "district", "lead_unit"]
                    .into_iter()
                    .find(|x| *x == k);
                f.errors.push((field.unwrap_or("status"), t.field_message(&m)));
            }
            OrderFilter::default()
        }
    };
    if !f.number.is_empty() {
        if f.number.len() <= 20 && f.number.bytes().all(|b| b.is_ascii_digit()) {
            filter.number_prefix = Some(f.number.clone());
        } else {
            f.errors.push(("number", t.s("search.bad_number").to_owned()));
        }
    }
    if !f.phone.is_empty() {
        match PhoneNumber::parse(&f.phone) {
            Ok(p) => filter.phone = Some(p.normalized()),
            Err(_) => f.errors.push(("phone", t.s("search.bad_phone").to_owned())),
        }
    }
    if !f.address.is_empty() {
        if f.address.chars().count() > 100 || lianxin_domain::text::check(&f.address).is_err() {
            f.errors.push(("address", t.s("search.bad_address").to_owned()));
        } else {
            filter.address = Some(f.address.clone());
        }
    }
    let cal = state.calendar();
    let mut day = |field: &'static str, v: &str| {
        if v.is_empty() {
            return None;
        }
        let d = parse_date(v);
        if d.is_none() {
            f.errors.push((field, t.s("search.bad_date").to_owned()));
        }
        d
    };
    let (from, to) = (f.created_from.clone(), f.created_to.clone());
    let (from, to) = (day("created_from", &from), day("created_to", &to));
    if let (Some(a), Some(b)) = (from, to)
        && b < a
    {
        f.errors.push(("created_to", t.s("search.bad_range").to_owned()));
    }
    filter.created_from = from.map(|d| local_midnight(&cal, d));
    // The end day is included: up to the midnight after it.
    filter.created_to = to.and_then(|d| d.succ_opt()).map(|d| local_midnight(&cal, d));
    f.errors.is_empty().then_some(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jump_box_takes_an_order_number_or_a_phone() {
        assert_eq!(jump("2026112300001").as_deref(), Some("/console/orders/2026112300001"));
        assert_eq!(jump(" 138-0000-1234 ").as_deref(), Some("/console/orders?phone=13800001234"));
        assert_eq!(jump("abc"), None);
        assert_eq!(jump("12"), None);
    }

    #[test]
    fn dates_are_year_month_day() {
        assert!(parse_date("2026-11-23").is_some());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("23/11/2026").is_none());
    }
}
