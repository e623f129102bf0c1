//! The lifecycle state machine (F-1): `register`/`decide` turn a command into exactly one
//! event or a typed refusal; `apply` folds an event into the order's state.
//!
//! Refusals are checked in the order clients rely on: role (403), then values (422), then
//! state (409). Scope (404) is checked before any of these by whoever loads the order, with
//! [`crate::scope`].

use crate::Millis;
use crate::calendar::{Calendar, TimeLimit};
use crate::command::{Actor, Command, MergeTarget};
use crate::error::{DomainError, FieldErrors};
use crate::event::{Change, Event};
use crate::model::*;
use crate::order::*;
use crate::reference::{Directory, TimeLimits};

/// Longest free text accepted in content, replies and resolutions.
pub const MAX_TEXT: usize = 5000;
/// Longest reason, note or title.
pub const MAX_SHORT_TEXT: usize = 2000;

/// Handling policy that is not per category.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Time to sign for a dispatched order (1 working hour).
    pub sign_limit: TimeLimit,
    /// Time to sign for an emergency (10 minutes).
    pub sign_limit_emergency: TimeLimit,
    /// Limits for orders whose category has none (a category removed since intake).
    pub default_limits: TimeLimits,
    /// The furthest an extension may reach, in days from the request.
    pub max_extension_days: i64,
    /// Time to call the resident back after a reply (2 working days).
    pub callback_limit: TimeLimit,
    /// Time to decide an extension request (1 working day).
    pub extension_decision_limit: TimeLimit,
    /// The yellow warning comes at this percentage of the handling limit.
    pub warn_percent: u8,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            sign_limit: TimeLimit::WorkingHours(1),
            sign_limit_emergency: TimeLimit::Minutes(10),
            default_limits: TimeLimits::DEFAULT,
            max_extension_days: 90,
            callback_limit: TimeLimit::WorkingDays(2),
            extension_decision_limit: TimeLimit::WorkingDays(1),
            warn_percent: 75,
        }
    }
}

/// What `decide` may consult besides the order: reference data, calendar and policy.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub directory: &'a Directory,
    pub calendar: &'a Calendar,
    pub policy: &'a Policy,
}

impl Context<'_> {
    fn handling_limit(&self, order: &Order) -> TimeLimit {
        self.handling_limit_for(&order.intake.category, order.intake.urgency)
    }

    fn handling_limit_for(&self, category: &CategoryCode, urgency: Urgency) -> TimeLimit {
        self.directory
            .leaf(category)
            .map(|(_, l)| l.time_limits)
            .unwrap_or(self.policy.default_limits)
            .for_urgency(urgency)
    }

    fn sign_limit(&self, urgency: Urgency) -> TimeLimit {
        if urgency == Urgency::Emergency { self.policy.sign_limit_emergency } else { self.policy.sign_limit }
    }
}

/// Why an event cannot be applied: the log does not explain the state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("event {seq}: the first event must register the order")]
    NotRegistered { seq: i64 },
    #[error("event {seq}: an order cannot be registered twice")]
    RegisteredTwice { seq: i64 },
    #[error("event {seq}: expected sequence number {expected}")]
    Sequence { seq: i64, expected: i64 },
    #[error("event {seq}: says it left `{claimed}` but the order was `{actual}`")]
    FromStatus { seq: i64, claimed: String, actual: String },
    #[error("event {seq}: an extension or QA decision with nothing pending, or a second QA sample")]
    NothingPending { seq: i64 },
    #[error("event {seq}: `{action}` cannot lead to `{to}`")]
    ToStatus { seq: i64, action: Action, to: Status },
}

fn non_empty(errs: &mut FieldErrors, field: &str, text: &str, max: usize) {
    let t = text.trim();
    if let Err(m) = crate::text::check(text) {
        errs.add(field, m);
    } else if t.is_empty() {
        errs.add(field, "must not be empty");
    } else if t.chars().count() > max {
        errs.add(field, format!("must be at most {max} characters"));
    }
}

/// A title from what the caller said, when the operator gave none: the first clause of the
/// content. Lines the intake form inserted from the category's `prompts`
/// ("具体地址和路灯杆编号：…") are the operator's checklist, not the caller's words: the first
/// line of the operator's own is used, and only when there is none, the answers given after
/// the prompts. A category's template (`【灯杆编号】____`) is a checklist too: a line whose
/// blank is still open is skipped, and the `【…】` labels of the lines filled in are left out.
pub fn derive_title(content: &str, prompts: &[String]) -> String {
    let mut own = Vec::new();
    let mut answers = Vec::new();
    let unlabelled: Vec<String> = content.lines().map(|l| strip_labels(l.trim())).collect();
    for line in unlabelled.iter().map(|l| l.trim()).filter(|l| !l.is_empty() && !l.contains(BLANK)) {
        match prompt_answer(line, prompts) {
            Some("") => {}
            Some(answer) => answers.push(answer),
            None => own.push(line),
        }
    }
    let mut source = if own.is_empty() { answers.join("，") } else { own.join("\n") };
    if source.trim().is_empty() {
        // Nothing but the template with its blanks: its first line, without them.
        source = unlabelled.iter().map(|l| l.replace(BLANK, "")).find(|l| !l.trim().is_empty()).unwrap_or_default();
    }
    let first =
        source.split(['。', '！', '？', '\n', '.', '!', '?']).find(|s| !s.trim().is_empty()).unwrap_or("").trim();
    let mut title: String = first.chars().take(30).collect();
    if first.chars().count() > 30 {
        title.push('…');
    }
    title
}

/// The blank a template leaves for the operator to fill in.
const BLANK: &str = "____";

