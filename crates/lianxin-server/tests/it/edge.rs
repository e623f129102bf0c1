//! Strict input at the edge (issue 9): a JSON body must say it is JSON, text refuses
//! control characters, every query parameter is checked the same way, the calendar takes
//! only sane years, and a request hyper cannot parse still gets the JSON error body. Each
//! refusal changes nothing.

use crate::kit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{Read, Write};

const INVALID: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// Asserts that a 422 names `field` in `fields`.
fn names_field(r: &Resp, field: &str) {
    let msg = r.body["error"]["fields"][field].as_str().unwrap_or("");
    assert!(!msg.is_empty(), "expected `fields.{field}` in {:?}", r.body);
}

dual! {
async fn a_json_body_sent_as_anything_but_application_json_is_415_and_nothing_is_written() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let body = sample_order().to_string().into_bytes();
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"] {
        let before = app.order_count().await;
        let r = app.send("POST", "/api/v1/orders", &s.operator, ct, body.clone()).await;
        assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        assert_eq!(app.order_count().await, before, "a 415 registers nothing ({ct})");
    }
    // No Content-Type at all is refused the same way.
    let r = app.http.post(app.url("/api/v1/orders")).bearer_auth(&s.operator).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let n = app.create(&s, sample_order()).await;
    let before = app.stored(&n).await;
    let r = app.send("POST", &format!("/api/v1/orders/{n}/actions/note"), &s.operator, "text/plain", br#"{"text":"x"}"#.to_vec()).await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_eq!(app.stored(&n).await, before, "a 415 action changes nothing");
    // 401 comes first; a parameter on the media type is fine; an action without fields
    // needs no body and no type.
    let r = app.http.post(app.url("/api/v1/orders")).header("content-type", "text/plain").body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.send("POST", "/api/v1/orders", &s.operator, "Application/JSON; charset=utf-8", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app.http.post(app.url(&format!("/api/v1/orders/{n}/actions/submit"))).bearer_auth(&s.operator).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Login too.
    let r = app.http.post(app.url("/api/v1/auth/login")).body(r#"{"username":"admin","password":"demo"}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.headers()["content-type"], "application/json");
}
}

dual! {
async fn an_import_body_of_another_media_type_is_415_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let before = app.setup_state(&admin).await;
    let csv = "code,name,level,parent\n440106999,新街道,street,440106\n";
    let r = app.send("POST", "/api/v1/admin/import/jurisdictions", &admin, "image/png", csv.as_bytes().to_vec()).await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_eq!(app.setup_state(&admin).await, before, "nothing imported");
}
}

dual! {
async fn control_characters_in_text_are_422_naming_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let cases: [(&str, Value); 5] = [
        ("content", json!({"content": "路灯\u{0}不亮"})),
        ("title", json!({"title": "\u{1b}[31m红字"})),
        ("caller.name", json!({"caller": {"phone": "13800001234", "name": "张\u{7f}三"}})),
        ("location.address", json!({"location": {"street": "440106001", "address": "天河路\u{85}1号"}})),
        ("caller.phone", json!({"caller": {"phone": "138\u{0}00001234"}})),
    ];
    for (field, patch) in cases {
        let mut body = sample_order();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await;
        names_field(&r, field);
    }
    // Line breaks and tabs are text; a textarea's CRLF too.
    let mut body = sample_order();
    body["content"] = json!("第一行\r\n第二行\t完");
    let n = app.create(&s, body).await;
    let before = app.stored(&n).await;
    let r = app.refused(&n, "note", &s.operator, json!({"text": "备注\u{0}"}), INVALID, "invalid_values").await;
    names_field(&r, "text");
    assert_eq!(app.stored(&n).await, before);
    // Query values too, and the admin's account edits.
    let r = app.get("/api/v1/orders?category=%00", &s.operator).await;
    assert_error(&r, INVALID, "invalid_values");
    names_field(&r, "category");
    let admin = app.login("admin").await;
    let state = app.setup_state(&admin).await;
    let r = app.put("/api/v1/admin/users/newbie", &admin, json!({"roles": ["operator"], "display_name": "新\u{8}人"})).await;
    assert_error(&r, INVALID, "invalid_values");
    names_field(&r, "display_name");
    let r = app.put("/api/v1/admin/units/city-urban", &admin, json!({"name": "城管\u{0}局", "kind": "department"})).await;
    assert_error(&r, INVALID, "invalid_rows");
    names_field(&r, "name");
    assert_eq!(app.setup_state(&admin).await, state, "nothing written");
}
}

dual! {
async fn a_control_character_in_an_imported_file_is_refused_on_its_row() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let before = app.setup_state(&admin).await;
    let csv = "code,name,level,parent\n440106999,新\u{1}街道,street,440106\n";
    let r = app.import_csv(&admin, "jurisdictions", csv, false).await;
    assert_error(&r, INVALID, "invalid_rows");
    names_field(&r, "line 2: name");
    assert_eq!(app.setup_state(&admin).await, before, "nothing imported");
}
}

