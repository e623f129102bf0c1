//! Incidents (issue 11): many orders about one event answered once.

use crate::kit::*;
use reqwest::StatusCode;
use serde_json::json;

crate::dual! {
    async fn thirty_flood_orders_in_one_district_become_one_incident_answered_once() {
        let app = spawn_app().await;
        let s = app.staff().await;
        let h = app.login("handler.d440106").await;
        let mut numbers = Vec::new();
        // 30 calls within an hour about flooding in Tianhe, from 30 callers, on 3 streets.
        for i in 0..30 {
            let mut body = sample_order();
            body["category"] = json!("emergency.flood-typhoon");
            body["request_type"] = json!("help");
            body["content"] = json!(format!("暴雨后小区门口水浸到膝盖，车库进水了（第{i}位来电人）。"));
            body["caller"] = json!({"phone": format!("1380000{:04}", 1000 + i), "name": "来电人", "confidential": false});
            let street = ["440106001", "440106002", "440106003"][i % 3];
            body["location"] = json!({"street": street});
            numbers.push(app.create(&s, body).await);
            app.clock.advance(2 * 60_000);
        }
        // Two orders that are not part of it: another district, another category.
        let mut other = sample_order();
        other["location"] = json!({"street": "440103001"});
        other["category"] = json!("emergency.flood-typhoon");
        let elsewhere = app.create(&s, other).await;
        let lamp = app.create(&s, sample_order()).await;

        let r = app.post("/api/v1/incidents/detect", &s.dispatcher, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let made = r.body["items"].as_array().unwrap();
        assert_eq!(made.len(), 1, "{:?}", r.body);
        let incident = made[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(made[0]["status"], "proposed");
        let mut got: Vec<String> = made[0]["orders"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_owned()).collect();
        got.sort();
        let mut want = numbers.clone();
        want.sort();
        assert_eq!(got, want, "exactly the 30");
        assert!(!got.contains(&elsewhere) && !got.contains(&lamp));
        // Detecting again proposes nothing new.
        let again = app.post("/api/v1/incidents/detect", &s.dispatcher, json!({})).await;
        assert!(again.body["items"].as_array().unwrap().is_empty());
        // Replying before it is confirmed is refused.
        let early = app.post(&format!("/api/v1/incidents/{incident}/reply"), &h, json!({"content": "x", "solved": true})).await;
        assert_error(&early, StatusCode::CONFLICT, "illegal_transition");
        let r = app.post(&format!("/api/v1/incidents/{incident}/confirm"), &s.dispatcher, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["status"], "confirmed");

        // Each order is reviewed, dispatched to the district and signed as usual…
        for n in &numbers {
            app.must(n, "submit", &s.operator, json!({})).await;
            app.must(n, "approve", &s.reviewer, json!({})).await;
            app.must(n, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
            app.must(n, "sign", &h, json!({})).await;
        }
        // …and one reply answers all 30, each with its own event.
        let reply = "排水抢险队已到场抽排，积水已退，车库积水正在清理。";
        let r = app.post(&format!("/api/v1/incidents/{incident}/reply"), &h, json!({"content": reply, "solved": true})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["replied"].as_array().unwrap().len(), 30, "{:?}", r.body);
        assert!(r.body["refused"].as_array().unwrap().is_empty());
        for n in &numbers {
            let events = app.events(n, &s.operator).await;
            let last = events.last().unwrap();
            assert_eq!(last["action"], "reply");
            assert_eq!(events.iter().filter(|e| e["action"] == "reply").count(), 1);
        }
        // The callbacks then close each one.
        for n in &numbers {
            let o = app.must(n, "callback", &s.callback, json!({"satisfaction": "satisfied", "solved": true})).await;
            assert_eq!(o["status"], "closed", "{o:?}");
        }
        for n in &numbers {
            assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &s.operator).await.body["status"], "closed");
        }
        // A second, later order about the flood joins the incident.
        let list = app.get("/api/v1/incidents?status=confirmed", &s.dispatcher).await;
        assert_eq!(list.body["items"][0]["id"], incident.as_str());
        let r = app.post(&format!("/api/v1/incidents/{incident}/orders"), &s.operator, json!({"numbers": [elsewhere]})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["incident"]["orders"].as_array().unwrap().len(), 31);
    }

}

crate::dual! {
    async fn a_confirmed_incident_is_offered_at_intake_and_its_rule_is_the_admins_to_set() {
        let app = spawn_app().await;
        let s = app.staff().await;
        let admin = app.login("admin").await;
        // The admin lowers the rule to 3 orders in an hour; others may not, bad values are named.
        let r = app.request(reqwest::Method::PUT, "/api/v1/incidents/rule", Some(&s.dispatcher),
            Some(json!({"min_orders": 3, "window_minutes": 60}).to_string())).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
        let r = app.request(reqwest::Method::PUT, "/api/v1/incidents/rule", Some(&admin),
            Some(json!({"min_orders": 1, "window_minutes": 5}).to_string())).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        let f = &r.body["error"]["fields"];
        assert!(f["min_orders"].is_string() && f["window_minutes"].is_string(), "{:?}", r.body);
        let unchanged = app.get("/api/v1/incidents/rule", &s.dispatcher).await.body;
        assert_eq!(unchanged, json!({"min_orders": 10, "window_minutes": 120}), "the refusals changed nothing");
        let r = app.request(reqwest::Method::PUT, "/api/v1/incidents/rule", Some(&admin),
            Some(json!({"min_orders": 3, "window_minutes": 60}).to_string())).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(app.get("/api/v1/incidents/rule", &s.dispatcher).await.body["min_orders"], 3);

        let flood = |i: usize, street: &str| {
            let mut body = sample_order();
            body["category"] = json!("emergency.flood-typhoon");
            body["content"] = json!(format!("暴雨后路口积水很深，车开不过去（{i}）"));
            body["caller"] = json!({"phone": format!("1390000{:04}", 2000 + i), "name": "来电人", "confidential": false});
            body["location"] = json!({"street": street});
            body
        };
        for i in 0..3 {
            app.create(&s, flood(i, "440106001")).await;
        }
        let made = app.post("/api/v1/incidents/detect", &s.dispatcher, json!({})).await;
        let id = made.body["items"][0]["id"].as_str().unwrap().to_owned();
        // Proposed only: nothing is offered at intake yet.
        let ask = json!({"content": "我家门口积水很深", "category": "emergency.flood-typhoon", "street": "440106002"});
        let before = app.post("/api/v1/suggest", &s.operator, ask.clone()).await;
        assert!(before.body["incidents"].as_array().unwrap().is_empty(), "{:?}", before.body["incidents"]);
        app.post(&format!("/api/v1/incidents/{id}/confirm"), &s.dispatcher, json!({})).await;
        // Confirmed: a caller on another street of the same district is offered it…
        let after = app.post("/api/v1/suggest", &s.operator, ask).await;
        assert_eq!(after.body["incidents"][0]["id"], id.as_str(), "{:?}", after.body["incidents"]);
        // …but not one in another district, nor another matter.
        let there = app.post("/api/v1/suggest", &s.operator,
            json!({"content": "积水", "category": "emergency.flood-typhoon", "street": "440103001"})).await;
        assert!(there.body["incidents"].as_array().unwrap().is_empty());
        let lamp = app.post("/api/v1/suggest", &s.operator,
            json!({"content": "路灯不亮", "category": "urban.facilities.streetlight-out", "street": "440106002"})).await;
        assert!(lamp.body["incidents"].as_array().unwrap().is_empty());
        // After 48 hours it is no longer offered.
        app.clock.advance(49 * 3_600_000);
        let s = app.staff().await; // the sessions of two days ago have expired
        let late = app.post("/api/v1/suggest", &s.operator,
            json!({"content": "积水", "category": "emergency.flood-typhoon", "street": "440106002"})).await;
        assert!(late.body["incidents"].as_array().unwrap().is_empty(), "{:?}", late.body);

        // A proposal the dispatcher dismisses takes no more orders and cannot be confirmed.
        for i in 10..13 {
            app.create(&s, flood(i, "440106003")).await;
        }
        let made = app.post("/api/v1/incidents/detect", &s.dispatcher, json!({})).await;
        let other = made.body["items"][0]["id"].as_str().unwrap().to_owned();
        let r = app.post(&format!("/api/v1/incidents/{other}/dismiss"), &s.operator, json!({})).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
        let r = app.post(&format!("/api/v1/incidents/{other}/dismiss"), &s.dispatcher, json!({})).await;
        assert_eq!(r.body["status"], "dismissed", "{:?}", r.body);
        let r = app.post(&format!("/api/v1/incidents/{other}/confirm"), &s.dispatcher, json!({})).await;
        assert_error(&r, StatusCode::CONFLICT, "illegal_transition");
        let n = app.create(&s, flood(20, "440106003")).await;
        let r = app.post(&format!("/api/v1/incidents/{other}/orders"), &s.operator, json!({"numbers": [n]})).await;
        assert_error(&r, StatusCode::CONFLICT, "illegal_transition");
    }
}
