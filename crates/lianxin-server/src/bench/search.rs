//! `lianxin bench search`: the order index at a million orders (issue 11). Builds the index
//! the way the server's rebuild does (batches of 2,000 fed to `Rebuild::add` from another
//! thread, one commit), lets its background merges finish, then queries it from a fresh
//! process — the state a restarted server holds — one query after another on one thread.
//!
//! The documents are synthetic but made of the demo city's own texts: each leaf category's
//! sample requests with real road names, often two of them, and numbers; statuses, units,
//! streets and times spread over two years like a hotline's history.

use super::percentile;
use crate::demo::{City, REPLIES};
use lianxin_domain::reference::Directory;
use lianxin_domain::scope::{Scope, scope_of};
use lianxin_domain::*;
use lianxin_search::{Filter, IndexState, OrderDoc, OrderIndex, SCHEMA_VERSION, Sort, Synonyms, Words};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Documents per `Rebuild::add`, as the server's rebuild reads them.
const BATCH: usize = 2000;
/// Queries run before the timed ones.
const WARMUP: usize = 50;
/// Hits a page asks for.
const LIMIT: usize = 20;
/// The two years the history spans end here (2026-12-01 00:00 +08:00), so that every run
/// generates the same documents.
const END: Millis = 1_795_968_000_000;
const DAY: Millis = 86_400_000;
const SPAN: Millis = 730 * DAY;

/// Two-word queries: pairs of words the sample texts hold (some in one sample, some only
/// across the two samples a document may combine), from rare to common.
const PAIRS: &[(&str, &str)] = &[
    ("路灯", "不亮"),
    ("噪音", "晚上"),
    ("井盖", "松动"),
    ("物业", "费用"),
    ("物业", "维修"),
    ("垃圾", "清运"),
    ("摊贩", "路口"),
    ("停车", "小区"),
    ("施工", "噪音"),
    ("拖欠", "工资"),
    ("社保", "办理"),
    ("公积金", "提取"),
    ("积水", "下雨"),
    ("学校", "收费"),
    ("医院", "挂号"),
    ("公交", "线路"),
    ("红绿灯", "路口"),
    ("污水", "河涌"),
    ("充电", "电动车"),
    ("停水", "通知"),
    ("退款", "商家"),
    ("地铁", "出口"),
    ("养老", "补贴"),
    ("医保", "报销"),
    ("空调", "滴水"),
    ("漏水", "楼上"),
    ("装修", "噪音"),
    ("燃气", "维修"),
    ("小区", "垃圾"),
    ("晚上", "施工"),
];

/// One-word queries (no filter): specific words and a few of the commonest.
const SINGLES: &[&str] = &[
    "路灯",
    "噪音",
    "井盖",
    "物业",
    "停车",
    "垃圾",
    "施工",
    "工资",
    "社保",
    "学校",
    "医院",
    "公交",
    "漏水",
    "油烟",
    "电梯",
    "燃气",
    "装修",
    "退款",
    "积水",
    "红绿灯",
    "公积金",
    "医保",
    "地铁",
    "充电",
    "违建",
    "摊贩",
    "违章",
    "小区",
    "晚上",
    "处理",
];

/// Synonym groups a city would have added (the demo city has none); queries with these
/// words search every word of the group.
const SYNONYMS: &[&[&str]] = &[&["噪音", "噪声"], &["摊贩", "摆摊", "小贩"], &["停车", "泊车"], &["漏水", "渗水"]];

/// What to run.
#[derive(Debug, Clone)]
pub struct SearchBench {
    pub orders: usize,
    /// The index directory (kept); a temporary one when `None`.
    pub dir: Option<PathBuf>,
    /// Timed queries per group.
    pub queries: usize,
    /// Query the index an earlier run left in `dir` instead of building it.
    pub reuse: bool,
}

/// Resident memory of this process, from `/proc/self/status` (KiB).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Rss {
    pub rss_kib: u64,
    /// Heap and other private memory.
    pub anon_kib: u64,
    /// Pages of mapped files (tantivy maps the index files) and of the binary.
    pub file_kib: u64,
    /// The peak of `rss_kib` so far.
    pub peak_kib: u64,
}

