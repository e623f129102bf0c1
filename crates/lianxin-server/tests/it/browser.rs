//! The staff console in a real browser: headless Chromium driven through chromedriver
//! (Debian's `chromium` and `chromium-driver`; `scripts/browser-deps.sh` installs them).
//! Each role walks its path through real pages; screenshots of the main pages are saved
//! to `target/screenshots/` as artefacts.

use crate::kit::*;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub(crate) const ENTER: &str = "\u{e007}";
pub(crate) const CTRL_ENTER: &str = "\u{e009}\u{e007}\u{e000}";
pub(crate) const WAIT: Duration = Duration::from_secs(10);

fn chromium() -> &'static str {
    ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].into_iter().find(|p| Path::new(p).exists()).unwrap_or_else(|| {
        panic!("Chromium is not installed (looked for /usr/lib/chromium/chromium and /usr/bin/chromium); run scripts/browser-deps.sh as root")
    })
}

pub(crate) fn screenshots_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

/// A chromedriver process and the Chromium session it drives.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn start() -> Browser {
        assert!(
            Path::new(CHROMEDRIVER).exists(),
            "{CHROMEDRIVER} is missing: the browser tests need Debian's `chromium` and `chromium-driver`. \
             Run scripts/browser-deps.sh as root (scripts/test.sh does), or apt-get install chromium chromium-driver."
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(started.elapsed() < WAIT, "chromedriver did not listen on port {port} within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("a Chromium profile directory");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1440,1000",
            "--force-device-scale-factor=1",
            "--lang=zh-CN",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let caps = json!({"browserName": "chrome", "goog:chromeOptions": {"binary": chromium(), "args": args}});
        let Value::Object(caps) = caps else { unreachable!() };
        // chromedriver speaks plain HTTP on loopback: no TLS (and no rustls crypto provider
        // to choose between the two that the dependency graph holds).
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}"));
        Browser { client, driver, _profile: profile }
    }

    pub(crate) async fn close(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill().await;
    }
}

/// The browser as a test uses it: pages of the app under test.
#[derive(Clone)]
pub(crate) struct Ui {
    pub(crate) c: Client,
    pub(crate) base: String,
}

impl Ui {
    pub(crate) async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    pub(crate) async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    pub(crate) async fn el(&self, css: &str) -> Element {
        match self.c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                let url = self.c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                let text = self.c.find(Locator::Css("body")).await.ok();
                let text = match text {
                    Some(b) => b.text().await.unwrap_or_default(),
                    None => self.c.source().await.unwrap_or_default(),
                };
                panic!("no `{css}` on {url} ({e}); the page says:\n{}", text.chars().take(1500).collect::<String>())
            }
        }
    }

    pub(crate) async fn has(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    /// The element's text. A page that is still navigating can replace the element between
    /// finding and reading it (a stale element): then it is found again.
    pub(crate) async fn text(&self, css: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            match self.el(css).await.text().await {
                Ok(t) => return t,
                Err(_) if started.elapsed() < WAIT => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("`{css}` could not be read: {e}"),
            }
        }
    }

    pub(crate) async fn value(&self, css: &str) -> String {
        self.el(css).await.prop("value").await.unwrap().unwrap_or_default()
    }

    pub(crate) async fn attr(&self, css: &str, name: &str) -> String {
        self.el(css).await.attr(name).await.unwrap().unwrap_or_default()
    }

    pub(crate) async fn keys(&self, css: &str, text: &str) {
        self.el(css).await.send_keys(text).await.unwrap();
    }

    /// Clicks the element. A fragment the page re-renders (the intake's aids as the operator
    /// types) can replace it between finding and clicking: then it is found again.
    pub(crate) async fn click(&self, css: &str) {
        let started = std::time::Instant::now();
        loop {
            match self.el(css).await.click().await {
                Ok(()) => return,
                Err(e) if started.elapsed() < WAIT && e.to_string().contains("stale element") => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("`{css}` could not be clicked: {e}"),
            }
        }
    }

    pub(crate) async fn body(&self) -> String {
        self.text("body").await
    }

    /// Waits until the page's path starts with `prefix`.
    pub(crate) async fn wait_path(&self, prefix: &str) {
        let started = std::time::Instant::now();
        loop {
            let p = self.path().await;
            if p.starts_with(prefix) {
                return;
            }
            assert!(started.elapsed() < WAIT, "expected to reach {prefix}, still at {p}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn shot(&self, name: &str) {
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
    }

    pub(crate) async fn login(&self, user: &str) {
        self.goto("/login").await;
        self.keys("#username", user).await;
        self.keys("#password", "demo").await;
        self.click("#login-submit").await;
        self.wait_path("/console").await;
    }

    pub(crate) async fn logout(&self) {
        self.click("#logout").await;
        self.wait_path("/login").await;
    }

    pub(crate) async fn status(&self) -> String {
        self.attr("#order-status", "data-status").await
    }
}

/// Runs `body` against a fresh app and browser; the browser is closed even when the body
/// fails.
pub(crate) async fn with_browser<F, Fut>(body: F)
where
    F: FnOnce(Arc<TestApp>, Ui) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (app, browser) = tokio::join!(spawn_app(), Browser::start());
    let app = Arc::new(app);
    let ui = Ui { c: browser.client.clone(), base: app.running.url() };
    let result = tokio::spawn(body(app.clone(), ui)).await;
    browser.close().await;
    if let Err(e) = result {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("the browser test was cancelled: {e}");
    }
}

