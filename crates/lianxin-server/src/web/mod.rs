//! The staff console (server-rendered pages) under `/login` and `/console`.

use crate::state::AppState;
use axum::Router;

/// All console routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