impl Rss {
    pub fn now() -> Rss {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Rss {
            rss_kib: field("VmRSS:"),
            anon_kib: field("RssAnon:"),
            file_kib: field("RssFile:"),
            peak_kib: field("VmHWM:"),
        }
    }

    fn minus(self, earlier: Rss) -> Rss {
        Rss {
            rss_kib: self.rss_kib.saturating_sub(earlier.rss_kib),
            anon_kib: self.anon_kib.saturating_sub(earlier.anon_kib),
            file_kib: self.file_kib.saturating_sub(earlier.file_kib),
            peak_kib: self.peak_kib,
        }
    }
}

/// CPU seconds this process has used (all threads), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) in clock ticks; Linux reports 100 a second.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// A fixed amount of CPU work to read the other figures against: jieba's query-mode
/// segmentation of 1 MB of the sample texts (the best of three), in milliseconds.
fn baseline_ms(corpus: &Corpus) -> f64 {
    let words = Words::new();
    let mut text = Vec::new();
    let mut bytes = 0;
    'fill: loop {
        for l in &corpus.leaves {
            for s in &l.samples {
                let s = s.replace("{address}", "人民北路12号");
                bytes += s.len();
                text.push(s);
                if bytes >= 1_000_000 {
                    break 'fill;
                }
            }
        }
    }
    let _ = words.query_words("预热");
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut n = 0;
        for s in &text {
            n += words.query_words(s).len();
        }
        std::hint::black_box(n);
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
    }
    best
}

struct Leaf {
    code: CategoryCode,
    /// The top-level group (`urban` of `urban.facilities.streetlight-out`).
    group: String,
    request_type: &'static str,
    samples: Vec<String>,
}

struct Street {
    code: JurisdictionCode,
    district: JurisdictionCode,
    roads: Vec<String>,
}

/// The demo city's texts and places, as the documents and queries use them.
struct Corpus {
    dir: Directory,
    leaves: Vec<Leaf>,
    streets: Vec<Street>,
    handling: Vec<UnitCode>,
    districts: Vec<UnitCode>,
}

impl Corpus {
    fn new() -> anyhow::Result<Corpus> {
        let City { jurisdictions, units, categories, routes, samples, places, .. } = crate::demo::city()?;
        let dir = Directory::new(jurisdictions, units, categories, routes);
        let leaves: Vec<Leaf> = dir
            .categories()
            .filter_map(|c| {
                let leaf = c.leaf.as_ref()?;
                let samples = samples.get(&c.code).filter(|s| !s.is_empty())?.clone();
                Some(Leaf {
                    code: c.code.clone(),
                    group: c.code.as_str().split('.').next().unwrap_or("").to_owned(),
                    request_type: leaf.request_type.unwrap_or(RequestType::Complaint).as_str(),
                    samples,
                })
            })
            .collect();
        let streets: Vec<Street> = dir
            .jurisdictions()
            .filter(|j| j.level == JurisdictionLevel::Street && j.active)
            .filter_map(|j| {
                let district = dir.district_of(&j.code)?.code.clone();
                let roads = places.get(district.as_str()).cloned().unwrap_or_else(|| vec!["人民路".into()]);
                Some(Street { code: j.code.clone(), district, roads })
            })
            .collect();
        let handling = dir.units().filter(|u| u.kind.can_handle() && u.active).map(|u| u.code.clone()).collect();
        let districts = dir.units().filter(|u| u.kind == UnitKind::District).map(|u| u.code.clone()).collect();
        if leaves.is_empty() || streets.is_empty() {
            anyhow::bail!("the demo city has no sample texts or streets");
        }
        Ok(Corpus { dir, leaves, streets, handling, districts })
    }
}

fn weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut pick = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if pick < *w {
            return item;
        }
        pick -= w;
    }
    &items[0].0
}

/// The documents, in order of creation (as the rebuild reads them, by number).
struct Docs<'a> {
    c: &'a Corpus,
    rng: StdRng,
    n: usize,
    i: usize,
    calendar: lianxin_domain::calendar::Calendar,
    day: String,
    seq: u32,
}

