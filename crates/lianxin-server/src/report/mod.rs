//! Reports (报告): weekly, monthly and special (any period) for the whole hotline or for a
//! unit's scope, as a printable HTML page and an `.xlsx` workbook with native Excel charts.
//! Every figure comes from the rollups through the same functions as the statistics API
//! (`api::stats::totals_in`, `rank_of`, `hotspots_in`); the summary paragraph is written
//! from those figures.

mod xlsx;

use crate::api::stats::{HotspotOut, RankedUnit, Within, hotspots_in, name_in, rank_of, totals_in};
use chrono::{Datelike, Duration, NaiveDate};
use lianxin_domain::calendar::Calendar;
use lianxin_domain::kpi::{self, Counter, Dimension, Kpis, Totals, Weights};
use lianxin_domain::reference::Directory;
use lianxin_domain::scope::Area;
use lianxin_store::{Grouping, Store, StoreError};
use std::collections::BTreeMap;

pub use xlsx::workbook;

/// What kind of period a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Week,
    Month,
    Special,
}

/// A report's period: local days `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub kind: Kind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// As given: `2026-10`, `2026-W44` or `2026-10-01..2026-10-15`.
    pub name: String,
}

impl Period {
    /// Reads `2026-10` (a month), `2026-W44` (an ISO week) or `2026-10-01..2026-10-15` (a
    /// special report: first and last day, both included).
    pub fn parse(s: &str) -> Result<Period, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "`{s}` is not a period: give a month (2026-10), an ISO week (2026-W44) or two days (2026-10-01..2026-10-15)"
            )
        };
        if let Some((a, b)) = s.split_once("..") {
            let day = |v: &str| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| bad());
            let (from, last) = (day(a)?, day(b)?);
            if last < from {
                return Err(format!("`{s}`: the last day comes before the first"));
            }
            if (last - from).num_days() >= 3660 {
                return Err(format!("`{s}`: a period is at most ten years"));
            }
            return Ok(Period { kind: Kind::Special, from, to: last + Duration::days(1), name: s.to_owned() });
        }
        if let Some((y, w)) = s.split_once("-W") {
            let (y, w): (i32, u32) = (y.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
            let from = NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon).ok_or_else(bad)?;
            return Ok(Period { kind: Kind::Week, from, to: from + Duration::days(7), name: s.to_owned() });
        }
        let from = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").map_err(|_| bad())?;
        if s.len() != 7 {
            return Err(bad());
        }
        let to = if from.month() == 12 {
            NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)
        }
        .ok_or_else(bad)?;
        if !(2000..=2100).contains(&from.year()) {
            return Err(format!("`{s}`: the years 2000 to 2100"));
        }
        Ok(Period { kind: Kind::Month, from, to, name: s.to_owned() })
    }

    /// The period of equal length just before this one (the previous month for a month).
    pub fn previous(&self) -> (NaiveDate, NaiveDate) {
        match self.kind {
            Kind::Month => {
                let last = self.from - Duration::days(1);
                (NaiveDate::from_ymd_opt(last.year(), last.month(), 1).unwrap_or(last), self.from)
            }
            _ => (self.from - (self.to - self.from), self.from),
        }
    }

    /// The last day, included.
    pub fn last(&self) -> NaiveDate {
        self.to - Duration::days(1)
    }

    /// The period in words: 2026年10月, 2026年第44周（10月26日—11月1日）, 2026年10月1日—10月15日.
    pub fn title(&self) -> String {
        let (f, l) = (self.from, self.last());
        match self.kind {
            Kind::Month => format!("{}年{}月", f.year(), f.month()),
            Kind::Week => format!(
                "{}年第{}周（{}月{}日—{}月{}日）",
                f.iso_week().year(),
                f.iso_week().week(),
                f.month(),
                f.day(),
                l.month(),
                l.day()
            ),
            Kind::Special => {
                format!("{}年{}月{}日—{}年{}月{}日", f.year(), f.month(), f.day(), l.year(), l.month(), l.day())
            }
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Week => "周报",
            Kind::Month => "月报",
            Kind::Special => "专报",
        }
    }
}

