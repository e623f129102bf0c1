//! Statistics pages in a real browser (issue 12).

use crate::browser::*;
use crate::kit::*;
use serde_json::json;

const DAY: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_sees_an_emerging_hotspot_and_opens_the_orders_behind_it() {
    with_browser(|app, ui| async move {
        let start = app.clock.now();
        // Noise on 五山街道: one a week for four weeks, then 7 in the fifth.
        for (week, n) in [1, 1, 1, 1, 7].into_iter().enumerate() {
            let s = team(&app).await;
            for i in 0..n {
                let mut body = sample_order();
                body["category"] = json!("urban.order.social-noise");
                body["content"] = json!(format!("楼下广场舞音响太吵，晚上十点还不停（{week}-{i}）。"));
                body["caller"] =
                    json!({"phone": format!("1370000{week}{i:03}"), "name": "来电人", "confidential": false});
                app.create(&s, body).await;
            }
            app.clock.advance(7 * DAY);
        }
        let day = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms + 8 * 3_600_000).unwrap().format("%Y-%m-%d").to_string()
        };
        let (from, last) = (day(start + 28 * DAY), day(start + 34 * DAY));
        ui.login("leader").await;
        ui.goto(&format!("/console/hotspots?from={from}&to={last}")).await;
        let row = ui.text("#hot-list tbody tr:first-child").await;
        assert!(
            row.contains("五山街道") && row.contains('7') && row.contains("新兴热点") && row.contains("+600%"),
            "{row}"
        );
        assert!(ui.has("#hot-heat td.heat-9").await, "the largest cell is the darkest");
        ui.shot("37-hotspots").await;
        // The count opens the seven orders behind it.
        ui.click("#hot-list tbody tr:first-child a.hot-count").await;
        ui.wait_path("/console/orders?").await;
        assert!(ui.text("#f-place").await.contains("五山街道"));
        let total = ui.text("#total-orders").await;
        assert!(total.contains('7') && !total.contains("17"), "{total}");
    })
    .await;
}