impl<'a> Docs<'a> {
    fn new(c: &'a Corpus, n: usize) -> Docs<'a> {
        Docs { c, rng: StdRng::seed_from_u64(11), n, i: 0, calendar: Default::default(), day: String::new(), seq: 0 }
    }

    fn next_batch(&mut self) -> Vec<OrderDoc> {
        let end = (self.i + BATCH).min(self.n);
        let mut out = Vec::with_capacity(end - self.i);
        while self.i < end {
            out.push(self.doc());
            self.i += 1;
        }
        out
    }

    fn address(&mut self, street: &Street) -> String {
        let road = street.roads.choose(&mut self.rng).map(String::as_str).unwrap_or("人民路");
        format!("{road}{}号", self.rng.random_range(1..400))
    }

    fn doc(&mut self) -> OrderDoc {
        let c = self.c;
        let slot = SPAN / self.n.max(1) as i64;
        let created_at = END - SPAN + self.i as i64 * slot + self.rng.random_range(0..slot.max(1));
        let day = self.calendar.local_day_code(created_at);
        if day == self.day {
            self.seq += 1;
        } else {
            self.day = day;
            self.seq = 1;
        }
        let number = format!("{}{:05}", self.day, self.seq);
        let leaf = &c.leaves[self.rng.random_range(0..c.leaves.len())];
        let street = &c.streets[self.rng.random_range(0..c.streets.len())];
        let address = self.address(street);
        let fill = |s: &str, a: &str| s.replace("{address}", a);
        let mut content = fill(leaf.samples.choose(&mut self.rng).map(String::as_str).unwrap_or(""), &address);
        // Callers say more than one thing: a second sample of the same matter, or of
        // another, about a neighbouring address.
        let more = self.rng.random_range(0..100);
        if more < 70 {
            let other = if more < 55 { leaf } else { &c.leaves[self.rng.random_range(0..c.leaves.len())] };
            let near = self.address(street);
            if let Some(s) = other.samples.choose(&mut self.rng) {
                content.push_str(&fill(s, &near));
            }
        }
        match self.rng.random_range(0..10) {
            0..=2 => content.push_str(&format!("已经反映{}次了。", self.rng.random_range(2..7))),
            3..=4 => content.push_str(&format!(
                "具体在{}栋{}单元{}房附近。",
                self.rng.random_range(1..40),
                self.rng.random_range(1..6),
                self.rng.random_range(101..3300)
            )),
            5 => content.push_str(&format!(
                "从{}月{}日开始一直这样。",
                self.rng.random_range(1..13),
                self.rng.random_range(1..29)
            )),
            6 => content.push_str(&format!(
                "之前的工单号是{}。",
                self.rng.random_range(2_024_010_100_001u64..2_026_113_099_999)
            )),
            _ => {}
        }
        let age = END - created_at;
        use Status::*;
        let status = *if age < DAY {
            weighted(
                &mut self.rng,
                &[
                    (Registered, 5),
                    (InReview, 10),
                    (PendingDispatch, 20),
                    (Dispatched, 25),
                    (InProgress, 30),
                    (Replied, 5),
                    (Closed, 5),
                ],
            )
        } else if age < 30 * DAY {
            weighted(
                &mut self.rng,
                &[
                    (PendingDispatch, 3),
                    (Dispatched, 7),
                    (InProgress, 25),
                    (Replied, 20),
                    (Closed, 40),
                    (Merged, 2),
                    (Cancelled, 3),
                ],
            )
        } else {
            weighted(&mut self.rng, &[(InProgress, 2), (Replied, 2), (Closed, 89), (Merged, 3), (Cancelled, 4)])
        };
        // A tenth of closed orders were answered at first contact, never dispatched.
        let answered_at_intake = status == Closed && self.rng.random_bool(0.1);
        let dispatched = !matches!(status, Registered | InReview | PendingDispatch | Cancelled) && !answered_at_intake;
        let lead = if !dispatched {
            None
        } else if self.rng.random_bool(0.03) {
            c.handling.choose(&mut self.rng).cloned()
        } else {
            c.dir
                .suggest_lead(&leaf.code, Some(&street.code), Some(&street.district))
                .map(|u| u.code.clone())
                .or_else(|| c.handling.choose(&mut self.rng).cloned())
        };
        let mut units: Vec<String> = lead.iter().map(|u| u.to_string()).collect();
        if lead.is_some()
            && self.rng.random_bool(0.08)
            && let Some(u) = c.handling.choose(&mut self.rng)
            && !units.iter().any(|x| x == u.as_str())
        {
            units.push(u.to_string());
        }
        // As `search::doc_of` puts it together: content, the address unless the content
        // holds it, the reply.
        let mut text = content;
        if !text.contains(&address) {
            text.push('\n');
            text.push_str(&address);
        }
        if matches!(status, Replied | Closed) {
            text.push('\n');
            if lead.is_some() {
                text.push_str(REPLIES.choose(&mut self.rng).copied().unwrap_or(""));
            } else {
                text.push_str("已当场答复市民。");
            }
        }
        let channel = *weighted(
            &mut self.rng,
            &[
                (Channel::Phone, 70),
                (Channel::Wechat, 10),
                (Channel::Web, 8),
                (Channel::App, 7),
                (Channel::Email, 2),
                (Channel::Letter, 1),
                (Channel::Media, 1),
                (Channel::Open311, 1),
            ],
        );
        OrderDoc {
            number,
            text,
            status: status.as_str().to_owned(),
            category: leaf.code.to_string(),
            request_type: leaf.request_type.to_owned(),
            channel: channel.as_str().to_owned(),
            street: Some(street.code.to_string()),
            district: Some(street.district.to_string()),
            lead_unit: lead.map(|u| u.to_string()),
            units,
            confidential: self.rng.random_bool(0.05),
            created_at,
        }
    }
}

/// Bytes of every file under `dir`, and per file extension.
fn dir_size(dir: &Path) -> (u64, BTreeMap<String, u64>) {
    let mut total = 0;
    let mut by_ext = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(p),
                Ok(m) => {
                    total += m.len();
                    let ext = p.extension().map(|x| x.to_string_lossy().into_owned()).unwrap_or_default();
                    *by_ext.entry(ext).or_insert(0) += m.len();
                }
                Err(_) => {}
            }
        }
    }
    (total, by_ext)
}

