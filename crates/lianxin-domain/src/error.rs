//! Domain errors, each with a stable snake_case code that clients and the UI translate.

use crate::model::{Action, Status};
use std::collections::BTreeMap;

/// Why the domain refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The actor's role may not perform this action on this order (HTTP 403).
    #[error("{rule}")]
    Forbidden { action: Action, rule: String },
    /// Values are missing or invalid (HTTP 422); `fields` names each problem.
    #[error("invalid values: {}", describe(.fields))]
    Invalid { fields: BTreeMap<String, String> },
    /// The order's state does not allow the action (HTTP 409).
    #[error("action `{action}` is not allowed while the order is `{status}`: {rule}")]
    IllegalTransition { action: Action, status: Status, rule: String },
}

fn describe(fields: &BTreeMap<String, String>) -> String {
    fields.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ")
}

impl DomainError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Forbidden { .. } => "forbidden_role",
            DomainError::Invalid { .. } => "invalid_values",
            DomainError::IllegalTransition { .. } => "illegal_transition",
        }
    }

    /// A 422 error about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> DomainError {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_owned(), message.into());
        DomainError::Invalid { fields }
    }
}

/// Collects field problems so that a 422 names all of them at once.
#[derive(Debug, Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was added, else the 422 error.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() { Ok(()) } else { Err(DomainError::Invalid { fields: self.0 }) }
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}
