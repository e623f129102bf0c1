//! Search in a real browser (issue 11): the console's full-text search page.

use crate::browser::*;
use crate::kit::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_finds_orders_by_their_words_and_opens_one_by_keyboard() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let mut wanted = Vec::new();
        for (content, category) in [
            ("芳村大道东的井盖被偷了，晚上骑车差点掉进去。", "urban.facilities.manhole-cover"),
            ("花地湾地铁口旁边的井盖松动，车一压就响。", "urban.facilities.manhole-cover"),
            ("楼下广场舞音响太吵，每晚十点还不停。", "urban.order.social-noise"),
        ] {
            let mut body = sample_order();
            body["content"] = json!(content);
            body["category"] = json!(category);
            let n = app.create(&s, body).await;
            if content.contains("井盖") {
                wanted.push(n);
            }
        }
        ui.login("operator").await;
        ui.goto("/console/search").await;
        ui.keys("#search-q", "井盖").await;
        ui.keys("#search-q", ENTER).await;
        ui.wait_path("/console/search?q=").await;
        let started = std::time::Instant::now();
        // The follower indexes within a second; reload until both are there.
        while ui.text("#fts-total").await != "2" {
            assert!(started.elapsed() < std::time::Duration::from_secs(5), "{}", ui.body().await);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            ui.goto("/console/search?q=%E4%BA%95%E7%9B%96").await;
        }
        let marks = ui.text("ol.results li.hit mark").await;
        assert_eq!(marks, "井盖");
        let body = ui.body().await;
        assert!(!body.contains("广场舞"), "the noise order does not hold the word");
        ui.shot("30-search").await;
        // j moves to the first hit, Enter opens it.
        ui.keys("body", "j").await;
        ui.keys("ol.results li.hit:first-child a.row-link", ENTER).await;
        ui.wait_path("/console/orders/").await;
        let opened = ui.path().await;
        assert!(wanted.iter().any(|n| opened.ends_with(n.as_str())), "{opened}");
        // A filter that excludes both says nothing was found.
        ui.goto("/console/search?q=%E4%BA%95%E7%9B%96&status=closed").await;
        assert!(ui.text("#fts-none").await.contains("没有找到"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_the_answer_and_the_open_twin_while_typing_and_merges_into_it() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        // An open order from another caller, about the same manhole on the same street.
        let mut body = sample_order();
        body["category"] = json!("urban.facilities.manhole-cover");
        body["content"] = json!("芳村大道东公交站旁边的井盖不见了，留下一个大洞，晚上很危险。");
        body["caller"] = json!({"phone": "13900007777", "name": "李四", "confidential": false});
        let twin = app.create(&s, body).await;
        let orders = app.order_count().await;

        ui.login("operator").await;
        ui.keys("#phone", "13600002222").await;
        ui.keys("#content", "芳村大道东公交站那里井盖没了，有个大洞").await;
        // The aids arrive as the operator types: the knowledge-base answer and the twin.
        let started = std::time::Instant::now();
        while !ui.has(&format!("#aid-similar li[data-number='{twin}']")).await {
            assert!(started.elapsed() < std::time::Duration::from_secs(8), "{}", ui.text("#aids").await);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let similar = ui.text(&format!("#aid-similar li[data-number='{twin}']")).await;
        assert!(similar.contains("井盖"), "{similar}");
        let kb = ui.text("#aid-kb").await;
        assert!(kb.contains("井盖"), "a knowledge-base answer about manholes: {kb}");
        ui.shot("31-intake-aids").await;
        ui.click(&format!("#aid-similar li[data-number='{twin}'] button.merge-into")).await;
        let done = ui.text("#done").await;
        assert!(done.contains(&twin), "{done}");
        assert_eq!(app.order_count().await, orders, "merged: no new order");
        let events = app.events(&twin, &s.operator).await;
        assert_eq!(events.last().unwrap()["action"], "add_contact");
        assert_eq!(events.last().unwrap()["comment"], "芳村大道东公交站那里井盖没了，有个大洞");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_knowledge_base_is_read_searched_and_edited_as_new_versions() {
    with_browser(|_app, ui| async move {
        ui.login("operator").await;
        ui.goto("/console/kb").await;
        assert!(ui.text("#kb-total").await.parse::<usize>().unwrap() >= 200);
        ui.keys("#search-q", "公积金 提取").await;
        ui.keys("#search-q", ENTER).await;
        ui.wait_path("/console/kb?q=").await;
        let first = ui.text("ol.results li.hit:first-child").await;
        assert!(first.contains("公积金"), "{first}");
        ui.shot("32-kb-search").await;
        ui.click("ol.results li.hit:first-child a.row-link").await;
        ui.wait_path("/console/kb/").await;
        assert!(ui.text("#kb-body").await.contains("公积金"));
        assert!(!ui.has("#kb-edit").await, "an operator reads, does not edit");
        let article = ui.path().await;
        ui.shot("33-kb-article").await;
        ui.logout().await;

        ui.login("admin").await;
        ui.goto(&format!("{article}/edit")).await;
        let body = ui.value("#kb-f-body").await;
        ui.el("#kb-f-body").await.clear().await.unwrap();
        ui.keys("#kb-f-body", &format!("{body}\n\n**温馨提示**：提取进度可在公积金中心小程序查询。")).await;
        ui.click("#kb-save").await;
        ui.wait_path(&format!("{article}?saved=1")).await;
        assert_eq!(ui.text("#kb-version").await, "v2");
        assert!(ui.text("#kb-body").await.contains("小程序查询"));
        assert!(ui.has("#kb-versions li[data-version='1']").await);
        ui.click("#kb-versions li[data-version='1'] a").await;
        ui.wait_path(&format!("{article}?version=1")).await;
        assert!(ui.text("#kb-old").await.contains("v1"));
        assert!(!ui.text("#kb-body").await.contains("小程序查询"), "the old version as it was");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_refers_a_caller_from_the_directory_and_the_order_names_the_entry() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        let orders = app.order_count().await;
        ui.login("operator").await;
        ui.keys("#phone", "13600003333").await;
        ui.keys("#cat-q", "消费纠纷").await;
        ui.el("#cat-list li.active").await;
        ui.keys("#cat-q", ENTER).await;
        ui.keys("#content", "网上买到假货，商家不给退款，想投诉商家").await;
        ui.keys("#street-q", "五山").await;
        ui.el("#street-list li.active").await;
        ui.keys("#street-q", ENTER).await;
        let started = std::time::Instant::now();
        while !ui.has("#aid-referrals li.referral button.cite").await {
            assert!(started.elapsed() < std::time::Duration::from_secs(8), "{}", ui.text("#aids").await);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let entry = ui.attr("#aid-referrals li.referral:first-child", "data-id").await;
        ui.click("#aid-referrals li.referral:first-child button.cite").await;
        assert_eq!(ui.value("#kind").await, "referred");
        assert!(ui.text("#cite-chip").await.contains("12315"), "{}", ui.text("#cite-chip").await);
        ui.click("#btn-close").await;
        let number = ui.text("#done-number").await;
        assert_eq!(app.order_count().await, orders + 1);
        let o = app.get(&format!("/api/v1/orders/{number}"), &s.operator).await.body;
        assert_eq!(o["status"], "closed");
        assert_eq!(o["first_contact"]["kind"], "referred");
        assert_eq!(o["first_contact"]["cite"]["kind"], "referral");
        assert_eq!(o["first_contact"]["cite"]["id"], entry.as_str());
        ui.goto(&format!("/console/orders/{number}")).await;
        assert!(ui.text("#order-cite").await.contains("12315"));
        ui.shot("34-order-cites-referral").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_street_office_publishes_an_outage_that_intake_then_shows_and_withdraws_it() {
    with_browser(|app, ui| async move {
        ui.login("handler.s440106001").await;
        ui.goto("/console/announcements").await;
        ui.click("#ann-new").await;
        ui.wait_path("/console/announcements/new").await;
        ui.keys("#ann-f-title", "五山路今晚停水抢修").await;
        ui.el("#ann-f-kind").await.select_by_value("outage").await.unwrap();
        ui.keys("#ann-f-body", "五山路供水管道抢修，今晚20点至明早6点停水，请提前储水。").await;
        let starts = ui.value("#ann-f-starts").await;
        assert!(!starts.is_empty(), "the start is proposed as now");
        // An end before the start is refused, naming the field, and keeps what was typed.
        ui.keys("#ann-f-ends", &starts).await;
        ui.el("#ann-f-streets").await.select_by_value("440106001").await.unwrap();
        ui.click("#ann-save").await;
        let errors = ui.text("#ann-errors").await;
        assert!(errors.contains("结束时间"), "{errors}");
        assert_eq!(ui.value("#ann-f-title").await, "五山路今晚停水抢修");
        let op = app.login("operator").await;
        let stored = app.get("/api/v1/announcements?all=true", &op).await.body;
        assert!(
            !stored["items"].as_array().unwrap().iter().any(|a| a["title"] == "五山路今晚停水抢修"),
            "a refused announcement stores nothing"
        );
        let start = chrono::NaiveDateTime::parse_from_str(&starts, "%Y-%m-%d %H:%M").unwrap();
        let ends = (start + chrono::Duration::hours(10)).format("%Y-%m-%d %H:%M").to_string();
        ui.el("#ann-f-ends").await.clear().await.unwrap();
        ui.keys("#ann-f-ends", &ends).await;
        ui.click("#ann-save").await;
        ui.wait_path("/console/announcements?saved=1").await;
        let row = ui.text("#ann-list tbody tr:first-child").await;
        assert!(row.contains("五山路今晚停水抢修") && row.contains("生效中") && row.contains("五山街道"), "{row}");
        ui.shot("35-announcements").await;

        // The operator taking a call from that street sees it among the aids.
        ui.logout().await;
        ui.login("operator").await;
        ui.keys("#phone", "13500006666").await;
        ui.keys("#content", "家里突然没水了，想问什么时候来水").await;
        ui.keys("#street-q", "wsjd").await;
        ui.el("#street-list li.active").await;
        ui.keys("#street-q", ENTER).await;
        let started = std::time::Instant::now();
        while !ui.text("#aids").await.contains("五山路今晚停水抢修") {
            assert!(started.elapsed() < std::time::Duration::from_secs(8), "{}", ui.text("#aids").await);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }

        // Another street's office may read it but not change it.
        ui.logout().await;
        ui.login("handler.s440103001").await;
        ui.goto("/console/announcements").await;
        assert!(ui.text("#ann-list").await.contains("五山路今晚停水抢修"));
        assert!(!ui.has("#ann-list tbody tr:first-child a.ann-edit").await);

        // Its publisher withdraws it; intake no longer offers it.
        ui.logout().await;
        ui.login("handler.s440106001").await;
        ui.goto("/console/announcements").await;
        let id = ui.attr("#ann-list tbody tr:first-child", "data-id").await;
        ui.click("#ann-list tbody tr:first-child form.ann-withdraw button").await;
        ui.c.accept_alert().await.unwrap();
        ui.wait_path("/console/announcements?withdrawn=1").await;
        assert!(!ui.body().await.contains("五山路今晚停水抢修"));
        let op = app.login("operator").await;
        let r = app.get("/api/v1/announcements?street=440106001", &op).await;
        assert!(!r.body["items"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str()), "{:?}", r.body);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_confirms_a_proposed_incident_and_its_unit_replies_once_to_every_order() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        // The admin sets the rule: 5 orders within an hour (a bad value is named).
        ui.login("admin").await;
        ui.goto("/console/incidents").await;
        ui.el("#rule-min").await.clear().await.unwrap();
        ui.keys("#rule-min", "1").await;
        ui.click("#rule-save").await;
        assert!(ui.text("#rule-errors").await.contains("最少工单数"), "{}", ui.text("#rule-errors").await);
        assert_eq!(ui.text("#inc-rule-now").await, "10 / 120", "a refused rule changes nothing");
        ui.el("#rule-min").await.clear().await.unwrap();
        ui.keys("#rule-min", "5").await;
        ui.el("#rule-window").await.clear().await.unwrap();
        ui.keys("#rule-window", "60").await;
        ui.click("#rule-save").await;
        ui.wait_path("/console/incidents?done=rule").await;
        assert_eq!(ui.text("#inc-rule-now").await, "5 / 60");
        ui.logout().await;

        let h = app.login("handler.d440106").await;
        let mut numbers = Vec::new();
        for i in 0..6 {
            let mut body = sample_order();
            body["category"] = json!("emergency.flood-typhoon");
            body["request_type"] = json!("help");
            body["content"] = json!(format!("暴雨后小区门口水浸到膝盖（第{i}位来电人）。"));
            body["caller"] =
                json!({"phone": format!("1390000{:04}", 2000 + i), "name": "来电人", "confidential": false});
            body["location"] = json!({"street": "440106001"});
            let n = app.create(&s, body).await;
            app.must(&n, "submit", &s.operator, json!({})).await;
            app.must(&n, "approve", &s.reviewer, json!({})).await;
            app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
            app.must(&n, "sign", &h, json!({})).await;
            numbers.push(n);
            app.clock.advance(60_000);
        }

        // The dispatcher looks for incidents, opens the proposal and confirms it.
        ui.login("dispatcher").await;
        ui.goto("/console/incidents").await;
        ui.click("#inc-detect").await;
        ui.wait_path("/console/incidents?done=detect").await;
        assert!(ui.text(".flash").await.contains('1'), "{}", ui.text(".flash").await);
        let row = ui.text("#inc-list tbody tr:first-child").await;
        assert!(row.contains("待确认") && row.contains('6'), "{row}");
        ui.click("#inc-list tbody tr:first-child a.row-link").await;
        ui.wait_path("/console/incidents/inc-").await;
        assert_eq!(ui.text("#inc-count").await, "6");
        ui.click("#inc-confirm").await;
        ui.wait_path("/console/incidents/inc-").await;
        assert_eq!(ui.text("#inc-status").await, "已确认");
        assert!(!ui.has("#inc-reply").await, "a dispatcher does not reply for the unit");
        ui.logout().await;

        // The district's handler reaches it from one of its orders and replies once.
        ui.login("handler.d440106").await;
        ui.goto(&format!("/console/orders/{}", numbers[0])).await;
        ui.click("#order-incident a").await;
        ui.wait_path("/console/incidents/inc-").await;
        ui.keys("#inc-reply-content", "排水抢险队已到场抽排，积水已退。").await;
        // Whether it is solved is never preset: the form will not go without it, nor the
        // server, which then replies to nothing.
        let incident = ui.path().await.trim_start_matches("/console/incidents/").to_owned();
        let r = app.post(&format!("/api/v1/incidents/{incident}/reply"), &h, json!({"content": "已处理"})).await;
        assert_error(&r, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        for n in &numbers {
            assert_eq!(order_as(&app, &h, n).await["status"], "in_progress", "{n}");
        }
        ui.click("#inc-reply-go").await;
        assert!(ui.has("#inc-reply").await);
        ui.click("#inc-reply input[name=solved][value=true]").await;
        ui.shot("36-incident-reply").await;
        ui.click("#inc-reply-go").await;
        let flash = ui.text(".flash").await;
        assert!(flash.contains("已答复工单：6"), "{flash}");
        for n in &numbers {
            let o = order_as(&app, &h, n).await;
            assert_eq!(o["status"], "replied", "{n}");
        }
        assert_eq!(ui.text("#inc-status").await, "已统一答复");
    })
    .await;
}
