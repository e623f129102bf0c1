//! The operator's intake screen: caller history (screen pop) with the repeat-call warning,
//! the category and street pickers, and registering with its first step (submit for
//! review, close at first contact, or leave registered).

use super::i18n::Tr;
use super::page::{ErrorBox, Page, error_box, html};
use super::session::{Console, Posted};
use super::view::{Names, Row, initials, rows};
use super::{forms, page_for};
use crate::service;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::reference::Directory;
use lianxin_domain::*;
use serde::{Deserialize, Serialize};

/// A leaf category as the picker's script sees it.
#[derive(Serialize)]
struct CatJson {
    /// code
    c: String,
    /// name
    n: String,
    /// names of the ancestors
    p: String,
    /// pinyin initials of the name, then of the whole path
    i: String,
    pi: String,
    /// request type (wire) and its label
    t: String,
    /// time limits per urgency, labelled
    l: [String; 3],
    /// prompts for the operator
    pr: Vec<String>,
    /// other words callers use for it, space-separated
    k: String,
    /// the category's intake template (a content skeleton), prefilled when it is picked
    #[serde(skip_serializing_if = "String::is_empty")]
    tp: String,
}

/// A street as the picker's script sees it.
#[derive(Serialize)]
struct StreetJson {
    c: String,
    n: String,
    d: String,
    dn: String,
    i: String,
}

/// JSON that can sit inside `<script type="application/json">`.
fn script_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into()).replace("</", "<\\/")
}

fn categories_json(dir: &Directory, t: Tr, templates: &std::collections::HashMap<String, String>) -> String {
    let names = Names(dir);
    let mut leaves: Vec<(&lianxin_domain::reference::Category, String)> = dir
        .categories()
        .filter(|c| c.leaf.is_some() && c.active)
        .map(|c| (c, names.category_parents(&c.code)))
        .collect();
    leaves.sort_by(|a, b| a.0.code.cmp(&b.0.code));
    let out: Vec<CatJson> = leaves
        .into_iter()
        .filter_map(|(c, p)| {
            let leaf = c.leaf.as_ref()?;
            Some(CatJson {
                c: c.code.to_string(),
                n: c.name.clone(),
                i: initials(&c.name),
                pi: initials(&p),
                p,
                t: leaf.request_type.map(|r| r.to_string()).unwrap_or_default(),
                l: [
                    t.limit(leaf.time_limits.normal),
                    t.limit(leaf.time_limits.urgent),
                    t.limit(leaf.time_limits.emergency),
                ],
                pr: leaf.prompts.clone(),
                k: c.spec.keywords.join(" ").to_lowercase(),
                tp: templates.get(c.code.as_str()).cloned().unwrap_or_default(),
            })
        })
        .collect();
    script_json(&out)
}

/// Districts (code, name) in code order.
fn districts(dir: &Directory) -> Vec<(String, String)> {
    dir.jurisdictions()
        .filter(|j| j.level == JurisdictionLevel::District && j.active)
        .map(|j| (j.code.to_string(), j.name.clone()))
        .collect()
}

fn streets_json(dir: &Directory) -> String {
    let out: Vec<StreetJson> = dir
        .jurisdictions()
        .filter(|j| j.level == JurisdictionLevel::Street && j.active)
        .map(|j| {
            let d = dir.district_of(&j.code);
            StreetJson {
                c: j.code.to_string(),
                n: j.name.clone(),
                d: d.map(|d| d.code.to_string()).unwrap_or_default(),
                dn: d.map(|d| d.name.clone()).unwrap_or_default(),
                i: initials(&j.name),
            }
        })
        .collect();
    script_json(&out)
}

/// What the operator typed, kept when a registration is refused.
#[derive(Debug, Clone)]
struct Values {
    phone: String,
    name: String,
    confidential: bool,
    channel: String,
    request_type: String,
    category: String,
    category_label: String,
    urgency: String,
    district: String,
    street: String,
    street_label: String,
    address: String,
    title: String,
    content: String,
    resolution: String,
    kind: String,
    /// What the close cites, chosen from the aids (kept when a refused form comes back).
    cite_kind: String,
    cite_id: String,
    cite_title: String,
    /// The confirmed incident the operator chose to add this order to, and its title.
    incident: String,
    incident_title: String,
}

impl Default for Values {
    fn default() -> Self {
        Values {
            phone: String::new(),
            name: String::new(),
            confidential: false,
            channel: "phone".into(),
            request_type: String::new(),
            category: String::new(),
            category_label: String::new(),
            urgency: "normal".into(),
            district: String::new(),
            street: String::new(),
            street_label: String::new(),
            address: String::new(),
            title: String::new(),
            content: String::new(),
            resolution: String::new(),
            // How a call was closed is chosen, never preset: it is reported.
            kind: String::new(),
            cite_kind: String::new(),
            cite_id: String::new(),
            cite_title: String::new(),
            incident: String::new(),
            incident_title: String::new(),
        }
    }
}