/// A volume this period against the previous one.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub code: String,
    pub name: String,
    pub count: i64,
    pub previous: i64,
}

impl Volume {
    /// The change against the previous period, as a fraction (`None` when it had none).
    pub fn change(&self) -> Option<f64> {
        (self.previous > 0).then(|| (self.count - self.previous) as f64 / self.previous as f64)
    }

    pub fn change_text(&self) -> String {
        change_text(self.change())
    }
}

fn change_text(c: Option<f64>) -> String {
    match c {
        Some(c) => format!("{:+.1}%", c * 100.0),
        None => "–".into(),
    }
}

/// One unit's row of the table by unit.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub kpis: Kpis,
}

/// A whole report.
#[derive(Debug)]
pub struct Report {
    pub period: Period,
    /// Whose figures: 全市, or the unit's name.
    pub scope: String,
    pub generated: String,
    pub kpis: Kpis,
    pub total: Volume,
    pub types: Vec<Volume>,
    pub categories: Vec<Volume>,
    pub districts: Vec<Volume>,
    pub units: Vec<UnitRow>,
    pub ranking: Vec<RankedUnit>,
    pub hotspots: Vec<HotspotOut>,
    /// The tough problems open at some moment of the period, within the report's scope.
    pub problems: Vec<ProblemRow>,
    pub summary: String,
}

/// A tough problem as a report lists it.
#[derive(Debug, Clone)]
pub struct ProblemRow {
    pub id: String,
    pub title: String,
    pub place: String,
    pub category: String,
    /// 办理中, 已办结 (by the period's end).
    pub status: String,
    pub parts: usize,
    pub done: usize,
    /// Parts not done by their due day as of the period's end.
    pub overdue: usize,
    pub created: String,
    pub closed: String,
}

/// The tough problems open at some moment of `[from, to)` that a reader within `within` and
/// `area` sees (the one scope function, `problem::sees`), as of the period's end.
async fn problem_rows(cx: &Context<'_>, period: &Period) -> Result<Vec<ProblemRow>, StoreError> {
    use lianxin_domain::scope::Scope;
    let (from, to) = (cx.cal.day_start(period.from), cx.cal.day_start(period.to));
    let scope = match &cx.within {
        Within::City => Scope::All,
        Within::Unit { units, .. } => Scope::Limited { units: units.clone(), district: None },
        Within::Nothing => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for p in cx.store.problems(Some((from, to)), 500).await? {
        if !crate::api::problems::seen_within(&scope, &cx.area, cx.dir, &p) {
            continue;
        }
        let place = p.place.as_deref().and_then(|c| lianxin_domain::JurisdictionCode::parse(c).ok());
        let done_by_end = |at: Option<i64>| at.is_some_and(|t| t < to);
        let day = |t: i64| cx.cal.local_date(t).to_string();
        out.push(ProblemRow {
            parts: p.parts.len(),
            done: p.parts.iter().filter(|x| done_by_end(x.done_at)).count(),
            // As of the day after the period, by the domain's rule.
            overdue: p
                .parts
                .iter()
                .filter(|x| {
                    NaiveDate::parse_from_str(&x.due_day, "%Y-%m-%d").is_ok_and(|due| {
                        lianxin_domain::problem::part_state(done_by_end(x.done_at), due, period.to)
                            == lianxin_domain::problem::PartState::Overdue
                    })
                })
                .count(),
            status: if done_by_end(p.closed_at) { "已办结" } else { "办理中" }.to_owned(),
            place: place.as_ref().and_then(|j| cx.dir.jurisdiction(j).map(|j| j.name.clone())).unwrap_or_default(),
            category: p
                .category
                .as_deref()
                .and_then(|c| lianxin_domain::CategoryCode::parse(c).ok())
                .and_then(|c| cx.dir.category(&c).map(|c| c.name.clone()))
                .unwrap_or_default(),
            created: day(p.created_at),
            closed: p.closed_at.filter(|t| *t < to).map(day).unwrap_or_default(),
            id: p.id,
            title: p.title,
        });
    }
    out.reverse();
    Ok(out)
}

/// What a report reads besides the store.
pub struct Context<'a> {
    pub store: &'a Store,
    pub dir: &'a Directory,
    pub cal: &'a Calendar,
    pub within: Within,
    pub area: Area,
    pub weights: Weights,
    pub now: i64,
}

