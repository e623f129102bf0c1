//! The operations on work orders, shared by the JSON API and the web console so that both
//! apply the same parsing, scope, masking, audit and lifecycle rules.

use crate::auth::CurrentUser;
use crate::body::Fields;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::OrderOut;
use lianxin_domain::calendar::Calendar;
use lianxin_domain::command::MergeTarget;
use lianxin_domain::error::FieldErrors;
use lianxin_domain::lifecycle::{self, authorize, authorize_register};
use lianxin_domain::order::{Caller, Cite, Intake, Location};
use lianxin_domain::scope::{Scope, scope_of};
use lianxin_domain::*;
use lianxin_store::{ActError, AuditEntry, OrderFilter, OrderPage, OrderSort, StoredEvent};
use serde_json::{Map, Value};

fn act_error(e: ActError<ApiError>, number: &str) -> ApiError {
    match e {
        ActError::NotFound => ApiError::not_found(format!("no work order `{number}`")),
        ActError::Rejected(e) => e,
        ActError::Store(e) => e.into(),
    }
}

/// Records that `actor` saw unmasked personal data of these orders.
async fn audit_unmasked(state: &AppState, user: &CurrentUser, action: &str, numbers: Vec<String>) {
    if numbers.is_empty() {
        return;
    }
    let entry = AuditEntry {
        at: state.now(),
        actor: user.actor.username.clone(),
        action: action.to_owned(),
        subject: numbers.join(","),
        detail: None,
    };
    if let Err(e) = state.store().audit(&entry).await {
        tracing::error!(error = %e, "could not write the audit log");
    }
}

/// Renders orders for the user and audits unmasked access.
pub async fn render(state: &AppState, user: &CurrentUser, orders: &[Order], action: &str) -> Vec<OrderOut> {
    let mut unmasked = Vec::new();
    let out = orders
        .iter()
        .map(|o| {
            let (v, full) = state.order_out(o, &user.actor);
            if full {
                unmasked.push(o.number.to_string());
            }
            v
        })
        .collect();
    audit_unmasked(state, user, action, unmasked).await;
    out
}

fn parse_intake(obj: &Map<String, Value>) -> Result<Intake, ApiError> {
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    let channel = f.vocab("channel", true, &mut errs, Channel::parse, Channel::allowed());
    let request_type = f.vocab("request_type", true, &mut errs, RequestType::parse, RequestType::allowed());
    let category = f.parsed("category", true, &mut errs, CategoryCode::parse);
    let urgency = f.vocab("urgency", true, &mut errs, Urgency::parse, Urgency::allowed());
    let title = f.string("title", false, &mut errs).unwrap_or_default();
    let content = f.string("content", true, &mut errs);
    let caller = parse_caller(&f, true, &mut errs);
    // A place is optional: a consultation or a city-wide matter has no street, and a
    // district may stand alone.
    let location = parse_location(&f, &mut errs).unwrap_or_default();
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs.into_map()));
    }
    match (channel, request_type, category, urgency, content, caller) {
        (Some(channel), Some(request_type), Some(category), Some(urgency), Some(content), Some(caller)) => {
            Ok(Intake { channel: Some(channel), request_type, category, urgency, title, content, caller, location })
        }
        _ => Err(ApiError::invalid(errs.into_map())),
    }
}

/// The `caller` object (`phone`, `name`?, `confidential`?); `None` when absent or bad.
fn parse_caller(f: &Fields, required: bool, errs: &mut FieldErrors) -> Option<Caller> {
    let caller = f.object("caller", required, errs)?;
    let phone = caller.parsed("phone", true, errs, PhoneNumber::parse);
    let name = caller.string("name", false, errs).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let confidential = caller.boolean("confidential", false, errs).unwrap_or(false);
    Some(Caller { phone: Some(phone?), name, confidential })
}

/// The `location` object (`street`?, `district`?, `address`?, `lat`?, `lon`?); `None` when absent.
fn parse_location(f: &Fields, errs: &mut FieldErrors) -> Option<Location> {
    let l = f.object("location", false, errs)?;
    let street = l.parsed("street", false, errs, JurisdictionCode::parse);
    let district = l.parsed("district", false, errs, JurisdictionCode::parse);
    let address = l.string("address", false, errs).map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    let lat = l.number("lat", errs);
    let lon = l.number("lon", errs);
    Some(Location { address, street, district, lat, lon })
}

