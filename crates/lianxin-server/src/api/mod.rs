//! The JSON API under `/api/v1` (contract: shared API.md; document: `/api/v1/openapi.json`).

pub mod orders;
pub mod reference;
pub mod session;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

/// All API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(session::login))
        .route("/api/v1/auth/logout", post(session::logout))
        .route("/api/v1/auth/me", get(session::me))
        .route("/api/v1/categories", get(reference::categories))
        .route("/api/v1/units", get(reference::units))
        .route("/api/v1/jurisdictions", get(reference::jurisdictions))
        .route("/api/v1/orders", post(orders::create).get(orders::list))
        .route("/api/v1/orders/{number}", get(orders::get))
        .route("/api/v1/orders/{number}/events", get(orders::events))
        .route("/api/v1/orders/{number}/actions/{action}", post(orders::act))
        .route("/api/v1/callers/{phone}/orders", get(orders::caller_orders))
}
