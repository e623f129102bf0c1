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
        options: Default::default(),
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
        options: Default::default(),
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

/// `lianxin bench import`: past orders through `import orders` on the demo city's
/// reference data, beside a baseline of plain inserts in the same process.
#[derive(Debug, Clone)]
pub struct ImportBench {
    pub orders: usize,
    pub database_url: Option<String>,
}

/// What the import benchmark measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    pub backend: String,
    pub orders: usize,
    pub file_bytes: usize,
    pub seconds: f64,
    pub orders_per_second: f64,
    /// Plain one-table inserts of 1 KiB rows in one transaction, per second.
    pub baseline_rows_per_second: f64,
    /// `orders_per_second / baseline_rows_per_second`.
    pub ratio: f64,
    pub verify_seconds: f64,
    pub intact: bool,
}

/// A CSV of `n` past orders over the 90 days before `now` on the directory's streets and
/// handling units: a third closed with a satisfaction, a third in progress, the rest
/// waiting for dispatch or answered at first contact.
pub fn past_orders_csv(dir: &lianxin_domain::reference::Directory, n: usize, now: i64) -> String {
    use lianxin_domain::JurisdictionLevel;
    let leaves: Vec<String> =
        dir.categories().filter(|c| c.leaf.is_some() && c.active).map(|c| c.code.to_string()).collect();
    let streets: Vec<String> =
        dir.jurisdictions().filter(|j| j.level == JurisdictionLevel::Street).map(|j| j.code.to_string()).collect();
    let units: Vec<String> = dir.units().filter(|u| u.kind.can_handle()).map(|u| u.code.to_string()).collect();
    let cal = lianxin_domain::calendar::Calendar::default();
    let mut out = String::from(
        "source_ref,created_at,channel,request_type,category,urgency,content,caller_phone,street,address,lead_unit,replied_at,reply,closed_at,satisfaction\n",
    );
    let span = 90 * 86_400_000i64;
    for i in 0..n {
        let created = now - span + (i as i64 * span / n.max(1) as i64);
        let t = |ms: i64| cal.rfc3339(ms);
        let (lead, replied, reply, closed, sat) = match i % 6 {
            0 | 1 => {
                let u = &units[i % units.len()];
                (
                    u.as_str(),
                    t(created + 86_400_000),
                    "经核查已处理完毕，已告知市民。",
                    t(created + 2 * 86_400_000),
                    "satisfied",
                )
            }
            2 => (units[i % units.len()].as_str(), String::new(), "", String::new(), ""),
            3 => (units[(i * 7) % units.len()].as_str(), String::new(), "", String::new(), ""),
            4 => ("", String::new(), "", String::new(), ""),
            _ => ("", String::new(), "已当场答复市民。", t(created + 600_000), ""),
        };
        let _ = std::fmt::Write::write_fmt(
            &mut out,
            format_args!(
                "OLD-{i:08},{},phone,complaint,{},normal,市民反映小区门口路灯不亮已有三天，夜间出行不便，请尽快维修。编号{i},139{:08},{},人民路{}号,{lead},{replied},{reply},{closed},{sat}\n",
                t(created),
                leaves[i % leaves.len()],
                i % 100_000_000,
                streets[(i * 13) % streets.len()],
                i % 400 + 1,
            ),
        );
    }
    out
}

/// Runs the import benchmark on a fresh database.
pub async fn run_import(b: &ImportBench) -> anyhow::Result<ImportReport> {
    let dir = tempfile::tempdir()?;
    let url = match &b.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", dir.path().join("import-bench.db").display()),
    };
    let store = lianxin_store::Store::connect(&url).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::demo::load(&store, &DemoOptions { history: 0, days: 1 }, now).await?;
    let directory = store.load_directory().await?;
    let calendar = crate::cli::load_calendar(&store).await?;
    store.set_utc_offset(calendar.utc_offset_minutes);
    let csv = past_orders_csv(&directory, b.orders, now);
    let who = crate::setup::Importer { actor: "bench".into(), now };
    let started = Instant::now();
    let report = crate::setup::import(
        &store,
        &directory,
        &calendar,
        crate::setup::Kind::Orders,
        (csv.as_bytes(), crate::setup::table::Format::Csv),
        false,
        &who,
    )
    .await
    .map_err(|e| match e {
        crate::setup::ImportError::Rows(r) => anyhow::anyhow!("{}", crate::setup::format_errors("bench.csv", &r)),
        crate::setup::ImportError::Store(e) => e.into(),
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let baseline = store.baseline_inserts(b.orders, 1024).await?;
    let started = Instant::now();
    let check = store.verify(1).await?;
    let verify_seconds = started.elapsed().as_secs_f64();
    let orders_per_second = report.created as f64 / seconds;
    let baseline_rows_per_second = b.orders as f64 / baseline;
    Ok(ImportReport {
        backend: format!("{:?}", store.backend()).to_lowercase(),
        orders: report.created,
        file_bytes: csv.len(),
        seconds,
        orders_per_second,
        baseline_rows_per_second,
        ratio: orders_per_second / baseline_rows_per_second,
        verify_seconds,
        intact: check.is_intact() && check.orders as usize == report.created,
    })
}
