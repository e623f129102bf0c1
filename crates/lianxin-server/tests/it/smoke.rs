use crate::kit::*;
use reqwest::StatusCode;
use serde_json::json;

dual! {
async fn an_operator_registers_an_order_and_reads_it_back() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let o = app.create_order(&op).await;
    assert_eq!(o["status"], "registered");
    assert_eq!(o["version"], 1);
    assert_eq!(o["location"]["district"], "440106");
    let n = o["number"].as_str().unwrap();
    assert!(n.starts_with("20261123"), "{n}");
    let r = app.get(&format!("/api/v1/orders/{n}"), &op).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["caller"]["phone"], "13800001234");
    let r = app.act(n, "submit", &op, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "in_review");
    assert_eq!(app.events(n, &op).await.len(), 2);
}
}
