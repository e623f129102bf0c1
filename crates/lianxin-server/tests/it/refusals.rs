use crate::kit::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const FORBIDDEN: StatusCode = StatusCode::FORBIDDEN;
const CONFLICT: StatusCode = StatusCode::CONFLICT;
const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;
const INVALID: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
const MALFORMED: StatusCode = StatusCode::BAD_REQUEST;
const UNAUTHORIZED: StatusCode = StatusCode::UNAUTHORIZED;

/// Asserts that a 422 names `field` in `fields`.
fn names_field(r: &Resp, field: &str) {
    let msg = r.body["error"]["fields"][field].as_str().unwrap_or("");
    assert!(!msg.is_empty(), "expected `fields.{field}` in {:?}", r.body);
}

/// A valid body for each action (as far as the body goes).
fn body_for(action: &str, other: &str) -> Value {
    match action {
        "send_back" | "return" | "reopen" | "cancel" => json!({"reason": "测试"}),
        "close" => json!({"resolution": "已答复"}),
        "dispatch" => json!({"lead_unit": "city-housing"}),
        "subdispatch" => json!({"unit": "s440106001"}),
        "request_extension" => json!({"until": "2026-12-20T10:00:00+08:00", "reason": "测试"}),
        "decide_extension" => json!({"approve": true}),
        "reply" => json!({"content": "已处理", "solved": true}),
        "callback" => json!({"satisfaction": "satisfied", "solved": true}),
        "merge" => json!({"into": other}),
        "urge" => json!({"note": "测试", "level": 1}),
        "note" => json!({"text": "测试"}),
        _ => json!({}),
    }
}

const ACTIONS: &[&str] = &[
    "submit",
    "approve",
    "send_back",
    "close",
    "dispatch",
    "sign",
    "return",
    "subdispatch",
    "request_extension",
    "decide_extension",
    "reply",
    "callback",
    "reopen",
    "merge",
    "cancel",
    "urge",
    "note",
];

dual! {
async fn a_role_that_may_not_perform_an_action_gets_403_and_nothing_changes() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let urban = app.login("handler.city-urban").await;
    let power = app.login("handler.co-power").await;

    let in_review = app.create(&s, sample_order()).await;
    app.must(&in_review, "submit", &s.operator, json!({})).await;
    app.refused(&in_review, "approve", &s.operator, json!({}), FORBIDDEN, "forbidden_role").await;
    app.refused(&in_review, "send_back", &s.dispatcher, json!({"reason": "x"}), FORBIDDEN, "forbidden_role").await;

    let pending = app.pending_order(&s, sample_order()).await;
    app.refused(&pending, "dispatch", &s.reviewer, json!({"lead_unit": "city-urban"}), FORBIDDEN, "forbidden_role")
        .await;
    app.refused(&pending, "dispatch", &s.leader, json!({"lead_unit": "city-urban"}), FORBIDDEN, "forbidden_role").await;
    app.refused(&pending, "cancel", &s.operator, json!({"reason": "x"}), FORBIDDEN, "forbidden_role").await;
    app.refused(&pending, "merge", &s.reviewer, json!({"into": in_review}), FORBIDDEN, "forbidden_role").await;

    let dispatched = app.dispatched_order(&s, "city-urban", &["co-power"]).await;
    // An assisting unit sees the order but may not act as the lead unit.
    for (action, body) in [
        ("sign", json!({})),
        ("return", json!({"reason": "x"})),
        ("subdispatch", json!({"unit": "d440106"})),
        ("request_extension", json!({"until": "2026-12-20T10:00:00+08:00", "reason": "x"})),
    ] {
        app.refused(&dispatched, action, &power, body, FORBIDDEN, "forbidden_role").await;
    }
    // Hotline staff are not the lead unit either.
    app.refused(&dispatched, "sign", &s.dispatcher, json!({}), FORBIDDEN, "forbidden_role").await;
    // Only a supervisor urges; only a dispatcher or supervisor decides extensions.
    app.refused(&dispatched, "urge", &urban, json!({"note": "x"}), FORBIDDEN, "forbidden_role").await;
    app.refused(&dispatched, "urge", &s.leader, json!({"note": "x"}), FORBIDDEN, "forbidden_role").await;
    app.refused(&dispatched, "decide_extension", &urban, json!({"approve": true}), FORBIDDEN, "forbidden_role").await;

    let h = app.login("handler.d440106").await;
    let replied = app.replied_order(&s, "d440106", &h).await;
    app.refused(
        &replied,
        "callback",
        &s.operator,
        json!({"satisfaction": "satisfied", "solved": true}),
        FORBIDDEN,
        "forbidden_role",
    )
    .await;
    let closed = app.closed_order(&s, "d440106", &h).await;
    app.refused(&closed, "reopen", &s.callback, json!({"reason": "x"}), FORBIDDEN, "forbidden_role").await;
    app.refused(&closed, "reopen", &h, json!({"reason": "x"}), FORBIDDEN, "forbidden_role").await;

    // Only an operator registers.
    app.create_refused(&s.reviewer, sample_order().to_string(), FORBIDDEN, "forbidden_role").await;
    app.create_refused(&urban, sample_order().to_string(), FORBIDDEN, "forbidden_role").await;
}
}

