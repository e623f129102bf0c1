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
