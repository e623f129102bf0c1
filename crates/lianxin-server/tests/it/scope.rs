use crate::kit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The numbers in a list answer.
fn numbers(r: &Resp) -> BTreeSet<String> {
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().expect("a list has items").iter().map(number_of).collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// A sample order at `street` (a jurisdiction code), for `phone`.
fn order_at(street: &str, phone: &str) -> Value {
    let mut body = sample_order();
    body["location"]["street"] = json!(street);
    body["caller"]["phone"] = json!(phone);
    body
}

async fn dispatch(app: &TestApp, s: &Staff, body: Value, lead: &str, assisting: &[&str]) -> String {
    let n = app.pending_order(s, body).await;
    app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": lead, "assisting_units": assisting})).await;
    n
}

dual! {
async fn a_handler_of_another_unit_cannot_see_list_read_events_of_or_act_on_an_order() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let housing = app.login("handler.city-housing").await;
    let n = app.dispatched_order(&s, "city-urban", &[]).await;

    assert_error(&app.get(&format!("/api/v1/orders/{n}"), &housing).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&app.get(&format!("/api/v1/orders/{n}/events"), &housing).await, StatusCode::NOT_FOUND, "not_found");
    assert!(numbers(&app.get("/api/v1/orders", &housing).await).is_empty());
    assert!(numbers(&app.get("/api/v1/orders?unit=city-urban", &housing).await).is_empty());
    assert!(numbers(&app.get("/api/v1/callers/13800001234/orders", &housing).await).is_empty());
    app.refused(&n, "sign", &housing, json!({}), StatusCode::NOT_FOUND, "not_found").await;
    app.refused(&n, "note", &housing, json!({"text": "这单是我们的吗？"}), StatusCode::NOT_FOUND, "not_found").await;
    app.refused(&n, "return", &housing, json!({"reason": "x"}), StatusCode::NOT_FOUND, "not_found").await;

    // A district government that neither leads it nor holds its location cannot see it either.
    let yuexiu = app.login("handler.d440104").await;
    assert_error(&app.get(&format!("/api/v1/orders/{n}"), &yuexiu).await, StatusCode::NOT_FOUND, "not_found");
    assert!(numbers(&app.get("/api/v1/orders", &yuexiu).await).is_empty());

    // Once the dispatcher sends it to them, they can.
    let urban = app.login("handler.city-urban").await;
    app.must(&n, "return", &urban, json!({"reason": "住建职责"})).await;
    app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "city-housing"})).await;
    assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &housing).await.status, StatusCode::OK);
    assert_eq!(numbers(&app.get("/api/v1/orders", &housing).await), set(&[&n]));
    // …and the unit that returned it no longer can.
    assert_error(&app.get(&format!("/api/v1/orders/{n}"), &urban).await, StatusCode::NOT_FOUND, "not_found");
    assert!(numbers(&app.get("/api/v1/orders", &urban).await).is_empty());
}
}

dual! {
async fn a_street_office_sees_the_orders_dispatched_to_it() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let street = app.login("handler.s440106001").await;
    let neighbour = app.login("handler.s440106002").await;
    let n = app.dispatched_order(&s, "s440106001", &[]).await;
    // Located in its street but dispatched elsewhere: not the street's business.
    let elsewhere = app.dispatched_order(&s, "city-urban", &[]).await;

    let r = app.get(&format!("/api/v1/orders/{n}"), &street).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["lead_unit"], "s440106001");
    assert_eq!(app.events(&n, &street).await.len(), 4);
    assert_eq!(numbers(&app.get("/api/v1/orders", &street).await), set(&[&n]));
    assert_error(&app.get(&format!("/api/v1/orders/{elsewhere}"), &street).await, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.must(&n, "sign", &street, json!({})).await["status"], "in_progress");

    assert_error(&app.get(&format!("/api/v1/orders/{n}"), &neighbour).await, StatusCode::NOT_FOUND, "not_found");
    assert!(numbers(&app.get("/api/v1/orders", &neighbour).await).is_empty());
}
}

