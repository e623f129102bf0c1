//! Test kit: `spawn_app()` starts a real server with the demo city's reference data and
//! accounts on a temp SQLite file (or `LIANXIN_TEST_DATABASE_URL`), with a manual clock.

use lianxin_server::demo::DemoOptions;
use lianxin_server::{Clock, Config, Running, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Monday 2026-11-23 10:00 +08:00.
pub const T0: i64 = 1_795_399_200_000;

pub struct TestApp {
    pub running: Running,
    pub http: reqwest::Client,
    pub clock: Clock,
    pub db_url: String,
    _dir: tempfile::TempDir,
}

/// A response: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(DemoOptions { history: 0, days: 1 }).await
}

/// The database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    /// Set by [`dual!`] for the test body.
    pub static BACKEND: Backend;
}

/// Declares a test that runs twice, as `NAME::sqlite` and `NAME::postgres`: `spawn_app()`
/// inside it gets a fresh database of that backend.
#[macro_export]
macro_rules! dual {
    ($(#[$attr:meta])* async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$attr])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::kit::BACKEND.scope($crate::kit::Backend::Sqlite, async $body).await
            }

            $(#[$attr])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::kit::BACKEND.scope($crate::kit::Backend::Postgres, async $body).await
            }
        }
    };
}

/// The backend of the running test (SQLite outside [`dual!`]).
pub fn backend() -> Backend {
    BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite)
}

/// A fresh, empty PostgreSQL database on the cluster that `scripts/test.sh` started.
pub async fn postgres_database() -> String {
    use sqlx::Connection;
    let admin = std::env::var("LIANXIN_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "LIANXIN_TEST_PG_URL is not set. The PostgreSQL half of the suite runs against the \
             throwaway cluster that scripts/test.sh starts: run scripts/test.sh (or start one with \
             scripts/pg-cluster.sh start DIR and export the URL it prints)."
        )
    });
    sqlx::any::install_default_drivers();
    let name = format!("lx_{}", lianxin_server::auth::new_token().get(..16).unwrap_or("x"));
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL cluster at {admin}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