/// What building the index measured.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    /// Generating the documents alone (no index), the baseline of the build.
    pub generate_seconds: f64,
    pub generate_cpu_seconds: f64,
    /// Bytes of document text generated.
    pub text_bytes: u64,
    /// Generating and indexing, up to the commit of `Rebuild::finish`.
    pub build_seconds: f64,
    pub build_cpu_seconds: f64,
    pub build_docs_per_second: f64,
    /// The commit alone (the end of `build_seconds`).
    pub commit_seconds: f64,
    /// Segments right after the commit, and the wait for the background merges after it.
    pub segments_at_commit: usize,
    pub merge_wait_seconds: f64,
    pub index_bytes: u64,
    pub index_bytes_by_extension: BTreeMap<String, u64>,
    pub rss_before_open: Rss,
    pub rss_after_build: Rss,
    pub rss_after_close: Rss,
}

/// One group of timed queries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryGroup {
    pub name: String,
    pub queries: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The mean of the matching orders' count (`Hits::total`).
    pub mean_total: f64,
    /// Queries that found nothing.
    pub empty: usize,
}

/// What the fresh process that queried the index measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryReport {
    pub docs: u64,
    pub segments: usize,
    pub open_seconds: f64,
    pub warmup_queries: usize,
    pub baseline_ms: f64,
    /// At the start, after loading jieba's dictionary, after opening the index, after the
    /// queries.
    pub rss_start: Rss,
    pub rss_after_words: Rss,
    pub rss_after_open: Rss,
    pub rss_after_queries: Rss,
    /// `rss_after_queries - rss_start`: what the server holds for search.
    pub held: Rss,
    pub groups: Vec<QueryGroup>,
}