dual! {
async fn a_district_government_sees_its_sub_units_orders_and_the_orders_located_in_its_district() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let tianhe = app.login("handler.d440106").await;
    let yuexiu = app.login("handler.d440104").await;
    let tianhe_urban = app.login("handler.d440106-urban").await;

    // Located in 越秀 but handled by a 天河 sub-unit.
    let sub_unit = dispatch(&app, &s, order_at("440104001", "13800000001"), "d440106-urban", &[]).await;
    // Located in 天河, handled by a city department.
    let located = dispatch(&app, &s, order_at("440106001", "13800000002"), "city-urban", &[]).await;
    // Located in 天河 and not yet dispatched.
    let undispatched = app.pending_order(&s, order_at("440106002", "13800000003")).await;
    // Located in 越秀, handled by a city department: none of 天河's business.
    let foreign = dispatch(&app, &s, order_at("440104003", "13800000004"), "city-urban", &[]).await;
    // Handled by a 天河 street.
    let street = dispatch(&app, &s, order_at("440104001", "13800000005"), "s440106003", &[]).await;

    for n in [&sub_unit, &located, &undispatched, &street] {
        let r = app.get(&format!("/api/v1/orders/{n}"), &tianhe).await;
        assert_eq!(r.status, StatusCode::OK, "{n}: {:?}", r.body);
        app.events(n, &tianhe).await;
    }
    assert_error(&app.get(&format!("/api/v1/orders/{foreign}"), &tianhe).await, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        numbers(&app.get("/api/v1/orders?limit=200", &tianhe).await),
        set(&[&sub_unit, &located, &undispatched, &street])
    );

    // 越秀 sees what is located there, whoever handles it — but not what 天河's units handle
    // unless it is located in 越秀.
    assert_eq!(numbers(&app.get("/api/v1/orders", &yuexiu).await), set(&[&sub_unit, &foreign, &street]));

    // A district department sees only its own orders, not its district's.
    assert_eq!(numbers(&app.get("/api/v1/orders", &tianhe_urban).await), set(&[&sub_unit]));
    assert_error(
        &app.get(&format!("/api/v1/orders/{located}"), &tianhe_urban).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Seeing is not leading: the district may note but not sign its department's order.
    app.must(&sub_unit, "note", &tianhe, json!({"text": "区政府关注"})).await;
    app.refused(&sub_unit, "sign", &tianhe, json!({}), StatusCode::FORBIDDEN, "forbidden_role").await;
}
}

dual! {
async fn a_handler_of_an_assisting_unit_sees_the_order() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let water = app.login("handler.co-water").await;
    let power = app.login("handler.co-power").await;
    let n = app.dispatched_order(&s, "city-urban", &["co-water", "co-power"]).await;
    for tok in [&water, &power] {
        let r = app.get(&format!("/api/v1/orders/{n}"), tok).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["assisting_units"], json!(["co-water", "co-power"]));
        assert_eq!(app.events(&n, tok).await.len(), 4);
        assert_eq!(numbers(&app.get("/api/v1/orders", tok).await), set(&[&n]));
        assert_eq!(numbers(&app.get("/api/v1/orders?unit=city-urban", tok).await), set(&[&n]));
    }
    let gas = app.login("handler.co-gas").await;
    assert_error(&app.get(&format!("/api/v1/orders/{n}"), &gas).await, StatusCode::NOT_FOUND, "not_found");
}
}

dual! {
async fn a_handlers_order_list_holds_only_orders_within_its_scope() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let urban = app.login("handler.city-urban").await;
    let lead = app.dispatched_order(&s, "city-urban", &[]).await;
    let assisting = app.dispatched_order(&s, "city-housing", &["city-urban"]).await;
    let _other = app.dispatched_order(&s, "city-housing", &[]).await;
    let _district = app.dispatched_order(&s, "d440106", &["co-water"]).await;
    let _registered = app.create(&s, sample_order()).await;
    let signed = app.signed_order(&s, "city-urban", &urban).await;
    let replied = app.replied_order(&s, "city-urban", &urban).await;
    let closed = app.closed_order(&s, "city-urban", &urban).await;

    let mine = set(&[&lead, &assisting, &signed, &replied, &closed]);
    assert_eq!(numbers(&app.get("/api/v1/orders", &urban).await), mine);
    // Filters narrow within the scope, never widen it.
    assert_eq!(numbers(&app.get("/api/v1/orders?unit=city-housing", &urban).await), set(&[&assisting]));
    assert_eq!(numbers(&app.get("/api/v1/orders?status=registered", &urban).await), set(&[]));
    assert_eq!(numbers(&app.get("/api/v1/orders?status=dispatched", &urban).await), set(&[&lead, &assisting]));
    assert_eq!(numbers(&app.get("/api/v1/orders?street=440106001", &urban).await), mine);
    // Paging within the scope visits the same orders.
    let mut seen = BTreeSet::new();
    let mut path = "/api/v1/orders?limit=2".to_owned();
    loop {
        let r = app.get(&path, &urban).await;
        seen.extend(numbers(&r));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/orders?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, mine);
    // Hotline-wide roles see all eight.
    assert_eq!(numbers(&app.get("/api/v1/orders", &s.leader).await).len(), 8);
}
}

