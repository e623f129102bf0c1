//! Hotspots (issue 12): counts per category × place against the previous four periods, read
//! from the rollups, shared by place.

use crate::kit::*;
use lianxin_server::demo::DemoOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

fn item<'a>(r: &'a Value, category: &str, place: &str) -> Option<&'a Value> {
    r["items"].as_array().unwrap().iter().find(|i| i["category"] == category && i["place"] == place)
}

crate::dual! {
    async fn hotspots_grow_against_the_previous_four_weeks_and_each_area_sees_its_own_places() {
        let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
        let mut s = app.staff().await;
        let noise = "urban.order.social-noise";
        let lamp = "urban.facilities.streetlight-out";
        // Five weeks: noise on one Tianhe street 2, 3, 4, 3 then 12; lamps on another street
        // 5, 6, 7, 6 then 6; noise in Yuexiu only in the last week (5).
        let weeks: [(&str, &str, [usize; 5]); 3] = [
            (noise, "440106001", [2, 3, 4, 3, 12]),
            (lamp, "440106002", [5, 6, 7, 6, 6]),
            (noise, "440103001", [0, 0, 0, 0, 5]),
        ];
        let start = app.clock.now();
        for week in 0..5 {
            for (category, street, counts) in &weeks {
                for i in 0..counts[week] {
                    let mut body = sample_order();
                    body["category"] = json!(category);
                    body["location"] = json!({"street": street});
                    body["caller"] = json!({"phone": format!("139{week}{i:02}0{}", &street[7..]), "name": "来电人", "confidential": false});
                    app.create(&s, body).await;
                }
            }
            app.clock.advance(7 * DAY);
            // Sessions do not outlive a week.
            s = app.staff().await;
        }
        let day = |ms: i64| chrono::DateTime::from_timestamp_millis(ms + 8 * 3_600_000).unwrap().format("%Y-%m-%d").to_string();
        let (from, to) = (day(start + 28 * DAY), day(start + 35 * DAY));
        let path = |level: &str| format!("/api/v1/stats/hotspots?from={from}&to={to}&level={level}");

        let r = app.get(&path("street"), &s.leader).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["baseline_from"], day(start).as_str());
        let n = item(&r.body, noise, "440106001").expect("the noise street");
        assert_eq!((n["count"].as_i64(), n["baseline"].as_f64(), n["growth"].as_f64()), (Some(12), Some(3.0), Some(3.0)));
        assert_eq!(n["emerging"], true);
        assert_eq!(n["place_name"], "五山街道");
        let l = item(&r.body, lamp, "440106002").expect("the lamp street");
        assert_eq!((l["count"].as_i64(), l["baseline"].as_f64(), l["growth"].as_f64()), (Some(6), Some(6.0), Some(0.0)));
        assert_eq!(l["emerging"], false);
        let y = item(&r.body, noise, "440103001").expect("the Yuexiu street");
        assert_eq!((y["count"].as_i64(), y["growth"].clone()), (Some(5), Value::Null), "no growth from nothing");
        assert_eq!(y["emerging"], true);
        let order: Vec<(&str, &str)> = r.body["items"].as_array().unwrap().iter()
            .map(|i| (i["category"].as_str().unwrap(), i["place"].as_str().unwrap())).collect();
        assert_eq!(order, [(noise, "440106001"), (noise, "440103001"), (lamp, "440106002")], "emerging first, then by count");

        // By district the streets add up; a category group filters.
        let r = app.get(&path("district"), &s.leader).await;
        let t = item(&r.body, noise, "440106").unwrap();
        assert_eq!((t["count"].as_i64(), t["baseline"].as_f64()), (Some(12), Some(3.0)));
        let r = app.get(&format!("{}&category=urban.facilities", path("street")), &s.leader).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{:?}", r.body);

        // A district government sees its district's places, a street office its street.
        let d = app.login("handler.d440106").await;
        let r = app.get(&path("street"), &d).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert!(item(&r.body, noise, "440106001").is_some() && item(&r.body, lamp, "440106002").is_some());
        assert!(r.body["items"].as_array().unwrap().iter().all(|i| i["place"].as_str().unwrap().starts_with("440106")), "{:?}", r.body);
        let st = app.login("handler.s440106001").await;
        let r = app.get(&path("street"), &st).await;
        let places: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|i| i["place"].as_str().unwrap()).collect();
        assert_eq!(places, ["440106001"]);
        let r = app.get(&path("district"), &st).await;
        assert!(r.body["items"].as_array().unwrap().is_empty(), "a street office does not see its whole district");

        // A correction moves the order to its new cell.
        let mut body = sample_order();
        body["category"] = json!(noise);
        body["location"] = json!({"street": "440106001"});
        let moved = app.create(&s, body).await;
        app.must(&moved, "submit", &s.operator, json!({})).await;
        app.must(&moved, "correct", &s.reviewer, json!({"category": lamp, "note": "其实是路灯"})).await;
        let now_to = day(app.clock.now() + DAY);
        let now_from = day(app.clock.now());
        let r = app.get(&format!("/api/v1/stats/hotspots?from={now_from}&to={now_to}"), &s.leader).await;
        assert_eq!(item(&r.body, lamp, "440106001").map(|i| i["count"].as_i64()), Some(Some(1)), "{:?}", r.body);
        assert!(item(&r.body, noise, "440106001").is_none());

        // Bad values are named.
        let r = app.get("/api/v1/stats/hotspots?level=city&limit=0", &s.leader).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert!(r.body["error"]["fields"]["level"].is_string() && r.body["error"]["fields"]["limit"].is_string());

        // The rollups still equal a recount.
        let db = app.stop_keeping_db().await;
        assert_verifies(&db.db_url);
    }
}