/// `line` without its `【…】` labels.
fn strip_labels(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('【') {
        let Some(close) = rest[open..].find('】') else { break };
        out.push_str(&rest[..open]);
        rest = &rest[open + close + '】'.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// The answer on a line that starts with one of `prompts` and a colon, trimmed.
fn prompt_answer<'a>(line: &'a str, prompts: &[String]) -> Option<&'a str> {
    prompts.iter().filter(|p| !p.is_empty()).find_map(|p| {
        let rest = line.strip_prefix(p.as_str())?.trim_start();
        rest.strip_prefix(['：', ':']).map(str::trim)
    })
}

/// The free-text and coordinate checks every intake passes, live or imported: content,
/// title (derived from the content when absent), caller name, address, lat/lon together.
fn check_text(intake: &mut Intake, directory: &Directory, errs: &mut FieldErrors) {
    let texts = [
        ("title", Some(&intake.title)),
        ("caller.name", intake.caller.name.as_ref()),
        ("location.address", intake.location.address.as_ref()),
    ];
    for (field, text) in texts {
        if let Some(Err(m)) = text.map(|t| crate::text::check(t)) {
            errs.add(field, m);
        }
    }
    non_empty(errs, "content", &intake.content, MAX_TEXT);
    intake.title = intake.title.trim().to_owned();
    if intake.title.is_empty() {
        let leaf = directory.category(&intake.category).and_then(|c| c.leaf.as_ref());
        intake.title = derive_title(&intake.content, leaf.map_or(&[], |l| l.prompts.as_slice()));
    } else if intake.title.chars().count() > 100 {
        errs.add("title", "must be at most 100 characters");
    }
    if intake.caller.name.as_ref().is_some_and(|n| n.chars().count() > 50) {
        errs.add("caller.name", "must be at most 50 characters");
    }
    check_location_text(&intake.location, errs);
}

/// The address's length and the coordinates of a place (its text is checked by the caller).
fn check_location_text(loc: &Location, errs: &mut FieldErrors) {
    if loc.address.as_ref().is_some_and(|a| a.chars().count() > 200) {
        errs.add("location.address", "must be at most 200 characters");
    }
    match (loc.lat, loc.lon) {
        (Some(lat), _) if !(-90.0..=90.0).contains(&lat) => errs.add("location.lat", "must be between -90 and 90"),
        (_, Some(lon)) if !(-180.0..=180.0).contains(&lon) => errs.add("location.lon", "must be between -180 and 180"),
        (Some(_), None) => errs.add("location.lon", "is required with location.lat"),
        (None, Some(_)) => errs.add("location.lat", "is required with location.lon"),
        _ => {}
    }
}

/// Checks a category an order is registered under or corrected to: a leaf still in use.
fn check_live_category(dir: &Directory, code: &CategoryCode, errs: &mut FieldErrors) {
    match dir.category(code) {
        None => errs.add("category", format!("unknown category `{code}`")),
        Some(c) if c.leaf.is_none() => {
            errs.add("category", format!("`{code}` is a group; choose one of its leaf categories"))
        }
        Some(c) if !c.active => errs.add("category", format!("`{code}` is no longer in use")),
        Some(_) => {}
    }
}

/// Whether `actor` may register orders at all (403 otherwise).
pub fn authorize_register(actor: &Actor) -> Result<(), DomainError> {
    if actor.has(Role::Operator) {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            action: Action::Register,
            rule: "only an operator may register a work order".into(),
        })
    }
}

/// Registers a new order: validates the intake against reference data and returns the
/// order's first event. The order's `district` is resolved from its street here.
pub fn register(
    ctx: &Context,
    mut intake: Intake,
    number: OrderNumber,
    actor: &Actor,
    now: Millis,
) -> Result<Event, DomainError> {
    authorize_register(actor)?;
    let mut errs = FieldErrors::new();
    check_live_category(ctx.directory, &intake.category, &mut errs);
    resolve_place(ctx.directory, &mut intake.location, true, &mut errs);
    check_text(&mut intake, ctx.directory, &mut errs);
    errs.finish()?;
    intake.caller.phone = intake.caller.phone.map(|p| p.normalized());
    Ok(Event {
        order: number,
        seq: 1,
        at: now,
        actor: actor.username.clone(),
        unit: actor.unit.clone(),
        from_status: None,
        to_status: Status::Registered,
        change: Change::Registered { intake, repeat_contact: false },
    })
}

/// Checks an order's place against the jurisdiction tree and fills in the street's
/// district. A street must be a `street` node; a district given alone a `district` node;
/// both together must agree. `live` refuses deactivated nodes (intake); history may
/// name them.
fn resolve_place(dir: &Directory, loc: &mut Location, live: bool, errs: &mut FieldErrors) {
    let usable = |j: &crate::reference::Jurisdiction| j.active || !live;
    if let Some(street) = &loc.street {
        match dir.jurisdiction(street) {
            Some(j) if j.level == JurisdictionLevel::Street && usable(j) => {
                let of_street = dir.district_of(&j.code).map(|d| d.code.clone());
                match &loc.district {
                    Some(d) if Some(d) != of_street.as_ref() => {
                        errs.add("location.district", format!("street `{street}` does not lie in district `{d}`"))
                    }
                    _ => loc.district = of_street,
                }
            }
            Some(j) if j.level == JurisdictionLevel::Street => {
                errs.add("location.street", format!("street `{street}` is no longer in use"))
            }
            Some(j) => errs.add("location.street", format!("`{}` is a {}, not a street", j.code, j.level)),
            None => errs.add("location.street", format!("unknown street `{street}`")),
        }
    } else if let Some(district) = &loc.district {
        match dir.jurisdiction(district) {
            Some(j) if j.level == JurisdictionLevel::District && usable(j) => {}
            Some(j) if j.level == JurisdictionLevel::District => {
                errs.add("location.district", format!("district `{district}` is no longer in use"))
            }
            Some(j) => errs.add("location.district", format!("`{}` is a {}, not a district", j.code, j.level)),
            None => errs.add("location.district", format!("unknown district `{district}`")),
        }
    }
}