dual! {
async fn a_confidential_callers_name_and_phone_are_hidden_from_handlers() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let urban = app.login("handler.city-urban").await;
    let mut body = sample_order();
    body["caller"]["confidential"] = json!(true);
    let secret = dispatch(&app, &s, body, "city-urban", &[]).await;
    // The same caller's ordinary order, handled by the same unit.
    let open = app.dispatched_order(&s, "city-urban", &[]).await;

    let r = app.get(&format!("/api/v1/orders/{secret}"), &urban).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["caller"]["name"], Value::Null);
    assert_eq!(r.body["caller"]["phone"], Value::Null);
    assert_eq!(r.body["caller"]["confidential"], true);
    // The content is still there for the handler to work on.
    assert_eq!(r.body["content"], sample_order()["content"]);

    let r = app.get("/api/v1/orders", &urban).await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for it in items {
        if it["number"] == secret.as_str() {
            assert_eq!(it["caller"]["name"], Value::Null);
            assert_eq!(it["caller"]["phone"], Value::Null);
        } else {
            assert_eq!(it["caller"]["phone"], "13800001234", "an ordinary caller is shown to the handler");
        }
    }
    // The action answer hides the caller too.
    let o = app.must(&secret, "sign", &urban, json!({})).await;
    assert_eq!(o["caller"]["phone"], Value::Null);
    assert_eq!(o["caller"]["name"], Value::Null);

    // Looking the number up does not reveal the confidential order at all.
    let r = app.get("/api/v1/callers/13800001234/orders", &urban).await;
    assert_eq!(numbers(&r), set(&[&open]));
    // The hotline sees both.
    let r = app.get("/api/v1/callers/13800001234/orders", &s.operator).await;
    assert_eq!(numbers(&r), set(&[&secret, &open]));
}
}

dual! {
async fn a_confidential_caller_is_shown_in_full_to_operator_and_callback_and_masked_to_other_hotline_roles() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let mut body = sample_order();
    body["caller"]["confidential"] = json!(true);
    let n = dispatch(&app, &s, body, "city-urban", &[]).await;
    let path = format!("/api/v1/orders/{n}");

    for (who, tok) in [("operator", &s.operator), ("callback", &s.callback)] {
        let r = app.get(&path, tok).await;
        assert_eq!(r.body["caller"]["phone"], "13800001234", "{who}");
        assert_eq!(r.body["caller"]["name"], "张小明", "{who}");
        let r = app.get("/api/v1/orders", tok).await;
        assert_eq!(r.body["items"][0]["caller"]["phone"], "13800001234", "{who}");
        let r = app.get("/api/v1/callers/13800001234/orders", tok).await;
        assert_eq!(r.body["items"][0]["caller"]["phone"], "13800001234", "{who}");
    }
    for (who, tok) in [("leader", &s.leader), ("dispatcher", &s.dispatcher), ("reviewer", &s.reviewer)] {
        let r = app.get(&path, tok).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["caller"]["phone"], "138****1234", "{who}");
        assert_eq!(r.body["caller"]["name"], "张*明", "{who}");
        assert_eq!(r.body["caller"]["confidential"], true);
        let r = app.get("/api/v1/orders", tok).await;
        assert_eq!(r.body["items"][0]["caller"]["phone"], "138****1234", "{who}");
        let r = app.get("/api/v1/callers/13800001234/orders", tok).await;
        assert_eq!(r.body["items"][0]["caller"]["phone"], "138****1234", "{who}");
    }
    // The masked roles' own action answers are masked too.
    let o = app.must(&n, "note", &s.leader, json!({"text": "关注"})).await;
    assert_eq!(o["caller"]["phone"], "138****1234");
}
}

dual! {
async fn reading_a_caller_unmasked_is_audited() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.create(&s, sample_order()).await;
    let store = app.running.state.store();
    let audited = |entries: &[lianxin_store::AuditEntry], actor: &str| {
        entries.iter().any(|e| e.actor == actor && e.subject.split(',').any(|x| x == n))
    };

    let r = app.get(&format!("/api/v1/orders/{n}"), &s.operator).await;
    assert_eq!(r.body["caller"]["phone"], "13800001234");
    let entries = store.audit_entries(50).await.unwrap();
    assert!(audited(&entries, "operator"), "no audit entry for the operator's view of {n}: {entries:#?}");

    // Lists are audited too.
    app.get("/api/v1/orders", &s.callback).await;
    assert!(audited(&store.audit_entries(50).await.unwrap(), "callback"));

    // A masked view is not unmasked access.
    app.get(&format!("/api/v1/orders/{n}"), &s.leader).await;
    app.get("/api/v1/orders", &s.dispatcher).await;
    let entries = store.audit_entries(50).await.unwrap();
    assert!(!audited(&entries, "leader"), "{entries:#?}");
    assert!(!audited(&entries, "dispatcher"), "{entries:#?}");
}
}

dual! {
async fn a_console_page_a_role_cannot_use_is_refused_as_the_api_refuses() {
    let app = spawn_app().await;
    let client = TestApp::form_client();
    let handler = app.form_login(&client, "handler.s440106001", "demo").await.session().unwrap();
    let supervisor = app.form_login(&client, "supervisor", "demo").await.session().unwrap();
    // A street handler opening the supervisor board gets the not-allowed page, not an empty board.
    for path in ["/console/supervise", "/console/callback", "/console/dispatch", "/console/review", "/console/intake"] {
        let (status, html) = app.page(path, &handler).await;
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("无权访问"), "{path} says it is not allowed: {html}");
        assert!(!html.contains("id=\"q-"), "{path} shows no queue");
    }
    // Their own pages open.
    let (status, _) = app.page("/console/inbox", &handler).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let (status, _) = app.page("/console/orders", &handler).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let (status, _) = app.page("/console/supervise", &supervisor).await;
    assert_eq!(status, reqwest::StatusCode::OK);
}
}
