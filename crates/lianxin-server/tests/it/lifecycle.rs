use crate::kit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// What the newest event of an order should say.
struct Ev<'a> {
    action: &'a str,
    from: Option<&'a str>,
    to: &'a str,
    actor: &'a str,
    unit: Option<&'a str>,
    comment: Option<&'a str>,
}

/// Checks that `order` (the answer of the step just taken) is at `version`, in the status
/// the event leads to, and that the event log holds exactly `version` chained events, the
/// newest matching `want`. Returns the log.
async fn check_step(app: &TestApp, token: &str, order: &Value, version: i64, want: Ev<'_>) -> Vec<Value> {
    let n = number_of(order);
    assert_eq!(order["version"], version, "{}: version after `{}`", n, want.action);
    assert_eq!(order["status"], want.to, "{}: status after `{}`", n, want.action);
    let events = app.events(&n, token).await;
    assert_eq!(events.len() as i64, version, "one event per accepted action: {events:#?}");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1, "events are numbered from 1 without gaps");
        assert!(e["hash"].as_str().is_some_and(|h| !h.is_empty()), "event {} has no hash", i + 1);
        assert!(e["at"].as_str().is_some_and(|t| t.ends_with("+08:00")), "event time {:?}", e["at"]);
    }
    let hashes: BTreeSet<&str> = events.iter().filter_map(|e| e["hash"].as_str()).collect();
    assert_eq!(hashes.len(), events.len(), "every event's hash is distinct");
    let last = events.last().unwrap();
    assert_eq!(last["action"], want.action, "{last:?}");
    assert_eq!(last["from_status"], json!(want.from), "{last:?}");
    assert_eq!(last["to_status"], want.to, "{last:?}");
    assert_eq!(last["actor"], want.actor, "{last:?}");
    assert_eq!(last["unit"], json!(want.unit), "{last:?}");
    assert_eq!(last["comment"], json!(want.comment), "{last:?}");
    assert_eq!(last["at"], order["updated_at"], "the order was last updated by its newest event");
    events
}

dual! {
async fn an_order_walks_the_whole_loop_and_each_step_appends_exactly_one_chained_event() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.d440106").await;

    let o = app.create_order(&s.operator).await;
    let n = number_of(&o);
    let ev = |action, from, to, actor, unit, comment| Ev { action, from, to, actor, unit, comment };
    check_step(&app, &s.operator, &o, 1, ev("register", None, "registered", "operator", Some("hotline"), None)).await;
    assert_eq!(o["lead_unit"], Value::Null);
    assert_eq!(o["deadline"], Value::Null);
    assert_eq!(o["created_by"], "operator");
    assert_eq!(o["title"], "天河路口的路灯连续三晚不亮，夜里很危险", "a title is derived from the content");

    app.clock.advance(5 * MINUTE);
    let o = app.must(&n, "submit", &s.operator, json!({})).await;
    let reg = Some("registered");
    let rev = Some("in_review");
    check_step(&app, &s.operator, &o, 2, ev("submit", reg, "in_review", "operator", Some("hotline"), None)).await;

    app.clock.advance(5 * MINUTE);
    let reason = "地址不完整，请补充门牌号";
    let o = app.must(&n, "send_back", &s.reviewer, json!({"reason": reason})).await;
    check_step(&app, &s.operator, &o, 3, ev("send_back", rev, "registered", "reviewer", Some("hotline"), Some(reason)))
        .await;

    app.clock.advance(5 * MINUTE);
    let o = app.must(&n, "submit", &s.operator, json!({"version": 3})).await;
    check_step(&app, &s.operator, &o, 4, ev("submit", reg, "in_review", "operator", Some("hotline"), None)).await;

    app.clock.advance(5 * MINUTE);
    let o = app.must(&n, "approve", &s.reviewer, json!({})).await;
    check_step(&app, &s.reviewer, &o, 5, ev("approve", rev, "pending_dispatch", "reviewer", Some("hotline"), None))
        .await;

    app.clock.advance(5 * MINUTE);
    let note = "天河区牵头，市城管局、供电局协办";
    let o = app
        .must(
            &n,
            "dispatch",
            &s.dispatcher,
            json!({"lead_unit": "d440106", "assisting_units": ["city-urban", "co-power"], "note": note}),
        )
        .await;
    let pd = Some("pending_dispatch");
    check_step(
        &app,
        &s.dispatcher,
        &o,
        6,
        ev("dispatch", pd, "dispatched", "dispatcher", Some("dispatch"), Some(note)),
    )
    .await;
    assert_eq!(o["lead_unit"], "d440106");
    assert_eq!(o["assisting_units"], json!(["city-urban", "co-power"]));
    assert!(o["deadline"].is_string() && o["sign_deadline"].is_string(), "{o:?}");

    app.clock.advance(5 * MINUTE);
    let o = app.must(&n, "sign", &h, json!({})).await;
    let dispatched = Some("dispatched");
    check_step(&app, &h, &o, 7, ev("sign", dispatched, "in_progress", "handler.d440106", Some("d440106"), None)).await;

    app.clock.advance(HOUR);
    let reply = "经核查，路灯线路老化，已更换并恢复照明。";
    let o = app.must(&n, "reply", &h, json!({"content": reply, "solved": true})).await;
    let ip = Some("in_progress");
    check_step(&app, &h, &o, 8, ev("reply", ip, "replied", "handler.d440106", Some("d440106"), Some(reply))).await;
    assert_eq!(o["reply"]["content"], reply);
    assert_eq!(o["reply"]["solved"], true);
    assert_eq!(o["reply"]["unit"], "d440106");

    app.clock.advance(HOUR);
    let cb_note = "市民表示路灯已亮，满意";
    let o = app
        .must(&n, "callback", &s.callback, json!({"satisfaction": "satisfied", "solved": true, "note": cb_note}))
        .await;
    let replied = Some("replied");
    let events = check_step(
        &app,
        &s.callback,
        &o,
        9,
        ev("callback", replied, "closed", "callback", Some("hotline"), Some(cb_note)),
    )
    .await;
    assert_eq!(o["callback"]["satisfaction"], "satisfied");
    assert_eq!(o["callback"]["solved"], true);
    assert_eq!(o["closed_at"], o["updated_at"]);
    assert_eq!(o["reopens"], 0);
    assert_eq!(o["returns"], 0);

    // The log reads as the story of the order.
    let story: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        story,
        ["register", "submit", "send_back", "submit", "approve", "dispatch", "sign", "reply", "callback"]
    );
    // The stored order agrees with what the API answered.
    let (stored, count) = app.stored(&n).await;
    assert_eq!(count, 9);
    assert_eq!(stored["status"], "closed");
    assert_eq!(stored["version"], 9);
}
}

