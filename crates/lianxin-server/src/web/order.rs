//! The order page: facts, deadlines, the event timeline (who did what, when), and the
//! forms of the actions the signed-in user may take in the order's current state.

use super::i18n::Tr;
use super::page::{ErrorBox, error_box, html, page_error};
use super::session::{Console, Posted};
use super::supervision::{Mark, mark};
use super::view::{
    Names, TimelineEntry, UnitGroup, UnitOpt, caller_text, category_groups, fmt_dt, fmt_input, initials, street_groups,
    timeline, unit_groups,
};
use super::{forms, page_for};
use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::command::MergeTarget;
use lianxin_domain::lifecycle::decide;
use lianxin_domain::reference::{Directory, TimeLimits};
use lianxin_domain::*;
use std::collections::BTreeMap;

/// The actions a page may offer, in the order the forms appear.
const OFFERED: &[Action] = &[
    Action::Submit,
    Action::Close,
    Action::Approve,
    Action::SendBack,
    Action::Dispatch,
    Action::Sign,
    Action::Reply,
    Action::Return,
    Action::Subdispatch,
    Action::RequestExtension,
    Action::DecideExtension,
    Action::Callback,
    Action::Reopen,
    Action::Urge,
    Action::Correct,
    Action::AddContact,
    Action::Merge,
    Action::Cancel,
    Action::Note,
];

