//! Sign-in throttling and the login log: failures and successes are recorded (never the
//! password), repeated failures per account and per address are answered 429 with
//! `Retry-After` for a growing delay (the API in JSON, the form in words), the state
//! survives a restart, and only admins read the log.

use crate::kit::*;
use lianxin_domain::login::LoginPolicy;
use lianxin_server::ServeOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD_TRIED: &str = "hunter2-not-the-password";

fn login_body(user: &str, password: &str) -> String {
    json!({"username": user, "password": password}).to_string()
}

impl TestApp {
    async fn try_login(&self, user: &str, password: &str) -> Resp {
        self.post_raw("/api/v1/auth/login", None, login_body(user, password)).await
    }

    async fn login_log(&self, admin: &str, query: &str) -> Value {
        let r = self.get(&format!("/api/v1/admin/logins{query}"), admin).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r.body
    }
}

/// Asserts a throttled answer: 429, `too_many_attempts`, `Retry-After: secs`.
async fn assert_throttled(app: &TestApp, user: &str, password: &str, secs: u64) {
    let before = app.login_counts().await;
    let r = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(login_body(user, password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(retry.as_deref(), Some(secs.to_string().as_str()), "Retry-After");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(&secs.to_string()), "{body}");
    assert_eq!(app.login_counts().await, before, "a throttled sign-in records nothing and opens no session");
}

dual! {
    async fn failed_and_successful_sign_ins_are_recorded_without_the_password() {
        let app = spawn_app().await;
        let r = app.try_login("operator", PASSWORD_TRIED).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "bad_credentials");
        let r = app.try_login("nobody-here", PASSWORD_TRIED).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "bad_credentials");
        let form = app.form_login(&TestApp::form_client(), "reviewer", PASSWORD_TRIED).await;
        assert_eq!(form.status, StatusCode::UNAUTHORIZED);
        let admin = app.login("admin").await;

        let log = app.login_log(&admin, "").await;
        let items = log["items"].as_array().unwrap();
        let seen: Vec<(&str, &str, &str, &str)> = items
            .iter()
            .map(|i| {
                (
                    i["username"].as_str().unwrap(),
                    i["outcome"].as_str().unwrap(),
                    i["via"].as_str().unwrap(),
                    i["address"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("admin", "success", "api", "127.0.0.1"),
                ("reviewer", "failure", "console", "127.0.0.1"),
                ("nobody-here", "failure", "api", "127.0.0.1"),
                ("operator", "failure", "api", "127.0.0.1"),
            ],
            "newest first, every attempt, the unknown username too"
        );
        assert!(items[0]["at"].as_str().unwrap().ends_with("+08:00"), "{}", items[0]);
        assert!(!log.to_string().contains(PASSWORD_TRIED), "the log never holds a password");
        let records = app.running.state.store().login_attempts(&Default::default(), 10).await.unwrap();
        assert!(!format!("{records:?}").contains(PASSWORD_TRIED), "nor does the table");

        // A successful console sign-in is recorded as such.
        let form = app.form_login(&TestApp::form_client(), "dispatcher", "demo").await;
        assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.html);
        let log = app.login_log(&admin, "?username=dispatcher").await;
        assert_eq!(log["items"][0]["outcome"], "success");
        assert_eq!(log["items"][0]["via"], "console");
    }
}

dual! {
    async fn after_five_failures_an_account_waits_longer_each_time_then_signs_in() {
        let app = spawn_app().await;
        for _ in 0..5 {
            assert_error(&app.try_login("operator", "wrong").await, StatusCode::UNAUTHORIZED, "bad_credentials");
        }
        // Even the right password waits: nothing is checked while throttled.
        assert_throttled(&app, "operator", "demo", 5).await;
        // Another account from the same address is not held up.
        app.login("reviewer").await;

        app.clock.advance(5_000);
        assert_error(&app.try_login("operator", "wrong").await, StatusCode::UNAUTHORIZED, "bad_credentials");
        assert_throttled(&app, "operator", "demo", 10).await;
        app.clock.advance(4_000);
        assert_throttled(&app, "operator", "demo", 6).await;
        app.clock.advance(6_000);

        // The wait is over: the right password signs in, and is recorded.
        let token = app.login("operator").await;
        assert_eq!(app.get("/api/v1/auth/me", &token).await.status, StatusCode::OK);
        let admin = app.login("admin").await;
        let log = app.login_log(&admin, "?username=operator&limit=1").await;
        assert_eq!(log["items"][0]["outcome"], "success");
        // A success starts the count afresh.
        assert_error(&app.try_login("operator", "wrong").await, StatusCode::UNAUTHORIZED, "bad_credentials");
        app.login("operator").await;
    }
}