pub async fn spawn_app_with(demo: DemoOptions) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db_url = match backend() {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
        Backend::Postgres => postgres_database().await,
    };
    let clock = Clock::manual(T0);
    let running = spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: db_url.clone(),
        demo: Some(demo),
        clock: clock.clone(),
        sweep_every: None,
        options: Default::default(),
    })
    .await
    .unwrap();
    TestApp { running, http: reqwest::Client::new(), clock, db_url, _dir: dir }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.running.url(), path)
    }

    pub async fn login(&self, user: &str) -> String {
        let r =
            self.post_raw("/api/v1/auth/login", None, json!({"username": user, "password": "demo"}).to_string()).await;
        assert_eq!(r.status, StatusCode::OK, "login {user}: {:?}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        let r = self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        to_resp(r).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.post_raw(path, Some(token), body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, token: Option<&str>, body: String) -> Resp {
        let mut req = self.http.post(self.url(path)).header("content-type", "application/json").body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        to_resp(req.send().await.unwrap()).await
    }

    /// Registers a normal streetlight complaint on street 440106001 (天河区沙河街道… ) as `operator`.
    pub async fn create_order(&self, operator: &str) -> Value {
        let r = self.post("/api/v1/orders", operator, sample_order()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body
    }

    pub async fn act(&self, number: &str, action: &str, token: &str, body: Value) -> Resp {
        self.post(&format!("/api/v1/orders/{number}/actions/{action}"), token, body).await
    }

    /// Performs an action that must succeed.
    pub async fn must(&self, number: &str, action: &str, token: &str, body: Value) -> Value {
        let r = self.act(number, action, token, body).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {:?}", r.body);
        r.body
    }

    pub async fn events(&self, number: &str, token: &str) -> Vec<Value> {
        let r = self.get(&format!("/api/v1/orders/{number}/events"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r.body.as_array().unwrap().clone()
    }

    /// The order as the store has it, bypassing scope (for asserting that nothing changed).
    pub async fn stored(&self, number: &str) -> (Value, i64) {
        let store = self.running.state.store();
        let o = store.order(number).await.unwrap().unwrap();
        let n = store.event_count(number).await.unwrap();
        (serde_json::to_value(&o).unwrap(), n)
    }
}

async fn to_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let text = r.text().await.unwrap();
    Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
}

/// A bearer token for demo account `user` (password `demo`) on the server at `base`, for a
/// server the test started itself rather than a [`TestApp`].
pub async fn sign_in_at(http: &reqwest::Client, base: &str, user: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login {user}");
    let body: Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

pub fn sample_order() -> Value {
    json!({
        "channel": "phone", "request_type": "complaint",
        "category": "urban.facilities.streetlight-out", "urgency": "normal",
        "content": "天河路口的路灯连续三晚不亮，夜里很危险。请尽快维修。",
        "caller": {"phone": "13800001234", "name": "张小明", "confidential": false},
        "location": {"street": "440106001", "address": "天河路1号", "lat": 23.13, "lon": 113.32}
    })
}

// ---------------------------------------------------------------------------------------
// Helpers for the lifecycle, refusal, scope and verify tests.
// ---------------------------------------------------------------------------------------

/// Tokens of the hotline-wide demo accounts.
pub struct Staff {
    pub operator: String,
    pub reviewer: String,
    pub dispatcher: String,
    pub callback: String,
    pub supervisor: String,
    pub leader: String,
}

/// The database file of a stopped server, kept on disk until this value is dropped.
pub struct StoppedDb {
    pub path: std::path::PathBuf,
    pub db_url: String,
    _dir: tempfile::TempDir,
}

/// Asserts that `r` is an error answer with `status`, `code` and a non-empty message, in
/// the contract's `{"error":{"code","message"}}` shape.
pub fn assert_error(r: &Resp, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.code(), code, "{:?}", r.body);
    let msg = r.body["error"]["message"].as_str().unwrap_or("");
    assert!(!msg.trim().is_empty(), "an error needs a message: {:?}", r.body);
}

/// The `number` of an order object.
pub fn number_of(order: &Value) -> String {
    order["number"].as_str().expect("an order has a number").to_owned()
}

impl TestApp {
    /// Signs in every hotline-wide demo account.
    pub async fn staff(&self) -> Staff {
        Staff {
            operator: self.login("operator").await,
            reviewer: self.login("reviewer").await,
            dispatcher: self.login("dispatcher").await,
            callback: self.login("callback").await,
            supervisor: self.login("supervisor").await,
            leader: self.login("leader").await,
        }
    }

    /// Registers `body` as the operator; returns the order's number.
    pub async fn create(&self, s: &Staff, body: Value) -> String {
        let r = self.post("/api/v1/orders", &s.operator, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        number_of(&r.body)
    }

    /// Registers `body`, submits and approves it: the order is `pending_dispatch`.
    pub async fn pending_order(&self, s: &Staff, body: Value) -> String {
        let n = self.create(s, body).await;
        self.must(&n, "submit", &s.operator, json!({})).await;
        self.must(&n, "approve", &s.reviewer, json!({})).await;
        n
    }

    /// A sample order dispatched to `lead` with `assisting` units.
    pub async fn dispatched_order(&self, s: &Staff, lead: &str, assisting: &[&str]) -> String {
        let n = self.pending_order(s, sample_order()).await;
        self.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": lead, "assisting_units": assisting})).await;
        n
    }

    /// A sample order dispatched to `lead` and signed for by `lead_token` (`in_progress`).
    pub async fn signed_order(&self, s: &Staff, lead: &str, lead_token: &str) -> String {
        let n = self.dispatched_order(s, lead, &[]).await;
        self.must(&n, "sign", lead_token, json!({})).await;
        n
    }

    /// A sample order handled by `lead` up to its reply (`replied`).
    pub async fn replied_order(&self, s: &Staff, lead: &str, lead_token: &str) -> String {
        let n = self.signed_order(s, lead, lead_token).await;
        self.must(&n, "reply", lead_token, json!({"content": "已派人现场修复路灯。", "solved": true})).await;
        n
    }

    /// A sample order walked to `closed` by a satisfied callback.
    pub async fn closed_order(&self, s: &Staff, lead: &str, lead_token: &str) -> String {
        let n = self.replied_order(s, lead, lead_token).await;
        self.must(&n, "callback", &s.callback, json!({"satisfaction": "satisfied", "solved": true})).await;
        n
    }

    /// Any request: `body` is sent as JSON text when given.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Resp {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        to_resp(req.send().await.unwrap()).await
    }

    /// How many orders the store holds.
    pub async fn order_count(&self) -> i64 {
        self.running.state.store().order_count().await.unwrap()
    }

    /// Sends `body` (raw text) to an action and asserts that it is refused with `status`
    /// and `code`, and that neither the order nor its event log changed.
    pub async fn refused_raw(
        &self,
        number: &str,
        action: &str,
        token: Option<&str>,
        body: String,
        status: StatusCode,
        code: &str,
    ) -> Resp {
        let before = self.stored(number).await;
        let r = self.post_raw(&format!("/api/v1/orders/{number}/actions/{action}"), token, body).await;
        assert_error(&r, status, code);
        let after = self.stored(number).await;
        assert_eq!(before, after, "a refused `{action}` must change nothing");
        r
    }

    /// Like [`TestApp::refused_raw`] with a JSON body and a token.
    pub async fn refused(
        &self,
        number: &str,
        action: &str,
        token: &str,
        body: Value,
        status: StatusCode,
        code: &str,
    ) -> Resp {
        self.refused_raw(number, action, Some(token), body.to_string(), status, code).await
    }

    /// Asserts that registering `body` as `token` is refused with `status` and `code` and
    /// that no order was created.
    pub async fn create_refused(&self, token: &str, body: String, status: StatusCode, code: &str) -> Resp {
        let before = self.order_count().await;
        let r = self.post_raw("/api/v1/orders", Some(token), body).await;
        assert_error(&r, status, code);
        assert_eq!(self.order_count().await, before, "a refused registration must create nothing");
        r
    }

    /// Stops the server and returns its database file, which stays on disk as long as
    /// the returned value lives.
    pub async fn stop_keeping_db(self) -> StoppedDb {
        let TestApp { running, db_url, _dir: dir, .. } = self;
        running.stop().await;
        let path = dir.path().join("test.db");
        StoppedDb { path, db_url, _dir: dir }
    }
}

/// Runs `lianxin verify` on a database and asserts that every chain and rollup checks out.
pub fn assert_verifies(db_url: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["verify", "--database-url", db_url])
        .env("LIANXIN_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "verify: {}", String::from_utf8_lossy(&out.stderr));
}

// ---------------------------------------------------------------------------------------
// Helpers for setting up a city from files (no demo), and for the `lianxin` CLI.
// ---------------------------------------------------------------------------------------

/// A fresh, empty database of the running test's backend, not yet served.
pub async fn fresh_database() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db_url = match backend() {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("city.db").display()),
        Backend::Postgres => postgres_database().await,
    };
    (dir, db_url)
}

