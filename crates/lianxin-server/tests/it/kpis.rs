//! KPIs against hand-computed fixtures, and the ranking (issue 4).

use crate::kit::*;
use lianxin_server::demo::DemoOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
}

fn order_with(phone: &str, channel: &str, request_type: &str) -> Value {
    let mut b = sample_order();
    b["caller"]["phone"] = json!(phone);
    b["channel"] = json!(channel);
    b["request_type"] = json!(request_type);
    b
}

fn approx(v: &Value, expected: f64) {
    let x = v.as_f64().unwrap_or_else(|| panic!("expected {expected}, got {v}"));
    assert!((x - expected).abs() < 1e-9, "expected {expected}, got {x}");
}

/// Seven orders with known timestamps (Monday 2026-11-23 onwards, street 440106001, lead
/// unit s440106001, category streetlight-out with 5 working days):
/// - A: a consultation by web, closed at first contact.
/// - B: dispatched 10:00, signed 10:30 (sign deadline 11:00), replied 14:00, satisfied, solved.
/// - C: signed 12:00 (late), replied Tue 1 Dec 09:00 (after the 30 Nov 10:00 deadline), called
///   back unsatisfied → reopened with a new deadline (8 Dec 09:30), replied 10:00 (on time
///   for the new deadline), basically satisfied, not solved.
/// - D: returned 10:40 and re-dispatched, signed 10:50, extension to 4 Dec 17:30 approved,
///   replied 1 Dec 11:00; not yet called back.
/// - E: the same caller and category as B (a repeat contact), cancelled.
/// - F: signed 10:30, replied 14:00, callback unreachable.
/// - G: signed 10:30, replied Tue 1 Dec 09:00 (late), basically satisfied, solved.
async fn fixture(app: &TestApp) -> Staff {
    let s = app.staff().await;
    let h = app.login("handler.s440106001").await;
    app.clock.set(at("2026-11-23T10:00:00+08:00"));
    let a = app.create(&s, order_with("13900000001", "web", "consultation")).await;
    app.must(&a, "close", &s.operator, json!({"resolution": "已解答"})).await;
    let b = app.create(&s, sample_order()).await;
    let c = app.create(&s, order_with("13900000003", "phone", "complaint")).await;
    let d = app.create(&s, order_with("13900000004", "phone", "complaint")).await;
    let e = app.create(&s, sample_order()).await;
    let f = app.create(&s, order_with("13900000006", "phone", "complaint")).await;
    let g = app.create(&s, order_with("13900000007", "phone", "complaint")).await;
    app.must(&e, "cancel", &s.reviewer, json!({"reason": "重复来电"})).await;
    for n in [&b, &c, &d, &f, &g] {
        app.must(n, "submit", &s.operator, json!({})).await;
        app.must(n, "approve", &s.reviewer, json!({})).await;
        app.must(n, "dispatch", &s.dispatcher, json!({"lead_unit": "s440106001"})).await;
    }
    app.clock.set(at("2026-11-23T10:30:00+08:00"));
    for n in [&b, &d, &f, &g] {
        app.must(n, "sign", &h, json!({})).await;
    }
    app.clock.set(at("2026-11-23T10:40:00+08:00"));
    app.must(&d, "return", &h, json!({"reason": "非本单位职责"})).await;
    app.must(&d, "dispatch", &s.dispatcher, json!({"lead_unit": "s440106001"})).await;
    app.clock.set(at("2026-11-23T10:50:00+08:00"));
    app.must(&d, "sign", &h, json!({})).await;
    app.must(&d, "request_extension", &h, json!({"until": "2026-12-04T17:30:00+08:00", "reason": "需施工"})).await;
    app.must(&d, "decide_extension", &s.dispatcher, json!({"approve": true})).await;
    app.clock.set(at("2026-11-23T12:00:00+08:00"));
    app.must(&c, "sign", &h, json!({})).await;
    app.clock.set(at("2026-11-23T14:00:00+08:00"));
    for n in [&b, &f] {
        app.must(n, "reply", &h, json!({"content": "已修复", "solved": true})).await;
    }
    app.clock.set(at("2026-11-23T15:00:00+08:00"));
    app.must(&b, "callback", &s.callback, json!({"satisfaction": "satisfied", "solved": true})).await;
    app.must(&f, "callback", &s.callback, json!({"satisfaction": "unreachable", "solved": false})).await;
    app.clock.set(at("2026-12-01T09:00:00+08:00"));
    // A week later: sessions last 12 hours, so everyone signs in again.
    let s = app.staff().await;
    let h = app.login("handler.s440106001").await;
    for n in [&c, &g] {
        app.must(n, "reply", &h, json!({"content": "已修复", "solved": true})).await;
    }
    app.clock.set(at("2026-12-01T09:30:00+08:00"));
    app.must(&c, "callback", &s.callback, json!({"satisfaction": "unsatisfied", "solved": false})).await;
    app.must(&g, "callback", &s.callback, json!({"satisfaction": "basically_satisfied", "solved": true})).await;
    app.clock.set(at("2026-12-01T10:00:00+08:00"));
    app.must(&c, "reply", &h, json!({"content": "已重新修复", "solved": false})).await;
    app.clock.set(at("2026-12-01T10:30:00+08:00"));
    app.must(&c, "callback", &s.callback, json!({"satisfaction": "basically_satisfied", "solved": false})).await;
    app.clock.set(at("2026-12-01T11:00:00+08:00"));
    app.must(&d, "reply", &h, json!({"content": "已完成施工", "solved": true})).await;
    s
}

