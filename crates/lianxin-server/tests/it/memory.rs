//! Whole-database passes run in bounded memory: `lianxin verify` needs as much memory for
//! ten times the orders.
//!
//! SQLite only: the memory measured is the `lianxin` process's, which reads the same pages
//! and rows from either backend (on PostgreSQL the server holds the data, and building
//! 50,000 orders there takes several times longer).

use lianxin_server::demo::DemoOptions;
use std::time::{Duration, Instant};

/// A SQLite database with the demo city's reference data and `orders` imported past orders
/// (one event each: the cheapest history to build, spread over 90 days).
async fn database(dir: &std::path::Path, name: &str, orders: usize) -> String {
    let url = format!("sqlite://{}", dir.join(name).display());
    let store = lianxin_store::Store::connect(&url).await.unwrap();
    let now = crate::kit::T0;
    lianxin_server::demo::load(&store, &DemoOptions { history: 0, days: 1 }, now).await.unwrap();
    let directory = store.load_directory().await.unwrap();
    let calendar = lianxin_server::cli::load_calendar(&store).await.unwrap();
    store.set_utc_offset(calendar.utc_offset_minutes);
    let csv = lianxin_server::bench::past_orders_csv(&directory, orders, now);
    let who = lianxin_server::setup::Importer { actor: "test".into(), now };
    let kind = lianxin_server::setup::Kind::Orders;
    let file = (csv.as_bytes(), lianxin_server::setup::table::Format::Csv);
    let report = lianxin_server::setup::import(&store, &directory, &calendar, kind, file, false, &who).await;
    assert_eq!(report.ok().map(|r| r.created), Some(orders));
    store.close().await;
    url
}

/// Runs `lianxin verify` and returns whether it passed, what it printed on standard error,
/// and its peak resident memory in KiB (`VmHWM`, read while it runs: the high-water mark
/// only grows, so the last reading before it exits is its peak).
fn verify_peak_kib(url: &str) -> (bool, String, u64) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["verify", "--database-url", url])
        .env("LIANXIN_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.success(), stderr, peak)
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_needs_no_more_memory_for_ten_times_the_orders() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let small = database(dir.path(), "small.db", 5_000).await;
    let large = database(dir.path(), "large.db", 50_000).await;
    let built = started.elapsed();
    let (ok, stderr, small_kib) = verify_peak_kib(&small);
    assert!(ok, "verify of 5,000 orders: {stderr}");
    let (ok, stderr, large_kib) = verify_peak_kib(&large);
    assert!(ok, "verify of 50,000 orders: {stderr}");
    assert!(stderr.contains("verify: orders 50000 of 50000"), "progress is reported on stderr: {stderr}");
    eprintln!(
        "peak memory of verify: {} KiB at 5,000 orders, {} KiB at 50,000 (built in {:.0} s, total {:.0} s)",
        small_kib,
        large_kib,
        built.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert!(small_kib > 0, "VmHWM was read");
    // Loading every order (as verify once did) costs about 3.7 KiB an order: 45,000 more
    // orders would add some 160 MiB. A page of orders and the open days' KPI cells are the
    // same for both, except that the open days' cells fill up in the denser database: a
    // day's cells are bounded by the reference data (units × categories, units × districts),
    // which 5,000 orders leave mostly empty (51 and 72 MiB measured with the per-unit, hour
    // and request-type cells).
    assert!(
        large_kib <= small_kib + 24 * 1024,
        "verify's memory grew with the orders: {small_kib} KiB at 5,000, {large_kib} KiB at 50,000"
    );
}