/// Registers an order from a JSON object (API body or console form).
pub async fn register(state: &AppState, user: &CurrentUser, obj: &Map<String, Value>) -> Result<Order, ApiError> {
    authorize_register(&user.actor)?;
    let intake = parse_intake(obj)?;
    let dir = state.directory();
    let cal = state.calendar();
    let ctx = state.context(&dir, &cal);
    let now = state.now();
    let day = state.calendar().local_day_code(now);
    // Validated with a placeholder number; the store assigns the real one when it commits.
    let event = lifecycle::register(&ctx, intake, OrderNumber::format(&day, 0), &user.actor, now)?;
    let order = state.store().register_order(&day, event).await?;
    metrics::counter!("lianxin_orders_created_total").increment(1);
    Ok(order)
}

/// Loads an order the user may see, or 404.
pub async fn visible_order(state: &AppState, user: &CurrentUser, number: &str) -> Result<(Order, Scope), ApiError> {
    let dir = state.directory();
    let scope = scope_of(&user.actor, &dir);
    let not_found = || ApiError::not_found(format!("no work order `{number}`"));
    if OrderNumber::parse(number).is_err() {
        return Err(not_found());
    }
    match state.store().order(number).await? {
        Some(o) if scope.allows(&o) => Ok((o, scope)),
        _ => Err(not_found()),
    }
}

/// An order's events, if the user may see the order.
pub async fn events(state: &AppState, user: &CurrentUser, number: &str) -> Result<Vec<StoredEvent>, ApiError> {
    visible_order(state, user, number).await?;
    Ok(state.store().events(number).await?)
}

fn parse_time(errs: &mut FieldErrors, field: &str, v: &str) -> Option<Millis> {
    let t = Calendar::parse_rfc3339(v);
    if t.is_none() {
        errs.add(field, "must be an RFC 3339 time such as 2026-11-24T08:00:00+08:00");
    }
    t
}

/// Parses list filters; unknown parameters are ignored, bad values are a 422 (the API
/// reads its parameters through `body::Params`, which refuses control characters first).
pub fn parse_filter(
    params: &[(String, String)],
    dir: &lianxin_domain::reference::Directory,
) -> Result<(OrderFilter, Option<String>, i64), ApiError> {
    let mut errs = FieldErrors::new();
    let mut f = OrderFilter::default();
    let mut cursor = None;
    let mut limit = 20;
    for (k, v) in params {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match k.as_str() {
            "status" => {
                for s in v.split(',') {
                    match Status::parse(s.trim()) {
                        Some(s) => f.statuses.push(s),
                        None => errs.add("status", format!("`{s}` is not one of: {}", Status::allowed())),
                    }
                }
            }
            "category" => match CategoryCode::parse(v) {
                Ok(c) if dir.category(&c).is_some() => {
                    // A group selects all its leaves.
                    let leaves: Vec<CategoryCode> = dir
                        .categories()
                        .filter(|x| x.leaf.is_some() && is_under(dir, &x.code, &c))
                        .map(|x| x.code.clone())
                        .collect();
                    f.categories = leaves;
                }
                _ => errs.add("category", format!("unknown category `{v}`")),
            },
            "unit" => match UnitCode::parse(v) {
                Ok(u) => f.unit = Some(u),
                Err(m) => errs.add("unit", m),
            },
            "lead_unit" => match UnitCode::parse(v) {
                Ok(u) => f.lead_unit = Some(u),
                Err(m) => errs.add("lead_unit", m),
            },
            "street" => match JurisdictionCode::parse(v) {
                Ok(s) => f.street = Some(s),
                Err(m) => errs.add("street", m),
            },
            "district" => match JurisdictionCode::parse(v) {
                Ok(d) => f.district = Some(d),
                Err(m) => errs.add("district", m),
            },
            "request_type" => match RequestType::parse(v) {
                Some(t) => f.request_type = Some(t),
                None => errs.add("request_type", format!("`{v}` is not one of: {}", RequestType::allowed())),
            },
            "channel" => match Channel::parse(v) {
                Some(c) => f.channel = Some(c),
                None => errs.add("channel", format!("`{v}` is not one of: {}", Channel::allowed())),
            },
            "created_from" => f.created_from = parse_time(&mut errs, "created_from", v),
            "created_to" => f.created_to = parse_time(&mut errs, "created_to", v),
            // As `Params::limit`: at least 1, larger than the maximum counts as the maximum.
            "limit" => match v.parse::<i64>() {
                Ok(n) if n >= 1 => limit = n.min(200),
                _ => errs.add("limit", "must be a whole number from 1 (larger than 200 counts as 200)"),
            },
            "cursor" => match OrderNumber::parse(v) {
                Ok(n) => cursor = Some(n.to_string()),
                Err(_) => errs.add("cursor", "is not a cursor this API returned"),
            },
            _ => {}
        }
    }
    errs.finish()?;
    Ok((f, cursor, limit))
}

