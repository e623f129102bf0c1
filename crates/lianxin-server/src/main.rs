//! `lianxin`: the hotline platform's one binary.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use lianxin_server::bench::{CreateBench, run_create};
use lianxin_server::demo::{DEMO_PASSWORD, DemoOptions};
use lianxin_server::{Clock, Config, spawn};
use lianxin_store::{Store, redact};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "lianxin", version, about = "Lianxin (连心): a city's government service hotline platform")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the API (and, later, the web UI).
    Serve {
        /// Load the demo city into an empty database (a no-op when it is already there).
        #[arg(long)]
        demo: bool,
        /// How many historical demo orders to generate.
        #[arg(long, default_value_t = 5000)]
        demo_orders: usize,
        #[arg(long, env = "LIANXIN_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
        /// Seconds between supervision sweeps (yellow/red warnings); 0 turns the sweeper off.
        #[arg(long, env = "LIANXIN_SWEEP_SECONDS", default_value_t = 60)]
        sweep_seconds: u64,
        /// Where the search index lives (default: next to a SQLite file, FILE.index; in
        /// memory on PostgreSQL, rebuilt at every start). Two servers need two directories.
        #[arg(long, env = "LIANXIN_INDEX_DIR")]
        index_dir: Option<std::path::PathBuf>,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Rebuild the search index from the database (a running server catches up by itself;
    /// this starts from scratch).
    Reindex {
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
        /// The index directory (as `serve --index-dir`).
        #[arg(long, env = "LIANXIN_INDEX_DIR")]
        index_dir: Option<std::path::PathBuf>,
    },
    /// Recompute every order's event hash chain; exit 1 naming the first broken order.
    Verify {
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
    },
    /// Accounts: create one, or reset a password (read from standard input).
    User {
        #[command(subcommand)]
        which: UserCmd,
    },
    /// Import a city's reference data, accounts or past orders from CSV or JSON (all rows or none).
    Import {
        /// jurisdictions, units, categories, routes, users or orders
        kind: String,
        /// A CSV file (UTF-8, header row), or JSON when the name ends in .json
        file: String,
        /// Check and report what would change without writing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
    },
    /// Write a report (weekly, monthly or special) as HTML and an Excel workbook.
    Report {
        /// A month (2026-10), an ISO week (2026-W44) or two days (2026-10-01..2026-10-15).
        #[arg(long)]
        period: String,
        /// The directory to write `report-PERIOD.html` and `report-PERIOD.xlsx` into.
        #[arg(long)]
        out: String,
        /// A unit whose scope the report covers (e.g. a district government); the whole
        /// hotline when left out.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
    },
    /// Export what `import` reads.
    Export {
        /// jurisdictions, units, categories, routes, users or orders
        kind: String,
        /// Write to this file (JSON when it ends in .json); standard output otherwise, as CSV.
        #[arg(long)]
        out: Option<String>,
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
    },
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        which: DbCmd,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: BenchCmd,
    },
}

/// How `serve` meets the network (README, "Deployment").
#[derive(clap::Args)]
struct NetArgs {
    /// The address users reach, e.g. https://12345.example.gov.cn behind a TLS proxy; with
    /// https, cookies are Secure and answers carry Strict-Transport-Security.
    #[arg(long, env = "LIANXIN_PUBLIC_URL")]
    public_url: Option<String>,
    /// Serve /metrics on this address (and not on --listen).
    #[arg(long, env = "LIANXIN_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Require `Authorization: Bearer TOKEN` for /metrics. Without it, /metrics is served
    /// only on a loopback address.
    #[arg(long, env = "LIANXIN_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Close a connection that has not sent a request's headers within this many seconds.
    #[arg(long, env = "LIANXIN_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    header_timeout_seconds: u64,
    /// Answer 408 when a request body stops arriving for this many seconds.
    #[arg(long, env = "LIANXIN_BODY_TIMEOUT_SECONDS", default_value_t = 10)]
    body_timeout_seconds: u64,
    /// A reverse proxy whose X-Forwarded-For names the client (repeat, or comma-separate
    /// in the variable); sign-in throttling counts that client's address instead.
    #[arg(long = "trusted-proxy", env = "LIANXIN_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Failed sign-ins of one account within the window before further attempts wait.
    #[arg(long, env = "LIANXIN_LOGIN_ACCOUNT_FAILURES", default_value_t = 5)]
    login_account_failures: u32,
    /// Failed sign-ins from one address within the window before further attempts wait.
    #[arg(long, env = "LIANXIN_LOGIN_ADDRESS_FAILURES", default_value_t = 20)]
    login_address_failures: u32,
}

