//! PostgreSQL operations: moving a SQLite database over, and surviving the server's loss.

use crate::kit::*;
use lianxin_server::demo::DemoOptions;
use lianxin_server::{Clock, Config, spawn};
use reqwest::StatusCode;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn lianxin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lianxin")).args(args).env("LIANXIN_LOG", "error").output().unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn db_copy_moves_a_live_sqlite_demo_to_postgres_and_the_chains_still_verify() {
    let app = spawn_app_with(DemoOptions { history: 300, days: 15 }).await;
    let s = app.staff().await;
    let h = app.login("handler.d440106").await;
    let n = app.signed_order(&s, "d440106", &h).await;
    // Text that COPY's text format must escape: a backslash, a literal `\N`, a tab, newlines.
    let tricky = "路径 C:\\new\\N\t制表\n第二行\n\\";
    let r = app.act(&n, "note", &h, serde_json::json!({"text": tricky})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let orders = app.order_count().await;
    let source = app.db_url.clone();
    let target = postgres_database().await;

    // A live source: the server is still running while it is copied.
    let out = lianxin(&["db", "copy", "--from", &source, "--to", &target]);
    assert!(out.status.success(), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains(&format!("orders: {orders} rows")), "{report}");
    assert!(report.contains("the copy verifies"), "{report}");

    // A non-empty target is refused unless told to replace it.
    let again = lianxin(&["db", "copy", "--from", &source, "--to", &target]);
    assert!(!again.status.success());
    assert!(text(&again).contains("not empty"), "{}", text(&again));
    let replaced = lianxin(&["db", "copy", "--from", &source, "--to", &target, "--replace"]);
    assert!(replaced.status.success(), "{}", text(&replaced));
    let verify = lianxin(&["verify", "--database-url", &target]);
    assert!(verify.status.success(), "{}", text(&verify));

    // And back again, PostgreSQL to a new SQLite file: the same orders, and they verify.
    let back_dir = tempfile::tempdir().unwrap();
    let back = format!("sqlite://{}", back_dir.path().join("back.db").display());
    let out = lianxin(&["db", "copy", "--from", &target, "--to", &back]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(report.contains(&format!("orders: {orders} rows")), "{report}");
    assert!(report.contains("the copy verifies"), "{report}");
    assert!(report.contains("copy: events"), "progress is reported on stderr: {report}");

    // The copy serves: same accounts, same orders, and it goes on working.
    let copy = spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: target,
        demo: None,
        clock: Clock::manual(T0),
        sweep_every: None,
        options: Default::default(),
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let token = &sign_in_at(&http, &copy.url(), "handler.d440106").await;
    let r = http
        .post(format!("{}/api/v1/orders/{n}/actions/reply", copy.url()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(r#"{"content":"已处理","solved":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(copy.state.store().order_count().await.unwrap(), orders);
    let events: serde_json::Value = http
        .get(format!("{}/api/v1/orders/{n}/events", copy.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let notes: Vec<&str> = events.as_array().unwrap().iter().filter_map(|e| e["comment"].as_str()).collect();
    assert!(notes.contains(&tricky), "the note comes over byte for byte: {notes:?}");
    copy.stop().await;
}

fn cluster(cmd: &str, dir: &std::path::Path) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster.sh");
    // Durable settings: an abrupt kill must not lose acknowledged commits.
    let out = Command::new(script).arg(cmd).arg(dir).env("PG_DURABLE", "1").output().unwrap();
    assert!(out.status.success(), "pg-cluster.sh {cmd}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn when_postgres_dies_requests_fail_fast_with_503_and_recover_by_themselves() {
    // Its own cluster, since this test kills it.
    let dir = tempfile::tempdir().unwrap();
    let pg_dir = dir.path().join("pg");
    let url = cluster("start", &pg_dir);
    struct Stop(PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster.sh");
            let _ = Command::new(script).arg("stop").arg(&self.0).output();
        }
    }
    let _stop = Stop(pg_dir.clone());
    let server = spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        demo: Some(DemoOptions { history: 0, days: 1 }),
        clock: Clock::manual(T0),
        sweep_every: None,
        options: Default::default(),
    })
    .await
    .unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let base = server.url();
    let token = sign_in_at(&http, &base, "operator").await;
    let list = || http.get(format!("{base}/api/v1/orders")).bearer_auth(&token).send();
    let create = || http.post(format!("{base}/api/v1/orders")).bearer_auth(&token).json(&sample_order()).send();
    assert_eq!(create().await.unwrap().status(), StatusCode::CREATED);

    cluster("kill", &pg_dir);
    for (what, started, r) in [
        ("list", Instant::now(), list().await.unwrap()),
        ("create", Instant::now(), create().await.unwrap()),
        ("health", Instant::now(), http.get(format!("{base}/healthz")).send().await.unwrap()),
    ] {
        let elapsed = started.elapsed();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "database_unavailable", "{what}: {body}");
        assert!(elapsed < Duration::from_secs(10), "{what} must fail fast, took {elapsed:?}");
    }

    cluster("restart", &pg_dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if list().await.map(|r| r.status() == StatusCode::OK).unwrap_or(false) {
            break;
        }
        assert!(Instant::now() < deadline, "the service did not recover after the database came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(create().await.unwrap().status(), StatusCode::CREATED);
    let page: serde_json::Value = list().await.unwrap().json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "nothing was lost or half-written");
    server.stop().await;
}