/// Waits up to `limit` for the wall's `#id` figure to read `want`; returns how long it took.
async fn wall_reads(ui: &crate::browser::Ui, id: &str, want: &str, limit: std::time::Duration) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        let now = ui.text(id).await;
        if now == want {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{id} still reads {now}, not {want}, after {:?}", started.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_shows_a_new_order_within_two_seconds_and_a_district_leaders_wall_only_its_own() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        ui.login("leader").await;
        ui.goto("/wall").await;
        assert!(ui.text("#wall-scope").await.contains("全市"));
        let before: i64 = ui.text("#wall-registered").await.parse().unwrap();
        // The page is open; an order comes in through the API.
        app.create(&s, sample_order()).await;
        let took =
            wall_reads(&ui, "#wall-registered", &(before + 1).to_string(), std::time::Duration::from_secs(2)).await;
        eprintln!("the wall showed the new order after {took:?}");
        assert!(ui.text("#wall-places").await.contains("天河区"));
        assert!(ui.has("svg.chart rect.bar").await, "the hourly chart has its bars");
        ui.shot("38-wall").await;

        // 天河区's leader: its own orders and streets only.
        ui.goto("/console").await;
        ui.logout().await;
        ui.login("leader.d440106").await;
        ui.goto("/wall").await;
        assert!(ui.text("#wall-scope").await.contains("天河区"));
        let mine: i64 = ui.text("#wall-registered").await.parse().unwrap();
        let mut elsewhere = sample_order();
        elsewhere["location"] = json!({"street": "440104001", "address": "越秀路2号"});
        elsewhere["content"] = json!("越秀路口的井盖松动，车辆经过响声很大。");
        app.create(&s, elsewhere).await;
        app.create(&s, sample_order()).await;
        wall_reads(&ui, "#wall-registered", &(mine + 1).to_string(), std::time::Duration::from_secs(2)).await;
        // One more second: the other district's order never arrives.
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        assert_eq!(ui.text("#wall-registered").await, (mine + 1).to_string());
        let places = ui.text("#wall-places").await;
        assert!(places.contains("五山街道") && !places.contains("越秀") && !places.contains("北京街"), "{places}");
        ui.shot("39-wall-district").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_reads_the_kpis_by_unit_and_each_count_opens_exactly_its_orders() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        for lead in ["s440106001", "s440106001", "s440106001", "s440104001"] {
            app.dispatched_order(&s, lead, &[]).await;
        }
        ui.login("leader").await;
        ui.goto("/console/stats?days=7&group_by=unit").await;
        let row = "#stats-table tr[data-key='s440106001']";
        assert!(ui.text(row).await.contains("五山街道"), "{}", ui.text(row).await);
        let count = ui.text(&format!("{row} a.stats-count")).await;
        let n: i64 = count.parse().unwrap();
        assert!(n >= 3, "{n}");
        ui.shot("40-stats").await;
        // The count opens its orders: the list says the same number.
        ui.click(&format!("{row} a.stats-count")).await;
        ui.wait_path("/console/orders?").await;
        assert!(ui.text("#f-unit").await.contains("五山街道"));
        let total = ui.text("#total-orders").await;
        assert!(total.contains(&count), "{total} vs {count}");
        // The ranking tab renders (no unit has ten orders in a week here).
        ui.goto("/console/stats/ranking?days=7").await;
        assert!(ui.has("#stats-none").await || ui.has("#stats-ranking").await);
        // The reports page offers this month; its report opens as a printable page.
        ui.goto("/console/reports").await;
        ui.shot("41-reports").await;
        ui.click("#reports-list a.report-view").await;
        ui.wait_path("/console/reports?period=").await;
        assert!(ui.text("#report-summary").await.contains("全市热线共受理群众诉求"));
        ui.shot("42-report").await;
        // 天河区's leader sees its own units only.
        ui.goto("/console").await;
        ui.logout().await;
        ui.login("leader.d440106").await;
        ui.goto("/console/stats?days=7&group_by=unit").await;
        assert!(ui.has(row).await);
        assert!(!ui.has("#stats-table tr[data-key='s440104001']").await, "another district's unit");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_tracks_a_tough_problem_and_a_street_office_reports_its_part_done() {
    with_browser(|app, ui| async move {
        let s = team(&app).await;
        // One resident calls six times about the same dark street in 五山街道.
        for i in 0..6 {
            let mut body = sample_order();
            body["content"] = json!(format!("五山路的路灯还是不亮，这是第{}次反映。", i + 1));
            app.create(&s, body).await;
            app.clock.advance(10 * 60_000);
        }
        ui.login("supervisor").await;
        ui.goto("/console/problems").await;
        let row = "#prb-candidate-list tr[data-category='urban.facilities.streetlight-out'][data-place='440106001']";
        let text = ui.text(row).await;
        assert!(text.contains("五山街道") && text.contains("立项"), "{text}");
        ui.shot("43-problems").await;
        ui.click(&format!("{row} a.button")).await;
        ui.wait_path("/console/problems/new?").await;
        assert_eq!(ui.value("#prb-orders").await.lines().count(), 6);
        ui.el("#prb-unit-0").await.select_by_value("d440106").await.unwrap();
        ui.keys("#prb-task-0", "排查五山路路灯供电线路，更换老化线缆").await;
        ui.keys("#prb-due-0", "2026-12-23").await;
        ui.el("#prb-unit-1").await.select_by_value("s440106001").await.unwrap();
        ui.keys("#prb-task-1", "修复后逐户回访沿线居民").await;
        ui.keys("#prb-due-1", "2026-12-15").await;
        ui.shot("44-problem-new").await;
        ui.click("#prb-make").await;
        ui.wait_path("/console/problems/prb-").await;
        assert!(ui.text("#prb-status").await.contains("办理中"));
        assert_eq!(ui.text("#prb-progress").await, "0/2");
        let page = ui.path().await;
        let page = page.split('?').next().unwrap().to_owned();
        ui.shot("45-problem").await;
        // The street office reports its part finished.
        ui.logout().await;
        ui.login("handler.s440106001").await;
        ui.goto(&page).await;
        ui.keys("#prb-report-note", "线路修复后回访沿线 12 户居民，路灯均已恢复。").await;
        ui.click("#prb-report input[name='done'][value='true']").await;
        ui.click("#prb-report-go").await;
        ui.wait_path(&format!("{page}?done=reported")).await;
        assert!(ui.text("#prb-part-list tr[data-part='2']").await.contains("已完成"));
        assert_eq!(ui.text("#prb-progress").await, "1/2");
        ui.shot("46-problem-report").await;
    })
    .await;
}
