use crate::kit::*;
use lianxin_server::demo::DemoOptions;
use serde_json::json;
use sqlx::AnyPool as SqlitePool;
use std::process::Output;

const MINUTE: i64 = 60_000;

/// A demo database with some history plus orders walked over HTTP, its server stopped.
struct Fixture {
    db: StoppedDb,
    /// Closed after the whole loop: nine events, each at a different time.
    closed: String,
    /// Still being handled: six events.
    open: String,
}

async fn fixture() -> Fixture {
    let app = spawn_app_with(DemoOptions { history: 200, days: 10 }).await;
    let s = app.staff().await;
    let h = app.login("handler.d440106").await;
    let assisting = app.login("handler.city-urban").await;

    let closed = app.create(&s, sample_order()).await;
    let steps = [
        ("submit", &s.operator, json!({})),
        ("approve", &s.reviewer, json!({})),
        (
            "dispatch",
            &s.dispatcher,
            json!({"lead_unit": "d440106", "assisting_units": ["city-urban"], "note": "请处理"}),
        ),
        ("sign", &h, json!({})),
        ("note", &assisting, json!({"text": "城管已到场配合"})),
        ("reply", &h, json!({"content": "路灯已更换，恢复照明。", "solved": true})),
        ("callback", &s.callback, json!({"satisfaction": "satisfied", "solved": true, "note": "满意"})),
    ];
    for (action, tok, body) in steps {
        app.clock.advance(7 * MINUTE);
        app.must(&closed, action, tok, body).await;
    }
    app.clock.advance(MINUTE);
    let open = app.dispatched_order(&s, "city-urban", &[]).await;
    app.clock.advance(MINUTE);
    app.must(&open, "urge", &s.supervisor, json!({"note": "请加快", "level": 2})).await;
    // Something created after them, so that neither is the day's last number.
    app.clock.advance(MINUTE);
    app.create(&s, sample_order()).await;

    assert_eq!(app.stored(&closed).await.1, 8);
    assert_eq!(app.stored(&open).await.1, 5);
    assert!(app.order_count().await > 100, "the fixture has history");
    let db = app.stop_keeping_db().await;
    Fixture { db, closed, open }
}

/// Runs `lianxin verify` on the database.
fn run_verify(db: &StoppedDb) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["verify", "--database-url", &db.db_url])
        .env("LIANXIN_LOG", "error")
        .output()
        .expect("run lianxin verify")
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_intact(db: &StoppedDb) {
    let out = run_verify(db);
    assert!(out.status.success(), "verify should pass on an untouched database: {}", describe(&out));
}

