//! Commands: what a user asks to happen to an order, already parsed and typed.

use crate::Millis;
use crate::model::*;
use crate::order::{Caller, Cite, Intake, Location};
use serde::{Deserialize, Serialize};

/// Who acts: a signed-in user, or the system itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub username: String,
    pub roles: Vec<Role>,
    pub unit: Option<UnitCode>,
}

impl Actor {
    /// The platform itself (supervision sweeper, sampling jobs).
    pub fn system() -> Actor {
        Actor { username: "system".into(), roles: vec![Role::System], unit: None }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }
}

/// Facts about the target of a merge, looked up by the caller of `decide`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeTarget {
    pub number: OrderNumber,
    pub status: Status,
}

/// A command on an existing order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Submit,
    Approve,
    SendBack {
        reason: String,
    },
    Close {
        kind: CloseKind,
        resolution: String,
        /// What the answer came from, resolved by the caller of `decide` (title, version).
        cite: Option<Cite>,
    },
    Dispatch {
        lead_unit: UnitCode,
        assisting_units: Vec<UnitCode>,
        note: Option<String>,
    },
    Sign,
    Return {
        reason: String,
    },
    Subdispatch {
        unit: UnitCode,
        note: Option<String>,
    },
    RequestExtension {
        until: Millis,
        reason: String,
    },
    DecideExtension {
        approve: bool,
        note: Option<String>,
    },
    Reply {
        content: String,
        solved: bool,
    },
    Callback {
        satisfaction: Satisfaction,
        /// Whether the resident said the problem was solved: required, except when the
        /// resident was not reached (then nothing is recorded, whatever was sent).
        solved: Option<bool>,
        note: Option<String>,
    },
    Reopen {
        reason: String,
    },
    /// `target` is `None` when no order with that number exists (or is visible).
    Merge {
        into: OrderNumber,
        target: Option<MergeTarget>,
    },
    Cancel {
        reason: String,
    },
    Urge {
        note: String,
        level: u8,
    },
    /// The supervision sweeper's automatic urge at a threshold.
    SystemUrge {
        level: WarnLevel,
    },
    Note {
        text: String,
    },
    /// A reviewer's or dispatcher's correction of the order's classification before
    /// dispatch (改派前更正): the facts given replace the order's own; `location` replaces the
    /// whole place.
    Correct {
        category: Option<CategoryCode>,
        request_type: Option<RequestType>,
        urgency: Option<Urgency>,
        location: Option<Location>,
        note: Option<String>,
    },
    /// Another contact of a resident about the same matter, added to the open order instead
    /// of registering a new one: a repeat contact (重复来电).
    AddContact {
        content: String,
        channel: Option<Channel>,
        caller: Option<Caller>,
    },
    /// Draw a closed order for quality assurance.
    QaSample,
    QaPass {
        note: Option<String>,
    },
    /// Fails QA: the order is reopened for dispatch.
    QaFail {
        reason: String,
    },
}

impl Command {
    /// The action this command performs.
    pub fn action(&self) -> Action {
        match self {
            Command::Submit => Action::Submit,
            Command::Approve => Action::Approve,
            Command::SendBack { .. } => Action::SendBack,
            Command::Close { .. } => Action::Close,
            Command::Dispatch { .. } => Action::Dispatch,
            Command::Sign => Action::Sign,
            Command::Return { .. } => Action::Return,
            Command::Subdispatch { .. } => Action::Subdispatch,
            Command::RequestExtension { .. } => Action::RequestExtension,
            Command::DecideExtension { .. } => Action::DecideExtension,
            Command::Reply { .. } => Action::Reply,
            Command::Callback { .. } => Action::Callback,
            Command::Reopen { .. } => Action::Reopen,
            Command::Merge { .. } => Action::Merge,
            Command::Cancel { .. } => Action::Cancel,
            Command::Urge { .. } | Command::SystemUrge { .. } => Action::Urge,
            Command::QaSample => Action::QaSample,
            Command::QaPass { .. } => Action::QaPass,
            Command::QaFail { .. } => Action::QaFail,
            Command::Note { .. } => Action::Note,
            Command::Correct { .. } => Action::Correct,
            Command::AddContact { .. } => Action::AddContact,
        }
    }
}

/// A request to register a new order, before validation against reference data.
#[derive(Debug, Clone, PartialEq)]
pub struct Register {
    pub intake: Intake,
}
