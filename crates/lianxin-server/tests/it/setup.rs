//! Setting up a city: every bad file is refused with its rows named and leaves the
//! database exactly as it was; deactivation, accounts and their scope, the admin history,
//! the online backup, and the first start without the demo.

use crate::kit::*;
use reqwest::StatusCode;
use serde_json::json;

/// Imports `csv` as `kind`, expecting a refusal naming `key` (`line N: column`), and checks
/// that nothing changed, dry run or not.
async fn refused(app: &TestApp, admin: &str, kind: &str, csv: &[u8], key: &str) {
    let before = app.setup_state(admin).await;
    for dry_run in [true, false] {
        let path = format!("/api/v1/admin/import/{kind}?dry_run={dry_run}");
        let r = app.send("POST", &path, admin, "text/csv", csv.to_vec()).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows");
        let fields = r.body["error"]["fields"].as_object().unwrap();
        assert!(fields.contains_key(key), "{kind}: expected `{key}` in {fields:?}");
    }
    assert_eq!(app.setup_state(admin).await, before, "{kind}: a refused import wrote something");
}

dual! {
    async fn every_bad_file_names_its_rows_and_writes_nothing() {
        let app = spawn_app().await;
        let admin = app.login("admin").await;
        // A row whose parent exists nowhere.
        refused(&app, &admin, "units", "code,name,kind,parent\nnew-a,新单位,department,no-such-unit\n".as_bytes(), "line 2: parent").await;
        // A cycle: two new units each other's parent, beside a good row.
        refused(
            &app,
            &admin,
            "units",
            "code,name,kind,parent\nok-1,好单位,department,\ncy-a,甲,department,cy-b\ncy-b,乙,department,cy-a\n".as_bytes(),
            "line 3: parent",
        )
        .await;
        // A cycle through stored rows: a district government under its own street office.
        refused(&app, &admin, "units", "code,name,kind,parent\nd440106,天河区人民政府,district,s440106001\n".as_bytes(), "line 2: parent").await;
        // The same code twice.
        refused(&app, &admin, "categories", "code,name\ndup.a,甲\ndup.a,乙\n".as_bytes(), "line 3: code").await;
        // A time limit that is not one.
        refused(&app, &admin, "categories", "code,name,parent,limit_normal\nurban.new,新分类,urban,5xd\n".as_bytes(), "line 2: limit_normal").await;
        // An unknown role.
        refused(&app, &admin, "users", "username,roles\nnewbie,operator|wizard\n".as_bytes(), "line 2: roles").await;
        // A file that is not UTF-8 (GBK bytes of 天河).
        refused(&app, &admin, "units", b"code,name,kind\nx-gbk,\xcc\xec\xba\xd3,department\n", "line 2").await;
        // A CSV without a required column, and one with an unknown column.
        refused(&app, &admin, "units", "code,name\nno-kind,没有类型\n".as_bytes(), "line 1: kind").await;
        refused(&app, &admin, "units", "code,name,kind,colour\nx,y,department,red\n".as_bytes(), "line 1: colour").await;
        // A jurisdiction out of its level, and a second city.
        refused(&app, &admin, "jurisdictions", "code,name,level,parent\n440106999,新街道,street,4401\n".as_bytes(), "line 2: parent").await;
        refused(&app, &admin, "jurisdictions", "code,name,level,parent\n4402,另一个市,city,\n".as_bytes(), "line 2: level").await;
        // A route to a unit that cannot handle orders; a past order naming an unknown street.
        refused(&app, &admin, "routes", "category,jurisdiction,unit\nurban,,hotline\n".as_bytes(), "line 2: unit").await;
        refused(
            &app,
            &admin,
            "orders",
            "source_ref,created_at,request_type,category,content,street\nX1,2026-11-01 09:00:00,complaint,urban.facilities.streetlight-out,路灯坏了,440106999\n".as_bytes(),
            "line 2: street",
        )
        .await;
        // Only an admin imports.
        let s = app.staff().await;
        let r = app.import_csv(&s.operator, "units", "code,name,kind\nx,y,department\n", true).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
    }
}