dual! {
async fn an_action_the_orders_state_does_not_allow_gets_409_illegal_transition() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.city-urban").await;

    let registered = app.create(&s, sample_order()).await;
    app.refused(&registered, "approve", &s.reviewer, json!({}), CONFLICT, "illegal_transition").await;
    app.refused(
        &registered,
        "dispatch",
        &s.dispatcher,
        json!({"lead_unit": "city-urban"}),
        CONFLICT,
        "illegal_transition",
    )
    .await;
    app.refused(&registered, "reopen", &s.supervisor, json!({"reason": "x"}), CONFLICT, "illegal_transition").await;
    app.refused(
        &registered,
        "decide_extension",
        &s.supervisor,
        json!({"approve": true}),
        CONFLICT,
        "illegal_transition",
    )
    .await;

    let pending = app.pending_order(&s, sample_order()).await;
    app.refused(&pending, "submit", &s.operator, json!({}), CONFLICT, "illegal_transition").await;
    app.refused(&pending, "close", &s.operator, json!({"resolution": "x"}), CONFLICT, "illegal_transition").await;

    // Reply before sign.
    let dispatched = app.dispatched_order(&s, "city-urban", &[]).await;
    app.refused(&dispatched, "reply", &h, json!({"content": "x", "solved": true}), CONFLICT, "illegal_transition")
        .await;
    app.refused(
        &dispatched,
        "dispatch",
        &s.dispatcher,
        json!({"lead_unit": "city-housing"}),
        CONFLICT,
        "illegal_transition",
    )
    .await;
    // No extension request is pending.
    app.refused(
        &dispatched,
        "decide_extension",
        &s.dispatcher,
        json!({"approve": true}),
        CONFLICT,
        "illegal_transition",
    )
    .await;
    // One pending request at a time.
    app.must(&dispatched, "request_extension", &h, json!({"until": "2026-12-10T10:00:00+08:00", "reason": "x"})).await;
    app.refused(
        &dispatched,
        "request_extension",
        &h,
        json!({"until": "2026-12-11T10:00:00+08:00", "reason": "y"}),
        CONFLICT,
        "illegal_transition",
    )
    .await;

    // Sign twice; callback while in progress.
    let in_progress = app.signed_order(&s, "city-urban", &h).await;
    app.refused(&in_progress, "sign", &h, json!({}), CONFLICT, "illegal_transition").await;
    app.refused(
        &in_progress,
        "callback",
        &s.callback,
        json!({"satisfaction": "satisfied", "solved": true}),
        CONFLICT,
        "illegal_transition",
    )
    .await;

    let replied = app.replied_order(&s, "city-urban", &h).await;
    app.refused(
        &replied,
        "request_extension",
        &h,
        json!({"until": "2026-12-10T10:00:00+08:00", "reason": "x"}),
        CONFLICT,
        "illegal_transition",
    )
    .await;
    app.refused(&replied, "return", &h, json!({"reason": "x"}), CONFLICT, "illegal_transition").await;

    // A closed order accepts no urge, note, cancel or merge.
    let closed = app.closed_order(&s, "city-urban", &h).await;
    app.refused(&closed, "urge", &s.supervisor, json!({"note": "x", "level": 2}), CONFLICT, "illegal_transition").await;
    app.refused(&closed, "note", &s.operator, json!({"text": "x"}), CONFLICT, "illegal_transition").await;
    app.refused(&closed, "note", &h, json!({"text": "x"}), CONFLICT, "illegal_transition").await;
    app.refused(&closed, "cancel", &s.dispatcher, json!({"reason": "x"}), CONFLICT, "illegal_transition").await;
    app.refused(&closed, "merge", &s.operator, json!({"into": registered}), CONFLICT, "illegal_transition").await;
    app.refused(
        &closed,
        "callback",
        &s.callback,
        json!({"satisfaction": "satisfied", "solved": true}),
        CONFLICT,
        "illegal_transition",
    )
    .await;

    // Cancelled and merged are final too.
    let cancelled = app.create(&s, sample_order()).await;
    app.must(&cancelled, "submit", &s.operator, json!({})).await;
    app.must(&cancelled, "cancel", &s.reviewer, json!({"reason": "x"})).await;
    app.refused(&cancelled, "note", &s.operator, json!({"text": "x"}), CONFLICT, "illegal_transition").await;
    app.refused(&cancelled, "reopen", &s.supervisor, json!({"reason": "x"}), CONFLICT, "illegal_transition").await;
}
}