/// The level-1 category (root) of a category code: (code, name).
pub fn level1(dir: &Directory, code: &str) -> (String, String) {
    match lianxin_domain::CategoryCode::parse(code).ok().and_then(|c| dir.root_category(&c)) {
        Some(c) => (c.code.to_string(), c.name.clone()),
        None => (code.to_owned(), code.to_owned()),
    }
}

/// Volumes by key this period and the previous, most first, named by `name`.
fn volumes(
    now: &BTreeMap<String, Totals>,
    before: &BTreeMap<String, Totals>,
    group: impl Fn(&str) -> (String, String),
) -> Vec<Volume> {
    let mut by: BTreeMap<String, Volume> = BTreeMap::new();
    for (map, this) in [(now, true), (before, false)] {
        for (k, t) in map {
            if k.is_empty() {
                continue;
            }
            let (code, name) = group(k);
            let v = by.entry(code.clone()).or_insert(Volume { code, name, count: 0, previous: 0 });
            let n = t.get(Counter::Registered);
            if this {
                v.count += n;
            } else {
                v.previous += n;
            }
        }
    }
    let mut out: Vec<Volume> = by.into_values().filter(|v| v.count > 0 || v.previous > 0).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    out
}

/// A rate as the pages and reports print it: `95.1%`, `–` where it has no value.
pub fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "–".into())
}

/// Builds a report for `period`.
pub async fn build(cx: &Context<'_>, period: &Period) -> Result<Report, StoreError> {
    let (pf, pt) = period.previous();
    let read = |g: Grouping, d: Option<Dimension>, from: NaiveDate, to: NaiveDate| {
        totals_in(cx.store, &cx.within, g, d, from, to)
    };
    let key = |d: Dimension| (Grouping::Key(d), Some(d));
    let (g, d) = key(Dimension::All);
    let all = read(g, d, period.from, period.to).await?.remove("all").unwrap_or_default();
    let all_before = read(g, d, pf, pt).await?.remove("all").unwrap_or_default();
    let total = Volume {
        code: "all".into(),
        name: "合计".into(),
        count: all.get(Counter::Registered),
        previous: all_before.get(Counter::Registered),
    };
    let mut by = BTreeMap::new();
    for dim in [Dimension::RequestType, Dimension::Category, Dimension::District, Dimension::Unit] {
        let (g, d) = key(dim);
        by.insert(dim, (read(g, d, period.from, period.to).await?, read(g, d, pf, pt).await?));
    }
    let types = {
        let (a, b) = &by[&Dimension::RequestType];
        volumes(a, b, |k| (k.to_owned(), request_type_name(k).to_owned()))
    };
    let categories = {
        let (a, b) = &by[&Dimension::Category];
        volumes(a, b, |k| level1(cx.dir, k))
    };
    let districts = {
        let (a, b) = &by[&Dimension::District];
        volumes(a, b, |k| (k.to_owned(), name_in(cx.dir, Some(Dimension::District), k).unwrap_or_else(|| k.to_owned())))
    };
    let unit_totals = &by[&Dimension::Unit].0;
    let mut units: Vec<UnitRow> = unit_totals
        .iter()
        .filter(|(k, t)| !k.is_empty() && t.get(Counter::Registered) + t.get(Counter::Replied) > 0)
        .map(|(k, t)| UnitRow {
            code: k.clone(),
            name: name_in(cx.dir, Some(Dimension::Unit), k).unwrap_or_else(|| k.clone()),
            kpis: kpi::kpis(t),
        })
        .collect();
    units.sort_by(|a, b| {
        let n = |u: &UnitRow| u.kpis.counts.get("registered").copied().unwrap_or(0);
        n(b).cmp(&n(a)).then_with(|| a.code.cmp(&b.code))
    });
    let ranking = rank_of(unit_totals, &cx.weights, 10, |k| name_in(cx.dir, Some(Dimension::Unit), k));
    let hotspots = match cx.area {
        Area::Nowhere => Vec::new(),
        _ => hotspots_in(cx.store, cx.dir, &cx.area, (period.from, period.to), "street", None, 10).await?.items,
    };
    let kpis = kpi::kpis(&all);
    let scope = match &cx.within {
        Within::City => "全市".to_owned(),
        Within::Unit { unit, .. } => cx.dir.unit(unit).map(|u| u.name.clone()).unwrap_or_else(|| unit.to_string()),
        Within::Nothing => "—".to_owned(),
    };
    let problems = problem_rows(cx, period).await?;
    let mut summary = summary(&scope, period, &total, &types, &categories, &hotspots, &kpis, &ranking);
    if !problems.is_empty() {
        let closed = problems.iter().filter(|p| p.status == "已办结").count();
        let overdue = problems.iter().filter(|p| p.overdue > 0).count();
        summary += &format!("本期跟踪疑难问题{}个，已办结{}个", problems.len(), closed);
        summary +=
            &if overdue > 0 { format!("，{overdue}个有逾期未完成的任务。") } else { "。".to_owned() };
    }
    Ok(Report {
        period: period.clone(),
        scope,
        generated: cx.cal.rfc3339(cx.now).get(..16).unwrap_or_default().replace('T', " "),
        kpis,
        total,
        types,
        categories,
        districts,
        units,
        ranking,
        hotspots,
        problems,
        summary,
    })
}

