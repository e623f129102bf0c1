//! The router and the running server.

use crate::clock::Clock;
use crate::error::{ApiError, json_errors};
use crate::net::MetricsAccess;
use crate::state::{AppState, Settings};
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lianxin_domain::calendar::Calendar;
use lianxin_domain::login::LoginPolicy;
use lianxin_store::Store;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// The whole application: API, health, metrics (open: see [`router_with`]).
pub fn router(state: AppState) -> Router {
    router_with(state, Some(MetricsAccess::Open))
}

/// The application with `/metrics` under `metrics` (`None`: not served here).
pub fn router_with(state: AppState, metrics: Option<MetricsAccess>) -> Router {
    let mut app = Router::new()
        .merge(crate::api::routes())
        .merge(crate::web::routes())
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi));
    if let Some(access) = metrics {
        app = app.merge(metrics_router(access));
    }
    app.fallback(|| async { ApiError::not_found("no such path") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::net::body_timeout))
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn(crate::edge::ascii_target))
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .layer(CatchPanicLayer::new())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::net::secure_transport))
        .layer(
            // Spans name the route template, never the raw path: paths can hold phone numbers.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
                tracing::info_span!("http", method = %req.method(), route = %route)
            }),
        )
        .with_state(state)
}

/// `/metrics` alone, under `access`.
fn metrics_router<S: Clone + Send + Sync + 'static>(access: MetricsAccess) -> Router<S> {
    Router::new().route("/metrics", get(move |headers: HeaderMap| metrics(access.clone(), headers)))
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

async fn metrics(access: MetricsAccess, headers: HeaderMap) -> Response {
    if let Some(refused) = access.refusal(&headers) {
        return refused;
    }
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
    pub options: ServeOptions,
}

/// How the server meets the network (README, "Deployment").
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address clients use, e.g. `https://12345.example.gov.cn`; `https` makes cookies
    /// `Secure` and adds `Strict-Transport-Security`.
    pub public_url: Option<String>,
    /// Serve `/metrics` on this address instead of the main one.
    pub metrics_listen: Option<String>,
    /// Require `Authorization: Bearer <token>` for `/metrics`.
    pub metrics_token: Option<String>,
    /// Close a connection that has not sent a request's headers within this time.
    pub header_timeout: Duration,
    /// Answer 408 when a request body stalls this long.
    pub body_timeout: Duration,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    pub login: LoginPolicy,
    /// Where the search index lives (`None`: next to a SQLite file, else in memory).
    pub index_dir: Option<std::path::PathBuf>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            public_url: None,
            metrics_listen: None,
            metrics_token: None,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            trusted_proxies: Vec::new(),
            login: LoginPolicy::default(),
            index_dir: None,
        }
    }
}

/// Whether a public URL is served over TLS; anything but `http(s)://…` is refused.
pub fn public_url_is_https(url: &str) -> anyhow::Result<bool> {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") && lower.len() > "https://".len() {
        Ok(true)
    } else if lower.starts_with("http://") && lower.len() > "http://".len() {
        Ok(false)
    } else {
        anyhow::bail!("the public URL `{url}` must start with https:// or http://")
    }
}

/// A server running in the background.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` is served when it has its own listener.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    pub demo_accounts: Vec<String>,
    stop: watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<()>>,
    sweeper: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets open requests finish (a few seconds at most) and
    /// closes the database pool.
    pub async fn stop(self) {
        if let Some(s) = &self.sweeper {
            s.abort();
        }
        let _ = self.stop.send(true);
        for h in self.handles {
            let abort = h.abort_handle();
            if tokio::time::timeout(Duration::from_secs(10), h).await.is_err() {
                abort.abort();
            }
        }
        self.state.store().close().await;
    }
}

/// Connects, migrates, loads the demo when asked, binds and serves in the background.
pub async fn spawn(config: Config) -> anyhow::Result<Running> {
    let _ = prometheus();
    let opts = &config.options;
    let https = match &opts.public_url {
        Some(u) => public_url_is_https(u)?,
        None => false,
    };
    let store = Store::connect(&config.database_url).await?;
    let mut demo_accounts = Vec::new();
    if let Some(demo) = &config.demo {
        demo_accounts = crate::demo::load(&store, demo, config.clock.now()).await?;
    }
    let directory = store.load_directory().await?;
    let calendar = match store.meta("calendar").await? {
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("the stored calendar is unreadable: {e}"))?
        }
        None => Calendar::default(),
    };
    let settings = Settings {
        login: opts.login,
        trusted_proxies: opts.trusted_proxies.clone(),
        https,
        body_timeout: opts.body_timeout,
    };
    let location = crate::search::IndexLocation::resolve(opts.index_dir.as_deref(), &config.database_url);
    let search = match crate::search::Search::open(location.clone()) {
        Ok(s) => s,
        // The default directory next to a SQLite file is another server's (a second
        // process on the same file): this one keeps its index in memory.
        Err(e) if opts.index_dir.is_none() && location != crate::search::IndexLocation::Memory => {
            tracing::warn!(error = %e, "the search index next to the database is in use by another server; this one keeps its index in memory (give --index-dir for one of its own)");
            crate::search::Search::open(crate::search::IndexLocation::Memory)?
        }
        Err(e) => return Err(e),
    };
    let search = std::sync::Arc::new(search);
    search.refresh_vocabulary(&store).await?;
    let state = AppState::with_settings(store, directory, calendar, config.clock.clone(), settings, search);
    let counted = state.store().backfill_place_cells().await?;
    if counted > 0 {
        tracing::info!(orders = counted, "counted the hotspot cells of the orders held before they were kept");
    }
    if let Some(n) = state.store().ensure_scope_cells().await? {
        tracing::info!(orders = n, "counted the per-unit KPI cells under the current unit tree");
    }
    crate::knowledge::reload_texts(&state).await;
    crate::auth::warm_up().await;
    let listener = TcpListener::bind(&config.listen).await?;
    let addr = listener.local_addr()?;
    let token = opts.metrics_token.as_deref();
    let (stop, stopped) = watch::channel(false);
    let mut handles = Vec::new();
    let mut metrics_addr = None;
    let main_metrics = match &opts.metrics_listen {
        Some(m) => {
            let ml = TcpListener::bind(m).await?;
            let maddr = ml.local_addr()?;
            metrics_addr = Some(maddr);
            let access = MetricsAccess::for_listener(maddr, token);
            warn_if_closed(&access, maddr);
            let app: Router = metrics_router(access).fallback(|| async { ApiError::not_found("no such path") });
            handles.push(tokio::spawn(crate::net::serve(ml, app, opts.header_timeout, stopped.clone())));
            None
        }
        None => {
            let access = MetricsAccess::for_listener(addr, token);
            warn_if_closed(&access, addr);
            Some(access)
        }
    };
    let app = router_with(state.clone(), main_metrics);
    let sweeper = config.sweep_every.map(|every| crate::jobs::spawn_sweeper(state.clone(), every));
    handles.push(crate::search::spawn_follower(state.clone(), stopped.clone()));
    handles.insert(0, tokio::spawn(crate::net::serve(listener, app, opts.header_timeout, stopped)));
    Ok(Running { addr, metrics_addr, state, demo_accounts, stop, handles, sweeper })
}

fn warn_if_closed(access: &MetricsAccess, addr: SocketAddr) {
    if matches!(access, MetricsAccess::Closed) {
        tracing::warn!(
            %addr,
            "/metrics is not served: the listener is not on a loopback address and no --metrics-token is set"
        );
    }
}