dual! {
async fn a_stale_version_gets_409_stale_version_and_the_current_one_succeeds() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.create(&s, sample_order()).await;
    let r = app.refused(&n, "submit", &s.operator, json!({"version": 0}), CONFLICT, "stale_version").await;
    assert!(r.body["error"]["message"].as_str().unwrap().contains('1'), "{:?}", r.body);
    app.refused(&n, "submit", &s.operator, json!({"version": 2}), CONFLICT, "stale_version").await;
    let o = app.must(&n, "submit", &s.operator, json!({"version": 1})).await;
    assert_eq!(o["version"], 2);
    // Someone else acted in between: the first writer's view is now stale.
    app.refused(&n, "approve", &s.reviewer, json!({"version": 1}), CONFLICT, "stale_version").await;
    app.refused(&n, "note", &s.leader, json!({"text": "x", "version": 1}), CONFLICT, "stale_version").await;
    assert_eq!(app.must(&n, "approve", &s.reviewer, json!({"version": 2})).await["version"], 3);
    // A version that is not an integer is an invalid value.
    let r = app.refused(&n, "note", &s.leader, json!({"text": "x", "version": "3"}), INVALID, "invalid_values").await;
    names_field(&r, "version");
}
}

dual! {
async fn another_units_order_is_404_for_reads_and_for_every_action() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let housing = app.login("handler.city-housing").await;
    let n = app.dispatched_order(&s, "city-urban", &["co-water"]).await;
    let other = app.create(&s, sample_order()).await;
    let absent = "2026112399999";

    let r = app.get(&format!("/api/v1/orders/{n}"), &housing).await;
    assert_error(&r, NOT_FOUND, "not_found");
    let r_absent = app.get(&format!("/api/v1/orders/{absent}"), &housing).await;
    assert_error(&r_absent, NOT_FOUND, "not_found");
    // The answer does not tell an order outside the scope from one that does not exist.
    let m = r.body["error"]["message"].as_str().unwrap().replace(&n, "N");
    let m_absent = r_absent.body["error"]["message"].as_str().unwrap().replace(absent, "N");
    assert_eq!(m, m_absent);
    assert_error(&app.get(&format!("/api/v1/orders/{n}/events"), &housing).await, NOT_FOUND, "not_found");

    for action in ACTIONS {
        let r = app.refused(&n, action, &housing, body_for(action, &other), NOT_FOUND, "not_found").await;
        let m = r.body["error"]["message"].as_str().unwrap().replace(&n, "N");
        let ra =
            app.post(&format!("/api/v1/orders/{absent}/actions/{action}"), &housing, body_for(action, &other)).await;
        assert_error(&ra, NOT_FOUND, "not_found");
        assert_eq!(m, ra.body["error"]["message"].as_str().unwrap().replace(absent, "N"), "{action}");
    }
    // The unit's own order is fine.
    let urban = app.login("handler.city-urban").await;
    assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &urban).await.status, StatusCode::OK);
}
}

