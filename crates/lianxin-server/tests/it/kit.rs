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

pub async fn spawn_app_with(demo: DemoOptions) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("test.db").display());
    let clock = Clock::manual(T0);
    let running = spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: db_url.clone(),
        demo: Some(demo),
        clock: clock.clone(),
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

pub fn sample_order() -> Value {
    json!({
        "channel": "phone", "request_type": "complaint",
        "category": "urban.facilities.streetlight-out", "urgency": "normal",
        "content": "天河路口的路灯连续三晚不亮，夜里很危险。请尽快维修。",
        "caller": {"phone": "13800001234", "name": "张小明", "confidential": false},
        "location": {"street": "440106001", "address": "天河路1号", "lat": 23.13, "lon": 113.32}
    })
}