/// One order of an older system's history (`import orders`), already parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct PastOrder {
    pub source_ref: String,
    pub created_at: Millis,
    pub intake: Intake,
    pub lead_unit: Option<UnitCode>,
    pub replied_at: Option<Millis>,
    pub reply: Option<String>,
    pub closed_at: Option<Millis>,
    pub satisfaction: Option<Satisfaction>,
}

/// Turns one past order into its single `import` event: closed when the old system closed
/// it, in progress at its lead unit when it has one, otherwise waiting for dispatch. The
/// handling deadline is this platform's limit for the category, counted from creation, so
/// on-time figures compare history by today's rules. Nothing the old system did not record
/// is made up: no sign-for time, no "solved" at callback.
pub fn import(ctx: &Context, past: PastOrder, number: OrderNumber, actor: &Actor) -> Result<Event, DomainError> {
    let PastOrder { source_ref, created_at, mut intake, lead_unit, replied_at, reply, closed_at, satisfaction } = past;
    let mut errs = FieldErrors::new();
    match ctx.directory.category(&intake.category) {
        None => errs.add("category", format!("unknown category `{}`", intake.category)),
        Some(c) if c.leaf.is_none() => errs.add("category", format!("`{}` is a group, not a leaf", intake.category)),
        Some(_) => {}
    }
    resolve_place(ctx.directory, &mut intake.location, false, &mut errs);
    let source_ref = source_ref.trim().to_owned();
    if source_ref.is_empty() {
        errs.add("source_ref", "must not be empty");
    } else if source_ref.chars().count() > 100 {
        errs.add("source_ref", "must be at most 100 characters");
    }
    check_text(&mut intake, ctx.directory, &mut errs);
    if let Some(u) = &lead_unit {
        match ctx.directory.unit(u) {
            None => errs.add("lead_unit", format!("unknown unit `{u}`")),
            Some(x) if !x.kind.can_handle() => {
                errs.add("lead_unit", format!("`{u}` is a {}, which cannot handle orders", x.kind))
            }
            Some(_) => {}
        }
    }
    let reply = reply.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if reply.as_ref().is_some_and(|r| r.chars().count() > MAX_TEXT) {
        errs.add("reply", format!("must be at most {MAX_TEXT} characters"));
    }
    if replied_at.is_some_and(|t| t < created_at) {
        errs.add("replied_at", "is before created_at");
    }
    if let Some(c) = closed_at {
        if c < created_at {
            errs.add("closed_at", "is before created_at");
        } else if replied_at.is_some_and(|r| c < r) {
            errs.add("closed_at", "is before replied_at");
        }
    }
    if satisfaction.is_some() && closed_at.is_none() {
        errs.add("satisfaction", "needs closed_at: only a closed order has been called back");
    }
    if satisfaction.is_some() && lead_unit.is_none() {
        errs.add("satisfaction", "needs lead_unit: only a handled order is called back");
    }
    errs.finish()?;
    intake.caller.phone = intake.caller.phone.map(|p| p.normalized());
    let (deadline, warn_at) = match &lead_unit {
        Some(_) => {
            let limit = ctx.handling_limit_for(&intake.category, intake.urgency);
            (
                Some(ctx.calendar.deadline(created_at, limit)),
                Some(ctx.calendar.partial_deadline(created_at, limit, ctx.policy.warn_percent)),
            )
        }
        None => (None, None),
    };
    let to_status = match (closed_at, &lead_unit) {
        (Some(_), _) => Status::Closed,
        (None, Some(_)) => Status::InProgress,
        (None, None) => Status::PendingDispatch,
    };
    Ok(Event {
        order: number,
        seq: 1,
        at: created_at,
        actor: actor.username.clone(),
        unit: actor.unit.clone(),
        from_status: None,
        to_status,
        change: Change::Imported {
            intake,
            source_ref,
            lead_unit,
            deadline,
            warn_at,
            reply,
            replied_at,
            closed_at,
            satisfaction,
        },
    })
}

fn forbidden(action: Action, rule: &str) -> DomainError {
    DomainError::Forbidden { action, rule: rule.to_owned() }
}

/// Whether `actor` may perform `action` on `order` at all (403 otherwise). Scope is
/// assumed: the caller only gets here for orders the actor can see.
pub fn authorize(order: &Order, action: Action, actor: &Actor) -> Result<(), DomainError> {
    let need = |roles: &[Role], rule: &str| {
        if actor.has_any(roles) { Ok(()) } else { Err(forbidden(action, rule)) }
    };
    match action {
        Action::Import => Err(forbidden(action, "orders are imported only from the command line or the admin import")),
        Action::Register | Action::Submit | Action::Close => {
            need(&[Role::Operator], "only an operator may register, submit or close at first contact")
        }
        Action::Approve | Action::SendBack => need(&[Role::Reviewer], "only a reviewer may approve or send back"),
        Action::Dispatch => need(&[Role::Dispatcher], "only a dispatcher may dispatch"),
        Action::Sign | Action::Return | Action::Subdispatch | Action::RequestExtension | Action::Reply => {
            let handler = actor.has_any(&[Role::Handler, Role::UnitAdmin]);
            if handler && actor.unit.is_some() && actor.unit == order.lead_unit {
                Ok(())
            } else {
                Err(forbidden(action, "only a handler of the order's lead unit may do this"))
            }
        }
        Action::DecideExtension => {
            need(&[Role::Dispatcher, Role::Supervisor], "only a dispatcher or supervisor may decide an extension")
        }
        Action::Callback => need(&[Role::Callback], "only a callback agent may record a callback"),
        Action::Reopen => need(&[Role::Supervisor], "only a supervisor may reopen a closed order"),
        Action::Merge => need(&[Role::Operator, Role::Dispatcher], "only an operator or dispatcher may merge"),
        Action::Cancel => need(&[Role::Reviewer, Role::Dispatcher], "only a reviewer or dispatcher may cancel"),
        Action::Urge => {
            need(&[Role::Supervisor, Role::System], "only a supervisor (or the supervision sweeper) may urge")
        }
        Action::Note => Ok(()),
        Action::Correct => {
            need(&[Role::Reviewer, Role::Dispatcher], "only a reviewer or dispatcher may correct an order")
        }
        Action::AddContact => need(&[Role::Operator], "only an operator may add a contact to an order"),
        Action::QaSample => need(&[Role::Supervisor, Role::System], "only a supervisor may sample orders for QA"),
        Action::QaPass | Action::QaFail => need(&[Role::Supervisor], "only a supervisor may decide a QA sample"),
    }
}