dual! {
async fn a_malformed_json_body_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.create(&s, sample_order()).await;
    for body in [r#"{"x":"#, "[1, 2]", r#"["submit"]"#, r#""text""#, "42", "not json"] {
        app.refused_raw(&n, "submit", Some(&s.operator), body.to_owned(), MALFORMED, "malformed_request").await;
        app.create_refused(&s.operator, body.to_owned(), MALFORMED, "malformed_request").await;
    }
    // A truncated but otherwise valid dispatch.
    let p = app.pending_order(&s, sample_order()).await;
    app.refused_raw(
        &p,
        "dispatch",
        Some(&s.dispatcher),
        r#"{"lead_unit":"city-urban""#.into(),
        MALFORMED,
        "malformed_request",
    )
    .await;
}
}

dual! {
async fn a_value_outside_its_vocabulary_is_422_naming_the_field() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.city-urban").await;

    let mut body = sample_order();
    body["urgency"] = json!("soon");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "urgency");
    let mut body = sample_order();
    body["channel"] = json!("fax");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "channel");
    let mut body = sample_order();
    body["request_type"] = json!("rant");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "request_type");
    // Several problems are named at once.
    let mut body = sample_order();
    body["urgency"] = json!("soon");
    body["channel"] = json!("fax");
    let r = app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await;
    names_field(&r, "urgency");
    names_field(&r, "channel");

    let replied = app.replied_order(&s, "city-urban", &h).await;
    let r = app
        .refused(
            &replied,
            "callback",
            &s.callback,
            json!({"satisfaction": "happy", "solved": true}),
            INVALID,
            "invalid_values",
        )
        .await;
    names_field(&r, "satisfaction");

    let registered = app.create(&s, sample_order()).await;
    let r = app
        .refused(
            &registered,
            "close",
            &s.operator,
            json!({"resolution": "已答复", "kind": "x"}),
            INVALID,
            "invalid_values",
        )
        .await;
    names_field(&r, "kind");
    let r = app
        .refused(&registered, "urge", &s.supervisor, json!({"note": "x", "level": 7}), INVALID, "invalid_values")
        .await;
    names_field(&r, "level");
}
}

dual! {
async fn a_missing_required_field_is_422_naming_the_field() {
    let app = spawn_app().await;
    let s = app.staff().await;

    let mut body = sample_order();
    body["caller"].as_object_mut().unwrap().remove("phone");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "caller.phone");
    // A place is optional, but one given must be one: a district is not a street.
    let mut body = sample_order();
    body["location"]["street"] = json!("440106");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "location.street");
    let mut body = sample_order();
    body.as_object_mut().unwrap().remove("content");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "content");
    let mut body = sample_order();
    body.as_object_mut().unwrap().remove("caller");
    let r = app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await;
    assert!(r.body["error"]["fields"].as_object().unwrap().keys().any(|k| k.starts_with("caller")), "{:?}", r.body);
    // An empty body names every required field.
    let r = app.create_refused(&s.operator, "{}".into(), INVALID, "invalid_values").await;
    for f in ["channel", "request_type", "category", "urgency", "content"] {
        names_field(&r, f);
    }

    let p = app.pending_order(&s, sample_order()).await;
    let r = app
        .refused(&p, "dispatch", &s.dispatcher, json!({"assisting_units": ["co-water"]}), INVALID, "invalid_values")
        .await;
    names_field(&r, "lead_unit");
    let r = app.refused(&p, "cancel", &s.dispatcher, json!({}), INVALID, "invalid_values").await;
    names_field(&r, "reason");
    let r = app.refused(&p, "cancel", &s.dispatcher, json!({"reason": "   "}), INVALID, "invalid_values").await;
    names_field(&r, "reason");
}
}