const PERIOD: &str = "from=2026-11-23&to=2026-12-31";

dual! {
async fn kpis_match_the_hand_computed_fixture() {
    let app = spawn_app().await;
    let s = fixture(&app).await;
    let r = app.get(&format!("/api/v1/stats/kpis?{PERIOD}"), &s.leader).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 1);
    let row = &r.body["rows"][0];
    assert_eq!(row["key"], "all");
    let k = &row["kpis"];
    let c = &k["counts"];
    // Registered: A–G = 7; first contact: A; repeat: E.
    assert_eq!((c["registered"].as_i64(), c["first_contact"].as_i64(), c["repeat"].as_i64()), (Some(7), Some(1), Some(1)));
    approx(&k["first_contact_resolution_rate"], 1.0 / 7.0);
    approx(&k["repeat_contact_rate"], 1.0 / 7.0);
    // Dispatched: B, C, D, F, G; returned: D; extended: D.
    assert_eq!((c["dispatched"].as_i64(), c["returned"].as_i64(), c["extended"].as_i64()), (Some(5), Some(1), Some(1)));
    approx(&k["return_rate"], 0.2);
    approx(&k["extension_rate"], 0.2);
    // Replied: B, C (its latest reply), D, F, G; on time: all but G.
    assert_eq!((c["replied"].as_i64(), c["replied_on_time"].as_i64()), (Some(5), Some(4)));
    approx(&k["on_time_rate"], 0.8);
    // Signed: B, C, D, F, G; on time: all but C.
    assert_eq!((c["signed"].as_i64(), c["signed_on_time"].as_i64()), (Some(5), Some(4)));
    approx(&k["on_time_sign_rate"], 0.8);
    // Called back: B, C, F, G; reached (rated): B, C, G; satisfied or basically: B, C, G;
    // solved: B, G.
    assert_eq!((c["called_back"].as_i64(), c["rated"].as_i64(), c["satisfied"].as_i64(), c["solved"].as_i64()), (Some(4), Some(3), Some(3), Some(2)));
    approx(&k["callback_rate"], 0.8);
    approx(&k["satisfaction_rate"], 1.0);
    approx(&k["resolution_rate"], 2.0 / 3.0);
    // Due in the period: B, C, D, F, G; completed (closed): B, C, F, G.
    assert_eq!((c["due"].as_i64(), c["completed"].as_i64()), (Some(5), Some(4)));
    approx(&k["completion_rate"], 0.8);
    // Handling hours: B 4, F 4, C 192, D 193, G 191 → 584 / 5.
    approx(&k["avg_handling_hours"], 584.0 / 5.0);
    assert_eq!(k["connection_rate"], Value::Null, "no call records yet");
}
}

