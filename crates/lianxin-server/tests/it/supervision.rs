//! Time limits, the supervision sweeper, queues, notifications and QA (issue 4).

use crate::kit::*;
use lianxin_server::{Clock, Config, Running, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Epoch ms of a local (+08:00) time.
fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
}

/// Another server process on the same database and clock (a restart, or a second node).
async fn second_server(app: &TestApp) -> Running {
    spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: app.db_url.clone(),
        demo: None,
        clock: app.clock.clone(),
        sweep_every: None,
        options: Default::default(),
    })
    .await
    .unwrap()
}

async fn sweep(url: &str, token: &str) -> Value {
    let r =
        reqwest::Client::new().post(format!("{url}/api/v1/supervision/sweep")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn warnings(events: &[Value], level: &str) -> usize {
    let note = if level == "yellow" { "黄牌预警" } else { "红牌督办" };
    events
        .iter()
        .filter(|e| {
            e["action"] == "urge" && e["actor"] == "system" && e["comment"].as_str().unwrap_or("").contains(note)
        })
        .count()
}

dual! {
async fn an_order_past_its_thresholds_gets_exactly_one_urge_per_threshold_even_after_a_restart() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.s440106001").await;
    // Dispatched Monday 2026-11-23 10:00: 5 working days → due Monday 30th 10:00; the yellow
    // point is 75% of the 35 working hours: Thursday 26th 17:15.
    let n = app.signed_order(&s, "s440106001", &h).await;
    let o = app.get(&format!("/api/v1/orders/{n}"), &s.supervisor).await.body;
    assert_eq!(o["deadline"], "2026-11-30T10:00:00.000+08:00");
    assert_eq!(o["warning"], Value::Null);

    app.clock.set(at("2026-11-26T17:14:00+08:00"));
    let s = app.staff().await;
    assert_eq!(sweep(&app.running.url(), &s.supervisor).await, json!({"yellow": 0, "red": 0}));
    app.clock.set(at("2026-11-26T17:15:00+08:00"));
    assert_eq!(sweep(&app.running.url(), &s.supervisor).await, json!({"yellow": 1, "red": 0}));
    assert_eq!(sweep(&app.running.url(), &s.supervisor).await, json!({"yellow": 0, "red": 0}));
    let o = app.get(&format!("/api/v1/orders/{n}"), &s.supervisor).await.body;
    assert_eq!((o["warning"].as_str(), o["warned"].as_str()), (Some("yellow"), Some("yellow")));

    // A restart: a new process on the same database gives nothing twice.
    let restarted = second_server(&app).await;
    assert_eq!(sweep(&restarted.url(), &s.supervisor).await, json!({"yellow": 0, "red": 0}));

    app.clock.set(at("2026-11-30T10:00:00+08:00"));
    let s = app.staff().await;
    let h = app.login("handler.s440106001").await;
    assert_eq!(sweep(&restarted.url(), &s.supervisor).await, json!({"yellow": 0, "red": 1}));
    assert_eq!(sweep(&app.running.url(), &s.supervisor).await, json!({"yellow": 0, "red": 0}));
    restarted.stop().await;

    let events = app.events(&n, &s.supervisor).await;
    assert_eq!((warnings(&events, "yellow"), warnings(&events, "red")), (1, 1), "{events:#?}");
    // Notifications went to the lead unit and to the supervisors.
    let inbox = app.get("/api/v1/notifications", &h).await.body;
    let kinds: Vec<&str> = inbox["items"].as_array().unwrap().iter().filter_map(|i| i["kind"].as_str()).collect();
    assert!(kinds.contains(&"warning_yellow") && kinds.contains(&"warning_red"), "{kinds:?}");
    let sup = app.get("/api/v1/notifications?unread=true", &s.supervisor).await.body;
    assert_eq!(sup["unread"], 2, "{sup}");
    // The order shows in the overdue queue, and no longer in the at-risk one.
    let overdue = app.get("/api/v1/queues/overdue", &s.supervisor).await.body;
    assert_eq!(overdue["items"][0]["number"], n.as_str());
    assert_eq!(overdue["items"][0]["warning"], "red");
    let at_risk = app.get("/api/v1/queues/at_risk", &s.supervisor).await.body;
    assert_eq!(at_risk["items"].as_array().unwrap().len(), 0);
}
}

dual! {
async fn two_server_processes_sweeping_at_once_give_each_warning_once() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let mut numbers = Vec::new();
    for _ in 0..5 {
        numbers.push(app.dispatched_order(&s, "s440106001", &[]).await);
    }
    let other = second_server(&app).await;
    // Both thresholds passed at once: each order gets its yellow, then its red.
    app.clock.set(at("2026-12-01T09:00:00+08:00"));
    let s = app.staff().await;
    let (url_a, url_b) = (app.running.url(), other.url());
    let (a, b) = tokio::join!(sweep(&url_a, &s.supervisor), sweep(&url_b, &s.supervisor));
    let total = |k: &str| a[k].as_u64().unwrap() + b[k].as_u64().unwrap();
    assert_eq!((total("yellow"), total("red")), (5, 5), "{a} {b}");
    for n in &numbers {
        let events = app.events(n, &s.supervisor).await;
        assert_eq!((warnings(&events, "yellow"), warnings(&events, "red")), (1, 1));
    }
    other.stop().await;
    assert_verifies(&app.db_url);
}
}

