//! Tough problems (疑难问题): a matter single orders keep failing to settle, found where one
//! category in one place draws repeated contacts, dissatisfied callbacks or overdue orders.
//! An analyst turns a candidate into a tracked problem whose parts are split among units,
//! each with a due day; units report progress, and the problem closes when every part is
//! done. The rule that finds candidates and the one that closes a problem are here, pure.

use crate::error::FieldErrors;
use crate::reference::Directory;
use crate::scope::{Area, Scope};
use crate::{JurisdictionCode, UnitCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What the rollup cells of one category in one place say over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Signals {
    /// Orders registered.
    pub registered: i64,
    /// Of those, orders whose caller had one of the same category within 30 days.
    pub repeat: i64,
    /// Callbacks with a rating, and how many of them were satisfied or basically so.
    pub rated: i64,
    pub satisfied: i64,
    /// Replies, and how many came by their deadline.
    pub replied: i64,
    pub replied_on_time: i64,
    /// Orders being handled past their deadline now.
    pub overdue: i64,
}

impl Signals {
    pub fn dissatisfied(&self) -> i64 {
        (self.rated - self.satisfied).max(0)
    }

    /// Replied late in the period or still overdue now.
    pub fn late(&self) -> i64 {
        (self.replied - self.replied_on_time).max(0) + self.overdue
    }

    /// How troubled the place is: one point per repeated contact, dissatisfied callback and
    /// late or overdue order.
    pub fn score(&self) -> i64 {
        self.repeat + self.dissatisfied() + self.late()
    }
}

/// When a category in a place is a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateRule {
    /// At least this many orders registered in the period…
    pub min_orders: i64,
    /// …and at least this many of one kind of trouble: repeated contacts, dissatisfied
    /// callbacks, or late and overdue orders.
    pub min_signal: i64,
}

impl Default for CandidateRule {
    fn default() -> Self {
        CandidateRule { min_orders: 5, min_signal: 3 }
    }
}

/// A category in a place that looks like a tough problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub category: String,
    pub place: String,
    pub signals: Signals,
}

/// The cells (category, place, signals) that pass `rule`, the most troubled first (then the
/// most orders, then by code so the order is stable).
pub fn candidates(cells: impl IntoIterator<Item = (String, String, Signals)>, rule: CandidateRule) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = cells
        .into_iter()
        .filter(|(_, _, s)| {
            s.registered >= rule.min_orders && s.repeat.max(s.dissatisfied()).max(s.late()) >= rule.min_signal
        })
        .map(|(category, place, signals)| Candidate { category, place, signals })
        .collect();
    out.sort_by(|a, b| {
        (b.signals.score(), b.signals.registered)
            .cmp(&(a.signals.score(), a.signals.registered))
            .then_with(|| (&a.category, &a.place).cmp(&(&b.category, &b.place)))
    });
    out
}

/// The most parts one problem is split into, and the longest text of a part or a report.
pub const MAX_PARTS: usize = 20;
pub const MAX_TASK: usize = 500;
pub const MAX_NOTE: usize = 2000;
pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 5000;
/// The most orders linked to one problem.
pub const MAX_ORDERS: usize = 500;

/// One unit's part of a problem as proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartIn {
    pub task: String,
    pub due: NaiveDate,
}

/// Checks a new problem's title, description and parts (the units are checked against the
/// directory by the caller); `today` is the local day it is made: no part may be due before.
pub fn check_new(title: &str, description: &str, parts: &[PartIn], today: NaiveDate, errs: &mut FieldErrors) {
    let title = title.trim();
    if title.is_empty() {
        errs.add("title", "must not be empty");
    } else if title.chars().count() > MAX_TITLE {
        errs.add("title", format!("at most {MAX_TITLE} characters"));
    }
    if description.chars().count() > MAX_DESCRIPTION {
        errs.add("description", format!("at most {MAX_DESCRIPTION} characters"));
    }
    if parts.is_empty() {
        errs.add("parts", "name at least one responsible unit with its part");
    } else if parts.len() > MAX_PARTS {
        errs.add("parts", format!("at most {MAX_PARTS} parts"));
    }
    for (i, p) in parts.iter().enumerate() {
        let task = p.task.trim();
        if task.is_empty() {
            errs.add(&format!("parts[{i}].task"), "say what this unit is to do");
        } else if task.chars().count() > MAX_TASK {
            errs.add(&format!("parts[{i}].task"), format!("at most {MAX_TASK} characters"));
        }
        if p.due < today {
            errs.add(&format!("parts[{i}].due"), format!("must be today ({today}) or later"));
        }
    }
}