dual! {
async fn kpis_group_by_channel_unit_and_day_and_a_unit_sees_only_its_own() {
    let app = spawn_app().await;
    let s = fixture(&app).await;
    let rows = |body: &Value| -> Vec<(String, Value)> {
        body["rows"].as_array().unwrap().iter().map(|r| (r["key"].as_str().unwrap().to_owned(), r["kpis"].clone())).collect()
    };
    let by_channel = rows(&app.get(&format!("/api/v1/stats/kpis?{PERIOD}&group_by=channel"), &s.leader).await.body);
    assert_eq!(by_channel.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), vec!["phone", "web"]);
    assert_eq!(by_channel[1].1["counts"]["registered"], 1);
    approx(&by_channel[1].1["first_contact_resolution_rate"], 1.0);
    assert_eq!(by_channel[0].1["counts"]["registered"], 6);
    approx(&by_channel[0].1["first_contact_resolution_rate"], 0.0);

    let by_day = rows(&app.get(&format!("/api/v1/stats/kpis?{PERIOD}&group_by=day"), &s.leader).await.body);
    let day = |d: &str| by_day.iter().find(|r| r.0 == d).map(|r| r.1.clone()).unwrap();
    assert_eq!(day("2026-11-23")["counts"]["registered"], 7);
    assert_eq!(day("2026-11-23")["counts"]["replied"], 2);
    assert_eq!(day("2026-12-01")["counts"]["replied"], 3);

    let r = app.get(&format!("/api/v1/stats/kpis?{PERIOD}&group_by=unit"), &s.leader).await.body;
    let unit = r["rows"].as_array().unwrap().iter().find(|r| r["key"] == "s440106001").unwrap().clone();
    assert!(unit["name"].as_str().unwrap().contains("办事处"));
    assert_eq!(unit["kpis"]["counts"]["registered"], 5, "A and E never reached a unit");
    // The street office itself gets the same figures, recounted from its own orders.
    let h = app.login("handler.s440106001").await;
    let mine = app.get(&format!("/api/v1/stats/kpis?{PERIOD}&group_by=unit"), &h).await.body;
    assert_eq!(mine["rows"].as_array().unwrap().len(), 1);
    assert_eq!(mine["rows"][0]["kpis"], unit["kpis"]);
    let other = app.login("handler.s440104001").await;
    let theirs = app.get(&format!("/api/v1/stats/kpis?{PERIOD}"), &other).await.body;
    assert_eq!(theirs["rows"].as_array().unwrap().len(), 0, "another unit sees none of it");

    let r = app.get("/api/v1/stats/kpis?group_by=weekday", &s.leader).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get("/api/v1/stats/kpis?from=2026-12-31&to=2026-12-01", &s.leader).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The rollups behind these figures equal a recount of every order.
    assert_verifies(&app.db_url);
}
}

