//! Notifications (消息提醒): who should hear about an event. Pure: the store writes them in
//! the same transaction as the event.

use crate::event::{Change, Event};
use crate::model::*;
use crate::order::Order;

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// Every user of a unit.
    Unit(UnitCode),
    /// Every user with a role.
    Role(Role),
}

/// A notification to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub recipient: Recipient,
    /// The action that caused it, or `warning_yellow` / `warning_red`.
    pub kind: String,
    pub message: String,
}

/// The notifications an event causes, given the order after it.
pub fn notifications(after: &Order, ev: &Event) -> Vec<Draft> {
    let n = &after.number;
    let title = &after.intake.title;
    let mut out = Vec::new();
    let mut to =
        |r: Recipient, kind: &str, message: String| out.push(Draft { recipient: r, kind: kind.to_owned(), message });
    match &ev.change {
        Change::Dispatched { lead_unit, assisting_units, .. } => {
            to(Recipient::Unit(lead_unit.clone()), "dispatch", format!("新工单 {n} 待签收（主办）：{title}"));
            for a in assisting_units {
                to(Recipient::Unit(a.clone()), "dispatch", format!("新工单 {n} 请协办：{title}"));
            }
        }
        Change::Subdispatched { unit, .. } => {
            to(Recipient::Unit(unit.clone()), "subdispatch", format!("上级单位转派工单 {n} 待签收：{title}"))
        }
        Change::Returned { reason } => {
            to(Recipient::Role(Role::Dispatcher), "return", format!("工单 {n} 被退回，待重新派单：{reason}"))
        }
        Change::ExtensionRequested { .. } => {
            to(Recipient::Role(Role::Dispatcher), "extension", format!("工单 {n} 申请延期，待审批"));
            to(Recipient::Role(Role::Supervisor), "extension", format!("工单 {n} 申请延期，待审批"));
        }
        Change::ExtensionDecided { approve, .. } => {
            if let Some(u) = &after.lead_unit {
                let verdict = if *approve { "已批准" } else { "未批准" };
                to(Recipient::Unit(u.clone()), "extension_decided", format!("工单 {n} 的延期申请{verdict}"));
            }
        }
        Change::Replied { .. } => {
            to(Recipient::Role(Role::Callback), "reply", format!("工单 {n} 已办结反馈，待回访：{title}"))
        }
        Change::CalledBack { reopen_deadline: Some(_), .. } => {
            if let Some(u) = &after.lead_unit {
                to(Recipient::Unit(u.clone()), "reopen", format!("工单 {n} 回访不满意，已重办：{title}"));
            }
        }
        Change::Urged { note, warning, .. } => {
            let kind = match warning {
                Some(WarnLevel::Yellow) => "warning_yellow",
                Some(WarnLevel::Red) => "warning_red",
                None => "urge",
            };
            if let Some(u) = &after.lead_unit {
                to(Recipient::Unit(u.clone()), kind, format!("工单 {n}：{note}"));
            }
            if warning.is_some() {
                to(Recipient::Role(Role::Supervisor), kind, format!("工单 {n}：{note}"));
            }
        }
        // The resident pressing again while a unit handles the order reminds that unit (催办).
        Change::ContactAdded { content, .. } => {
            if let (Some(u), Status::Dispatched | Status::InProgress) = (&after.lead_unit, after.status) {
                let k = after.added_contacts.len() + 1;
                to(Recipient::Unit(u.clone()), "contact", format!("工单 {n} 来电人第 {k} 次来电催问：{content}"));
            }
        }
        Change::Reopened { reason } | Change::QaFailed { reason } => {
            to(Recipient::Role(Role::Dispatcher), "reopen", format!("工单 {n} 已重新打开，待派单：{reason}"))
        }
        _ => {}
    }
    out
}
