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
async fn every_operation_documents_its_statuses_with_the_error_schema_and_a_unique_id() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{at}: no operationId"));
            assert!(ids.insert(id.to_owned()), "{at}: operationId `{id}` is used twice");
            let responses = op["responses"].as_object().unwrap();
            let has = |s: &str| responses.contains_key(s);
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            assert_eq!(secured, path != "/api/v1/auth/login", "{at}: security");
            if secured {
                assert!(has("401"), "{at}: 401");
            }
            if !op["requestBody"].is_null() {
                for s in ["400", "413", "415", "422"] {
                    assert!(has(s), "{at}: {s}");
                }
                assert!(op["requestBody"]["content"].as_object().unwrap().values().all(|c| c["schema"].is_object()), "{at}: body schema");
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                assert!(has("404"), "{at}: 404");
            }
            if params.iter().any(|p| p["in"] == "query") {
                assert!(has("422"), "{at}: 422");
            }
            assert!(responses.keys().any(|s| s.starts_with('2')), "{at}: a success");
            for (status, r) in responses {
                assert!(!r["description"].as_str().unwrap_or("").is_empty(), "{at} {status}: description");
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                        "{at} {status}: the error schema"
                    );
                }
            }
        }
    }
    // Request bodies say what they need.
    let order = &doc["components"]["schemas"]["OrderIn"];
    for f in ["channel", "request_type", "category", "urgency", "content", "caller"] {
        assert!(order["required"].as_array().unwrap().contains(&json!(f)), "OrderIn requires {f}");
    }
    assert!(order["properties"]["channel"]["enum"].as_array().unwrap().contains(&json!("wechat")));
    assert_eq!(order["properties"]["urgency"]["enum"], json!(["normal", "urgent", "emergency"]));
    assert!(doc["components"]["schemas"]["CallerIn"]["properties"]["phone"]["pattern"].is_string());
    assert_eq!(doc["components"]["schemas"]["LocationIn"]["dependentRequired"], json!({"lat": ["lon"], "lon": ["lat"]}));
    assert!(doc["components"]["schemas"]["ActionIn"]["properties"]["satisfaction"]["enum"].as_array().unwrap().contains(&json!("unreachable")));
    let act = &doc["paths"]["/api/v1/orders/{number}/actions/{action}"]["post"];
    let action = act["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "action").unwrap();
    assert!(action["schema"]["enum"].as_array().unwrap().contains(&json!("request_extension")));
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"].is_object());
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
