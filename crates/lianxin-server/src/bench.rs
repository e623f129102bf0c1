//! The benchmarks of `lianxin bench`. `create` and `actions` are closed-loop loads over
//! HTTP: N clients each send requests back to back for a fixed time; the report gives
//! throughput and latency percentiles, then checks that every acknowledged change is in the
//! database (durability at acknowledgement). `search` times the order index (issue 11).

pub mod search;

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

/// Latencies of the requests that succeeded and the count of those that did not.
struct Load {
    seconds: f64,
    ok: Vec<Duration>,
    errors: usize,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.ok.len() as f64 / self.seconds
    }
}

/// `clients` tasks each send the request `make(client, i)` builds, back to back, for
/// `seconds`; a request counts when it gets `expect`.
async fn load(
    clients: usize,
    seconds: f64,
    expect: reqwest::StatusCode,
    make: impl Fn(usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> anyhow::Result<Load> {
    let make = std::sync::Arc::new(make);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut i) = (Vec::new(), 0usize, 0usize);
            while Instant::now() < deadline {
                i += 1;
                let t = Instant::now();
                match make(c, i).send().await {
                    Ok(r) if r.status() == expect => ok.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            (ok, errors)
        }));
    }
    let (mut ok, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await?;
        ok.extend(l);
        errors += e;
    }
    ok.sort_unstable();
    Ok(Load { seconds: started.elapsed().as_secs_f64(), ok, errors })
}

/// A fresh server on 127.0.0.1 with the demo city and no history, on `database_url` or a
/// temp SQLite file in `dir`.
async fn bench_server(database_url: &Option<String>, dir: &std::path::Path) -> anyhow::Result<crate::app::Running> {
    let url = match database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}", dir.join("bench.db").display()),
    };
    spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        demo: Some(DemoOptions { history: 0, days: 1 }),
        clock: Clock::System,
        sweep_every: None,
        options: Default::default(),
    })
    .await
}

/// What the registration load sends: order `i` of client `c`.
struct Registrations {
    base: String,
    token: String,
    http: reqwest::Client,
    leaves: Vec<String>,
    streets: Vec<String>,
}

impl Registrations {
    async fn new(server: &crate::app::Running, http: &reqwest::Client) -> anyhow::Result<Registrations> {
        let base = server.url();
        let token = login(http, &base, "operator").await?;
        let dirs = server.state.directory();
        let leaves = dirs.categories().filter(|c| c.leaf.is_some()).map(|c| c.code.to_string()).collect();
        let streets = dirs
            .jurisdictions()
            .filter(|j| j.level == lianxin_domain::JurisdictionLevel::Street)
            .map(|j| j.code.to_string())
            .collect();
        Ok(Registrations { base, token, http: http.clone(), leaves, streets })
    }

    fn request(&self, c: usize, i: usize) -> reqwest::RequestBuilder {
        let body = json!({
            "channel": "phone", "request_type": "complaint",
            "category": self.leaves[(c * 7919 + i) % self.leaves.len()], "urgency": "normal",
            "content": format!("压测工单：第{c}号客户端第{i}单，路灯不亮，请尽快处理。"),
            "caller": {"phone": format!("139{:08}", (c * 1_000_000 + i) % 100_000_000), "name": "测试"},
            "location": {"street": self.streets[(c * 31 + i) % self.streets.len()], "address": "天河路1号"}
        });
        self.http.post(format!("{}/api/v1/orders", self.base)).bearer_auth(&self.token).json(&body)
    }
}

fn report(backend: &str, clients: usize, l: &Load, durable: bool) -> Report {
    Report {
        backend: backend.to_owned(),
        clients,
        seconds: l.seconds,
        orders: l.ok.len(),
        errors: l.errors,
        orders_per_second: l.per_second(),
        p50_ms: percentile(&l.ok, 0.50),
        p99_ms: percentile(&l.ok, 0.99),
        max_ms: l.ok.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
        durable,
    }
}

/// Runs the registration benchmark against a fresh server on 127.0.0.1.
pub async fn run_create(b: &CreateBench) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let server = bench_server(&b.database_url, dir.path()).await?;
    let before = server.state.store().order_count().await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(b.clients).build()?;
    let regs = std::sync::Arc::new(Registrations::new(&server, &http).await?);
    let r = regs.clone();
    let l = load(b.clients, b.seconds as f64, reqwest::StatusCode::CREATED, move |c, i| r.request(c, i)).await?;
    let after = server.state.store().order_count().await?;
    let backend = format!("{:?}", server.state.store().backend()).to_lowercase();
    let report = report(&backend, b.clients, &l, (after - before) as usize == l.ok.len());
    server.stop().await;
    Ok(report)
}

