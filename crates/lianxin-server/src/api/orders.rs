//! Work orders: create, read, list, events, actions, caller history.

use crate::auth::CurrentUser;
use crate::body::parse_object;
use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use crate::views::{EventOut, OrderOut, event_out};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// A page of orders, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<OrderOut>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Register a work order (operator).
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders",
    request_body(content = serde_json::Value, description = "channel, request_type, category, urgency, content, caller{phone,name?,confidential?}, location{street,address?,lat?,lon?}, title?"),
    responses((status = 201, body = OrderOut), (status = 400), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> Result<(StatusCode, Json<OrderOut>), ApiError> {
    let obj = parse_object(&body)?;
    let order = service::register(&state, &user, &obj).await?;
    let (out, _) = state.order_out(&order, &user.actor);
    Ok((StatusCode::CREATED, Json(out)))
}

/// One work order.
#[utoipa::path(get, path = "/api/v1/orders/{number}", tag = "orders",
    params(("number" = String, Path, description = "order number")),
    responses((status = 200, body = OrderOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
) -> Result<Json<OrderOut>, ApiError> {
    let (order, _) = service::visible_order(&state, &user, &number).await?;
    let mut out = service::render(&state, &user, std::slice::from_ref(&order), "view_order").await;
    out.pop().map(Json).ok_or_else(|| ApiError::not_found("no such order"))
}

/// An order's timeline.
#[utoipa::path(get, path = "/api/v1/orders/{number}/events", tag = "orders",
    params(("number" = String, Path, description = "order number")),
    responses((status = 200, body = [EventOut]), (status = 404)), security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
) -> Result<Json<Vec<EventOut>>, ApiError> {
    let events = service::events(&state, &user, &number).await?;
    let cal = state.calendar();
    Ok(Json(events.iter().map(|e| event_out(e, &cal)).collect()))
}

/// Orders within the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders",
    params(
        ("status" = Option<String>, Query, description = "one status or several, comma-separated"),
        ("category" = Option<String>, Query, description = "a leaf, or a group for all its leaves"),
        ("unit" = Option<String>, Query), ("street" = Option<String>, Query),
        ("request_type" = Option<String>, Query), ("channel" = Option<String>, Query),
        ("created_from" = Option<String>, Query, description = "RFC 3339, inclusive"),
        ("created_to" = Option<String>, Query, description = "RFC 3339, exclusive"),
        ("limit" = Option<i64>, Query, description = "default 20, at most 200"),
        ("cursor" = Option<String>, Query)),
    responses((status = 200, body = OrderList), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<OrderList>, ApiError> {
    let page = service::list(&state, &user, &params).await?;
    let items = service::render(&state, &user, &page.items, "list_orders").await;
    Ok(Json(OrderList { items, next_cursor: page.next_cursor }))
}

/// A caller's orders (screen pop), newest first, within scope.
#[utoipa::path(get, path = "/api/v1/callers/{phone}/orders", tag = "orders",
    params(("phone" = String, Path), ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = OrderList), (status = 422)), security(("bearer" = [])))]
pub async fn caller_orders(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(phone): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<OrderList>, ApiError> {
    let page = service::caller_orders(&state, &user, &phone, &params).await?;
    let items = service::render(&state, &user, &page.items, "caller_history").await;
    Ok(Json(OrderList { items, next_cursor: page.next_cursor }))
}

/// Perform a lifecycle action on an order. See the action table in the contract.
#[utoipa::path(post, path = "/api/v1/orders/{number}/actions/{action}", tag = "orders",
    params(("number" = String, Path), ("action" = String, Path, description = "submit, approve, send_back, close, dispatch, sign, return, subdispatch, request_extension, decide_extension, reply, callback, reopen, merge, cancel, urge, note")),
    request_body(content = serde_json::Value, description = "the action's fields, optionally `version`"),
    responses((status = 200, body = OrderOut), (status = 400), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((number, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<OrderOut>, ApiError> {
    let obj = parse_object(&body)?;
    let order = service::perform(&state, &user, &number, &action, obj).await?;
    let mut out = service::render(&state, &user, std::slice::from_ref(&order), &action).await;
    out.pop().map(Json).ok_or_else(|| ApiError::not_found("no such order"))
}