dual! {
async fn an_operator_closes_at_first_contact_with_each_kind() {
    let app = spawn_app().await;
    let s = app.staff().await;
    for (kind, expected) in [
        (None, "answered"),
        (Some("answered"), "answered"),
        (Some("referred"), "referred"),
        (Some("emergency_transferred"), "emergency_transferred"),
        (Some("not_accepted"), "not_accepted"),
    ] {
        let n = app.create(&s, sample_order()).await;
        let resolution = format!("已当场答复市民（{expected}）");
        let mut body = json!({"resolution": resolution});
        if let Some(k) = kind {
            body["kind"] = json!(k);
        }
        let o = app.must(&n, "close", &s.operator, body).await;
        let want = Ev {
            action: "close",
            from: Some("registered"),
            to: "closed",
            actor: "operator",
            unit: Some("hotline"),
            comment: Some(&resolution),
        };
        check_step(&app, &s.operator, &o, 2, want).await;
        assert_eq!(o["first_contact"]["kind"], expected, "{kind:?}");
        assert_eq!(o["first_contact"]["resolution"], resolution.as_str());
        assert!(o["closed_at"].is_string());
        assert_eq!(o["lead_unit"], Value::Null);
    }
}
}

dual! {
async fn a_lead_unit_returns_a_dispatched_order_and_the_dispatcher_sends_it_elsewhere() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let urban = app.login("handler.city-urban").await;
    let n = app.dispatched_order(&s, "city-urban", &["co-water"]).await;

    let reason = "不属于本单位职责，应由属地处理";
    let o = app.must(&n, "return", &urban, json!({"reason": reason})).await;
    let want = Ev {
        action: "return",
        from: Some("dispatched"),
        to: "pending_dispatch",
        actor: "handler.city-urban",
        unit: Some("city-urban"),
        comment: Some(reason),
    };
    check_step(&app, &s.dispatcher, &o, 5, want).await;
    assert_eq!(o["lead_unit"], Value::Null, "returning clears the lead unit");
    assert_eq!(o["assisting_units"], json!([]));
    assert_eq!(o["deadline"], Value::Null);
    assert_eq!(o["sign_deadline"], Value::Null);
    assert_eq!(o["returns"], 1);
    // The unit that returned it no longer has it.
    assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &urban).await.status, StatusCode::NOT_FOUND);

    let o = app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
    assert_eq!(o["status"], "dispatched");
    assert_eq!(o["lead_unit"], "d440106");
    assert_eq!(o["version"], 6);
    let h = app.login("handler.d440106").await;
    let o = app.must(&n, "sign", &h, json!({})).await;
    assert_eq!(o["status"], "in_progress");
    assert_eq!(o["returns"], 1);
}
}

dual! {
async fn a_lead_unit_returns_an_order_it_already_signed_for() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let urban = app.login("handler.city-urban").await;
    let n = app.signed_order(&s, "city-urban", &urban).await;

    let o = app.must(&n, "return", &urban, json!({"reason": "签收后发现属于住建部门职责"})).await;
    let want = Ev {
        action: "return",
        from: Some("in_progress"),
        to: "pending_dispatch",
        actor: "handler.city-urban",
        unit: Some("city-urban"),
        comment: Some("签收后发现属于住建部门职责"),
    };
    check_step(&app, &s.dispatcher, &o, 6, want).await;
    assert_eq!(o["lead_unit"], Value::Null);
    assert_eq!(o["returns"], 1);

    let o = app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "city-housing"})).await;
    assert_eq!(o["lead_unit"], "city-housing");
    let housing = app.login("handler.city-housing").await;
    let o = app.must(&n, "sign", &housing, json!({})).await;
    assert_eq!(o["status"], "in_progress");
    assert_eq!(o["version"], 8);
}
}