dual! {
async fn unknown_or_unusable_reference_codes_are_422() {
    let app = spawn_app().await;
    let s = app.staff().await;

    let mut body = sample_order();
    body["category"] = json!("urban.facilities.no-such-thing");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "category");
    let mut body = sample_order();
    body["category"] = json!("urban");
    let r = app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await;
    names_field(&r, "category");
    let mut body = sample_order();
    body["location"]["street"] = json!("440106999");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "location.street");
    // A district is not a street.
    let mut body = sample_order();
    body["location"]["street"] = json!("440106");
    names_field(&app.create_refused(&s.operator, body.to_string(), INVALID, "invalid_values").await, "location.street");

    let p = app.pending_order(&s, sample_order()).await;
    for lead in ["hotline", "dispatch", "no-such-unit"] {
        let r = app.refused(&p, "dispatch", &s.dispatcher, json!({"lead_unit": lead}), INVALID, "invalid_values").await;
        names_field(&r, "lead_unit");
    }
    let r = app
        .refused(
            &p,
            "dispatch",
            &s.dispatcher,
            json!({"lead_unit": "city-urban", "assisting_units": ["hotline"]}),
            INVALID,
            "invalid_values",
        )
        .await;
    names_field(&r, "assisting_units");
    let r = app
        .refused(
            &p,
            "dispatch",
            &s.dispatcher,
            json!({"lead_unit": "city-urban", "assisting_units": ["city-urban"]}),
            INVALID,
            "invalid_values",
        )
        .await;
    names_field(&r, "assisting_units");

    let district = app.login("handler.d440106").await;
    let d = app.dispatched_order(&s, "d440106", &[]).await;
    for unit in ["city-urban", "s440104001", "d440106", "d440104-urban"] {
        let r = app.refused(&d, "subdispatch", &district, json!({"unit": unit}), INVALID, "invalid_values").await;
        names_field(&r, "unit");
    }
    let r = app.refused(&d, "merge", &s.operator, json!({"into": "2026112399999"}), INVALID, "invalid_values").await;
    names_field(&r, "into");
    let r = app.refused(&d, "merge", &s.operator, json!({"into": d.clone()}), INVALID, "invalid_values").await;
    names_field(&r, "into");
    // Merging into an order that is no longer open.
    let finished = app.create(&s, sample_order()).await;
    app.must(&finished, "close", &s.operator, json!({"resolution": "已答复"})).await;
    let r = app.refused(&d, "merge", &s.dispatcher, json!({"into": finished}), INVALID, "invalid_values").await;
    names_field(&r, "into");
    let r = app
        .refused(
            &d,
            "request_extension",
            &district,
            json!({"until": "2026-11-24T10:00:00+08:00", "reason": "x"}),
            INVALID,
            "invalid_values",
        )
        .await;
    names_field(&r, "until");
}
}

dual! {
async fn requests_without_a_valid_token_get_401() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.create(&s, sample_order()).await;

    for (method, path) in [
        (Method::GET, "/api/v1/orders".to_owned()),
        (Method::GET, format!("/api/v1/orders/{n}")),
        (Method::GET, format!("/api/v1/orders/{n}/events")),
        (Method::GET, "/api/v1/callers/13800001234/orders".to_owned()),
        (Method::GET, "/api/v1/auth/me".to_owned()),
    ] {
        let r = app.request(method.clone(), &path, None, None).await;
        assert_error(&r, UNAUTHORIZED, "not_signed_in");
        let r = app.request(method, &path, Some("not-a-real-token"), None).await;
        assert_error(&r, UNAUTHORIZED, "not_signed_in");
    }
    app.refused_raw(&n, "submit", None, "{}".into(), UNAUTHORIZED, "not_signed_in").await;
    app.refused_raw(&n, "submit", Some("0123456789abcdef"), "{}".into(), UNAUTHORIZED, "not_signed_in").await;
    let before = app.order_count().await;
    let r = app.post_raw("/api/v1/orders", None, sample_order().to_string()).await;
    assert_error(&r, UNAUTHORIZED, "not_signed_in");
    assert_eq!(app.order_count().await, before);

    // A session expires after 12 hours.
    app.clock.advance(13 * 3_600_000);
    app.refused_raw(&n, "submit", Some(&s.operator), "{}".into(), UNAUTHORIZED, "not_signed_in").await;
}
}

