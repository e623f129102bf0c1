//! Search: Chinese full text over orders, following the database's changes.

use crate::kit::*;
use lianxin_server::{Clock, Config, ServeOptions, spawn};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Waits until the index holds every change of the database; returns the status.
async fn caught_up(app: &TestApp, token: &str) -> Value {
    let started = Instant::now();
    loop {
        let s = app.get("/api/v1/search/status", token).await;
        assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
        if s.body["current"] == true {
            return s.body;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the index did not catch up: {:?}", s.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn search(app: &TestApp, token: &str, query: &[(&str, &str)]) -> Value {
    let r = app.http.get(app.url("/api/v1/search/orders")).query(query).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{query:?}: {body:?}");
    body
}

fn numbers(r: &Value) -> Vec<String> {
    r["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap().to_owned()).collect()
}

/// The messages of a real city's message board (TipDM 2020), as an orders import.
struct Board {
    csv: String,
    /// (title, content) of each message as imported.
    texts: Vec<(String, String)>,
}

fn tipdm_board() -> Board {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/tipdm2020/messages_with_votes.csv");
    let mut rd = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .take(max)
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["source_ref", "created_at", "channel", "request_type", "category", "urgency", "title", "content"])
        .unwrap();
    let mut texts = Vec::new();
    for row in rd.records() {
        let row = row.unwrap();
        let (id, title, at, content) = (&row[0], clean(&row[2], 100), &row[3], clean(&row[4], 5000));
        if content.is_empty() {
            continue;
        }
        // `2019/4/25 9:32:09` or `2017-06-08 17:31:20` → `2019-04-25 09:32:09`.
        let at = at.trim().replace('/', "-");
        let (date, time) = at.split_once(' ').unwrap();
        let d: Vec<u32> = date.split('-').map(|p| p.parse().unwrap()).collect();
        let t: Vec<u32> = time.split(':').map(|p| p.parse().unwrap()).collect();
        let at = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            d[0],
            d[1],
            d[2],
            t[0],
            t[1],
            t.get(2).copied().unwrap_or(0)
        );
        w.write_record([
            &format!("tipdm-{id}"),
            &at,
            "web",
            "consultation",
            "other.misc-other",
            "normal",
            &title,
            &content,
        ])
        .unwrap();
        texts.push((title, content));
    }
    Board { csv: String::from_utf8(w.into_inner().unwrap()).unwrap(), texts }
}

crate::dual! {
    async fn real_messages_are_found_by_the_hotlines_words_best_match_first() {
        let app = spawn_app().await;
        let admin = app.login("admin").await;
        let board = tipdm_board();
        let r = app.send("POST", "/api/v1/admin/import/orders", &admin, "text/csv", board.csv.clone().into_bytes()).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["created"].as_u64(), Some(board.texts.len() as u64));
        caught_up(&app, &admin).await;

        let words = lianxin_search::Words::new();
        for word in ["路灯", "噪音", "物业费", "拖欠工资", "停车", "井盖", "公积金"] {
            let text_of = |t: &str, c: &str| format!("{t}{c}");
            let holding = board.texts.iter().filter(|(t, c)| text_of(t, c).contains(word)).count();
            assert!(holding > 0, "{word}");
            // A compound (拖欠工资) also finds its words apart (拖欠了三个月工资).
            let parts = words.parts(word);
            let parts = if parts.len() >= 2 { parts } else { Vec::new() };
            let answers = |s: &str| s.contains(word) || (!parts.is_empty() && parts.iter().all(|p| s.contains(p.as_str())));
            let expected = board.texts.iter().filter(|(t, c)| answers(&text_of(t, c))).count();
            let r = search(&app, &admin, &[("q", word), ("limit", "100")]).await;
            // Exactly the messages holding the word: none missed, none without it.
            assert_eq!(r["total"].as_u64(), Some(expected as u64), "{word} (parts {parts:?})");
            let items = r["items"].as_array().unwrap();
            assert_eq!(items.len(), expected.min(100), "{word}");
            let item_text = |i: &Value| format!("{}{}", i["title"].as_str().unwrap_or(""), i["content"].as_str().unwrap());
            for (k, i) in items.iter().enumerate() {
                let text = item_text(i);
                assert!(answers(&text), "{word}: {}", i["number"]);
                // The messages with the word itself come before those with its parts only.
                if k < holding.min(10) {
                    assert!(text.contains(word), "{word}: result {k} lacks the word itself");
                }
                let s = &i["snippet"];
                let chars: Vec<char> = s["text"].as_str().unwrap().chars().collect();
                let marked: Vec<String> = s["highlights"].as_array().unwrap().iter()
                    .map(|h| chars[h[0].as_u64().unwrap() as usize..h[1].as_u64().unwrap() as usize].iter().collect())
                    .collect();
                assert!(marked.iter().any(|m| m == word || parts.contains(m)), "{word}: the snippet marks it: {s:?}");
            }
            // Best match first: scores never rise down the list, and the first message
            // says the word at least as often as the last.
            let scores: Vec<f64> = items.iter().map(|i| i["score"].as_f64().unwrap()).collect();
            assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{word}: {scores:?}");
            let times = |i: &Value| item_text(i).matches(word).count();
            if items.len() > 1 {
                assert!(times(&items[0]) >= times(items.last().unwrap()), "{word}");
            }
        }
        // Two words: both must be there.
        let both = board.texts.iter().filter(|(t, c)| {
            let s = format!("{t}{c}");
            s.contains("噪音") && s.contains("施工")
        }).count();
        let r = search(&app, &admin, &[("q", "施工 噪音"), ("limit", "5")]).await;
        assert_eq!(r["total"].as_u64(), Some(both as u64));
        // A word the messages never use finds nothing, in Chinese or English.
        for absent in ["量子纠缠", "zeppelin"] {
            assert!(!board.texts.iter().any(|(t, c)| t.contains(absent) || c.contains(absent)));
            let r = search(&app, &admin, &[("q", absent)]).await;
            assert_eq!(r["total"].as_u64(), Some(0), "{absent}: {r:?}");
            assert!(r["items"].as_array().unwrap().is_empty());
        }
        // Newest first, and a filter.
        let r = search(&app, &admin, &[("q", "物业费"), ("sort", "newest"), ("limit", "100")]).await;
        let created: Vec<String> = r["items"].as_array().unwrap().iter().map(|i| i["created_at"].as_str().unwrap().to_owned()).collect();
        let mut sorted = created.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(created, sorted);
        let r = search(&app, &admin, &[("q", "物业费"), ("created_from", "2019-01-01T00:00:00+08:00")]).await;
        let recent = r["total"].as_u64().unwrap();
        assert!(recent > 0 && recent < 78, "{recent}");
    }
}

