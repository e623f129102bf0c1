//! The router and the running server.

use crate::clock::Clock;
use crate::error::{ApiError, json_errors};
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use lianxin_domain::calendar::Calendar;
use lianxin_store::Store;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// The whole application: API, health, metrics.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::api::routes())
        .merge(crate::web::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .fallback(|| async { ApiError::not_found("no such path") })
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn(crate::edge::ascii_target))
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .layer(CatchPanicLayer::new())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(
            // Spans name the route template, never the raw path: paths can hold phone numbers.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
                tracing::info_span!("http", method = %req.method(), route = %route)
            }),
        )
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn openapi() -> Json<&'static serde_json::Value> {
    Json(crate::openapi::document())
}

fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok()).as_ref()
}

async fn metrics() -> impl IntoResponse {
    match prometheus() {
        Some(h) => (StatusCode::OK, h.render()).into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "not_found", "metrics are disabled").into_response(),
    }
}

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub demo: Option<crate::demo::DemoOptions>,
    pub clock: Clock,
    /// How often the supervision sweeper runs; `None` runs it only on request.
    pub sweep_every: Option<Duration>,
}

/// A server running in the background.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub demo_accounts: Vec<String>,
    handle: tokio::task::JoinHandle<()>,
    sweeper: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and closes the database pool.
    pub async fn stop(self) {
        if let Some(s) = &self.sweeper {
            s.abort();
        }
        self.handle.abort();
        let _ = self.handle.await;
        self.state.store().close().await;
    }
}

/// Connects, migrates, loads the demo when asked, binds and serves in the background.
pub async fn spawn(config: Config) -> anyhow::Result<Running> {
    let _ = prometheus();
    let store = Store::connect(&config.database_url).await?;
    let mut demo_accounts = Vec::new();
    if let Some(opts) = &config.demo {
        demo_accounts = crate::demo::load(&store, opts, config.clock.now()).await?;
    }
    let directory = store.load_directory().await?;
    let calendar = match store.meta("calendar").await? {
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("the stored calendar is unreadable: {e}"))?
        }
        None => Calendar::default(),
    };
    let state = AppState::new(store, directory, calendar, config.clock.clone());
    let listener = TcpListener::bind(&config.listen).await?;
    let addr = listener.local_addr()?;
    let app = router(state.clone());
    let sweeper = config.sweep_every.map(|every| crate::jobs::spawn_sweeper(state.clone(), every));
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(crate::edge::EdgeListener(listener), app).await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(Running { addr, state, demo_accounts, handle, sweeper })
}