dual! {
async fn a_wrong_password_or_unknown_user_gets_401_at_login() {
    let app = spawn_app().await;
    let login = |u: &str, p: &str| json!({"username": u, "password": p}).to_string();
    let r = app.post_raw("/api/v1/auth/login", None, login("operator", "wrong")).await;
    assert_error(&r, UNAUTHORIZED, "bad_credentials");
    assert!(r.body.get("token").is_none());
    let r = app.post_raw("/api/v1/auth/login", None, login("nobody", "demo")).await;
    assert_error(&r, UNAUTHORIZED, "bad_credentials");
    let r = app.post_raw("/api/v1/auth/login", None, login("operator", "demo")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"]["username"], "operator");
    assert_eq!(r.body["user"]["roles"], json!(["operator"]));
    assert_eq!(r.body["user"]["unit"], "hotline");
    let r = app.post_raw("/api/v1/auth/login", None, r#"{"username":"#.into()).await;
    assert_error(&r, MALFORMED, "malformed_request");
}
}

dual! {
async fn errors_take_precedence_in_the_order_the_contract_fixes() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let housing = app.login("handler.city-housing").await;
    let absent = "2026112399999";
    let in_review = app.create(&s, sample_order()).await;
    app.must(&in_review, "submit", &s.operator, json!({})).await;
    let dispatched = app.dispatched_order(&s, "city-urban", &[]).await;

    // 401 before 400: no token and a malformed body.
    app.refused_raw(&in_review, "approve", None, r#"{"x":"#.into(), UNAUTHORIZED, "not_signed_in").await;
    let r = app.post_raw("/api/v1/orders", None, "[1]".into()).await;
    assert_error(&r, UNAUTHORIZED, "not_signed_in");

    // 400 before 404: malformed JSON on an order that does not exist, or is out of scope.
    let r =
        app.post_raw(&format!("/api/v1/orders/{absent}/actions/submit"), Some(&s.operator), r#"{"x":"#.into()).await;
    assert_error(&r, MALFORMED, "malformed_request");
    app.refused_raw(&dispatched, "sign", Some(&housing), "[1, 2]".into(), MALFORMED, "malformed_request").await;

    // 404 before 403: a role that may not act, on an order it cannot see or that does not exist.
    app.refused(&dispatched, "approve", &housing, json!({}), NOT_FOUND, "not_found").await;
    let r = app.post(&format!("/api/v1/orders/{absent}/actions/approve"), &s.operator, json!({})).await;
    assert_error(&r, NOT_FOUND, "not_found");

    // Before dispatch there is no lead unit: the district that sees the order by its
    // location may not sign for it.
    let district = app.login("handler.d440106").await;
    let before_dispatch = app.pending_order(&s, sample_order()).await;
    app.refused(&before_dispatch, "sign", &district, json!({}), FORBIDDEN, "forbidden_role").await;

    // 403 before 422: a wrong role sending invalid values.
    app.refused(&in_review, "approve", &s.operator, json!({"version": "x"}), FORBIDDEN, "forbidden_role").await;
    let pending = app.pending_order(&s, sample_order()).await;
    app.refused(&pending, "dispatch", &s.reviewer, json!({"lead_unit": "hotline"}), FORBIDDEN, "forbidden_role").await;
    app.refused(&pending, "dispatch", &s.reviewer, json!({}), FORBIDDEN, "forbidden_role").await;
    app.refused(&pending, "close", &s.dispatcher, json!({"kind": "x"}), FORBIDDEN, "forbidden_role").await;
    let mut body = sample_order();
    body["urgency"] = json!("soon");
    app.create_refused(&s.reviewer, body.to_string(), FORBIDDEN, "forbidden_role").await;
    app.create_refused(&s.reviewer, "{}".into(), FORBIDDEN, "forbidden_role").await;
    // 403 before 409: a wrong role on an order in the wrong state, or with a stale version.
    app.refused(&pending, "submit", &s.reviewer, json!({}), FORBIDDEN, "forbidden_role").await;
    app.refused(&pending, "approve", &s.operator, json!({"version": 1}), FORBIDDEN, "forbidden_role").await;

    // 422 before 409: the right role with invalid values on an order in the wrong state.
    let r = app
        .refused(&in_review, "dispatch", &s.dispatcher, json!({"lead_unit": "hotline"}), INVALID, "invalid_values")
        .await;
    names_field(&r, "lead_unit");
    let r = app.refused(&in_review, "dispatch", &s.dispatcher, json!({}), INVALID, "invalid_values").await;
    names_field(&r, "lead_unit");
    let r = app
        .refused(&in_review, "close", &s.operator, json!({"resolution": "x", "kind": "x"}), INVALID, "invalid_values")
        .await;
    names_field(&r, "kind");
    let r = app
        .refused(
            &dispatched,
            "callback",
            &s.callback,
            json!({"satisfaction": "happy", "solved": true}),
            INVALID,
            "invalid_values",
        )
        .await;
    names_field(&r, "satisfaction");
    // 422 before 409: invalid values with a stale version.
    let r = app
        .refused(
            &pending,
            "dispatch",
            &s.dispatcher,
            json!({"lead_unit": "hotline", "version": 1}),
            INVALID,
            "invalid_values",
        )
        .await;
    names_field(&r, "lead_unit");
    // Both are 409s: a wrong state with a stale version is a 409 either way.
    let before = app.stored(&in_review).await;
    let r = app.act(&in_review, "submit", &s.operator, json!({"version": 1})).await;
    assert_eq!(r.status, CONFLICT, "{:?}", r.body);
    assert!(["illegal_transition", "stale_version"].contains(&r.code()), "{:?}", r.body);
    assert_eq!(app.stored(&in_review).await, before);
}
}

dual! {
async fn unknown_routes_and_wrong_methods_answer_with_the_error_shape() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.create(&s, sample_order()).await;
    let shape = |r: &Resp| {
        let e = r.body["error"].as_object().unwrap_or_else(|| panic!("not the error shape: {:?}", r.body));
        assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()));
        assert!(e["message"].as_str().is_some_and(|c| !c.is_empty()));
    };

    for path in ["/api/v1/nope", "/nope", "/api/v1/orders/x/y/z"] {
        let r = app.request(Method::GET, path, Some(&s.operator), None).await;
        assert_error(&r, NOT_FOUND, "not_found");
        shape(&r);
    }
    let r = app.refused(&n, "fly", &s.operator, json!({}), NOT_FOUND, "not_found").await;
    shape(&r);
    // `register` is not an action: orders are registered by POST /api/v1/orders.
    app.refused(&n, "register", &s.operator, json!({}), NOT_FOUND, "not_found").await;

    for (method, path) in [
        (Method::DELETE, "/api/v1/orders".to_owned()),
        (Method::PUT, format!("/api/v1/orders/{n}")),
        (Method::DELETE, format!("/api/v1/orders/{n}")),
        (Method::GET, format!("/api/v1/orders/{n}/actions/submit")),
        (Method::POST, format!("/api/v1/orders/{n}/events")),
        (Method::GET, "/api/v1/auth/login".to_owned()),
    ] {
        let r = app.request(method.clone(), &path, Some(&s.operator), Some("{}".into())).await;
        assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        shape(&r);
    }
    assert_eq!(app.stored(&n).await.1, 1, "nothing was written");
}
}