fn is_under(dir: &lianxin_domain::reference::Directory, code: &CategoryCode, ancestor: &CategoryCode) -> bool {
    let mut cur = Some(code.clone());
    let mut guard = 0;
    while let Some(c) = cur {
        if &c == ancestor {
            return true;
        }
        guard += 1;
        if guard > 16 {
            return false;
        }
        cur = dir.category(&c).and_then(|x| x.parent.clone());
    }
    false
}

/// One page of the orders the user may see, filtered by list parameters.
pub async fn list(state: &AppState, user: &CurrentUser, params: &[(String, String)]) -> Result<OrderPage, ApiError> {
    let dir = state.directory();
    let (filter, cursor, limit) = parse_filter(params, &dir)?;
    let scope = scope_of(&user.actor, &dir);
    Ok(state.store().list_orders(&scope, &filter, cursor.as_deref(), limit).await?)
}

/// A caller's orders within scope; a handling unit never finds a confidential caller.
pub async fn caller_orders(
    state: &AppState,
    user: &CurrentUser,
    phone: &str,
    params: &[(String, String)],
) -> Result<OrderPage, ApiError> {
    let dir = state.directory();
    let phone = PhoneNumber::parse(phone).map_err(|m| {
        let mut errs = FieldErrors::new();
        errs.add("phone", m);
        ApiError::invalid(errs.into_map())
    })?;
    let paging = paging(params);
    let (mut filter, cursor, limit) = parse_filter(&paging, &dir)?;
    filter.phone = Some(phone.normalized());
    let scope = scope_of(&user.actor, &dir);
    by_phone_within(&mut filter, &scope);
    Ok(state.store().list_orders(&scope, &filter, cursor.as_deref(), limit).await?)
}

/// A lookup by phone number within `scope`: outside the hotline-wide scope (a handling
/// unit, a district) it never finds a confidential caller's orders.
fn by_phone_within(filter: &mut OrderFilter, scope: &Scope) {
    if filter.phone.is_some() && !matches!(scope, Scope::All) {
        filter.hide_confidential = true;
    }
}

/// Rows of a page of the console's lists.
pub const PAGE_ROWS: i64 = 50;

/// One page of a list with the true number of orders it holds.
#[derive(Debug, Clone)]
pub struct Listed {
    pub items: Vec<Order>,
    /// Every order within scope that matches, not only those on the page.
    pub total: i64,
    /// The page shown, from 1 (a page past the end shows the last).
    pub page: i64,
    pub pages: i64,
}

/// Page `page` (from 1, [`PAGE_ROWS`] a page) of the orders within the user's scope that
/// match `filter`, in `sort` order, with their total. A filter by phone is scoped as
/// [`caller_orders`] is.
pub async fn listed(
    state: &AppState,
    user: &CurrentUser,
    mut filter: OrderFilter,
    sort: OrderSort,
    page: i64,
) -> Result<Listed, ApiError> {
    let scope = scope_of(&user.actor, &state.directory());
    by_phone_within(&mut filter, &scope);
    let store = state.store();
    let total = store.count_orders(&scope, &filter).await?;
    let pages = ((total + PAGE_ROWS - 1) / PAGE_ROWS).max(1);
    let page = page.clamp(1, pages);
    let items = store.page_orders(&scope, &filter, sort, (page - 1) * PAGE_ROWS, PAGE_ROWS).await?;
    Ok(Listed { items, total, page, pages })
}

