//! Races: many clients acting on the same orders at once.

use crate::kit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const CLIENTS: usize = 50;
const ORDERS: usize = 20;
const ROUNDS: usize = 6;

dual! {
async fn fifty_clients_racing_on_twenty_orders_lose_no_update_and_every_refusal_is_a_409() {
    let app = Arc::new(spawn_app().await);
    let s = app.staff().await;
    let handler = app.login("handler.s440106001").await;
    let mut numbers = Vec::new();
    for _ in 0..ORDERS {
        numbers.push(app.dispatched_order(&s, "s440106001", &[]).await);
    }
    let mut start_versions = Vec::new();
    for n in &numbers {
        start_versions.push(app.stored(n).await.1);
    }
    let accepted = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (app, numbers, handler) = (app.clone(), numbers.clone(), handler.clone());
        let operator = s.operator.clone();
        let (accepted, refused) = (accepted.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            // Each client also registers an order, racing for the day's numbers.
            let created = app.post("/api/v1/orders", &operator, sample_order()).await;
            assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
            for round in 0..ROUNDS {
                let n = &numbers[(c * 7 + round * 3) % numbers.len()];
                let o = app.get(&format!("/api/v1/orders/{n}"), &handler).await.body;
                let version = o["version"].as_i64().unwrap();
                let (action, body) = match (o["status"].as_str().unwrap(), (c + round) % 3) {
                    ("dispatched", _) => ("sign", json!({"version": version})),
                    ("in_progress", 0) => ("reply", json!({"version": version, "content": "已处理", "solved": true})),
                    _ => ("note", json!({"version": version, "text": format!("客户端{c}第{round}轮")})),
                };
                let r = app.act(n, action, &handler, body).await;
                match r.status {
                    StatusCode::OK => {
                        assert_eq!(r.body["version"].as_i64().unwrap(), version + 1, "{action} adds one version");
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                    StatusCode::CONFLICT => {
                        let code = r.code().to_owned();
                        assert!(code == "stale_version" || code == "illegal_transition", "{:?}", r.body);
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                    other => panic!("a race must end in 200 or 409, got {other}: {:?}", r.body),
                }
            }
            created.body["number"].as_str().unwrap().to_owned()
        }));
    }
    let mut created = BTreeSet::new();
    for t in tasks {
        assert!(created.insert(t.await.unwrap()), "no two registrations share a number");
    }
    assert_eq!(created.len(), CLIENTS);
    let accepted = accepted.load(Ordering::SeqCst);
    assert_eq!(accepted + refused.load(Ordering::SeqCst), CLIENTS * ROUNDS);
    assert!(accepted >= ORDERS, "every order moved at least once ({accepted} accepted)");
    // No lost update: every accepted action is exactly one event and one version.
    let mut grown = 0;
    for (n, v0) in numbers.iter().zip(start_versions) {
        let (order, events) = app.stored(n).await;
        assert_eq!(order["version"].as_i64().unwrap(), events, "version = event count for {n}");
        grown += events - v0;
    }
    assert_eq!(grown as usize, accepted);
    // The chains still verify.
    assert_verifies(&app.db_url);
    let _: Value = Value::Null;
}
}