/// A part's state as the list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    Open,
    /// Not done and its due day has passed.
    Overdue,
    Done,
}

/// The state of a part due on `due`, done or not, on local day `today`.
pub fn part_state(done: bool, due: NaiveDate, today: NaiveDate) -> PartState {
    if done {
        PartState::Done
    } else if due < today {
        PartState::Overdue
    } else {
        PartState::Open
    }
}

/// Whether an actor with `scope` and `area` sees a problem placed at `place` with parts for
/// `units`: the hotline sees every one; a unit those it has a part in (it or a unit below it)
/// and those placed within its area (a district's or street's problems are shared with it).
pub fn sees<'a>(
    scope: &Scope,
    area: &Area,
    place: Option<&JurisdictionCode>,
    mut units: impl Iterator<Item = &'a UnitCode>,
    dir: &Directory,
) -> bool {
    match scope {
        Scope::All => true,
        Scope::Limited { units: mine, .. } => {
            units.any(|u| mine.contains(u)) || place.is_some_and(|p| area.contains(p, dir))
        }
    }
}

/// A problem is closed once it has parts and every one is done.
pub fn closes(done: impl IntoIterator<Item = bool>) -> bool {
    let mut any = false;
    for d in done {
        if !d {
            return false;
        }
        any = true;
    }
    any
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(
        registered: i64,
        repeat: i64,
        rated: i64,
        satisfied: i64,
        replied: i64,
        on_time: i64,
        overdue: i64,
    ) -> Signals {
        Signals { registered, repeat, rated, satisfied, replied, replied_on_time: on_time, overdue }
    }

    #[test]
    fn a_candidate_needs_enough_orders_and_enough_of_one_kind_of_trouble() {
        let cells = vec![
            // 8 orders, 3 repeats: in (score 3 + 1 dissatisfied + 0 late = 4).
            ("a".to_owned(), "p1".to_owned(), s(8, 3, 4, 3, 5, 5, 0)),
            // 20 orders, 2 repeats, 2 dissatisfied, 2 late: no single kind reaches 3.
            ("b".to_owned(), "p1".to_owned(), s(20, 2, 6, 4, 10, 9, 1)),
            // 4 orders, all repeats: too few orders.
            ("c".to_owned(), "p1".to_owned(), s(4, 4, 0, 0, 0, 0, 0)),
            // 6 orders, 1 replied late and 2 overdue now: 3 late, in (score 3).
            ("d".to_owned(), "p2".to_owned(), s(6, 0, 0, 0, 3, 2, 2)),
            // 30 orders, 5 dissatisfied: in, the most troubled.
            ("e".to_owned(), "p2".to_owned(), s(30, 1, 10, 5, 12, 12, 0)),
        ];
        let got = candidates(cells, CandidateRule::default());
        let keys: Vec<(&str, i64)> = got.iter().map(|c| (c.category.as_str(), c.signals.score())).collect();
        assert_eq!(keys, vec![("e", 6), ("a", 4), ("d", 3)]);
        assert_eq!(got[2].signals.late(), 3);
        assert_eq!(got[0].signals.dissatisfied(), 5);
    }

    #[test]
    fn a_problem_closes_when_every_part_is_done_and_parts_fall_overdue_after_their_day() {
        assert!(!closes([]));
        assert!(!closes([true, false]));
        assert!(closes([true, true]));
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(part_state(false, d("2026-11-23"), d("2026-11-23")), PartState::Open);
        assert_eq!(part_state(false, d("2026-11-22"), d("2026-11-23")), PartState::Overdue);
        assert_eq!(part_state(true, d("2026-11-22"), d("2026-11-23")), PartState::Done);
    }

    #[test]
    fn a_new_problem_names_each_bad_field() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut errs = FieldErrors::new();
        let parts = vec![
            PartIn { task: "修复管网".into(), due: d("2026-12-31") },
            PartIn { task: " ".into(), due: d("2026-11-01") },
        ];
        check_new(" ", "", &parts, d("2026-11-23"), &mut errs);
        let m = errs.into_map();
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["parts[1].due", "parts[1].task", "title"]);
        let mut errs = FieldErrors::new();
        check_new("龙口西路积水", "", &[], d("2026-11-23"), &mut errs);
        assert!(errs.into_map().contains_key("parts"));
    }
}
