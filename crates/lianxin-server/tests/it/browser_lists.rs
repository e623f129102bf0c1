//! The console's lists in a real browser (issue 10): queues paged with their true totals,
//! the supervisor board's counts as filters, the order search by phone, number, address
//! and date, the `/` jump box, and every queue table within a 1,440 × 900 window.

use crate::browser::*;
use crate::kit::*;
use fantoccini::Locator;
use serde_json::{Value, json};
use std::sync::Arc;

/// Runs `total` futures made by `make`, `at_once` at a time; returns what they return.
async fn many<F, Fut>(total: usize, at_once: usize, make: F) -> Vec<String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = String> + Send + 'static,
{
    let mut out = Vec::with_capacity(total);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..total {
        if set.len() >= at_once {
            out.push(set.join_next().await.unwrap().unwrap());
        }
        set.spawn(make());
    }
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

/// The order numbers of the rows of table `section` (`#q-…`), top to bottom.
async fn numbers(ui: &Ui, section: &str) -> Vec<String> {
    let rows = ui.c.find_all(Locator::Css(&format!("{section} tbody tr[data-number]"))).await.unwrap();
    let mut out = Vec::new();
    for r in rows {
        out.push(r.attr("data-number").await.unwrap().unwrap_or_default());
    }
    out
}

/// Asserts that the page does not scroll sideways: the document is no wider than the
/// window, and no table is wider than its box.
async fn assert_fits(ui: &Ui, what: &str) {
    let v =
        ui.c.execute(
            "const d = document.documentElement; \
             const wide = Array.from(document.querySelectorAll('table.rows')) \
               .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).map(t => t.closest('section').id); \
             return [d.scrollWidth, d.clientWidth, wide];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, client) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
    assert!(scroll <= client, "{what} scrolls sideways at 1,440 px: {scroll} > {client} px wide");
    assert_eq!(v[2], json!([]), "{what}: tables wider than their box");
}

/// A body for an order of caller `phone` at `address`.
fn order_at(phone: &str, address: &str, confidential: bool) -> Value {
    let mut o = sample_order();
    o["caller"] = json!({"phone": phone, "name": "陈测试", "confidential": confidential});
    o["location"]["address"] = json!(address);
    o
}

dual! {
async fn the_callback_queue_is_paged_with_its_true_total() {
    with_browser(|app, ui| async move {
        let s = Arc::new(team(&app).await);
        let handler = Arc::new(app.login("handler.d440106").await);
        // Signed for first (the lowest number), replied last: the newest reply.
        let late = app.signed_order(&s, "d440106", &handler).await;
        let replied = many(55, 8, || {
            let (app, s, handler) = (app.clone(), s.clone(), handler.clone());
            async move { app.replied_order(&s, "d440106", &handler).await }
        })
        .await;
        app.clock.advance(60_000);
        app.must(&late, "reply", &handler, json!({"content": "已处理。", "solved": true})).await;

        ui.c.set_window_size(1440, 900).await.unwrap();
        ui.login("callback").await;
        assert_eq!(ui.path().await, "/console/callback");
        assert_eq!(ui.text("#total-callback").await, "共 56 条", "the total is the queue's, not the page's");
        assert!(ui.text("#q-callback h2").await.contains("第 1 / 2 页"));
        let first = numbers(&ui, "#q-callback").await;
        assert_eq!(first.len(), 50, "a page holds 50 rows");
        assert!(!first.contains(&late), "the newest reply is not on the first page");
        assert_fits(&ui, "the callback queue").await;
        ui.shot("20-callback-queue-paged").await;

        ui.click("#q-callback a.next").await;
        ui.wait_path("/console/callback?page=2").await;
        assert_eq!(ui.text("#total-callback").await, "共 56 条");
        let second = numbers(&ui, "#q-callback").await;
        assert_eq!(second.len(), 6, "page 2 shows the rest: {second:?}");
        assert_eq!(second.last(), Some(&late), "oldest reply first, the newest last");
        let mut all: Vec<String> = first.iter().chain(&second).cloned().collect();
        all.sort();
        let mut expected: Vec<String> = replied.iter().cloned().chain([late.clone()]).collect();
        expected.sort();
        assert_eq!(all, expected, "the two pages hold every replied order once");
        assert!(!ui.has("#q-callback a.next").await, "no page after the last");
        ui.click("#q-callback a.prev").await;
        ui.wait_path("/console/callback").await;
        assert_eq!(numbers(&ui, "#q-callback").await, first);
    })
    .await;
}
}

dual! {
async fn the_supervisor_boards_counts_filter_the_list() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        // At Monday 10:00: a normal order (5 working days) and an urgent one (1 working day).
        let yellow = app.dispatched_order(&s, "d440106", &[]).await;
        let mut u = sample_order();
        u["urgency"] = json!("urgent");
        let red = app.pending_order(&s, u).await;
        app.must(&red, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
        // Thursday 17:20: the urgent one is overdue, the normal one past 75% of its limit.
        app.clock.advance((3 * 24 + 7) * 3_600_000 + 20 * 60_000);
        let s = team(&app).await;
        let green = app.dispatched_order(&s, "d440106", &[]).await;

        ui.c.set_window_size(1440, 900).await.unwrap();
        ui.login("supervisor").await;
        assert_eq!(ui.text("#count-red b").await, "1");
        assert_eq!(ui.text("#count-yellow b").await, "1");
        assert_eq!(ui.text("#count-green b").await, "1");
        assert_eq!(numbers(&ui, "#q-supervise").await, [red.clone(), yellow.clone()], "worst first");
        assert_eq!(ui.text("#total-supervise").await, "共 2 条");

        for (mark, number) in [("red", &red), ("yellow", &yellow), ("green", &green)] {
            ui.click(&format!("#count-{mark}")).await;
            ui.wait_path(&format!("/console/supervise?mark={mark}")).await;
            assert_eq!(numbers(&ui, "#q-supervise").await, std::slice::from_ref(number), "only the {mark} orders");
            assert_eq!(ui.text("#total-supervise").await, "共 1 条");
            assert_eq!(ui.attr(&format!("#count-{mark}"), "aria-current").await, "page");
            assert_eq!(ui.attr(&format!("tr[data-number='{number}']"), "data-mark").await, mark);
        }
        ui.shot("21-supervisor-board-green").await;
        ui.click("#show-all").await;
        ui.wait_path("/console/supervise?mark=all").await;
        assert_eq!(numbers(&ui, "#q-supervise").await, [red.clone(), yellow.clone(), green.clone()]);
        assert_eq!(ui.text("#total-supervise").await, "共 3 条");
        assert_fits(&ui, "the supervisor board").await;
    })
    .await;
}
}