/// A close's `cite` (`{"kind": "article"|"referral"|"announcement", "id"}`), looked up
/// before the decision, which is synchronous: the stored title (and an article's version)
/// go into the event, so the order says what the caller was given even after an edit.
pub enum Cited {
    Nothing,
    Found(Cite),
    Refused(Vec<(String, String)>),
}

async fn look_up_cite(state: &AppState, action: Action, obj: &Map<String, Value>) -> Result<Cited, ApiError> {
    if action != Action::Close {
        return Ok(Cited::Nothing);
    }
    let mut errs = FieldErrors::new();
    let Some(c) = Fields::new(obj).object("cite", false, &mut errs) else {
        return Ok(match errs.is_empty() {
            true => Cited::Nothing,
            false => Cited::Refused(errs.into_map().into_iter().collect()),
        });
    };
    let kind = c.vocab("kind", true, &mut errs, CiteKind::parse, CiteKind::allowed());
    let id = c.string("id", true, &mut errs).map(|s| s.trim().to_owned());
    let (Some(kind), Some(id)) = (kind, id) else {
        return Ok(Cited::Refused(errs.into_map().into_iter().collect()));
    };
    let store = state.store();
    let found = match kind {
        CiteKind::Article => store.article(&id).await?.map(|a| (a.article.title, Some(a.version))),
        CiteKind::Referral => match store.referral(&id).await? {
            Some((_, false)) => {
                return Ok(Cited::Refused(vec![(
                    "cite.id".into(),
                    format!("referral entry `{id}` is no longer in use"),
                )]));
            }
            r => r.map(|(r, _)| (r.name, None)),
        },
        CiteKind::Announcement => store.announcement(&id).await?.map(|a| (a.title, None)),
    };
    Ok(match found {
        Some((title, version)) => Cited::Found(Cite { kind, id, title, version }),
        None => Cited::Refused(vec![("cite.id".into(), format!("no {kind} `{id}`"))]),
    })
}