dual! {
async fn a_district_subdispatches_to_its_street_office_which_signs_while_the_district_still_sees_it() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let district = app.login("handler.d440106").await;
    let street = app.login("handler.s440106001").await;
    let n = app.dispatched_order(&s, "d440106", &[]).await;
    assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &street).await.status, StatusCode::NOT_FOUND);

    app.clock.advance(30 * MINUTE);
    let note = "请五山街道核实处理";
    let o = app.must(&n, "subdispatch", &district, json!({"unit": "s440106001", "note": note})).await;
    let want = Ev {
        action: "subdispatch",
        from: Some("dispatched"),
        to: "dispatched",
        actor: "handler.d440106",
        unit: Some("d440106"),
        comment: Some(note),
    };
    check_step(&app, &district, &o, 5, want).await;
    assert_eq!(o["lead_unit"], "s440106001");
    // A new hour to sign from the sub-dispatch (10:30 → 11:30); the handling deadline stays.
    assert_eq!(o["sign_deadline"], "2026-11-23T11:30:00.000+08:00");
    assert_eq!(o["deadline"], "2026-11-30T10:00:00.000+08:00");

    let o = app.must(&n, "sign", &street, json!({})).await;
    let want = Ev {
        action: "sign",
        from: Some("dispatched"),
        to: "in_progress",
        actor: "handler.s440106001",
        unit: Some("s440106001"),
        comment: None,
    };
    check_step(&app, &street, &o, 6, want).await;

    let r = app.get(&format!("/api/v1/orders/{n}"), &district).await;
    assert_eq!(r.status, StatusCode::OK, "the parent district still sees its street's order");
    assert_eq!(r.body["status"], "in_progress");
    assert_eq!(r.body["lead_unit"], "s440106001");
    assert_eq!(app.events(&n, &district).await.len(), 6);

    // The street replies as the new lead unit.
    let o = app.must(&n, "reply", &street, json!({"content": "已修复", "solved": true})).await;
    assert_eq!(o["status"], "replied");
    assert_eq!(o["reply"]["unit"], "s440106001");
}
}

dual! {
async fn a_lead_unit_may_subdispatch_after_signing_and_the_order_awaits_the_new_units_signature() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let district = app.login("handler.d440106").await;
    let n = app.signed_order(&s, "d440106", &district).await;
    let o = app.must(&n, "subdispatch", &district, json!({"unit": "d440106-urban"})).await;
    assert_eq!(o["status"], "dispatched");
    assert_eq!(o["lead_unit"], "d440106-urban");
    assert_eq!(o["version"], 6);
    let ev = app.events(&n, &district).await;
    assert_eq!(ev[5]["from_status"], "in_progress");
    assert_eq!(ev[5]["to_status"], "dispatched");
    let urban = app.login("handler.d440106-urban").await;
    assert_eq!(app.must(&n, "sign", &urban, json!({})).await["status"], "in_progress");
}
}

dual! {
async fn dispatch_at_ten_on_monday_sets_rfc3339_deadlines_in_local_time() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.dispatched_order(&s, "city-urban", &[]).await;
    let o = app.get(&format!("/api/v1/orders/{n}"), &s.dispatcher).await.body;
    // One working hour to sign; five working days (streetlight, normal) to finish.
    assert_eq!(o["sign_deadline"], "2026-11-23T11:00:00.000+08:00");
    assert_eq!(o["deadline"], "2026-11-30T10:00:00.000+08:00");
    assert_eq!(o["created_at"], "2026-11-23T10:00:00.000+08:00");
    for key in ["deadline", "sign_deadline", "created_at", "updated_at"] {
        let t = o[key].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(t).is_ok(), "{key} = {t} is not RFC 3339");
        assert!(t.ends_with("+08:00"), "{key} = {t}");
    }
}
}

dual! {
async fn urgent_and_emergency_orders_get_shorter_deadlines() {
    let app = spawn_app().await;
    let s = app.staff().await;
    for (urgency, sign, deadline) in [
        // One working day; one working hour to sign.
        ("urgent", "2026-11-23T11:00:00.000+08:00", "2026-11-24T10:00:00.000+08:00"),
        // Two wall-clock hours; ten minutes to sign.
        ("emergency", "2026-11-23T10:10:00.000+08:00", "2026-11-23T12:00:00.000+08:00"),
    ] {
        let mut body = sample_order();
        body["urgency"] = json!(urgency);
        let n = app.pending_order(&s, body).await;
        let o = app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "city-urban"})).await;
        assert_eq!(o["urgency"], urgency);
        assert_eq!(o["sign_deadline"], sign, "{urgency}");
        assert_eq!(o["deadline"], deadline, "{urgency}");
    }
}
}

dual! {
async fn working_time_deadlines_skip_the_weekend() {
    let app = spawn_app().await;
    // Friday 2026-11-27 17:00 +08:00.
    app.clock.set(T0 + 4 * 24 * HOUR + 7 * HOUR);
    let s = app.staff().await;
    let n = app.dispatched_order(&s, "city-urban", &[]).await;
    let o = app.get(&format!("/api/v1/orders/{n}"), &s.dispatcher).await.body;
    assert!(n.starts_with("20261127"), "{n}");
    // Half an hour on Friday, half an hour on Monday morning.
    assert_eq!(o["sign_deadline"], "2026-11-30T09:00:00.000+08:00");
    // Five working days of 7 hours from Friday 17:00.
    assert_eq!(o["deadline"], "2026-12-04T17:00:00.000+08:00");
}
}

dual! {
async fn urge_and_note_are_accepted_in_every_open_state() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.city-urban").await;
    let n = app.create(&s, sample_order()).await;
    let steps = [
        ("submit", &s.operator, json!({})),
        ("approve", &s.reviewer, json!({})),
        ("dispatch", &s.dispatcher, json!({"lead_unit": "city-urban"})),
        ("sign", &h, json!({})),
        ("reply", &h, json!({"content": "已处理", "solved": true})),
    ];
    let mut version = 1;
    let mut status = "registered".to_owned();
    for (i, (action, tok, body)) in steps.into_iter().enumerate() {
        let o = app.must(&n, "urge", &s.supervisor, json!({"note": format!("督办{i}"), "level": 1 + i % 3})).await;
        assert_eq!(o["status"], status.as_str());
        assert_eq!(o["version"], version + 1);
        assert_eq!(o["urges"], i + 1);
        let o = app.must(&n, "note", &s.operator, json!({"text": format!("备注{i}")})).await;
        assert_eq!(o["status"], status.as_str());
        assert_eq!(o["version"], version + 2);
        let o = app.must(&n, action, tok, body).await;
        version += 3;
        assert_eq!(o["version"], version);
        status = o["status"].as_str().unwrap().to_owned();
    }
    assert_eq!(status, "replied");
    let o = app.must(&n, "urge", &s.supervisor, json!({"note": "尽快回访"})).await;
    assert_eq!(o["status"], "replied");
    let o = app.must(&n, "note", &h, json!({"text": "已电话联系市民"})).await;
    assert_eq!(o["status"], "replied");
    assert_eq!(o["version"], version + 2);
    assert_eq!(app.events(&n, &s.operator).await.len() as i64, version + 2);
}
}