dual! {
async fn the_order_search_finds_by_phone_and_address_within_scope() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let phone = "13911110001";
        let open = app.pending_order(&s, order_at(phone, "天河路88号华景新城3栋", false)).await;
        let secret = app.pending_order(&s, order_at(phone, "天河路90号", true)).await;
        let other = app.pending_order(&s, order_at("13922220002", "中山大道西1号华景苑", false)).await;
        for n in [&open, &secret, &other] {
            app.must(n, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
        }

        ui.c.set_window_size(1440, 900).await.unwrap();
        ui.login("dispatcher").await;
        ui.goto("/console/orders").await;
        ui.keys("#f-phone", "139-1111-0001").await;
        ui.click("#search-submit").await;
        ui.wait_path("/console/orders?").await;
        assert_eq!(ui.text("#total-orders").await, "共 2 条");
        let mut found = numbers(&ui, "#q-orders").await;
        found.sort();
        let mut both = vec![open.clone(), secret.clone()];
        both.sort();
        assert_eq!(found, both, "the city-wide roles find every order of the caller");

        ui.goto(&format!("/console/orders?address={}", "华景")).await;
        assert_eq!(ui.text("#total-orders").await, "共 2 条");
        ui.goto("/console/orders?address=%E5%8D%8E%E6%99%AF%E6%96%B0%E5%9F%8E").await; // 华景新城
        assert_eq!(numbers(&ui, "#q-orders").await, std::slice::from_ref(&open));
        assert_eq!(ui.value("#f-address").await, "华景新城", "the form keeps what was searched");
        ui.goto("/console/orders?address=100%25").await; // a wildcard is text
        assert_eq!(ui.text("#total-orders").await, "共 0 条");

        // Number (its start) and the day of registration.
        ui.goto(&format!("/console/orders?number={}", &other[..10])).await;
        assert_eq!(ui.text("#total-orders").await, "共 3 条");
        ui.goto(&format!("/console/orders?number={other}")).await;
        assert_eq!(numbers(&ui, "#q-orders").await, std::slice::from_ref(&other));
        ui.goto("/console/orders?created_from=2026-11-23&created_to=2026-11-23").await;
        assert_eq!(ui.text("#total-orders").await, "共 3 条");
        ui.goto("/console/orders?created_from=2026-11-24").await;
        assert_eq!(ui.text("#total-orders").await, "共 0 条");

        // Bad input is named next to its field, in the console's language.
        ui.goto("/console/orders").await;
        ui.keys("#f-phone", "12ab").await;
        ui.keys("#f-created_from", "2026/11/23").await;
        ui.click("#search-submit").await;
        assert!(ui.text("#err-phone").await.contains("请输入完整的电话号码"));
        assert!(ui.text("#err-created_from").await.contains("YYYY-MM-DD"));
        assert_eq!(ui.value("#f-phone").await, "12ab", "what was typed stays to be corrected");
        assert!(!ui.has("#q-orders").await, "nothing is listed for a wrong search");
        ui.shot("22-search-bad-input").await;
        ui.goto("/console/orders?created_from=2026-11-24&created_to=2026-11-23").await;
        assert!(ui.text("#err-created_to").await.contains("结束日期"));
        ui.logout().await;

        // A handler of the unit finds the caller's open order, never the confidential one.
        ui.login("handler.d440106").await;
        ui.goto(&format!("/console/orders?phone={phone}")).await;
        assert_eq!(numbers(&ui, "#q-orders").await, std::slice::from_ref(&open));
        assert_eq!(ui.text("#total-orders").await, "共 1 条", "the total does not count it either");
        assert!(!ui.body().await.contains("天河路90号"));
        ui.goto("/console/orders?address=%E5%A4%A9%E6%B2%B3%E8%B7%AF90").await; // 天河路90
        assert_eq!(numbers(&ui, "#q-orders").await, std::slice::from_ref(&secret), "by address it is in scope");
        assert!(ui.text("#q-orders").await.contains("保密来电人"), "its caller stays hidden");
    })
    .await;
}
}

