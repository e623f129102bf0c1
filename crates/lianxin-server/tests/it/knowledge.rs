//! The knowledge base, templates, referrals and announcements (issue 11).

use crate::kit::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get_q(app: &TestApp, path: &str, token: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = app.http.get(app.url(path)).query(query).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

crate::dual! {
    async fn the_demo_knowledge_base_answers_an_operator_and_every_edit_is_a_new_version() {
        let app = spawn_app().await;
        let op = app.login("operator").await;
        let admin = app.login("admin").await;
        let all = app.get("/api/v1/kb/articles", &op).await;
        assert!(all.body["items"].as_array().unwrap().len() >= 200, "the demo ships 200 articles or more");
        for (q, word) in [("补办身份证", "身份证"), ("公积金 提取", "公积金"), ("停水", "停水"), ("社保 转移", "社保"), ("residence permit", "Residence")] {
            let (s, r) = get_q(&app, "/api/v1/kb/search", &op, &[("q", q)]).await;
            assert_eq!(s, StatusCode::OK, "{r:?}");
            let first = &r["items"][0];
            assert!(first["title"].as_str().unwrap_or("").to_lowercase().contains(&word.to_lowercase())
                || first["snippet"].as_str().unwrap_or("").to_lowercase().contains(&word.to_lowercase()), "{q}: {r:?}");
        }
        let (_, none) = get_q(&app, "/api/v1/kb/search", &op, &[("q", "量子纠缠")]).await;
        assert!(none["items"].as_array().unwrap().is_empty());
        let (s, r) = get_q(&app, "/api/v1/kb/search", &op, &[("q", "")]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");

        // An admin writes and edits; every edit is kept.
        let r = app.post("/api/v1/kb/articles", &admin, json!({
            "title": "莲心湾片区临时停水安排", "body": "莲心湾片区因管网改造停水，**12月5日**恢复。",
            "categories": ["utilities"], "unit": "co-water", "tags": ["停水", "莲心湾"]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let r = app.put(&format!("/api/v1/kb/articles/{id}"), &admin, json!({
            "title": "莲心湾片区临时停水安排", "body": "莲心湾片区因管网改造停水，**12月6日**恢复。",
            "categories": ["utilities"], "unit": "co-water", "tags": ["停水", "莲心湾"], "version": 1})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["version"], 2);
        let stale = app.put(&format!("/api/v1/kb/articles/{id}"), &admin, json!({
            "title": "莲心湾片区临时停水安排", "body": "别的内容", "version": 1})).await;
        assert_error(&stale, StatusCode::CONFLICT, "conflict");
        let v = app.get(&format!("/api/v1/kb/articles/{id}/versions"), &op).await;
        let versions = v.body["items"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert!(versions[0]["body"].as_str().unwrap().contains("12月6日"));
        assert!(versions[1]["body"].as_str().unwrap().contains("12月5日"));
        let (_, r) = get_q(&app, "/api/v1/kb/search", &op, &[("q", "莲心湾 停水")]).await;
        assert_eq!(r["items"][0]["id"], id.as_str());
        assert!(r["items"][0]["snippet"].as_str().unwrap().contains("12月6日"), "{r:?}");
        // Others may read but not write.
        let r = app.post("/api/v1/kb/articles", &op, json!({"title": "x", "body": "y"})).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
        let bad = app.post("/api/v1/kb/articles", &admin, json!({"title": "", "body": "y", "categories": ["nope"], "valid_from": "2026-13-01"})).await;
        assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        let fields = bad.body["error"]["fields"]["articles"].as_str().unwrap_or_default().to_owned();
        assert!(fields.contains("title") && fields.contains("categories") && fields.contains("valid_from"), "{:?}", bad.body);
    }
}

crate::dual! {
    async fn articles_import_from_markdown_and_csv_all_or_none_and_a_unit_admin_keeps_to_its_unit() {
        let app = spawn_app().await;
        let admin = app.login("admin").await;
        let md = "---\ntitle: 垃圾分类投放时间\ncategories: urban.sanitation.garbage-sorting\nunit: city-urban\ntags: 垃圾分类, 投放\nvalid_from: 2026-01-01\nvalid_to:\n---\n**一句话答复**：早7点至9点、晚6点至8点定时投放。\n\n- 厨余垃圾沥干水分\n---\ntitle: 大件垃圾预约\ncategories: urban.sanitation.bulky-waste\nunit: city-urban\ntags: 大件垃圾\nvalid_from:\nvalid_to:\n---\n拨打街道电话预约上门收运。\n";
        let r = app.send("POST", "/api/v1/kb/import", &admin, "text/markdown", md.as_bytes().to_vec()).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!((r.body["created"].as_u64(), r.body["updated"].as_u64()), (Some(2), Some(0)));
        let again = app.send("POST", "/api/v1/kb/import", &admin, "text/markdown", md.as_bytes().to_vec()).await;
        assert_eq!(again.body["unchanged"].as_u64(), Some(2), "importing again changes nothing");
        let csv = "id,title,body,categories,unit,tags\nkb-csv-1,路灯报修渠道,拨打12345或在小程序报修。,urban.facilities.streetlight-out,d440106-urban,路灯|报修\nkb-csv-2,,没有标题,,,\n";
        let bad = app.send("POST", "/api/v1/kb/import", &admin, "text/csv", csv.as_bytes().to_vec()).await;
        assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert!(app.get("/api/v1/kb/articles/kb-csv-1", &admin).await.status == StatusCode::NOT_FOUND, "all or none");
        let good = "id,title,body,categories,unit,tags\nkb-csv-1,路灯报修渠道,拨打12345或在小程序报修。,urban.facilities.streetlight-out,d440106-urban,路灯|报修\n";
        let r = app.send("POST", "/api/v1/kb/import", &admin, "text/csv", good.as_bytes().to_vec()).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let a = app.get("/api/v1/kb/articles/kb-csv-1", &admin).await;
        assert_eq!(a.body["tags"], json!(["路灯", "报修"]));

        // A unit admin of Tianhe edits its own units' articles only.
        let r = app.put("/api/v1/admin/users/ua.tianhe", &admin, json!({"roles": ["unit_admin"], "unit": "d440106", "password": "tianhe-admin-1"})).await;
        assert!(r.status.is_success(), "{:?}", r.body);
        let ua = app.login_as("ua.tianhe", "tianhe-admin-1").await;
        let own = app.put("/api/v1/kb/articles/kb-csv-1", &ua, json!({"title": "路灯报修渠道", "body": "天河区：拨打12345报修。",
            "categories": ["urban.facilities.streetlight-out"], "unit": "d440106-urban", "version": 1})).await;
        assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);
        let other = app.post("/api/v1/kb/articles", &ua, json!({"title": "别的单位的知识", "body": "x", "unit": "city-urban"})).await;
        assert_error(&other, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
    }
}

crate::dual! {
    async fn templates_referrals_and_announcements_serve_the_intake() {
        let app = spawn_app().await;
        let op = app.login("operator").await;
        let admin = app.login("admin").await;
        let (_, t) = get_q(&app, "/api/v1/templates", &op, &[("category", "urban.facilities.streetlight-out")]).await;
        assert!(t["items"][0]["body"].as_str().unwrap().contains("【"), "{t:?}");
        let (_, r) = get_q(&app, "/api/v1/referrals", &op, &[("q", "有人打架报警")]).await;
        assert!(r["items"][0]["phone"].as_str().unwrap().contains("110"), "{r:?}");
        // An announcement for one street shows there and not elsewhere, only in its window.
        let now = app.clock.now();
        let rfc = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339();
        let h = app.login("handler.s440106001").await;
        let r = app.post("/api/v1/announcements", &h, json!({"title": "五山路停电检修", "body": "今天9点到17点五山路停电。",
            "kind": "outage", "streets": ["440106001"], "starts_at": rfc(now - 3_600_000), "ends_at": rfc(now + 3_600_000)})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["unit"], "s440106001", "a unit publishes as itself");
        let id = r.body["id"].as_str().unwrap().to_owned();
        let (_, here) = get_q(&app, "/api/v1/announcements", &op, &[("street", "440106001")]).await;
        assert!(here["items"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str()));
        let (_, there) = get_q(&app, "/api/v1/announcements", &op, &[("street", "440103001")]).await;
        assert!(!there["items"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str()));
        let other = app.login("handler.s440103001").await;
        let r = app.request(reqwest::Method::DELETE, &format!("/api/v1/announcements/{id}"), Some(&other), None).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
        let r = app.post("/api/v1/announcements", &admin, json!({"title": "x", "body": "y", "kind": "storm",
            "starts_at": rfc(now), "ends_at": rfc(now - 1000)})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        app.clock.advance(2 * 3_600_000);
        let (_, later) = get_q(&app, "/api/v1/announcements", &op, &[("street", "440106001")]).await;
        assert!(!later["items"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str()), "over");
        // The suggestions bring them together.
        let s = app.post("/api/v1/suggest", &op, json!({"content": "路灯坏了", "category": "urban.facilities.streetlight-out", "street": "440106001"})).await;
        assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
        for k in ["categories", "request_types", "units", "similar", "articles", "templates", "referrals", "announcements"] {
            assert!(s.body[k].is_array(), "{k}");
        }
        assert!(!s.body["templates"].as_array().unwrap().is_empty());
        assert!(!s.body["articles"].as_array().unwrap().is_empty());
        let bad = app.post("/api/v1/suggest", &op, json!({"street": "nope"})).await;
        assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
    }

}

crate::dual! {
    async fn a_first_contact_close_names_the_referral_or_article_it_gave() {
        let app = spawn_app().await;
        let op = app.login("operator").await;
        let (_, r) = get_q(&app, "/api/v1/referrals", &op, &[("q", "买到假货要投诉商家")]).await;
        let entry = r["items"][0].clone();
        let entry_id = entry["id"].as_str().unwrap().to_owned();
        let n = app.create_order(&op).await["number"].as_str().unwrap().to_owned();
        let close = |kind: &str, cite: serde_json::Value| json!({"resolution": "已告知来电人联系相关机构", "kind": kind, "cite": cite});
        // A referral entry cannot be cited by an "answered" close, and an unknown id is named.
        let r = app.act(&n, "close", &op, close("answered", json!({"kind": "referral", "id": entry_id}))).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert!(r.body["error"]["fields"]["cite.kind"].is_string(), "{:?}", r.body);
        let r = app.act(&n, "close", &op, close("referred", json!({"kind": "referral", "id": "no-such-entry"}))).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert!(r.body["error"]["fields"]["cite.id"].is_string(), "{:?}", r.body);
        let r = app.act(&n, "close", &op, close("referred", json!({"kind": "leaflet", "id": "x"}))).await;
        assert!(r.body["error"]["fields"]["cite.kind"].is_string(), "{:?}", r.body);
        // Nothing was stored by the refusals.
        assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &op).await.body["status"], "registered");
        let o = app.must(&n, "close", &op, close("referred", json!({"kind": "referral", "id": entry_id}))).await;
        assert_eq!(o["first_contact"]["kind"], "referred");
        assert_eq!(o["first_contact"]["cite"]["kind"], "referral");
        assert_eq!(o["first_contact"]["cite"]["id"], entry_id.as_str());
        assert_eq!(o["first_contact"]["cite"]["title"], entry["name"]);
        // An article is cited with the version read out.
        let (_, kb) = get_q(&app, "/api/v1/kb/search", &op, &[("q", "补办身份证")]).await;
        let article = kb["items"][0]["id"].as_str().unwrap().to_owned();
        let m = app.create_order(&op).await["number"].as_str().unwrap().to_owned();
        let o = app.must(&m, "close", &op, close("answered", json!({"kind": "article", "id": article}))).await;
        assert_eq!(o["first_contact"]["cite"]["kind"], "article");
        assert!(o["first_contact"]["cite"]["version"].as_i64().unwrap() >= 1, "{o:?}");
        // A close that cites nothing still closes, and says so.
        let k = app.create_order(&op).await["number"].as_str().unwrap().to_owned();
        let o = app.must(&k, "close", &op, json!({"resolution": "已答复", "kind": "answered"})).await;
        assert!(o["first_contact"]["cite"].is_null());
    }
}