crate::dual! {
    async fn a_new_order_is_found_within_a_second_and_search_keeps_to_the_callers_scope() {
        let app = spawn_app().await;
        let s = app.staff().await;
        caught_up(&app, &s.operator).await;
        let mut body = sample_order();
        body["content"] = json!("芳村大道东的下水道井盖被偷了，晚上骑车差点掉进去。");
        let n = app.create(&s, body).await;
        let started = Instant::now();
        loop {
            let r = search(&app, &s.operator, &[("q", "井盖")]).await;
            if numbers(&r).contains(&n) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(1), "not searchable after {:?}", started.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A unit sees it only once it is theirs, exactly as in the order list.
        // (A district government sees every order of its district; a department only
        // those dispatched to it.)
        let h = app.login("handler.city-urban").await;
        let other = app.login("handler.city-housing").await;
        assert!(numbers(&search(&app, &h, &[("q", "井盖")]).await).is_empty());
        let r = app.act(&n, "submit", &s.operator, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        app.must(&n, "approve", &s.reviewer, json!({})).await;
        app.must(&n, "dispatch", &s.dispatcher, json!({"lead_unit": "city-urban"})).await;
        let st = caught_up(&app, &h).await;
        let mine = search(&app, &h, &[("q", "井盖")]).await;
        assert_eq!(numbers(&mine), vec![n.clone()], "{st:?} {mine:?} {:?}", search(&app, &s.operator, &[("q", "井盖")]).await);
        assert!(numbers(&search(&app, &other, &[("q", "井盖")]).await).is_empty());
        let list = app.get("/api/v1/orders", &other).await;
        assert!(!list.body["items"].as_array().unwrap().iter().any(|o| o["number"] == n.as_str()));
        // The list's filters apply.
        assert_eq!(numbers(&search(&app, &s.operator, &[("q", "井盖"), ("status", "dispatched")]).await), vec![n.clone()]);
        assert!(numbers(&search(&app, &s.operator, &[("q", "井盖"), ("status", "closed")]).await).is_empty());
        // Bad input is named.
        for (q, field) in [(vec![("q", "")], "q"), (vec![("q", "井盖"), ("sort", "oldest")], "sort"),
                           (vec![("q", "井盖"), ("status", "lost")], "status"), (vec![("q", "井盖"), ("limit", "0")], "limit")] {
            let r = app.http.get(app.url("/api/v1/search/orders")).query(&q).bearer_auth(&s.operator).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let body: Value = r.json().await.unwrap();
            assert!(body["error"]["fields"][field].is_string(), "{q:?}: {body:?}");
        }
    }
}

crate::dual! {
    async fn synonyms_and_city_words_added_by_an_admin_change_what_is_found() {
        let app = spawn_app().await;
        let s = app.staff().await;
        let admin = app.login("admin").await;
        let mut body = sample_order();
        body["category"] = json!("urban.order.occupy-road");
        body["content"] = json!("龙津西路的水果店天天占道经营，人行道都走不了。");
        let n = app.create(&s, body).await;
        caught_up(&app, &admin).await;
        assert!(numbers(&search(&app, &admin, &[("q", "摆摊")]).await).is_empty());
        let r = app.post("/api/v1/search/synonyms", &admin, json!({"words": ["摆摊", "占道经营"]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(numbers(&search(&app, &admin, &[("q", "摆摊")]).await), vec![n.clone()]);
        // Only an admin changes the vocabulary; a group needs two words.
        let r = app.post("/api/v1/search/synonyms", &s.operator, json!({"words": ["a", "b"]})).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden_role");
        let r = app.post("/api/v1/search/synonyms", &admin, json!({"words": ["摆摊"]})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_values");
        let r = app.request(reqwest::Method::DELETE, &format!("/api/v1/search/synonyms/{id}"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert!(numbers(&search(&app, &admin, &[("q", "摆摊")]).await).is_empty());
        // A word of the city's own: the index is rebuilt with it.
        let r = app.post("/api/v1/search/words", &admin, json!({"words": ["龙津西路"]})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["words"], json!(["龙津西路"]));
        let st = caught_up(&app, &admin).await;
        assert!(st["rebuilds"].as_u64().unwrap() >= 2, "{st:?}");
        assert_eq!(numbers(&search(&app, &admin, &[("q", "龙津西路")]).await), vec![n]);
    }
}

fn options(index: &std::path::Path) -> ServeOptions {
    ServeOptions { index_dir: Some(index.to_owned()), ..Default::default() }
}

async fn serve_with(db_url: &str, demo: bool, index: &std::path::Path) -> lianxin_server::Running {
    spawn(Config {
        listen: "127.0.0.1:0".into(),
        database_url: db_url.to_owned(),
        demo: demo.then_some(lianxin_server::demo::DemoOptions { history: 30, days: 3 }),
        clock: Clock::manual(T0),
        sweep_every: None,
        options: options(index),
    })
    .await
    .unwrap()
}

async fn status_of(http: &reqwest::Client, base: &str, token: &str) -> Value {
    let started = Instant::now();
    loop {
        let s: Value = http
            .get(format!("{base}/api/v1/search/status"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["current"] == true {
            return s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn create_at(http: &reqwest::Client, base: &str, token: &str, content: &str) -> String {
    let mut body = sample_order();
    body["content"] = json!(content);
    let r = http.post(format!("{base}/api/v1/orders")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["number"].as_str().unwrap().to_owned()
}

async fn found(http: &reqwest::Client, base: &str, token: &str, q: &str) -> Vec<String> {
    let v: Value = http
        .get(format!("{base}/api/v1/search/orders"))
        .query(&[("q", q)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    numbers(&v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_catches_up_from_where_its_index_stopped_and_a_foreign_index_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("city.db").display());
    let (ix1, ix2) = (dir.path().join("ix1"), dir.path().join("ix2"));
    let http = reqwest::Client::new();

    let a = serve_with(&db, true, &ix1).await;
    let op = sign_in_at(&http, &a.url(), "operator").await;
    let st = status_of(&http, &a.url(), &op).await;
    assert_eq!(st["rebuilds"], 1, "a new index is built: {st:?}");
    let x = create_at(&http, &a.url(), &op, "江南大道的红绿灯坏了一整天。").await;
    status_of(&http, &a.url(), &op).await;
    a.stop().await;

    // Another server with another index writes while the first index sleeps.
    let b = serve_with(&db, false, &ix2).await;
    let op = sign_in_at(&http, &b.url(), "operator").await;
    let y = create_at(&http, &b.url(), &op, "江南大道的红绿灯又坏了。").await;
    status_of(&http, &b.url(), &op).await;
    b.stop().await;

    // The first index wakes up: it catches up (no rebuild) and finds both.
    let a = serve_with(&db, false, &ix1).await;
    let op = sign_in_at(&http, &a.url(), "operator").await;
    let st_a = status_of(&http, &a.url(), &op).await;
    assert_eq!(st_a["rebuilds"], 0, "caught up from where it stopped: {st_a:?}");
    let mut got = found(&http, &a.url(), &op, "红绿灯").await;
    got.sort();
    assert_eq!(got, vec![x.clone(), y.clone()]);
    a.stop().await;

    // An index of another database is rebuilt; so is one after `lianxin reindex`.
    let other = tempfile::tempdir().unwrap();
    let other_db = format!("sqlite://{}", other.path().join("other.db").display());
    let c = serve_with(&other_db, true, &ix1).await;
    let op = sign_in_at(&http, &c.url(), "operator").await;
    let st = status_of(&http, &c.url(), &op).await;
    assert_eq!(st["rebuilds"], 1, "{st:?}");
    assert!(found(&http, &c.url(), &op, "红绿灯").await.is_empty(), "nothing of the other database");
    c.stop().await;
    let orders = st_a["indexed"].as_u64().unwrap();
    let run = cli(&["reindex", "--database-url", &db, "--index-dir", ix1.to_str().unwrap()], None);
    assert!(run.ok, "{run:?}");
    assert!(run.stdout.contains(&format!("search index rebuilt: {orders} orders")), "{run:?}");
    let a = serve_with(&db, false, &ix1).await;
    let op = sign_in_at(&http, &a.url(), "operator").await;
    let st = status_of(&http, &a.url(), &op).await;
    assert_eq!(st["rebuilds"], 0, "{st:?}");
    assert_eq!(found(&http, &a.url(), &op, "红绿灯").await.len(), 2);
    a.stop().await;
}

/// A `lianxin serve` process of its own; stopped when dropped.
struct Process {
    child: std::process::Child,
    url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_process(db_url: &str, demo: bool, index: &std::path::Path) -> Process {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--database-url", db_url, "--index-dir", index.to_str().unwrap()]);
    if demo {
        cmd.args(["--demo", "--demo-orders", "20"]);
    }
    let mut child = cmd
        .env("LIANXIN_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(out).lines();
    let url = loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if let Some(rest) = line.split("serving at ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Process { child, url }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_postgres_find_each_others_new_orders_within_two_seconds() {
    let db = postgres_database().await;
    let dir = tempfile::tempdir().unwrap();
    let one = serve_process(&db, true, &dir.path().join("one"));
    let http = reqwest::Client::new();
    let op1 = sign_in_at(&http, &one.url, "operator").await;
    status_of(&http, &one.url, &op1).await;
    let two = serve_process(&db, false, &dir.path().join("two"));
    let op2 = sign_in_at(&http, &two.url, "operator").await;
    status_of(&http, &two.url, &op2).await;
    for (k, (from, to)) in [(&one, &two), (&two, &one)].into_iter().enumerate() {
        let (tf, tt) = if k == 0 { (&op1, &op2) } else { (&op2, &op1) };
        let word = ["化粪池", "充电桩"][k];
        let n = create_at(&http, &from.url, tf, &format!("小区的{word}出问题了，第{k}次反映。")).await;
        let started = Instant::now();
        loop {
            if found(&http, &to.url, tt, word).await.contains(&n) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(2), "{word}: not found through the other process");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        eprintln!("{word}: found through the other process after {:?}", started.elapsed());
    }
}
