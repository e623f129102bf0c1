//! Incidents (事件): many orders about one event (a flooded street, a burst main) answered
//! once. The rule that proposes one is pure: among the open orders of a recent window,
//! at least `min_orders` of one category in one district.

use crate::{CategoryCode, JurisdictionCode, Millis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// When orders become a proposed incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRule {
    /// At least this many orders…
    pub min_orders: usize,
    /// …of one category in one district, created within this window before now.
    pub window_minutes: i64,
}

impl Default for IncidentRule {
    fn default() -> Self {
        IncidentRule { min_orders: 10, window_minutes: 120 }
    }
}

impl IncidentRule {
    /// The bounds a rule must keep: a group is at least 2 orders (one order is no event) and
    /// at most 10,000; the window runs from 10 minutes to 7 days.
    pub fn check(&self) -> Result<(), crate::error::FieldErrors> {
        let mut errs = crate::error::FieldErrors::new();
        if !(2..=10_000).contains(&self.min_orders) {
            errs.add("min_orders", "must be from 2 to 10000");
        }
        if !(10..=7 * 24 * 60).contains(&self.window_minutes) {
            errs.add("window_minutes", "must be from 10 to 10080 (7 days)");
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

/// An open order as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub number: String,
    pub district: Option<JurisdictionCode>,
    pub category: CategoryCode,
    pub created_at: Millis,
}

/// A group of orders the rule proposes as one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub district: JurisdictionCode,
    pub category: CategoryCode,
    /// Oldest first.
    pub numbers: Vec<String>,
}

/// The groups of `orders` (open, not yet in an incident) that make an incident at `now`.
pub fn propose(orders: &[Candidate], rule: IncidentRule, now: Millis) -> Vec<Proposal> {
    let from = now - rule.window_minutes * 60_000;
    let mut groups: BTreeMap<(JurisdictionCode, CategoryCode), Vec<&Candidate>> = BTreeMap::new();
    for o in orders.iter().filter(|o| o.created_at >= from && o.created_at <= now) {
        if let Some(d) = &o.district {
            groups.entry((d.clone(), o.category.clone())).or_default().push(o);
        }
    }
    groups
        .into_iter()
        .filter(|(_, v)| v.len() >= rule.min_orders.max(2))
        .map(|((district, category), mut v)| {
            v.sort_by_key(|o| (o.created_at, o.number.clone()));
            Proposal { district, category, numbers: v.into_iter().map(|o| o.number.clone()).collect() }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn c(n: usize, d: &str, cat: &str, at: Millis) -> Candidate {
        Candidate {
            number: format!("20261201{n:05}"),
            district: Some(JurisdictionCode::parse(d).unwrap()),
            category: CategoryCode::parse(cat).unwrap(),
            created_at: at,
        }
    }

    #[test]
    fn ten_of_one_category_in_one_district_within_two_hours_make_an_incident() {
        let now = 10 * 3_600_000;
        let mut orders: Vec<Candidate> =
            (0..10).map(|i| c(i, "440106", "emergency.flood-typhoon", now - i as i64 * 600_000)).collect();
        // Another district, another category, and one too old: none joins.
        orders.push(c(20, "440103", "emergency.flood-typhoon", now));
        orders.push(c(21, "440106", "urban.facilities.streetlight-out", now));
        orders.push(c(22, "440106", "emergency.flood-typhoon", now - 3 * 3_600_000));
        let p = propose(&orders, IncidentRule::default(), now);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].numbers.len(), 10);
        assert_eq!(p[0].district.as_str(), "440106");
        // Nine are not enough.
        assert!(propose(&orders[1..], IncidentRule::default(), now).is_empty());
    }
}