impl Values {
    fn from_posted(p: &Posted, dir: &Directory) -> Values {
        let g = |k: &str| p.get(k).unwrap_or_default().to_owned();
        let names = Names(dir);
        let category = g("category");
        let category_label = CategoryCode::parse(&category)
            .ok()
            .filter(|c| dir.category(c).is_some())
            .map(|c| format!("{} › {}", names.category_parents(&c), names.category(&c)))
            .unwrap_or_default();
        let street = g("location.street");
        let street_label = JurisdictionCode::parse(&street)
            .ok()
            .map(|s| {
                let district = dir.district_of(&s).map(|d| d.code.clone());
                names.place(&lianxin_domain::order::Location {
                    address: None,
                    street: Some(s),
                    district,
                    lat: None,
                    lon: None,
                })
            })
            .filter(|_| !street.is_empty())
            .unwrap_or_default();
        Values {
            phone: g("caller.phone"),
            name: g("caller.name"),
            confidential: p.get("caller.confidential").is_some_and(|v| !v.is_empty()),
            channel: g("channel"),
            request_type: g("request_type"),
            category,
            category_label,
            urgency: g("urgency"),
            district: g("location.district"),
            street,
            street_label,
            address: g("location.address"),
            title: g("title"),
            content: g("content"),
            resolution: g("resolution"),
            kind: g("kind"),
            cite_kind: g("cite.kind"),
            cite_id: g("cite.id"),
            cite_title: g("_cite_title"),
            incident: g("_incident"),
            incident_title: g("_incident_title"),
        }
    }
}

/// A labelled choice of a `<select>`.
struct Choice {
    value: &'static str,
    label: String,
}