dual! {
    async fn a_deactivated_category_leaves_intake_but_stays_on_its_orders_and_every_change_has_a_history() {
        let app = spawn_app().await;
        let admin = app.login("admin").await;
        let s = app.staff().await;
        let old = app.create(&s, sample_order()).await;
        let code = "urban.facilities.streetlight-out";
        let r = app.post(&format!("/api/v1/admin/categories/{code}/deactivate"), &admin, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["changes"][0]["action"], "deactivate");
        let orders_before = app.running.state.store().order_count().await.unwrap();
        let refused = app.post("/api/v1/orders", &s.operator, sample_order()).await;
        assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert_eq!(app.running.state.store().order_count().await.unwrap(), orders_before, "a refused intake writes no order");
        assert!(refused.body["error"]["fields"]["category"].as_str().unwrap().contains("no longer"), "{:?}", refused.body);
        // The old order keeps its category and moves on.
        app.must(&old, "submit", &s.operator, json!({})).await;
        let o = app.get(&format!("/api/v1/orders/{old}"), &s.operator).await;
        assert_eq!(o.body["category"], code);
        // Back in use; the history shows both changes, newest first, with before and after.
        app.post(&format!("/api/v1/admin/categories/{code}/activate"), &admin, json!({})).await;
        app.create(&s, sample_order()).await;
        let h = app.get(&format!("/api/v1/admin/history?kind=category&code={code}"), &admin).await;
        let actions: Vec<&str> = h.body.as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["activate", "deactivate"]);
        assert_eq!(h.body[0]["actor"], "admin");
        assert_eq!((h.body[1]["before"]["active"].clone(), h.body[1]["after"]["active"].clone()), (json!(true), json!(false)));

        // Editing one item: a time limit changes the deadline of the next dispatch.
        let mut item = app.get(&format!("/api/v1/admin/categories/{code}"), &admin).await.body;
        item["limit_normal"] = json!("2wd");
        let r = app.put(&format!("/api/v1/admin/categories/{code}"), &admin, item.clone()).await;
        assert_eq!((r.status, r.body["updated"].as_u64()), (StatusCode::OK, Some(1)), "{:?}", r.body);
        let tree = app.get("/api/v1/categories", &s.operator).await;
        let found = tree.body.to_string();
        assert!(found.contains("\"normal\":\"2wd\""), "the tree shows the new limit");
        item["limit_normal"] = json!("5xd");
        let before = app.setup_state(&admin).await;
        let r = app.put(&format!("/api/v1/admin/categories/{code}"), &admin, item).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows");
        assert!(r.body["error"]["fields"]["limit_normal"].is_string(), "{:?}", r.body);
        assert_eq!(app.setup_state(&admin).await, before, "a refused edit writes nothing");

        // A deactivated unit leaves dispatch.
        app.post("/api/v1/admin/units/co-water/deactivate", &admin, json!({})).await;
        let p = app.pending_order(&s, sample_order()).await;
        let stored = app.stored(&p).await;
        let r = app.act(&p, "dispatch", &s.dispatcher, json!({"lead_unit": "co-water"})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert_eq!(app.stored(&p).await, stored, "a refused dispatch changes nothing");
    }
}

