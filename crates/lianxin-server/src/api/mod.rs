//! The JSON API under `/api/v1` (contract: shared API.md; document: `/api/v1/openapi.json`).

pub mod admin;
pub mod calendar;
pub mod incidents;
pub mod knowledge;
pub mod orders;
pub mod problems;
pub mod reference;
pub mod search;
pub mod session;
pub mod stats;
pub mod supervision;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The largest file the admin import takes over HTTP.
pub const IMPORT_LIMIT: usize = 64 << 20;

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
        .route("/api/v1/search/orders", get(search::orders))
        .route("/api/v1/kb/search", get(knowledge::kb_search))
        .route("/api/v1/kb/articles", get(knowledge::articles).post(knowledge::create))
        .route("/api/v1/kb/articles/{id}", get(knowledge::article).put(knowledge::edit))
        .route("/api/v1/kb/articles/{id}/versions", get(knowledge::versions))
        .route("/api/v1/kb/import", post(knowledge::import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)))
        .route("/api/v1/templates", get(knowledge::templates))
        .route("/api/v1/templates/{category}", axum::routing::put(knowledge::put_template))
        .route("/api/v1/referrals", get(knowledge::referrals))
        .route("/api/v1/referrals/{id}", axum::routing::put(knowledge::put_referral))
        .route("/api/v1/announcements", get(knowledge::announcements).post(knowledge::create_announcement))
        .route(
            "/api/v1/announcements/{id}",
            axum::routing::put(knowledge::put_announcement).delete(knowledge::delete_announcement),
        )
        .route("/api/v1/suggest", post(knowledge::suggest))
        .route("/api/v1/incidents", get(incidents::list))
        .route("/api/v1/incidents/detect", post(incidents::detect))
        .route("/api/v1/incidents/rule", get(incidents::get_rule).put(incidents::put_rule))
        .route("/api/v1/incidents/{id}/dismiss", post(incidents::dismiss))
        .route("/api/v1/incidents/{id}/confirm", post(incidents::confirm))
        .route("/api/v1/incidents/{id}/orders", post(incidents::add_orders))
        .route("/api/v1/incidents/{id}/reply", post(incidents::reply))
        .route("/api/v1/problems", get(problems::list).post(problems::create))
        .route("/api/v1/problems/candidates", get(problems::candidates))
        .route("/api/v1/problems/{id}", get(problems::get))
        .route("/api/v1/problems/{id}/reports", post(problems::report))
        .route("/api/v1/search/status", get(search::status))
        .route("/api/v1/search/vocabulary", get(search::vocabulary))
        .route("/api/v1/search/words", post(search::add_words))
        .route("/api/v1/search/words/{word}", axum::routing::delete(search::remove_word))
        .route("/api/v1/search/synonyms", post(search::add_synonyms))
        .route("/api/v1/search/synonyms/{id}", axum::routing::delete(search::remove_synonyms))
        .route("/api/v1/orders/{number}", get(orders::get))
        .route("/api/v1/orders/{number}/events", get(orders::events))
        .route("/api/v1/orders/{number}/actions/{action}", post(orders::act))
        .route("/api/v1/callers/{phone}/orders", get(orders::caller_orders))
        .route("/api/v1/calendar", get(calendar::get).put(calendar::put))
        .route("/api/v1/calendar/import", post(calendar::import))
        .route("/api/v1/queues/{queue}", get(supervision::queue))
        .route("/api/v1/supervision/sweep", post(supervision::sweep))
        .route("/api/v1/qa/sample", post(supervision::qa_sample))
        .route("/api/v1/notifications", get(supervision::notifications))
        .route("/api/v1/notifications/read", post(supervision::mark_read))
        .route("/api/v1/stats/kpis", get(stats::kpis))
        .route("/api/v1/stats/ranking", get(stats::ranking))
        .route("/api/v1/stats/hotspots", get(stats::hotspots))
        .route("/api/v1/stats/weights", get(stats::get_weights).put(stats::put_weights))
        // A city's files are larger than any other body: up to 64 MiB (larger histories go
        // through `lianxin import` on the server).
        .route(
            "/api/v1/admin/import/{kind}",
            post(admin::import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/api/v1/admin/export/{kind}", get(admin::export))
        .route("/api/v1/admin/routes", get(admin::routes).put(admin::put_route).delete(admin::delete_route))
        .route("/api/v1/admin/users", get(admin::users))
        .route("/api/v1/admin/users/{username}", get(admin::get_user).put(admin::put_user))
        .route("/api/v1/admin/users/{username}/password", post(admin::set_password))
        .route("/api/v1/admin/users/{username}/{toggle}", post(admin::toggle_user))
        .route("/api/v1/admin/history", get(admin::history))
        .route("/api/v1/admin/logins", get(admin::logins))
        .route("/api/v1/admin/{kind}/{code}", get(admin::get_item).put(admin::put_item))
        .route("/api/v1/admin/{kind}/{code}/{toggle}", post(admin::toggle_item))
}
