//! The pure domain of Lianxin (连心), a platform for a city's government service hotline.
//!
//! Everything here is free of I/O, async, SQL, HTTP and the clock: `now` is always a
//! parameter. The lifecycle of a work order is [`lifecycle::decide`] (command → one event)
//! plus [`lifecycle::apply`] (event → new state); scope and masking live in [`scope`];
//! working-time deadlines in [`calendar`]; the tamper-evident event chain in [`chain`].

pub mod calendar;
pub mod chain;
pub mod command;
pub mod error;
pub mod event;
pub mod hotspot;
pub mod incident;
pub mod knowledge;
pub mod kpi;
pub mod lifecycle;
pub mod login;
pub mod model;
pub mod notify;
pub mod order;
pub mod problem;
pub mod reference;
pub mod scope;
pub mod setup;
pub mod text;

pub use command::{Actor, Command};
pub use error::DomainError;
pub use event::{Change, Event};
pub use model::*;
pub use order::Order;

/// Milliseconds since the Unix epoch (UTC). All times in the domain are this.
pub type Millis = i64;
