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
    /// A deactivated node stays on its old orders but is no longer offered at intake.
    #[serde(default = "yes")]
    pub active: bool,
}

/// An organisation that takes part in handling orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<UnitCode>,
    pub jurisdiction: Option<JurisdictionCode>,
    /// A deactivated unit stays on its old orders but can no longer be dispatched to.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A row of the routing catalogue (派单目录): orders of `category` (a leaf, or a group for
/// all its leaves) placed in `jurisdiction` (a district or street; `None`: anywhere) go to
/// `unit` by default.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RouteRule {
    pub category: CategoryCode,
    pub jurisdiction: Option<JurisdictionCode>,
    pub unit: UnitCode,
}

/// Time limits of a leaf category, one per urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimits {
    pub normal: TimeLimit,
    pub urgent: TimeLimit,
    pub emergency: TimeLimit,
}

impl TimeLimits {
    /// The limits of a category that neither it nor its ancestors set.
    pub const DEFAULT: TimeLimits = TimeLimits {
        normal: TimeLimit::WorkingDays(5),
        urgent: TimeLimit::WorkingDays(1),
        emergency: TimeLimit::Hours(2),
    };

    /// The limit for one urgency.
    pub fn for_urgency(&self, u: Urgency) -> TimeLimit {
        match u {
            Urgency::Normal => self.normal,
            Urgency::Urgent => self.urgent,
            Urgency::Emergency => self.emergency,
        }
    }
}

/// Time limits a category node sets itself; what it leaves out comes from its parent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<TimeLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent: Option<TimeLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<TimeLimit>,
}

impl PartialLimits {
    pub fn get(&self, u: Urgency) -> Option<TimeLimit> {
        match u {
            Urgency::Normal => self.normal,
            Urgency::Urgent => self.urgent,
            Urgency::Emergency => self.emergency,
        }
    }
}

/// What a category node says of itself (as imported or edited). Leaves inherit what they
/// leave out from their nearest ancestor that says it, then from the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CategorySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<RequestType>,
    #[serde(default)]
    pub time_limits: PartialLimits,
    /// The questions to ask at intake.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<String>,
    /// Other words callers use for this matter (吵, 广场舞 for noise): the intake's category
    /// search finds the category by them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
}

/// What a leaf category carries beyond its name, with inheritance resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeafInfo {
    /// The request type the intake form starts with; `None` when no one set it.
    pub request_type: Option<RequestType>,
    pub time_limits: TimeLimits,
    pub prompts: Vec<String>,
}

/// A node of the category tree. A node that is another's parent is a group; the rest are
/// leaves, which orders carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub code: CategoryCode,
    pub name: String,
    pub parent: Option<CategoryCode>,
    /// Position among its siblings.
    pub position: i64,
    pub spec: CategorySpec,
    /// A deactivated category stays on its old orders but is refused at intake.
    #[serde(default = "yes")]
    pub active: bool,
    /// Resolved by [`Directory::new`] for leaves; `None` for groups.
    #[serde(skip)]
    pub leaf: Option<LeafInfo>,
}

/// All reference data, indexed for the lookups the domain needs.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    jurisdictions: BTreeMap<JurisdictionCode, Jurisdiction>,
    units: BTreeMap<UnitCode, Unit>,
    categories: BTreeMap<CategoryCode, Category>,
    unit_children: BTreeMap<UnitCode, Vec<UnitCode>>,
    /// The routing catalogue by category code.
    routes: BTreeMap<CategoryCode, Vec<RouteRule>>,
}

impl Directory {
    /// Builds the directory; rows may come in any order. Leaves get their inherited
    /// request type, limits and prompts resolved here.
    pub fn new(
        jurisdictions: Vec<Jurisdiction>,
        units: Vec<Unit>,
        categories: Vec<Category>,
        routes: Vec<RouteRule>,
    ) -> Directory {
        let mut unit_children: BTreeMap<UnitCode, Vec<UnitCode>> = BTreeMap::new();
        for u in &units {
            if let Some(p) = &u.parent {
                unit_children.entry(p.clone()).or_default().push(u.code.clone());
            }
        }
        let mut categories: BTreeMap<CategoryCode, Category> =
            categories.into_iter().map(|c| (c.code.clone(), c)).collect();
        let parents: BTreeSet<CategoryCode> = categories.values().filter_map(|c| c.parent.clone()).collect();
        let resolved: Vec<(CategoryCode, Option<LeafInfo>)> = categories
            .values()
            .map(|c| (c.code.clone(), (!parents.contains(&c.code)).then(|| resolve_leaf(&categories, c))))
            .collect();
        for (code, leaf) in resolved {
            if let Some(c) = categories.get_mut(&code) {
                c.leaf = leaf;
            }
        }
        let mut by_category: BTreeMap<CategoryCode, Vec<RouteRule>> = BTreeMap::new();
        for r in routes {
            by_category.entry(r.category.clone()).or_default().push(r);
        }
        Directory {
            jurisdictions: jurisdictions.into_iter().map(|j| (j.code.clone(), j)).collect(),
            units: units.into_iter().map(|u| (u.code.clone(), u)).collect(),
            categories,
            unit_children,
            routes: by_category,
        }
    }

