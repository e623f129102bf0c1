//! Who may see what (F-9). One function decides an actor's scope; the API, the pages,
//! search and statistics all use it, the store translating it into SQL.

use crate::command::Actor;
use crate::model::*;
use crate::order::Order;
use crate::reference::Directory;
use std::collections::BTreeSet;

/// The orders an actor may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The hotline centre's roles: every order.
    All,
    /// A handling unit: orders whose lead or assisting unit is one of `units` (the actor's
    /// unit and its sub-units) and, for a district government, orders located in `district`.
    Limited { units: BTreeSet<UnitCode>, district: Option<JurisdictionCode> },
}

/// Whether an actor sees the whole hotline: a hotline-centre role, except a leader who
/// belongs to a handling unit (a district's or a bureau's leader, 区领导), who sees what
/// that unit sees.
pub fn sees_city(actor: &Actor, dir: &Directory) -> bool {
    let leads_a_unit = actor.unit.as_ref().and_then(|u| dir.unit(u)).is_some_and(|u| u.kind.can_handle());
    actor.roles.iter().any(|r| r.is_city_wide() && !(*r == Role::Leader && leads_a_unit))
}

/// The scope of an actor.
pub fn scope_of(actor: &Actor, dir: &Directory) -> Scope {
    if sees_city(actor, dir) {
        return Scope::All;
    }
    let Some(unit) = actor.unit.as_ref().and_then(|u| dir.unit(u)) else {
        return Scope::Limited { units: BTreeSet::new(), district: None };
    };
    let district = match unit.kind {
        UnitKind::District => unit.jurisdiction.clone(),
        _ => None,
    };
    Scope::Limited { units: dir.subtree(&unit.code), district }
}

impl Scope {
    /// Whether an order lies within this scope.
    pub fn allows(&self, order: &Order) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { units, district } => {
                order.lead_unit.as_ref().is_some_and(|u| units.contains(u))
                    || order.assisting_units.iter().any(|u| units.contains(u))
                    || (district.is_some() && order.intake.location.district == *district)
            }
        }
    }
}

/// The places whose figures an actor sees (hotspots, the wall, reports): a place's counts
/// are shared with its jurisdiction, as Guangzhou shares each district's and street's
/// hotspots with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Area {
    /// The hotline centre's roles: every place.
    All,
    /// A unit with a jurisdiction (a district government, a street office): that place and
    /// everything within it.
    Within(JurisdictionCode),
    /// A unit without a place of its own (a city bureau): no place's figures.
    Nowhere,
}

/// The area of an actor: whose place figures it sees (by the same roles as [`scope_of`]).
pub fn area_of(actor: &Actor, dir: &Directory) -> Area {
    if sees_city(actor, dir) {
        return Area::All;
    }
    match actor.unit.as_ref().and_then(|u| dir.unit(u)).and_then(|u| u.jurisdiction.clone()) {
        Some(j) => Area::Within(j),
        None => Area::Nowhere,
    }
}

impl Area {
    /// Whether `place` lies within this area.
    pub fn contains(&self, place: &JurisdictionCode, dir: &Directory) -> bool {
        match self {
            Area::All => true,
            Area::Nowhere => false,
            Area::Within(root) => {
                let mut at = Some(place.clone());
                // The jurisdiction tree is shallow (city, district, street, community).
                for _ in 0..16 {
                    match at {
                        Some(p) if p == *root => return true,
                        Some(p) => at = dir.jurisdiction(&p).and_then(|j| j.parent.clone()),
                        None => return false,
                    }
                }
                false
            }
        }
    }
}

/// How much of a caller's identity an actor sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerView {
    /// Name and phone in full; each such access is audited.
    Full,
    /// Name and phone with their middle hidden.
    Masked,
    /// Nothing: a confidential caller seen by a handling unit.
    Hidden,
}

/// Roles that need a caller's full number to do their work.
const NEEDS_PHONE: &[Role] = &[Role::Operator, Role::Callback, Role::Supervisor];