fn choices(all: &[&'static str], label: impl Fn(&str) -> String) -> Vec<Choice> {
    all.iter().map(|v| Choice { value: v, label: label(v) }).collect()
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    p: Page,
    t: Tr,
    v: Values,
    channels: Vec<Choice>,
    request_types: Vec<Choice>,
    urgencies: Vec<Choice>,
    close_kinds: Vec<Choice>,
    districts: Vec<(String, String)>,
    categories_json: String,
    streets_json: String,
    done_number: String,
    done_message: String,
}

async fn intake_page(state: &AppState, c: &Console, v: Values, error: Option<ErrorBox>) -> IntakePage {
    let t = c.t();
    // Without its templates the screen still takes calls: the skeletons are a help.
    let templates = match state.store().templates().await {
        Ok(all) => all.into_iter().map(|tp| (tp.category.to_string(), tp.body)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "reading the intake templates");
            Default::default()
        }
    };
    let dir = state.directory();
    let mut p = page_for(state, c, t.s("intake.title"));
    p.error = error;
    IntakePage {
        p,
        t,
        v,
        channels: choices(&Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(), |s| t.channel(s)),
        request_types: choices(&RequestType::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(), |s| t.request_type(s)),
        urgencies: choices(&Urgency::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(), |s| t.urgency(s)),
        close_kinds: choices(&CloseKind::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(), |s| t.close_kind(s)),
        districts: districts(&dir),
        categories_json: categories_json(&dir, t, &templates),
        streets_json: streets_json(&dir),
        done_number: String::new(),
        done_message: String::new(),
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
    then: Option<String>,
    /// The order an action from the repeat warning went to (`done` names the action).
    n: Option<String>,
    /// Whether the new order joined the incident the operator chose (`1`), or could not (`0`).
    joined: Option<String>,
}

/// `GET /console/intake`.
pub async fn form(State(state): State<AppState>, c: Console, Query(q): Query<Done>) -> Response {
    if let Some(e) = super::page::refuse_page(&c.user, "/console/intake") {
        return super::page::page_error(&super::page_for(&state, &c, ""), &e);
    }
    let t = c.t();
    let mut page = intake_page(&state, &c, Values::default(), None).await;
    if let (Some(a), Some(n)) =
        (q.done.as_deref().and_then(Action::parse), q.n.filter(|n| OrderNumber::parse(n).is_ok()))
    {
        page.done_message = t.s(&format!("done.{a}")).to_owned();
        page.done_number = n;
    } else if let Some(n) = q.done.filter(|n| OrderNumber::parse(n).is_ok()) {
        let key = match q.then.as_deref() {
            Some("close") => "intake.done_close",
            Some("save") => "intake.done_save",
            _ => "intake.done_submit",
        };
        page.done_message = t.s(key).to_owned();
        match q.joined.as_deref() {
            Some("1") => page.done_message.push_str(t.s("intake.done_joined")),
            Some(_) => page.done_message.push_str(t.s("intake.done_not_joined")),
            None => {}
        }
        page.done_number = n;
    }
    html(StatusCode::OK, &page)
}

/// `POST /console/intake`: register, then submit or close as the operator chose.
pub async fn submit(State(state): State<AppState>, posted: Posted) -> Response {
    let c = &posted.console;
    let t = c.t();
    let then = posted.get("then").unwrap_or("submit").to_owned();
    let offset = state.calendar().utc_offset_minutes;
    // Closing at once needs the answer and how it was closed, checked before anything is
    // registered so that a refused close leaves no half-done order behind.
    if then == "close" {
        let mut missing = std::collections::BTreeMap::new();
        for field in ["resolution", "kind"] {
            if posted.get(field).is_none_or(|v| v.trim().is_empty()) {
                missing.insert(field.to_owned(), "is required".to_owned());
            }
        }
        if !missing.is_empty() {
            let e = crate::error::ApiError::invalid(missing);
            let values = Values::from_posted(&posted, &state.directory());
            let eb = error_box(t, &e, None);
            return html(e.status, &intake_page(&state, c, values, Some(eb)).await);
        }
    }
    let closing = |k: &str| k == "resolution" || k == "kind" || k.starts_with("cite.");
    let intake_fields: Vec<(String, String)> = posted.fields.iter().filter(|(k, _)| !closing(k)).cloned().collect();
    let obj = forms::to_json(&intake_fields, offset);
    let order = match service::register(&state, &c.user, &obj).await {
        Ok(o) => o,
        Err(e) => {
            let dir = state.directory();
            let values = Values::from_posted(&posted, &dir);
            let eb = error_box(t, &e, None);
            return html(e.status, &intake_page(&state, c, values, Some(eb)).await);
        }
    };
    let number = order.number.to_string();
    let next = match then.as_str() {
        "close" => {
            let close: Vec<(String, String)> = posted.fields.iter().filter(|(k, _)| closing(k)).cloned().collect();
            Some(("close", forms::to_json(&close, offset)))
        }
        "save" => None,
        _ => Some(("submit", serde_json::Map::new())),
    };
    if let Some((action, body)) = next
        && let Err(e) = service::perform(&state, &c.user, &number, action, body).await
    {
        // The order exists; show it with what went wrong so the operator can finish it.
        return super::order::render_refused(&state, c, &number, action, &e, &posted.fields).await;
    }
    // The operator chose to add the order to a confirmed incident (an order closed at once
    // is answered already and joins nothing).
    let incident = posted.get("_incident").map(str::trim).filter(|i| !i.is_empty() && then != "close");
    let mut joined = "";
    if let Some(id) = incident {
        match crate::api::incidents::add(&state, &c.user, id, vec![number.clone()], Default::default()).await {
            Ok(refused) if refused.is_empty() => joined = "&joined=1",
            // The order stands; the operator is told it did not join (and can add it from
            // the incident's page).
            Ok(_) => {
                tracing::warn!(incident = id, "the new order is in another incident already");
                joined = "&joined=0";
            }
            Err(e) => {
                tracing::warn!(error = %e.message, incident = id, "joining the incident at intake");
                joined = "&joined=0";
            }
        }
    }
    let then = match then.as_str() {
        "close" => "close",
        "save" => "save",
        _ => "submit",
    };
    Redirect::to(&format!("/console/intake?done={number}&then={then}{joined}")).into_response()
}

#[derive(Deserialize, Default)]
pub struct PhoneQuery {
    phone: Option<String>,
}

#[derive(Template)]
#[template(path = "caller_history.html")]
struct CallerHistory {
    t: Tr,
    rows: Vec<Row>,
    open: Vec<Row>,
    name: String,
    error: String,
    /// Whether the user may add this call to an open order (an operator).
    can_add: bool,
}

/// `GET /console/callers?phone=`: the caller's past orders, a fragment for the intake
/// screen (the repeat-call warning when one is still open).
pub async fn caller_history(State(state): State<AppState>, c: Console, Query(q): Query<PhoneQuery>) -> Response {
    let t = c.t();
    let phone = q.phone.unwrap_or_default();
    let params = vec![("limit".to_owned(), "50".to_owned())];
    let frag = match service::caller_orders(&state, &c.user, phone.trim(), &params).await {
        Ok(page) => {
            let all = rows(&state, &c, &page.items, "caller_history").await;
            let open: Vec<Row> =
                page.items.iter().zip(all.iter()).filter(|(o, _)| o.status.is_open()).map(|(_, r)| r.clone()).collect();
            let name = all.first().map(|r| r.caller_name.clone()).unwrap_or_default();
            let can_add = c.user.actor.has(Role::Operator);
            CallerHistory { t, rows: all, open, name, error: String::new(), can_add }
        }
        Err(e) => {
            let eb = error_box(t, &e, None);
            let msg = eb.fields.first().map(|(k, v)| format!("{k}: {v}")).unwrap_or(eb.message);
            CallerHistory { t, rows: Vec::new(), open: Vec::new(), name: String::new(), error: msg, can_add: false }
        }
    };
    html(StatusCode::OK, &frag)
}