dual! {
async fn an_invalid_list_filter_is_422_naming_it() {
    let app = spawn_app().await;
    let s = app.staff().await;
    for (query, field) in [
        ("status=open", "status"),
        ("status=registered,bogus", "status"),
        ("category=urban.nothing", "category"),
        ("request_type=rant", "request_type"),
        ("channel=fax", "channel"),
        ("created_from=yesterday", "created_from"),
        ("created_to=2026-13-01", "created_to"),
        ("limit=many", "limit"),
    ] {
        let r = app.get(&format!("/api/v1/orders?{query}"), &s.operator).await;
        assert_error(&r, INVALID, "invalid_values");
        names_field(&r, field);
    }
}
}

dual! {
async fn a_callback_records_only_what_the_resident_said() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.city-urban").await;
    let n = app.replied_order(&s, "city-urban", &h).await;
    // A satisfaction without whether the problem was solved is refused, and so is the
    // reverse: no default stands in for an answer nobody gave. Nothing is written.
    let r = app.refused(&n, "callback", &s.callback, json!({"satisfaction": "satisfied"}), INVALID, "invalid_values").await;
    names_field(&r, "solved");
    let r = app.refused(&n, "callback", &s.callback, json!({"solved": true}), INVALID, "invalid_values").await;
    names_field(&r, "satisfaction");
    // Not reached is one field; whether it was solved is not recorded, even when sent.
    let o = app.must(&n, "callback", &s.callback, json!({"satisfaction": "unreachable", "solved": true})).await;
    assert_eq!(o["callback"]["satisfaction"], "unreachable");
    assert!(o["callback"]["solved"].is_null(), "nobody said whether it was solved: {}", o["callback"]);
    let m = app.replied_order(&s, "city-urban", &h).await;
    let o = app.must(&m, "callback", &s.callback, json!({"satisfaction": "unreachable"})).await;
    assert_eq!(o["status"], "closed");
    assert!(o["callback"]["solved"].is_null());
}
}