/// Everything `bench search` measured.
#[derive(Debug, Clone, Serialize)]
pub struct SearchReport {
    pub orders: usize,
    pub dir: Option<String>,
    /// The CPU baseline in the building process (ms).
    pub baseline_ms: f64,
    pub build: Option<BuildReport>,
    pub query: QueryReport,
    /// p99 of the two-word filtered queries (relevance and newest) over the query
    /// process's baseline.
    pub p99_over_baseline: f64,
    /// Both two-word filtered groups at p99 ≤ 30 ms.
    pub target_met: bool,
}

/// Builds (unless `reuse`) and queries the index; the queries run in a child process.
pub fn run(b: &SearchBench) -> anyhow::Result<SearchReport> {
    let corpus = Corpus::new()?;
    let temp;
    let dir = match &b.dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().join("index")
        }
    };
    if b.reuse && b.dir.is_none() {
        anyhow::bail!("--reuse needs --dir (the directory of an earlier run)");
    }
    if !b.reuse && dir.exists() && std::fs::read_dir(&dir)?.next().is_some() && !dir.join("meta.json").exists() {
        anyhow::bail!("{} holds files that are not a search index; give an empty or new directory", dir.display());
    }
    let baseline = baseline_ms(&corpus);
    eprintln!("baseline: jieba on 1 MB of sample text {baseline:.1} ms");
    let build = if b.reuse { None } else { Some(build(&corpus, &dir, b.orders)?) };
    eprintln!("querying in a fresh process");
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["bench", "search", "--query-only", "--orders"])
        .arg(b.orders.to_string())
        .arg("--queries")
        .arg(b.queries.to_string())
        .arg("--dir")
        .arg(&dir)
        .env("LIANXIN_LOG", "warn")
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        anyhow::bail!("the query process failed ({})", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    let query: QueryReport = serde_json::from_str(last)?;
    let filtered: Vec<&QueryGroup> =
        query.groups.iter().filter(|g| g.name.starts_with("two words + filter") && !g.name.contains(" / ")).collect();
    let p99 = filtered.iter().map(|g| g.p99_ms).fold(0.0, f64::max);
    Ok(SearchReport {
        orders: b.orders,
        dir: b.dir.as_ref().map(|d| d.display().to_string()),
        baseline_ms: baseline,
        build,
        p99_over_baseline: p99 / query.baseline_ms.max(1e-9),
        target_met: !filtered.is_empty() && p99 <= 30.0,
        query,
    })
}

fn build(corpus: &Corpus, dir: &Path, n: usize) -> anyhow::Result<BuildReport> {
    // The baseline: the same documents, generated and dropped.
    let (cpu, t) = (cpu_seconds(), Instant::now());
    let mut docs = Docs::new(corpus, n);
    let mut text_bytes = 0u64;
    loop {
        let batch = docs.next_batch();
        if batch.is_empty() {
            break;
        }
        text_bytes += batch.iter().map(|d| d.text.len() as u64).sum::<u64>();
    }
    let generate_seconds = t.elapsed().as_secs_f64();
    let generate_cpu_seconds = cpu_seconds() - cpu;
    eprintln!("generated {n} documents ({:.0} MB of text) in {generate_seconds:.1} s", text_bytes as f64 / 1e6);

    let rss_before_open = Rss::now();
    let (cpu, t) = (cpu_seconds(), Instant::now());
    let index = OrderIndex::open(Some(dir), Words::new())?;
    let state = IndexState { schema: SCHEMA_VERSION, db: "bench-search".into(), seq: n as i64, words: "bench".into() };
    let mut commit_seconds = 0.0;
    std::thread::scope(|s| -> anyhow::Result<()> {
        // As the server's rebuild: one side makes batches, the other adds them.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<OrderDoc>>(2);
        s.spawn(move || {
            let mut docs = Docs::new(corpus, n);
            loop {
                let batch = docs.next_batch();
                if batch.is_empty() || tx.send(batch).is_err() {
                    break;
                }
            }
        });
        let mut r = index.rebuild()?;
        let mut added = 0;
        let mut said = Instant::now();
        while let Ok(batch) = rx.recv() {
            r.add(&batch)?;
            added += batch.len();
            if said.elapsed() > Duration::from_secs(30) {
                said = Instant::now();
                let m = Rss::now();
                eprintln!(
                    "indexed {added} of {n}, {:.0} s, RSS {:.0} MiB ({:.0} MiB anonymous)",
                    t.elapsed().as_secs_f64(),
                    mib(m.rss_kib),
                    mib(m.anon_kib)
                );
            }
        }
        let c = Instant::now();
        r.finish(&state)?;
        commit_seconds = c.elapsed().as_secs_f64();
        Ok(())
    })?;
    let build_seconds = t.elapsed().as_secs_f64();
    let build_cpu_seconds = cpu_seconds() - cpu;
    let rss_after_build = Rss::now();
    let segments_at_commit = index.segments();
    eprintln!("indexed {n} in {build_seconds:.1} s ({segments_at_commit} segments); waiting for merges");
    let t = Instant::now();
    index.close()?;
    let merge_wait_seconds = t.elapsed().as_secs_f64();
    let rss_after_close = Rss::now();
    let (index_bytes, index_bytes_by_extension) = dir_size(dir);
    Ok(BuildReport {
        generate_seconds,
        generate_cpu_seconds,
        text_bytes,
        build_seconds,
        build_cpu_seconds,
        build_docs_per_second: n as f64 / build_seconds,
        commit_seconds,
        segments_at_commit,
        merge_wait_seconds,
        index_bytes,
        index_bytes_by_extension,
        rss_before_open,
        rss_after_build,
        rss_after_close,
    })
}

