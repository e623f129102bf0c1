//! kill -9 under load: every registration and every action the server acknowledged is in
//! the database afterwards, and every hash chain still verifies.

use crate::kit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the clients were told was stored.
#[derive(Default)]
struct Acknowledged {
    orders: Vec<String>,
    /// (order, note text) of every acknowledged note.
    notes: Vec<(String, String)>,
}

/// Starts `lianxin serve --demo` as a child process and returns it with its base URL.
fn serve_child(db_url: &str) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["serve", "--demo", "--demo-orders", "0", "--listen", "127.0.0.1:0", "--sweep-seconds", "0"])
        .args(["--database-url", db_url])
        .env("LIANXIN_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

dual! {
    async fn every_acknowledged_registration_and_action_survives_a_kill_9_under_load() {
        let (_dir, db_url) = fresh_database().await;
        let (mut child, base) = serve_child(&db_url);
        let http = reqwest::Client::new();
        let token = sign_in_at(&http, &base, "operator").await;
        let mut targets = Vec::new();
        for _ in 0..16 {
            let r = http.post(format!("{base}/api/v1/orders")).bearer_auth(&token).json(&sample_order()).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            let o: Value = r.json().await.unwrap();
            targets.push(o["number"].as_str().unwrap().to_owned());
        }
        let acked = Arc::new(Mutex::new(Acknowledged::default()));
        acked.lock().unwrap().orders.extend(targets.iter().cloned());
        let targets = Arc::new(targets);
        let stop_at = Instant::now() + Duration::from_secs(20);
        let mut clients = Vec::new();
        for c in 0..8usize {
            let (http, base, token, acked, targets) =
                (http.clone(), base.clone(), token.clone(), acked.clone(), targets.clone());
            clients.push(tokio::spawn(async move {
                let mut i = 0usize;
                while Instant::now() < stop_at {
                    i += 1;
                    if c % 2 == 0 {
                        let r = http.post(format!("{base}/api/v1/orders")).bearer_auth(&token).json(&sample_order()).send().await;
                        let Ok(r) = r else { break };
                        if r.status() == StatusCode::CREATED
                            && let Ok(o) = r.json::<Value>().await
                        {
                            acked.lock().unwrap().orders.push(o["number"].as_str().unwrap().to_owned());
                        }
                    } else {
                        let n = &targets[(c * 7 + i) % targets.len()];
                        let text = format!("崩溃测试备注 {c}-{i}");
                        let r = http
                            .post(format!("{base}/api/v1/orders/{n}/actions/note"))
                            .bearer_auth(&token)
                            .json(&json!({"text": text}))
                            .send()
                            .await;
                        let Ok(r) = r else { break };
                        if r.status() == StatusCode::OK && r.bytes().await.is_ok() {
                            acked.lock().unwrap().notes.push((n.clone(), text));
                        }
                    }
                }
            }));
        }
        // Let the load run, then kill the server without warning while requests are in flight.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        for c in clients {
            c.await.unwrap();
        }
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        assert!(acked.orders.len() > 16 && acked.notes.len() > 10, "too little load: {} orders, {} notes", acked.orders.len(), acked.notes.len());

        let store = lianxin_store::Store::connect(&db_url).await.unwrap();
        for n in &acked.orders {
            assert!(store.order(n).await.unwrap().is_some(), "acknowledged order {n} is lost");
        }
        let mut stored = std::collections::BTreeSet::new();
        for n in targets.iter() {
            for e in store.events(n).await.unwrap() {
                if let lianxin_domain::Change::Noted { text } = &e.event.change {
                    stored.insert((n.clone(), text.clone()));
                }
            }
        }
        for note in &acked.notes {
            assert!(stored.contains(note), "acknowledged note {note:?} is lost");
        }
        store.close().await;
        let check = cli(&["verify", "--database-url", &db_url], None);
        assert!(check.ok, "{check:?}");
    }
}
