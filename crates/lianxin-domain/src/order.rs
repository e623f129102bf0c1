//! The work order (工单) and its parts.

use crate::Millis;
use crate::model::*;
use serde::{Deserialize, Serialize};

/// The resident who made contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Caller {
    /// Always given at intake; an order imported from an older system may have none.
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
    /// A confidential caller (保密) is hidden from handling units.
    pub confidential: bool,
}

/// Where the matter is. A street is optional (a consultation, a city-wide matter); a
/// district may stand alone; with neither the order belongs to the whole city.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub address: Option<String>,
    /// A `street` node of the jurisdiction tree.
    pub street: Option<JurisdictionCode>,
    /// The district: given alone, or resolved from the street at registration.
    pub district: Option<JurisdictionCode>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// What the operator registers: the facts of a new order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    /// Always given at intake; an imported history may not say.
    pub channel: Option<Channel>,
    pub request_type: RequestType,
    pub category: CategoryCode,
    pub urgency: Urgency,
    pub title: String,
    pub content: String,
    pub caller: Caller,
    pub location: Location,
}

/// The facts of an order a reviewer or dispatcher corrected before dispatch (更正): each is
/// `None` where that fact was not corrected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<CategoryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<RequestType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Correction {
    pub fn is_empty(&self) -> bool {
        *self == Correction::default()
    }
}

/// A unit's return of an order as not its own (退单): who, why, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnNote {
    pub unit: Option<UnitCode>,
    pub by: String,
    pub reason: String,
    pub at: Millis,
}

/// A handling unit's request for more time (延期).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub until: Millis,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: Millis,
    /// When a dispatcher or supervisor should have decided it.
    #[serde(default)]
    pub decide_by: Option<Millis>,
}

/// The highest supervision warning given for the current deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The deadline the warning was about; a new deadline starts a new round.
    pub deadline: Millis,
    pub level: WarnLevel,
}

/// A closed order drawn for quality assurance (质检).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qa {
    pub sampled_at: Millis,
    pub result: QaResult,
    pub decided_by: Option<String>,
    pub decided_at: Option<Millis>,
    pub note: Option<String>,
}

/// The lead unit's answer (办结反馈).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub content: String,
    /// The unit's own word; `None` when an imported history did not say.
    pub solved: Option<bool>,
    pub unit: Option<UnitCode>,
    pub at: Millis,
}

/// The result of calling the resident back (回访).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackResult {
    pub satisfaction: Satisfaction,
    /// What the resident said; `None` when an imported history did not say.
    pub solved: Option<bool>,
    pub note: Option<String>,
    pub at: Millis,
}

/// How an order was closed at first contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstContactClose {
    pub kind: CloseKind,
    pub resolution: String,
    /// The entry the answer came from, when the operator cited one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cite: Option<Cite>,
}

/// The knowledge-base article, referral entry or announcement a first-contact close
/// names, with its title (and an article's version) as they were when it was cited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cite {
    pub kind: CiteKind,
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// The state of a work order: always the result of applying its events in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub number: OrderNumber,
    pub status: Status,
    #[serde(flatten)]
    pub intake: Intake,
    pub lead_unit: Option<UnitCode>,
    pub assisting_units: Vec<UnitCode>,
    /// When handling must be finished.
    pub deadline: Option<Millis>,
    /// When the lead unit must sign for the order.
    pub sign_deadline: Option<Millis>,
    /// When the resident must have been called back (after a reply).
    #[serde(default)]
    pub callback_deadline: Option<Millis>,
    /// When the yellow warning falls due for the current deadline.
    #[serde(default)]
    pub warn_at: Option<Millis>,
    /// Supervision warnings given for the current deadline.
    #[serde(default)]
    pub warned: Option<Warning>,
    /// Quality-assurance sampling of a closed order.
    #[serde(default)]
    pub qa: Option<Qa>,
    /// The caller had an order in the same category within 30 days before this one.
    #[serde(default)]
    pub repeat_contact: bool,
    /// When residents contacted the hotline again about this open order (each a repeat
    /// contact added to it rather than a new order).
    #[serde(default)]
    pub added_contacts: Vec<Millis>,
    pub dispatched_at: Option<Millis>,
    pub signed_at: Option<Millis>,
    pub pending_extension: Option<ExtensionRequest>,
    pub extensions_granted: u32,
    pub returns: u32,
    /// Every return of the order, oldest first: the units that said it is not theirs.
    #[serde(default)]
    pub returned: Vec<ReturnNote>,
    pub reopens: u32,
    pub urges: u32,
    pub reply: Option<Reply>,
    pub callback: Option<CallbackResult>,
    pub first_contact: Option<FirstContactClose>,
    pub merged_into: Option<OrderNumber>,
    pub closed_at: Option<Millis>,
    /// The order's id in the system it was imported from.
    #[serde(default)]
    pub source_ref: Option<String>,
    pub created_by: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Number of events so far; every accepted action increments it.
    pub version: i64,
}

impl Order {
    /// The units that returned this order, which a suggestion should not name again.
    pub fn returned_by(&self) -> Vec<UnitCode> {
        self.returned.iter().filter_map(|r| r.unit.clone()).collect()
    }

    /// When the yellow warning is due: stored when the deadline was set, or (for older
    /// data) `percent` of the wall-clock time from dispatch to the deadline.
    pub fn yellow_at(&self, percent: u8) -> Option<Millis> {
        if self.warn_at.is_some() {
            return self.warn_at;
        }
        let (start, end) = (self.dispatched_at?, self.deadline?);
        Some(start + (end - start).max(0) * i64::from(percent) / 100)
    }

    /// The warning an open, handled order has earned at `now`, if any.
    pub fn warning_due(&self, now: Millis, percent: u8) -> Option<WarnLevel> {
        if !matches!(self.status, Status::Dispatched | Status::InProgress) {
            return None;
        }
        let deadline = self.deadline?;
        if now >= deadline {
            Some(WarnLevel::Red)
        } else if now >= self.yellow_at(percent)? {
            Some(WarnLevel::Yellow)
        } else {
            None
        }
    }

    /// The warning level already given for the current deadline.
    pub fn warned_level(&self) -> Option<WarnLevel> {
        self.warned.filter(|w| Some(w.deadline) == self.deadline).map(|w| w.level)
    }

    /// Whether the unit is the lead or an assisting unit.
    pub fn involves(&self, unit: &UnitCode) -> bool {
        self.lead_unit.as_ref() == Some(unit) || self.assisting_units.contains(unit)
    }
}