crate::dual! {
    async fn a_flood_morning_breaks_the_usual_band_and_the_supervisors_are_alarmed_once() {
        let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
        let mut s = app.staff().await;
        let flood = |i: usize, day: usize| {
            let mut body = sample_order();
            body["category"] = json!("transport.road.waterlogging");
            body["content"] = json!(format!("天河路隧道口积水很深，车辆无法通行（{day}-{i}）。"));
            body["caller"] = json!({"phone": format!("1360{day:03}{i:04}"), "name": "来电人", "confidential": false});
            body
        };
        // Four weeks of ordinary mornings: one waterlogging call at this hour a day.
        for day in 0..28 {
            app.create(&s, flood(0, day)).await;
            app.clock.advance(DAY);
            // A session does not outlive a day without use.
            s.operator = app.login("operator").await;
        }
        s = app.staff().await;
        let surges = |r: &Value| -> Vec<Value> {
            r["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "surge").cloned().collect()
        };
        // Nine calls this morning are many, but below the alarm's minimum of ten.
        for i in 0..9 {
            app.create(&s, flood(i, 28)).await;
        }
        assert_eq!(app.post("/api/v1/supervision/sweep", &s.supervisor, json!({})).await.status, StatusCode::OK);
        let n = app.get("/api/v1/notifications", &s.supervisor).await.body;
        assert!(surges(&n).is_empty(), "{n}");
        // Three more: twelve against a band of mean 1 + 3 · max(sd 0, √1, 1) = 4.
        for i in 9..12 {
            app.create(&s, flood(i, 28)).await;
        }
        app.post("/api/v1/supervision/sweep", &s.supervisor, json!({})).await;
        app.post("/api/v1/supervision/sweep", &s.supervisor, json!({})).await;
        let n = app.get("/api/v1/notifications", &s.supervisor).await.body;
        let alarms = surges(&n);
        assert_eq!(alarms.len(), 1, "one alarm, however often the check runs: {n}");
        let message = alarms[0]["message"].as_str().unwrap();
        assert!(message.contains("12 件") && message.contains("1.0 件") && message.contains("上限 4"), "{message}");
        // The operators are not alarmed; the wall shows it.
        let ops = app.get("/api/v1/notifications", &s.operator).await.body;
        assert!(surges(&ops).is_empty());
        let client = TestApp::form_client();
        let session = app.form_login(&client, "supervisor", "demo").await.session().unwrap();
        let (status, wall) = app.page("/wall", &session).await;
        assert_eq!(status, StatusCode::OK);
        assert!(wall.contains("激增预警") && wall.contains("近3小时 12 件"), "{wall}");
    }
}

crate::dual! {
    async fn the_wall_stream_sends_the_wall_and_ends_when_the_account_is_disabled() {
        use futures_util::StreamExt;
        let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
        let admin = app.login("admin").await;
        let client = TestApp::form_client();
        let session = app.form_login(&client, "leader", "demo").await.session().unwrap();
        let r = client
            .get(app.url("/wall/events"))
            .header("cookie", format!("lx_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let mut stream = r.bytes_stream();
        let mut seen = String::new();
        while !seen.contains("event: wall") {
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await.unwrap().unwrap().unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(seen.contains("wall-registered"), "the first event is the wall: {seen}");
        // Disabled, the account's stream ends within a couple of seconds.
        let r = app.post("/api/v1/admin/users/leader/disable", &admin, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while let Some(chunk) = stream.next().await {
                if chunk.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "the stream went on after the account was disabled");
        // And a new connection is refused (sent to the sign-in).
        let r = client
            .get(app.url("/wall/events"))
            .header("cookie", format!("lx_session={session}"))
            .send()
            .await
            .unwrap();
        let kind = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(!kind.starts_with("text/event-stream"), "{} {kind}", r.status());
    }
}