/// What `bench actions` runs.
#[derive(Debug, Clone)]
pub struct ActionsBench {
    pub clients: usize,
    /// Seconds of each load (registrations, then actions).
    pub seconds: u64,
    /// Orders the actions are spread over.
    pub orders: usize,
    pub database_url: Option<String>,
}

/// What `bench actions` measured, in one run on one server.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActionsReport {
    pub backend: String,
    /// Raw durable commits per second of the same database (see `Store::baseline_commits`).
    pub baseline_commits_per_second: f64,
    pub registrations: Report,
    /// Notes on `orders` orders; `orders` in this report counts actions.
    pub actions: Report,
    /// Actions per second over registrations per second (target ≥ 1.0).
    pub actions_over_registrations: f64,
    /// Registrations per second over the raw commit rate (target ≥ 0.5).
    pub registrations_over_baseline: f64,
}

/// Measures, on one fresh server: the database's raw durable commit rate, registrations
/// over HTTP, then `note` actions spread over `orders` orders, each by `clients` clients;
/// checks that every acknowledged change is stored.
pub async fn run_actions(b: &ActionsBench) -> anyhow::Result<ActionsReport> {
    let dir = tempfile::tempdir()?;
    let server = bench_server(&b.database_url, dir.path()).await?;
    let store = server.state.store().clone();
    let backend = format!("{:?}", store.backend()).to_lowercase();
    let baseline = store.baseline_commits(b.clients, b.seconds.min(5) as f64).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(b.clients).build()?;
    let regs = std::sync::Arc::new(Registrations::new(&server, &http).await?);

    let before = store.order_count().await?;
    let r = regs.clone();
    let l = load(b.clients, b.seconds as f64, reqwest::StatusCode::CREATED, move |c, i| r.request(c, i)).await?;
    let after = store.order_count().await?;
    let registrations = report(&backend, b.clients, &l, (after - before) as usize == l.ok.len());

    // The orders the notes go to: the newest `orders` registered above (or more if needed).
    let mut numbers = Vec::new();
    let mut cursor: Option<String> = None;
    while numbers.len() < b.orders {
        let mut url = format!("{}/api/v1/orders?limit=200", regs.base);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value =
            http.get(url).bearer_auth(&regs.token).send().await?.error_for_status()?.json().await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        numbers.extend(items.iter().filter_map(|o| o["number"].as_str().map(str::to_owned)));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    while numbers.len() < b.orders {
        let r = regs.request(999, numbers.len()).send().await?.error_for_status()?;
        let o: serde_json::Value = r.json().await?;
        numbers.push(o["number"].as_str().unwrap_or_default().to_owned());
    }
    numbers.truncate(b.orders);
    let mut events_before = 0;
    for n in &numbers {
        events_before += store.event_count(n).await?;
    }
    let numbers = std::sync::Arc::new(numbers);
    let (ns, r) = (numbers.clone(), regs.clone());
    let l = load(b.clients, b.seconds as f64, reqwest::StatusCode::OK, move |c, i| {
        let n = &ns[(c * 7919 + i * 31) % ns.len()];
        r.http
            .post(format!("{}/api/v1/orders/{n}/actions/note", r.base))
            .bearer_auth(&r.token)
            .json(&json!({"text": format!("压测备注：第{c}号客户端第{i}条")}))
    })
    .await?;
    let mut events_after = 0;
    for n in numbers.iter() {
        events_after += store.event_count(n).await?;
    }
    let actions = report(&backend, b.clients, &l, (events_after - events_before) as usize == l.ok.len());
    server.stop().await;
    Ok(ActionsReport {
        backend,
        baseline_commits_per_second: baseline,
        actions_over_registrations: actions.orders_per_second / registrations.orders_per_second.max(1e-9),
        registrations_over_baseline: registrations.orders_per_second / baseline.max(1e-9),
        registrations,
        actions,
    })
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

/// `repeat` timed GETs of `url`; the length of the answer's `list` with the times.
async fn timed_get(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    repeat: usize,
    list: &str,
) -> anyhow::Result<(usize, Vec<std::time::Duration>)> {
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let body: serde_json::Value = http.get(url).bearer_auth(token).send().await?.error_for_status()?.json().await?;
        times.push(t.elapsed());
        rows = body[list].as_array().map(Vec::len).unwrap_or(0);
    }
    Ok((rows, times))
}

fn timing(label: &str, rows: usize, mut times: Vec<std::time::Duration>) -> KpiTiming {
    times.sort_unstable();
    KpiTiming {
        group_by: label.into(),
        rows,
        median_ms: times[times.len() / 2].as_secs_f64() * 1000.0,
        max_ms: times.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
    }
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
        let url = format!("{base}/api/v1/stats/kpis?{period}&group_by={group}");
        let (rows, times) = timed_get(&http, &url, &token, b.repeat, "rows").await?;
        timings.push(timing(if group.is_empty() { "(none)" } else { group }, rows, times));
    }
    // A district government's and a street office's own KPIs, month and year, from their
    // per-unit cells; the first request of each is among the timed ones.
    let year = format!("from={}&to={first_this}", first_this - chrono::Duration::days(365));
    for (label, user) in [("district government", "handler.d440106"), ("street office", "handler.s440106001")] {
        let tok = login(&http, &base, user).await?;
        for (span, p) in [("month", &period), ("year", &year)] {
            let url = format!("{base}/api/v1/stats/kpis?{p}");
            let (rows, times) = timed_get(&http, &url, &tok, b.repeat, "rows").await?;
            timings.push(timing(&format!("{label}, {span}"), rows, times));
        }
    }
    // The live wall as the hall's screen loads it (every panel from the rollups), for the
    // hotline and, where the database has the demo's district leaders, for 天河区.
    for user in ["leader", "leader.d440106"] {
        let Ok(tok) = login(&http, &base, user).await else { continue };
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..b.repeat.max(1) {
            let t = Instant::now();
            let page = http
                .get(format!("{base}/wall"))
                .header("cookie", format!("lx_session={tok}"))
                .send()
                .await?
                .error_for_status()?
                .text()
                .await?;
            times.push(t.elapsed());
            anyhow::ensure!(page.contains("wall-registered"), "the wall did not render for {user}");
            size = page.len();
        }
        timings.push(timing(&format!("wall page, {user} ({size} bytes)"), 1, times));
    }
    // The baseline: the district government's month recounted from the orders table (what
    // a unit's figures cost before the per-unit cells).
    {
        let dir = server.state.directory();
        let actor = lianxin_domain::command::Actor {
            username: "bench".into(),
            roles: vec![lianxin_domain::Role::Handler],
            unit: lianxin_domain::UnitCode::parse("d440106").ok(),
        };
        let scope = lianxin_domain::scope::scope_of(&actor, &dir);
        drop(dir);
        let start = |d: chrono::NaiveDate| {
            d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis() - i64::from(cal.utc_offset_minutes) * 60_000
        };
        let (from_s, to_s) = (first_prev.to_string(), first_this.to_string());
        let mut times = Vec::new();
        let mut registered = 0;
        for _ in 0..b.repeat.max(1) {
            let t = Instant::now();
            registered = 0;
            server
                .state
                .store()
                .each_order_for_recount(&scope, start(first_prev), start(first_this), |o| {
                    for c in lianxin_domain::kpi::contributions(o, &cal) {
                        if c.day >= from_s && c.day < to_s && c.counter == lianxin_domain::kpi::Counter::Registered {
                            registered += 1;
                        }
                    }
                })
                .await?;
            times.push(t.elapsed());
        }
        timings.push(timing("baseline: district month recounted from orders", registered, times));
    }
    // Hotspots: the last 30 and 90 days (with their four earlier periods: 150 and 450 days
    // of cells), for the hotline and for a district government; beside the same 30-day
    // counts by a plain GROUP BY over the orders table.
    let district = login(&http, &base, "handler.d440106").await?;
    let days_ago = |n: i64| today - chrono::Duration::days(n);
    let tomorrow = today + chrono::Duration::days(1);
    let queries = [
        ("hotspots street 30 d", &token, format!("from={}&to={tomorrow}&level=street", days_ago(29))),
        ("hotspots district 90 d", &token, format!("from={}&to={tomorrow}&level=district", days_ago(89))),
        ("hotspots street 30 d, a district", &district, format!("from={}&to={tomorrow}&level=street", days_ago(29))),
    ];
    for (label, tok, q) in queries {
        let url = format!("{base}/api/v1/stats/hotspots?{q}&limit=1000");
        let (rows, times) = timed_get(&http, &url, tok, b.repeat, "items").await?;
        timings.push(timing(label, rows, times));
    }
    // Tough-problem candidates (疑难问题线索): 90 days of place cells and problem signals
    // with the overdue gauges, by street and by district.
    let supervisor = login(&http, &base, "supervisor").await?;
    for (label, level) in
        [("problem candidates street 90 d", "street"), ("problem candidates district 90 d", "district")]
    {
        let url = format!("{base}/api/v1/problems/candidates?level={level}&limit=1000");
        let (rows, times) = timed_get(&http, &url, &supervisor, b.repeat, "items").await?;
        timings.push(timing(label, rows, times));
    }
    let midnight = |d: chrono::NaiveDate| {
        d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis() - i64::from(cal.utc_offset_minutes) * 60_000
    };
    let from_ms = midnight(days_ago(29));
    let to_ms = midnight(tomorrow);
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..b.repeat.max(1) {
        let t = Instant::now();
        rows = server.state.store().plain_place_counts(from_ms, to_ms).await?;
        times.push(t.elapsed());
    }
    timings.push(timing("baseline: GROUP BY over orders, 30 d", rows, times));
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
