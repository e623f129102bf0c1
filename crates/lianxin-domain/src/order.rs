//! The work order (工单) and its parts.

use crate::Millis;
use crate::model::*;
use serde::{Deserialize, Serialize};

/// The resident who made contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Caller {
    pub phone: PhoneNumber,
    pub name: Option<String>,
    /// A confidential caller (保密) is hidden from handling units.
    pub confidential: bool,
}

/// Where the matter is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub address: Option<String>,
    /// A `street` node of the jurisdiction tree.
    pub street: JurisdictionCode,
    /// The street's district, resolved at registration.
    pub district: Option<JurisdictionCode>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// What the operator registers: the facts of a new order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    pub channel: Channel,
    pub request_type: RequestType,
    pub category: CategoryCode,
    pub urgency: Urgency,
    pub title: String,
    pub content: String,
    pub caller: Caller,
    pub location: Location,
}

/// A handling unit's request for more time (延期).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub until: Millis,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: Millis,
}

/// The lead unit's answer (办结反馈).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub content: String,
    pub solved: bool,
    pub unit: Option<UnitCode>,
    pub at: Millis,
}

/// The result of calling the resident back (回访).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackResult {
    pub satisfaction: Satisfaction,
    pub solved: bool,
    pub note: Option<String>,
    pub at: Millis,
}

/// How an order was closed at first contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstContactClose {
    pub kind: CloseKind,
    pub resolution: String,
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
    pub dispatched_at: Option<Millis>,
    pub signed_at: Option<Millis>,
    pub pending_extension: Option<ExtensionRequest>,
    pub extensions_granted: u32,
    pub returns: u32,
    pub reopens: u32,
    pub urges: u32,
    pub reply: Option<Reply>,
    pub callback: Option<CallbackResult>,
    pub first_contact: Option<FirstContactClose>,
    pub merged_into: Option<OrderNumber>,
    pub closed_at: Option<Millis>,
    pub created_by: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Number of events so far; every accepted action increments it.
    pub version: i64,
}

impl Order {
    /// Whether the unit is the lead or an assisting unit.
    pub fn involves(&self, unit: &UnitCode) -> bool {
        self.lead_unit.as_ref() == Some(unit) || self.assisting_units.contains(unit)
    }
}