fn validate(ctx: &Context, order: &Order, cmd: &Command, now: Millis) -> Result<(), DomainError> {
    let mut errs = FieldErrors::new();
    let dir = ctx.directory;
    let handling_unit = |errs: &mut FieldErrors, field: &str, code: &UnitCode| match dir.unit(code) {
        None => errs.add(field, format!("unknown unit `{code}`")),
        Some(u) if !u.kind.can_handle() => {
            errs.add(field, format!("`{code}` is a {}, which cannot handle orders", u.kind))
        }
        Some(u) if !u.active => errs.add(field, format!("unit `{code}` is no longer in use")),
        Some(_) => {}
    };
    match cmd {
        Command::Submit | Command::Approve | Command::Sign | Command::DecideExtension { .. } => {}
        Command::Callback { note, .. } => {
            if note.as_ref().is_some_and(|n| n.chars().count() > MAX_SHORT_TEXT) {
                errs.add("note", format!("must be at most {MAX_SHORT_TEXT} characters"));
            }
        }
        Command::SendBack { reason }
        | Command::Return { reason }
        | Command::Reopen { reason }
        | Command::Cancel { reason } => non_empty(&mut errs, "reason", reason, MAX_SHORT_TEXT),
        Command::Close { resolution, kind, cite } => {
            non_empty(&mut errs, "resolution", resolution, MAX_TEXT);
            if let Some(c) = cite {
                // A referral entry is what a referral names; an article or an announcement
                // is an answer. Anything else would count the close under the wrong kind.
                let fits = match c.kind {
                    CiteKind::Referral => *kind == CloseKind::Referred,
                    CiteKind::Article | CiteKind::Announcement => *kind == CloseKind::Answered,
                };
                if !fits {
                    errs.add("cite.kind", format!("a {} cannot be cited by a close of kind `{kind}`", c.kind));
                }
            }
        }
        Command::Dispatch { lead_unit, assisting_units, .. } => {
            handling_unit(&mut errs, "lead_unit", lead_unit);
            for (i, a) in assisting_units.iter().enumerate() {
                if a == lead_unit {
                    errs.add("assisting_units", format!("`{a}` is already the lead unit"));
                } else if assisting_units[..i].contains(a) {
                    errs.add("assisting_units", format!("`{a}` is listed twice"));
                } else {
                    handling_unit(&mut errs, "assisting_units", a);
                }
            }
        }
        Command::Subdispatch { unit, .. } => {
            handling_unit(&mut errs, "unit", unit);
            if errs.is_empty() {
                let below = order.lead_unit.as_ref().is_some_and(|lead| dir.is_below(unit, lead));
                if !below {
                    errs.add("unit", format!("`{unit}` is not a sub-unit of the lead unit"));
                }
            }
        }
        Command::RequestExtension { until, reason } => {
            non_empty(&mut errs, "reason", reason, MAX_SHORT_TEXT);
            if *until <= now {
                errs.add("until", "must be in the future");
            } else if order.deadline.is_some_and(|d| *until <= d) {
                errs.add("until", "must be later than the current deadline");
            } else if *until > now + ctx.policy.max_extension_days * 86_400_000 {
                errs.add("until", format!("must be within {} days", ctx.policy.max_extension_days));
            }
        }
        Command::Reply { content, .. } => non_empty(&mut errs, "content", content, MAX_TEXT),
        Command::Merge { into, target } => match target {
            _ if into == &order.number => errs.add("into", "an order cannot be merged into itself"),
            None => errs.add("into", format!("no order `{into}`")),
            Some(MergeTarget { status, .. }) if !status.is_open() => {
                errs.add("into", format!("order `{into}` is {status}; merge into an open order"))
            }
            Some(_) => {}
        },
        Command::Urge { note, level } => {
            non_empty(&mut errs, "note", note, MAX_SHORT_TEXT);
            if !(1..=3).contains(level) {
                errs.add("level", "must be 1, 2 or 3");
            }
        }
        Command::Note { text } => non_empty(&mut errs, "text", text, MAX_SHORT_TEXT),
        Command::Correct { category, request_type, urgency, location, note } => {
            if category.is_none() && request_type.is_none() && urgency.is_none() && location.is_none() {
                errs.add("category", "give at least one of category, request_type, urgency or location to correct");
            }
            if let Some(c) = category {
                check_live_category(dir, c, &mut errs);
            }
            if let Some(loc) = location {
                let mut loc = loc.clone();
                resolve_place(dir, &mut loc, true, &mut errs);
                if let Some(Err(m)) = loc.address.as_ref().map(|a| crate::text::check(a)) {
                    errs.add("location.address", m);
                }
                check_location_text(&loc, &mut errs);
            }
            if note.as_ref().is_some_and(|n| n.chars().count() > MAX_SHORT_TEXT) {
                errs.add("note", format!("must be at most {MAX_SHORT_TEXT} characters"));
            }
        }
        Command::AddContact { content, caller, .. } => {
            non_empty(&mut errs, "content", content, MAX_TEXT);
            if let Some(name) = caller.as_ref().and_then(|c| c.name.as_ref()) {
                if let Err(m) = crate::text::check(name) {
                    errs.add("caller.name", m);
                } else if name.chars().count() > 50 {
                    errs.add("caller.name", "must be at most 50 characters");
                }
            }
        }
        Command::SystemUrge { .. } | Command::QaSample => {}
        Command::QaPass { note } => {
            if note.as_ref().is_some_and(|n| n.chars().count() > MAX_SHORT_TEXT) {
                errs.add("note", format!("must be at most {MAX_SHORT_TEXT} characters"));
            }
        }
        Command::QaFail { reason } => non_empty(&mut errs, "reason", reason, MAX_SHORT_TEXT),
    }
    errs.finish()
}

