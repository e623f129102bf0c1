//! Tough problems (issue 12): candidates from the place cells, a problem split among units,
//! their reports, closing when every part is done, the monthly report, and who sees what.

use crate::kit::*;
use lianxin_server::demo::DemoOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn problems_notices(n: &Value) -> Vec<&Value> {
    n["items"].as_array().unwrap().iter().filter(|i| i["kind"] == "problem").collect()
}

crate::dual! {
    async fn repeated_calls_become_a_problem_split_among_units_that_closes_when_each_has_done_its_part() {
        let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
        let s = app.staff().await;
        let lamp = "urban.facilities.streetlight-out";
        // One resident calls six times in a day about the same dark street in 五山街道: five
        // repeat contacts. Four callers in 越秀区 call once each about theirs.
        let mut numbers = Vec::new();
        for i in 0..6 {
            let mut body = sample_order();
            body["content"] = json!(format!("五山路的路灯还是不亮，这是我第{}次反映。", i + 1));
            numbers.push(app.create(&s, body).await);
            app.clock.advance(10 * 60_000);
        }
        for i in 0..4 {
            let mut body = sample_order();
            body["location"] = json!({"street": "440104001", "address": "越秀路2号"});
            body["caller"] = json!({"phone": format!("1390000{:04}", i), "name": "来电人", "confidential": false});
            app.create(&s, body).await;
        }
        let r = app.get("/api/v1/problems/candidates", &s.supervisor).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "only the street with repeats: {:?}", r.body);
        let c = &items[0];
        assert_eq!((c["category"].as_str(), c["place"].as_str()), (Some(lamp), Some("440106001")));
        assert_eq!((c["registered"].as_i64(), c["repeat"].as_i64(), c["score"].as_i64()), (Some(6), Some(5), Some(5)));
        assert_eq!(c["place_name"], "五山街道");
        assert_eq!(c["problem"], Value::Null);
        // By district the same; 越秀区's leader finds nothing of 天河区's; a handler may not look.
        let r = app.get("/api/v1/problems/candidates?level=district", &s.supervisor).await;
        assert_eq!(r.body["items"][0]["place"], "440106");
        let yuexiu = app.login("leader.d440104").await;
        let r = app.get("/api/v1/problems/candidates", &yuexiu).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert!(r.body["items"].as_array().unwrap().is_empty(), "{:?}", r.body);
        let street = app.login("handler.s440106001").await;
        assert_error(&app.get("/api/v1/problems/candidates", &street).await, StatusCode::FORBIDDEN, "forbidden_role");
        assert_error(&app.get("/api/v1/problems/candidates?level=town", &s.supervisor).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");

        // A bad problem: each fault named, nothing stored.
        let bad = app.post("/api/v1/problems", &s.supervisor, json!({
            "title": " ", "orders": ["20990101000001"],
            "parts": [{"unit": "d440106", "task": "排查线路", "due": "2026-11-01"}, {"unit": "nowhere", "task": "", "due": "soon"}]
        })).await;
        assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        let fields = bad.body["error"]["fields"].as_object().unwrap();
        for f in ["title", "orders", "parts[0].due", "parts[1].unit", "parts[1].task", "parts[1].due"] {
            assert!(fields.contains_key(f), "{f} named: {fields:?}");
        }
        assert!(app.get("/api/v1/problems", &s.supervisor).await.body["items"].as_array().unwrap().is_empty());
        // 越秀区's leader may not give 天河区 a part.
        let r = app.post("/api/v1/problems", &yuexiu, json!({
            "title": "x", "parts": [{"unit": "d440106", "task": "排查", "due": "2026-12-31"}]
        })).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert!(r.body["error"]["fields"]["parts[0].unit"].is_string());

        let r = app.post("/api/v1/problems", &s.supervisor, json!({
            "title": "五山街道路灯反复不亮", "description": "同一居民一周内六次来电。",
            "category": lamp, "place": "440106001", "orders": numbers,
            "parts": [
                {"unit": "d440106", "task": "排查五山路路灯供电线路并更换老化线缆", "due": "2026-12-20"},
                {"unit": "s440106001", "task": "修复后逐户回访沿线居民", "due": "2026-12-10"}
            ]
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["status"], "open");
        assert_eq!(r.body["orders"].as_array().unwrap().len(), 6);
        assert_eq!(r.body["parts"][1]["state"], "open");
        assert_eq!(r.body["parts"][0]["unit_name"], "天河区人民政府");
        let r = app.get("/api/v1/problems/candidates", &s.supervisor).await;
        assert_eq!(r.body["items"][0]["problem"], id.as_str(), "the candidate is now tracked");
        // Each unit is told; a unit with no part and outside the place sees nothing of it.
        let n = app.get("/api/v1/notifications", &street).await.body;
        let notes = problems_notices(&n);
        assert_eq!(notes.len(), 1, "{n}");
        assert!(notes[0]["message"].as_str().unwrap().contains("修复后逐户回访"), "{n}");
        let other = app.login("handler.s440104001").await;
        assert_error(&app.get(&format!("/api/v1/problems/{id}"), &other).await, StatusCode::NOT_FOUND, "not_found");
        assert!(app.get("/api/v1/problems", &other).await.body["items"].as_array().unwrap().is_empty());
        assert!(app.get("/api/v1/problems", &yuexiu).await.body["items"].as_array().unwrap().is_empty());
        let tianhe = app.login("leader.d440106").await;
        assert_eq!(app.get("/api/v1/problems", &tianhe).await.body["items"].as_array().unwrap().len(), 1);

        // The street office reports progress, then finishes; it may not report for the district.
        let path = format!("/api/v1/problems/{id}/reports");
        let r = app.post(&path, &street, json!({"part": 2, "note": "已走访12户，等待线路修复。"})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert!(r.body["error"]["fields"]["done"].is_string(), "finished or not is never assumed");
        let r = app.post(&path, &street, json!({"part": 2, "note": "已走访12户，等待线路修复。", "done": false})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!((r.body["status"].as_str(), r.body["parts_done"].as_i64()), (Some("open"), Some(0)));
        assert_error(&app.post(&path, &street, json!({"part": 1, "note": "x", "done": true})).await, StatusCode::FORBIDDEN, "forbidden_role");
        assert_error(&app.post(&path, &street, json!({"part": 9, "note": "x", "done": true})).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&app.post(&path, &other, json!({"part": 2, "note": "x", "done": true})).await, StatusCode::NOT_FOUND, "not_found");
        let r = app.post(&path, &street, json!({"part": 2, "note": "线路修复后回访沿线居民，均表示路灯已亮。", "done": true})).await;
        assert_eq!(r.body["parts"][1]["state"], "done");
        assert_eq!(r.body["parts"][1]["done_by"], "handler.s440106001");
        assert_error(&app.post(&path, &street, json!({"part": 2, "note": "again", "done": true})).await, StatusCode::CONFLICT, "illegal_transition");
        // The district's part is the last: the problem closes and the supervisors are told.
        let district = app.login("handler.d440106").await;
        let r = app.post(&path, &district, json!({"part": 1, "note": "更换老化线缆 300 米。", "done": true})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["status"], "closed");
        assert!(r.body["closed_at"].is_string());
        assert_eq!(r.body["reports"].as_array().unwrap().len(), 3);
        assert_error(&app.post(&path, &district, json!({"part": 1, "note": "x", "done": false})).await, StatusCode::CONFLICT, "illegal_transition");
        let n = app.get("/api/v1/notifications", &s.supervisor).await.body;
        assert!(problems_notices(&n).iter().any(|x| x["message"].as_str().unwrap().contains("已办结")), "{n}");
        assert_eq!(app.get("/api/v1/problems?status=closed", &s.supervisor).await.body["items"].as_array().unwrap().len(), 1);

        // The month's report lists it, for the city and for 天河区, not for 越秀区.
        let tomorrow = app.get("/api/v1/stats/kpis", &s.leader).await.body["to"].as_str().unwrap().to_owned();
        let today = chrono::NaiveDate::parse_from_str(&tomorrow, "%Y-%m-%d").unwrap() - chrono::Duration::days(1);
        let month = today.format("%Y-%m").to_string();
        let client = TestApp::form_client();
        for (user, listed) in [("leader", true), ("leader.d440106", true), ("leader.d440104", false)] {
            let session = app.form_login(&client, user, "demo").await.session().unwrap();
            let (status, page) = app.page(&format!("/console/reports?period={month}"), &session).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(page.contains("五山街道路灯反复不亮"), listed, "{user}: {page}");
            if listed {
                assert!(page.contains("本期跟踪疑难问题1个，已办结1个"), "{user}: {page}");
            }
        }
        let db = app.stop_keeping_db().await;
        assert_verifies(&db.db_url);
    }
}

crate::dual! {
    async fn a_supervisor_tracks_a_candidate_from_the_console_and_the_unit_reports_on_its_page() {
        let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
        let s = app.staff().await;
        for i in 0..5 {
            let mut body = sample_order();
            body["content"] = json!(format!("路灯不亮第{}次。", i + 1));
            app.create(&s, body).await;
            app.clock.advance(10 * 60_000);
        }
        let client = TestApp::form_client();
        let sup = app.form_login(&client, "supervisor", "demo").await.session().unwrap();
        let (status, page) = app.page("/console/problems", &sup).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"prb-candidate-list\"") && page.contains("五山街道"), "{page}");
        let start = page.find("/console/problems/new?").expect("a link to track it");
        let href = page[start..page[start..].find('"').unwrap() + start].replace("&amp;", "&").replace("&#38;", "&");
        let (status, form) = app.page(&href, &sup).await;
        assert_eq!(status, StatusCode::OK, "{form}");
        assert!(form.contains("五山街道"), "{form}");
        let csrf = {
            let at = form.find("name=\"_csrf\" value=\"").unwrap() + 20;
            form[at..at + form[at..].find('"').unwrap()].to_owned()
        };
        let orders = {
            let at = form.find("id=\"prb-orders\"").unwrap();
            let body = &form[at..];
            let open = body.find('>').unwrap() + 1;
            body[open..body.find("</textarea>").unwrap()].to_owned()
        };
        assert_eq!(orders.lines().count(), 5, "the candidate orders: {href} {orders}");
        let post = |fields: Vec<(&'static str, String)>| {
            let client = client.clone();
            let url = app.url("/console/problems/new");
            let sup = sup.clone();
            async move {
                let r = client.post(url).header("cookie", format!("lx_session={sup}")).form(&fields).send().await.unwrap();
                (r.status(), r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()), r.text().await.unwrap())
            }
        };
        // A part without its task is named on the page, the form kept.
        let mut fields = vec![
            ("_csrf", csrf.clone()),
            ("title", "五山街道路灯问题".to_owned()),
            ("category", "urban.facilities.streetlight-out".to_owned()),
            ("place", "440106001".to_owned()),
            ("orders", orders.clone()),
            ("unit_0", "s440106001".to_owned()),
            ("task_0", "".to_owned()),
            ("due_0", "2026-12-15".to_owned()),
        ];
        let (status, _, body) = post(fields.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("id=\"prb-errors\"") && body.contains("五山街道路灯问题"), "{body}");
        fields[6].1 = "排查并修复路灯".to_owned();
        let (status, location, _) = post(fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let location = location.unwrap();
        assert!(location.starts_with("/console/problems/prb-"), "{location}");
        let id = location["/console/problems/".len()..location.find('?').unwrap()].to_owned();

        // The street office opens it, reports its part done, and the problem is closed.
        let h = app.form_login(&client, "handler.s440106001", "demo").await.session().unwrap();
        let (status, page) = app.page(&format!("/console/problems/{id}"), &h).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"prb-report\"") && page.contains("排查并修复路灯"), "{page}");
        let csrf = {
            let at = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
            page[at..at + page[at..].find('"').unwrap()].to_owned()
        };
        let send = |fields: Vec<(&'static str, String)>| {
            let client = client.clone();
            let url = app.url(&format!("/console/problems/{id}/report"));
            let h = h.clone();
            async move {
                let r = client.post(url).header("cookie", format!("lx_session={h}")).form(&fields).send().await.unwrap();
                (r.status(), r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()))
            }
        };
        let (status, _) = send(vec![("_csrf", csrf.clone()), ("part", "1".into()), ("note", "已修复。".into())]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "finished or not must be chosen");
        let (status, location) = send(vec![("_csrf", csrf), ("part", "1".into()), ("note", "已更换灯头，路灯恢复。".into()), ("done", "true".into())]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location.unwrap().ends_with("done=closed"));
        let (_, page) = app.page(&format!("/console/problems/{id}"), &h).await;
        assert!(page.contains("id=\"prb-closed\"") && !page.contains("id=\"prb-report\""), "{page}");
    }
}