dual! {
async fn the_jump_box_takes_an_order_number_or_a_phone() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let n = app.create(&s, order_at("13933330003", "越秀路1号", false)).await;

        ui.login("operator").await;
        ui.goto("/console/orders").await;
        ui.c.execute("document.activeElement && document.activeElement.blur()", vec![]).await.unwrap();
        ui.keys("body", "/").await;
        ui.keys("#jump", &format!("13933330003{ENTER}")).await;
        ui.wait_path("/console/orders?phone=13933330003").await;
        assert_eq!(ui.value("#f-phone").await, "13933330003");
        assert_eq!(numbers(&ui, "#q-orders").await, std::slice::from_ref(&n));

        ui.keys("#jump", &format!("{n}{ENTER}")).await;
        ui.wait_path(&format!("/console/orders/{n}")).await;

        ui.keys("#jump", &format!("abc{ENTER}")).await;
        ui.wait_path("/console/orders?q=abc").await;
        assert!(ui.text("#err-q").await.contains("既不是工单号"), "a clear message, not an error page");
    })
    .await;
}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_queue_fits_a_1440_pixel_window() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let handler = app.login("handler.d440106").await;
        let long = |urgency: &str| {
            let mut o = order_at("13944440004", &"广州市天河区天河路一百零八号华景新城东区三栋二单元".repeat(3), false);
            o["title"] = json!("夜间施工噪音扰民严重影响休息，".repeat(6));
            o["urgency"] = json!(urgency);
            o
        };
        // One of each state, with a long title and a long address.
        let draft = app.create(&s, long("normal")).await;
        let review = app.create(&s, long("urgent")).await;
        app.must(&review, "submit", &s.operator, json!({})).await;
        app.pending_order(&s, long("emergency")).await;
        let returned = app.pending_order(&s, long("normal")).await;
        app.must(&returned, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
        app.must(&returned, "return", &handler, json!({"reason": "不属于本单位职责范围，请改派。".repeat(4)})).await;
        let handled = app.pending_order(&s, long("normal")).await;
        app.must(&handled, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106", "assisting_units": ["co-power"]}))
            .await;
        app.must(&handled, "sign", &handler, json!({})).await;
        let until = "2026-12-15T17:00:00+08:00";
        app.must(
            &handled,
            "request_extension",
            &handler,
            json!({"until": until, "reason": "需协调供电部门。".repeat(5)}),
        )
        .await;
        let replied = app.pending_order(&s, long("normal")).await;
        app.must(&replied, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
        app.must(&replied, "sign", &handler, json!({})).await;
        app.must(
            &replied,
            "reply",
            &handler,
            json!({"content": "已联系施工单位调整作业时间。".repeat(6), "solved": true}),
        )
        .await;
        app.dispatched_order(&s, "d440106", &[]).await;
        app.clock.advance(4 * 86_400_000);
        let _ = draft;

        ui.c.set_window_size(1440, 900).await.unwrap();
        let pages = [
            ("operator", "/console/registered", "30-registered"),
            ("reviewer", "/console/review", "31-review"),
            ("dispatcher", "/console/dispatch", "32-dispatch"),
            ("handler.d440106", "/console/inbox", "33-inbox"),
            ("callback", "/console/callback", "34-callback"),
            ("supervisor", "/console/supervise?mark=all", "35-supervise-all"),
            ("supervisor", "/console/orders", "36-orders"),
        ];
        for (user, path, shot) in pages {
            ui.login(user).await;
            ui.goto(path).await;
            ui.el("section.queue").await;
            ui.shot(shot).await;
            assert_fits(&ui, path).await;
            ui.logout().await;
        }
    })
    .await;
}