fn illegal(action: Action, status: Status, rule: &str) -> DomainError {
    DomainError::IllegalTransition { action, status, rule: rule.to_owned() }
}

/// Decides what a command does to an order: exactly one event, or a refusal.
pub fn decide(ctx: &Context, order: &Order, cmd: &Command, actor: &Actor, now: Millis) -> Result<Event, DomainError> {
    let action = cmd.action();
    authorize(order, action, actor)?;
    validate(ctx, order, cmd, now)?;
    let from = order.status;
    let require = |allowed: &[Status], rule: &str| {
        if allowed.contains(&from) { Ok(()) } else { Err(illegal(action, from, rule)) }
    };
    let open = || {
        if from.is_open() { Ok(()) } else { Err(illegal(action, from, "only open orders accept this action")) }
    };
    use Status::*;
    let (to, change) = match cmd.clone() {
        Command::Submit => {
            require(&[Registered], "only a registered order can be submitted for review")?;
            (InReview, Change::Submitted)
        }
        Command::Approve => {
            require(&[InReview], "only an order in review can be approved")?;
            (PendingDispatch, Change::Approved)
        }
        Command::SendBack { reason } => {
            require(&[InReview], "only an order in review can be sent back")?;
            (Registered, Change::SentBack { reason: reason.trim().into() })
        }
        Command::Close { kind, resolution, cite } => {
            require(&[Registered], "only a registered order can be closed at first contact")?;
            (Closed, Change::ClosedAtIntake { kind, resolution: resolution.trim().into(), cite })
        }
        Command::Dispatch { lead_unit, assisting_units, note } => {
            require(&[PendingDispatch], "only an order pending dispatch can be dispatched")?;
            let limit = ctx.handling_limit(order);
            let deadline = ctx.calendar.deadline(now, limit);
            let warn_at = Some(ctx.calendar.partial_deadline(now, limit, ctx.policy.warn_percent));
            let sign_deadline = ctx.calendar.deadline(now, ctx.sign_limit(order.intake.urgency));
            (Dispatched, Change::Dispatched { lead_unit, assisting_units, note, deadline, sign_deadline, warn_at })
        }
        Command::Sign => {
            require(&[Dispatched], "only a dispatched order can be signed for")?;
            (InProgress, Change::Signed)
        }
        Command::Return { reason } => {
            require(&[Dispatched, InProgress], "only a dispatched or in-progress order can be returned")?;
            (PendingDispatch, Change::Returned { reason: reason.trim().into() })
        }
        Command::Subdispatch { unit, note } => {
            require(&[Dispatched, InProgress], "only a dispatched or in-progress order can be sub-dispatched")?;
            let sign_deadline = ctx.calendar.deadline(now, ctx.sign_limit(order.intake.urgency));
            (Dispatched, Change::Subdispatched { unit, note, sign_deadline })
        }
        Command::RequestExtension { until, reason } => {
            require(&[Dispatched, InProgress], "an extension can only be requested while the order is being handled")?;
            if order.pending_extension.is_some() {
                return Err(illegal(action, from, "an extension request is already pending"));
            }
            let decide_by = Some(ctx.calendar.deadline(now, ctx.policy.extension_decision_limit));
            (from, Change::ExtensionRequested { until, reason: reason.trim().into(), decide_by })
        }
        Command::DecideExtension { approve, note } => {
            let Some(req) = &order.pending_extension else {
                return Err(illegal(action, from, "no extension request is pending"));
            };
            require(&[Dispatched, InProgress], "extensions are decided only while the order is being handled")?;
            if approve && req.until <= now {
                return Err(DomainError::invalid(
                    "approve",
                    "the requested date has already passed; deny it and let the unit ask again",
                ));
            }
            let deadline = approve.then_some(req.until);
            let warn_at = deadline.map(|d| ctx.calendar.partial_between(now, d, ctx.policy.warn_percent));
            (from, Change::ExtensionDecided { approve, note, deadline, warn_at })
        }
        Command::Reply { content, solved } => {
            require(&[InProgress], "only an order in progress can be replied to; sign for it first")?;
            let callback_deadline = Some(ctx.calendar.deadline(now, ctx.policy.callback_limit));
            (Replied, Change::Replied { content: content.trim().into(), solved, callback_deadline })
        }
        Command::Callback { satisfaction, solved, note } => {
            require(&[Replied], "only a replied order can be called back")?;
            // Only what the resident said is recorded: nothing when they were not reached,
            // and never a default in place of an answer.
            let solved =
                match satisfaction {
                    Satisfaction::Unreachable => None,
                    _ => Some(solved.ok_or_else(|| {
                        DomainError::invalid("solved", "say whether the resident's problem was solved")
                    })?),
                };
            if satisfaction == Satisfaction::Unsatisfied {
                let limit = ctx.handling_limit(order);
                let reopen_deadline = Some(ctx.calendar.deadline(now, limit));
                let reopen_warn_at = Some(ctx.calendar.partial_deadline(now, limit, ctx.policy.warn_percent));
                (InProgress, Change::CalledBack { satisfaction, solved, note, reopen_deadline, reopen_warn_at })
            } else {
                (Closed, Change::CalledBack { satisfaction, solved, note, reopen_deadline: None, reopen_warn_at: None })
            }
        }
        Command::Reopen { reason } => {
            require(&[Closed], "only a closed order can be reopened")?;
            (PendingDispatch, Change::Reopened { reason: reason.trim().into() })
        }
        Command::Merge { into, .. } => {
            open()?;
            (Merged, Change::Merged { into })
        }
        Command::Cancel { reason } => {
            open()?;
            (Cancelled, Change::Cancelled { reason: reason.trim().into() })
        }
        Command::Urge { note, level } => {
            open()?;
            (from, Change::Urged { note: note.trim().into(), level, warning: None })
        }
        Command::SystemUrge { level } => {
            if !actor.has(Role::System) {
                return Err(forbidden(action, "automatic warnings come from the system only"));
            }
            require(&[Dispatched, InProgress], "only orders being handled are supervised")?;
            let due = order.warning_due(now, ctx.policy.warn_percent);
            if due.is_none_or(|d| d < level) {
                return Err(illegal(action, from, &format!("the order has not reached its {level} threshold")));
            }
            if order.warned_level().is_some_and(|w| w >= level) {
                return Err(illegal(action, from, &format!("the {level} warning for this deadline was already given")));
            }
            let note = match level {
                WarnLevel::Yellow => "【黄牌预警】办理时限已过大半，请抓紧办理。",
                WarnLevel::Red => "【红牌督办】已超过办理时限，请立即办理并反馈。",
            };
            let n = if level == WarnLevel::Red { 2 } else { 1 };
            (from, Change::Urged { note: note.into(), level: n, warning: Some(level) })
        }
        Command::QaSample => {
            require(&[Closed], "only closed orders are sampled for QA")?;
            if order.qa.is_some() {
                return Err(illegal(action, from, "the order was already sampled for QA"));
            }
            (from, Change::QaSampled)
        }
        Command::QaPass { note } => {
            require(&[Closed], "only closed orders pass QA")?;
            if order.qa.as_ref().is_none_or(|q| q.result != QaResult::Pending) {
                return Err(illegal(action, from, "the order is not awaiting a QA decision"));
            }
            (from, Change::QaPassed { note })
        }
        Command::QaFail { reason } => {
            require(&[Closed], "only closed orders fail QA")?;
            if order.qa.as_ref().is_none_or(|q| q.result != QaResult::Pending) {
                return Err(illegal(action, from, "the order is not awaiting a QA decision"));
            }
            (PendingDispatch, Change::QaFailed { reason: reason.trim().into() })
        }
        Command::Note { text } => {
            open()?;
            (from, Change::Noted { text: text.trim().into() })
        }
        Command::Correct { category, request_type, urgency, location, note } => {
            require(&[InReview, PendingDispatch], "an order is corrected in review or before dispatch")?;
            let (before, after) = correction(ctx.directory, order, category, request_type, urgency, location)?;
            let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
            (from, Change::Corrected { before, after, note })
        }
        Command::AddContact { content, channel, caller } => {
            open()?;
            let caller = caller.map(|mut c| {
                c.phone = c.phone.map(|p| p.normalized());
                c.name = c.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
                c
            });
            // The order's own caller calling again is recorded as that, not as a second copy.
            let caller = caller.filter(|c| c.phone.is_some() && c.phone != order.intake.caller.phone);
            (from, Change::ContactAdded { content: content.trim().into(), channel, caller })
        }
    };
    Ok(Event {
        order: order.number.clone(),
        seq: order.version + 1,
        at: now,
        actor: actor.username.clone(),
        unit: actor.unit.clone(),
        from_status: Some(from),
        to_status: to,
        change,
    })
}

