//! The server at its doors: cookies and HSTS behind TLS, who may read `/metrics`, slow
//! clients (a half-sent request is closed, a stalled body is a JSON 408).

use crate::kit::*;
use lianxin_server::ServeOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_cookies_are_secure_and_answers_carry_hsts() {
    let app = spawn_app_options(ServeOptions {
        public_url: Some("https://12345.example.gov.cn".into()),
        ..ServeOptions::default()
    })
    .await;
    let form = app.form_login(&TestApp::form_client(), "operator", "demo").await;
    let session = form.set_cookie("lx_session").unwrap();
    assert!(session.contains("; Secure"), "{session}");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    let login_page = app.http.get(app.url("/login")).send().await.unwrap();
    let csrf = login_page.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(csrf.ends_with("; Secure") && csrf.matches("Secure").count() == 1, "{csrf}");
    for path in ["/healthz", "/login", "/api/v1/auth/me"] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            r.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_https_public_url_there_is_no_secure_flag_and_no_hsts() {
    for public_url in [None, Some("http://hotline.internal:8080".to_owned())] {
        let app = spawn_app_options(ServeOptions { public_url, ..ServeOptions::default() }).await;
        let form = app.form_login(&TestApp::form_client(), "operator", "demo").await;
        let session = form.set_cookie("lx_session").unwrap();
        assert!(!session.contains("Secure"), "{session}");
        let r = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert!(r.headers().get("strict-transport-security").is_none());
        app.running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_url_that_is_not_http_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let r = lianxin_server::spawn(lianxin_server::Config {
        listen: "127.0.0.1:0".into(),
        database_url: format!("sqlite://{}", dir.path().join("x.db").display()),
        demo: None,
        clock: lianxin_server::Clock::manual(T0),
        sweep_every: None,
        options: ServeOptions { public_url: Some("12345.example.gov.cn".into()), ..ServeOptions::default() },
    })
    .await;
    let err = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("https://"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_when_one_is_set() {
    let open = spawn_app().await;
    let r = open.http.get(open.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "open by default on a loopback listener");

    let app =
        spawn_app_options(ServeOptions { metrics_token: Some("s3cret-metrics".into()), ..ServeOptions::default() })
            .await;
    for auth in [None, Some("Bearer wrong"), Some("Bearer s3cret-metric")] {
        let mut req = app.http.get(app.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_signed_in");
    }
    let r = app.http.get(app.url("/metrics")).bearer_auth("s3cret-metrics").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_have_their_own_listener() {
    let app = spawn_app_options(ServeOptions {
        metrics_listen: Some("127.0.0.1:0".into()),
        metrics_token: Some("tok".into()),
        ..ServeOptions::default()
    })
    .await;
    let r = app.http.get(app.url("/metrics")).bearer_auth("tok").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "not on the main listener");
    let m = app.running.metrics_addr.unwrap();
    let r = app.http.get(format!("http://{m}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.http.get(format!("http://{m}/metrics")).bearer_auth("tok").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.http.get(format!("http://{m}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "the metrics listener serves only metrics");
}

/// Reads until the peer closes (or resets) the connection; what it sent, if anything.
async fn read_to_close(s: &mut TcpStream, within: Duration) -> Result<String, &'static str> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return Err("still open"),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(String::from_utf8_lossy(&out).into_owned()),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_closed_within_the_header_timeout_while_others_are_served() {
    let app =
        spawn_app_options(ServeOptions { header_timeout: Duration::from_secs(1), ..ServeOptions::default() }).await;
    let addr = app.running.addr;
    let mut slow = Vec::new();
    for i in 0..40 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let opened = Instant::now();
        if i % 2 == 0 {
            // Part of the headers, never the blank line that ends them.
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.unwrap();
        }
        // Each waits for its close in the background: when did it come?
        slow.push(tokio::spawn(async move {
            read_to_close(&mut s, Duration::from_secs(8)).await.map(|_| opened.elapsed())
        }));
    }
    // Meanwhile the server keeps answering others.
    for _ in 0..5 {
        let r = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let token = app.login("operator").await;
    app.create_order(&token).await;
    for s in slow {
        let after = s.await.unwrap().expect("a slow connection is closed");
        assert!(after < Duration::from_secs(4), "closed within the header timeout and a margin: {after:?}");
        assert!(after >= Duration::from_millis(900), "not before the timeout: {after:?}");
    }
    // A complete request on a fresh connection is answered as ever.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let answer = read_to_close(&mut s, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Sends the headers of a POST announcing `len` bytes and then only `part` of them.
async fn stalled_post(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
    len: usize,
    part: &[u8],
) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{auth}Content-Length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(part).await.unwrap();
    s
}

fn json_of(answer: &str) -> (String, Value) {
    let status = answer.lines().next().unwrap_or("").to_owned();
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

dual! {
    async fn a_stalled_body_gets_a_json_408_and_writes_nothing() {
        let app =
            spawn_app_options(ServeOptions { body_timeout: Duration::from_secs(1), ..ServeOptions::default() }).await;
        let addr = app.running.addr;
        let token = app.login("operator").await;
        let orders = app.order_count().await;
        let logins = app.login_counts().await;

        let body = sample_order().to_string();
        let started = Instant::now();
        let mut s = stalled_post(addr, "/api/v1/orders", Some(&token), body.len(), &body.as_bytes()[..body.len() / 2]).await;
        let answer = read_to_close(&mut s, Duration::from_secs(8)).await.unwrap();
        let (status, json) = json_of(&answer);
        assert!(status.starts_with("HTTP/1.1 408"), "{answer}");
        assert_eq!(json["error"]["code"], "timeout", "{answer}");
        assert!(json["error"]["message"].as_str().unwrap().contains("1 s"), "{json}");
        assert!(started.elapsed() < Duration::from_secs(5), "answered after the body timeout, not the request's 30 s");
        assert_eq!(app.order_count().await, orders, "no order from a broken body");

        let login = json!({"username": "operator", "password": "demo"}).to_string();
        let mut s = stalled_post(addr, "/api/v1/auth/login", None, login.len() + 10, login.as_bytes()).await;
        let (status, json) = json_of(&read_to_close(&mut s, Duration::from_secs(8)).await.unwrap());
        assert!(status.starts_with("HTTP/1.1 408"), "{status}");
        assert_eq!(json["error"]["code"], "timeout");
        assert_eq!(app.login_counts().await, logins, "no sign-in recorded, no session opened");

        // A body that arrives slowly but steadily is read.
        let mut s = stalled_post(addr, "/api/v1/auth/login", None, login.len(), b"").await;
        for chunk in login.as_bytes().chunks(8) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            s.write_all(chunk).await.unwrap();
        }
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(8), s.read(&mut buf)).await.unwrap().unwrap();
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
}
