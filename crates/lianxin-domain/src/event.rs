//! Events: the append-only record of everything that happened to an order.

use crate::Millis;
use crate::model::*;
use crate::order::{Caller, Cite, Correction, Intake};
use serde::{Deserialize, Serialize};

/// What changed. Each variant carries every fact `apply` needs, so replaying events
/// never consults reference data or the clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Registered {
        intake: Intake,
        /// Stamped by the store: the caller had an order in this category within 30 days.
        #[serde(default)]
        repeat_contact: bool,
    },
    /// An order of an older system's history, arriving in the state it had there.
    Imported {
        intake: Intake,
        source_ref: String,
        lead_unit: Option<UnitCode>,
        /// The handling deadline by this platform's limits, from the order's creation.
        deadline: Option<Millis>,
        #[serde(default)]
        warn_at: Option<Millis>,
        reply: Option<String>,
        replied_at: Option<Millis>,
        closed_at: Option<Millis>,
        satisfaction: Option<Satisfaction>,
    },
    Submitted,
    Approved,
    SentBack {
        reason: String,
    },
    ClosedAtIntake {
        kind: CloseKind,
        resolution: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cite: Option<Cite>,
    },
    Dispatched {
        lead_unit: UnitCode,
        assisting_units: Vec<UnitCode>,
        note: Option<String>,
        deadline: Millis,
        sign_deadline: Millis,
        /// When the yellow warning falls due.
        #[serde(default)]
        warn_at: Option<Millis>,
    },
    Signed,
    Returned {
        reason: String,
    },
    Subdispatched {
        unit: UnitCode,
        note: Option<String>,
        sign_deadline: Millis,
    },
    ExtensionRequested {
        until: Millis,
        reason: String,
        #[serde(default)]
        decide_by: Option<Millis>,
    },
    ExtensionDecided {
        approve: bool,
        note: Option<String>,
        deadline: Option<Millis>,
        #[serde(default)]
        warn_at: Option<Millis>,
    },
    Replied {
        content: String,
        solved: bool,
        #[serde(default)]
        callback_deadline: Option<Millis>,
    },
    CalledBack {
        satisfaction: Satisfaction,
        /// `None` when the resident was not reached.
        solved: Option<bool>,
        note: Option<String>,
        /// Set when an unsatisfied resident reopens the order (重办) at the same unit.
        reopen_deadline: Option<Millis>,
        #[serde(default)]
        reopen_warn_at: Option<Millis>,
    },
    Reopened {
        reason: String,
    },
    Merged {
        into: OrderNumber,
    },
    Cancelled {
        reason: String,
    },
    Urged {
        note: String,
        level: u8,
        /// Set on the sweeper's automatic urges.
        #[serde(default)]
        warning: Option<WarnLevel>,
    },
    Noted {
        text: String,
    },
    /// A correction before dispatch: the corrected facts as they were and as they are.
    Corrected {
        before: Correction,
        after: Correction,
        note: Option<String>,
    },
    /// Another contact about the order's matter (a repeat contact, no new order).
    ContactAdded {
        content: String,
        channel: Option<Channel>,
        /// Who called this time, when not the order's own caller (never shown in comments).
        caller: Option<Caller>,
    },
    QaSampled,
    QaPassed {
        note: Option<String>,
    },
    QaFailed {
        reason: String,
    },
}

impl Change {
    /// The action that produced this change.
    pub fn action(&self) -> Action {
        match self {
            Change::Registered { .. } => Action::Register,
            Change::Imported { .. } => Action::Import,
            Change::Submitted => Action::Submit,
            Change::Approved => Action::Approve,
            Change::SentBack { .. } => Action::SendBack,
            Change::ClosedAtIntake { .. } => Action::Close,
            Change::Dispatched { .. } => Action::Dispatch,
            Change::Signed => Action::Sign,
            Change::Returned { .. } => Action::Return,
            Change::Subdispatched { .. } => Action::Subdispatch,
            Change::ExtensionRequested { .. } => Action::RequestExtension,
            Change::ExtensionDecided { .. } => Action::DecideExtension,
            Change::Replied { .. } => Action::Reply,
            Change::CalledBack { .. } => Action::Callback,
            Change::Reopened { .. } => Action::Reopen,
            Change::Merged { .. } => Action::Merge,
            Change::Cancelled { .. } => Action::Cancel,
            Change::Urged { .. } => Action::Urge,
            Change::Noted { .. } => Action::Note,
            Change::Corrected { .. } => Action::Correct,
            Change::ContactAdded { .. } => Action::AddContact,
            Change::QaSampled => Action::QaSample,
            Change::QaPassed { .. } => Action::QaPass,
            Change::QaFailed { .. } => Action::QaFail,
        }
    }

    /// The human-readable comment shown in timelines.
    pub fn comment(&self) -> Option<String> {
        match self {
            Change::SentBack { reason }
            | Change::Returned { reason }
            | Change::Reopened { reason }
            | Change::Cancelled { reason }
            | Change::QaFailed { reason } => Some(reason.clone()),
            Change::ExtensionRequested { reason, .. } => Some(reason.clone()),
            Change::ClosedAtIntake { resolution, .. } => Some(resolution.clone()),
            Change::Replied { content, .. } => Some(content.clone()),
            Change::Urged { note, .. } => Some(note.clone()),
            Change::Noted { text } => Some(text.clone()),
            Change::ContactAdded { content, .. } => Some(content.clone()),
            Change::Corrected { note, .. } => note.clone(),
            Change::Dispatched { note, .. }
            | Change::Subdispatched { note, .. }
            | Change::ExtensionDecided { note, .. }
            | Change::CalledBack { note, .. }
            | Change::QaPassed { note } => note.clone(),
            Change::Merged { into } => Some(into.to_string()),
            Change::Imported { source_ref, reply, .. } => Some(match reply {
                Some(r) => format!("{source_ref}: {r}"),
                None => source_ref.clone(),
            }),
            Change::Registered { .. } | Change::Submitted | Change::Approved | Change::Signed | Change::QaSampled => {
                None
            }
        }
    }
}

/// One event of one order. `seq` counts from 1 without gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub order: OrderNumber,
    pub seq: i64,
    pub at: Millis,
    pub actor: String,
    /// The actor's unit when it acted.
    pub unit: Option<UnitCode>,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub change: Change,
}

impl Event {
    pub fn action(&self) -> Action {
        self.change.action()
    }
}