impl NetArgs {
    fn options(self) -> lianxin_server::ServeOptions {
        let defaults = lianxin_server::ServeOptions::default();
        lianxin_server::ServeOptions {
            public_url: self.public_url.filter(|u| !u.trim().is_empty()),
            metrics_listen: self.metrics_listen.filter(|u| !u.trim().is_empty()),
            metrics_token: self.metrics_token.filter(|u| !u.trim().is_empty()),
            header_timeout: std::time::Duration::from_secs(self.header_timeout_seconds.max(1)),
            body_timeout: std::time::Duration::from_secs(self.body_timeout_seconds.max(1)),
            trusted_proxies: self.trusted_proxies,
            login: lianxin_domain::login::LoginPolicy {
                account_failures: self.login_account_failures,
                address_failures: self.login_address_failures,
                ..defaults.login
            },
            index_dir: None,
        }
    }
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account; the password is read from standard input (one line).
    Add {
        username: String,
        /// operator, reviewer, dispatcher, handler, unit_admin, callback, supervisor, leader, admin
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The account's unit (required for handler and unit_admin).
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
    },
    /// Set a new password (read from standard input); the account's sessions end.
    Passwd {
        username: String,
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
    },
}

#[derive(Subcommand)]
enum DbCmd {
    /// Copy a live SQLite database into one consistent file while it serves.
    Backup {
        #[arg(long)]
        to: String,
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
    },
    /// Copy a whole database to another (e.g. SQLite to PostgreSQL), then verify the copy.
    Copy {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Delete what the target holds first (otherwise a non-empty target is refused).
        #[arg(long)]
        replace: bool,
    },
    /// Apply pending schema migrations and exit.
    Migrate {
        #[arg(long, env = "LIANXIN_DATABASE_URL", default_value = "sqlite://./lianxin.db")]
        database_url: String,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// KPI queries for one month over a large history (generated once, then reused).
    Kpis {
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        #[arg(long, default_value_t = 365)]
        days: i64,
        #[arg(long, default_value = "sqlite://./kpi-bench.db")]
        database_url: String,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// `import orders` of a generated history on the demo city's reference data.
    Import {
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        /// Database to import into (default: a temporary SQLite file); must be empty.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Raw commit rate, registrations, then lifecycle actions (notes) over HTTP, in one run
    /// against a fresh local server; prints the ratios between them.
    Actions {
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds of each load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Orders the actions are spread over.
        #[arg(long, default_value_t = 256)]
        orders: usize,
        /// Database for the server under test (default: a temporary SQLite file).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// The order index over N synthetic orders of the demo city: build rate, size on disk,
    /// memory, and query latencies in a fresh process.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        /// The index directory, kept (default: a temporary directory).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Timed queries per group.
        #[arg(long, default_value_t = 2000)]
        queries: usize,
        /// Query the index an earlier run built in --dir instead of building it again.
        #[arg(long)]
        reuse: bool,
        /// Only open the index in --dir and time the queries (the process the bench starts).
        #[arg(long, hide = true)]
        query_only: bool,
    },
    /// Order registration over HTTP against a fresh local server.
    Create {
        #[arg(long, default_value_t = 16)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Database for the server under test (default: a temporary SQLite file).
        #[arg(long)]
        database_url: Option<String>,
    },
}

fn which_into(w: UserCmd) -> lianxin_server::cli::UserCommand {
    match w {
        UserCmd::Add { username, roles, unit, display_name, database_url } => {
            lianxin_server::cli::UserCommand::Add { username, roles, unit, display_name, database_url }
        }
        UserCmd::Passwd { username, database_url } => {
            lianxin_server::cli::UserCommand::Passwd { username, database_url }
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("LIANXIN_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Reports a long pass's progress on standard error every few seconds (and when a table is
/// done), so that an operator sees a run over millions of orders move.
fn progress_to_stderr(pass: &'static str) -> impl FnMut(lianxin_store::Progress) + Send {
    let started = std::time::Instant::now();
    let mut last = started;
    let mut last_what = "";
    move |p| {
        let now = std::time::Instant::now();
        let finished = p.done >= p.total;
        if now.duration_since(last).as_secs() < 5 && !(finished && last_what != p.what) {
            return;
        }
        if finished {
            last_what = p.what;
        }
        last = now;
        let pct = if p.total > 0 { 100.0 * p.done as f64 / p.total as f64 } else { 100.0 };
        eprintln!(
            "{pass}: {} {} of {} ({pct:.0}%), {:.0} s",
            p.what,
            p.done,
            p.total,
            now.duration_since(started).as_secs_f64()
        );
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Serve { demo, demo_orders, listen, database_url, sweep_seconds, index_dir, net } => {
            let demo = demo.then(|| DemoOptions { history: demo_orders, ..DemoOptions::default() });
            let with_demo = demo.is_some();
            let sweep_every = (sweep_seconds > 0).then(|| std::time::Duration::from_secs(sweep_seconds));
            let mut options = net.options();
            options.index_dir = index_dir;
            let public_url = options.public_url.clone();
            let config =
                Config { listen, database_url: database_url.clone(), demo, clock: Clock::System, sweep_every, options };
            let running = spawn(config).await.with_context(|| format!("starting on {}", redact(&database_url)))?;
            println!("Lianxin (连心) is serving at {}  (database: {})", running.url(), redact(&database_url));
            if let Some(u) = &public_url {
                println!("  public address: {u}");
            }
            if let Some(m) = running.metrics_addr {
                println!("  metrics: http://{m}/metrics");
            }
            if !with_demo && running.state.store().users().await.map(|u| u.is_empty()).unwrap_or(false) {
                println!("  this database has no accounts yet: create the first administrator with");
                println!(
                    "    lianxin user add admin --role admin --database-url {}   (it reads the password from standard input)",
                    redact(&database_url)
                );
                println!(
                    "  then sign in at {}/login and set the city up under /console/admin, or with `lianxin import`",
                    running.url()
                );
            }
            println!("  health: {}/healthz   API document: {}/api/v1/openapi.json", running.url(), running.url());
            if with_demo {
                let staff: Vec<&str> =
                    running.demo_accounts.iter().filter(|a| !a.starts_with("handler.")).map(String::as_str).collect();
                let handlers = running.demo_accounts.iter().filter(|a| a.starts_with("handler.")).count();
                println!("  demo accounts (password `{DEMO_PASSWORD}`): {}", staff.join(", "));
                println!(
                    "  and {handlers} unit handlers named handler.<unit code>, e.g. handler.d440106, handler.s440106001, handler.city-urban"
                );
            }
            tokio::signal::ctrl_c().await?;
            println!("shutting down");
            running.stop().await;
        }
        Cmd::Reindex { database_url, index_dir } => {
            let store = Store::connect(&database_url).await?;
            let location = lianxin_server::search::IndexLocation::resolve(index_dir.as_deref(), &database_url);
            if location == lianxin_server::search::IndexLocation::Memory {
                anyhow::bail!("an index in memory lives only as long as its server: give --index-dir");
            }
            let started = std::time::Instant::now();
            let n = lianxin_server::search::reindex(&store, location).await?;
            println!(
                "search index rebuilt: {n} orders ({:.1} s, {:.0} orders/s)",
                started.elapsed().as_secs_f64(),
                n as f64 / started.elapsed().as_secs_f64().max(1e-9)
            );
            store.close().await;
        }
        Cmd::Verify { database_url } => {
            let store = lianxin_server::cli::open(&database_url).await?;
            let started = std::time::Instant::now();
            let report = store.verify_with(1, &mut progress_to_stderr("verify")).await?;
            if let Some(p) = report.problems.first() {
                eprintln!("BROKEN: {p}");
                std::process::exit(1);
            }
            println!(
                "intact: {} orders, {} events, every hash chain verifies ({:.1} s, {:.0} orders/s)",
                report.orders,
                report.events,
                started.elapsed().as_secs_f64(),
                report.orders as f64 / started.elapsed().as_secs_f64().max(1e-3)
            );
        }
        Cmd::Db { which: DbCmd::Copy { from, to, replace } } => {
            let source = lianxin_server::cli::open(&from).await?;
            let target = lianxin_server::cli::open_copy_target(&to).await?;
            let started = std::time::Instant::now();
            let report = source.copy_to_with(&target, replace, &mut progress_to_stderr("copy")).await?;
            let copied = started.elapsed().as_secs_f64();
            for (table, n) in &report {
                println!("{table:>16}: {n} rows");
            }
            let orders = report.get("orders").copied().unwrap_or(0);
            println!("copied in {copied:.1} s ({:.0} orders/s); verifying the copy", orders as f64 / copied.max(1e-3));
            let check = target.verify_with(1, &mut progress_to_stderr("verify")).await?;
            if let Some(p) = check.problems.first() {
                eprintln!("the copy does not verify: {p}");
                std::process::exit(1);
            }
            println!(
                "copied {} to {} in {:.1} s; the copy verifies: {} orders, {} events",
                redact(&from),
                redact(&to),
                started.elapsed().as_secs_f64(),
                check.orders,
                check.events
            );
        }
        Cmd::User { which } => lianxin_server::cli::user(which_into(which)).await?,
        Cmd::Import { kind, file, dry_run, database_url } => {
            lianxin_server::cli::import(&kind, &file, dry_run, &database_url).await?
        }
        Cmd::Report { period, out, unit, database_url } => {
            lianxin_server::cli::report(&period, &out, unit.as_deref(), &database_url).await?
        }
        Cmd::Export { kind, out, database_url } => {
            lianxin_server::cli::export(&kind, out.as_deref(), &database_url).await?
        }
        Cmd::Db { which: DbCmd::Backup { to, database_url } } => {
            let store =
                Store::connect(&database_url).await.with_context(|| format!("opening {}", redact(&database_url)))?;
            let started = std::time::Instant::now();
            store.backup_to(std::path::Path::new(&to)).await?;
            let copy = Store::connect(&format!("sqlite://{to}")).await?;
            let check = copy.verify_with(1, &mut progress_to_stderr("verify")).await?;
            if let Some(p) = check.problems.first() {
                eprintln!("the backup does not verify: {p}");
                std::process::exit(1);
            }
            println!(
                "backed up {} to {to} in {:.1} s; the copy verifies: {} orders, {} events",
                redact(&database_url),
                started.elapsed().as_secs_f64(),
                check.orders,
                check.events
            );
        }
        Cmd::Db { which: DbCmd::Migrate { database_url } } => {
            Store::connect(&database_url).await?;
            println!("{} is at the current schema", redact(&database_url));
        }
        Cmd::Bench { which: BenchCmd::Kpis { orders, days, database_url, repeat } } => {
            let r = lianxin_server::bench::run_kpis(&lianxin_server::bench::KpiBench {
                orders,
                days,
                database_url,
                repeat,
            })
            .await?;
            if let Some(g) = r.generate_seconds {
                println!("{}: generated the history in {g:.0} s", r.backend);
            }
            println!("{}: {} orders, KPIs for {}", r.backend, r.orders, r.period);
            for t in &r.timings {
                println!(
                    "  group_by {:>9}: {:>4} rows, median {:>8.2} ms, max {:>8.2} ms",
                    t.group_by, t.rows, t.median_ms, t.max_ms
                );
            }
            println!("{}", serde_json::to_string(&r)?);
        }
        Cmd::Bench { which: BenchCmd::Import { orders, database_url } } => {
            let r =
                lianxin_server::bench::run_import(&lianxin_server::bench::ImportBench { orders, database_url }).await?;
            println!(
                "{}: imported {} past orders ({:.1} MB) in {:.2} s: {:.0} orders/s; baseline {:.0} plain 1 KiB inserts/s (ratio {:.2}); verify {:.1} s, intact: {}",
                r.backend,
                r.orders,
                r.file_bytes as f64 / 1e6,
                r.seconds,
                r.orders_per_second,
                r.baseline_rows_per_second,
                r.ratio,
                r.verify_seconds,
                r.intact
            );
            println!("{}", serde_json::to_string(&r)?);
        }
        Cmd::Bench { which: BenchCmd::Actions { clients, seconds, orders, database_url } } => {
            let r = lianxin_server::bench::run_actions(&lianxin_server::bench::ActionsBench {
                clients,
                seconds,
                orders,
                database_url,
            })
            .await?;
            println!("{}: raw durable commits {:.0}/s", r.backend, r.baseline_commits_per_second);
            for (what, x) in [("registrations", &r.registrations), ("actions", &r.actions)] {
                println!(
                    "  {what:>13}: {} clients, {:.1} s: {} ({} errors), {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, durable: {}",
                    x.clients,
                    x.seconds,
                    x.orders,
                    x.errors,
                    x.orders_per_second,
                    x.p50_ms,
                    x.p99_ms,
                    x.max_ms,
                    x.durable
                );
            }
            println!(
                "  actions / registrations {:.2} (target >= 1.0); registrations / raw commits {:.2} (target >= 0.5)",
                r.actions_over_registrations, r.registrations_over_baseline
            );
            println!("{}", serde_json::to_string(&r)?);
        }
        Cmd::Bench { which: BenchCmd::Search { orders, dir, queries, reuse, query_only } } => {
            use lianxin_server::bench::search;
            if query_only {
                let dir = dir.context("--query-only needs --dir")?;
                let r = tokio::task::spawn_blocking(move || search::run_queries(&dir, orders, queries)).await??;
                println!("{}", serde_json::to_string(&r)?);
                return Ok(());
            }
            let b = search::SearchBench { orders, dir, queries, reuse };
            let r = tokio::task::spawn_blocking(move || search::run(&b)).await??;
            for line in r.lines() {
                println!("{line}");
            }
            println!("{}", serde_json::to_string(&r)?);
        }
        Cmd::Bench { which: BenchCmd::Create { clients, seconds, database_url } } => {
            let r = run_create(&CreateBench { clients, seconds, database_url }).await?;
            println!(
                "{}: {} clients, {:.1} s: {} orders ({} errors), {:.0} orders/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, durable: {}",
                r.backend,
                r.clients,
                r.seconds,
                r.orders,
                r.errors,
                r.orders_per_second,
                r.p50_ms,
                r.p99_ms,
                r.max_ms,
                r.durable
            );
            println!("{}", serde_json::to_string(&r)?);
        }
    }
    Ok(())
}