/// The Chinese names of the request types (the reports are written in Chinese).
fn request_type_name(code: &str) -> &str {
    match code {
        "consultation" => "咨询",
        "help" => "求助",
        "complaint" => "投诉",
        "report" => "举报",
        "suggestion" => "建议",
        "praise" => "表扬",
        other => other,
    }
}

/// The summary paragraph: volumes and their change, the request types, the top categories,
/// the emerging hotspots, the main rates, and the best and worst units of the ranking.
#[allow(clippy::too_many_arguments)]
pub fn summary(
    scope: &str,
    period: &Period,
    total: &Volume,
    types: &[Volume],
    categories: &[Volume],
    hotspots: &[HotspotOut],
    k: &Kpis,
    ranking: &[RankedUnit],
) -> String {
    let mut s = format!("{}，{}热线共受理群众诉求{}件", period.title(), scope, total.count);
    match total.change() {
        Some(c) if c >= 0.0 => s += &format!("，较上期（{}件）增长{:.1}%", total.previous, c * 100.0),
        Some(c) => s += &format!("，较上期（{}件）下降{:.1}%", total.previous, -c * 100.0),
        None => s += "（上期无受理）",
    }
    s.push('。');
    if total.count == 0 {
        return s;
    }
    let parts: Vec<String> = types.iter().take(4).map(|t| format!("{}{}件", t.name, t.count)).collect();
    if !parts.is_empty() {
        s += &format!("其中{}。", parts.join("、"));
    }
    let top: Vec<String> = categories
        .iter()
        .take(3)
        .map(|c| match c.change() {
            Some(ch) => format!("{}（{}件，{}）", c.name, c.count, change_text(Some(ch))),
            None => format!("{}（{}件）", c.name, c.count),
        })
        .collect();
    if !top.is_empty() {
        s += &format!("诉求较多的领域是{}。", top.join("、"));
    }
    let emerging: Vec<String> = hotspots
        .iter()
        .filter(|h| h.emerging)
        .take(3)
        .map(|h| {
            format!(
                "{}·{}（{}件）",
                h.place_name.as_deref().unwrap_or(&h.place),
                h.category_name.as_deref().unwrap_or(&h.category),
                h.count
            )
        })
        .collect();
    if !emerging.is_empty() {
        s += &format!("新出现的热点问题有{}，需重点关注。", emerging.join("、"));
    }
    s += &format!(
        "按时办结率{}，满意率{}，解决率{}，直接办结率{}。",
        percent(k.on_time_rate),
        percent(k.satisfaction_rate),
        percent(k.resolution_rate),
        percent(k.first_contact_resolution_rate)
    );
    let name = |u: &RankedUnit| format!("{}（{:.1}分）", u.name.as_deref().unwrap_or(&u.unit), u.score);
    match ranking.len() {
        0 => s += "本期没有派单或答复满10件的单位，不作考核排名。",
        1 => s += &format!("参与考核的单位为{}。", name(&ranking[0])),
        n => {
            let best: Vec<String> = ranking.iter().take(3.min(n - 1)).map(name).collect();
            s += &format!("考核排名靠前的单位是{}；排名末位的是{}。", best.join("、"), name(&ranking[n - 1]));
        }
    }
    s
}

