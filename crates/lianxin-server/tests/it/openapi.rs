use crate::kit::*;
use reqwest::StatusCode;
use serde_json::json;

dual! {
async fn the_openapi_document_is_public_and_describes_every_route() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: serde_json::Value = r.json().await.unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/orders/{number}/events",
        "/api/v1/orders/{number}/actions/{action}",
        "/api/v1/callers/{phone}/orders",
        "/api/v1/categories",
        "/api/v1/units",
        "/api/v1/jurisdictions",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    // A contract change shows up as a reviewed snapshot diff.
    shared_snapshot(|| insta::assert_json_snapshot!("openapi", doc));
}
}

dual! {
async fn health_is_public_and_reports_ok() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap(), json!({"status": "ok"}));
}
}

dual! {
async fn an_order_as_the_operator_sees_it_keeps_its_shape() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let o = app.create_order(&op).await;
    shared_snapshot(|| insta::assert_json_snapshot!("order_registered", o));
}
}

/// Both backends must produce the same document: one snapshot file serves both variants.
fn shared_snapshot(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(f);
}