dual! {
    async fn many_failures_from_one_address_hold_up_every_account_from_it() {
        let policy = LoginPolicy { address_failures: 4, ..LoginPolicy::default() };
        let app = spawn_app_options(ServeOptions { login: policy, ..ServeOptions::default() }).await;
        // Another loopback address stands for another machine.
        let other = reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
        for i in 0..4 {
            let r = other.post(app.url("/api/v1/auth/login")).header("content-type", "application/json").body(login_body(&format!("guess{i}"), "x")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        let before = app.login_counts().await;
        let r = other.post(app.url("/api/v1/auth/login")).header("content-type", "application/json").body(login_body("operator", "demo")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "a real account from that address waits too");
        assert_eq!(r.headers()["retry-after"], "5");
        assert_eq!(app.login_counts().await, before, "nothing recorded, no session");
        // The same account from elsewhere is not held up.
        app.login("operator").await;
        let admin = app.login("admin").await;
        let log = app.login_log(&admin, "?address=127.0.0.2").await;
        assert_eq!(log["items"].as_array().unwrap().len(), 4, "{log}");
        assert!(log["items"].as_array().unwrap().iter().all(|i| i["outcome"] == "failure"));
    }
}

dual! {
    async fn the_form_says_in_words_how_long_to_wait() {
        let app = spawn_app().await;
        let client = TestApp::form_client();
        for _ in 0..5 {
            assert_eq!(app.form_login(&client, "callback", "wrong").await.status, StatusCode::UNAUTHORIZED);
        }
        let before = app.login_counts().await;
        let form = app.form_login(&client, "callback", "demo").await;
        assert_eq!(form.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(form.headers["retry-after"], "5");
        assert!(form.html.contains("登录失败次数过多"), "{}", form.html);
        assert!(form.html.contains("请在 5 秒后重试"), "{}", form.html);
        assert!(form.session().is_none());
        assert_eq!(app.login_counts().await, before);
        // And in English.
        let page = client.get(app.url("/login?lang=en")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let en = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = en.get(app.url("/login?lang=en")).send().await.unwrap();
        let csrf = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("lx_login_csrf="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        let r = en
            .post(app.url("/login"))
            .header("cookie", format!("lx_login_csrf={csrf}; lx_lang=en"))
            .form(&[("_csrf", csrf.as_str()), ("username", "callback"), ("password", "demo")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let html = r.text().await.unwrap();
        assert!(html.contains("Too many failed sign-ins") && html.contains("Try again in 5 seconds."), "{html}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_survives_a_restart() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_error(&app.try_login("leader", "wrong").await, StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    let db = app.stop_keeping_db().await;
    let again = serve(tempfile::tempdir().unwrap(), &db.db_url).await;
    assert_throttled(&again, "leader", "demo", 5).await;
    again.clock.advance(5_000);
    again.login("leader").await;
}

dual! {
    async fn only_admins_read_the_login_log_newest_first_in_pages() {
        let app = spawn_app().await;
        for u in ["u1", "u2", "u3"] {
            app.try_login(u, "x").await;
        }
        let admin = app.login("admin").await;
        let first = app.login_log(&admin, "?outcome=failure&limit=2").await;
        let names: Vec<&str> = first["items"].as_array().unwrap().iter().map(|i| i["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["u3", "u2"]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app.login_log(&admin, &format!("?outcome=failure&limit=2&cursor={cursor}")).await;
        let names: Vec<&str> = second["items"].as_array().unwrap().iter().map(|i| i["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["u1"]);
        assert!(second["next_cursor"].is_null());
        let r = app.get("/api/v1/admin/logins?outcome=maybe&limit=0", &admin).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        assert!(r.body["error"]["fields"]["outcome"].is_string() && r.body["error"]["fields"]["limit"].is_string());

        let operator = app.login("operator").await;
        let before = app.login_counts().await;
        assert_error(&app.get("/api/v1/admin/logins", &operator).await, StatusCode::FORBIDDEN, "forbidden_role");
        let handler = app.login("handler.d440106").await;
        assert_error(&app.get("/api/v1/admin/logins", &handler).await, StatusCode::FORBIDDEN, "forbidden_role");
        let r = app.request(reqwest::Method::GET, "/api/v1/admin/logins", None, None).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "not_signed_in");
        let after = app.login_counts().await;
        assert_eq!(after.0, before.0 + 1, "only the handler's sign-in was written, nothing by the refusals");

        // The console page: the admin sees it (in Chinese by default), the operator does not.
        let session = app.form_login(&TestApp::form_client(), "admin", "demo").await.session().unwrap();
        let (status, html) = app.page("/console/admin/logins", &session).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("登录记录") && html.contains("<code>u2</code>") && html.contains("失败"), "{html}");
        assert!(html.contains("href=\"/console/admin/logins\""), "the admin tabs link the page");
        let (_, html) = app.page("/console/admin/logins?outcome=failure&username=u1&lang=en", &session).await;
        assert!(html.contains("Sign-ins") && html.contains("<code>u1</code>") && !html.contains("<code>u2</code>"), "{html}");
        let op_session = app.form_login(&TestApp::form_client(), "operator", "demo").await.session().unwrap();
        let (status, _) = app.page("/console/admin/logins", &op_session).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_usernames_cost_an_argon2_verification_like_real_ones() {
    let app = spawn_app().await;
    let state = &app.running.state;
    let time = |user: &'static str| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let r = app.try_login(user, "wrong").await;
            assert_error(&r, StatusCode::UNAUTHORIZED, "bad_credentials");
            started.elapsed()
        }
    };
    let before = state.password_checks();
    time("no-such-account").await;
    assert_eq!(state.password_checks(), before + 1, "an unknown username runs an argon2 verification");
    time("operator").await;
    assert_eq!(state.password_checks(), before + 2, "a real one does too");

    // And they take about as long (medians of a few; generous for a busy machine).
    let mut unknown = Vec::new();
    let mut real = Vec::new();
    for i in 0..3 {
        let name: &'static str = ["ghost-a", "ghost-b", "ghost-c"][i];
        unknown.push(time(name).await);
        real.push(time(["reviewer", "dispatcher", "supervisor"][i]).await);
    }
    unknown.sort();
    real.sort();
    let (u, r) = (unknown[1].as_secs_f64(), real[1].as_secs_f64());
    assert!(u / r < 3.0 && r / u < 3.0, "unknown {u:.3} s vs real {r:.3} s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_browser_the_form_asks_to_wait_and_the_admin_reads_the_log() {
    use crate::browser::*;
    with_browser(|app, ui| async move {
        for _ in 0..5 {
            ui.goto("/login").await;
            ui.keys("#username", "supervisor").await;
            ui.keys("#password", "not-it").await;
            ui.click("#login-submit").await;
            assert!(ui.text("#error-box").await.contains("用户名或密码错误"));
        }
        ui.goto("/login").await;
        ui.keys("#username", "supervisor").await;
        ui.keys("#password", "demo").await;
        ui.click("#login-submit").await;
        let said = ui.text("#error-box").await;
        assert!(said.contains("登录失败次数过多") && said.contains("请在 5 秒后重试"), "{said}");
        assert_eq!(ui.attr("#retry-after", "data-seconds").await, "5");
        ui.shot("login-throttled").await;

        app.clock.advance(5_000);
        ui.login("admin").await;
        ui.goto("/console/admin").await;
        ui.click(".adm-tabs a[href='/console/admin/logins']").await;
        ui.wait_path("/console/admin/logins").await;
        let rows = ui.c.find_all(fantoccini::Locator::Css("#logins tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 6, "5 failures and the admin's own sign-in");
        assert_eq!(ui.attr("#logins tbody tr:first-child", "data-username").await, "admin");
        assert_eq!(ui.attr("#logins tbody tr:nth-child(2)", "data-outcome").await, "failure");
        ui.el("#logins-outcome").await.select_by_value("failure").await.unwrap();
        ui.click("#logins-filter button[type=submit]").await;
        ui.wait_path("/console/admin/logins?").await;
        let rows = ui.c.find_all(fantoccini::Locator::Css("#logins tbody tr[data-outcome='failure']")).await.unwrap();
        assert_eq!(rows.len(), 5);
        assert!(!ui.has("#logins tbody tr[data-outcome='success']").await);
        ui.shot("admin-logins").await;
    })
    .await;
}