dual! {
async fn units_are_ranked_by_their_weighted_score_with_weights_an_admin_sets() {
    let app = spawn_app().await;
    let s = fixture(&app).await;
    // By default a unit needs 10 orders in the period to be ranked; this one has 5.
    let r = app.get(&format!("/api/v1/stats/ranking?{PERIOD}"), &s.leader).await.body;
    assert_eq!(r["items"].as_array().unwrap().len(), 0);
    let r = app.get(&format!("/api/v1/stats/ranking?{PERIOD}&min_orders=5"), &s.leader).await.body;
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["rank"].as_i64(), items[0]["unit"].as_str()), (Some(1), Some("s440106001")));
    // 0.3 × on-time 0.8 + 0.3 × satisfaction 1 + 0.2 × resolution 2/3 + 0.1 × on-time sign 0.8
    // + 0.1 × (1 − return rate 0.2) = 0.8333…
    approx(&items[0]["score"], 100.0 * (0.24 + 0.3 + 0.2 * 2.0 / 3.0 + 0.08 + 0.08));

    let admin = app.login("admin").await;
    let put = |token: &str, body: Value| {
        let token = token.to_owned();
        let app = &app;
        async move { app.request(reqwest::Method::PUT, "/api/v1/stats/weights", Some(&token), Some(body.to_string())).await }
    };
    assert_eq!(put(&s.leader, json!({"on_time_rate": 1.0})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(put(&admin, json!({"speed": 1.0})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(put(&admin, json!({"on_time_rate": 0.0})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let weights = app.get("/api/v1/stats/weights", &s.leader).await.body;
    assert_eq!(weights["on_time_rate"], 0.3, "refused weights change nothing: {weights}");
    assert_eq!(put(&admin, json!({"on_time_rate": 1.0})).await.status, StatusCode::OK);
    let r = app.get(&format!("/api/v1/stats/ranking?{PERIOD}&min_orders=5"), &s.leader).await.body;
    approx(&r["items"][0]["score"], 80.0);
    assert_eq!(r["weights"], json!({"on_time_rate": 1.0}));
}
}

/// A sample order on `street` dispatched to `lead` with `assisting` units.
async fn dispatched_on(app: &TestApp, s: &Staff, street: &str, lead: &str, assisting: &[&str]) -> String {
    let mut body = sample_order();
    body["location"] = json!({"street": street, "address": "测试路1号"});
    let n = app.pending_order(s, body).await;
    app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": lead, "assisting_units": assisting})).await;
    n
}

dual! {
async fn a_district_leader_reads_its_own_figures_from_the_rollups_and_they_follow_a_change_of_the_unit_tree() {
    let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
    let s = app.staff().await;
    let admin = app.login("admin").await;
    // A in 天河区 (440106), led by one of its street offices; B in 越秀区 (440104), led by a
    // street office there; C in 越秀区 with 天河区's street office assisting.
    let a = dispatched_on(&app, &s, "440106001", "s440106001", &[]).await;
    dispatched_on(&app, &s, "440104001", "s440104001", &[]).await;
    let c = dispatched_on(&app, &s, "440104001", "s440104001", &["s440106001"]).await;
    let district = app.login("leader.d440106").await;
    let registered = |body: &Value| body["rows"].as_array().unwrap().first().map(|r| r["kpis"]["counts"]["registered"].clone());
    let kpis = app.get("/api/v1/stats/kpis", &district).await;
    assert_eq!(kpis.status, StatusCode::OK);
    assert_eq!(registered(&kpis.body), Some(json!(2)), "A by its place and lead unit, C by its assisting unit");
    let hotline = app.get("/api/v1/stats/kpis", &s.leader).await.body;
    assert_eq!(registered(&hotline), Some(json!(3)));
    // By category and by day, within its scope as well.
    let by_day = app.get("/api/v1/stats/kpis?group_by=day", &district).await.body;
    let days: i64 = by_day["rows"].as_array().unwrap().iter().map(|r| r["kpis"]["counts"]["registered"].as_i64().unwrap()).sum();
    assert_eq!(days, 2);
    let by_district = app.get("/api/v1/stats/kpis?group_by=district", &district).await.body;
    let keys: Vec<&str> = by_district["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec!["440104", "440106"], "C lies in 越秀区 but 天河区's office assists it");
    // Its order list agrees: the one scope function.
    let list = app.get("/api/v1/orders?limit=50", &district).await.body;
    let mut numbers: Vec<&str> = list["items"].as_array().unwrap().iter().map(|o| o["number"].as_str().unwrap()).collect();
    numbers.sort();
    let mut expected = vec![a.as_str(), c.as_str()];
    expected.sort();
    assert_eq!(numbers, expected);

    // The city moves 越秀区's street office under 天河区's government: B is now 天河区's too.
    let mut unit = app.get("/api/v1/admin/units/s440104001", &admin).await.body;
    unit["parent"] = json!("d440106");
    let r = app.put("/api/v1/admin/units/s440104001", &admin, unit).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let kpis = app.get("/api/v1/stats/kpis", &district).await.body;
    assert_eq!(registered(&kpis), Some(json!(3)));
    // A new order led by the moved office counts for 天河区 at once.
    dispatched_on(&app, &s, "440104001", "s440104001", &[]).await;
    let kpis = app.get("/api/v1/stats/kpis", &district).await.body;
    assert_eq!(registered(&kpis), Some(json!(4)));
    let db = app.stop_keeping_db().await;
    assert_verifies(&db.db_url);
}
}

/// One step of a random mix for the rollup property test.
#[derive(Debug, Clone)]
enum Step {
    Register { street: usize, category: usize, channel: usize },
    Dispatch { order: usize, lead: usize, assist: bool },
    Sign { order: usize },
    Reply { order: usize },
    Callback { order: usize, satisfied: bool },
    Return { order: usize },
    Import { rows: usize, lead: usize, replied: bool },
    MoveUnit,
    Advance { hours: i64 },
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        3 => (0..3usize, 0..3usize, 0..3usize).prop_map(|(street, category, channel)| Step::Register { street, category, channel }),
        3 => (0..64usize, 0..4usize, any::<bool>()).prop_map(|(order, lead, assist)| Step::Dispatch { order, lead, assist }),
        2 => (0..64usize).prop_map(|order| Step::Sign { order }),
        2 => (0..64usize).prop_map(|order| Step::Reply { order }),
        2 => (0..64usize, any::<bool>()).prop_map(|(order, satisfied)| Step::Callback { order, satisfied }),
        1 => (0..64usize).prop_map(|order| Step::Return { order }),
        1 => (1..4usize, 0..4usize, any::<bool>()).prop_map(|(rows, lead, replied)| Step::Import { rows, lead, replied }),
        1 => Just(Step::MoveUnit),
        1 => (1..6i64).prop_map(|hours| Step::Advance { hours }),
    ]
}

const STREETS: [&str; 3] = ["440106001", "440104001", "440106002"];
const CATEGORIES: [&str; 3] =
    ["urban.facilities.streetlight-out", "urban.order.social-noise", "transport.road.waterlogging"];
const CHANNELS: [&str; 3] = ["phone", "web", "wechat"];
const LEADS: [&str; 4] = ["s440106001", "s440104001", "d440106", "s440106002"];

dual! {
async fn rollups_equal_a_full_recount_after_a_random_mix_of_registrations_actions_imports_and_tree_changes() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut acted = 0usize;
    for case in 0..3 {
        let plan = proptest::collection::vec(step(), 12..28).new_tree(&mut runner).unwrap().current();
        let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
        let mut s = app.staff().await;
        let admin = app.login("admin").await;
        let mut handlers = std::collections::BTreeMap::new();
        let mut orders: Vec<String> = Vec::new();
        let mut imported = 0;
        for st in &plan {
            let pick = |i: usize| (!orders.is_empty()).then(|| orders[i % orders.len()].clone());
            match st {
                Step::Register { street, category, channel } => {
                    let mut body = sample_order();
                    body["location"] = json!({"street": STREETS[*street], "address": "测试路8号"});
                    body["category"] = json!(CATEGORIES[*category]);
                    body["channel"] = json!(CHANNELS[*channel]);
                    let n = app.create(&s, body).await;
                    app.act(&n, "submit", &s.operator, json!({})).await;
                    app.act(&n, "approve", &s.reviewer, json!({})).await;
                    orders.push(n);
                }
                Step::Dispatch { order, lead, assist } => {
                    if let Some(n) = pick(*order) {
                        let assisting: Vec<&str> = if *assist { vec![LEADS[(lead + 1) % 4]] } else { vec![] };
                        let r = app.act(&n, "dispatch", &s.dispatcher, json!({"lead_unit": LEADS[*lead], "assisting_units": assisting})).await;
                        acted += usize::from(r.status == StatusCode::OK);
                    }
                }
                Step::Sign { order } | Step::Reply { order } | Step::Return { order } => {
                    let Some(n) = pick(*order) else { continue };
                    let lead = app.stored(&n).await.0["lead_unit"].as_str().map(str::to_owned);
                    let Some(lead) = lead else { continue };
                    if !handlers.contains_key(&lead) {
                        handlers.insert(lead.clone(), app.login(&format!("handler.{lead}")).await);
                    }
                    let h = &handlers[&lead];
                    let r = match st {
                        Step::Sign { .. } => app.act(&n, "sign", h, json!({})).await,
                        Step::Reply { .. } => app.act(&n, "reply", h, json!({"content": "已处理完毕。", "solved": true})).await,
                        _ => app.act(&n, "return", h, json!({"reason": "不属于本单位职责"})).await,
                    };
                    acted += usize::from(r.status == StatusCode::OK);
                }
                Step::Callback { order, satisfied } => {
                    if let Some(n) = pick(*order) {
                        let sat = if *satisfied { "satisfied" } else { "unsatisfied" };
                        let r = app.act(&n, "callback", &s.callback, json!({"satisfaction": sat, "solved": satisfied})).await;
                        acted += usize::from(r.status == StatusCode::OK);
                    }
                }
                Step::Import { rows, lead, replied } => {
                    let mut csv = String::from("source_ref,created_at,channel,request_type,category,urgency,title,content,district,street,address,lat,lon,lead_unit,replied_at,reply,closed_at\n");
                    for _ in 0..*rows {
                        imported += 1;
                        let (replied_at, reply) = if *replied { ("2026-11-20 15:00:00", "已修复") } else { ("", "") };
                        csv += &format!("P{case}-{imported},2026-11-20 09:00:00,phone,complaint,{},normal,,历史工单{imported},,{},,,,{},{replied_at},{reply},\n", CATEGORIES[imported % 3], STREETS[imported % 3], LEADS[*lead]);
                    }
                    let r = app.send("POST", "/api/v1/admin/import/orders", &admin, "text/csv", csv.into_bytes()).await;
                    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                }
                Step::MoveUnit => {
                    let mut unit = app.get("/api/v1/admin/units/s440104001", &admin).await.body;
                    let to = if unit["parent"] == "d440106" { "d440104" } else { "d440106" };
                    unit["parent"] = json!(to);
                    let r = app.put("/api/v1/admin/units/s440104001", &admin, unit).await;
                    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                }
                Step::Advance { hours } => {
                    app.clock.advance(hours * 3_600_000);
                    s = app.staff().await;
                    handlers.clear();
                }
            }
        }
        // Some orders also pass the sweeper (warnings move the overdue gauge).
        app.clock.advance(20 * 86_400_000);
        let sv = app.login("supervisor").await;
        app.post("/api/v1/supervision/sweep", &sv, json!({})).await;
        let db = app.stop_keeping_db().await;
        assert_verifies(&db.db_url);
    }
    assert!(acted >= 10, "the plans carried out only {acted} actions");
}
}