dual! {
async fn subdispatching_to_an_assisting_sub_unit_makes_it_the_lead_and_no_longer_an_assistant() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let district = app.login("handler.d440106").await;
    let n = app.dispatched_order(&s, "d440106", &["s440106001", "co-power"]).await;
    let o = app.must(&n, "subdispatch", &district, json!({"unit": "s440106001"})).await;
    assert_eq!(o["lead_unit"], "s440106001");
    assert_eq!(o["assisting_units"], json!(["co-power"]));
    // The district, now neither lead nor assisting, still sees it as the street's parent.
    assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &district).await.status, StatusCode::OK);
}
}

dual! {
async fn an_approved_extension_moves_the_deadline_to_the_requested_time() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let urban = app.login("handler.city-urban").await;
    let n = app.signed_order(&s, "city-urban", &urban).await;
    let before = app.get(&format!("/api/v1/orders/{n}"), &urban).await.body;
    assert_eq!(before["deadline"], "2026-11-30T10:00:00.000+08:00");

    let reason = "需协调供电部门更换线缆";
    let o = app
        .must(&n, "request_extension", &urban, json!({"until": "2026-12-04T17:00:00+08:00", "reason": reason}))
        .await;
    let want = Ev {
        action: "request_extension",
        from: Some("in_progress"),
        to: "in_progress",
        actor: "handler.city-urban",
        unit: Some("city-urban"),
        comment: Some(reason),
    };
    check_step(&app, &urban, &o, 6, want).await;
    assert_eq!(o["deadline"], before["deadline"], "a request alone changes no deadline");
    assert_eq!(o["pending_extension"]["until"], "2026-12-04T17:00:00.000+08:00");
    assert_eq!(o["pending_extension"]["requested_by"], "handler.city-urban");

    let o = app.must(&n, "decide_extension", &s.dispatcher, json!({"approve": true, "note": "同意"})).await;
    let want = Ev {
        action: "decide_extension",
        from: Some("in_progress"),
        to: "in_progress",
        actor: "dispatcher",
        unit: Some("dispatch"),
        comment: Some("同意"),
    };
    check_step(&app, &urban, &o, 7, want).await;
    assert_eq!(o["deadline"], "2026-12-04T17:00:00.000+08:00");
    assert_eq!(o["pending_extension"], Value::Null);
    assert_eq!(o["extensions_granted"], 1);
}
}

dual! {
async fn a_denied_extension_leaves_the_deadline_unchanged() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let urban = app.login("handler.city-urban").await;
    // Requested while still `dispatched`, decided by a supervisor.
    let n = app.dispatched_order(&s, "city-urban", &[]).await;
    let o = app
        .must(&n, "request_extension", &urban, json!({"until": "2026-12-10T10:00:00+08:00", "reason": "材料未齐"}))
        .await;
    assert_eq!(o["status"], "dispatched");
    assert_eq!(o["version"], 5);
    let o = app.must(&n, "decide_extension", &s.supervisor, json!({"approve": false})).await;
    let want = Ev {
        action: "decide_extension",
        from: Some("dispatched"),
        to: "dispatched",
        actor: "supervisor",
        unit: Some("hotline"),
        comment: None,
    };
    check_step(&app, &urban, &o, 6, want).await;
    assert_eq!(o["deadline"], "2026-11-30T10:00:00.000+08:00");
    assert_eq!(o["pending_extension"], Value::Null);
    assert_eq!(o["extensions_granted"], 0);
}
}

dual! {
async fn an_unsatisfied_callback_reopens_the_order_at_the_same_unit_with_a_new_deadline() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.d440106").await;
    let n = app.replied_order(&s, "d440106", &h).await;
    let first_deadline = app.get(&format!("/api/v1/orders/{n}"), &h).await.body["deadline"].clone();
    assert_eq!(first_deadline, "2026-11-30T10:00:00.000+08:00");

    app.clock.advance(2 * HOUR); // Monday 12:00
    let o = app
        .must(
            &n,
            "callback",
            &s.callback,
            json!({"satisfaction": "unsatisfied", "solved": false, "note": "路灯仍不亮"}),
        )
        .await;
    let want = Ev {
        action: "callback",
        from: Some("replied"),
        to: "in_progress",
        actor: "callback",
        unit: Some("hotline"),
        comment: Some("路灯仍不亮"),
    };
    check_step(&app, &h, &o, 7, want).await;
    assert_eq!(o["lead_unit"], "d440106", "重办 stays with the same unit");
    assert_eq!(o["reopens"], 1);
    assert_eq!(o["reply"], Value::Null);
    assert_eq!(o["callback"]["satisfaction"], "unsatisfied");
    // Five working days from Monday 12:00 again.
    assert_eq!(o["deadline"], "2026-11-30T12:00:00.000+08:00");
    assert_ne!(o["deadline"], first_deadline);
    assert_eq!(o["closed_at"], Value::Null);

    let o = app.must(&n, "reply", &h, json!({"content": "已重新检修线路", "solved": true})).await;
    assert_eq!(o["status"], "replied");
    assert_eq!(o["version"], 8);
    let o = app.must(&n, "callback", &s.callback, json!({"satisfaction": "basically_satisfied", "solved": true})).await;
    assert_eq!(o["status"], "closed");
    assert_eq!(o["version"], 9);
    assert_eq!(o["reopens"], 1);
    assert!(o["closed_at"].is_string());
}
}

