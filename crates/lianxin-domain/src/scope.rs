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

/// The scope of an actor.
pub fn scope_of(actor: &Actor, dir: &Directory) -> Scope {
    if actor.roles.iter().any(|r| r.is_city_wide()) {
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
    if actor.roles.iter().any(|r| r.is_city_wide()) {
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

/// What an actor sees of an order's caller.
pub fn caller_view(actor: &Actor, order: &Order) -> CallerView {
    let city_wide = actor.roles.iter().any(|r| r.is_city_wide());
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
