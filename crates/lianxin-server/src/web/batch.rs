//! Batch dispatch (批量派单) from the dispatch queue: a dispatcher classifies, ticks several
//! orders that belong to one unit and sends them in one action. Each order is still its own
//! `dispatch` action through [`service::perform`] (its own event, rules and refusal); the
//! page then says how many went and which did not, and why.

use super::page::refuse_page;
use super::page_for;
use super::session::{Posted, enc};
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
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
    let mut reason = String::new();
    for n in &numbers {
        match service::perform(&state, &c.user, n, "dispatch", body.clone()).await {
            Ok(_) => sent += 1,
            Err(e) => {
                if reason.is_empty() {
                    reason = e.message.clone();
                }
                refused.push(n.clone());
            }
        }
    }
    let mut to = format!("/console/dispatch?batch_sent={sent}&batch_unit={}", enc(lead));
    if !refused.is_empty() {
        to.push_str(&format!("&batch_refused={}&batch_reason={}", refused.join(","), enc(&reason)));
    }
    Redirect::to(&to).into_response()
}