crate::dual! {
    async fn a_part_past_its_day_is_overdue_and_its_unit_is_reminded_once() {
        let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
        let s = app.staff().await;
        let today = chrono::DateTime::from_timestamp_millis(app.clock.now() + 8 * 3_600_000).unwrap().format("%Y-%m-%d").to_string();
        let r = app.post("/api/v1/problems", &s.supervisor, json!({
            "title": "天河路夜间施工噪音", "place": "440106001",
            "parts": [{"unit": "s440106001", "task": "约谈施工单位并核查夜间施工许可", "due": today}]
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["parts"][0]["state"], "open", "due today is not yet late");
        app.clock.advance(86_400_000);
        let s = app.staff().await;
        for _ in 0..2 {
            assert_eq!(app.post("/api/v1/supervision/sweep", &s.supervisor, json!({})).await.status, StatusCode::OK);
        }
        let street = app.login("handler.s440106001").await;
        let p = app.get(&format!("/api/v1/problems/{id}"), &street).await.body;
        assert_eq!((p["parts"][0]["state"].as_str(), p["parts_overdue"].as_i64()), (Some("overdue"), Some(1)));
        let n = app.get("/api/v1/notifications", &street).await.body;
        let overdue: Vec<&Value> = problems_notices(&n).into_iter().filter(|x| x["message"].as_str().unwrap().contains("已过完成期限")).collect();
        assert_eq!(overdue.len(), 1, "reminded once however often the sweep runs: {n}");
    }
}
