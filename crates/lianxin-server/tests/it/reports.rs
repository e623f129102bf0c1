//! Reports (issue 12): the monthly report from the console and from `lianxin report`, with
//! the statistics API's figures, for the hotline and for a district.

use crate::kit::*;
use lianxin_server::demo::DemoOptions;
use reqwest::StatusCode;
use serde_json::json;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

crate::dual! {
    async fn a_monthly_report_says_what_the_statistics_say_in_html_and_excel_for_the_city_and_for_a_district() {
        let app = spawn_app_with(DemoOptions { history: 0, days: 1 }).await;
        let s = app.staff().await;
        // Four orders this month: three in 天河区, one in 越秀区.
        for street in ["440106001", "440106001", "440106002", "440104001"] {
            let mut body = sample_order();
            body["location"] = json!({"street": street, "address": "报告路1号"});
            app.create(&s, body).await;
        }
        let tomorrow = app.get("/api/v1/stats/kpis", &s.leader).await.body["to"].as_str().unwrap().to_owned();
        let today = chrono::NaiveDate::parse_from_str(&tomorrow, "%Y-%m-%d").unwrap() - chrono::Duration::days(1);
        let month = today.format("%Y-%m").to_string();
        let kpis = app.get(&format!("/api/v1/stats/kpis?from={month}-01"), &s.leader).await.body;
        let registered = kpis["rows"][0]["kpis"]["counts"]["registered"].as_i64().unwrap();
        assert_eq!(registered, 4);

        // The console: the page and the workbook.
        let client = TestApp::form_client();
        let session = app.form_login(&client, "leader", "demo").await.session().unwrap();
        let (status, list) = app.page("/console/reports", &session).await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.contains(&format!("period={month}")), "this month is offered");
        let (status, page) = app.page(&format!("/console/reports?period={month}"), &session).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("全市热线共受理群众诉求4件"), "{page}");
        assert!(page.contains("id=\"report-registered\">4<"));
        let r = client
            .get(app.url(&format!("/console/reports/download?period={month}")))
            .header("cookie", format!("lx_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
        assert!(contains(&bytes, b"xl/charts/chart1.xml"), "with native charts");
        // A bad period is named, on the page and for the download.
        let (status, bad) = app.page("/console/reports?period=2026-13", &session).await;
        assert_eq!(status, StatusCode::OK);
        assert!(bad.contains("id=\"reports-error\"") && bad.contains("2026-13"));
        let r = client
            .get(app.url("/console/reports/download?period=last-month"))
            .header("cookie", format!("lx_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);

        // 天河区's leader: its three orders only.
        let district = app.form_login(&client, "leader.d440106", "demo").await.session().unwrap();
        let (_, mine) = app.page(&format!("/console/reports?period={month}"), &district).await;
        assert!(mine.contains("天河区人民政府热线共受理群众诉求3件"), "{mine}");
        assert!(!mine.contains("越秀区"), "nothing of another district");

        // A handling unit's own accounts are not leaders: the wall, statistics and reports are
        // refused (read-only pages: nothing to change), and the wall's stream with them.
        let handler = app.form_login(&client, "handler.s440106001", "demo").await.session().unwrap();
        for path in ["/wall", "/wall/events", "/console/stats", "/console/reports", "/console/reports/download?period=2026-11"] {
            let (status, _) = app.page(path, &handler).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }

        // The command line, on the stopped server's database.
        let db = app.stop_keeping_db().await;
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().to_str().unwrap();
        let run = cli(&["report", "--period", &month, "--out", dir, "--database-url", &db.db_url], None);
        assert!(run.ok, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("共受理群众诉求4件"), "{}", run.stdout);
        let html = std::fs::read_to_string(out.path().join(format!("report-{month}.html"))).unwrap();
        assert!(html.contains("<style>") && html.contains("全市热线共受理群众诉求4件"), "a file stands alone");
        let xlsx = std::fs::read(out.path().join(format!("report-{month}.xlsx"))).unwrap();
        assert!(contains(&xlsx, b"xl/charts/chart1.xml"));
        let run = cli(&["report", "--period", &month, "--unit", "d440106", "--out", dir, "--database-url", &db.db_url], None);
        assert!(run.ok && run.stdout.contains("共受理群众诉求3件"), "{}{}", run.stdout, run.stderr);
        // Bad input is named.
        let run = cli(&["report", "--period", "2026/10", "--out", dir, "--database-url", &db.db_url], None);
        assert!(!run.ok && run.stderr.contains("is not a period"), "{}", run.stderr);
        let run = cli(&["report", "--period", &month, "--unit", "nowhere", "--out", dir, "--database-url", &db.db_url], None);
        assert!(!run.ok && run.stderr.contains("no unit"), "{}", run.stderr);
    }
}