dual! {
async fn an_unreachable_caller_still_closes_the_order() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.city-urban").await;
    let n = app.replied_order(&s, "city-urban", &h).await;
    let o = app.must(&n, "callback", &s.callback, json!({"satisfaction": "unreachable", "solved": false})).await;
    assert_eq!(o["status"], "closed");
    assert_eq!(o["reopens"], 0);
}
}

dual! {
async fn a_supervisor_reopens_a_closed_order_for_dispatch() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let h = app.login("handler.city-urban").await;
    let n = app.closed_order(&s, "city-urban", &h).await;
    let reason = "媒体曝光问题反复，重新办理";
    let o = app.must(&n, "reopen", &s.supervisor, json!({"reason": reason})).await;
    let want = Ev {
        action: "reopen",
        from: Some("closed"),
        to: "pending_dispatch",
        actor: "supervisor",
        unit: Some("hotline"),
        comment: Some(reason),
    };
    check_step(&app, &s.supervisor, &o, 8, want).await;
    assert_eq!(o["lead_unit"], Value::Null);
    assert_eq!(o["reopens"], 1);
    assert_eq!(o["closed_at"], Value::Null);
    assert_eq!(o["reply"], Value::Null);
    let o = app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
    assert_eq!(o["status"], "dispatched");
}
}

dual! {
async fn an_operator_or_dispatcher_merges_a_duplicate_into_another_open_order() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let target = app.create(&s, sample_order()).await;
    let dup = app.create(&s, sample_order()).await;
    let o = app.must(&dup, "merge", &s.operator, json!({"into": target})).await;
    let want = Ev {
        action: "merge",
        from: Some("registered"),
        to: "merged",
        actor: "operator",
        unit: Some("hotline"),
        comment: Some(&target),
    };
    check_step(&app, &s.operator, &o, 2, want).await;
    assert_eq!(o["merged_into"], target.as_str());
    assert!(o["closed_at"].is_string());
    // The target is untouched.
    let t = app.get(&format!("/api/v1/orders/{target}"), &s.operator).await.body;
    assert_eq!(t["status"], "registered");
    assert_eq!(t["version"], 1);

    let dup2 = app.pending_order(&s, sample_order()).await;
    let o = app.must(&dup2, "merge", &s.dispatcher, json!({"into": target})).await;
    assert_eq!(o["status"], "merged");
    assert_eq!(o["merged_into"], target.as_str());
    assert_eq!(o["version"], 4);
}
}

dual! {
async fn a_reviewer_or_dispatcher_cancels_an_open_order() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.create(&s, sample_order()).await;
    app.must(&n, "submit", &s.operator, json!({})).await;
    let o = app.must(&n, "cancel", &s.reviewer, json!({"reason": "重复登记"})).await;
    let want = Ev {
        action: "cancel",
        from: Some("in_review"),
        to: "cancelled",
        actor: "reviewer",
        unit: Some("hotline"),
        comment: Some("重复登记"),
    };
    check_step(&app, &s.reviewer, &o, 3, want).await;
    assert!(o["closed_at"].is_string());

    let n = app.pending_order(&s, sample_order()).await;
    let o = app.must(&n, "cancel", &s.dispatcher, json!({"reason": "市民撤回诉求"})).await;
    let want = Ev {
        action: "cancel",
        from: Some("pending_dispatch"),
        to: "cancelled",
        actor: "dispatcher",
        unit: Some("dispatch"),
        comment: Some("市民撤回诉求"),
    };
    check_step(&app, &s.dispatcher, &o, 4, want).await;
}
}

dual! {
async fn a_supervisor_urges_an_open_order_without_changing_its_status() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.dispatched_order(&s, "city-urban", &[]).await;
    let o = app.must(&n, "urge", &s.supervisor, json!({"note": "请加快办理", "level": 2})).await;
    let want = Ev {
        action: "urge",
        from: Some("dispatched"),
        to: "dispatched",
        actor: "supervisor",
        unit: Some("hotline"),
        comment: Some("请加快办理"),
    };
    check_step(&app, &s.supervisor, &o, 5, want).await;
    assert_eq!(o["urges"], 1);
    assert_eq!(o["lead_unit"], "city-urban");
    // Level is optional.
    let o = app.must(&n, "urge", &s.supervisor, json!({"note": "再次督办"})).await;
    assert_eq!(o["urges"], 2);
    assert_eq!(o["version"], 6);
    // Also before dispatch.
    let r = app.create(&s, sample_order()).await;
    assert_eq!(
        app.must(&r, "urge", &s.supervisor, json!({"note": "尽快审核", "level": 3})).await["status"],
        "registered"
    );
}
}