/// Serves `db_url` (already set up, or empty) without the demo.
pub async fn serve(dir: tempfile::TempDir, db_url: &str) -> TestApp {
    let clock = Clock::manual(T0);
    let running = spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: db_url.to_owned(),
        demo: None,
        clock: clock.clone(),
        sweep_every: None,
        options: Default::default(),
    })
    .await
    .unwrap();
    TestApp { running, http: reqwest::Client::new(), clock, db_url: db_url.to_owned(), _dir: dir }
}

/// What a run of the `lianxin` binary printed.
#[derive(Debug)]
pub struct CliRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `lianxin` binary with `args`, feeding `stdin` when given.
pub fn cli(args: &[&str], stdin: Option<&str>) -> CliRun {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(args)
        .env("LIANXIN_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    CliRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl TestApp {
    /// Signs in with a password; panics unless it succeeds.
    pub async fn login_as(&self, user: &str, password: &str) -> String {
        let r = self
            .post_raw("/api/v1/auth/login", None, json!({"username": user, "password": password}).to_string())
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {user}: {:?}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Sends any request with a body of `content_type`.
    pub async fn send(&self, method: &str, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = self
            .http
            .request(m, self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        to_resp(r).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.send("PUT", path, token, "application/json", body.to_string().into_bytes()).await
    }

    /// A CSV import through the admin API.
    pub async fn import_csv(&self, token: &str, kind: &str, csv: &str, dry_run: bool) -> Resp {
        let path = format!("/api/v1/admin/import/{kind}?dry_run={dry_run}");
        self.send("POST", &path, token, "text/csv", csv.as_bytes().to_vec()).await
    }

    /// Everything an admin can export, plus the length of the admin history: equal before
    /// and after a refused change when nothing was written.
    pub async fn setup_state(&self, admin: &str) -> Vec<String> {
        let mut out = Vec::new();
        for kind in ["jurisdictions", "units", "categories", "routes", "users", "orders"] {
            let r = self
                .http
                .get(self.url(&format!("/api/v1/admin/export/{kind}")))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "export {kind}");
            out.push(r.text().await.unwrap());
        }
        let h = self.get("/api/v1/admin/history?limit=500", admin).await;
        out.push(h.body.as_array().map(|a| a.len()).unwrap_or(0).to_string());
        out
    }
}

// ---------------------------------------------------------------------------------------
// Helpers for sign-in, the console's login form and the network settings.
// ---------------------------------------------------------------------------------------

/// Like [`spawn_app`] (the demo city, a manual clock) with network settings.
pub async fn spawn_app_options(options: lianxin_server::ServeOptions) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db_url = match backend() {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
        Backend::Postgres => postgres_database().await,
    };
    let clock = Clock::manual(T0);
    let running = spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: db_url.clone(),
        demo: Some(DemoOptions { history: 0, days: 1 }),
        clock: clock.clone(),
        sweep_every: None,
        options,
    })
    .await
    .unwrap();
    TestApp { running, http: reqwest::Client::new(), clock, db_url, _dir: dir }
}