/// The filter kinds of the two-word queries, in turn.
const FILTERS: &[&str] = &["status", "category group", "street", "30 days"];

/// One query to time.
struct Spec {
    text: String,
    scope: Scope,
    filter: Filter,
    /// Index into `FILTERS`, or `None` without a filter.
    kind: Option<usize>,
}

/// The two-word filtered queries, `q` of them: pairs in turn, the filter kinds in turn,
/// every other round within one district government's scope.
fn two_word_specs(c: &Corpus, q: usize, seed: u64) -> Vec<Spec> {
    let mut rng = StdRng::seed_from_u64(seed);
    // The group of a category whose samples hold both words (else the first word).
    let group_of = |a: &str, b: &str| -> Option<String> {
        let has = |l: &&Leaf, w: &str| l.samples.iter().any(|s| s.contains(w));
        c.leaves
            .iter()
            .find(|l| l.samples.iter().any(|s| s.contains(a) && s.contains(b)))
            .or_else(|| c.leaves.iter().find(|l| has(l, a)))
            .map(|l| l.group.clone())
    };
    let groups: Vec<Option<String>> = PAIRS.iter().map(|(a, b)| group_of(a, b)).collect();
    (0..q)
        .map(|i| {
            let p = rng.random_range(0..PAIRS.len());
            let (a, b) = PAIRS[p];
            let kind = i % FILTERS.len();
            let limited = (i / FILTERS.len()) % 2 == 1;
            let unit = c.districts.choose(&mut rng).cloned();
            let (scope, in_district) = match (limited, unit) {
                (true, Some(u)) => {
                    let actor = Actor { username: format!("handler.{u}"), roles: vec![Role::Handler], unit: Some(u) };
                    let scope = scope_of(&actor, &c.dir);
                    let d = match &scope {
                        Scope::Limited { district, .. } => district.clone(),
                        Scope::All => None,
                    };
                    (scope, d)
                }
                _ => (Scope::All, None),
            };
            let mut filter = Filter::default();
            match kind {
                0 => filter.statuses = vec!["dispatched".into(), "in_progress".into()],
                1 => filter.categories = groups[p].iter().cloned().collect(),
                2 => {
                    // A district's handler picks a street of its own district.
                    let streets: Vec<&Street> =
                        c.streets.iter().filter(|s| in_district.as_ref().is_none_or(|d| &s.district == d)).collect();
                    filter.street = streets.choose(&mut rng).map(|s| s.code.to_string());
                }
                _ => {
                    let from = END - SPAN + rng.random_range(0..SPAN - 30 * DAY);
                    filter.created_from = Some(from);
                    filter.created_to = Some(from + 30 * DAY);
                }
            }
            Spec { text: format!("{a} {b}"), scope, filter, kind: Some(kind) }
        })
        .collect()
}