dual! {
async fn a_handler_of_an_assisting_unit_adds_a_note() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let power = app.login("handler.co-power").await;
    let n = app.dispatched_order(&s, "city-urban", &["co-power"]).await;
    let text = "供电局已安排抢修班组配合";
    let o = app.must(&n, "note", &power, json!({"text": text})).await;
    let want = Ev {
        action: "note",
        from: Some("dispatched"),
        to: "dispatched",
        actor: "handler.co-power",
        unit: Some("co-power"),
        comment: Some(text),
    };
    check_step(&app, &power, &o, 5, want).await;
    // The leader, who only watches, may note too: anyone who sees the order.
    let o = app.must(&n, "note", &s.leader, json!({"text": "请各单位协同"})).await;
    assert_eq!(o["version"], 6);
    let ev = app.events(&n, &s.leader).await;
    assert_eq!(ev[5]["actor"], "leader");
    assert_eq!(ev[5]["unit"], Value::Null);
}
}

dual! {
async fn a_callers_history_lists_their_orders_newest_first_in_pages() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let phone = "13900000001";
    let mut mine = Vec::new();
    for i in 0..5 {
        let mut body = sample_order();
        body["caller"]["phone"] = json!(phone);
        body["content"] = json!(format!("第{i}次来电反映路灯问题。"));
        mine.push(app.create(&s, body).await);
        app.clock.advance(MINUTE);
        // Someone else calls in between.
        app.create(&s, sample_order()).await;
    }
    mine.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/callers/{phone}/orders?limit=2&cursor={c}"),
            None => format!("/api/v1/callers/{phone}/orders?limit=2"),
        };
        let r = app.get(&path, &s.operator).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        for it in items {
            assert_eq!(it["caller"]["phone"], phone);
            seen.push(number_of(it));
        }
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(seen, mine, "newest first, each exactly once");
    assert_eq!(pages, 3);

    // Without a limit all five come at once.
    let r = app.get(&format!("/api/v1/callers/{phone}/orders"), &s.operator).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(r.body["next_cursor"], Value::Null);
}
}

fn numbers(body: &Value) -> Vec<String> {
    body["items"].as_array().expect("a list has items").iter().map(number_of).collect()
}

dual! {
async fn order_numbers_follow_the_local_day_and_restart_at_local_midnight() {
    let app = spawn_app().await;
    // 23:59 on Monday, local time (15:59 UTC).
    app.clock.set(T0 + 13 * HOUR + 59 * MINUTE);
    let s = app.staff().await;
    let monday: Vec<String> = [app.create(&s, sample_order()).await, app.create(&s, sample_order()).await].into();
    // Local midnight is 16:00 UTC: a new day, a new sequence.
    app.clock.advance(MINUTE);
    let tuesday = app.create(&s, sample_order()).await;
    assert_eq!(monday, ["2026112300001", "2026112300002"]);
    assert_eq!(tuesday, "2026112400001");
    let o = app.get(&format!("/api/v1/orders/{tuesday}"), &s.operator).await.body;
    assert_eq!(o["created_at"], "2026-11-24T00:00:00.000+08:00");
    // Newest first across days.
    let r = app.get("/api/v1/orders", &s.operator).await;
    assert_eq!(numbers(&r.body), ["2026112400001", "2026112300002", "2026112300001"]);
}
}

dual! {
async fn the_order_list_is_newest_first_and_filters_by_each_parameter() {
    let app = spawn_app().await;
    let s = app.staff().await;
    // a: phone complaint about a streetlight in 五山 (天河), 10:00, registered.
    let a_num = app.create(&s, sample_order()).await;
    // b: web consultation on property service in another 天河 street, 11:00.
    app.clock.advance(HOUR);
    let mut body = sample_order();
    body["channel"] = json!("web");
    body["request_type"] = json!("consultation");
    body["category"] = json!("housing.property.property-service");
    body["location"]["street"] = json!("440106002");
    let b_num = app.create(&s, body).await;
    // c: app report on street vending in 越秀, 12:00, in review.
    app.clock.advance(HOUR);
    let mut body = sample_order();
    body["channel"] = json!("app");
    body["request_type"] = json!("report");
    body["category"] = json!("urban.order.street-vending");
    body["location"]["street"] = json!("440104001");
    let c_num = app.create(&s, body).await;
    app.must(&c_num, "submit", &s.operator, json!({})).await;
    // d: a streetlight again, 13:00, dispatched to the city's urban bureau with the water company assisting.
    app.clock.advance(HOUR);
    let d_num = app.dispatched_order(&s, "city-urban", &["co-water"]).await;
    let (a, b, c, d) = (a_num.as_str(), b_num.as_str(), c_num.as_str(), d_num.as_str());

    let list = |q: &'static str| {
        let app = &app;
        let tok = s.dispatcher.clone();
        async move {
            let r = app.get(&format!("/api/v1/orders{q}"), &tok).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {:?}", r.body);
            numbers(&r.body)
        }
    };
    assert_eq!(list("").await, [d, c, b, a], "newest first");
    assert_eq!(list("?status=registered").await, [b, a]);
    assert_eq!(list("?status=registered,in_review").await, [c, b, a]);
    assert_eq!(list("?status=in_review,dispatched").await, [d, c]);
    assert_eq!(list("?category=urban.facilities.streetlight-out").await, [d, a]);
    assert_eq!(list("?category=urban").await, [d, c, a], "a group selects all its leaves");
    assert_eq!(list("?category=urban.order").await, [c]);
    assert_eq!(list("?category=housing").await, [b]);
    assert_eq!(list("?unit=city-urban").await, [d]);
    assert_eq!(list("?unit=co-water").await, [d], "assisting units count");
    assert_eq!(list("?unit=city-housing").await, Vec::<String>::new());
    assert_eq!(list("?street=440106002").await, [b]);
    assert_eq!(list("?street=440106001").await, [d, a]);
    assert_eq!(list("?request_type=consultation").await, [b]);
    assert_eq!(list("?request_type=complaint").await, [d, a]);
    assert_eq!(list("?channel=web").await, [b]);
    assert_eq!(list("?channel=app").await, [c]);
    // created_from is inclusive, created_to exclusive (11:00 and 13:00 local).
    assert_eq!(list("?created_from=2026-11-23T11:00:00%2B08:00").await, [d, c, b]);
    assert_eq!(list("?created_to=2026-11-23T13:00:00%2B08:00").await, [c, b, a]);
    assert_eq!(list("?created_from=2026-11-23T03:00:00Z&created_to=2026-11-23T05:00:00Z").await, [c, b]);
    // Filters combine.
    assert_eq!(list("?category=urban&status=registered").await, [a]);
    assert_eq!(list("?street=440106001&channel=phone&request_type=complaint&status=dispatched").await, [d]);
    assert_eq!(list("?status=closed").await.len(), 0);
    assert_eq!(list("?limit=2").await, [d, c]);
}
}