/// What the console's sign-in form answered.
#[derive(Debug)]
pub struct FormAnswer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl FormAnswer {
    /// The `Set-Cookie` value of cookie `name`, whole (with its attributes).
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The session cookie's value, when the sign-in succeeded.
    pub fn session(&self) -> Option<String> {
        let c = self.set_cookie("lx_session")?;
        let v = c.split(';').next()?.split_once('=')?.1.to_owned();
        (!v.is_empty()).then_some(v)
    }
}

impl TestApp {
    /// Signs in through the console's form (`GET /login` for the CSRF token, then
    /// `POST /login`), from `client`, without following the redirect.
    pub async fn form_login(&self, client: &reqwest::Client, user: &str, password: &str) -> FormAnswer {
        let page = client.get(self.url("/login")).send().await.unwrap();
        let cookie = page
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("lx_login_csrf="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        let r = client
            .post(self.url("/login"))
            .header(reqwest::header::COOKIE, format!("lx_login_csrf={cookie}"))
            .form(&[("_csrf", cookie.as_str()), ("username", user), ("password", password), ("next", "")])
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        FormAnswer { status, headers, html: r.text().await.unwrap() }
    }

    /// A client that does not follow redirects (to see the sign-in's own answer).
    pub fn form_client() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// A page of the console as the holder of session cookie `session`.
    pub async fn page(&self, path: &str, session: &str) -> (StatusCode, String) {
        let r = Self::form_client()
            .get(self.url(path))
            .header(reqwest::header::COOKIE, format!("lx_session={session}"))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// How many sign-in attempts the login log holds, and how many sessions are open.
    pub async fn login_counts(&self) -> (i64, i64) {
        let s = self.running.state.store();
        (s.login_attempt_count().await.unwrap(), s.session_count().await.unwrap())
    }
}