/// A command with valid placeholder values, to ask the domain whether `action` is open to
/// this actor in this state; `None` when no such command can be formed (no sub-unit to
/// sub-dispatch to).
fn probe(action: Action, order: &Order, dir: &Directory, now: Millis) -> Option<Command> {
    let x = || "x".to_owned();
    Some(match action {
        Action::Register | Action::Import => return None,
        Action::Submit => Command::Submit,
        Action::Approve => Command::Approve,
        Action::Sign => Command::Sign,
        Action::SendBack => Command::SendBack { reason: x() },
        Action::Return => Command::Return { reason: x() },
        Action::Reopen => Command::Reopen { reason: x() },
        Action::Cancel => Command::Cancel { reason: x() },
        Action::Close => Command::Close { kind: CloseKind::Answered, resolution: x(), cite: None },
        Action::Dispatch => Command::Dispatch {
            lead_unit: dir.units().find(|u| u.kind.can_handle())?.code.clone(),
            assisting_units: Vec::new(),
            note: None,
        },
        Action::Subdispatch => {
            let lead = order.lead_unit.as_ref()?;
            let unit = sub_units(dir, lead).into_iter().next()?;
            Command::Subdispatch { unit, note: None }
        }
        Action::RequestExtension => {
            Command::RequestExtension { until: order.deadline.unwrap_or(now).max(now) + 86_400_000, reason: x() }
        }
        Action::DecideExtension => Command::DecideExtension { approve: false, note: None },
        Action::Reply => Command::Reply { content: x(), solved: true },
        Action::Callback => Command::Callback { satisfaction: Satisfaction::Satisfied, solved: Some(true), note: None },
        Action::Merge => {
            let other = if order.number.as_str() == "99999999999999" { "99999999999998" } else { "99999999999999" };
            let into = OrderNumber::parse(other).ok()?;
            Command::Merge {
                into: into.clone(),
                target: Some(MergeTarget { number: into, status: Status::Registered }),
            }
        }
        Action::Urge => Command::Urge { note: x(), level: 1 },
        Action::Note => Command::Note { text: x() },
        Action::Correct => Command::Correct {
            category: None,
            request_type: None,
            urgency: Some(if order.intake.urgency == Urgency::Normal { Urgency::Urgent } else { Urgency::Normal }),
            location: None,
            note: None,
        },
        Action::AddContact => Command::AddContact { content: x(), channel: None, caller: None },
        // Actions this page does not offer.
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// Handling units strictly below `lead`.
fn sub_units(dir: &Directory, lead: &UnitCode) -> Vec<UnitCode> {
    dir.subtree(lead).into_iter().filter(|u| u != lead && dir.unit(u).is_some_and(|x| x.kind.can_handle())).collect()
}

/// The actions the domain would accept from this actor now (values aside).
pub fn available(state: &AppState, order: &Order, actor: &Actor) -> Vec<&'static str> {
    let dir = state.directory();
    let cal = state.calendar();
    let ctx = state.context(&dir, &cal);
    let now = state.now();
    OFFERED
        .iter()
        .filter(|a| {
            probe(**a, order, &dir, now).is_some_and(|cmd| match decide(&ctx, order, &cmd, actor, now) {
                Ok(_) | Err(DomainError::Invalid { .. }) => true,
                Err(_) => false,
            })
        })
        .map(|a| a.as_str())
        .collect()
}

/// What the page shows of the order (the caller as the API renders it).
#[derive(Debug, Default)]
struct Facts {
    number: String,
    status_wire: String,
    status: String,
    title: String,
    content: String,
    category: String,
    category_code: String,
    category_parents: String,
    channel: String,
    request_type_wire: String,
    request_type: String,
    urgency_wire: String,
    urgency: String,
    caller: String,
    caller_hidden: bool,
    confidential: bool,
    place: String,
    street_code: String,
    district_code: String,
    lat: String,
    lon: String,
    address: String,
    lead: String,
    assisting: String,
    created: String,
    created_by: String,
    deadline: String,
    /// The handling limit of the order's category and urgency, before dispatch.
    limit: String,
    sign_deadline: String,
    mark: String,
    closed_at: String,
    ext_until: String,
    ext_reason: String,
    ext_by: String,
    reply: String,
    reply_solved: String,
    reply_unit: String,
    reply_at: String,
    callback: String,
    callback_note: String,
    callback_at: String,
    first_contact_kind: String,
    first_contact: String,
    /// What the first-contact close cited, and where to read it (empty when nothing).
    cite: String,
    cite_href: String,
    merged_into: String,
    counters: String,
    version: i64,
}

/// A labelled choice.
struct Choice {
    value: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    p: super::page::Page,
    t: Tr,
    o: Facts,
    timeline: Vec<TimelineEntry>,
    avail: Vec<&'static str>,
    primary: &'static str,
    posted_action: String,
    posted: Vec<(String, String)>,
    groups: Vec<UnitGroup>,
    suggested: Option<UnitOpt>,
    subs: Vec<UnitOpt>,
    last_return: String,
    ext_default: String,
    satisfactions: Vec<Choice>,
    close_kinds: Vec<Choice>,
    /// The correction form's pickers (filled only when the user may correct).
    cat_groups: Vec<UnitGroup>,
    street_groups: Vec<UnitGroup>,
    districts: Vec<UnitOpt>,
    request_types: Vec<Choice>,
    urgencies: Vec<Choice>,
    channels: Vec<Choice>,
    /// The incident the order belongs to (id, title), if any.
    incident: Option<(String, String)>,
}

impl OrderPage {
    fn can(&self, action: &str) -> bool {
        self.avail.contains(&action)
    }

    /// Whether any of the less frequent actions is open.
    fn has_more(&self) -> bool {
        ["merge", "cancel", "note", "add_contact"].iter().any(|a| self.can(a))
    }

    /// The value the user had typed into `field` of the refused `action`'s form.
    fn val(&self, action: &str, field: &str) -> String {
        if self.posted_action != action {
            return String::new();
        }
        self.posted.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    fn checked(&self, action: &str, field: &str, value: &str) -> bool {
        self.val(action, field) == value
    }

    /// What a prefilled form's `field` shows: what was typed into the refused form, or else
    /// the order's `current` value.
    fn pick(&self, action: &str, field: &str, current: &str) -> String {
        if self.posted_action == action { self.val(action, field) } else { current.to_owned() }
    }
}

fn facts(t: Tr, names: &Names, state: &AppState, o: &Order, caller: &crate::views::CallerOut) -> Facts {
    let cal = &*state.calendar();
    let yes_no = |b: Option<bool>| match b {
        Some(true) => t.s("order.solved").to_owned(),
        Some(false) => t.s("order.unsolved").to_owned(),
        None => t.s("order.solved_unknown").to_owned(),
    };
    let m = mark(state, o);
    Facts {
        number: o.number.to_string(),
        status_wire: o.status.to_string(),
        status: t.status(o.status.as_str()),
        title: o.intake.title.clone(),
        content: o.intake.content.clone(),
        category: names.category(&o.intake.category),
        category_code: o.intake.category.to_string(),
        category_parents: names.category_parents(&o.intake.category),
        channel: o.intake.channel.map(|c| t.channel(c.as_str()).to_owned()).unwrap_or_default(),
        request_type_wire: o.intake.request_type.to_string(),
        request_type: t.request_type(o.intake.request_type.as_str()),
        urgency_wire: o.intake.urgency.to_string(),
        urgency: t.urgency(o.intake.urgency.as_str()),
        caller: caller_text(t, caller),
        caller_hidden: caller.phone.is_none(),
        confidential: caller.confidential,
        place: names.place(&o.intake.location),
        street_code: o.intake.location.street.as_ref().map(|s| s.to_string()).unwrap_or_default(),
        district_code: o.intake.location.district.as_ref().map(|s| s.to_string()).unwrap_or_default(),
        lat: o.intake.location.lat.map(|v| v.to_string()).unwrap_or_default(),
        lon: o.intake.location.lon.map(|v| v.to_string()).unwrap_or_default(),
        address: o.intake.location.address.clone().unwrap_or_default(),
        lead: o.lead_unit.as_ref().map(|u| names.unit(u)).unwrap_or_default(),
        assisting: o.assisting_units.iter().map(|u| names.unit(u)).collect::<Vec<_>>().join(if t.is_en() {
            ", "
        } else {
            "、"
        }),
        created: fmt_dt(cal, o.created_at),
        created_by: o.created_by.clone(),
        deadline: o.deadline.map(|d| fmt_dt(cal, d)).unwrap_or_default(),
        limit: match o.status {
            Status::Registered | Status::InReview | Status::PendingDispatch => {
                let dir = names.0;
                let limits = dir.leaf(&o.intake.category).map(|(_, l)| l.time_limits).unwrap_or(TimeLimits::DEFAULT);
                t.limit(limits.for_urgency(o.intake.urgency))
            }
            _ => String::new(),
        },
        sign_deadline: o.sign_deadline.map(|d| fmt_dt(cal, d)).unwrap_or_default(),
        mark: match m {
            Some(Mark::Red) => "red".into(),
            Some(Mark::Yellow) => "yellow".into(),
            Some(Mark::Green) => "green".into(),
            None => String::new(),
        },
        closed_at: o.closed_at.map(|d| fmt_dt(cal, d)).unwrap_or_default(),
        ext_until: o.pending_extension.as_ref().map(|e| fmt_dt(cal, e.until)).unwrap_or_default(),
        ext_reason: o.pending_extension.as_ref().map(|e| e.reason.clone()).unwrap_or_default(),
        ext_by: o.pending_extension.as_ref().map(|e| e.requested_by.clone()).unwrap_or_default(),
        reply: o.reply.as_ref().map(|r| r.content.clone()).unwrap_or_default(),
        reply_solved: o.reply.as_ref().map(|r| yes_no(r.solved)).unwrap_or_default(),
        reply_unit: o.reply.as_ref().and_then(|r| r.unit.as_ref()).map(|u| names.unit(u)).unwrap_or_default(),
        reply_at: o.reply.as_ref().map(|r| fmt_dt(cal, r.at)).unwrap_or_default(),
        callback: o
            .callback
            .as_ref()
            .map(|c| format!("{} · {}", t.satisfaction(c.satisfaction.as_str()), yes_no(c.solved)))
            .unwrap_or_default(),
        callback_note: o.callback.as_ref().and_then(|c| c.note.clone()).unwrap_or_default(),
        callback_at: o.callback.as_ref().map(|c| fmt_dt(cal, c.at)).unwrap_or_default(),
        first_contact_kind: o.first_contact.as_ref().map(|f| t.close_kind(f.kind.as_str())).unwrap_or_default(),
        first_contact: o.first_contact.as_ref().map(|f| f.resolution.clone()).unwrap_or_default(),
        cite: o
            .first_contact
            .as_ref()
            .and_then(|f| f.cite.as_ref())
            .map(|c| match c.version {
                Some(v) => format!("{}《{}》v{v}", t.s(&format!("cite.{}", c.kind)), c.title),
                None => format!("{}《{}》", t.s(&format!("cite.{}", c.kind)), c.title),
            })
            .unwrap_or_default(),
        cite_href: o
            .first_contact
            .as_ref()
            .and_then(|f| f.cite.as_ref())
            .filter(|c| c.kind == CiteKind::Article)
            .map(|c| format!("/console/kb/{}", c.id))
            .unwrap_or_default(),
        merged_into: o.merged_into.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        counters: format!("{} / {} / {} / {}", o.returns, o.reopens, o.urges, o.extensions_granted),
        version: o.version,
    }
}

/// A refused action to show on the order page: the action, its error and what was typed.
struct Refused {
    action: String,
    error: ErrorBox,
    fields: Vec<(String, String)>,
}

/// Builds the order page, or the 404 page when the order is absent or out of scope.
async fn order_page(
    state: &AppState,
    c: &Console,
    number: &str,
    flash: Option<String>,
    refused: Option<Refused>,
) -> Result<OrderPage, Response> {
    let t = c.t();
    let (order, _) = match service::visible_order(state, &c.user, number).await {
        Ok(x) => x,
        Err(e) => return Err(page_error(&page_for(state, c, ""), &e)),
    };
    let events = match service::events(state, &c.user, number).await {
        Ok(e) => e,
        Err(e) => return Err(page_error(&page_for(state, c, ""), &e)),
    };
    let caller = service::render(state, &c.user, std::slice::from_ref(&order), "view_order")
        .await
        .pop()
        .map(|o| o.caller)
        .unwrap_or(crate::views::CallerOut { phone: None, name: None, confidential: true });
    let dir = state.directory();
    let names = Names(&dir);
    let mut display: BTreeMap<String, String> = BTreeMap::new();
    for e in &events {
        if !display.contains_key(&e.event.actor) {
            let name = match state.store().user(&e.event.actor).await {
                Ok(Some(u)) => u.display_name,
                _ => e.event.actor.clone(),
            };
            display.insert(e.event.actor.clone(), name);
        }
    }
    let who = |u: &str| display.get(u).cloned().unwrap_or_else(|| u.to_owned());
    let tl = timeline(t, &names, &state.calendar(), &events, &who);
    let avail = available(state, &order, &c.user.actor);
    // The first open action takes the focus, unless a refused form is shown again.
    let primary = if refused.is_some() {
        ""
    } else {
        avail.iter().copied().find(|a| !matches!(*a, "note" | "merge" | "cancel" | "urge")).unwrap_or("")
    };
    let mut f = facts(t, &names, state, &order, &caller);
    f.created_by = who(&f.created_by);
    f.ext_by = if f.ext_by.is_empty() { String::new() } else { who(&f.ext_by) };
    let opt = |u: &UnitCode| UnitOpt { code: u.to_string(), name: names.unit(u), initials: initials(&names.unit(u)) };
    let suggested = names.suggested_lead(&order).map(|u| opt(&u));
    let subs = order.lead_unit.as_ref().map(|l| sub_units(&dir, l).iter().map(opt).collect()).unwrap_or_default();
    let last_return = order
        .returned
        .last()
        .map(|r| {
            let unit = r.unit.as_ref().map(|u| names.unit(u)).unwrap_or_default();
            format!("{unit}（{}）· {}", who(&r.by), r.reason)
        })
        // Orders returned before returns were kept on the order: the latest return event.
        .or_else(|| {
            let e = events.iter().rev().find(|e| e.event.action() == Action::Return)?;
            let unit = e.event.unit.as_ref().map(|u| names.unit(u)).unwrap_or_default();
            Some(format!("{unit}（{}）· {}", who(&e.event.actor), e.comment.clone().unwrap_or_default()))
        })
        .filter(|_| order.status == Status::PendingDispatch)
        .unwrap_or_default();
    let cal = state.calendar();
    // Typed as the console writes times (`2026-11-30 17:30`): a browser's date picker speaks
    // the browser's language, not the console's.
    let ext_default =
        fmt_input(&cal, order.deadline.unwrap_or(state.now()).max(state.now()) + 3 * 86_400_000).replacen('T', " ", 1);
    let mut p = page_for(state, c, &format!("{} {}", t.s("order.title"), order.number));
    p.flash = flash;
    let (posted_action, posted) = match refused {
        Some(r) => {
            p.error = Some(r.error);
            (r.action, r.fields)
        }
        None => (String::new(), Vec::new()),
    };
    let groups = if avail.contains(&"dispatch") { unit_groups(&dir, t) } else { Vec::new() };
    let incident = match state.store().incident_of(number).await {
        Ok(Some(id)) => match state.store().incident(&id).await {
            Ok(Some(i)) => Some((i.id, i.title)),
            _ => None,
        },
        _ => None,
    };
    let correcting = avail.contains(&"correct");
    let (cat_groups, street_groups) =
        if correcting { (category_groups(&dir), street_groups(&dir)) } else { (Vec::new(), Vec::new()) };
    Ok(OrderPage {
        p,
        t,
        o: f,
        timeline: tl,
        avail,
        primary,
        posted_action,
        posted,
        groups,
        suggested,
        subs,
        last_return,
        ext_default,
        // The resident's answers; "not reached" is a button of its own.
        satisfactions: Satisfaction::ALL
            .iter()
            .filter(|s| **s != Satisfaction::Unreachable)
            .map(|s| Choice { value: s.as_str(), label: t.satisfaction(s.as_str()) })
            .collect(),
        close_kinds: CloseKind::ALL
            .iter()
            .map(|s| Choice { value: s.as_str(), label: t.close_kind(s.as_str()) })
            .collect(),
        cat_groups,
        street_groups,
        districts: if correcting {
            dir.jurisdictions()
                .filter(|j| j.level == JurisdictionLevel::District && j.active)
                .map(|j| UnitOpt { code: j.code.to_string(), name: j.name.clone(), initials: String::new() })
                .collect()
        } else {
            Vec::new()
        },
        request_types: RequestType::ALL
            .iter()
            .map(|s| Choice { value: s.as_str(), label: t.request_type(s.as_str()) })
            .collect(),
        urgencies: Urgency::ALL.iter().map(|s| Choice { value: s.as_str(), label: t.urgency(s.as_str()) }).collect(),
        channels: Channel::ALL
            .iter()
            .map(|s| Choice { value: s.as_str(), label: t.channel(s.as_str()).to_owned() })
            .collect(),
        incident,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /console/orders/{number}`.
pub async fn show(
    State(state): State<AppState>,
    c: Console,
    Path(number): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = c.t();
    let flash = q.done.filter(|a| Action::parse(a).is_some()).map(|a| t.s(&format!("done.{a}")).to_owned());
    match order_page(&state, &c, &number, flash, None).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(resp) => resp,
    }
}

/// The order page with a refused action's message (or the 404 page).
pub async fn render_refused(
    state: &AppState,
    c: &Console,
    number: &str,
    action: &str,
    e: &ApiError,
    fields: &[(String, String)],
) -> Response {
    if e.code == "not_found" {
        return page_error(&page_for(state, c, ""), e);
    }
    let status = match service::visible_order(state, &c.user, number).await {
        Ok((o, _)) => o.status.to_string(),
        Err(e) => return page_error(&page_for(state, c, ""), &e),
    };
    let mut eb = error_box(c.t(), e, Some((action, &status)));
    eb.form = format!("act-{action}");
    match order_page(
        state,
        c,
        number,
        None,
        Some(Refused { action: action.to_owned(), error: eb, fields: fields.to_vec() }),
    )
    .await
    {
        Ok(page) => html(e.status, &page),
        Err(resp) => resp,
    }
}

/// Only pages of the console are returned to after an action.
fn safe_return(to: Option<&str>) -> Option<String> {
    let to = to?.trim();
    (to.starts_with("/console/") && !to.contains("//") && !to.contains('\\') && !to.contains('?'))
        .then(|| to.to_owned())
}

/// `POST /console/orders/{number}/actions/{action}`.
pub async fn act(
    State(state): State<AppState>,
    Path((number, action)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let c = &posted.console;
    let body = forms::to_json(&posted.fields, state.calendar().utc_offset_minutes);
    match service::perform(&state, &c.user, &number, &action, body).await {
        Ok(_) => {
            let to = match safe_return(posted.get("return_to")) {
                Some(path) => format!("{path}?done={action}&n={number}"),
                None => format!("/console/orders/{number}?done={action}"),
            };
            Redirect::to(&to).into_response()
        }
        Err(e) => render_refused(&state, c, &number, &action, &e, &posted.fields).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_are_returned_to() {
        assert_eq!(safe_return(Some("/console/review")).as_deref(), Some("/console/review"));
        assert_eq!(safe_return(Some("https://x.example/console/")), None);
        assert_eq!(safe_return(Some("/console//x")), None);
        assert_eq!(safe_return(None), None);
    }
}