fn one_word_specs(q: usize, seed: u64) -> Vec<Spec> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..q)
        .map(|_| Spec {
            text: SINGLES.choose(&mut rng).copied().unwrap_or("路灯").to_owned(),
            scope: Scope::All,
            filter: Filter::default(),
            kind: None,
        })
        .collect()
}

struct Timed {
    took: Duration,
    total: usize,
}

fn time_all(index: &OrderIndex, synonyms: &Synonyms, specs: &[Spec], sort: Sort) -> anyhow::Result<Vec<Timed>> {
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        let t = Instant::now();
        let hits = index.search(&s.text, synonyms, &s.scope, &s.filter, sort, 0, LIMIT)?;
        let took = t.elapsed();
        out.push(Timed { took, total: std::hint::black_box(hits).total });
    }
    Ok(out)
}

fn group(name: String, timed: &[&Timed]) -> QueryGroup {
    let mut d: Vec<Duration> = timed.iter().map(|t| t.took).collect();
    d.sort_unstable();
    QueryGroup {
        name,
        queries: timed.len(),
        p50_ms: percentile(&d, 0.50),
        p90_ms: percentile(&d, 0.90),
        p99_ms: percentile(&d, 0.99),
        max_ms: d.last().map(|x| x.as_secs_f64() * 1000.0).unwrap_or(0.0),
        mean_total: timed.iter().map(|t| t.total as f64).sum::<f64>() / timed.len().max(1) as f64,
        empty: timed.iter().filter(|t| t.total == 0).count(),
    }
}

/// The groups of one run over `specs`: all of them, then by filter kind and by scope.
fn groups(name: &str, specs: &[Spec], timed: &[Timed], breakdown: bool) -> Vec<QueryGroup> {
    let all: Vec<&Timed> = timed.iter().collect();
    let mut out = vec![group(name.to_owned(), &all)];
    if breakdown {
        for (k, f) in FILTERS.iter().enumerate() {
            let sel: Vec<&Timed> = specs.iter().zip(timed).filter(|(s, _)| s.kind == Some(k)).map(|(_, t)| t).collect();
            out.push(group(format!("{name} / {f}"), &sel));
        }
        for (label, limited) in [("scope all", false), ("scope district", true)] {
            let sel: Vec<&Timed> = specs
                .iter()
                .zip(timed)
                .filter(|(s, _)| matches!(s.scope, Scope::Limited { .. }) == limited)
                .map(|(_, t)| t)
                .collect();
            out.push(group(format!("{name} / {label}"), &sel));
        }
    }
    out
}

