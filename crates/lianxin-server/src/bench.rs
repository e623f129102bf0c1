//! `lianxin bench create`: a closed-loop load of order registrations over HTTP.
//!
//! N clients each send `POST /api/v1/orders` back to back for a fixed time; the report
//! gives throughput and latency percentiles, then checks that every acknowledged order is
//! in the database (durability at acknowledgement).

use crate::app::{Config, spawn};
use crate::clock::Clock;
use crate::demo::DemoOptions;
use chrono::Datelike;
use serde_json::json;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct CreateBench {
    pub clients: usize,
    pub seconds: u64,
    /// A database URL for the server the bench starts (default: a temp SQLite file).
    pub database_url: Option<String>,
}

/// What it measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub backend: String,
    pub clients: usize,
    pub seconds: f64,
    pub orders: usize,
    pub errors: usize,
    pub orders_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub durable: bool,
}

/// Signs a demo account in and returns its bearer token.
async fn login(http: &reqwest::Client, base: &str, username: &str) -> anyhow::Result<String> {
    let body: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": "demo"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(body["token"].as_str().unwrap_or_default().to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Runs the registration benchmark against a fresh server on 127.0.0.1.
pub async fn run_create(b: &CreateBench) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let url = match &b.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let server = spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        demo: Some(DemoOptions { history: 0, days: 1 }),
        clock: Clock::System,
        sweep_every: None,
    })
    .await?;
    let base = server.url();
    let before = server.state.store().order_count().await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(b.clients).build()?;
    let token = login(&http, &base, "operator").await?;
    let dirs = server.state.directory();
    let leaves: Vec<String> = dirs.categories().filter(|c| c.leaf.is_some()).map(|c| c.code.to_string()).collect();
    let streets: Vec<String> = dirs
        .jurisdictions()
        .filter(|j| j.level == lianxin_domain::JurisdictionLevel::Street)
        .map(|j| j.code.to_string())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(b.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..b.clients {
        let http = http.clone();
        let (base, token, leaves, streets) = (base.clone(), token.clone(), leaves.clone(), streets.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut i = 0usize;
            while Instant::now() < deadline {
                i += 1;
                let body = json!({
                    "channel": "phone", "request_type": "complaint",
                    "category": leaves[(c * 7919 + i) % leaves.len()], "urgency": "normal",
                    "content": format!("压测工单：第{c}号客户端第{i}单，路灯不亮，请尽快处理。"),
                    "caller": {"phone": format!("139{:08}", (c * 1_000_000 + i) % 100_000_000), "name": "测试"},
                    "location": {"street": streets[(c * 31 + i) % streets.len()], "address": "天河路1号"}
                });
                let t = Instant::now();
                let ok = http
                    .post(format!("{base}/api/v1/orders"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status() == reqwest::StatusCode::CREATED)
                    .unwrap_or(false);
                if ok {
                    lat.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        lat.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let after = server.state.store().order_count().await?;
    let backend = format!("{:?}", server.state.store().backend()).to_lowercase();
    let report = Report {
        backend,
        clients: b.clients,
        seconds: elapsed,
        orders: lat.len(),
        errors,
        orders_per_second: lat.len() as f64 / elapsed,
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
        max_ms: lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
        durable: (after - before) as usize == lat.len(),
    };
    server.stop().await;
    Ok(report)
}

/// What to run for the KPI benchmark.
#[derive(Debug, Clone)]
pub struct KpiBench {
    /// Orders of history to generate when the database has none.
    pub orders: usize,
    /// Days the history spans.
    pub days: i64,
    /// The database (kept, so the generated history can be reused).
    pub database_url: String,
    /// Repetitions of each query.
    pub repeat: usize,
}

/// One timed KPI query.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KpiTiming {
    pub group_by: String,
    pub rows: usize,
    pub median_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct KpiReport {
    pub backend: String,
    pub orders: i64,
    pub generate_seconds: Option<f64>,
    pub period: String,
    pub timings: Vec<KpiTiming>,
}

/// Times `GET /api/v1/stats/kpis` for the most recent full month over a database of
/// `orders` historical orders (generated by the demo's lifecycle-driven generator when the
/// database is empty), once per grouping.
pub async fn run_kpis(b: &KpiBench) -> anyhow::Result<KpiReport> {
    let started = Instant::now();
    let server = spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: b.database_url.clone(),
        demo: Some(DemoOptions { history: b.orders, days: b.days }),
        clock: Clock::System,
        sweep_every: None,
    })
    .await?;
    let orders = server.state.store().order_count().await?;
    let generated = started.elapsed().as_secs_f64();
    let base = server.url();
    let http = reqwest::Client::new();
    let token = login(&http, &base, "leader").await?;
    // The last full calendar month before today.
    let cal = server.state.calendar();
    let today = cal.local_date(server.state.now());
    let first_this = today.with_day(1).unwrap_or(today);
    let first_prev = (first_this - chrono::Duration::days(1)).with_day(1).unwrap_or(first_this);
    let period = format!("from={first_prev}&to={first_this}");
    let mut timings = Vec::new();
    for group in ["", "unit", "category", "district", "channel", "day"] {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..b.repeat.max(1) {
            let t = Instant::now();
            let body: serde_json::Value = http
                .get(format!("{base}/api/v1/stats/kpis?{period}&group_by={group}"))
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            times.push(t.elapsed());
            rows = body["rows"].as_array().map(Vec::len).unwrap_or(0);
        }
        times.sort_unstable();
        timings.push(KpiTiming {
            group_by: if group.is_empty() { "(none)".into() } else { group.into() },
            rows,
            median_ms: times[times.len() / 2].as_secs_f64() * 1000.0,
            max_ms: times.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
        });
    }
    let backend = format!("{:?}", server.state.store().backend()).to_lowercase();
    server.stop().await;
    Ok(KpiReport { backend, orders, generate_seconds: (generated > 5.0).then_some(generated), period, timings })
}