dual! {
async fn every_query_parameter_is_checked_the_same_way() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let admin = app.login("admin").await;
    let before = app.order_count().await;
    for (path, token, field) in [
        ("/api/v1/notifications?limit=abc", &s.supervisor, "limit"),
        ("/api/v1/notifications?limit=0", &s.supervisor, "limit"),
        ("/api/v1/notifications?unread=maybe", &s.supervisor, "unread"),
        ("/api/v1/orders?limit=abc", &s.operator, "limit"),
        ("/api/v1/queues/overdue?limit=-3", &s.supervisor, "limit"),
        ("/api/v1/callers/13800001234/orders?limit=x", &s.operator, "limit"),
        ("/api/v1/stats/kpis?group_by=street", &s.leader, "group_by"),
        ("/api/v1/stats/kpis?from=20226-01-01", &s.leader, "from"),
        ("/api/v1/stats/kpis?to=1899-12-31", &s.leader, "to"),
        ("/api/v1/stats/ranking?min_orders=-1", &s.leader, "min_orders"),
        ("/api/v1/admin/history?limit=abc", &admin, "limit"),
        ("/api/v1/admin/export/units?format=xml", &admin, "format"),
        ("/api/v1/admin/import/units?dry_run=perhaps", &admin, "dry_run"),
    ] {
        let r = if path.contains("/import/") {
            app.send("POST", path, token, "text/csv", b"code,name,kind\n".to_vec()).await
        } else {
            app.get(path, token).await
        };
        assert_error(&r, INVALID, "invalid_values");
        names_field(&r, field);
    }
    assert_eq!(app.order_count().await, before);
    // Within range still works; a limit above the maximum is clamped, not refused.
    let r = app.get("/api/v1/notifications?limit=100000&unread=false", &s.supervisor).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}
}

dual! {
async fn a_calendar_import_outside_the_sane_years_or_with_a_stray_date_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let before = app.get("/api/v1/calendar", &admin).await.body;
    let day = |date: &str| json!({"name": "节", "date": date, "isOffDay": true});
    for (body, field) in [
        (json!({"year": 1999, "days": [day("1999-10-01")]}), "year"),
        (json!({"year": 2101, "days": []}), "year"),
        (json!({"year": 99999, "days": []}), "year"),
        (json!({"year": 2027, "days": [day("2028-10-01")]}), "days[0].date"),
        (json!({"year": 2027, "days": [day("2027-10-01"), day("2027-02-30")]}), "days[1].date"),
        (json!({"year": 2027, "days": [{"date": "2027-10-01"}]}), "days[0].isOffDay"),
        (json!({"year": 2027}), "days"),
        (json!({"days": []}), "year"),
    ] {
        let r = app.post("/api/v1/calendar/import", &admin, body.clone()).await;
        assert_error(&r, INVALID, "invalid_values");
        names_field(&r, field);
        assert_eq!(app.get("/api/v1/calendar", &admin).await.body, before, "{body} changed the calendar");
    }
    // The whole calendar takes the same years.
    let mut cal = before.clone();
    cal["holidays"].as_array_mut().unwrap().push(json!("3026-10-01"));
    let r = app.put("/api/v1/calendar", &admin, cal).await;
    assert_error(&r, INVALID, "invalid_values");
    names_field(&r, "holidays");
    assert_eq!(app.get("/api/v1/calendar", &admin).await.body, before);
    // A good year is taken.
    let r = app.post("/api/v1/calendar/import", &admin, json!({"year": 2027, "days": [day("2027-10-01")]})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["holidays"].as_array().unwrap().contains(&json!("2027-10-01")));
}
}

/// Sends `request` as raw bytes and returns the status, the headers and the body.
fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String, Value) {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    conn.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = conn.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), serde_json::from_str(body).unwrap_or(Value::Null))
}

dual! {
async fn a_raw_non_ascii_path_or_query_gets_the_json_400_and_nothing_is_written() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let before = app.order_count().await;
    let token = s.operator.clone();
    let addr = app.running.addr;
    let answers = tokio::task::spawn_blocking(move || {
        let h = format!("Host: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n");
        let get = format!("GET /api/v1/orders/工单 HTTP/1.1\r\n{h}\r\n").into_bytes();
        let query = format!("GET /api/v1/orders?street=天河 HTTP/1.1\r\n{h}\r\n").into_bytes();
        // 工 in GBK: not even UTF-8, which hyper refuses before any handler runs.
        let mut gbk = b"GET /api/v1/orders/".to_vec();
        gbk.extend_from_slice(&[0xB9, 0xA4]);
        gbk.extend_from_slice(format!(" HTTP/1.1\r\n{h}\r\n").as_bytes());
        let body = sample_order().to_string();
        let post = format!(
            "POST /api/v1/orders?x=工单 HTTP/1.1\r\n{h}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        [get, query, post, gbk].map(|r| raw(addr, &r))
    })
    .await
    .unwrap();
    for (status, head, body) in answers {
        assert_eq!(status, 400, "{head}");
        assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
        assert_eq!(body["error"]["code"], "malformed_request", "{head} {body}");
        assert!(!body["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    assert_eq!(app.order_count().await, before, "nothing registered");
    // Percent-encoded, the same path is an ordinary 404.
    let r = app.get("/api/v1/orders/%E5%B7%A5%E5%8D%95", &s.operator).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}
}

dual! {
async fn a_body_over_the_limit_is_a_json_413_and_nothing_is_written() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let before = app.order_count().await;
    let mut body = sample_order();
    body["content"] = json!("灯".repeat(400_000));
    let r = app.create_refused(&s.operator, body.to_string(), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.order_count().await, before);
}
}