/// Builds the command of `action` from its body.
fn parse_command(
    action: Action,
    obj: &Map<String, Value>,
    merge_target: &Option<MergeTarget>,
    cite: &Cited,
) -> Result<Command, ApiError> {
    let mut errs = FieldErrors::new();
    let f = Fields::new(obj);
    let text = |errs: &mut FieldErrors, k: &str| f.string(k, true, errs).unwrap_or_default();
    let cmd = match action {
        Action::Submit => Command::Submit,
        Action::Approve => Command::Approve,
        Action::Sign => Command::Sign,
        Action::SendBack => Command::SendBack { reason: text(&mut errs, "reason") },
        Action::Return => Command::Return { reason: text(&mut errs, "reason") },
        Action::Reopen => Command::Reopen { reason: text(&mut errs, "reason") },
        Action::Cancel => Command::Cancel { reason: text(&mut errs, "reason") },
        Action::Close => Command::Close {
            resolution: text(&mut errs, "resolution"),
            kind: f
                .vocab("kind", false, &mut errs, CloseKind::parse, CloseKind::allowed())
                .unwrap_or(CloseKind::Answered),
            cite: match cite {
                Cited::Found(c) => Some(c.clone()),
                Cited::Nothing => None,
                Cited::Refused(problems) => {
                    for (k, m) in problems {
                        errs.add(k, m.clone());
                    }
                    None
                }
            },
        },
        Action::Dispatch => {
            let lead = f.parsed("lead_unit", true, &mut errs, UnitCode::parse);
            let mut assisting = Vec::new();
            for a in f.string_list("assisting_units", &mut errs) {
                match UnitCode::parse(&a) {
                    Ok(u) => assisting.push(u),
                    Err(m) => errs.add("assisting_units", m),
                }
            }
            let note = f.string("note", false, &mut errs);
            match lead {
                Some(lead_unit) => Command::Dispatch { lead_unit, assisting_units: assisting, note },
                None => return Err(ApiError::invalid(errs.into_map())),
            }
        }
        Action::Subdispatch => {
            let unit = f.parsed("unit", true, &mut errs, UnitCode::parse);
            let note = f.string("note", false, &mut errs);
            match unit {
                Some(unit) => Command::Subdispatch { unit, note },
                None => return Err(ApiError::invalid(errs.into_map())),
            }
        }
        Action::RequestExtension => {
            let until = f.parsed("until", true, &mut errs, |s| {
                Calendar::parse_rfc3339(s).ok_or_else(|| "must be an RFC 3339 time".to_owned())
            });
            let reason = text(&mut errs, "reason");
            Command::RequestExtension { until: until.unwrap_or(0), reason }
        }
        Action::DecideExtension => Command::DecideExtension {
            approve: f.boolean("approve", true, &mut errs).unwrap_or(false),
            note: f.string("note", false, &mut errs),
        },
        Action::Reply => Command::Reply {
            content: text(&mut errs, "content"),
            solved: f.boolean("solved", true, &mut errs).unwrap_or(false),
        },
        Action::Callback => {
            let satisfaction = f.vocab("satisfaction", true, &mut errs, Satisfaction::parse, Satisfaction::allowed());
            // Required unless the resident was not reached (then it is not recorded).
            let reached = satisfaction.is_some_and(|s| s != Satisfaction::Unreachable);
            let solved = f.boolean("solved", reached, &mut errs);
            let note = f.string("note", false, &mut errs);
            match satisfaction {
                Some(satisfaction) => Command::Callback { satisfaction, solved, note },
                None => return Err(ApiError::invalid(errs.into_map())),
            }
        }
        Action::Merge => match f.parsed("into", true, &mut errs, OrderNumber::parse) {
            Some(into) => Command::Merge { into, target: merge_target.clone() },
            None => return Err(ApiError::invalid(errs.into_map())),
        },
        Action::Urge => {
            let level = f.integer("level", false, &mut errs).unwrap_or(1);
            Command::Urge { note: text(&mut errs, "note"), level: u8::try_from(level).unwrap_or(0) }
        }
        Action::Note => Command::Note { text: text(&mut errs, "text") },
        Action::Correct => Command::Correct {
            category: f.parsed("category", false, &mut errs, CategoryCode::parse),
            request_type: f.vocab("request_type", false, &mut errs, RequestType::parse, RequestType::allowed()),
            urgency: f.vocab("urgency", false, &mut errs, Urgency::parse, Urgency::allowed()),
            location: parse_location(&f, &mut errs),
            note: f.string("note", false, &mut errs),
        },
        Action::AddContact => Command::AddContact {
            content: text(&mut errs, "content"),
            channel: f.vocab("channel", false, &mut errs, Channel::parse, Channel::allowed()),
            caller: parse_caller(&f, false, &mut errs),
        },
        Action::QaSample => Command::QaSample,
        Action::QaPass => Command::QaPass { note: f.string("note", false, &mut errs) },
        Action::QaFail => Command::QaFail { reason: text(&mut errs, "reason") },
        Action::Register => return Err(ApiError::not_found("unknown action `register`; POST /api/v1/orders")),
        Action::Import => {
            return Err(ApiError::not_found(
                "unknown action `import`; past orders come in with `lianxin import orders`",
            ));
        }
    };
    errs.finish()?;
    Ok(cmd)
}

