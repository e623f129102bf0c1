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