    pub fn unit(&self, code: &UnitCode) -> Option<&Unit> {
        self.units.get(code)
    }

    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// The level-1 category (the root of its tree) a category lies under, itself for a root.
    pub fn root_category(&self, code: &CategoryCode) -> Option<&Category> {
        let mut at = self.categories.get(code)?;
        // The category tree is shallow; the bound guards against a cycle in bad data.
        for _ in 0..16 {
            match at.parent.as_ref().and_then(|p| self.categories.get(p)) {
                Some(parent) => at = parent,
                None => return Some(at),
            }
        }
        None
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

    /// Every row of the routing catalogue.
    pub fn routes(&self) -> impl Iterator<Item = &RouteRule> {
        self.routes.values().flatten()
    }

    /// The category and its ancestors, nearest first.
    pub fn category_chain(&self, code: &CategoryCode) -> Vec<&Category> {
        let mut out = Vec::new();
        let mut cur = self.categories.get(code);
        while let Some(c) = cur {
            if out.len() > 64 || out.iter().any(|o: &&Category| o.code == c.code) {
                break;
            }
            out.push(c);
            cur = c.parent.as_ref().and_then(|p| self.categories.get(p));
        }
        out
    }

    /// The lead unit the routing catalogue suggests for an order of `category` placed on
    /// `street` or in `district`. The row whose category is nearest the order's wins (the
    /// leaf, then its group, then the group above); among rows of one category a street
    /// beats its district, which beats "anywhere". Deactivated units and units that cannot
    /// handle orders are passed over. With no row, the order's own street office, else its
    /// district government.
    pub fn suggest_lead(
        &self,
        category: &CategoryCode,
        street: Option<&JurisdictionCode>,
        district: Option<&JurisdictionCode>,
    ) -> Option<&Unit> {
        self.suggest_lead_avoiding(category, street, district, &[])
    }

    /// [`Directory::suggest_lead`], passing over the units in `avoid` (those that returned
    /// the order as not theirs): the next row, or nothing rather than one of them again.
    pub fn suggest_lead_avoiding(
        &self,
        category: &CategoryCode,
        street: Option<&JurisdictionCode>,
        district: Option<&JurisdictionCode>,
        avoid: &[UnitCode],
    ) -> Option<&Unit> {
        let district = district.cloned().or_else(|| street.and_then(|s| self.district_of(s)).map(|d| d.code.clone()));
        let usable = |code: &UnitCode| {
            self.units.get(code).filter(|u| u.active && u.kind.can_handle() && !avoid.contains(&u.code))
        };
        let mut places: Vec<Option<&JurisdictionCode>> = Vec::new();
        places.extend(street.map(Some));
        places.extend(district.as_ref().map(Some));
        places.push(None);
        for c in self.category_chain(category) {
            let Some(rows) = self.routes.get(&c.code) else { continue };
            for &place in &places {
                if let Some(u) = rows.iter().filter(|r| r.jurisdiction.as_ref() == place).find_map(|r| usable(&r.unit))
                {
                    return Some(u);
                }
            }
        }
        let own = |j: &JurisdictionCode, kind: UnitKind| {
            self.units
                .values()
                .find(|u| u.active && u.kind == kind && u.jurisdiction.as_ref() == Some(j) && !avoid.contains(&u.code))
        };
        street.and_then(|s| own(s, UnitKind::Street)).or_else(|| own(district.as_ref()?, UnitKind::District))
    }
}

/// A leaf's request type, limits and prompts: its own, else its nearest ancestor's, else
/// the defaults.
fn resolve_leaf(categories: &BTreeMap<CategoryCode, Category>, leaf: &Category) -> LeafInfo {
    let mut chain = vec![leaf];
    while let Some(p) = chain.last().and_then(|c| c.parent.as_ref()).and_then(|p| categories.get(p)) {
        if chain.len() > 64 || chain.iter().any(|c| c.code == p.code) {
            break;
        }
        chain.push(p);
    }
    let limit = |u: Urgency| {
        chain.iter().find_map(|c| c.spec.time_limits.get(u)).unwrap_or_else(|| TimeLimits::DEFAULT.for_urgency(u))
    };
    LeafInfo {
        request_type: chain.iter().find_map(|c| c.spec.request_type),
        time_limits: TimeLimits {
            normal: limit(Urgency::Normal),
            urgent: limit(Urgency::Urgent),
            emergency: limit(Urgency::Emergency),
        },
        prompts: chain.iter().map(|c| &c.spec.prompts).find(|p| !p.is_empty()).cloned().unwrap_or_default(),
    }
}