/// What an actor sees of an order's caller. A leader who belongs to a unit counts as that
/// unit here (without the directory, any unit: the hotline's own leaders have none).
pub fn caller_view(actor: &Actor, order: &Order) -> CallerView {
    let city_wide = actor.roles.iter().any(|r| r.is_city_wide() && !(*r == Role::Leader && actor.unit.is_some()));
    if order.intake.caller.confidential && !city_wide {
        return CallerView::Hidden;
    }
    if actor.has_any(NEEDS_PHONE) || (!city_wide && actor.has_any(&[Role::Handler, Role::UnitAdmin])) {
        CallerView::Full
    } else {
        CallerView::Masked
    }
}

/// Masks a personal name: `张*明`, `李*`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Where an order is counted for the units that see it: the rollups keep, besides the
/// hotline-wide cells, one set of cells per unit (its "anchor") holding exactly the orders
/// that unit's [`scope_of`] allows, so a district government's or a bureau's figures are
/// read like the city's instead of recounted from its orders.
///
/// An order's anchors are the lead and assisting units with every unit above them, and the
/// district governments of the district it is located in: the units `U` for which
/// `scope_of(U).allows(order)` (a property test checks the two agree).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anchors {
    /// Each unit's parent and, for a district government, its district.
    units: std::collections::BTreeMap<UnitCode, (Option<UnitCode>, Option<JurisdictionCode>)>,
    /// District governments by their district.
    #[serde(skip)]
    by_district: std::collections::BTreeMap<JurisdictionCode, Vec<UnitCode>>,
}

impl Anchors {
    /// The anchors of the unit tree `units`.
    pub fn new<'a>(units: impl IntoIterator<Item = &'a crate::reference::Unit>) -> Anchors {
        let units = units
            .into_iter()
            .map(|u| {
                let district = if u.kind == UnitKind::District { u.jurisdiction.clone() } else { None };
                (u.code.clone(), (u.parent.clone(), district))
            })
            .collect();
        Anchors::index(units)
    }

    fn index(units: std::collections::BTreeMap<UnitCode, (Option<UnitCode>, Option<JurisdictionCode>)>) -> Anchors {
        let mut by_district: std::collections::BTreeMap<JurisdictionCode, Vec<UnitCode>> = Default::default();
        for (code, (_, district)) in &units {
            if let Some(d) = district {
                by_district.entry(d.clone()).or_default().push(code.clone());
            }
        }
        Anchors { units, by_district }
    }

    /// The anchors stored as JSON (see [`Anchors::to_json`]).
    pub fn from_json(json: &str) -> Option<Anchors> {
        serde_json::from_str::<Anchors>(json).ok().map(|a| Anchors::index(a.units))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The units that see `order`.
    pub fn of(&self, order: &Order) -> BTreeSet<UnitCode> {
        let mut out = BTreeSet::new();
        for u in order.lead_unit.iter().chain(order.assisting_units.iter()) {
            let mut at = Some(u.clone());
            // The unit tree is shallow; the bound guards against a cycle in bad data.
            for _ in 0..64 {
                let Some(code) = at.take() else { break };
                let Some((parent, _)) = self.units.get(&code) else { break };
                if !out.insert(code) {
                    break;
                }
                at = parent.clone();
            }
        }
        if let Some(d) = &order.intake.location.district {
            out.extend(self.by_district.get(d).into_iter().flatten().cloned());
        }
        out
    }

    /// Whether counting the existing orders under `new` could differ from counting them
    /// under `self`: a unit's parent or district changed or it went away, or a new district
    /// government sees orders by their place. A new unit of any other kind has no orders yet.
    pub fn recount_needed(&self, new: &Anchors) -> bool {
        self.units.iter().any(|(code, entry)| new.units.get(code) != Some(entry))
            || new.units.iter().any(|(code, (_, district))| district.is_some() && !self.units.contains_key(code))
    }
}