/// The facts of a correction that differ from the order's, as they were and as they will be;
/// refused when nothing differs.
fn correction(
    dir: &Directory,
    order: &Order,
    category: Option<CategoryCode>,
    request_type: Option<RequestType>,
    urgency: Option<Urgency>,
    location: Option<Location>,
) -> Result<(Correction, Correction), DomainError> {
    let i = &order.intake;
    let given = [
        category.as_ref().map(|_| "category"),
        request_type.map(|_| "request_type"),
        urgency.map(|_| "urgency"),
        location.as_ref().map(|_| "location"),
    ];
    let mut before = Correction::default();
    let mut after = Correction::default();
    if let Some(c) = category.filter(|c| *c != i.category) {
        before.category = Some(i.category.clone());
        after.category = Some(c);
    }
    if let Some(r) = request_type.filter(|r| *r != i.request_type) {
        before.request_type = Some(i.request_type);
        after.request_type = Some(r);
    }
    if let Some(u) = urgency.filter(|u| *u != i.urgency) {
        before.urgency = Some(i.urgency);
        after.urgency = Some(u);
    }
    if let Some(mut loc) = location {
        let mut errs = FieldErrors::new();
        resolve_place(dir, &mut loc, true, &mut errs);
        errs.finish()?;
        loc.address = loc.address.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
        if loc != i.location {
            before.location = Some(i.location.clone());
            after.location = Some(loc);
        }
    }
    if after.is_empty() {
        let field = given.into_iter().flatten().next().unwrap_or("category");
        return Err(DomainError::invalid(field, "is already the order's own: nothing to correct"));
    }
    Ok((before, after))
}

/// The statuses an action may lead to; replay checks events against this.
fn may_lead_to(action: Action, to: Status) -> bool {
    use Status::*;
    match action {
        Action::Register | Action::SendBack => to == Registered,
        Action::Import => matches!(to, Closed | InProgress | PendingDispatch),
        Action::Submit => to == InReview,
        Action::Approve | Action::Return | Action::Reopen | Action::QaFail => to == PendingDispatch,
        Action::QaSample | Action::QaPass => to == Closed,
        Action::Close => to == Closed,
        Action::Dispatch | Action::Subdispatch => to == Dispatched,
        Action::Sign => to == InProgress,
        Action::Reply => to == Replied,
        Action::Callback => matches!(to, Closed | InProgress),
        Action::Merge => to == Merged,
        Action::Cancel => to == Cancelled,
        Action::RequestExtension
        | Action::DecideExtension
        | Action::Urge
        | Action::Note
        | Action::Correct
        | Action::AddContact => true,
    }
}