/// The hotline-wide demo accounts, signed in at once (each sign-in is a deliberately slow
/// password check).
pub(crate) async fn team(app: &TestApp) -> Staff {
    let (operator, reviewer, dispatcher, callback, supervisor, leader) = tokio::join!(
        app.login("operator"),
        app.login("reviewer"),
        app.login("dispatcher"),
        app.login("callback"),
        app.login("supervisor"),
        app.login("leader"),
    );
    Staff { operator, reviewer, dispatcher, callback, supervisor, leader }
}

/// An order as the API shows it to `token`.
pub(crate) async fn order_as(app: &TestApp, token: &str, number: &str) -> Value {
    let r = app.get(&format!("/api/v1/orders/{number}"), token).await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{:?}", r.body);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_registers_a_call_from_the_keyboard() {
    with_browser(|app, ui| async move {
        // The caller already has an open order: the screen pop warns of a repeat call.
        let op = app.login("operator").await;
        let earlier = number_of(&app.create_order(&op).await);

        ui.login("operator").await;
        assert_eq!(ui.path().await, "/console/intake", "an operator starts on the intake screen");
        ui.keys("#phone", "13800001234").await;
        let warning = ui.text("#repeat-warning").await;
        assert!(warning.contains(&earlier), "the repeat-call warning names the open order: {warning}");
        assert_eq!(ui.value("#name").await, "张小明", "the caller's name comes from the history");

        // Category by pinyin initials: 路灯不亮 = ldbl; Enter picks it and moves on.
        ui.keys("#cat-q", "ldbl").await;
        ui.el("#cat-list li.active").await;
        ui.keys("#cat-q", ENTER).await;
        assert_eq!(ui.value("#category").await, "urban.facilities.streetlight-out");
        assert_eq!(ui.value("#request_type").await, "help", "the leaf's request type is proposed");
        assert!(ui.text("#cat-limits").await.contains("5个工作日"), "the leaf's time limit is shown");
        assert!(ui.text("#cat-prompts").await.contains("路灯杆编号"), "the leaf's prompts are shown");
        // The category's template fills the empty content, the cursor on its first blank.
        let skeleton = ui.value("#content").await;
        assert!(skeleton.starts_with("来电人反映：【具体地址】____附近路灯不亮"), "{skeleton}");
        ui.keys("#content", "天河路口").await;
        assert!(ui.value("#content").await.starts_with("来电人反映：【具体地址】天河路口附近路灯不亮。"));
        // The leaf's prompts go in below (Alt+P), the cursor after the first.
        ui.click("#insert-prompts").await;
        ui.keys("#content", "天河路1号 L-0031").await;
        assert!(ui.value("#content").await.contains("具体地址和路灯杆编号：天河路1号 L-0031"));

        // District, then the street by its initials (五山街道 = wsjd).
        ui.el("#district").await.select_by_value("440106").await.unwrap();
        ui.keys("#street-q", "wsjd").await;
        ui.el("#street-list li.active").await;
        ui.keys("#street-q", ENTER).await;
        assert_eq!(ui.value("#street").await, "440106001");
        ui.keys("#address", "天河路1号").await;
        ui.shot("01-operator-intake").await;

        // Ctrl+Enter registers and submits for review.
        ui.keys("#address", CTRL_ENTER).await;
        let number = ui.text("#done-number").await;
        ui.shot("02-operator-registered").await;
        let o = order_as(&app, &op, &number).await;
        assert_eq!(o["status"], "in_review");
        assert_eq!(o["category"], "urban.facilities.streetlight-out");
        assert_eq!(o["location"]["street"], "440106001");
        assert_eq!(o["caller"]["phone"], "13800001234");
        assert_eq!(
            o["title"], "来电人反映：天河路口附近路灯不亮",
            "the title is the first line filled in, without the template's labels"
        );
        assert_eq!(ui.attr("#phone", "value").await, "", "the form is clean for the next call");

        // A consultation answered at once (first-contact resolution).
        ui.keys("#phone", "13900002222").await;
        ui.keys("#cat-q", "垃圾分类").await;
        ui.el("#cat-list li.active").await;
        ui.keys("#cat-q", ENTER).await;
        // A consultation needs no skeleton: the operator writes over it.
        ui.el("#content").await.clear().await.unwrap();
        ui.keys("#content", "请问厨余垃圾怎么投放？").await;
        ui.keys("#street-q", "五山").await;
        ui.el("#street-list li.active").await;
        ui.keys("#street-q", ENTER).await;
        ui.keys("#resolution", "厨余垃圾沥干水分后投放到绿色桶，每天 7–9 点、18–21 点定时投放。").await;
        // How the call was closed is chosen, never preset: without it nothing is registered.
        assert_eq!(ui.value("#kind").await, "", "no close kind is chosen in advance");
        let before = app.order_count().await;
        ui.click("#btn-close").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.order_count().await, before, "a close without its kind registers nothing");
        ui.el("#kind").await.select_by_value("answered").await.unwrap();
        ui.click("#btn-close").await;
        let closed = ui.text("#done-number").await;
        let o = order_as(&app, &op, &closed).await;
        assert_eq!(o["status"], "closed");
        assert_eq!(o["first_contact"]["kind"], "answered");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewer_approves_from_the_review_queue() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let n = app.create(&s, sample_order()).await;
        app.must(&n, "submit", &s.operator, json!({})).await;

        ui.login("reviewer").await;
        assert_eq!(ui.path().await, "/console/review");
        let row = format!("#q-review tr[data-number='{n}']");
        let text = ui.text(&row).await;
        assert!(text.contains("138****1234"), "a reviewer sees the caller masked: {text}");
        assert!(!text.contains("13800001234"));
        ui.shot("03-reviewer-queue").await;
        ui.click(&format!("{row} a.row-link")).await;
        ui.wait_path(&format!("/console/orders/{n}")).await;
        assert_eq!(ui.status().await, "in_review");
        ui.shot("04-reviewer-order").await;
        ui.click("#btn-approve").await;
        ui.el("#flash").await;
        assert_eq!(ui.status().await, "pending_dispatch");
        assert!(ui.text("#timeline").await.contains("审核员 李娜"), "the timeline says who approved");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatcher_dispatches_to_the_suggested_unit() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let n = app.pending_order(&s, sample_order()).await;

        ui.login("dispatcher").await;
        assert_eq!(ui.path().await, "/console/dispatch");
        let row = format!("#q-dispatch tr[data-number='{n}']");
        assert!(ui.text(&row).await.contains("天河区人民政府"), "the queue shows the suggested lead unit");
        ui.shot("05-dispatcher-queue").await;
        ui.click(&format!("{row} a.row-link")).await;
        ui.wait_path(&format!("/console/orders/{n}")).await;
        assert_eq!(ui.attr("#suggested-lead", "data-code").await, "d440106");
        assert_eq!(ui.value("#lead_unit").await, "d440106", "the suggestion is preselected");
        // A filter that matches nothing says so and leaves the chosen unit alone.
        ui.keys("input.unit-filter[data-for='lead_unit']", "zzzq").await;
        assert!(ui.text("#lead_unit-none").await.contains("没有匹配项"), "the filter says nothing matches");
        assert_eq!(ui.value("#lead_unit").await, "d440106", "filtering never changes the chosen unit");
        ui.el("input.unit-filter[data-for='lead_unit']").await.clear().await.unwrap();
        // An assisting unit, picked by typing its name: a chip, not a Ctrl+click list.
        ui.keys("#assisting_units-q", "供电").await;
        ui.click("#assisting_units-list li[data-code='co-power']").await;
        assert!(ui.text(".chip-list").await.contains("供电"), "the picked unit shows as a chip");
        ui.shot("06-dispatcher-order").await;
        ui.click("#btn-dispatch").await;
        ui.el("#flash").await;
        assert_eq!(ui.status().await, "dispatched");
        assert!(ui.text("#order-lead").await.contains("天河区人民政府"));
        assert!(ui.text("#order-deadline").await.contains("2026-11-30 10:00"), "5 working days from Monday 10:00");
        let o = order_as(&app, &s.operator, &n).await;
        assert_eq!(o["lead_unit"], "d440106");
        assert_eq!(o["assisting_units"], json!(["co-power"]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_signs_and_replies_in_the_unit_inbox() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let n = app.dispatched_order(&s, "d440106", &[]).await;
        let mut secret = sample_order();
        secret["caller"] = json!({"phone": "13911112222", "name": "保密人", "confidential": true});
        let hidden = app.pending_order(&s, secret).await;
        app.must(&hidden, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;

        ui.login("handler.d440106").await;
        assert_eq!(ui.path().await, "/console/inbox");
        let secret_row = ui.text(&format!("#q-inbox tr[data-number='{hidden}']")).await;
        assert!(secret_row.contains("保密来电人"), "a confidential caller is hidden: {secret_row}");
        assert!(!ui.body().await.contains("13911112222"), "a confidential caller's phone never reaches a unit");
        ui.shot("07-handler-inbox").await;

        // Sign from the inbox, then reply on the order page.
        ui.click(&format!("#q-inbox tr[data-number='{n}'] .quick-sign")).await;
        ui.el("#flash").await;
        ui.click(&format!("#q-inbox tr[data-number='{n}'] a.row-link")).await;
        ui.wait_path(&format!("/console/orders/{n}")).await;
        assert_eq!(ui.status().await, "in_progress");
        ui.keys("#reply-content", "已派人现场修复路灯，今晚起恢复照明。").await;
        ui.click("#reply-solved").await;
        ui.shot("08-handler-reply").await;
        ui.click("#btn-reply").await;
        ui.el("#flash").await;
        assert_eq!(ui.status().await, "replied");
        let events = app.events(&n, &s.operator).await;
        let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
        assert!(actions.ends_with(&["dispatch", "sign", "reply"]), "{actions:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_cannot_open_another_units_order() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let mut elsewhere = sample_order();
        elsewhere["location"] = json!({"street": "440104001", "address": "越秀区洪桥街1号"});
        elsewhere["content"] = json!("越秀区的井盖缺失，请处理。");
        let n = app.pending_order(&s, elsewhere).await;
        app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "d440104"})).await;

        ui.login("handler.d440106").await;
        ui.goto(&format!("/console/orders/{n}")).await;
        assert_eq!(ui.attr("#error-box", "data-code").await, "not_found");
        let body = ui.body().await;
        assert!(body.contains("未找到该工单"), "{body}");
        assert!(!body.contains("越秀区的井盖缺失"), "nothing of the order is shown");
        ui.shot("09-handler-not-found").await;
        // Nor can it act on it: a well-formed post (with this session's CSRF token) is a 404 too.
        let before = app.events(&n, &s.operator).await.len();
        let script = format!(
            "const f = document.createElement('form'); f.method = 'post'; \
             f.action = '/console/orders/{n}/actions/sign'; \
             f.appendChild(document.querySelector('form.logout input[name=_csrf]').cloneNode()); \
             document.body.appendChild(f); f.submit();"
        );
        ui.c.execute(&script, vec![]).await.unwrap();
        ui.wait_path(&format!("/console/orders/{n}/actions/sign")).await;
        assert_eq!(ui.attr("#error-box", "data-code").await, "not_found");
        assert_eq!(app.events(&n, &s.operator).await.len(), before, "nothing was recorded");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_agent_records_satisfaction_and_the_order_closes() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let handler = app.login("handler.d440106").await;
        let n = app.replied_order(&s, "d440106", &handler).await;

        ui.login("callback").await;
        assert_eq!(ui.path().await, "/console/callback");
        let row = ui.text(&format!("#q-callback tr[data-number='{n}']")).await;
        assert!(row.contains("13800001234"), "the callback agent sees the number to call: {row}");
        ui.shot("10-callback-queue").await;
        ui.goto(&format!("/console/orders/{n}")).await;
        ui.click("#act-callback input[name='satisfaction'][value='satisfied']").await;
        ui.click("#act-callback input[name='solved'][value='true']").await;
        ui.click("#btn-callback").await;
        ui.el("#flash").await;
        assert_eq!(ui.status().await, "closed");
        let rows = ui.c.find_all(Locator::Css("#timeline tbody tr")).await.unwrap();
        let mut actions = Vec::new();
        for r in rows {
            actions.push(r.attr("data-action").await.unwrap().unwrap_or_default());
        }
        assert_eq!(actions, ["register", "submit", "approve", "dispatch", "sign", "reply", "callback"]);
        let timeline = ui.text("#timeline").await;
        for who in ["话务员 王芳", "审核员 李娜", "派单员 张伟", "回访员 刘洋", "天河区人民政府"]
        {
            assert!(timeline.contains(who), "the timeline names {who}: {timeline}");
        }
        assert!(ui.text("#order-callback").await.contains("满意"));
        assert!(!ui.text("#facts").await.contains("版本"), "no internal version number is shown");
        ui.shot("11-order-closed").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_queue_records_only_what_the_resident_said() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let handler = app.login("handler.d440106").await;
        let a = app.replied_order(&s, "d440106", &handler).await;
        let b = app.replied_order(&s, "d440106", &handler).await;

        ui.login("callback").await;
        let row = format!("#q-callback tr[data-number='{a}']");
        // Nothing is chosen in advance, and the row refuses to record until both are chosen.
        assert_eq!(ui.value(&format!("{row} select[name='satisfaction']")).await, "");
        assert_eq!(ui.value(&format!("{row} select[name='solved']")).await, "");
        ui.click(&format!("{row} .cb-record")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!ui.has("#flash").await, "nothing was recorded");
        let (stored, _) = app.stored(&a).await;
        assert_eq!(stored["status"], "replied", "a click with nothing chosen records nothing");
        ui.el(&format!("{row} select[name='satisfaction']"))
            .await
            .select_by_value("basically_satisfied")
            .await
            .unwrap();
        ui.click(&format!("{row} .cb-record")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.stored(&a).await.0["status"], "replied", "whether it was solved must be chosen too");
        ui.el(&format!("{row} select[name='solved']")).await.select_by_value("false").await.unwrap();
        ui.shot("10b-callback-row-chosen").await;
        ui.click(&format!("{row} .cb-record")).await;
        ui.el("#flash").await;
        let (stored, _) = app.stored(&a).await;
        assert_eq!(stored["status"], "closed");
        assert_eq!(stored["callback"]["satisfaction"], "basically_satisfied");
        assert_eq!(stored["callback"]["solved"], false);

        // Not reached is one click of its own, and records no answer about solved.
        ui.click(&format!("#q-callback tr[data-number='{b}'] .cb-unreachable button")).await;
        // The page before had a flash too (for `a`): wait for the one that names `b`.
        let started = std::time::Instant::now();
        while !ui.text("#flash").await.contains(b.as_str()) {
            assert!(started.elapsed() < WAIT, "no flash for {b}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (stored, _) = app.stored(&b).await;
        assert_eq!(stored["callback"]["satisfaction"], "unreachable");
        assert!(stored["callback"]["solved"].is_null(), "{}", stored["callback"]);
        ui.shot("10c-callback-queue-after").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_sees_red_and_yellow_and_urges() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        // At Monday 10:00: a normal order (5 working days) and an urgent one (1 working day).
        let normal = app.dispatched_order(&s, "d440106", &[]).await;
        let mut u = sample_order();
        u["urgency"] = json!("urgent");
        let urgent = app.pending_order(&s, u).await;
        app.must(&urgent, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
        // Thursday 17:20: the urgent one is overdue, the normal one past 75% of its limit.
        app.clock.advance((3 * 24 + 7) * 3_600_000 + 20 * 60_000);
        let s = team(&app).await; // sessions last 12 hours
        let fresh = app.dispatched_order(&s, "d440106", &[]).await;

        ui.login("supervisor").await;
        assert_eq!(ui.path().await, "/console/supervise");
        assert_eq!(ui.attr(&format!("tr[data-number='{urgent}']"), "data-mark").await, "red");
        assert_eq!(ui.attr(&format!("tr[data-number='{normal}']"), "data-mark").await, "yellow");
        assert!(!ui.has(&format!("tr[data-number='{fresh}']")).await, "orders within their limit are not on the board");
        ui.shot("12-supervisor-board").await;

        let row = format!("tr[data-number='{urgent}']");
        assert!(ui.text(&format!("{row} form.urge")).await.contains("督办级别"), "the level is labelled visibly");
        ui.keys(&format!("{row} input[name='note']"), "请今天内办结并反馈。").await;
        ui.click(&format!("{row} form.urge button")).await;
        ui.el("#flash").await;
        let events = app.events(&urgent, &s.operator).await;
        assert!(
            events.iter().any(|e| e["action"] == "urge" && e["actor"] == "supervisor"),
            "the supervisor's urge is on the timeline: {events:?}"
        );
        ui.goto("/console/supervise?all=1").await;
        assert_eq!(ui.attr(&format!("tr[data-number='{fresh}']"), "data-mark").await, "green");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_post_without_its_csrf_token_is_refused() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let n = app.create(&s, sample_order()).await;

        ui.login("operator").await;
        ui.goto(&format!("/console/orders/{n}")).await;
        assert_eq!(ui.status().await, "registered");
        ui.c.execute("document.querySelector('#act-submit input[name=_csrf]').remove()", vec![]).await.unwrap();
        ui.click("#act-submit button").await;
        assert_eq!(ui.attr("#error-box", "data-code").await, "csrf");
        assert!(ui.body().await.contains("CSRF"));
        ui.shot("13-csrf-refused").await;
        let o = order_as(&app, &s.operator, &n).await;
        assert_eq!(o["status"], "registered", "nothing happened");
        assert_eq!(o["version"], 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_switches_to_english_and_back() {
    with_browser(|_app, ui| async move {
        ui.goto("/login").await;
        assert_eq!(ui.text("#login-submit").await, "登录");
        ui.click("#lang-switch").await;
        ui.wait_path("/login?lang=en").await;
        assert_eq!(ui.text("#login-submit").await, "Sign in");
        ui.login("operator").await;
        let nav = ui.text("nav.nav").await;
        assert!(nav.contains("Intake") && nav.contains("Orders"), "{nav}");
        assert!(ui.body().await.contains("Register and submit for review"));
        ui.shot("14-intake-english").await;
        ui.goto("/console/orders").await;
        assert!(ui.text("h1").await.contains("Find orders"), "the language is remembered");
        ui.click("#lang-switch").await;
        ui.wait_path("/console/orders?lang=zh").await;
        assert!(ui.text("h1").await.contains("工单查询"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewers_correction_shows_in_the_timeline_and_moves_the_deadline() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let n = app.create(&s, sample_order()).await;
        app.must(&n, "submit", &s.operator, json!({})).await;

        ui.login("reviewer").await;
        ui.goto(&format!("/console/orders/{n}")).await;
        let before = ui.text("#order-limit").await;
        assert!(before.contains("5个工作日"), "the streetlight's limit before dispatch: {before}");
        ui.click("#correct-box summary").await;
        // The form starts from the order's own values; saving them unchanged is refused, and
        // the message stands next to the field it is about, in the page's language.
        assert_eq!(ui.value("#correct-category").await, "urban.facilities.streetlight-out");
        ui.click("#btn-correct").await;
        let msg = ui.text("#act-correct .field-error").await;
        assert!(msg.contains("没有需要更正的内容"), "{msg}");
        assert_eq!(ui.attr("#correct-category", "aria-invalid").await, "true");
        assert_eq!(app.events(&n, &s.reviewer).await.len(), 2, "nothing was recorded");
        ui.keys("input.unit-filter[data-for='correct-category']", "井盖").await;
        ui.el("#correct-category").await.select_by_value("urban.facilities.manhole-cover").await.unwrap();
        ui.el("#correct-urgency").await.select_by_value("urgent").await.unwrap();
        ui.keys("#correct-note", "实为井盖缺失").await;
        ui.shot("20-reviewer-correction").await;
        ui.click("#btn-correct").await;
        ui.el("#flash").await;
        assert_eq!(ui.status().await, "in_review", "a correction changes no status");
        let tl = ui.text("#timeline tr.ev-correct").await;
        assert!(tl.contains("路灯不亮 → 井盖缺失破损"), "before → after in the timeline: {tl}");
        assert!(tl.contains("一般 → 紧急"), "{tl}");
        assert!(tl.contains("实为井盖缺失"), "{tl}");
        let after = ui.text("#order-limit").await;
        assert!(after.contains("4个工作小时"), "the corrected category's urgent limit: {after}");
        ui.shot("21-corrected-order").await;
        // Dispatched Monday 10:00, the order is due within the day, not in 5 working days.
        app.must(&n, "approve", &s.reviewer, json!({})).await;
        app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
        ui.goto(&format!("/console/orders/{n}")).await;
        assert!(ui.text("#order-deadline").await.contains("2026-11-23"), "{}", ui.text("#order-deadline").await);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_order_suggests_another_unit_and_says_who_returned_it_and_why() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let n = app.dispatched_order(&s, "d440106", &[]).await;
        let h = app.login("handler.d440106").await;
        app.must(&n, "return", &h, json!({"reason": "该路段属市政设施管护单位管辖"})).await;

        ui.login("dispatcher").await;
        ui.goto(&format!("/console/orders/{n}")).await;
        let back = ui.text("#last-return").await;
        assert!(back.contains("天河区人民政府") && back.contains("该路段属市政设施管护单位管辖"), "{back}");
        if ui.has("#suggested-lead").await {
            assert_ne!(ui.attr("#suggested-lead", "data-code").await, "d440106", "never the unit that returned it");
        }
        assert_ne!(ui.value("#lead_unit").await, "d440106", "the returning unit is not preselected");
        ui.shot("22-returned-order-dispatch").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_call_added_from_the_warning_counts_as_a_repeat_contact_and_writes_no_order() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let n = app.dispatched_order(&s, "d440106", &[]).await;
        let kpis = || async {
            let r = app.get("/api/v1/stats/kpis?from=2026-11-01&to=2026-12-31", &s.leader).await;
            r.body["rows"][0]["kpis"]["counts"].clone()
        };
        let before = kpis().await;
        let orders = app.order_count().await;

        ui.login("operator").await;
        ui.keys("#phone", "13800001234").await;
        let warning = ui.text("#repeat-warning").await;
        assert!(warning.contains(&n), "{warning}");
        ui.keys("#content", "路灯还是不亮，催问进度。").await;
        ui.shot("23-repeat-call-warning").await;
        ui.click(&format!("#repeat-warning li[data-number='{n}'] button.add-contact")).await;
        let done = ui.text("#done").await;
        assert!(done.contains("已追加来电") && done.contains(&n), "{done}");
        assert!(ui.path().await.starts_with("/console/intake"), "back on the intake screen");
        assert_eq!(ui.attr("#phone", "value").await, "", "clean for the next call");
        assert_eq!(app.order_count().await, orders, "no new order");
        let events = app.events(&n, &s.operator).await;
        assert_eq!(events.last().unwrap()["action"], "add_contact");
        assert_eq!(events.last().unwrap()["comment"], "路灯还是不亮，催问进度。");
        let after = kpis().await;
        assert_eq!(after["repeat"].as_i64().unwrap(), before["repeat"].as_i64().unwrap() + 1);
        assert_eq!(after["contacts"].as_i64().unwrap(), before["contacts"].as_i64().unwrap() + 1);
        assert_eq!(after["registered"], before["registered"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_search_understands_callers_words_and_says_when_nothing_matches() {
    with_browser(|_app, ui| async move {
        ui.login("operator").await;
        // Colloquial words find the category: 吵 and 广场舞 are noise.
        for word in ["吵", "广场舞"] {
            ui.el("#cat-q").await.clear().await.unwrap();
            ui.keys("#cat-q", word).await;
            let list = ui.text("#cat-list").await;
            assert!(list.contains("社会生活噪音扰民"), "{word}: {list}");
        }
        ui.keys("#cat-q", ENTER).await;
        assert_eq!(ui.value("#category").await, "urban.order.social-noise");
        // A word nothing answers to says so.
        ui.el("#cat-q").await.clear().await.unwrap();
        ui.keys("#cat-q", "qqxxzz").await;
        assert!(ui.text("#cat-list-none").await.contains("没有匹配的分类"), "the search says nothing matches");
        ui.shot("24-category-no-match").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_dispatch_of_five_orders_gives_five_events() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let mut five = Vec::new();
        for _ in 0..5 {
            five.push(app.pending_order(&s, sample_order()).await);
        }
        let other = app.pending_order(&s, sample_order()).await;

        ui.login("dispatcher").await;
        assert_eq!(ui.attr("#btn-batch", "disabled").await, "true", "nothing ticked, nothing to send");
        for n in &five {
            ui.click(&format!("#q-dispatch tr[data-number='{n}'] input.batch-pick")).await;
        }
        assert_eq!(ui.text("#batch-count").await, "5");
        ui.keys("input.unit-filter[data-for='batch-lead']", "城市管理").await;
        ui.el("#batch-lead").await.select_by_value("city-urban").await.unwrap();
        ui.shot("25-batch-dispatch").await;
        ui.click("#btn-batch").await;
        let flash = ui.text("#flash").await;
        assert!(flash.contains("5") && flash.contains("城市管理"), "{flash}");
        for n in &five {
            let events = app.events(n, &s.dispatcher).await;
            let dispatches: Vec<&Value> = events.iter().filter(|e| e["action"] == "dispatch").collect();
            assert_eq!(dispatches.len(), 1, "one dispatch event for {n}");
            let (o, _) = app.stored(n).await;
            assert_eq!((o["status"].as_str(), o["lead_unit"].as_str()), (Some("dispatched"), Some("city-urban")));
        }
        assert_eq!(app.stored(&other).await.0["status"], "pending_dispatch", "an unticked order stays");
        assert!(ui.has(&format!("#q-dispatch tr[data-number='{other}']")).await);
    })
    .await;
}