dual! {
async fn an_approved_extension_moves_the_deadline_and_starts_a_new_round_of_warnings() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.s440106001").await;
    let n = app.signed_order(&s, "s440106001", &h).await;
    app.clock.set(at("2026-11-27T09:00:00+08:00"));
    let s = app.staff().await;
    let h = app.login("handler.s440106001").await;
    assert_eq!(sweep(&app.running.url(), &s.supervisor).await["yellow"], 1);
    let r = app.act(&n, "request_extension", &h, json!({"until": "2026-12-11T17:30:00+08:00", "reason": "需协调施工"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // To be decided within one working day.
    assert_eq!(r.body["pending_extension"]["decide_by"], "2026-11-30T09:00:00.000+08:00");
    let o = app.must(&n, "decide_extension", &s.dispatcher, json!({"approve": true})).await;
    assert_eq!(o["deadline"], "2026-12-11T17:30:00.000+08:00");
    assert_eq!(o["warning"], Value::Null, "a new deadline is a new round");
    app.clock.set(at("2026-12-11T17:30:00+08:00"));
    let s = app.staff().await;
    assert_eq!(sweep(&app.running.url(), &s.supervisor).await, json!({"yellow": 1, "red": 1}));
    assert_eq!(warnings(&app.events(&n, &s.supervisor).await, "yellow"), 2);
}
}

dual! {
async fn a_reply_sets_a_callback_deadline_two_working_days_later() {
    let app = spawn_app().await;
    app.clock.set(at("2026-11-27T16:00:00+08:00")); // a Friday
    let s = app.staff().await;
    let h = app.login("handler.s440106001").await;
    let n = app.replied_order(&s, "s440106001", &h).await;
    let o = app.get(&format!("/api/v1/orders/{n}"), &s.callback).await.body;
    assert_eq!(o["callback_deadline"], "2026-12-01T16:00:00.000+08:00");
    let o = app.must(&n, "callback", &s.callback, json!({"satisfaction": "satisfied", "solved": true})).await;
    assert_eq!(o["callback_deadline"], Value::Null);
}
}

dual! {
async fn supervisors_sample_closed_orders_for_qa_and_a_failure_reopens_the_order() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.s440106001").await;
    let a = app.closed_order(&s, "s440106001", &h).await;
    let b = app.closed_order(&s, "s440106001", &h).await;
    let open = app.dispatched_order(&s, "s440106001", &[]).await;
    app.clock.advance(3_600_000);
    let r = app.post("/api/v1/qa/sample", &h, json!({"rate": 1.0})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden_role"));
    let r = app.post("/api/v1/qa/sample", &s.supervisor, json!({"rate": 1.5})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["rate"].is_string());
    let r = app.post("/api/v1/qa/sample", &s.supervisor, json!({"rate": 1.0})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["considered"], 2);
    let mut sampled: Vec<String> = serde_json::from_value(r.body["sampled"].clone()).unwrap();
    sampled.sort();
    assert_eq!(sampled, vec![a.clone(), b.clone()], "only closed orders are drawn");
    // Drawing again finds nothing new.
    let r = app.post("/api/v1/qa/sample", &s.supervisor, json!({"rate": 1.0})).await;
    assert_eq!(r.body["considered"], 0);
    let queue = app.get("/api/v1/queues/qa", &s.supervisor).await.body;
    assert_eq!(queue["items"].as_array().unwrap().len(), 2);

    let o = app.must(&a, "qa_pass", &s.supervisor, json!({"note": "处理规范"})).await;
    assert_eq!((o["status"].as_str(), o["qa"].as_str()), (Some("closed"), Some("passed")));
        let before = app.stored(&a).await;
    let r = app.act(&a, "qa_pass", &s.supervisor, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "illegal_transition"));
    assert_eq!(app.stored(&a).await, before, "a refused QA decision writes nothing");
    let o = app.must(&b, "qa_fail", &s.supervisor, json!({"reason": "答复内容与事实不符"})).await;
    assert_eq!((o["status"].as_str(), o["qa"].as_str(), o["reopens"].as_i64()), (Some("pending_dispatch"), Some("failed"), Some(1)));
    assert_eq!(o["lead_unit"], Value::Null);
        let before = app.stored(&open).await;
    let r = app.act(&open, "qa_sample", &s.supervisor, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "illegal_transition"));
    assert_eq!(app.stored(&open).await, before);
    let r = app.act(&b, "qa_fail", &h, json!({"reason": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no longer in the unit's scope");
}
}

dual! {
async fn notifications_reach_the_right_inboxes_and_can_be_marked_read() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let street = app.login("handler.s440106001").await;
    let other = app.login("handler.s440104001").await;
    let urban = app.login("handler.city-urban").await;
    let n = app.dispatched_order(&s, "s440106001", &["city-urban"]).await;
    let inbox = app.get("/api/v1/notifications", &street).await.body;
    assert_eq!(inbox["unread"], 1);
    let item = &inbox["items"][0];
    assert_eq!((item["number"].as_str(), item["kind"].as_str(), item["read"].as_bool()), (Some(n.as_str()), Some("dispatch"), Some(false)));
    assert!(item["message"].as_str().unwrap().contains("主办"));
    assert_eq!(app.get("/api/v1/notifications", &urban).await.body["items"][0]["message"].as_str().map(|m| m.contains("协办")), Some(true));
    assert_eq!(app.get("/api/v1/notifications", &other).await.body["items"].as_array().unwrap().len(), 0);
    // Someone else's notification cannot be marked.
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post("/api/v1/notifications/read", &other, json!({"ids": [id]})).await.body["marked"], 0);
    assert_eq!(app.post("/api/v1/notifications/read", &street, json!({"ids": [id]})).await.body["marked"], 1);
    assert_eq!(app.get("/api/v1/notifications?unread=true", &street).await.body["unread"], 0);
    // A reply notifies the callback agents; "mark all" clears their inbox.
    app.must(&n, "sign", &street, json!({})).await;
    app.must(&n, "reply", &street, json!({"content": "已修复", "solved": true})).await;
    assert_eq!(app.get("/api/v1/notifications?unread=true", &s.callback).await.body["unread"], 1);
    assert_eq!(app.post("/api/v1/notifications/read", &s.callback, json!({})).await.body["marked"], 1);
    assert_eq!(app.get("/api/v1/notifications?unread=true", &s.callback).await.body["unread"], 0);
}
}
