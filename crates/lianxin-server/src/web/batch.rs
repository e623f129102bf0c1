//! Batch dispatch (批量派单) from the dispatch queue: a dispatcher classifies, ticks several
//! orders that belong to one unit and sends them in one action. Each order is still its own
//! `dispatch` action through [`service::perform`] (its own event, rules and refusal); the
//! page then says how many went and which did not, and why.

use super::i18n::Tr;
use super::page::refuse_page;
use super::page_for;
use super::session::{Posted, enc};
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::reference::Directory;
use lianxin_domain::{OrderNumber, UnitCode};
use serde_json::{Map, Value, json};

/// Most orders one batch takes: a screenful of the queue.
pub const MAX_BATCH: usize = 100;

/// `POST /console/dispatch/batch`: `numbers` (repeated), `lead_unit`, `note`?.
pub async fn dispatch(State(state): State<AppState>, posted: Posted) -> Response {
    let c = &posted.console;
    if let Some(e) = refuse_page(&c.user, "/console/dispatch") {
        return super::page::page_error(&page_for(&state, c, ""), &e);
    }
    let mut numbers: Vec<String> = Vec::new();
    for (k, v) in &posted.fields {
        if k == "numbers" && !numbers.contains(v) {
            numbers.push(v.trim().to_owned());
        }
    }
    let lead = posted.get("lead_unit").map(str::trim).unwrap_or("");
    let note = posted.get("note").map(str::trim).filter(|n| !n.is_empty());
    let problem = if numbers.is_empty() {
        Some("none")
    } else if numbers.len() > MAX_BATCH {
        Some("too_many")
    } else if lead.is_empty() {
        Some("no_unit")
    } else {
        None
    };
    if let Some(p) = problem {
        return Redirect::to(&format!("/console/dispatch?batch_error={p}")).into_response();
    }
    let mut body = Map::new();
    body.insert("lead_unit".into(), json!(lead));
    if let Some(n) = note {
        body.insert("note".into(), Value::String(n.to_owned()));
    }
    let mut sent = 0usize;
    let mut refused: Vec<String> = Vec::new();
    let mut reason = "";
    for n in &numbers {
        match service::perform(&state, &c.user, n, "dispatch", body.clone()).await {
            Ok(_) => sent += 1,
            Err(e) => {
                if reason.is_empty() {
                    reason = e.code;
                }
                refused.push(n.clone());
            }
        }
    }
    let mut to = format!("/console/dispatch?batch_sent={sent}&batch_unit={}", enc(lead));
    if !refused.is_empty() {
        to.push_str(&format!("&batch_refused={}&batch_reason={reason}", refused.join(",")));
    }
    Redirect::to(&to).into_response()
}

/// What a batch dispatch did, as the dispatch queue's query carries it back.
#[derive(serde::Deserialize, Default)]
pub struct BatchDone {
    batch_sent: Option<String>,
    batch_unit: Option<String>,
    batch_refused: Option<String>,
    batch_reason: Option<String>,
    batch_error: Option<String>,
}

impl BatchDone {
    /// The flash to show, and what was refused, in the page's language.
    pub fn message(&self, t: Tr, dir: &Directory) -> Option<(String, Option<String>)> {
        if let Some(e) = self.batch_error.as_deref().filter(|e| ["none", "too_many", "no_unit"].contains(e)) {
            return Some((
                String::new(),
                Some(t.s(&format!("batch.error_{e}")).replace("{max}", &MAX_BATCH.to_string())),
            ));
        }
        let sent: usize = self.batch_sent.as_deref()?.parse().ok()?;
        let unit = self
            .batch_unit
            .as_deref()
            .and_then(|u| UnitCode::parse(u).ok())
            .and_then(|u| dir.unit(&u).map(|x| x.name.clone()))
            .unwrap_or_default();
        let flash = t.s("batch.sent").replace("{n}", &sent.to_string()).replace("{unit}", &unit);
        let numbers: Vec<&str> =
            self.batch_refused.as_deref().unwrap_or("").split(',').filter(|n| OrderNumber::parse(n).is_ok()).collect();
        let refused = (!numbers.is_empty()).then(|| {
            let code = self.batch_reason.as_deref().unwrap_or("");
            let key = format!("err.{code}");
            let why = if super::i18n::has(&key) { t.s(&key) } else { t.s("err.other") };
            t.s("batch.refused").replace("{n}", &numbers.len().to_string()).replace("{numbers}", &numbers.join("、"))
                + " "
                + why
        });
        Some((flash, refused))
    }
}
