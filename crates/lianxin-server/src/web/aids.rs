//! The intake's aids at the moment of the call (`GET /console/intake/aids`): as the
//! operator types, similar open orders to merge into, knowledge-base answers to read out
//! and cite, the category's template, referral entries and the place's announcements.

use super::i18n::Tr;
use super::page::html;
use super::session::Console;
use crate::api::knowledge::{Suggestions, suggestions};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lianxin_domain::{CategoryCode, JurisdictionCode, Role};

#[derive(Debug, Default, serde::Deserialize)]
pub struct AidsQuery {
    content: Option<String>,
    street: Option<String>,
    category: Option<String>,
}

/// A knowledge-base answer with its body to read out.
struct Answer {
    id: String,
    title: String,
    snippet_html: String,
    body: String,
    version: i64,
    valid: bool,
}

#[derive(Template)]
#[template(path = "intake_aids.html")]
struct Aids {
    t: Tr,
    s: Suggestions,
    answers: Vec<Answer>,
    can_merge: bool,
    empty: bool,
}

pub async fn aids(State(state): State<AppState>, c: Console, Query(q): Query<AidsQuery>) -> Response {
    let t = c.t();
    let content: String = q.content.unwrap_or_default().chars().take(lianxin_domain::lifecycle::MAX_TEXT).collect();
    let street = q.street.as_deref().and_then(|s| JurisdictionCode::parse(s.trim()).ok());
    let category = q.category.as_deref().and_then(|s| CategoryCode::parse(s.trim()).ok());
    let s = match suggestions(&state, &c.user, &content, street.as_ref(), category.as_ref()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e.message, "intake aids");
            return html(StatusCode::OK, &Aids { t, s: empty(), answers: Vec::new(), can_merge: false, empty: true });
        }
    };
    let mut answers = Vec::new();
    for a in &s.articles {
        if let Ok(Some(stored)) = state.store().article(&a.id).await {
            let snippet = lianxin_search::Snippet { text: a.snippet.clone(), highlights: a.highlights.clone() };
            answers.push(Answer {
                id: a.id.clone(),
                title: a.title.clone(),
                snippet_html: snippet.to_html(),
                body: stored.article.body.replace("**", ""),
                version: stored.version,
                valid: a.valid,
            });
        }
    }
    let empty = s.similar.is_empty()
        && answers.is_empty()
        && s.templates.is_empty()
        && s.referrals.is_empty()
        && s.announcements.is_empty()
        && s.incidents.is_empty();
    let can_merge = c.user.actor.has(Role::Operator);
    html(StatusCode::OK, &Aids { t, s, answers, can_merge, empty })
}

fn empty() -> Suggestions {
    Suggestions {
        categories: Vec::new(),
        request_types: Vec::new(),
        units: Vec::new(),
        similar: Vec::new(),
        articles: Vec::new(),
        templates: Vec::new(),
        referrals: Vec::new(),
        announcements: Vec::new(),
        incidents: Vec::new(),
    }
}
