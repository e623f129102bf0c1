//! Reference data: jurisdictions, units and categories, held in memory as a [`Directory`].
//!
//! Reference data is small (hundreds to a few thousand rows) and read on every request, so
//! the server keeps one immutable `Directory` and swaps it when an admin edits the data.

use crate::calendar::TimeLimit;
use crate::model::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A node of the jurisdiction tree (city → district → street → community).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jurisdiction {
    pub code: JurisdictionCode,
    pub name: String,
    pub level: JurisdictionLevel,
    pub parent: Option<JurisdictionCode>,
}

/// An organisation that takes part in handling orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<UnitCode>,
    pub jurisdiction: Option<JurisdictionCode>,
}

/// Where orders of a category go by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "unit")]
pub enum Route {
    /// The street office of the order's street.
    Street,
    /// The district government of the order's district.
    District,
    /// A fixed unit.
    Unit(UnitCode),
}

/// Time limits of a leaf category, one per urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimits {
    pub normal: TimeLimit,
    pub urgent: TimeLimit,
    pub emergency: TimeLimit,
}

impl TimeLimits {
    /// The limit for one urgency.
    pub fn for_urgency(&self, u: Urgency) -> TimeLimit {
        match u {
            Urgency::Normal => self.normal,
            Urgency::Urgent => self.urgent,
            Urgency::Emergency => self.emergency,
        }
    }
}

/// What a leaf category carries beyond its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeafInfo {
    pub request_type: RequestType,
    pub time_limits: TimeLimits,
    pub route: Route,
    #[serde(default)]
    pub prompts: Vec<String>,
}

/// A node of the category tree; leaves carry [`LeafInfo`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub code: CategoryCode,
    pub name: String,
    pub parent: Option<CategoryCode>,
    /// Position among its siblings.
    pub position: i64,
    pub leaf: Option<LeafInfo>,
}

/// All reference data, indexed for the lookups the domain needs.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    jurisdictions: BTreeMap<JurisdictionCode, Jurisdiction>,
    units: BTreeMap<UnitCode, Unit>,
    categories: BTreeMap<CategoryCode, Category>,
    unit_children: BTreeMap<UnitCode, Vec<UnitCode>>,
}

impl Directory {
    /// Builds the directory; rows may come in any order.
    pub fn new(jurisdictions: Vec<Jurisdiction>, units: Vec<Unit>, categories: Vec<Category>) -> Directory {
        let mut unit_children: BTreeMap<UnitCode, Vec<UnitCode>> = BTreeMap::new();
        for u in &units {
            if let Some(p) = &u.parent {
                unit_children.entry(p.clone()).or_default().push(u.code.clone());
            }
        }
        Directory {
            jurisdictions: jurisdictions.into_iter().map(|j| (j.code.clone(), j)).collect(),
            units: units.into_iter().map(|u| (u.code.clone(), u)).collect(),
            categories: categories.into_iter().map(|c| (c.code.clone(), c)).collect(),
            unit_children,
        }
    }

    pub fn unit(&self, code: &UnitCode) -> Option<&Unit> {
        self.units.get(code)
    }

    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    pub fn category(&self, code: &CategoryCode) -> Option<&Category> {
        self.categories.get(code)
    }

    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    /// A leaf category with its handling information.
    pub fn leaf(&self, code: &CategoryCode) -> Option<(&Category, &LeafInfo)> {
        self.categories.get(code).and_then(|c| c.leaf.as_ref().map(|l| (c, l)))
    }

    pub fn jurisdiction(&self, code: &JurisdictionCode) -> Option<&Jurisdiction> {
        self.jurisdictions.get(code)
    }

    pub fn jurisdictions(&self) -> impl Iterator<Item = &Jurisdiction> {
        self.jurisdictions.values()
    }

    /// The district a street (or community) belongs to.
    pub fn district_of(&self, code: &JurisdictionCode) -> Option<&Jurisdiction> {
        let mut cur = self.jurisdictions.get(code)?;
        loop {
            if cur.level == JurisdictionLevel::District {
                return Some(cur);
            }
            cur = self.jurisdictions.get(cur.parent.as_ref()?)?;
        }
    }

    /// Direct sub-units of a unit.
    pub fn children(&self, code: &UnitCode) -> &[UnitCode] {
        self.unit_children.get(code).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The unit and all units below it.
    pub fn subtree(&self, code: &UnitCode) -> BTreeSet<UnitCode> {
        let mut out = BTreeSet::new();
        let mut stack = vec![code.clone()];
        while let Some(c) = stack.pop() {
            if out.insert(c.clone()) {
                stack.extend(self.children(&c).iter().cloned());
            }
        }
        out
    }

    /// Whether `unit` lies strictly below `ancestor` in the unit tree.
    pub fn is_below(&self, unit: &UnitCode, ancestor: &UnitCode) -> bool {
        let mut cur = self.units.get(unit).and_then(|u| u.parent.clone());
        let mut guard = 0;
        while let Some(p) = cur {
            if &p == ancestor {
                return true;
            }
            guard += 1;
            if guard > 64 {
                return false;
            }
            cur = self.units.get(&p).and_then(|u| u.parent.clone());
        }
        false
    }

    /// The unit a category's default route points at for an order on `street`.
    pub fn route(&self, category: &CategoryCode, street: &JurisdictionCode) -> Option<&Unit> {
        let (_, leaf) = self.leaf(category)?;
        let handling_for = |j: &JurisdictionCode, kind: UnitKind| {
            self.units.values().find(|u| u.kind == kind && u.jurisdiction.as_ref() == Some(j))
        };
        match &leaf.route {
            Route::Unit(code) => self.units.get(code),
            Route::Street => handling_for(street, UnitKind::Street)
                .or_else(|| handling_for(&self.district_of(street)?.code, UnitKind::District)),
            Route::District => handling_for(&self.district_of(street)?.code, UnitKind::District),
        }
    }
}
