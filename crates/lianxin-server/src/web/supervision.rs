//! Deadline marks of the supervisor board and the queues: red past the deadline, yellow
//! once the warning fraction of the handling limit (75% by default) has gone. The one
//! place the console decides a mark; it asks the domain (`Order::warning_due`, the rule
//! the supervision sweeper uses) so the board and the sweeper agree.

use crate::state::AppState;
use lianxin_domain::{Millis, Order, Status, WarnLevel};

/// How an order stands against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    Red,
    Yellow,
    Green,
}

impl Mark {
    /// The CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Mark::Red => "red",
            Mark::Yellow => "yellow",
            Mark::Green => "green",
        }
    }
}

/// The mark of an order being handled; `None` when no handling deadline runs (not yet
/// dispatched, or already replied or closed).
pub fn mark_at(order: &Order, now: Millis, warn_percent: u8) -> Option<Mark> {
    if !matches!(order.status, Status::Dispatched | Status::InProgress) || order.deadline.is_none() {
        return None;
    }
    Some(match order.warning_due(now, warn_percent) {
        Some(WarnLevel::Red) => Mark::Red,
        Some(WarnLevel::Yellow) => Mark::Yellow,
        None => Mark::Green,
    })
}

/// [`mark_at`] with the server's clock and policy.
pub fn mark(state: &AppState, order: &Order) -> Option<Mark> {
    mark_at(order, state.now(), state.policy().warn_percent)
}