dual! {
async fn the_order_list_pages_by_cursor_with_a_default_and_a_maximum_limit() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let mut created = Vec::new();
    for i in 0..205 {
        let mut body = sample_order();
        body["caller"]["phone"] = json!(format!("1390000{i:04}"));
        created.push(app.create(&s, body).await);
    }
    created.reverse();

    let r = app.get("/api/v1/orders", &s.operator).await;
    assert_eq!(numbers(&r.body), created[..20], "limit defaults to 20");
    assert!(r.body["next_cursor"].is_string());

    let r = app.get("/api/v1/orders?limit=1000", &s.operator).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(numbers(&r.body).len(), 200, "limit is clamped to 200");
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    let r = app.get(&format!("/api/v1/orders?limit=1000&cursor={cursor}"), &s.operator).await;
    assert_eq!(numbers(&r.body), created[200..]);
    assert_eq!(r.body["next_cursor"], Value::Null);

    // Small pages visit every order exactly once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/orders?limit=7&cursor={c}"),
            None => "/api/v1/orders?limit=7".to_owned(),
        };
        let r = app.get(&path, &s.operator).await;
        let page = numbers(&r.body);
        assert!(page.len() <= 7);
        seen.extend(page);
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);

    // When the last page is exactly full it says so: no empty page follows.
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    let mut total = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/orders?limit=41&cursor={c}"),
            None => "/api/v1/orders?limit=41".to_owned(),
        };
        let r = app.get(&path, &s.operator).await;
        let page = numbers(&r.body);
        assert_eq!(page.len(), 41, "205 = 5 × 41: every page is full");
        total += page.len();
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!((pages, total), (5, 205));

    // A filtered list pages too.
    let r = app.get("/api/v1/orders?status=registered&limit=200", &s.operator).await;
    assert_eq!(numbers(&r.body).len(), 200);
    let c = r.body["next_cursor"].as_str().unwrap().to_owned();
    let r = app.get(&format!("/api/v1/orders?status=registered&limit=200&cursor={c}"), &s.operator).await;
    assert_eq!(numbers(&r.body).len(), 5);
}
}

dual! {
async fn concurrent_registrations_get_distinct_consecutive_numbers() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (http, url, tok) = (app.http.clone(), app.url("/api/v1/orders"), s.operator.clone());
        let mut body = sample_order();
        body["caller"]["phone"] = json!(format!("1370000{i:04}"));
        tasks.spawn(async move {
            let r = http.post(url).bearer_auth(tok).json(&body).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            number_of(&r.json::<Value>().await.unwrap())
        });
    }
    let got: BTreeSet<String> = tasks.join_all().await.into_iter().collect();
    let want: BTreeSet<String> = (1..=20).map(|i| format!("20261123{i:05}")).collect();
    assert_eq!(got, want);
}
}

dual! {
async fn of_concurrent_actions_on_the_same_version_exactly_one_wins() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.dispatched_order(&s, "city-urban", &[]).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let url = app.url(&format!("/api/v1/orders/{n}/actions/note"));
        let (http, tok) = (app.http.clone(), s.leader.clone());
        tasks.spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(tok)
                .json(&json!({"text": format!("并发{i}"), "version": 4}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
        });
    }
    let results = tasks.join_all().await;
    let ok = results.iter().filter(|(st, _)| *st == StatusCode::OK).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|(st, _)| *st != StatusCode::OK)
            .all(|(st, code)| *st == StatusCode::CONFLICT && code == "stale_version"),
        "{results:?}"
    );
    let (o, count) = app.stored(&n).await;
    assert_eq!((o["version"].as_i64(), count), (Some(5), 5));
}
}

dual! {
async fn a_derived_title_is_what_the_caller_said_never_a_prompt_line() {
    let app = spawn_app().await;
    let s = app.staff().await;
    // Without a title, the start of the content is the title.
    let mut body = sample_order();
    body.as_object_mut().unwrap().remove("title");
    let r = app.post("/api/v1/orders", &s.operator, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["title"], "天河路口的路灯连续三晚不亮，夜里很危险");
    // The leaf's prompts filled in first, the caller's words after them.
    body["content"] = json!("具体地址和路灯杆编号：天河路1号 L-0031\n故障范围（单盏还是整段）：整段\n故障开始时间：\n居民说整条路都黑了三天，老人晚上不敢出门。");
    let r = app.post("/api/v1/orders", &s.operator, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["title"], "居民说整条路都黑了三天，老人晚上不敢出门");
    // Only answers to the prompts: they make the title, never the prompts' own words.
    body["content"] = json!("具体地址和路灯杆编号：天河路1号\n故障范围（单盏还是整段）：整段");
    let r = app.post("/api/v1/orders", &s.operator, body).await;
    assert_eq!(r.body["title"], "天河路1号，整段");
}
}

