//! The admin console (`/console/admin`) in headless Chromium: setting up units and
//! categories that intake then offers, disabling an account that is signed in elsewhere,
//! a unit admin's narrower view, and import with its dry run. Screenshots go to
//! `target/screenshots/` with the others.

use crate::browser::*;
use crate::kit::*;
use fantoccini::Locator;
use lianxin_domain::{CategoryCode, UnitCode};
use serde_json::json;
use std::time::Duration;

/// The number shown on a preview's count chip.
async fn count(ui: &Ui, what: &str) -> String {
    ui.text(&format!("#preview-counts [data-count='{what}'] b")).await
}

/// Signs in with a password other than the demo's.
async fn login_with(ui: &Ui, user: &str, password: &str) {
    ui.goto("/login").await;
    ui.keys("#username", user).await;
    ui.keys("#password", password).await;
    ui.click("#login-submit").await;
    ui.wait_path("/console").await;
}

/// Replaces the text of a field.
async fn set(ui: &Ui, css: &str, text: &str) {
    let el = ui.el(css).await;
    el.clear().await.unwrap();
    if !text.is_empty() {
        el.send_keys(text).await.unwrap();
    }
}

async fn select(ui: &Ui, css: &str, value: &str) {
    ui.el(css).await.select_by_value(value).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_sets_up_a_unit_and_a_category_that_intake_then_offers() {
    with_browser(|app, ui| async move {
        ui.login("admin").await;
        assert!(ui.text("nav.nav").await.contains("系统管理"), "an admin has the admin pages in the navigation");
        ui.goto("/console/admin").await;
        let units = ui.text("#count-units b.total").await;
        assert!(units.parse::<usize>().unwrap() > 200, "the overview counts the demo's units: {units}");
        ui.shot("admin-01-overview").await;

        // A new unit, created in the unit tree's form.
        ui.goto("/console/admin/units").await;
        assert!(ui.text(".node[data-code='d440106']").await.contains("天河区人民政府"), "the tree lists the units");
        ui.shot("admin-00-units-tree").await;
        ui.keys("#new-code", "city-parks-test").await;
        ui.keys("#new-name", "市公园管理测试中心").await;
        select(&ui, "#new-kind", "department").await;
        select(&ui, "#new-jurisdiction", "4401").await;
        ui.click("#create-submit").await;
        ui.wait_path("/console/admin/units/city-parks-test?done=create").await;
        assert_eq!(ui.text("#item-name").await, "市公园管理测试中心");
        assert!(ui.text("#flash").await.contains("已创建"));
        assert!(ui.text("#history").await.contains("系统管理员"), "the history names who created it");
        let unit = UnitCode::parse("city-parks-test").unwrap();
        assert!(app.running.state.directory().unit(&unit).is_some(), "the unit is in the directory");

        // Deactivated, it stays in the tree, greyed and labelled; then it is reactivated.
        ui.click("#toggle-active").await;
        ui.wait_path("/console/admin/units/city-parks-test?done=deactivate").await;
        assert_eq!(ui.attr("#item-state", "data-active").await, "false");
        assert!(!app.running.state.directory().unit(&unit).unwrap().active);
        ui.goto("/console/admin/units?q=city-parks").await;
        let node = ui.text(".node.inactive[data-code='city-parks-test']").await;
        assert!(node.contains("已停用"), "a deactivated unit is labelled: {node}");
        ui.goto("/console/admin/units/city-parks-test").await;
        assert!(ui.has("#history tr[data-action='deactivate']").await);
        ui.click("#toggle-active").await;
        ui.wait_path("/console/admin/units/city-parks-test?done=activate").await;
        assert_eq!(ui.attr("#item-state", "data-active").await, "true");

        // A district's page lists its streets.
        ui.goto("/console/admin/jurisdictions/440106").await;
        assert!(ui.text("#children").await.contains("五山街道"));
        assert_eq!(ui.value("#edit-level").await, "district");

        // The same code again is refused next to the field, and nothing changes.
        ui.goto("/console/admin/units").await;
        ui.keys("#new-code", "city-parks-test").await;
        ui.keys("#new-name", "另一个名字").await;
        select(&ui, "#new-kind", "department").await;
        ui.click("#create-submit").await;
        assert!(ui.text("#err-new-code").await.contains("已存在"), "the refusal is next to the code field");
        assert_eq!(ui.value("#new-name").await, "另一个名字", "what was typed is kept");
        assert_eq!(app.running.state.directory().unit(&unit).unwrap().name, "市公园管理测试中心");

        // A new leaf category under 市政设施 with its limits, request type and prompts.
        ui.goto("/console/admin/categories").await;
        ui.keys("#new-code", "urban.facilities.bench-broken").await;
        ui.keys("#new-name", "公园座椅损坏").await;
        select(&ui, "#new-parent", "urban.facilities").await;
        ui.keys("#new-limit_normal", "3wd").await;
        ui.keys("#new-limit_urgent", "8wh").await;
        ui.keys("#new-limit_emergency", "30m").await;
        select(&ui, "#new-request_type", "help").await;
        ui.keys("#new-prompts", "座椅所在位置\n损坏情况（断裂、松动）").await;
        ui.click("#create-submit").await;
        ui.wait_path("/console/admin/categories/urban.facilities.bench-broken?done=create").await;
        assert!(ui.text(".crumbs").await.contains("市政设施"), "the item page shows where it sits");
        assert_eq!(ui.value("#edit-limit_normal").await, "3wd");
        assert_eq!(ui.value("#edit-prompts").await, "座椅所在位置\n损坏情况（断裂、松动）");

        // Editing the time limit: a bad value is refused next to its field…
        set(&ui, "#edit-limit_normal", "5x").await;
        ui.click("#edit-submit").await;
        let err = ui.text("#err-edit-limit_normal").await;
        assert!(err.contains("时限格式不正确"), "the refusal says what a limit looks like, in Chinese: {err}");
        assert_eq!(ui.attr("#error-box", "data-code").await, "invalid_rows");
        ui.shot("admin-02-category-refused").await;
        // …a good one is saved and recorded with before and after.
        set(&ui, "#edit-limit_normal", "2wd").await;
        ui.click("#edit-submit").await;
        ui.wait_path("/console/admin/categories/urban.facilities.bench-broken?done=update").await;
        assert_eq!(ui.value("#edit-limit_normal").await, "2wd");
        let update = ui.text("#history tr[data-action='update']").await;
        assert!(update.contains("3wd") && update.contains("2wd"), "the history shows 3wd → 2wd: {update}");
        assert!(update.contains("系统管理员"), "{update}");
        assert!(ui.has("#history tr[data-action='create']").await);
        ui.shot("admin-03-category-history").await;

        // In the tree (found by search), with its new limit.
        ui.goto("/console/admin/categories?q=bench").await;
        let node = ui.text(".node[data-code='urban.facilities.bench-broken']").await;
        assert!(node.contains("公园座椅损坏") && node.contains("2个工作日"), "{node}");
        assert!(ui.has(".node.hit[data-code='urban.facilities.bench-broken']").await);
        ui.shot("admin-04-category-tree").await;

        // English, remembered like the rest of the console.
        ui.goto("/console/admin/categories?lang=en").await;
        assert!(ui.text("h1").await.contains("Categories"));
        ui.goto("/console/admin/categories?lang=zh").await;
        assert!(ui.text("h1").await.contains("诉求分类"));

        // A route for the new category to the new unit, then gone again.
        ui.goto("/console/admin/routes").await;
        select(&ui, "#route-category", "urban.facilities.bench-broken").await;
        select(&ui, "#route-unit", "city-parks-test").await;
        ui.click("#route-submit").await;
        ui.wait_path("/console/admin/routes?done=route_create").await;
        let row = "#routes tr[data-category='urban.facilities.bench-broken'][data-place='']";
        assert!(ui.text(row).await.contains("市公园管理测试中心"));
        let cat = CategoryCode::parse("urban.facilities.bench-broken").unwrap();
        assert_eq!(
            app.running.state.directory().suggest_lead(&cat, None, None).map(|u| u.code.to_string()).as_deref(),
            Some("city-parks-test"),
            "dispatch now suggests the new unit"
        );
        ui.shot("admin-05-routes").await;
        ui.click(&format!("{row} .route-delete")).await;
        ui.wait_path("/console/admin/routes?done=delete").await;
        assert!(!ui.has(row).await, "the row is deleted");
        assert!(ui.text("#history").await.contains("删除"));

        // The operator finds the new category at intake and registers an order on it.
        ui.logout().await;
        ui.login("operator").await;
        ui.goto("/console/intake").await;
        ui.keys("#phone", "13700007777").await;
        ui.keys("#cat-q", "公园座椅").await;
        ui.el("#cat-list li.active").await;
        ui.keys("#cat-q", ENTER).await;
        assert_eq!(ui.value("#category").await, "urban.facilities.bench-broken");
        assert_eq!(ui.value("#request_type").await, "help", "the category's request type is proposed");
        assert!(ui.text("#cat-limits").await.contains("2个工作日"), "intake shows the edited limit");
        assert!(ui.text("#cat-prompts").await.contains("座椅所在位置"));
        ui.keys("#content", "五山公园东门的长椅断了，小孩容易受伤。").await;
        ui.keys("#street-q", "wsjd").await;
        ui.el("#street-list li.active").await;
        ui.keys("#street-q", ENTER).await;
        ui.keys("#address", CTRL_ENTER).await;
        let number = ui.text("#done-number").await;
        let op = app.login("operator").await;
        let o = order_as(&app, &op, &number).await;
        assert_eq!(o["category"], "urban.facilities.bench-broken");
        assert_eq!(o["status"], "in_review");

        // The operator has no admin pages.
        assert!(!ui.text("nav.nav").await.contains("系统管理"));
        ui.goto("/console/admin/categories").await;
        assert_eq!(ui.attr("#error-box", "data-code").await, "forbidden_role");
        assert!(ui.body().await.contains("无权"), "the not-allowed page says so");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_is_signed_out_at_once() {
    with_browser(|app, ui| async move {
        // The handler works in a browser of its own.
        let other = Browser::start().await;
        let handler = Ui { c: other.client.clone(), base: app.running.url() };
        let result = tokio::spawn({
            let app = app.clone();
            let ui = ui.clone();
            async move {
                handler.login("handler.d440106").await;
                assert_eq!(handler.path().await, "/console/inbox");

                ui.login("admin").await;
                ui.goto("/console/admin/users?q=d440106").await;
                ui.click("#users tr[data-username='handler.d440106'] a.row-link").await;
                ui.wait_path("/console/admin/users/handler.d440106").await;
                assert_eq!(ui.attr("#item-state", "data-active").await, "true");
                ui.click("#toggle-active").await;
                ui.wait_path("/console/admin/users/handler.d440106?done=disable").await;
                assert_eq!(ui.attr("#item-state", "data-active").await, "false");
                let h = ui.text("#history tr[data-action='disable']").await;
                assert!(h.contains("系统管理员"), "{h}");
                ui.shot("admin-06-user-disabled").await;

                // The handler's very next request is refused: back to sign-in.
                handler.goto("/console/inbox").await;
                handler.wait_path("/login").await;
                // Nor can it sign in again.
                handler.keys("#username", "handler.d440106").await;
                handler.keys("#password", "demo").await;
                handler.click("#login-submit").await;
                assert!(handler.text("#error-box").await.contains("用户名或密码错误"));
                let r = app
                    .post_raw(
                        "/api/v1/auth/login",
                        None,
                        json!({"username": "handler.d440106", "password": "demo"}).to_string(),
                    )
                    .await;
                assert_eq!(r.status, reqwest::StatusCode::UNAUTHORIZED, "the API refuses it too: {:?}", r.body);

                // Enabled again, it signs in.
                ui.click("#toggle-active").await;
                ui.wait_path("/console/admin/users/handler.d440106?done=enable").await;
                handler.login("handler.d440106").await;
                assert_eq!(handler.path().await, "/console/inbox");

                // An admin cannot disable its own account.
                ui.goto("/console/admin/users/admin").await;
                ui.click("#toggle-active").await;
                assert_eq!(ui.attr("#error-box", "data-code").await, "own_account");
                assert_eq!(ui.attr("#item-state", "data-active").await, "true");

                // A unit admin for 天河区, created in the form with a password of its own.
                ui.goto("/console/admin/users").await;
                ui.keys("#new-username", "ua.tianhe").await;
                ui.keys("#new-display_name", "天河区单位管理员").await;
                ui.click("#new-roles input[value='unit_admin']").await;
                select(&ui, "#new-unit", "d440106").await;
                ui.keys("#new-password", "short").await;
                ui.click("#create-submit").await;
                assert!(ui.text("#err-new-password").await.contains("至少 8 个字符"), "a short password is refused");
                assert_eq!(ui.value("#new-username").await, "ua.tianhe");
                set(&ui, "#new-password", "tianhe-2026").await;
                ui.click("#create-submit").await;
                ui.wait_path("/console/admin/users/ua.tianhe?done=create").await;

                handler.logout().await;
                login_with(&handler, "ua.tianhe", "tianhe-2026").await;
                let nav = handler.text("nav.nav").await;
                assert!(nav.contains("账号管理") && !nav.contains("系统管理"), "{nav}");
                handler.goto("/console/admin").await;
                handler.wait_path("/console/admin/users").await;
                let listed = handler.text("#users").await;
                assert!(
                    listed.contains("handler.d440106") && listed.contains("handler.s440106001"),
                    "its units' accounts"
                );
                assert!(
                    !listed.contains("handler.d440104") && !listed.contains("operator"),
                    "only its units' accounts"
                );
                let roles = handler.text("#new-roles").await;
                assert!(
                    roles.contains("承办人") && roles.contains("单位管理员") && !roles.contains("话务员"),
                    "{roles}"
                );
                handler.shot("admin-07-unit-admin-users").await;
                handler.goto("/console/admin/users/operator").await;
                assert_eq!(handler.attr("#error-box", "data-code").await, "not_found");
                handler.goto("/console/admin/units").await;
                assert_eq!(handler.attr("#error-box", "data-code").await, "forbidden_role");
            }
        })
        .await;
        other.close().await;
        if let Err(e) = result {
            std::panic::resume_unwind(e.into_panic());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_previews_then_applies_and_names_bad_rows() {
    with_browser(|app, ui| async move {
        ui.login("admin").await;
        let water = UnitCode::parse("co-water").unwrap();
        let w = app.running.state.directory().unit(&water).cloned().unwrap();
        let new_code = UnitCode::parse("imp-office-a").unwrap();
        let csv = format!(
            "code,name,kind,parent,jurisdiction\n\
             imp-office-a,导入测试办公室甲,department,,4401\n\
             co-water,{}（测试）,{},{},{}\n",
            w.name,
            w.kind,
            w.parent.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            w.jurisdiction.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        );

        // Preview: counts and each change, nothing written.
        ui.goto("/console/admin/import").await;
        select(&ui, "#import-kind", "units").await;
        ui.keys("#import-content", &csv).await;
        ui.click("#import-preview").await;
        assert_eq!(count(&ui, "created").await, "1");
        assert_eq!(count(&ui, "updated").await, "1");
        assert_eq!(count(&ui, "unchanged").await, "0");
        let created = ui.text("#preview-changes tr[data-code='imp-office-a'][data-action='create']").await;
        assert!(created.contains("导入测试办公室甲"), "{created}");
        let updated = ui.text("#preview-changes tr[data-code='co-water'][data-action='update']").await;
        assert!(updated.contains(&w.name) && updated.contains("（测试）"), "before → after: {updated}");
        assert!(ui.body().await.contains("尚未写入"));
        ui.shot("admin-08-import-preview").await;
        assert!(app.running.state.directory().unit(&new_code).is_none(), "a preview writes nothing");
        assert_eq!(app.running.state.directory().unit(&water).unwrap().name, w.name);
        ui.goto("/console/admin/units?q=imp-office").await;
        assert!(ui.has("#tree-empty").await, "the unit is not in the tree");

        // Apply the same content.
        ui.goto("/console/admin/import").await;
        select(&ui, "#import-kind", "units").await;
        ui.keys("#import-content", &csv).await;
        ui.click("#import-apply").await;
        ui.wait_path("/console/admin/import?done=import").await;
        let flash = ui.text("#flash").await;
        assert!(flash.contains("新建 1") && flash.contains("更新 1"), "{flash}");
        assert_eq!(app.running.state.directory().unit(&new_code).unwrap().name, "导入测试办公室甲");
        ui.goto("/console/admin/units?q=imp-office").await;
        assert!(ui.text(".node[data-code='imp-office-a']").await.contains("导入测试办公室甲"));
        ui.goto("/console/admin/units/imp-office-a").await;
        assert!(ui.has("#history tr[data-action='create']").await, "an import is in the item's history");

        // The same file again changes nothing.
        ui.goto("/console/admin/import").await;
        select(&ui, "#import-kind", "units").await;
        ui.keys("#import-content", &csv).await;
        ui.click("#import-preview").await;
        assert_eq!(count(&ui, "unchanged").await, "2");
        assert!(!ui.has("#preview-changes").await);

        // Bad rows: each named by line and column, nothing written.
        ui.goto("/console/admin/import").await;
        select(&ui, "#import-kind", "units").await;
        ui.keys("#import-content", "code,name,kind\nBad Code!,名称,department\nimp-office-b,,nosuchkind\n").await;
        ui.click("#import-preview").await;
        ui.el("#bad-rows tr[data-line='2'][data-column='code']").await;
        assert!(ui.text("#bad-rows tr[data-line='3'][data-column='name']").await.contains("不能为空"));
        assert!(ui.has("#bad-rows tr[data-line='3'][data-column='kind']").await);
        assert!(ui.text("#error-box").await.contains("未写入任何数据"));
        assert_eq!(
            ui.value("#import-content").await,
            "code,name,kind\nBad Code!,名称,department\nimp-office-b,,nosuchkind\n"
        );
        ui.shot("admin-09-import-bad-rows").await;
        // Apply is refused the same way (on a fresh page: the old table is removed first).
        ui.c.execute("document.getElementById('bad-rows').remove()", vec![]).await.unwrap();
        ui.click("#import-apply").await;
        ui.el("#bad-rows tr[data-line='2'][data-column='code']").await;
        assert!(app.running.state.directory().unit(&UnitCode::parse("imp-office-b").unwrap()).is_none());

        // A picked file fills the text box (our own script), then previews like pasted text.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("units.json");
        std::fs::write(&path, r#"[{"code":"imp-office-c","name":"导入测试办公室丙","kind":"company"}]"#).unwrap();
        ui.goto("/console/admin/import").await;
        select(&ui, "#import-kind", "units").await;
        ui.keys("#import-file", path.to_str().unwrap()).await;
        let started = std::time::Instant::now();
        while !ui.value("#import-content").await.contains("imp-office-c") {
            assert!(started.elapsed() < WAIT, "the file's text never reached the text box");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(ui.value("#import-format").await, "json");
        ui.click("#import-preview").await;
        assert_eq!(count(&ui, "created").await, "1");

        // Export: a CSV download of what import reads, with the imported unit.
        let cookie = ui.c.get_named_cookie("lx_session").await.unwrap();
        let r = app
            .http
            .get(app.url("/console/admin/export/units"))
            .header("cookie", format!("lx_session={}", cookie.value()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(disposition.contains("attachment") && disposition.contains(".csv"), "{disposition}");
        let body = r.text().await.unwrap();
        assert!(body.starts_with("code,name,kind,parent,jurisdiction,active"), "{}", &body[..80.min(body.len())]);
        assert!(body.contains("imp-office-a,导入测试办公室甲"));
        let links = ui.c.find_all(Locator::Css("#exports a")).await.unwrap();
        assert!(links.len() >= 10, "an export link per kind and format");
    })
    .await;
}