/// The query side, in a process of its own: open the index in `dir` as a restarted server
/// does and time the queries.
pub fn run_queries(dir: &Path, orders: usize, queries: usize) -> anyhow::Result<QueryReport> {
    let corpus = Corpus::new()?;
    let two = two_word_specs(&corpus, queries, 1);
    let one = one_word_specs(queries, 2);
    let warm = two_word_specs(&corpus, WARMUP, 3);
    let synonyms = Synonyms::new(SYNONYMS.iter().map(|g| g.iter().copied()));
    if !dir.join("meta.json").exists() {
        anyhow::bail!("{} holds no search index", dir.display());
    }
    let rss_start = Rss::now();
    let words = Words::new();
    let _ = words.query_words("加载词典");
    let rss_after_words = Rss::now();
    let t = Instant::now();
    let index = OrderIndex::open(Some(dir), words)?;
    let open_seconds = t.elapsed().as_secs_f64();
    let rss_after_open = Rss::now();
    let docs = index.len();
    if docs != orders as u64 || index.state().is_none() {
        anyhow::bail!("the index in {} holds {docs} orders, not the {orders} of this run", dir.display());
    }
    let baseline_ms = baseline_ms(&corpus);
    // The warm-up reads the index files in when they are not in the page cache; its
    // timings are reported apart.
    let warmed = time_all(&index, &synonyms, &warm, Sort::Relevance)?;
    let mut out = groups("warm-up (two words + filter, relevance)", &warm, &warmed, false);
    let rel = time_all(&index, &synonyms, &two, Sort::Relevance)?;
    out.extend(groups("two words + filter, relevance", &two, &rel, true));
    let new = time_all(&index, &synonyms, &two, Sort::Newest)?;
    out.extend(groups("two words + filter, newest", &two, &new, true));
    let single = time_all(&index, &synonyms, &one, Sort::Relevance)?;
    out.extend(groups("one word, no filter, relevance", &one, &single, false));
    let rss_after_queries = Rss::now();
    Ok(QueryReport {
        docs,
        segments: index.segments(),
        open_seconds,
        warmup_queries: warm.len(),
        baseline_ms,
        rss_start,
        rss_after_words,
        rss_after_open,
        rss_after_queries,
        held: rss_after_queries.minus(rss_start),
        groups: out,
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl SearchReport {
    /// The report for people, one line each.
    pub fn lines(&self) -> Vec<String> {
        let mut l = Vec::new();
        let q = &self.query;
        l.push(format!(
            "search: {} orders, {} segments; baseline (jieba on 1 MB) {:.1} ms here, {:.1} ms in the query process",
            self.orders, q.segments, self.baseline_ms, q.baseline_ms
        ));
        if let Some(b) = &self.build {
            l.push(format!(
                "  generate only: {:.1} s ({:.0} docs/s, {:.1} CPU s, {:.0} MB of text)",
                b.generate_seconds,
                self.orders as f64 / b.generate_seconds.max(1e-9),
                b.generate_cpu_seconds,
                b.text_bytes as f64 / 1e6
            ));
            l.push(format!(
                "  build: {:.1} s, {:.0} docs/s ({:.1} CPU s; commit {:.1} s; {} segments at commit, merges then took {:.1} s)",
                b.build_seconds,
                b.build_docs_per_second,
                b.build_cpu_seconds,
                b.commit_seconds,
                b.segments_at_commit,
                b.merge_wait_seconds
            ));
            l.push(format!(
                "  index on disk: {:.1} MB ({})",
                b.index_bytes as f64 / 1e6,
                b.index_bytes_by_extension
                    .iter()
                    .filter(|(_, v)| **v > 1_000_000)
                    .map(|(k, v)| format!(".{k} {:.0} MB", *v as f64 / 1e6))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            l.push(format!(
                "  build process RSS: {:.0} MiB before open, {:.0} MiB after the build, {:.0} MiB after close (peak {:.0} MiB)",
                mib(b.rss_before_open.rss_kib),
                mib(b.rss_after_build.rss_kib),
                mib(b.rss_after_close.rss_kib),
                mib(b.rss_after_close.peak_kib)
            ));
        }
        l.push(format!(
            "  fresh process: open {:.2} s; RSS {:.0} MiB at start, {:.0} after jieba, {:.0} after open, {:.0} after the queries",
            q.open_seconds,
            mib(q.rss_start.rss_kib),
            mib(q.rss_after_words.rss_kib),
            mib(q.rss_after_open.rss_kib),
            mib(q.rss_after_queries.rss_kib)
        ));
        l.push(format!(
            "  held for search: {:.0} MiB ({:.0} MiB anonymous, {:.0} MiB mapped index files)",
            mib(q.held.rss_kib),
            mib(q.held.anon_kib),
            mib(q.held.file_kib)
        ));
        l.push(format!("  {} warm-up queries, then single-threaded, limit {LIMIT}:", q.warmup_queries));
        for g in &q.groups {
            l.push(format!(
                "  {:<48} n {:>5}  p50 {:>7.2}  p90 {:>7.2}  p99 {:>7.2}  max {:>7.2} ms  (mean total {:>8.0}, empty {})",
                g.name, g.queries, g.p50_ms, g.p90_ms, g.p99_ms, g.max_ms, g.mean_total, g.empty
            ));
        }
        l.push(format!(
            "  two-word filtered p99 = {:.2}x the baseline; target p99 <= 30 ms: {}",
            self.p99_over_baseline,
            if self.target_met { "met" } else { "NOT met" }
        ));
        l
    }
}