/// Milliseconds of an RFC 3339 field.
fn ms(v: &Value) -> i64 {
    lianxin_domain::calendar::Calendar::parse_rfc3339(v.as_str().expect("a time")).expect("RFC 3339")
}

dual! {
async fn a_correction_before_dispatch_is_one_event_with_before_and_after_and_the_deadline_follows_it() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.pending_order(&s, sample_order()).await;
    let plain = app.pending_order(&s, sample_order()).await;
    let fix = json!({"category": "urban.facilities.manhole-cover", "urgency": "urgent",
                     "location": {"street": "440106002", "address": "员村二横路"}, "note": "实为井盖缺失"});
    app.refused(&n, "correct", &s.operator, fix.clone(), StatusCode::FORBIDDEN, "forbidden_role").await;
    app.refused(&n, "correct", &s.dispatcher, json!({"note": "x"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_values").await;
    let same = json!({"category": "urban.facilities.streetlight-out", "urgency": "normal"});
    app.refused(&n, "correct", &s.dispatcher, same, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values").await;
    app.refused(&n, "correct", &s.dispatcher, json!({"category": "urban.facilities"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_values").await;
    assert_eq!(app.events(&n, &s.dispatcher).await.len(), 3, "refusals append nothing");

    let o = app.must(&n, "correct", &s.dispatcher, fix).await;
    assert_eq!(o["status"], "pending_dispatch", "a correction changes no status");
    assert_eq!(o["category"], "urban.facilities.manhole-cover");
    assert_eq!(o["urgency"], "urgent");
    assert_eq!(o["location"]["street"], "440106002");
    assert_eq!(o["location"]["address"], "员村二横路");
    let events = app.events(&n, &s.dispatcher).await;
    assert_eq!(events.len(), 4, "one event");
    let last = &events[3];
    assert_eq!((last["action"].as_str(), last["from_status"].as_str(), last["to_status"].as_str()),
               (Some("correct"), Some("pending_dispatch"), Some("pending_dispatch")));
    assert_eq!(last["comment"], "实为井盖缺失");
    // Lists filter on the corrected facts.
    let r = app.get("/api/v1/orders?category=urban.facilities.manhole-cover", &s.dispatcher).await;
    let found: Vec<&str> = r.body["items"].as_array().unwrap().iter().filter_map(|o| o["number"].as_str()).collect();
    assert!(found.contains(&n.as_str()), "{found:?}");
    // Dispatched at the same moment: the corrected order's limit is the manhole's urgent
    // 4 working hours, the other's the streetlight's 5 working days.
    let a = app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
    let b = app.must(&plain, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
    let (da, db) = (ms(&a["deadline"]), ms(&b["deadline"]));
    assert!(da < db, "corrected {} vs plain {}", a["deadline"], b["deadline"]);
    assert!(da - ms(&a["updated_at"]) <= 3 * 86_400_000, "4 working hours end within 3 days: {}", a["deadline"]);
    // After dispatch there is nothing left to correct.
    app.refused(&n, "correct", &s.dispatcher, json!({"urgency": "normal"}), StatusCode::CONFLICT, "illegal_transition").await;
}
}

dual! {
async fn a_repeat_call_added_to_an_open_order_counts_as_a_repeat_contact_and_writes_no_order() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let n = app.dispatched_order(&s, "d440106", &[]).await;
    let kpis = || async {
        let r = app.get("/api/v1/stats/kpis?from=2026-11-01&to=2026-12-31", &s.leader).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r.body["rows"][0]["kpis"].clone()
    };
    let before = kpis().await;
    let orders = app.order_count().await;
    let call = json!({"content": "居民再次来电：路灯仍未修好。", "channel": "phone"});
    app.refused(&n, "add_contact", &s.dispatcher, call.clone(), StatusCode::FORBIDDEN, "forbidden_role").await;
    app.refused(&n, "add_contact", &s.operator, json!({"channel": "phone"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_values").await;
    let o = app.must(&n, "add_contact", &s.operator, call).await;
    assert_eq!(o["status"], "dispatched");
    assert_eq!(app.order_count().await, orders, "no new order");
    let events = app.events(&n, &s.operator).await;
    let last = events.last().unwrap();
    assert_eq!((last["action"].as_str(), last["comment"].as_str()), (Some("add_contact"), Some("居民再次来电：路灯仍未修好。")));
    let after = kpis().await;
    let count = |k: &Value, c: &str| k["counts"][c].as_i64().unwrap_or(0);
    assert_eq!(count(&after, "registered"), count(&before, "registered"));
    assert_eq!(count(&after, "contacts"), count(&before, "contacts") + 1);
    assert_eq!(count(&after, "repeat"), count(&before, "repeat") + 1);
    let rate = after["repeat_contact_rate"].as_f64().unwrap();
    let want = count(&after, "repeat") as f64 / count(&after, "contacts") as f64;
    assert!((rate - want).abs() < 1e-9, "{rate} vs {want}");
    // The lead unit hears the resident pressed again.
    let h = app.login("handler.d440106").await;
    let r = app.get("/api/v1/notifications", &h).await;
    let kinds: Vec<&str> = r.body["items"].as_array().map(|a| a.iter().filter_map(|x| x["kind"].as_str()).collect()).unwrap_or_default();
    assert!(kinds.contains(&"contact"), "{:?}", r.body);
    // A closed order takes no more contacts: that is a new order.
    let hc = app.login("handler.city-urban").await;
    let closed = app.closed_order(&s, "city-urban", &hc).await;
    app.refused(&closed, "add_contact", &s.operator, json!({"content": "又来电"}), StatusCode::CONFLICT, "illegal_transition").await;
}
}