/// Performs `action` (its wire name) on order `number` with the fields in `obj`.
pub async fn perform(
    state: &AppState,
    user: &CurrentUser,
    number: &str,
    action: &str,
    obj: Map<String, Value>,
) -> Result<Order, ApiError> {
    let action = Action::parse(action)
        .filter(|a| !matches!(a, Action::Register | Action::Import))
        .ok_or_else(|| ApiError::not_found(format!("unknown action `{action}`")))?;
    let dir = state.directory();
    let scope = scope_of(&user.actor, &dir);
    let not_found = || ApiError::not_found(format!("no work order `{number}`"));
    if OrderNumber::parse(number).is_err() {
        return Err(not_found());
    }
    let mut version_errs = FieldErrors::new();
    let expected_version = Fields::new(&obj).integer("version", false, &mut version_errs);
    // The merge target is looked up first: the decision itself is synchronous.
    let merge_target = match (action, obj.get("into").and_then(Value::as_str)) {
        (Action::Merge, Some(into)) if OrderNumber::parse(into).is_ok() => state
            .store()
            .order(into)
            .await?
            .filter(|t| scope.allows(t))
            .map(|t| MergeTarget { number: t.number.clone(), status: t.status }),
        _ => None,
    };
    let cited = look_up_cite(state, action, &obj).await?;
    let cal = state.calendar();
    let ctx = state.context(&dir, &cal);
    let now = state.now();
    let actor = &user.actor;
    let order = state
        .store()
        .act(number, |order| {
            if !scope.allows(order) {
                return Err(not_found());
            }
            authorize(order, action, actor)?;
            if !version_errs.is_empty() {
                return Err(ApiError::invalid(std::mem::take(&mut version_errs).into_map()));
            }
            let cmd = parse_command(action, &obj, &merge_target, &cited)?;
            let event = lifecycle::decide(&ctx, order, &cmd, actor, now)?;
            if let Some(v) = expected_version
                && v != order.version
            {
                return Err(ApiError::stale(order.version, v));
            }
            Ok(event)
        })
        .await
        .map_err(|e| act_error(e, number))?;
    metrics::counter!("lianxin_actions_total", "action" => action.as_str()).increment(1);
    Ok(order)
}

/// Only the paging parameters (`limit`, `cursor`) of a query.
fn paging(params: &[(String, String)]) -> Vec<(String, String)> {
    params.iter().filter(|(k, _)| k == "limit" || k == "cursor").cloned().collect()
}

/// The work queues of supervision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Being handled past the deadline (red).
    Overdue,
    /// Being handled past the yellow point, not yet overdue.
    AtRisk,
    /// Sampled for QA, awaiting a decision.
    Qa,
    /// Every order being handled (dispatched or in progress).
    Handled,
    /// Being handled, neither overdue nor at risk (green).
    OnTime,
    /// Being handled, overdue or at risk (red or yellow).
    Marked,
}

impl Queue {
    pub fn parse(s: &str) -> Option<Queue> {
        match s {
            "overdue" => Some(Queue::Overdue),
            "at_risk" => Some(Queue::AtRisk),
            "qa" => Some(Queue::Qa),
            "handled" => Some(Queue::Handled),
            _ => None,
        }
    }

    /// The store filter of the queue at the server's current time.
    pub fn filter(self, state: &AppState) -> OrderFilter {
        let now = state.now();
        let mut f = OrderFilter::default();
        match self {
            Queue::Overdue => f.overdue_at = Some(now),
            Queue::AtRisk => f.at_risk_at = Some(now),
            Queue::Qa => f.qa = Some(QaResult::Pending),
            Queue::Handled => f.statuses = vec![Status::Dispatched, Status::InProgress],
            Queue::OnTime => f.on_time_at = Some(now),
            Queue::Marked => f.marked_at = Some(now),
        }
        f
    }
}

/// One page of a queue within the user's scope (`limit`, `cursor` as for lists).
pub async fn queue(
    state: &AppState,
    user: &CurrentUser,
    queue: Queue,
    params: &[(String, String)],
) -> Result<OrderPage, ApiError> {
    let dir = state.directory();
    let paging = paging(params);
    let (_, cursor, limit) = parse_filter(&paging, &dir)?;
    let scope = scope_of(&user.actor, &dir);
    Ok(state.store().list_orders(&scope, &queue.filter(state), cursor.as_deref(), limit).await?)
}

/// How many orders a queue holds within the user's scope.
pub async fn queue_len(state: &AppState, user: &CurrentUser, queue: Queue) -> Result<i64, ApiError> {
    let scope = scope_of(&user.actor, &state.directory());
    Ok(state.store().count_orders(&scope, &queue.filter(state)).await?)
}
