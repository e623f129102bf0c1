//! Supervision (督办): overdue and at-risk queues, the sweeper, notifications, QA sampling.

use crate::api::orders::OrderList;
use crate::auth::CurrentUser;
use crate::body::{Fields, JsonObject, Params};
use crate::error::ApiError;
use crate::jobs::{self, SampleReport, SweepReport};
use crate::service;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use lianxin_domain::Role;
use lianxin_domain::calendar::Calendar;
use lianxin_domain::error::FieldErrors;
use serde::Serialize;
use utoipa::ToSchema;

/// A work queue of orders needing attention, newest first.
#[utoipa::path(get, path = "/api/v1/queues/{queue}", tag = "supervision", operation_id = "list_queue",
    params(("queue" = String, Path, description = "overdue (past the handling deadline), at_risk (past 75% of the limit, not yet overdue) or qa (sampled, awaiting a QA decision)"),
           ("limit" = Option<i64>, Query, minimum = 1, description = "default 20; larger than 200 is 200"), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of the queue", body = OrderList),
              (status = 404, description = "No such queue")),
    security(("bearer" = [])))]
pub async fn queue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(queue): Path<String>,
    params: Params,
) -> Result<Json<OrderList>, ApiError> {
    let queue = service::Queue::parse(&queue)
        .filter(|q| *q != service::Queue::Handled)
        .ok_or_else(|| ApiError::not_found(format!("no queue `{queue}`; use overdue, at_risk or qa")))?;
    let page = service::queue(&state, &user, queue, &params.0).await?;
    let items = service::render(&state, &user, &page.items, "queue").await;
    Ok(Json(OrderList { items, next_cursor: page.next_cursor }))
}

/// Run the supervision sweeper now (admin, supervisor), with the surge check that sends
/// supervisors the surge alarm and the reminders to units of tough problems' parts past
/// their day. All run by themselves in the background too; running them twice gives no
/// warning, alarm or reminder twice.
#[utoipa::path(post, path = "/api/v1/supervision/sweep", tag = "supervision", operation_id = "sweep",
    responses((status = 200, description = "The warnings given", body = SweepReport),
              (status = 403, description = "Only an admin or supervisor may run the sweeper")),
    security(("bearer" = [])))]
pub async fn sweep(State(state): State<AppState>, user: CurrentUser) -> Result<Json<SweepReport>, ApiError> {
    user.require(&[Role::Admin, Role::Supervisor], "only an admin or supervisor may run the sweeper")?;
    let report = jobs::sweep(&state).await?;
    // The surge check and the problems' reminders are advisory: a failure never fails the
    // sweep.
    jobs::advise(&state).await;
    Ok(Json(report))
}

/// Draw a random sample of closed orders for quality assurance (supervisor).
#[utoipa::path(post, path = "/api/v1/qa/sample", tag = "supervision", operation_id = "qa_sample",
    request_body = crate::openapi::QaSampleIn,
    responses((status = 200, description = "The orders drawn", body = SampleReport),
              (status = 403, description = "Only a supervisor may sample orders for QA"),
              (status = 422, description = "Invalid values, every one named")),
    security(("bearer" = [])))]
pub async fn qa_sample(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<SampleReport>, ApiError> {
    user.require(&[Role::Supervisor], "only a supervisor may sample orders for QA")?;
    let f = Fields::new(&obj);
    let mut errs = FieldErrors::new();
    let now = state.now();
    let time = |errs: &mut FieldErrors, k: &str| {
        f.parsed(k, false, errs, |s| Calendar::parse_rfc3339(s).ok_or_else(|| "must be an RFC 3339 time".to_owned()))
    };
    let from = time(&mut errs, "from").unwrap_or(now - 7 * 86_400_000);
    let to = time(&mut errs, "to").unwrap_or(now);
    let rate = f.number("rate", &mut errs).unwrap_or(0.05);
    if !(0.0..=1.0).contains(&rate) {
        errs.add("rate", "must be between 0 and 1");
    }
    if from >= to {
        errs.add("to", "must be after from");
    }
    errs.finish()?;
    Ok(Json(jobs::sample_for_qa(&state, &user.actor, from, to, rate).await?))
}

/// A notification (消息提醒).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: String,
    pub number: String,
    pub at: String,
    /// dispatch, subdispatch, return, extension, extension_decided, reply, reopen, urge,
    /// warning_yellow, warning_red
    pub kind: String,
    pub message: String,
    pub read: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationOut>,
    pub unread: usize,
}

/// The signed-in user's notifications: their unit's and their roles', newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "supervision", operation_id = "list_notifications",
    params(("unread" = Option<bool>, Query, description = "only unread ones"),
           ("limit" = Option<i64>, Query, minimum = 1, description = "default 50; larger than 500 is 500")),
    responses((status = 200, description = "The notifications, newest first", body = NotificationList)),
    security(("bearer" = [])))]
pub async fn notifications(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<NotificationList>, ApiError> {
    let mut errs = FieldErrors::new();
    let unread_only = params.boolean("unread", &mut errs).unwrap_or(false);
    let limit = params.limit("limit", &mut errs, 1, 500).unwrap_or(50);
    errs.finish()?;
    let a = &user.actor;
    let items = state.store().notifications(&a.username, a.unit.as_ref(), &a.roles, unread_only, limit).await?;
    let cal = state.calendar();
    let unread = items.iter().filter(|n| !n.read).count();
    Ok(Json(NotificationList {
        items: items
            .into_iter()
            .map(|n| NotificationOut {
                id: n.id,
                number: n.number,
                at: cal.rfc3339(n.at),
                kind: n.kind,
                message: n.message,
                read: n.read,
            })
            .collect(),
        unread,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    /// How many notifications were newly marked read.
    pub marked: u64,
}

/// Mark notifications read: `{"ids":[…]}`, or all of them when `ids` is absent.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "supervision", operation_id = "mark_notifications_read",
    request_body = crate::openapi::MarkReadIn,
    responses((status = 200, description = "How many were marked", body = Marked)), security(("bearer" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<Marked>, ApiError> {
    let mut errs = FieldErrors::new();
    let ids = obj.get("ids").map(|_| Fields::new(&obj).string_list("ids", &mut errs));
    errs.finish()?;
    let a = &user.actor;
    let marked = state.store().mark_read(&a.username, a.unit.as_ref(), &a.roles, ids.as_deref(), state.now()).await?;
    Ok(Json(Marked { marked }))
}
