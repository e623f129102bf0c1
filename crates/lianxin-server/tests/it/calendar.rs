//! The working calendar through the API (issue 4).

use crate::kit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

dual! {
async fn the_demo_calendar_holds_the_official_holidays_and_deadlines_skip_them() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let cal = app.get("/api/v1/calendar", &s.operator).await.body;
    assert_eq!(cal["utc_offset_minutes"], 480);
    assert_eq!(cal["periods"], json!([{"start": "08:30", "end": "12:00"}, {"start": "14:00", "end": "17:30"}]));
    let holidays: Vec<&str> = cal["holidays"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let workdays: Vec<&str> = cal["workdays"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(holidays.contains(&"2026-10-01") && holidays.contains(&"2025-01-28") && holidays.contains(&"2024-02-10"));
    assert!(workdays.contains(&"2026-01-04"), "the make-up Sunday after New Year 2026");
}
}

dual! {
async fn an_admin_edits_the_calendar_and_new_deadlines_follow_it() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let admin = app.login("admin").await;
    let mut cal = app.get("/api/v1/calendar", &admin).await.body;
    // Tuesday to Friday of this week off: a 1-working-hour sign limit from Monday 17:00
    // runs into the next Monday.
    for d in ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"] {
        cal["holidays"].as_array_mut().unwrap().push(json!(d));
    }
        let before = app.get("/api/v1/calendar", &admin).await.body;
    let r = app.request(reqwest::Method::PUT, "/api/v1/calendar", Some(&s.operator), Some(cal.to_string())).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden_role"));
    assert_eq!(app.get("/api/v1/calendar", &admin).await.body, before, "a refused edit changes nothing");
    let r = app.request(reqwest::Method::PUT, "/api/v1/calendar", Some(&admin), Some(cal.to_string())).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-23T17:00:00+08:00").unwrap().timestamp_millis());
    let n = app.dispatched_order(&s, "s440106001", &[]).await;
    let o = app.get(&format!("/api/v1/orders/{n}"), &s.operator).await.body;
    assert_eq!(o["sign_deadline"], "2026-11-30T09:00:00.000+08:00");

    // Bad calendars are refused whole, naming the problem.
    let mut bad = cal.clone();
    bad["periods"] = json!([{"start": "08:30", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]);
    let r = app.request(reqwest::Method::PUT, "/api/v1/calendar", Some(&admin), Some(bad.to_string())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["periods"].is_string(), "{:?}", r.body);
    let mut bad = cal.clone();
    bad["workdays"] = json!(["2026-11-24"]);
    let r = app.request(reqwest::Method::PUT, "/api/v1/calendar", Some(&admin), Some(bad.to_string())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body["error"]["fields"]["workdays"].as_str().unwrap().contains("2026-11-24"));
    assert_eq!(app.get("/api/v1/calendar", &admin).await.body, cal, "refused calendars change nothing");
}
}

dual! {
async fn an_official_holiday_file_imports_as_published() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let mut cal = app.get("/api/v1/calendar", &admin).await.body;
    cal["holidays"] = json!([]);
    cal["workdays"] = json!([]);
    let r = app.request(reqwest::Method::PUT, "/api/v1/calendar", Some(&admin), Some(cal.to_string())).await;
    assert_eq!(r.status, StatusCode::OK);
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/cn-holidays/2026.json"))
        .expect("the shared holiday data");
    let r = app.request(reqwest::Method::POST, "/api/v1/calendar/import", Some(&admin), Some(file)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let holidays = r.body["holidays"].as_array().unwrap();
    assert!(holidays.contains(&json!("2026-02-17")), "Spring Festival 2026");
    assert!(holidays.iter().all(|d| d.as_str().unwrap().starts_with("2026")));
    assert!(r.body["workdays"].as_array().unwrap().contains(&json!("2026-02-14")));
        let imported = app.get("/api/v1/calendar", &admin).await.body;
    let r = app.request(reqwest::Method::POST, "/api/v1/calendar/import", Some(&admin), Some(r#"{"year":2026,"days":[{"date":"2025-10-01","isOffDay":true}]}"#.into())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/calendar", &admin).await.body, imported, "a refused import changes nothing");
}
}