dual! {
    async fn a_unit_admin_manages_only_its_units_accounts_and_a_disabled_account_stops_at_once() {
        let app = spawn_app().await;
        let admin = app.login("admin").await;
        // A unit admin for 天河区 (d440106), created by the admin with a password.
        let r = app.put("/api/v1/admin/users/ua.tianhe", &admin, json!({"roles": ["unit_admin"], "unit": "d440106", "password": "tianhe-admin-1"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let ua = app.login_as("ua.tianhe", "tianhe-admin-1").await;
        // It sees its district and streets' accounts, not others'.
        let list = app.get("/api/v1/admin/users", &ua).await;
        let names: Vec<&str> = list.body.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert!(names.contains(&"handler.s440106001") && !names.contains(&"handler.d440104"), "{names:?}");
        // Another unit's account: 404, and nothing changes.
        let before = app.setup_state(&admin).await;
        let r = app.put("/api/v1/admin/users/handler.d440104", &ua, json!({"roles": ["handler"], "unit": "d440106"})).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        let r = app.post("/api/v1/admin/users/handler.d440104/disable", &ua, json!({})).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        // Creating one outside its units, or with a hotline role: 403.
        let r = app.put("/api/v1/admin/users/new.one", &ua, json!({"roles": ["handler"], "unit": "d440104"})).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
        let r = app.put("/api/v1/admin/users/new.two", &ua, json!({"roles": ["admin"], "unit": "d440106"})).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
        let r = app.import_csv(&ua, "users", "username,roles,unit\nx,handler,d440106\n", false).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
        assert_eq!(app.setup_state(&admin).await, before, "refusals wrote nothing");

        // Its own street office's handler: it can disable them, and their token stops at once.
        let h = app.login("handler.s440106001").await;
        assert_eq!(app.get("/api/v1/auth/me", &h).await.status, StatusCode::OK);
        let r = app.post("/api/v1/admin/users/handler.s440106001/disable", &ua, json!({})).await;
        assert_eq!((r.status, r.body["active"].clone()), (StatusCode::OK, json!(false)), "{:?}", r.body);
        assert_error(&app.get("/api/v1/auth/me", &h).await, StatusCode::UNAUTHORIZED, "not_signed_in");
        let again = app.post_raw("/api/v1/auth/login", None, json!({"username": "handler.s440106001", "password": "demo"}).to_string()).await;
        assert_error(&again, StatusCode::UNAUTHORIZED, "bad_credentials");
        let h = app.get("/api/v1/admin/history?kind=user&code=handler.s440106001", &ua).await;
        assert_eq!(h.body[0]["action"], "disable");
        assert_eq!(h.body[0]["actor"], "ua.tianhe");
        assert!(!h.body.to_string().contains("argon2"), "no password hash in the history");
        // A password reset ends the sessions too.
        let op = app.login("operator").await;
        let r = app.post("/api/v1/admin/users/operator/password", &admin, json!({"password": "short"})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert_eq!(app.get("/api/v1/auth/me", &op).await.status, StatusCode::OK, "a refused reset leaves the session");
        let r = app.post("/api/v1/admin/users/operator/password", &admin, json!({"password": "a-new-password"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_error(&app.get("/api/v1/auth/me", &op).await, StatusCode::UNAUTHORIZED, "not_signed_in");
        app.login_as("operator", "a-new-password").await;
    }
}

dual! {
    async fn routes_drive_the_suggested_lead_and_an_order_may_stand_in_a_district_alone() {
        let app = spawn_app().await;
        let admin = app.login("admin").await;
        let s = app.staff().await;
        let suggest = |app: &TestApp, street: Option<&str>, district: Option<&str>| {
            let dir = app.running.state.directory();
            let street = street.map(|x| lianxin_domain::JurisdictionCode::parse(x).unwrap());
            let district = district.map(|x| lianxin_domain::JurisdictionCode::parse(x).unwrap());
            dir.suggest_lead(&lianxin_domain::CategoryCode::parse("urban.facilities.streetlight-out").unwrap(), street.as_ref(), district.as_ref())
                .map(|u| u.code.to_string())
        };
        let before = suggest(&app, Some("440106001"), None);
        let r = app.put("/api/v1/admin/routes", &admin, json!({"category": "urban.facilities", "jurisdiction": "440106", "unit": "city-urban"})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let r = app.put("/api/v1/admin/routes", &admin, json!({"category": "urban.facilities.streetlight-out", "jurisdiction": "440106001", "unit": "d440106"})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(suggest(&app, Some("440106001"), None).as_deref(), Some("d440106"), "the leaf's street row wins");
        let r = app.send("DELETE", "/api/v1/admin/routes?category=urban.facilities.streetlight-out&jurisdiction=440106001", &admin, "application/json", vec![]).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        let after = suggest(&app, Some("440106001"), None);
        assert!(after == before || after.as_deref() == Some("city-urban"), "{before:?} {after:?}");
        assert!(suggest(&app, None, Some("440106")).is_some(), "a district alone gets a suggestion");

        // A district alone: a 天河区 district handler sees it; a street office of 天河区 does not.
        let mut body = sample_order();
        body["location"] = json!({"district": "440106"});
        let n = app.create(&s, body).await;
        let d = app.login("handler.d440106").await;
        assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &d).await.status, StatusCode::OK);
        let st = app.login("handler.s440106001").await;
        assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &st).await.status, StatusCode::NOT_FOUND);
        let k = app.get("/api/v1/stats/kpis?from=2026-11-23&to=2026-11-24&group_by=district", &s.leader).await;
        assert!(k.body["rows"].as_array().unwrap().iter().any(|r| r["key"] == "440106"), "{:?}", k.body);
        // No place at all: the city's.
        let mut body = sample_order();
        body.as_object_mut().unwrap().remove("location");
        let n = app.create(&s, body).await;
        assert_eq!(app.get(&format!("/api/v1/orders/{n}"), &s.operator).await.body["location"]["district"], json!(null));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_is_consistent_while_the_server_takes_writes() {
    let app = spawn_app().await;
    let s = app.staff().await;
    for _ in 0..20 {
        app.create(&s, sample_order()).await;
    }
    // Keep registering while the backup runs.
    let writer = {
        let (http, url, token) = (app.http.clone(), app.url("/api/v1/orders"), s.operator.clone());
        tokio::spawn(async move {
            let mut n = 0;
            for _ in 0..150 {
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(sample_order().to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                n += 1;
            }
            n
        })
    };
    let files = tempfile::tempdir().unwrap();
    let to = files.path().join("backup.db");
    let url = app.db_url.clone();
    let to_s = to.display().to_string();
    let run = tokio::task::spawn_blocking(move || cli(&["db", "backup", "--to", &to_s, "--database-url", &url], None))
        .await
        .unwrap();
    assert!(run.ok && run.stdout.contains("the copy verifies"), "{run:?}");
    let written = writer.await.unwrap();
    assert_eq!(written, 150);
    // The copy is a database of its own that verifies and holds at least what was there before.
    let check = cli(&["verify", "--database-url", &format!("sqlite://{}", to.display())], None);
    assert!(check.ok, "{check:?}");
    let n: usize = check.stdout.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n >= 20, "{check:?}");
    // A second backup to the same file is refused.
    let again = cli(&["db", "backup", "--to", to.to_str().unwrap(), "--database-url", &app.db_url], None);
    assert!(!again.ok && again.stderr.contains("exists"), "{again:?}");
}

#[test]
fn the_first_start_without_the_demo_says_how_to_create_the_first_account() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("new.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &db, "--sweep-seconds", "0"])
        .env("LIANXIN_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        seen.push(line.clone());
        if line.contains("lianxin user add") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().any(|l| l.contains("no accounts yet")), "{seen:?}");
    assert!(seen.iter().any(|l| l.contains("lianxin user add admin --role admin")), "{seen:?}");
    // And the password reset from the shell.
    let run = cli(&["user", "add", "first", "--role", "admin", "--database-url", &db], Some("first-password\n"));
    assert!(run.ok, "{run:?}");
    let short = cli(&["user", "passwd", "first", "--database-url", &db], Some("short\n"));
    assert!(!short.ok && short.stderr.contains("8 characters"), "{short:?}");
    let run = cli(&["user", "passwd", "first", "--database-url", &db], Some("second-password\n"));
    assert!(run.ok, "{run:?}");
    let bad_role = cli(&["user", "add", "second", "--role", "wizard", "--database-url", &db], Some("whatever-long\n"));
    assert!(!bad_role.ok && bad_role.stderr.contains("unknown role"), "{bad_role:?}");
}