/// The report as a printable HTML page (`standalone`: with its stylesheet inside, for a
/// file written by `lianxin report`; else linked, as the console serves it).
pub fn html(r: &Report, standalone: bool) -> Result<String, askama::Error> {
    use askama::Template;
    #[derive(Template)]
    #[template(path = "report.html")]
    struct Page<'a> {
        r: &'a Report,
        standalone: bool,
        css: &'static str,
    }
    Page { r, standalone, css: include_str!("../../static/report.css") }.render()
}

/// Rates as text for the templates.
pub fn rate(v: &Option<f64>) -> String {
    percent(*v)
}

/// A counter of a row's KPIs.
pub fn count(k: &Kpis, c: &str) -> i64 {
    k.counts.get(c).copied().unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_are_months_iso_weeks_or_two_days_and_each_has_the_one_before() {
        let m = Period::parse("2026-10").unwrap();
        assert_eq!((m.kind, m.from, m.to), (Kind::Month, d("2026-10-01"), d("2026-11-01")));
        assert_eq!(m.previous(), (d("2026-09-01"), d("2026-10-01")));
        assert_eq!(m.title(), "2026年10月");
        let dec = Period::parse("2026-12").unwrap();
        assert_eq!(dec.to, d("2027-01-01"));
        let w = Period::parse("2026-W44").unwrap();
        assert_eq!((w.kind, w.from, w.to), (Kind::Week, d("2026-10-26"), d("2026-11-02")));
        assert_eq!(w.previous(), (d("2026-10-19"), d("2026-10-26")));
        assert_eq!(w.title(), "2026年第44周（10月26日—11月1日）");
        let s = Period::parse("2026-10-01..2026-10-15").unwrap();
        assert_eq!((s.kind, s.from, s.to), (Kind::Special, d("2026-10-01"), d("2026-10-16")));
        assert_eq!(s.previous(), (d("2026-09-16"), d("2026-10-01")));
        for bad in ["2026/10", "2026-13", "26-10", "2026-W60", "2026-10-15..2026-10-01", "", "2026-10-01..x"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_summary_states_volumes_change_types_categories_rates_and_the_ranking_ends() {
        let p = Period::parse("2026-10").unwrap();
        let v = |name: &str, count, previous| Volume { code: name.into(), name: name.into(), count, previous };
        let k = kpi::kpis(&Totals::default());
        let s = summary("全市", &p, &v("合计", 120, 100), &[v("投诉", 70, 60)], &[v("城市管理", 50, 40)], &[], &k, &[]);
        assert!(s.starts_with("2026年10月，全市热线共受理群众诉求120件，较上期（100件）增长20.0%。"), "{s}");
        assert!(s.contains("其中投诉70件。") && s.contains("城市管理（50件，+25.0%）"), "{s}");
        assert!(s.contains("按时办结率–") && s.contains("不作考核排名"), "{s}");
        let s = summary("全市", &p, &v("合计", 0, 10), &[], &[], &[], &k, &[]);
        assert_eq!(s, "2026年10月，全市热线共受理群众诉求0件，较上期（10件）下降100.0%。");
    }
}