/// Folds one event into the order's state. `None` is the state before registration.
pub fn apply(state: Option<Order>, ev: &Event) -> Result<Order, ReplayError> {
    let seq = ev.seq;
    let mut o = match (state, &ev.change) {
        (None, Change::Registered { intake, repeat_contact }) => {
            if seq != 1 {
                return Err(ReplayError::Sequence { seq, expected: 1 });
            }
            if ev.to_status != Status::Registered || ev.from_status.is_some() {
                return Err(ReplayError::ToStatus { seq, action: Action::Register, to: ev.to_status });
            }
            let mut o = new_order(ev, intake);
            o.repeat_contact = *repeat_contact;
            return Ok(o);
        }
        (
            None,
            Change::Imported {
                intake,
                source_ref,
                lead_unit,
                deadline,
                warn_at,
                reply,
                replied_at,
                closed_at,
                satisfaction,
            },
        ) => {
            if seq != 1 {
                return Err(ReplayError::Sequence { seq, expected: 1 });
            }
            let expected = match (closed_at, lead_unit) {
                (Some(_), _) => Status::Closed,
                (None, Some(_)) => Status::InProgress,
                (None, None) => Status::PendingDispatch,
            };
            if ev.to_status != expected || ev.from_status.is_some() {
                return Err(ReplayError::ToStatus { seq, action: Action::Import, to: ev.to_status });
            }
            let mut o = new_order(ev, intake);
            o.status = expected;
            o.source_ref = Some(source_ref.clone());
            o.lead_unit = lead_unit.clone();
            o.deadline = *deadline;
            o.warn_at = *warn_at;
            o.dispatched_at = lead_unit.as_ref().map(|_| ev.at);
            o.closed_at = *closed_at;
            match (lead_unit, closed_at) {
                // Closed with no unit: the old system answered it at first contact.
                (None, Some(_)) => {
                    o.first_contact = Some(FirstContactClose {
                        kind: CloseKind::Answered,
                        resolution: reply.clone().unwrap_or_default(),
                        cite: None,
                    })
                }
                // A reply counts only for a closed order; an open one still owes its reply here.
                (Some(unit), Some(closed)) => {
                    if reply.is_some() || replied_at.is_some() {
                        o.reply = Some(Reply {
                            content: reply.clone().unwrap_or_default(),
                            solved: None,
                            unit: Some(unit.clone()),
                            at: replied_at.unwrap_or(*closed),
                        });
                    }
                    if let Some(s) = satisfaction {
                        o.callback = Some(CallbackResult { satisfaction: *s, solved: None, note: None, at: *closed });
                    }
                }
                _ => {}
            }
            o.updated_at = [Some(ev.at), *replied_at, *closed_at].into_iter().flatten().max().unwrap_or(ev.at);
            return Ok(o);
        }
        (None, _) => return Err(ReplayError::NotRegistered { seq }),
        (Some(_), Change::Registered { .. } | Change::Imported { .. }) => {
            return Err(ReplayError::RegisteredTwice { seq });
        }
        (Some(o), _) => o,
    };
    if seq != o.version + 1 {
        return Err(ReplayError::Sequence { seq, expected: o.version + 1 });
    }
    if ev.from_status != Some(o.status) {
        return Err(ReplayError::FromStatus {
            seq,
            claimed: ev.from_status.map(|s| s.to_string()).unwrap_or_default(),
            actual: o.status.to_string(),
        });
    }
    let unchanged = matches!(
        ev.change,
        Change::ExtensionRequested { .. }
            | Change::ExtensionDecided { .. }
            | Change::Urged { .. }
            | Change::Noted { .. }
            | Change::Corrected { .. }
            | Change::ContactAdded { .. }
            | Change::QaSampled
            | Change::QaPassed { .. }
    );
    let consistent = match &ev.change {
        Change::CalledBack { reopen_deadline, .. } => {
            (reopen_deadline.is_some()) == (ev.to_status == Status::InProgress)
        }
        _ => true,
    };
    if !may_lead_to(ev.action(), ev.to_status) || (unchanged && ev.to_status != o.status) || !consistent {
        return Err(ReplayError::ToStatus { seq, action: ev.action(), to: ev.to_status });
    }
    if matches!(ev.change, Change::ExtensionDecided { .. }) && o.pending_extension.is_none() {
        return Err(ReplayError::NothingPending { seq });
    }
    let qa_pending = o.qa.as_ref().is_some_and(|q| q.result == QaResult::Pending);
    let qa_ok = match ev.change {
        Change::QaSampled => o.qa.is_none(),
        Change::QaPassed { .. } | Change::QaFailed { .. } => qa_pending,
        _ => true,
    };
    if !qa_ok {
        return Err(ReplayError::NothingPending { seq });
    }
    match &ev.change {
        Change::Registered { .. }
        | Change::Imported { .. }
        | Change::Submitted
        | Change::Approved
        | Change::SentBack { .. } => {}
        Change::Noted { .. } => {}
        Change::Corrected { after, .. } => {
            let i = &mut o.intake;
            if let Some(c) = &after.category {
                i.category = c.clone();
            }
            if let Some(r) = after.request_type {
                i.request_type = r;
            }
            if let Some(u) = after.urgency {
                i.urgency = u;
            }
            if let Some(l) = &after.location {
                i.location = l.clone();
            }
        }
        Change::ContactAdded { .. } => o.added_contacts.push(ev.at),
        Change::ClosedAtIntake { kind, resolution, cite } => {
            o.first_contact =
                Some(FirstContactClose { kind: *kind, resolution: resolution.clone(), cite: cite.clone() });
            o.closed_at = Some(ev.at);
        }
        Change::Dispatched { lead_unit, assisting_units, deadline, sign_deadline, warn_at, .. } => {
            o.warn_at = *warn_at;
            o.lead_unit = Some(lead_unit.clone());
            o.assisting_units = assisting_units.clone();
            o.deadline = Some(*deadline);
            o.sign_deadline = Some(*sign_deadline);
            o.dispatched_at = Some(ev.at);
            o.signed_at = None;
            o.pending_extension = None;
        }
        Change::Signed => o.signed_at = Some(ev.at),
        Change::Returned { reason } => {
            o.returned.push(ReturnNote {
                unit: o.lead_unit.clone().or_else(|| ev.unit.clone()),
                by: ev.actor.clone(),
                reason: reason.clone(),
                at: ev.at,
            });
            o.returns += 1;
            o.lead_unit = None;
            o.assisting_units.clear();
            o.deadline = None;
            o.warn_at = None;
            o.sign_deadline = None;
            o.signed_at = None;
            o.pending_extension = None;
        }
        Change::Subdispatched { unit, sign_deadline, .. } => {
            o.lead_unit = Some(unit.clone());
            o.assisting_units.retain(|a| a != unit);
            o.sign_deadline = Some(*sign_deadline);
            o.signed_at = None;
            // The new lead unit asks for its own time if it needs it.
            o.pending_extension = None;
        }
        Change::ExtensionRequested { until, reason, decide_by } => {
            o.pending_extension = Some(ExtensionRequest {
                until: *until,
                reason: reason.clone(),
                requested_by: ev.actor.clone(),
                requested_at: ev.at,
                decide_by: *decide_by,
            });
        }
        Change::ExtensionDecided { approve, deadline, warn_at, .. } => {
            o.pending_extension = None;
            if *approve {
                o.extensions_granted += 1;
                if deadline.is_some() {
                    o.deadline = *deadline;
                    o.warn_at = *warn_at;
                }
            }
        }
        Change::Replied { content, solved, callback_deadline } => {
            o.reply = Some(Reply { content: content.clone(), solved: Some(*solved), unit: ev.unit.clone(), at: ev.at });
            o.pending_extension = None;
            o.callback_deadline = *callback_deadline;
        }
        Change::CalledBack { satisfaction, solved, note, reopen_deadline, reopen_warn_at } => {
            o.callback =
                Some(CallbackResult { satisfaction: *satisfaction, solved: *solved, note: note.clone(), at: ev.at });
            o.callback_deadline = None;
            if let Some(d) = reopen_deadline {
                o.reopens += 1;
                o.reply = None;
                o.deadline = Some(*d);
                o.warn_at = *reopen_warn_at;
            } else {
                o.closed_at = Some(ev.at);
            }
        }
        Change::Reopened { .. } | Change::QaFailed { .. } => {
            if let Change::QaFailed { reason } = &ev.change
                && let Some(qa) = o.qa.as_mut()
            {
                qa.result = QaResult::Failed;
                qa.decided_by = Some(ev.actor.clone());
                qa.decided_at = Some(ev.at);
                qa.note = Some(reason.clone());
            }
            o.callback_deadline = None;
            o.reopens += 1;
            o.lead_unit = None;
            o.assisting_units.clear();
            o.deadline = None;
            o.warn_at = None;
            o.sign_deadline = None;
            o.signed_at = None;
            o.reply = None;
            o.closed_at = None;
            o.first_contact = None;
        }
        Change::Merged { into } => {
            o.merged_into = Some(into.clone());
            o.closed_at = Some(ev.at);
            o.pending_extension = None;
            o.callback_deadline = None;
        }
        Change::Cancelled { .. } => {
            o.closed_at = Some(ev.at);
            o.pending_extension = None;
            o.callback_deadline = None;
        }
        Change::Urged { warning, .. } => {
            o.urges += 1;
            if let (Some(level), Some(deadline)) = (warning, o.deadline) {
                o.warned = Some(Warning { deadline, level: *level });
            }
        }
        Change::QaSampled => {
            o.qa = Some(Qa {
                sampled_at: ev.at,
                result: QaResult::Pending,
                decided_by: None,
                decided_at: None,
                note: None,
            });
        }
        Change::QaPassed { note } => {
            if let Some(qa) = o.qa.as_mut() {
                qa.result = QaResult::Passed;
                qa.decided_by = Some(ev.actor.clone());
                qa.decided_at = Some(ev.at);
                qa.note = note.clone();
            }
        }
    }
    o.status = ev.to_status;
    o.version = seq;
    o.updated_at = ev.at;
    Ok(o)
}

/// The state an order's first event starts from.
fn new_order(ev: &Event, intake: &Intake) -> Order {
    Order {
        number: ev.order.clone(),
        status: Status::Registered,
        intake: intake.clone(),
        lead_unit: None,
        assisting_units: Vec::new(),
        deadline: None,
        sign_deadline: None,
        callback_deadline: None,
        warn_at: None,
        warned: None,
        qa: None,
        repeat_contact: false,
        added_contacts: Vec::new(),
        dispatched_at: None,
        signed_at: None,
        pending_extension: None,
        extensions_granted: 0,
        returns: 0,
        returned: Vec::new(),
        reopens: 0,
        urges: 0,
        reply: None,
        callback: None,
        first_contact: None,
        merged_into: None,
        closed_at: None,
        source_ref: None,
        created_by: ev.actor.clone(),
        created_at: ev.at,
        updated_at: ev.at,
        version: 1,
    }
}

/// Rebuilds an order from its whole event log.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Option<Order>, ReplayError> {
    let mut state = None;
    for ev in events {
        state = Some(apply(state, ev)?);
    }
    Ok(state)
}
