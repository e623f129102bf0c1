//! The console's queues over HTTP (issue 10): each is read from the store a page at a
//! time in its own work order, with the true total, on both backends.

use crate::kit::*;
use serde_json::json;

/// The order numbers of table `id` (`q-…`) of a page, top to bottom.
fn rows_of(html: &str, id: &str) -> Vec<String> {
    let Some(start) = html.find(&format!("id=\"{id}\"")) else { return Vec::new() };
    let section = &html[start..];
    let section = &section[..section.find("</section>").unwrap_or(section.len())];
    section
        .split("<tr data-href=")
        .skip(1)
        .filter_map(|tr| tr.split("data-number=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The text of the element with id `id`.
fn text_of(html: &str, id: &str) -> String {
    let Some(start) = html.find(&format!("id=\"{id}\"")) else { return String::new() };
    let rest = &html[start..];
    let rest = &rest[rest.find('>').map(|i| i + 1).unwrap_or(0)..];
    rest[..rest.find('<').unwrap_or(rest.len())].to_owned()
}

async fn session(app: &TestApp, user: &str) -> String {
    app.form_login(&TestApp::form_client(), user, "demo").await.session().unwrap()
}

dual! {
async fn the_review_queue_lists_the_most_urgent_first_then_the_oldest() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let mut made = Vec::new();
    for urgency in ["normal", "urgent", "normal", "emergency", "urgent"] {
        let mut o = sample_order();
        o["urgency"] = json!(urgency);
        let n = app.create(&s, o).await;
        app.must(&n, "submit", &s.operator, json!({})).await;
        made.push(n);
        app.clock.advance(60_000);
    }
    let reviewer = session(&app, "reviewer").await;
    let (status, html) = app.page("/console/review", &reviewer).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let expected = [&made[3], &made[1], &made[4], &made[0], &made[2]].map(|n| n.to_owned());
    assert_eq!(rows_of(&html, "q-review"), expected);
    assert_eq!(text_of(&html, "total-review"), "共 5 条");
}
}

dual! {
async fn the_inbox_lists_orders_to_sign_first_then_by_deadline() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let handler = app.login("handler.d440106").await;
    let signed_normal = app.signed_order(&s, "d440106", &handler).await;
    let mut u = sample_order();
    u["urgency"] = json!("urgent");
    let signed_urgent = app.pending_order(&s, u).await;
    app.must(&signed_urgent, "dispatch", &s.dispatcher, json!({"lead_unit": "d440106"})).await;
    app.must(&signed_urgent, "sign", &handler, json!({})).await;
    let to_sign = app.dispatched_order(&s, "d440106", &[]).await;
    // Assisting only: the second table.
    let assisting = app.dispatched_order(&s, "co-power", &["d440106"]).await;

    let page = session(&app, "handler.d440106").await;
    let (_, html) = app.page("/console/inbox", &page).await;
    assert_eq!(rows_of(&html, "q-inbox"), [to_sign, signed_urgent, signed_normal]);
    assert_eq!(text_of(&html, "total-inbox"), "共 3 条");
    assert_eq!(rows_of(&html, "q-inbox_other"), [assisting]);
    assert_eq!(text_of(&html, "total-inbox_other"), "共 1 条");
}
}

dual! {
async fn extension_requests_are_listed_from_the_store_with_their_total() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let handler = app.login("handler.d440106").await;
    let mut asked = Vec::new();
    for _ in 0..3 {
        let n = app.signed_order(&s, "d440106", &handler).await;
        asked.push(n);
    }
    // Asked in reverse order of number: the oldest request comes first.
    for n in asked.iter().rev() {
        let body = json!({"until": "2026-12-10T17:00:00+08:00", "reason": "需协调多个部门。"});
        app.must(n, "request_extension", &handler, body).await;
        app.clock.advance(60_000);
    }
    let quiet = app.signed_order(&s, "d440106", &handler).await;
    let expected: Vec<String> = asked.iter().rev().cloned().collect();
    for (user, path) in [("dispatcher", "/console/dispatch"), ("supervisor", "/console/supervise")] {
        let page = session(&app, user).await;
        let (_, html) = app.page(path, &page).await;
        assert_eq!(rows_of(&html, "q-extensions"), expected, "{path}");
        assert_eq!(text_of(&html, "total-extensions"), "共 3 条", "{path}");
        assert!(!rows_of(&html, "q-extensions").contains(&quiet));
    }
    // A decided request leaves the list.
    app.must(&asked[0], "decide_extension", &s.dispatcher, json!({"approve": true})).await;
    let page = session(&app, "dispatcher").await;
    let (_, html) = app.page("/console/dispatch", &page).await;
    assert_eq!(text_of(&html, "total-extensions"), "共 2 条");
}
}

dual! {
async fn a_page_past_the_end_shows_the_last_and_bad_search_input_is_no_error_page() {
    let app = spawn_app().await;
    let s = app.staff().await;
    app.create(&s, sample_order()).await;
    let op = session(&app, "operator").await;
    let (status, html) = app.page("/console/registered?page=99", &op).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(rows_of(&html, "q-registered").len(), 1);
    let (status, _) = app.page("/console/registered?page=x", &op).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    for q in ["phone=abc", "created_to=2026-13-01", "number=12a", "address=%01", "status=nope", "category=no.such"] {
        let (status, html) = app.page(&format!("/console/orders?{q}"), &op).await;
        assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert!(html.contains("class=\"field-error\""), "{q}: the message is next to the field");
        assert!(!html.contains("id=\"q-orders\""), "{q}: nothing is listed");
    }
}
}

dual! {
async fn the_migration_fills_the_new_columns_of_existing_orders() {
    let app = spawn_app().await;
    let s = app.staff().await;
    let handler = app.login("handler.d440106").await;
    let replied = app.replied_order(&s, "d440106", &handler).await;
    let asked = app.signed_order(&s, "d440106", &handler).await;
    let body = json!({"until": "2026-12-10T17:00:00+08:00", "reason": "需协调。"});
    app.must(&asked, "request_extension", &handler, body).await;
    let db = app.stop_keeping_db().await;

    // As before migration 0006: the columns empty; then its backfill.
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&db.db_url).await.unwrap();
    sqlx::query("UPDATE orders SET address = NULL, replied_at = NULL, extension_at = NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    let dir = if db.db_url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let file = format!("{}/../lianxin-store/migrations/{dir}/0006_console_lists.sql", env!("CARGO_MANIFEST_DIR"));
    let sql = std::fs::read_to_string(file).unwrap();
    let update = &sql[sql.find("UPDATE orders").unwrap()..];
    let update = &update[..=update.find(';').unwrap()];
    sqlx::query(sqlx::AssertSqlSafe(update.to_owned())).execute(&mut conn).await.unwrap();
    let row = |n: &str| {
        let q = format!("SELECT address, replied_at, extension_at FROM orders WHERE number = '{n}'");
        sqlx::query_as::<_, (Option<String>, Option<i64>, Option<i64>)>(sqlx::AssertSqlSafe(q))
    };
    let (address, replied_at, extension_at) = row(&replied).fetch_one(&mut conn).await.unwrap();
    assert_eq!(address.as_deref(), Some("天河路1号"));
    assert_eq!(replied_at, Some(T0));
    assert_eq!(extension_at, None);
    let (_, replied_at, extension_at) = row(&asked).fetch_one(&mut conn).await.unwrap();
    assert_eq!((replied_at, extension_at), (None, Some(T0)));
    conn.close().await.unwrap();
}
}
