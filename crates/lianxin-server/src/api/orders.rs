//! Work orders: create, read, list, events, actions, caller history.

use crate::auth::CurrentUser;
use crate::body::{JsonObject, Params};
use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use crate::views::{EventOut, OrderOut, event_out};
use axum::Json;
use axum::extract::{Path, State};
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
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", operation_id = "create_order",
    request_body = crate::openapi::OrderIn,
    responses((status = 201, description = "The registered order", body = OrderOut),
              (status = 403, description = "Only an operator may register a work order"),
              (status = 422, description = "Missing or invalid values, every field named")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<(StatusCode, Json<OrderOut>), ApiError> {
    let order = service::register(&state, &user, &obj).await?;
    let (out, _) = state.order_out(&order, &user.actor);
    Ok((StatusCode::CREATED, Json(out)))
}

/// One work order.
#[utoipa::path(get, path = "/api/v1/orders/{number}", tag = "orders", operation_id = "get_order",
    params(("number" = String, Path, description = "order number")),
    responses((status = 200, description = "The order, masked for the viewer", body = OrderOut)),
    security(("bearer" = [])))]
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
#[utoipa::path(get, path = "/api/v1/orders/{number}/events", tag = "orders", operation_id = "list_order_events",
    params(("number" = String, Path, description = "order number")),
    responses((status = 200, description = "The events, oldest first", body = [EventOut])),
    security(("bearer" = [])))]
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
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", operation_id = "list_orders",
    params(
        ("status" = Option<String>, Query, description = "one status or several, comma-separated"),
        ("category" = Option<String>, Query, description = "a leaf, or a group for all its leaves"),
        ("unit" = Option<String>, Query, description = "led or assisted by this unit"), ("lead_unit" = Option<String>, Query, description = "led by this unit (the KPIs' unit)"), ("street" = Option<String>, Query), ("district" = Option<String>, Query, description = "orders located in this district"),
        ("request_type" = Option<String>, Query), ("channel" = Option<String>, Query),
        ("created_from" = Option<String>, Query, description = "RFC 3339, inclusive"),
        ("created_to" = Option<String>, Query, description = "RFC 3339, exclusive"),
        ("limit" = Option<i64>, Query, minimum = 1, description = "default 20; larger than 200 is 200"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, description = "A page of orders", body = OrderList)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Params,
) -> Result<Json<OrderList>, ApiError> {
    let page = service::list(&state, &user, &params.0).await?;
    let items = service::render(&state, &user, &page.items, "list_orders").await;
    Ok(Json(OrderList { items, next_cursor: page.next_cursor }))
}

/// A caller's orders (screen pop), newest first, within scope.
#[utoipa::path(get, path = "/api/v1/callers/{phone}/orders", tag = "orders", operation_id = "list_caller_orders",
    params(("phone" = String, Path), ("limit" = Option<i64>, Query, minimum = 1), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "A page of the caller's orders", body = OrderList),
              (status = 422, description = "Not a phone number, or a bad paging parameter")),
    security(("bearer" = [])))]
pub async fn caller_orders(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(phone): Path<String>,
    params: Params,
) -> Result<Json<OrderList>, ApiError> {
    let page = service::caller_orders(&state, &user, &phone, &params.0).await?;
    let items = service::render(&state, &user, &page.items, "caller_history").await;
    Ok(Json(OrderList { items, next_cursor: page.next_cursor }))
}

/// Perform a lifecycle action on an order. See the action table in the contract.
#[utoipa::path(post, path = "/api/v1/orders/{number}/actions/{action}", tag = "orders", operation_id = "act_on_order",
    params(("number" = String, Path), ("action" = String, Path, description = "the action (see the contract's table)")),
    request_body(content = crate::openapi::ActionIn, description = "the action's fields, optionally `version`; may be empty for actions without fields"),
    responses((status = 200, description = "The order after the action", body = OrderOut),
              (status = 403, description = "The role may not perform this action"),
              (status = 404, description = "No such order or action, or the order is outside the caller's scope"),
              (status = 409, description = "The order's state does not allow the action (`illegal_transition`), or `version` is stale (`stale_version`)"),
              (status = 422, description = "Missing or invalid fields, every one named")),
    security(("bearer" = [])))]
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((number, action)): Path<(String, String)>,
    JsonObject(obj): JsonObject,
) -> Result<Json<OrderOut>, ApiError> {
    let order = service::perform(&state, &user, &number, &action, obj).await?;
    let mut out = service::render(&state, &user, std::slice::from_ref(&order), &action).await;
    out.pop().map(Json).ok_or_else(|| ApiError::not_found("no such order"))
}
