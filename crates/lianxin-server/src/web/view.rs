//! What the pages show of orders: rows of the queues, names instead of codes, local times.
//! Callers are shown only as the API renders them (`service::render`, masking and audit
//! applied): this module never reads an order's caller itself.

use super::i18n::Tr;
use super::session::Console;
use super::supervision::{Mark, mark_at};
use crate::service;
use crate::state::AppState;
use crate::views::{CallerOut, OrderOut};
use chrono::{FixedOffset, TimeZone, Utc};
use lianxin_domain::calendar::Calendar;
use lianxin_domain::order;
use lianxin_domain::reference::Directory;
use lianxin_domain::*;
use lianxin_store::StoredEvent;
use pinyin::ToPinyin;

/// A local time as `2026-11-23 10:00`.
pub fn fmt_dt(cal: &Calendar, ms: Millis) -> String {
    local(cal, ms).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// A local time as `11-23 10:00`.
pub fn fmt_short(cal: &Calendar, ms: Millis) -> String {
    local(cal, ms).map(|t| t.format("%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// A local time as an `<input type="datetime-local">` value.
pub fn fmt_input(cal: &Calendar, ms: Millis) -> String {
    local(cal, ms).map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

/// Epoch milliseconds of the local midnight that starts `date`.
pub fn local_midnight(cal: &Calendar, date: chrono::NaiveDate) -> Millis {
    date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis() - i64::from(cal.utc_offset_minutes) * 60_000
}

fn local(cal: &Calendar, ms: Millis) -> Option<chrono::DateTime<FixedOffset>> {
    let off = FixedOffset::east_opt(cal.utc_offset_minutes * 60)?;
    Utc.timestamp_millis_opt(ms).single().map(|t| t.with_timezone(&off))
}

/// Lower-case pinyin initials of the Chinese characters (and the letters and digits) of
/// `s`: `路灯不亮` → `ldbl`.
pub fn initials(s: &str) -> String {
    s.chars()
        .zip(s.to_pinyin())
        .filter_map(|(c, p)| match p {
            Some(p) => p.first_letter().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

/// Names of reference data.
pub struct Names<'a>(pub &'a Directory);

impl Names<'_> {
    pub fn unit(&self, code: &UnitCode) -> String {
        self.0.unit(code).map(|u| u.name.clone()).unwrap_or_else(|| code.to_string())
    }

    /// `天河区 五山街道`, `天河区` for a district alone, empty for the whole city.
    pub fn place(&self, loc: &lianxin_domain::order::Location) -> String {
        let name =
            |j: &JurisdictionCode| self.0.jurisdiction(j).map(|x| x.name.clone()).unwrap_or_else(|| j.to_string());
        match (&loc.street, &loc.district) {
            (Some(s), Some(d)) if s != d => format!("{} {}", name(d), name(s)),
            (Some(s), _) => name(s),
            (None, Some(d)) => name(d),
            (None, None) => String::new(),
        }
    }

    pub fn category(&self, code: &CategoryCode) -> String {
        self.0.category(code).map(|c| c.name.clone()).unwrap_or_else(|| code.to_string())
    }

    /// The names of the category's ancestors: `城市管理 › 市政设施`.
    pub fn category_parents(&self, code: &CategoryCode) -> String {
        let mut names = Vec::new();
        let mut cur = self.0.category(code).and_then(|c| c.parent.clone());
        while let Some(p) = cur {
            if names.len() > 8 {
                break;
            }
            match self.0.category(&p) {
                Some(c) => {
                    names.push(c.name.clone());
                    cur = c.parent.clone();
                }
                None => break,
            }
        }
        names.reverse();
        names.join(" › ")
    }

    /// The lead unit the routing catalogue suggests for an order (`Directory::suggest_lead`).
    pub fn suggested_lead(&self, o: &lianxin_domain::Order) -> Option<UnitCode> {
        let loc = &o.intake.location;
        let avoid = o.returned_by();
        self.0
            .suggest_lead_avoiding(&o.intake.category, loc.street.as_ref(), loc.district.as_ref(), &avoid)
            .map(|u| u.code.clone())
    }
}

/// How a caller appears: masked or hidden exactly as the API renders them.
pub fn caller_text(t: Tr, c: &CallerOut) -> String {
    match (&c.phone, &c.name) {
        (None, _) => t.s("common.hidden").to_owned(),
        (Some(p), Some(n)) => format!("{n} {p}"),
        (Some(p), None) => p.clone(),
    }
}

/// One order as a row of a queue.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub number: String,
    pub version: i64,
    pub created: String,
    pub status_wire: String,
    pub status: String,
    pub request_type: String,
    pub urgency_wire: String,
    pub urgency: String,
    pub category: String,
    pub category_parents: String,
    pub title: String,
    pub place: String,
    /// The address as the caller gave it.
    pub address: String,
    pub caller: String,
    pub caller_name: String,
    pub caller_hidden: bool,
    pub confidential: bool,
    pub lead: String,
    pub deadline: String,
    pub sign_deadline: String,
    pub mark: String,
    pub remaining: String,
    pub returns: u32,
    pub urges: u32,
    pub suggested_code: String,
    pub suggested_name: String,
    pub ext_until: String,
    pub ext_reason: String,
    pub reply: String,
    pub reply_solved: bool,
    pub note: String,
    /// The actions the signed-in user may take on the order now.
    pub actions: Vec<&'static str>,
}

impl Row {
    pub fn can(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }
}

/// Rows of `orders` for the signed-in user; `audit` names the access in the audit log
/// when callers are shown unmasked.
pub async fn rows(state: &AppState, c: &Console, orders: &[Order], audit: &str) -> Vec<Row> {
    let outs = service::render(state, &c.user, orders, audit).await;
    let dir = state.directory();
    let names = Names(&dir);
    let cal = state.calendar();
    let now = state.now();
    let pct = state.policy().warn_percent;
    let t = c.t();
    orders
        .iter()
        .zip(outs)
        .map(|(o, out)| {
            let mut r = row(t, &names, &cal, (now, pct), o, &out);
            r.actions = super::order::available(state, o, &c.user.actor);
            r
        })
        .collect()
}

fn row(t: Tr, names: &Names, cal: &Calendar, (now, pct): (Millis, u8), o: &Order, out: &OrderOut) -> Row {
    let m = mark_at(o, now, pct);
    let remaining = match (m, o.deadline) {
        (Some(Mark::Red), Some(d)) => format!("{} {}", t.s("super.over"), t.span(now - d)),
        (Some(_), Some(d)) => {
            if t.is_en() {
                format!("{} {}", t.span(d - now), t.s("super.left"))
            } else {
                format!("{}{}", t.s("super.left"), t.span(d - now))
            }
        }
        _ => String::new(),
    };
    let suggested = names.suggested_lead(o);
    Row {
        number: o.number.to_string(),
        version: o.version,
        created: fmt_short(cal, o.created_at),
        status_wire: o.status.to_string(),
        status: t.status(o.status.as_str()),
        request_type: t.request_type(o.intake.request_type.as_str()),
        urgency_wire: o.intake.urgency.to_string(),
        urgency: t.urgency(o.intake.urgency.as_str()),
        category: names.category(&o.intake.category),
        category_parents: names.category_parents(&o.intake.category),
        title: o.intake.title.clone(),
        place: names.place(&o.intake.location),
        address: o.intake.location.address.clone().unwrap_or_default(),
        caller: caller_text(t, &out.caller),
        caller_name: out.caller.name.clone().unwrap_or_default(),
        caller_hidden: out.caller.phone.is_none(),
        confidential: out.caller.confidential,
        lead: o.lead_unit.as_ref().map(|u| names.unit(u)).unwrap_or_default(),
        deadline: o.deadline.map(|d| fmt_short(cal, d)).unwrap_or_default(),
        sign_deadline: o.sign_deadline.map(|d| fmt_short(cal, d)).unwrap_or_default(),
        mark: m.map(|m| m.class().to_owned()).unwrap_or_default(),
        remaining,
        returns: o.returns,
        urges: o.urges,
        suggested_name: suggested.as_ref().map(|u| names.unit(u)).unwrap_or_default(),
        suggested_code: suggested.map(|u| u.to_string()).unwrap_or_default(),
        ext_until: o.pending_extension.as_ref().map(|e| fmt_short(cal, e.until)).unwrap_or_default(),
        ext_reason: o.pending_extension.as_ref().map(|e| e.reason.clone()).unwrap_or_default(),
        reply: o.reply.as_ref().map(|r| r.content.clone()).unwrap_or_default(),
        reply_solved: o.reply.as_ref().is_some_and(|r| r.solved == Some(true)),
        note: String::new(),
        actions: Vec::new(),
    }
}

/// A unit as an option of a picker.
#[derive(Debug, Clone)]
pub struct UnitOpt {
    pub code: String,
    pub name: String,
    pub initials: String,
}

/// Handling units grouped for a picker: departments, districts, companies, then the
/// street offices of each district.
#[derive(Debug, Clone)]
pub struct UnitGroup {
    pub label: String,
    /// The group's own code where it has one (a district of streets).
    pub code: String,
    pub units: Vec<UnitOpt>,
}

/// Leaf categories in use, grouped under their top-level category, for a picker.
pub fn category_groups(dir: &Directory) -> Vec<UnitGroup> {
    let names = Names(dir);
    let mut tops: Vec<&lianxin_domain::reference::Category> = dir.categories().filter(|c| c.parent.is_none()).collect();
    tops.sort_by_key(|c| (c.position, c.code.clone()));
    let mut leaves: Vec<&lianxin_domain::reference::Category> =
        dir.categories().filter(|c| c.leaf.is_some() && c.active).collect();
    leaves.sort_by_key(|c| (c.position, c.code.clone()));
    let top_of = |c: &lianxin_domain::reference::Category| {
        let mut code = c.code.clone();
        while let Some(p) = dir.category(&code).and_then(|x| x.parent.clone()) {
            code = p;
        }
        code
    };
    tops.iter()
        .map(|top| UnitGroup {
            label: top.name.clone(),
            code: top.code.to_string(),
            units: leaves
                .iter()
                .filter(|l| top_of(l) == top.code)
                .map(|l| {
                    let parents = names.category_parents(&l.code);
                    UnitOpt {
                        code: l.code.to_string(),
                        name: l.name.clone(),
                        initials: initials(&format!("{parents}{}", l.name)),
                    }
                })
                .collect(),
        })
        .filter(|g| !g.units.is_empty())
        .collect()
}

/// Streets in use, grouped by district, for a picker.
pub fn street_groups(dir: &Directory) -> Vec<UnitGroup> {
    dir.jurisdictions()
        .filter(|d| d.level == JurisdictionLevel::District && d.active)
        .map(|d| UnitGroup {
            label: d.name.clone(),
            code: d.code.to_string(),
            units: dir
                .jurisdictions()
                .filter(|s| s.level == JurisdictionLevel::Street && s.active && s.parent.as_ref() == Some(&d.code))
                .map(|s| UnitOpt { code: s.code.to_string(), name: s.name.clone(), initials: initials(&s.name) })
                .collect(),
        })
        .filter(|g| !g.units.is_empty())
        .collect()
}

pub fn unit_groups(dir: &Directory, t: Tr) -> Vec<UnitGroup> {
    let opt = |u: &lianxin_domain::reference::Unit| UnitOpt {
        code: u.code.to_string(),
        name: u.name.clone(),
        initials: initials(&u.name),
    };
    let mut groups = Vec::new();
    for kind in [UnitKind::Department, UnitKind::District, UnitKind::Company] {
        let units: Vec<UnitOpt> = dir.units().filter(|u| u.kind == kind && u.active).map(opt).collect();
        if !units.is_empty() {
            groups.push(UnitGroup { label: t.unit_kind(kind.as_str()), code: String::new(), units });
        }
    }
    let districts: Vec<_> = dir.units().filter(|u| u.kind == UnitKind::District).collect();
    for d in districts {
        let units: Vec<UnitOpt> = dir
            .units()
            .filter(|u| u.kind == UnitKind::Street && u.active && u.parent.as_ref() == Some(&d.code))
            .map(opt)
            .collect();
        if !units.is_empty() {
            let district_name = d.jurisdiction.as_ref().and_then(|j| dir.jurisdiction(j)).map(|j| j.name.clone());
            groups.push(UnitGroup {
                label: format!("{} · {}", t.unit_kind("street"), district_name.unwrap_or_else(|| d.name.clone())),
                code: String::new(),
                units,
            });
        }
    }
    let orphans: Vec<UnitOpt> = dir
        .units()
        .filter(|u| {
            u.kind == UnitKind::Street
                && u.active
                && u.parent.as_ref().and_then(|p| dir.unit(p)).is_none_or(|p| p.kind != UnitKind::District)
        })
        .map(opt)
        .collect();
    if !orphans.is_empty() {
        groups.push(UnitGroup { label: t.unit_kind("street"), code: String::new(), units: orphans });
    }
    groups
}

/// One line of an order's timeline.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub seq: i64,
    pub at: String,
    pub who: String,
    pub unit: String,
    pub action_wire: String,
    pub action: String,
    pub from: String,
    pub to: String,
    pub detail: String,
    pub comment: String,
    pub hash: String,
}

/// The timeline of an order. `who` maps usernames to display names. Only the facts that
/// are not personal are spelled out (the registration event's caller never is).
pub fn timeline(
    t: Tr,
    names: &Names,
    cal: &Calendar,
    events: &[StoredEvent],
    who: &dyn Fn(&str) -> String,
) -> Vec<TimelineEntry> {
    events
        .iter()
        .map(|se| {
            let e = &se.event;
            let detail = change_detail(t, names, cal, &e.change);
            TimelineEntry {
                seq: e.seq,
                at: fmt_dt(cal, e.at),
                who: who(&e.actor),
                unit: e.unit.as_ref().map(|u| names.unit(u)).unwrap_or_default(),
                action_wire: e.action().to_string(),
                action: t.action(e.action().as_str()),
                from: e.from_status.map(|s| t.status(s.as_str())).unwrap_or_default(),
                to: t.status(e.to_status.as_str()),
                detail,
                comment: se.comment.clone().unwrap_or_default(),
                hash: se.hash.chars().take(12).collect(),
            }
        })
        .collect()
}

fn change_detail(t: Tr, names: &Names, cal: &Calendar, c: &Change) -> String {
    let en = t.is_en();
    let sep = if en { "; " } else { "；" };
    let colon = if en { ": " } else { "：" };
    let kv = |k: &str, v: String| format!("{k}{colon}{v}");
    match c {
        Change::Registered { intake, .. } => [
            kv(t.s("order.channel"), intake.channel.map(|c| t.channel(c.as_str())).unwrap_or_default()),
            kv(t.s("order.category"), names.category(&intake.category)),
            kv(t.s("order.urgency"), t.urgency(intake.urgency.as_str())),
        ]
        .join(sep),
        Change::Dispatched { lead_unit, assisting_units, deadline, sign_deadline, .. } => {
            let mut parts = vec![kv(t.s("order.lead"), names.unit(lead_unit))];
            if !assisting_units.is_empty() {
                let a: Vec<String> = assisting_units.iter().map(|u| names.unit(u)).collect();
                parts.push(kv(t.s("order.assisting"), a.join(if en { ", " } else { "、" })));
            }
            parts.push(kv(t.s("order.deadline"), fmt_dt(cal, *deadline)));
            parts.push(kv(t.s("order.sign_deadline"), fmt_dt(cal, *sign_deadline)));
            parts.join(sep)
        }
        Change::Subdispatched { unit, sign_deadline, .. } => {
            [kv(t.s("order.lead"), names.unit(unit)), kv(t.s("order.sign_deadline"), fmt_dt(cal, *sign_deadline))]
                .join(sep)
        }
        Change::ExtensionRequested { until, .. } => kv(t.s("f.until"), fmt_dt(cal, *until)),
        Change::ExtensionDecided { approve, deadline, .. } => {
            let verdict = if *approve { t.s("f.approve_yes") } else { t.s("f.approve_no") };
            match deadline {
                Some(d) => format!("{verdict}{sep}{}", kv(t.s("order.deadline"), fmt_dt(cal, *d))),
                None => verdict.to_owned(),
            }
        }
        Change::Replied { solved, .. } => {
            if *solved {
                t.s("order.solved").to_owned()
            } else {
                t.s("order.unsolved").to_owned()
            }
        }
        Change::Imported { source_ref, lead_unit, closed_at, satisfaction, .. } => {
            let mut parts = vec![kv(t.s("order.source_ref"), source_ref.clone())];
            if let Some(u) = lead_unit {
                parts.push(kv(t.s("order.lead"), names.unit(u)));
            }
            if let Some(c) = closed_at {
                parts.push(kv(t.s("order.closed_at"), fmt_dt(cal, *c)));
            }
            if let Some(s) = satisfaction {
                parts.push(t.satisfaction(s.as_str()).to_owned());
            }
            parts.join(sep)
        }
        Change::CalledBack { satisfaction, solved, reopen_deadline, .. } => {
            let mut s = t.satisfaction(satisfaction.as_str()).to_owned();
            if let Some(solved) = solved {
                s.push_str(sep);
                s.push_str(if *solved { t.s("order.solved") } else { t.s("order.unsolved") });
            }
            if let Some(d) = reopen_deadline {
                s.push_str(sep);
                s.push_str(&kv(t.s("order.deadline"), fmt_dt(cal, *d)));
            }
            s
        }
        Change::ClosedAtIntake { kind, .. } => t.close_kind(kind.as_str()),
        Change::Urged { level, .. } => kv(t.s("f.level"), level.to_string()),
        Change::Merged { into } => kv(t.s("order.merged_into"), into.to_string()),
        Change::Corrected { before, after, .. } => correction_detail(t, names, before, after).join(sep),
        Change::ContactAdded { channel, caller, .. } => {
            let mut parts = Vec::new();
            if let Some(c) = channel {
                parts.push(kv(t.s("order.channel"), t.channel(c.as_str()).to_owned()));
            }
            if caller.is_some() {
                parts.push(t.s("contact.other_caller").to_owned());
            }
            parts.join(sep)
        }
        _ => String::new(),
    }
}

/// "fact: before → after" for each corrected fact, and the time limit when it moved.
fn correction_detail(t: Tr, names: &Names, before: &order::Correction, after: &order::Correction) -> Vec<String> {
    let colon = if t.is_en() { ": " } else { "：" };
    let change = |k: &str, b: String, a: String| format!("{k}{colon}{b} → {a}");
    let mut parts = Vec::new();
    if let (Some(b), Some(a)) = (&before.category, &after.category) {
        parts.push(change(t.s("order.category"), names.category(b), names.category(a)));
    }
    if let (Some(b), Some(a)) = (before.request_type, after.request_type) {
        parts.push(change(t.s("order.request_type"), t.request_type(b.as_str()), t.request_type(a.as_str())));
    }
    if let (Some(b), Some(a)) = (before.urgency, after.urgency) {
        parts.push(change(t.s("order.urgency"), t.urgency(b.as_str()), t.urgency(a.as_str())));
    }
    if let (Some(b), Some(a)) = (&before.location, &after.location) {
        let place = |l: &order::Location| match &l.address {
            Some(addr) => format!("{} · {addr}", names.place(l)),
            None => names.place(l),
        };
        parts.push(change(t.s("order.place"), place(b), place(a)));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_chinese_names() {
        assert_eq!(initials("路灯不亮"), "ldbl");
        assert_eq!(initials("天河区 五山街道"), "thqwsjd");
        assert_eq!(initials("A区12"), "aq12");
    }

    #[test]
    fn local_times_use_the_calendar_offset() {
        let cal = Calendar::default();
        let t = Calendar::parse_rfc3339("2026-11-23T10:00:00+08:00").unwrap_or_default();
        assert_eq!(fmt_dt(&cal, t), "2026-11-23 10:00");
        assert_eq!(fmt_short(&cal, t), "11-23 10:00");
        assert_eq!(fmt_input(&cal, t), "2026-11-23T10:00");
    }
}