/// Asserts that verify fails and names `number` on stderr.
fn assert_broken(db: &StoppedDb, number: &str) {
    let out = run_verify(db);
    assert!(!out.status.success(), "verify should fail after tampering: {}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(number), "stderr should name order {number}: {}", describe(&out));
}

/// Opens the database directly, as someone with access to it could.
async fn open(db: &StoppedDb) -> SqlitePool {
    sqlx::any::install_default_drivers();
    SqlitePool::connect(&db.db_url).await.expect("open the database")
}

async fn exec(pool: &SqlitePool, sql: &'static str, number: &str) -> u64 {
    sqlx::query(sql).bind(number).execute(pool).await.expect("tamper").rows_affected()
}

/// Starts from an intact database, applies `tamper` to it directly, and expects `verify` to
/// fail naming `number`.
async fn tampered(f: &Fixture, number: &str, tamper: impl AsyncFnOnce(&SqlitePool)) {
    assert_intact(&f.db);
    let pool = open(&f.db).await;
    tamper(&pool).await;
    pool.close().await;
    assert_broken(&f.db, number);
}

dual! {
async fn verify_passes_on_a_demo_database_with_history_and_live_actions() {
    let f = fixture().await;
    let out = run_verify(&f.db);
    assert!(out.status.success(), "{}", describe(&out));
    // Idempotent: verifying does not change anything that a second run would see.
    assert_intact(&f.db);
}
}

dual! {
async fn verify_names_the_order_whose_event_comment_was_edited() {
    let f = fixture().await;
    let n = f.closed.clone();
    tampered(&f, &n, async |db| {
        let sql = "UPDATE events SET comment = '路灯早已修好' WHERE number = $1 AND seq = 7";
        assert_eq!(exec(db, sql, &n).await, 1);
    })
    .await;
}
}

dual! {
async fn verify_names_the_order_whose_event_payload_was_edited() {
    let f = fixture().await;
    let n = f.closed.clone();
    tampered(&f, &n, async |db| {
        let before: (String,) = sqlx::query_as("SELECT payload FROM events WHERE number = $1 AND seq = 4")
            .bind(&n)
            .fetch_one(db)
            .await
            .unwrap();
        assert!(before.0.contains("d440106"), "the dispatch names its lead unit: {}", before.0);
        let sql = "UPDATE events SET payload = replace(payload, 'd440106', 'd440104') WHERE number = $1 AND seq = 4";
        assert_eq!(exec(db, sql, &n).await, 1);
    })
    .await;
}
}

dual! {
async fn verify_names_the_order_that_lost_an_event_in_the_middle() {
    let f = fixture().await;
    let n = f.closed.clone();
    tampered(&f, &n, async |db| {
        assert_eq!(exec(db, "DELETE FROM events WHERE number = $1 AND seq = 5", &n).await, 1);
    })
    .await;
}
}

dual! {
async fn verify_names_the_order_that_lost_its_last_event() {
    let f = fixture().await;
    let n = f.closed.clone();
    tampered(&f, &n, async |db| {
        let sql = "DELETE FROM events WHERE number = $1 AND seq = (SELECT MAX(seq) FROM events WHERE number = $1)";
        assert_eq!(exec(db, sql, &n).await, 1);
    })
    .await;
}
}

dual! {
async fn verify_names_the_order_whose_event_times_were_swapped() {
    let f = fixture().await;
    let n = f.closed.clone();
    tampered(&f, &n, async |db| {
        let at = |seq: i64| {
            let n = n.clone();
            async move {
                let (t,): (i64,) = sqlx::query_as("SELECT at FROM events WHERE number = $1 AND seq = $2")
                    .bind(&n)
                    .bind(seq)
                    .fetch_one(db)
                    .await
                    .unwrap();
                t
            }
        };
        let (a, b) = (at(5).await, at(6).await);
        assert_ne!(a, b, "the two events must have happened at different times");
        for (seq, t) in [(5, b), (6, a)] {
            sqlx::query("UPDATE events SET at = $1 WHERE number = $2 AND seq = $3")
                .bind(t)
                .bind(&n)
                .bind(seq)
                .execute(db)
                .await
                .unwrap();
        }
    })
    .await;
}
}

dual! {
async fn verify_names_the_order_whose_row_was_deleted_while_its_events_remain() {
    let f = fixture().await;
    let n = f.open.clone();
    tampered(&f, &n, async |db| {
        // Its unit links go too, as the schema's foreign key demands.
        exec(db, "DELETE FROM order_units WHERE number = $1", &n).await;
        assert_eq!(exec(db, "DELETE FROM orders WHERE number = $1", &n).await, 1);
    })
    .await;
}
}

dual! {
async fn verify_names_the_order_deleted_together_with_all_its_events_by_the_gap_in_the_days_numbers() {
    let f = fixture().await;
    let n = f.closed.clone();
    tampered(&f, &n, async |db| {
        exec(db, "DELETE FROM order_units WHERE number = $1", &n).await;
        assert_eq!(exec(db, "DELETE FROM events WHERE number = $1", &n).await, 8);
        assert_eq!(exec(db, "DELETE FROM orders WHERE number = $1", &n).await, 1);
    })
    .await;
}
}

dual! {
async fn verify_names_the_order_whose_row_status_was_edited() {
    let f = fixture().await;
    let n = f.open.clone();
    tampered(&f, &n, async |db| {
        assert_eq!(exec(db, "UPDATE orders SET status = 'closed' WHERE number = $1", &n).await, 1);
    })
    .await;
}
}

dual! {
async fn verify_reports_the_kpi_rollups_when_a_counter_was_edited() {
    let f = fixture().await;
    tampered(&f, "(kpi rollups)", async |db| {
        let sql = "UPDATE kpi_rollup SET value = value + 1 WHERE dim = 'unit' AND counter = 'registered' \
                   AND day = (SELECT MIN(day) FROM kpi_rollup WHERE dim = 'unit' AND counter = 'registered') AND key <> $1";
        assert!(exec(db, sql, "").await >= 1);
    })
    .await;
}
}

dual! {
async fn verify_reports_the_kpi_rollups_when_the_last_days_cell_was_deleted() {
    let f = fixture().await;
    tampered(&f, "(kpi rollups)", async |db| {
        let sql = "DELETE FROM kpi_rollup WHERE dim = 'all' AND counter = $1 \
                   AND day = (SELECT MAX(day) FROM kpi_rollup WHERE dim = 'all' AND counter = 'registered')";
        assert_eq!(exec(db, sql, "registered").await, 1);
    })
    .await;
}
}

dual! {
async fn verify_reports_the_kpi_rollups_when_a_cell_was_added_for_a_day_without_orders() {
    let f = fixture().await;
    tampered(&f, "(kpi rollups)", async |db| {
        let sql = "INSERT INTO kpi_rollup (dim, day, key, counter, value) VALUES ('all', '2020-01-01', 'all', $1, 3)";
        assert_eq!(exec(db, sql, "registered").await, 1);
    })
    .await;
}
}

dual! {
async fn a_database_from_before_the_hotspot_cells_gets_them_counted_once_when_opened() {
    let f = fixture().await;
    // As a database from before: no hotspot cells and no mark that they were counted.
    let pool = open(&f.db).await;
    sqlx::query("DELETE FROM kpi_rollup WHERE dim IN ('category_street', 'category_district')").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM meta WHERE key = 'rollup.category_place'").execute(&pool).await.unwrap();
    pool.close().await;
    // Opening it counts them from the orders, and the recount agrees.
    assert_intact(&f.db);
    let pool = open(&f.db).await;
    let (cells,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM kpi_rollup WHERE dim = 'category_street'").fetch_one(&pool).await.unwrap();
    assert!(cells > 0);
    // Once counted they are kept by every change, not counted again: losing them now is a
    // difference `verify` names.
    sqlx::query("DELETE FROM kpi_rollup WHERE dim = 'category_street'").execute(&pool).await.unwrap();
    pool.close().await;
    let out = run_verify(&f.db);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("category_street"), "{}", describe(&out));
}
}
