//! Integration tests of the work-order lifecycle: a property test that random command
//! sequences keep every order explained by its event log and within the action table, and
//! example tests for every row of the table, its refusals, deadlines and scope.
#![allow(clippy::unwrap_used)]

use lianxin_domain::Millis;
use lianxin_domain::calendar::Calendar;
use lianxin_domain::command::{Actor, Command, MergeTarget};
use lianxin_domain::event::Change;
use lianxin_domain::lifecycle::{self, ReplayError};
use lianxin_domain::model::*;
use lianxin_domain::scope::{self, CallerView, Scope};
use std::collections::BTreeSet;

use fixture::*;

// ---------------------------------------------------------------------------------------
// Shared fixture: reference data, actors, intakes and a driver that checks every step.
// ---------------------------------------------------------------------------------------

mod common;
use common as fixture;

// ---------------------------------------------------------------------------------------
// The action table, as the property test checks it.
// ---------------------------------------------------------------------------------------

mod table {
    use lianxin_domain::command::{Actor, Command};
    use lianxin_domain::model::*;
    use lianxin_domain::order::Order;

    pub enum Who {
        Roles(&'static [Role]),
        LeadHandler,
        Anyone,
    }

    pub struct Row {
        pub who: Who,
        pub from: &'static [Status],
        /// `None`: the action leaves the status as it was.
        pub to: Option<&'static [Status]>,
        /// Fields an `Invalid` refusal of this action may name.
        pub fields: &'static [&'static str],
    }

    use Status::*;
    pub const OPEN: &[Status] = &[Registered, InReview, PendingDispatch, Dispatched, InProgress, Replied];
    const HANDLED: &[Status] = &[Dispatched, InProgress];

    pub fn row(action: Action) -> Row {
        fn r(who: Who, from: &'static [Status], to: Option<&'static [Status]>, fields: &'static [&'static str]) -> Row {
            Row { who, from, to, fields }
        }
        let roles = Who::Roles;
        match action {
            Action::Register => r(roles(&[Role::Operator]), &[], Some(&[Registered]), &[]),
            // Past orders come in through `lifecycle::import`, never through `decide`.
            Action::Import => r(roles(&[]), &[], Some(&[Closed, InProgress, PendingDispatch]), &[]),
            Action::Submit => r(roles(&[Role::Operator]), &[Registered], Some(&[InReview]), &[]),
            Action::Approve => r(roles(&[Role::Reviewer]), &[InReview], Some(&[PendingDispatch]), &[]),
            Action::SendBack => r(roles(&[Role::Reviewer]), &[InReview], Some(&[Registered]), &["reason"]),
            Action::Close => r(roles(&[Role::Operator]), &[Registered], Some(&[Closed]), &["resolution"]),
            Action::Dispatch => r(
                roles(&[Role::Dispatcher]),
                &[PendingDispatch],
                Some(&[Dispatched]),
                &["assisting_units", "lead_unit"],
            ),
            Action::Sign => r(Who::LeadHandler, &[Dispatched], Some(&[InProgress]), &[]),
            Action::Return => r(Who::LeadHandler, HANDLED, Some(&[PendingDispatch]), &["reason"]),
            Action::Subdispatch => r(Who::LeadHandler, HANDLED, Some(&[Dispatched]), &["unit"]),
            Action::RequestExtension => r(Who::LeadHandler, HANDLED, None, &["reason", "until"]),
            Action::DecideExtension => r(roles(&[Role::Dispatcher, Role::Supervisor]), HANDLED, None, &["approve"]),
            Action::Reply => r(Who::LeadHandler, &[InProgress], Some(&[Replied]), &["content"]),
            Action::Callback => r(roles(&[Role::Callback]), &[Replied], Some(&[Closed, InProgress]), &["note"]),
            Action::Reopen => r(roles(&[Role::Supervisor]), &[Closed], Some(&[PendingDispatch]), &["reason"]),
            Action::Merge => r(roles(&[Role::Operator, Role::Dispatcher]), OPEN, Some(&[Merged]), &["into"]),
            Action::Cancel => r(roles(&[Role::Reviewer, Role::Dispatcher]), OPEN, Some(&[Cancelled]), &["reason"]),
            Action::Urge => r(roles(&[Role::Supervisor, Role::System]), OPEN, None, &["level", "note"]),
            Action::Note => r(Who::Anyone, OPEN, None, &["text"]),
            Action::Correct => r(
                roles(&[Role::Reviewer, Role::Dispatcher]),
                &[InReview, PendingDispatch],
                None,
                &["category", "location", "location.street", "note", "request_type", "urgency"],
            ),
            Action::AddContact => r(roles(&[Role::Operator]), OPEN, None, &["content"]),
            Action::QaSample => r(roles(&[Role::Supervisor, Role::System]), &[Closed], None, &[]),
            Action::QaPass => r(roles(&[Role::Supervisor]), &[Closed], None, &["note"]),
            Action::QaFail => r(roles(&[Role::Supervisor]), &[Closed], Some(&[PendingDispatch]), &["reason"]),
        }
    }

    /// The row a command is checked against. The sweeper's `SystemUrge` shares the `urge`
    /// action (and so its replay rule) but is the system's alone, and only for orders being
    /// handled.
    pub fn row_for(cmd: &Command) -> Row {
        match cmd {
            Command::SystemUrge { .. } => {
                Row { who: Who::Roles(&[Role::System]), from: HANDLED, to: None, fields: &[] }
            }
            _ => row(cmd.action()),
        }
    }

    /// The warning an order has earned at `now`, computed from its fields rather than by
    /// `Order::warning_due`: red at or after the deadline, yellow at or after `warn_at`.
    pub fn earned(order: &Order, now: lianxin_domain::Millis) -> Option<WarnLevel> {
        if !HANDLED.contains(&order.status) {
            return None;
        }
        let deadline = order.deadline?;
        if now >= deadline {
            Some(WarnLevel::Red)
        } else if now >= order.warn_at? {
            Some(WarnLevel::Yellow)
        } else {
            None
        }
    }

    /// The warning already given for the order's current deadline.
    pub fn given(order: &Order) -> Option<WarnLevel> {
        match (order.warned, order.deadline) {
            (Some(w), Some(d)) if w.deadline == d => Some(w.level),
            _ => None,
        }
    }

    /// Whether a rule about the order's state beyond its status refuses the command (409).
    pub fn refused_by_side_rule(cmd: &Command, order: &Order, now: lianxin_domain::Millis) -> bool {
        let qa_pending = order.qa.as_ref().is_some_and(|q| q.result == QaResult::Pending);
        match cmd {
            Command::RequestExtension { .. } => order.pending_extension.is_some(),
            Command::DecideExtension { .. } => order.pending_extension.is_none(),
            Command::SystemUrge { level } => earned(order, now) < Some(*level) || given(order) >= Some(*level),
            Command::QaSample => order.qa.is_some(),
            Command::QaPass { .. } | Command::QaFail { .. } => !qa_pending,
            _ => false,
        }
    }

    /// Whether the table lets `actor` perform the action on `order` at all.
    pub fn permits(who: &Who, actor: &Actor, order: &Order) -> bool {
        match who {
            Who::Roles(roles) => actor.has_any(roles),
            Who::LeadHandler => {
                actor.has_any(&[Role::Handler, Role::UnitAdmin])
                    && actor.unit.is_some()
                    && actor.unit == order.lead_unit
            }
            Who::Anyone => true,
        }
    }

    /// Whether an action taken from `from` may leave the order in `to`.
    pub fn leads_to(action: Action, from: Status, to: Status) -> bool {
        match row(action).to {
            Some(tos) => tos.contains(&to),
            None => to == from,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Property: random command sequences.
// ---------------------------------------------------------------------------------------

mod walk {
    use super::fixture::*;
    use super::table;
    use lianxin_domain::Millis;
    use lianxin_domain::command::{Actor, Command, MergeTarget};
    use lianxin_domain::error::DomainError;
    use lianxin_domain::lifecycle;
    use lianxin_domain::model::*;
    use lianxin_domain::order::{Intake, Order};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
    use std::collections::{BTreeMap, BTreeSet};

    /// Who issues a command: anyone from the cast, or the actor the table expects.
    #[derive(Debug, Clone)]
    pub enum Who {
        Any(usize),
        Fitting,
    }

    #[derive(Debug, Clone)]
    pub enum UnitPick {
        Listed(usize),
        /// A unit that does not exist.
        Unknown,
        Lead,
        ChildOfLead,
    }

    /// An extension's `until`, relative to the step's `now` and the order's deadline.
    #[derive(Debug, Clone)]
    pub enum When {
        Past,
        Now,
        AtDeadline,
        AfterDeadline(i64),
        TooFar,
    }

    #[derive(Debug, Clone)]
    pub enum MergeInto {
        Itself,
        Missing,
        Other(usize),
    }

    #[derive(Debug, Clone)]
    pub enum Op {
        /// The next step of the happy path for the order's status, by the fitting actor.
        Progress(u8),
        Submit,
        Approve,
        SendBack(String),
        Close(usize, String),
        Dispatch(UnitPick, Vec<UnitPick>, bool),
        Sign,
        Return(String),
        Subdispatch(UnitPick),
        RequestExtension(When, String),
        DecideExtension(bool, Option<String>),
        Reply(String, bool),
        Callback(usize, bool, Option<String>),
        Reopen(String),
        Merge(MergeInto),
        Cancel(String),
        Urge(u8, String),
        Note(String),
        SystemUrge(WarnLevel),
        QaSample,
        QaPass(Option<String>),
        QaFail(String),
        /// A correction: a category (an index into the fixture's, or a group), an urgency
        /// (an index, or none), a street (an index, or none).
        Correct(usize, Option<usize>, Option<usize>),
        AddContact(String),
    }

    #[derive(Debug, Clone)]
    pub struct Step {
        pub who: Who,
        pub op: Op,
        pub clock: Clock,
    }

    /// How far the clock moves before a step.
    #[derive(Debug, Clone)]
    pub enum Clock {
        Minutes(i64),
        /// To the order's yellow point plus this many minutes (-1 or 0), if still ahead.
        Yellow(i64),
        /// To the order's deadline plus this many minutes (-1 or 0), if still ahead.
        Deadline(i64),
    }

    impl Clock {
        /// The step's `now`; never earlier than a minute after the previous one.
        pub fn advance(&self, now: Millis, order: &Order) -> Millis {
            let jump = |target: Option<Millis>, offset: i64| {
                target.map(|t| t + offset * MINUTE).filter(|t| *t > now).unwrap_or(now + MINUTE)
            };
            match self {
                Clock::Minutes(m) => now + m * MINUTE,
                Clock::Yellow(offset) => jump(order.warn_at, *offset),
                Clock::Deadline(offset) => jump(order.deadline, *offset),
            }
        }
    }

    pub const STARTS: usize = 4;

    /// The intake a walk starts from.
    pub fn start_intake(i: usize) -> Intake {
        match i % STARTS {
            0 => streetlight(),
            1 => intake("urban.noise", Urgency::Urgent, "440106002"),
            2 => intake("water.outage", Urgency::Emergency, "440104001"),
            _ => {
                let mut it = intake("urban.noise", Urgency::Normal, "440104001");
                it.caller.confidential = true;
                it
            }
        }
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            1 => Just(String::new()),
            1 => Just("   ".to_owned()),
            1 => Just("长".repeat(2001)),
            10 => "[a-z]{1,8}( [a-z]{1,8}){0,3}",
        ]
    }

    fn unit_pick() -> impl Strategy<Value = UnitPick> {
        prop_oneof![
            8 => (0..UNIT_CODES.len()).prop_map(UnitPick::Listed),
            1 => Just(UnitPick::Unknown),
            1 => Just(UnitPick::Lead),
            2 => Just(UnitPick::ChildOfLead),
        ]
    }

    fn when() -> impl Strategy<Value = When> {
        prop_oneof![
            1 => Just(When::Past),
            1 => Just(When::Now),
            1 => Just(When::AtDeadline),
            4 => (1i64..=24 * 30).prop_map(When::AfterDeadline),
            1 => Just(When::TooFar),
        ]
    }

    fn merge_into() -> impl Strategy<Value = MergeInto> {
        prop_oneof![
            1 => Just(MergeInto::Itself),
            1 => Just(MergeInto::Missing),
            3 => (0..Status::ALL.len()).prop_map(MergeInto::Other),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            14 => any::<u8>().prop_map(Op::Progress),
            2 => Just(Op::Submit),
            2 => Just(Op::Approve),
            2 => text().prop_map(Op::SendBack),
            1 => (0..CloseKind::ALL.len(), text()).prop_map(|(k, t)| Op::Close(k, t)),
            3 => (unit_pick(), vec(unit_pick(), 0..3), any::<bool>()).prop_map(|(l, a, n)| Op::Dispatch(l, a, n)),
            2 => Just(Op::Sign),
            2 => text().prop_map(Op::Return),
            3 => unit_pick().prop_map(Op::Subdispatch),
            3 => (when(), text()).prop_map(|(w, t)| Op::RequestExtension(w, t)),
            3 => (any::<bool>(), proptest::option::of(text())).prop_map(|(a, n)| Op::DecideExtension(a, n)),
            2 => (text(), any::<bool>()).prop_map(|(t, s)| Op::Reply(t, s)),
            2 => (0..Satisfaction::ALL.len(), any::<bool>(), proptest::option::of(text()))
                .prop_map(|(s, solved, n)| Op::Callback(s, solved, n)),
            2 => text().prop_map(Op::Reopen),
            1 => merge_into().prop_map(Op::Merge),
            1 => text().prop_map(Op::Cancel),
            2 => (0u8..=4, text()).prop_map(|(l, t)| Op::Urge(l, t)),
            2 => text().prop_map(Op::Note),
            3 => proptest::sample::select(WarnLevel::ALL).prop_map(Op::SystemUrge),
            1 => Just(Op::QaSample),
            1 => proptest::option::of(text()).prop_map(Op::QaPass),
            1 => text().prop_map(Op::QaFail),
            3 => (0usize..5, proptest::option::of(0..Urgency::ALL.len()), proptest::option::of(0usize..4))
                .prop_map(|(c, u, s)| Op::Correct(c, u, s)),
            2 => text().prop_map(Op::AddContact),
        ]
    }

    pub fn step() -> impl Strategy<Value = Step> {
        let who = prop_oneof![1 => (0..all_actors().len()).prop_map(Who::Any), 1 => Just(Who::Fitting)];
        let clock = prop_oneof![
            9 => (1i64..=120).prop_map(Clock::Minutes),
            3 => (121i64..=4 * 24 * 60).prop_map(Clock::Minutes),
            1 => (-1i64..=0).prop_map(Clock::Yellow),
            1 => (-1i64..=0).prop_map(Clock::Deadline),
        ];
        (who, op(), clock).prop_map(|(who, op, clock)| Step { who, op, clock })
    }

    fn lead_handler(order: &Order) -> Actor {
        handler(order.lead_unit.as_ref().map_or("d440106", |u| u.as_str()))
    }

    /// The actor the table expects for a command.
    fn fitting(cmd: &Command, order: &Order) -> Actor {
        match cmd {
            Command::Submit | Command::Close { .. } | Command::Merge { .. } => operator(),
            Command::Approve | Command::SendBack { .. } | Command::Cancel { .. } => reviewer(),
            Command::Dispatch { .. } => dispatcher(),
            Command::DecideExtension { approve, .. } => {
                if *approve {
                    supervisor()
                } else {
                    dispatcher()
                }
            }
            Command::Callback { .. } => callback_agent(),
            Command::Reopen { .. } | Command::Urge { .. } => supervisor(),
            Command::Note { .. } => leader(),
            Command::Correct { .. } => {
                if order.status == Status::InReview {
                    reviewer()
                } else {
                    dispatcher()
                }
            }
            Command::AddContact { .. } => operator(),
            Command::SystemUrge { .. } | Command::QaSample => system(),
            Command::QaPass { .. } | Command::QaFail { .. } => supervisor(),
            Command::Sign
            | Command::Return { .. }
            | Command::Subdispatch { .. }
            | Command::RequestExtension { .. }
            | Command::Reply { .. } => lead_handler(order),
        }
    }

    fn first_child(world: &World, order: &Order) -> Option<UnitCode> {
        let lead = order.lead_unit.as_ref()?;
        world.directory.children(lead).first().cloned()
    }

    fn pick_unit(world: &World, pick: &UnitPick, order: &Order) -> UnitCode {
        match pick {
            UnitPick::Listed(i) => unit(UNIT_CODES[*i % UNIT_CODES.len()]),
            UnitPick::Unknown => unit("nowhere"),
            UnitPick::Lead => order.lead_unit.clone().unwrap_or_else(|| unit("nowhere")),
            UnitPick::ChildOfLead => {
                first_child(world, order).or_else(|| order.lead_unit.clone()).unwrap_or_else(|| unit("nowhere"))
            }
        }
    }

    /// The happy path's next command for the order's status.
    fn progress(world: &World, order: &Order, seed: u8, now: Millis) -> (Actor, Command) {
        let s = usize::from(seed);
        match order.status {
            Status::Registered if s % 8 == 0 => (
                operator(),
                Command::Close {
                    kind: CloseKind::ALL[s / 8 % CloseKind::ALL.len()],
                    resolution: "已答复".into(),
                    cite: None,
                },
            ),
            Status::Registered => (operator(), Command::Submit),
            Status::InReview if s % 6 == 0 => (reviewer(), Command::SendBack { reason: "信息不全".into() }),
            Status::InReview => (reviewer(), Command::Approve),
            Status::PendingDispatch => {
                let n = HANDLING_UNITS.len();
                let lead = s % n;
                let assisting =
                    if s % 3 == 0 { vec![HANDLING_UNITS[(lead + 1 + s / n % (n - 1)) % n]] } else { vec![] };
                (dispatcher(), dispatch_to(HANDLING_UNITS[lead], &assisting))
            }
            Status::Dispatched | Status::InProgress => {
                let h = lead_handler(order);
                let due = order.warning_due(now, world.policy.warn_percent);
                if let Some(level) = due.filter(|d| s % 3 == 0 && order.warned_level() < Some(*d)) {
                    (system(), Command::SystemUrge { level })
                } else if order.pending_extension.is_some() && s % 2 == 0 {
                    let decider = if s % 4 == 0 { supervisor() } else { dispatcher() };
                    (decider, Command::DecideExtension { approve: s % 3 != 0, note: None })
                } else if let Some(child) = first_child(world, order).filter(|_| s % 5 == 0) {
                    (h, Command::Subdispatch { unit: child, note: Some("转街道办理".into()) })
                } else if s % 7 == 1 {
                    let until = order.deadline.unwrap_or(now).max(now) + 2 * DAY;
                    (h, Command::RequestExtension { until, reason: "需协调施工".into() })
                } else if order.status == Status::Dispatched {
                    (h, Command::Sign)
                } else {
                    (h, Command::Reply { content: "已处理".into(), solved: s % 2 == 0 })
                }
            }
            Status::Replied => (
                callback_agent(),
                Command::Callback {
                    satisfaction: Satisfaction::ALL[s % Satisfaction::ALL.len()],
                    solved: Some(s % 2 == 0),
                    note: None,
                },
            ),
            Status::Closed => match order.qa.as_ref().map(|q| q.result) {
                None if s % 3 == 0 => (if s % 2 == 0 { system() } else { supervisor() }, Command::QaSample),
                Some(QaResult::Pending) if s % 4 != 3 => {
                    if s % 2 == 0 {
                        (supervisor(), Command::QaPass { note: Some("抽检合格".into()) })
                    } else {
                        (supervisor(), Command::QaFail { reason: "答复不实".into() })
                    }
                }
                _ => (supervisor(), Command::Reopen { reason: "市民再次来电".into() }),
            },
            Status::Merged | Status::Cancelled => (leader(), Command::Note { text: "已归档".into() }),
        }
    }

    /// Turns an abstract step into an actor and a concrete command for the current order.
    pub fn materialize(world: &World, step: &Step, order: &Order, now: Millis) -> (Actor, Command) {
        let cmd = match &step.op {
            Op::Progress(seed) => {
                let (actor, cmd) = progress(world, order, *seed, now);
                return match step.who {
                    Who::Fitting => (actor, cmd),
                    Who::Any(i) => (all_actors()[i].clone(), cmd),
                };
            }
            Op::Submit => Command::Submit,
            Op::Approve => Command::Approve,
            Op::SendBack(t) => Command::SendBack { reason: t.clone() },
            Op::Close(k, t) => Command::Close { kind: CloseKind::ALL[*k], resolution: t.clone(), cite: None },
            Op::Dispatch(lead, assisting, note) => Command::Dispatch {
                lead_unit: pick_unit(world, lead, order),
                assisting_units: assisting.iter().map(|a| pick_unit(world, a, order)).collect(),
                note: note.then(|| "派单".to_owned()),
            },
            Op::Sign => Command::Sign,
            Op::Return(t) => Command::Return { reason: t.clone() },
            Op::Subdispatch(u) => Command::Subdispatch { unit: pick_unit(world, u, order), note: None },
            Op::RequestExtension(w, t) => {
                let deadline = order.deadline.unwrap_or(now);
                let until = match w {
                    When::Past => now - MINUTE,
                    When::Now => now,
                    When::AtDeadline => deadline,
                    When::AfterDeadline(h) => deadline.max(now) + h * HOUR,
                    When::TooFar => now + 91 * DAY,
                };
                Command::RequestExtension { until, reason: t.clone() }
            }
            Op::DecideExtension(approve, note) => Command::DecideExtension { approve: *approve, note: note.clone() },
            Op::Reply(t, solved) => Command::Reply { content: t.clone(), solved: *solved },
            Op::Callback(s, solved, note) => {
                Command::Callback { satisfaction: Satisfaction::ALL[*s], solved: Some(*solved), note: note.clone() }
            }
            Op::Reopen(t) => Command::Reopen { reason: t.clone() },
            Op::Merge(into) => match into {
                MergeInto::Itself => Command::Merge {
                    into: order.number.clone(),
                    target: Some(MergeTarget { number: order.number.clone(), status: order.status }),
                },
                MergeInto::Missing => Command::Merge { into: number(99), target: None },
                MergeInto::Other(i) => Command::Merge {
                    into: number(2),
                    target: Some(MergeTarget { number: number(2), status: Status::ALL[*i] }),
                },
            },
            Op::Cancel(t) => Command::Cancel { reason: t.clone() },
            Op::Urge(level, t) => Command::Urge { note: t.clone(), level: *level },
            Op::Note(t) => Command::Note { text: t.clone() },
            Op::SystemUrge(level) => Command::SystemUrge { level: *level },
            Op::QaSample => Command::QaSample,
            Op::QaPass(note) => Command::QaPass { note: note.clone() },
            Op::QaFail(t) => Command::QaFail { reason: t.clone() },
            Op::Correct(c, u, st) => {
                // The last pick is a group, which a correction refuses.
                let cats = ["urban.streetlight", "urban.noise", "water.outage", "urban.streetlight", "urban"];
                let streets = ["440106001", "440106002", "440104001", "4401"];
                Command::Correct {
                    category: Some(category(cats[*c % cats.len()])),
                    request_type: None,
                    urgency: u.map(|i| Urgency::ALL[i % Urgency::ALL.len()]),
                    location: st.map(|i| lianxin_domain::order::Location {
                        street: Some(place(streets[i % streets.len()])),
                        ..Default::default()
                    }),
                    note: None,
                }
            }
            Op::AddContact(t) => {
                Command::AddContact { content: t.clone(), channel: Some(Channel::Phone), caller: None }
            }
        };
        let actor = match step.who {
            Who::Any(i) => all_actors()[i].clone(),
            Who::Fitting => fitting(&cmd, order),
        };
        (actor, cmd)
    }

    /// What the walks reached, so a test can check that they reach far enough.
    #[derive(Debug, Default)]
    pub struct Stats {
        pub accepted: BTreeSet<Action>,
        pub refusals: BTreeMap<&'static str, usize>,
        pub statuses: BTreeSet<Status>,
        /// Supervision warnings the sweeper gave.
        pub warnings: BTreeSet<WarnLevel>,
    }

    /// Facts that hold in every reachable state, whatever the path.
    fn check_invariants(o: &Order) -> Result<(), TestCaseError> {
        use Status::*;
        let handled = matches!(o.status, Dispatched | InProgress | Replied);
        prop_assert_eq!(
            o.lead_unit.is_some() && o.deadline.is_some() && o.sign_deadline.is_some(),
            handled || (o.lead_unit.is_some() && !o.status.is_open()),
            "lead unit and deadlines exist exactly while handled (or kept after closing): {:?}",
            o
        );
        if matches!(o.status, Registered | InReview | PendingDispatch) {
            prop_assert!(o.lead_unit.is_none() && o.assisting_units.is_empty() && o.deadline.is_none(), "{:?}", o);
        }
        if let Some(lead) = &o.lead_unit {
            prop_assert!(!o.assisting_units.contains(lead), "lead unit also assisting: {:?}", o);
        }
        prop_assert_eq!(o.closed_at.is_some(), !o.status.is_open(), "closed_at iff not open: {:?}", o);
        prop_assert!(o.signed_at.is_some() || o.status != InProgress, "in progress means signed: {:?}", o);
        if o.status == Dispatched {
            prop_assert!(o.signed_at.is_none(), "dispatched but signed: {:?}", o);
        }
        if o.status == Replied {
            prop_assert!(o.reply.is_some(), "replied without a reply: {:?}", o);
        }
        if o.status.is_open() && o.status != Replied {
            prop_assert!(o.reply.is_none(), "open order keeps a stale reply: {:?}", o);
        }
        if o.first_contact.is_some() {
            prop_assert_eq!(o.status, Closed);
        }
        prop_assert_eq!(o.merged_into.is_some(), o.status == Merged);
        if o.pending_extension.is_some() {
            prop_assert!(matches!(o.status, Dispatched | InProgress | Merged | Cancelled), "{:?}", o);
        }
        // Every deadline comes with its yellow point, no later than the deadline.
        prop_assert_eq!(o.warn_at.is_some(), o.deadline.is_some(), "warn_at iff deadline: {:?}", o);
        if let (Some(w), Some(d)) = (o.warn_at, o.deadline) {
            prop_assert!(w <= d, "yellow point after the deadline: {:?}", o);
        }
        // A replied order awaits its callback by a deadline; only a replied order does (a
        // merged or cancelled one keeps the deadline it had when it was replied).
        if o.status == Replied {
            prop_assert!(o.callback_deadline.is_some(), "replied without a callback deadline: {:?}", o);
        }
        if o.callback_deadline.is_some() {
            prop_assert!(matches!(o.status, Replied | Merged | Cancelled), "stale callback deadline: {:?}", o);
        }
        if o.warned.is_some() {
            prop_assert!(o.urges >= 1, "warned without an urge: {:?}", o);
        }
        if o.qa.as_ref().is_some_and(|q| q.result == QaResult::Failed) {
            prop_assert!(o.reopens >= 1, "failed QA without a reopening: {:?}", o);
        }
        if let Some(qa) = &o.qa {
            prop_assert_eq!(qa.decided_at.is_some(), qa.result != QaResult::Pending);
            prop_assert_eq!(qa.decided_by.is_some(), qa.result != QaResult::Pending);
        }
        Ok(())
    }

    /// What an accepted event carries and does beyond its status: deadlines of the new
    /// kind, supervision warnings, QA samples.
    fn check_payload(
        world: &World,
        cmd: &Command,
        before: &Order,
        ev: &lianxin_domain::Event,
        next: &Order,
        now: Millis,
        stats: &mut Stats,
    ) -> Result<(), TestCaseError> {
        use lianxin_domain::calendar::TimeLimit;
        use lianxin_domain::event::Change;
        use lianxin_domain::order::Warning;
        let cal = &world.calendar;
        match (&ev.change, cmd) {
            (Change::Dispatched { deadline, warn_at, .. }, _) => {
                let w = warn_at.ok_or_else(|| TestCaseError::fail("dispatch without warn_at"))?;
                prop_assert!(now <= w && w <= *deadline, "yellow point outside [now, deadline]");
                prop_assert_eq!(next.warn_at, Some(w));
            }
            (Change::ExtensionRequested { decide_by, .. }, _) => {
                prop_assert_eq!(*decide_by, Some(cal.deadline(now, TimeLimit::WorkingDays(1))));
                prop_assert_eq!(next.pending_extension.as_ref().and_then(|p| p.decide_by), *decide_by);
            }
            (Change::ExtensionDecided { approve, deadline, warn_at, .. }, _) => {
                if *approve {
                    let until = before.pending_extension.as_ref().map(|p| p.until);
                    prop_assert_eq!(*deadline, until);
                    prop_assert_eq!(*warn_at, deadline.map(|d| cal.partial_between(now, d, 75)));
                    prop_assert_eq!((next.deadline, next.warn_at), (*deadline, *warn_at));
                    prop_assert_eq!(table::given(next), None, "a new deadline starts a new warning round");
                } else {
                    prop_assert_eq!((*deadline, *warn_at), (None, None));
                    prop_assert_eq!((next.deadline, next.warn_at), (before.deadline, before.warn_at));
                }
            }
            (Change::Replied { callback_deadline, .. }, _) => {
                prop_assert_eq!(*callback_deadline, Some(cal.deadline(now, TimeLimit::WorkingDays(2))));
                prop_assert_eq!(next.callback_deadline, *callback_deadline);
            }
            (Change::CalledBack { reopen_deadline, reopen_warn_at, .. }, _) => {
                prop_assert_eq!(reopen_deadline.is_some(), reopen_warn_at.is_some());
                prop_assert_eq!(next.callback_deadline, None);
                if let (Some(d), Some(w)) = (reopen_deadline, reopen_warn_at) {
                    prop_assert!(now <= *w && w <= d);
                    prop_assert_eq!((next.deadline, next.warn_at), (Some(*d), Some(*w)));
                }
            }
            (Change::Urged { level, warning, .. }, Command::SystemUrge { level: asked }) => {
                prop_assert_eq!(*warning, Some(*asked));
                prop_assert_eq!(*level, if *asked == WarnLevel::Red { 2 } else { 1 });
                let deadline = before.deadline.ok_or_else(|| TestCaseError::fail("warned without deadline"))?;
                prop_assert_eq!(next.warned, Some(Warning { deadline, level: *asked }));
                prop_assert_eq!(next.warned_level(), Some(*asked));
                prop_assert_eq!(next.urges, before.urges + 1);
                stats.warnings.insert(*asked);
            }
            (Change::Urged { warning, .. }, _) => {
                prop_assert_eq!(*warning, None);
                prop_assert_eq!(next.warned, before.warned);
                prop_assert_eq!(next.urges, before.urges + 1);
            }
            (Change::QaSampled, _) => {
                let qa = next.qa.as_ref().ok_or_else(|| TestCaseError::fail("sampled without qa"))?;
                prop_assert_eq!((qa.sampled_at, qa.result), (now, QaResult::Pending));
            }
            (Change::QaPassed { .. }, _) => {
                let qa = next.qa.as_ref().ok_or_else(|| TestCaseError::fail("passed without qa"))?;
                prop_assert_eq!((qa.result, qa.decided_at), (QaResult::Passed, Some(now)));
                prop_assert_eq!(qa.decided_by.as_deref(), Some(ev.actor.as_str()));
            }
            (Change::QaFailed { .. }, _) => {
                let qa = next.qa.as_ref().ok_or_else(|| TestCaseError::fail("failed without qa"))?;
                prop_assert_eq!((qa.result, qa.decided_at), (QaResult::Failed, Some(now)));
                prop_assert_eq!(next.reopens, before.reopens + 1);
                prop_assert_eq!(
                    (&next.lead_unit, next.deadline, next.warn_at, next.callback_deadline),
                    (&None, None, None, None)
                );
            }
            (Change::Registered { repeat_contact, .. }, _) => prop_assert!(!repeat_contact),
            _ => {}
        }
        // Only the supervision sweeper records warnings, and only QA commands touch the sample.
        if !matches!(cmd, Command::SystemUrge { .. }) {
            prop_assert_eq!(next.warned, before.warned);
        }
        if !matches!(cmd, Command::QaSample | Command::QaPass { .. } | Command::QaFail { .. }) {
            prop_assert_eq!(&next.qa, &before.qa);
        }
        Ok(())
    }

    /// Runs one walk, checking every step against the table and the event log.
    pub fn run(world: &World, start: usize, steps: &[Step], stats: &mut Stats) -> Result<(), TestCaseError> {
        let ctx = world.ctx();
        let mut now = at(REGISTERED_AT);
        let first = lifecycle::register(&ctx, start_intake(start), number(1), &operator(), now)
            .map_err(|e| TestCaseError::fail(format!("registration refused: {e}")))?;
        let mut order = lifecycle::apply(None, &first).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut log = vec![first];
        stats.statuses.insert(order.status);

        for (i, step) in steps.iter().enumerate() {
            now = step.clock.advance(now, &order);
            let (actor, cmd) = materialize(world, step, &order, now);
            let action = cmd.action();
            let row = table::row_for(&cmd);
            let before = order.clone();
            let result = lifecycle::decide(&ctx, &order, &cmd, &actor, now);
            prop_assert_eq!(&order, &before, "decide is pure");
            let context =
                format!("step {i}: `{action}` by {} on a `{}` order → {result:?}", actor.username, before.status);

            // Role (403) exactly as the table says, before anything else.
            let permitted = table::permits(&row.who, &actor, &before);
            let forbidden = matches!(result, Err(DomainError::Forbidden { .. }));
            prop_assert_eq!(forbidden, !permitted, "{}", context);
            if let Err(DomainError::Forbidden { action: a, .. }) = &result {
                prop_assert_eq!(*a, action);
            }
            // State (409) exactly when the table's `from` states or a side rule (a pending
            // extension, a warning threshold, a QA sample) refuse it, once role and values pass.
            let state_ok = row.from.contains(&before.status);
            let side_rule = table::refused_by_side_rule(&cmd, &before, now);
            let illegal = matches!(result, Err(DomainError::IllegalTransition { .. }));
            if let Err(DomainError::IllegalTransition { action: a, status, .. }) = &result {
                prop_assert_eq!((*a, *status), (action, before.status), "{}", context);
            }
            if permitted && !matches!(result, Err(DomainError::Invalid { .. })) {
                prop_assert_eq!(illegal, !state_ok || side_rule, "state rule: {}", context);
            }
            // Values (422) name only this action's fields.
            if let Err(DomainError::Invalid { fields }) = &result {
                prop_assert!(!fields.is_empty(), "{}", context);
                for f in fields.keys() {
                    prop_assert!(row.fields.contains(&f.as_str()), "unexpected field `{}`: {}", f, context);
                }
            }

            match result {
                Ok(ev) => {
                    prop_assert!(state_ok, "accepted outside the table's `from` states: {}", context);
                    prop_assert_eq!(ev.seq, before.version + 1, "{}", context);
                    prop_assert_eq!(ev.at, now);
                    prop_assert_eq!(&ev.order, &before.number);
                    prop_assert_eq!(&ev.actor, &actor.username);
                    prop_assert_eq!(ev.from_status, Some(before.status));
                    prop_assert_eq!(ev.action(), action);
                    prop_assert!(table::leads_to(action, before.status, ev.to_status), "{}", context);
                    let next = lifecycle::apply(Some(before.clone()), &ev)
                        .map_err(|e| TestCaseError::fail(format!("{context}: apply failed: {e}")))?;
                    prop_assert_eq!(next.version, before.version + 1);
                    prop_assert_eq!(next.status, ev.to_status);
                    prop_assert_eq!(next.updated_at, now);
                    check_payload(world, &cmd, &before, &ev, &next, now, stats)
                        .map_err(|e| TestCaseError::fail(format!("{context}: {e}")))?;
                    log.push(ev);
                    order = next;
                    stats.accepted.insert(action);
                }
                Err(e) => {
                    prop_assert_eq!(&order, &before);
                    *stats.refusals.entry(e.code()).or_default() += 1;
                }
            }
            stats.statuses.insert(order.status);

            // The state is exactly what its events explain …
            prop_assert_eq!(lifecycle::replay(&log), Ok(Some(order.clone())), "after {}", context);
            prop_assert_eq!(order.version, log.len() as i64);
            // … and a status the last accepted action may lead to.
            let last = log.last().map(|e| (e.action(), e.from_status)).unwrap();
            match last {
                (Action::Register, _) => prop_assert_eq!(order.status, Status::Registered),
                (a, Some(from)) => prop_assert!(table::leads_to(a, from, order.status), "{}", context),
                (a, None) => return Err(TestCaseError::fail(format!("`{a}` event without from_status"))),
            }
            check_invariants(&order).map_err(|e| TestCaseError::fail(format!("{context}: {e}")))?;
        }
        Ok(())
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 256,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..proptest::test_runner::Config::default()
    })]

    #[test]
    fn random_command_sequences_keep_the_order_explained_by_its_events(
        start in 0..walk::STARTS,
        steps in proptest::collection::vec(walk::step(), 1..=40),
    ) {
        let w = world();
        walk::run(&w, start, &steps, &mut walk::Stats::default())?;
    }
}

#[test]
fn random_walks_reach_every_action_status_and_refusal() {
    use proptest::strategy::{Strategy, ValueTree};
    let w = world();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (0..walk::STARTS, proptest::collection::vec(walk::step(), 40));
    let mut stats = walk::Stats::default();
    for _ in 0..256 {
        let (start, steps) = strategy.new_tree(&mut runner).unwrap().current();
        walk::run(&w, start, &steps, &mut stats).unwrap();
    }
    let every_command: BTreeSet<Action> =
        Action::ALL.iter().copied().filter(|a| !matches!(a, Action::Register | Action::Import)).collect();
    assert_eq!(stats.accepted, every_command, "accepted actions");
    assert_eq!(stats.statuses, Status::ALL.iter().copied().collect(), "statuses visited");
    for code in ["forbidden_role", "invalid_values", "illegal_transition"] {
        assert!(stats.refusals.get(code).copied().unwrap_or(0) > 10, "{code}: {:?}", stats.refusals);
    }
    assert_eq!(stats.warnings, WarnLevel::ALL.iter().copied().collect(), "supervision warnings given");
}

// ---------------------------------------------------------------------------------------
// Registration.
// ---------------------------------------------------------------------------------------

#[test]
fn registration_resolves_the_district_derives_the_title_and_normalizes_the_phone() {
    let w = world();
    let f = Flow::register(&w, streetlight(), number(1));
    let o = &f.order;
    assert_eq!(o.status, Status::Registered);
    assert_eq!(o.version, 1);
    assert_eq!(o.number.as_str(), "2026112300001");
    assert_eq!(o.intake.location.district, Some(place("440106")));
    assert_eq!(o.intake.title, "小区门口路灯不亮");
    assert_eq!(o.intake.caller.phone.as_ref().map(|p| p.as_str()), Some("13800001234"));
    assert_eq!(o.created_by, "operator");
    assert_eq!(o.created_at, at(REGISTERED_AT));
    assert_eq!(o.lead_unit, None);
    assert_eq!(f.log[0].from_status, None);
    assert_eq!(f.log[0].to_status, Status::Registered);
}

#[test]
fn only_an_operator_may_register() {
    let w = world();
    for actor in [reviewer(), dispatcher(), leader(), handler("d440106")] {
        let err = lifecycle::register(&w.ctx(), streetlight(), number(1), &actor, at(REGISTERED_AT)).unwrap_err();
        assert_forbidden(&err, Action::Register);
    }
}

#[test]
fn registration_rejects_group_categories_and_non_street_locations_together() {
    let w = world();
    let mut it = intake("urban", Urgency::Normal, "440106");
    it.content = "  ".into();
    let err = lifecycle::register(&w.ctx(), it, number(1), &operator(), at(REGISTERED_AT)).unwrap_err();
    assert_invalid(&err, &["category", "content", "location.street"]);

    let it = intake("urban.nothing", Urgency::Normal, "440199001");
    let err = lifecycle::register(&w.ctx(), it, number(1), &operator(), at(REGISTERED_AT)).unwrap_err();
    assert_invalid(&err, &["category", "location.street"]);
}

// ---------------------------------------------------------------------------------------
// Intake: submit, approve, send back, close at first contact.
// ---------------------------------------------------------------------------------------

#[test]
fn operator_submits_and_reviewer_approves_into_pending_dispatch() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    let ev = f.ok(&operator(), Command::Submit);
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Registered), Status::InReview));
    assert_eq!(ev.change, Change::Submitted);
    let ev = f.ok(&reviewer(), Command::Approve);
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::InReview), Status::PendingDispatch));
    assert_eq!(f.order.status, Status::PendingDispatch);
    assert_eq!(f.order.version, 3);
}

#[test]
fn submit_is_for_operators_and_registered_orders_only() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    for actor in [reviewer(), dispatcher(), supervisor(), handler("s440106001")] {
        assert_forbidden(&f.refused(&actor, Command::Submit), Action::Submit);
    }
    f.ok(&operator(), Command::Submit);
    assert_illegal(&f.refused(&operator(), Command::Submit), Action::Submit, Status::InReview);
}

#[test]
fn approve_is_for_reviewers_and_orders_in_review_only() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    assert_illegal(&f.refused(&reviewer(), Command::Approve), Action::Approve, Status::Registered);
    f.ok(&operator(), Command::Submit);
    assert_forbidden(&f.refused(&operator(), Command::Approve), Action::Approve);
    assert_forbidden(&f.refused(&dispatcher(), Command::Approve), Action::Approve);
    f.ok(&reviewer(), Command::Approve);
    assert_illegal(&f.refused(&reviewer(), Command::Approve), Action::Approve, Status::PendingDispatch);
}

#[test]
fn reviewer_sends_back_to_registered_with_a_trimmed_reason() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    f.ok(&operator(), Command::Submit);
    assert_invalid(&f.refused(&reviewer(), Command::SendBack { reason: " \n ".into() }), &["reason"]);
    assert_forbidden(&f.refused(&operator(), Command::SendBack { reason: reason("x") }), Action::SendBack);
    let ev = f.ok(&reviewer(), Command::SendBack { reason: "  地址不详 ".into() });
    assert_eq!(ev.change, Change::SentBack { reason: "地址不详".into() });
    assert_eq!(ev.change.comment().as_deref(), Some("地址不详"));
    assert_eq!(f.order.status, Status::Registered);
    // Sent back, the order can be corrected and submitted again.
    assert_illegal(
        &f.refused(&reviewer(), Command::SendBack { reason: reason("again") }),
        Action::SendBack,
        Status::Registered,
    );
    f.ok(&operator(), Command::Submit);
    assert_eq!(f.order.status, Status::InReview);
}

#[test]
fn operator_closes_at_first_contact_with_each_close_kind() {
    let w = world();
    for (i, kind) in CloseKind::ALL.iter().enumerate() {
        let mut f = Flow::register(&w, streetlight(), number(i as u64 + 1));
        let ev = f.ok(&operator(), Command::Close { kind: *kind, resolution: " 已告知办理流程 ".into(), cite: None });
        assert_eq!(ev.to_status, Status::Closed);
        assert_eq!(ev.change, Change::ClosedAtIntake { kind: *kind, resolution: "已告知办理流程".into(), cite: None });
        let fc = f.order.first_contact.clone().unwrap();
        assert_eq!((fc.kind, fc.resolution.as_str()), (*kind, "已告知办理流程"));
        assert_eq!(f.order.closed_at, Some(ev.at));
        assert_eq!(f.order.lead_unit, None);
    }
}

#[test]
fn a_close_keeps_what_it_cites_and_a_cite_must_fit_the_kind() {
    use lianxin_domain::order::Cite;
    let w = world();
    let cite =
        |kind, id: &str| Some(Cite { kind, id: id.into(), title: "12315 消费者投诉举报".into(), version: None });
    let mut f = Flow::register(&w, streetlight(), number(1));
    let referred = Command::Close {
        kind: CloseKind::Referred,
        resolution: reason("已告知拨打 12315"),
        cite: cite(CiteKind::Referral, "r-12315"),
    };
    f.ok(&operator(), referred);
    assert_eq!(f.order.first_contact.as_ref().and_then(|c| c.cite.clone()), cite(CiteKind::Referral, "r-12315"));
    // Replayed from the log, the citation is still there.
    assert_eq!(lifecycle::replay(&f.log).unwrap().unwrap().first_contact, f.order.first_contact);

    // A referral entry is not an answer, and an article is not a referral.
    for (kind, cited) in [(CloseKind::Answered, CiteKind::Referral), (CloseKind::Referred, CiteKind::Article)] {
        let mut f = Flow::register(&w, streetlight(), number(2));
        let err = f.refused(&operator(), Command::Close { kind, resolution: reason("已答复"), cite: cite(cited, "x") });
        assert_invalid(&err, &["cite.kind"]);
        assert_eq!(f.order.status, Status::Registered);
    }
}

#[test]
fn close_is_only_at_first_contact_by_an_operator_with_a_resolution() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    let close = |r: &str| Command::Close { kind: CloseKind::Answered, resolution: r.into(), cite: None };
    assert_forbidden(&f.refused(&reviewer(), close("ok")), Action::Close);
    assert_invalid(&f.refused(&operator(), close("")), &["resolution"]);
    assert_invalid(&f.refused(&operator(), close(&"长".repeat(5001))), &["resolution"]);
    f.ok(&operator(), Command::Submit);
    assert_illegal(&f.refused(&operator(), close("ok")), Action::Close, Status::InReview);
}

// ---------------------------------------------------------------------------------------
// Refusal precedence: role (403), then values (422), then state (409).
// ---------------------------------------------------------------------------------------

#[test]
fn wrong_role_and_wrong_state_is_forbidden() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    // A reviewer may not submit, and the order is not registered either.
    assert_forbidden(&f.refused(&reviewer(), Command::Submit), Action::Submit);
    // A callback agent may not reopen, and the order is not closed either.
    assert_forbidden(&f.refused(&callback_agent(), Command::Reopen { reason: reason("x") }), Action::Reopen);
    // A handler of no lead unit may not sign, and the order is not dispatched either.
    assert_forbidden(&f.refused(&handler("s440106001"), Command::Sign), Action::Sign);
}

#[test]
fn wrong_role_and_bad_value_is_forbidden() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    assert_forbidden(&f.refused(&operator(), dispatch_to("hotline", &[])), Action::Dispatch);
    assert_forbidden(&f.refused(&dispatcher(), Command::Urge { note: String::new(), level: 0 }), Action::Urge);
}

#[test]
fn bad_value_and_wrong_state_is_invalid() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    // Blank resolution on an order that is no longer registered.
    let err = f.refused(&operator(), Command::Close { kind: CloseKind::Answered, resolution: " ".into(), cite: None });
    assert_invalid(&err, &["resolution"]);
    let mut f = Flow::closed(&w);
    // Bad urge level on a closed order.
    assert_invalid(&f.refused(&supervisor(), Command::Urge { note: reason("快"), level: 0 }), &["level"]);
    // Blank note on a closed order.
    assert_invalid(&f.refused(&leader(), Command::Note { text: "  ".into() }), &["text"]);
    // Reply with no content before the order is even signed for.
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
    let err = f.refused(&handler("s440106001"), Command::Reply { content: String::new(), solved: true });
    assert_invalid(&err, &["content"]);
}

#[test]
fn an_invalid_refusal_names_every_bad_field_at_once() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    assert_invalid(&f.refused(&supervisor(), Command::Urge { note: String::new(), level: 9 }), &["level", "note"]);
    let err = f.refused(&dispatcher(), dispatch_to("dispatch", &["hotline"]));
    assert_invalid(&err, &["assisting_units", "lead_unit"]);
}

// ---------------------------------------------------------------------------------------
// Dispatch and deadlines.
// ---------------------------------------------------------------------------------------

#[test]
fn dispatch_sets_lead_and_assisting_units_and_working_time_deadlines() {
    let w = world();
    let f = Flow::dispatched(&w, streetlight(), "s440106001", &["city-urban", "co-water"]);
    let o = &f.order;
    assert_eq!(o.status, Status::Dispatched);
    assert_eq!(o.lead_unit, Some(unit("s440106001")));
    assert_eq!(o.assisting_units, vec![unit("city-urban"), unit("co-water")]);
    assert_eq!(o.dispatched_at, Some(at(DISPATCHED_AT)));
    // Monday 10:00 + 5 working days = next Monday 10:00; + 1 working hour = Monday 11:00.
    assert_eq!(f.time(o.deadline.unwrap()), "2026-11-30T10:00:00.000+08:00");
    assert_eq!(f.time(o.sign_deadline.unwrap()), "2026-11-23T11:00:00.000+08:00");
    match &f.log.last().unwrap().change {
        Change::Dispatched { deadline, sign_deadline, note, .. } => {
            assert_eq!((Some(*deadline), Some(*sign_deadline)), (o.deadline, o.sign_deadline));
            assert_eq!(note.as_deref(), Some("请尽快核查"));
        }
        other => panic!("expected Dispatched, got {other:?}"),
    }
}

#[test]
fn urgent_orders_get_one_working_day_and_one_working_hour_to_sign() {
    let w = world();
    let f = Flow::dispatched(&w, intake("urban.noise", Urgency::Urgent, "440106002"), "s440106002", &[]);
    assert_eq!(f.time(f.order.deadline.unwrap()), "2026-11-24T10:00:00.000+08:00");
    assert_eq!(f.time(f.order.sign_deadline.unwrap()), "2026-11-23T11:00:00.000+08:00");
}

#[test]
fn emergency_orders_get_wall_clock_limits_and_ten_minutes_to_sign() {
    let w = world();
    let f = Flow::dispatched(&w, intake("urban.noise", Urgency::Emergency, "440106002"), "s440106002", &[]);
    assert_eq!(f.time(f.order.deadline.unwrap()), "2026-11-23T12:00:00.000+08:00");
    assert_eq!(f.time(f.order.sign_deadline.unwrap()), "2026-11-23T10:10:00.000+08:00");

    // On a Saturday night the clock still runs.
    let mut f = Flow::pending_dispatch(&w, intake("urban.noise", Urgency::Emergency, "440106002"));
    f.set_time("2026-11-28T23:30:00+08:00");
    f.ok(&dispatcher(), dispatch_to("s440106002", &[]));
    assert_eq!(f.time(f.order.deadline.unwrap()), "2026-11-29T01:30:00.000+08:00");
    assert_eq!(f.time(f.order.sign_deadline.unwrap()), "2026-11-28T23:40:00.000+08:00");
}

#[test]
fn dispatch_uses_the_category_limits_and_falls_back_to_policy_for_removed_categories() {
    let w = world();
    // water.outage: 1 working day for normal orders.
    let f = Flow::dispatched(&w, intake("water.outage", Urgency::Normal, "440104001"), "co-water", &[]);
    assert_eq!(f.time(f.order.deadline.unwrap()), "2026-11-24T10:00:00.000+08:00");

    // The category was removed after registration: the policy's 5 working days apply.
    let mut f = Flow::pending_dispatch(&w, intake("water.outage", Urgency::Normal, "440104001"));
    let without = World { directory: directory_with(false), ..world() };
    let ev =
        lifecycle::decide(&without.ctx(), &f.order, &dispatch_to("co-water", &[]), &dispatcher(), at(DISPATCHED_AT))
            .unwrap();
    f.order = lifecycle::apply(Some(f.order.clone()), &ev).unwrap();
    assert_eq!(f.time(f.order.deadline.unwrap()), "2026-11-30T10:00:00.000+08:00");
}

#[test]
fn dispatch_refuses_assisting_unit_equal_to_lead() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    let err = f.refused(&dispatcher(), dispatch_to("s440106001", &["city-urban", "s440106001"]));
    assert_invalid(&err, &["assisting_units"]);
}

#[test]
fn dispatch_refuses_an_assisting_unit_listed_twice() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    let err = f.refused(&dispatcher(), dispatch_to("s440106001", &["co-water", "co-water"]));
    assert_invalid(&err, &["assisting_units"]);
}

#[test]
fn dispatch_refuses_units_that_cannot_handle_orders_or_do_not_exist() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    assert_invalid(&f.refused(&dispatcher(), dispatch_to("hotline", &[])), &["lead_unit"]);
    assert_invalid(&f.refused(&dispatcher(), dispatch_to("dispatch", &[])), &["lead_unit"]);
    assert_invalid(&f.refused(&dispatcher(), dispatch_to("nowhere", &[])), &["lead_unit"]);
    assert_invalid(&f.refused(&dispatcher(), dispatch_to("co-water", &["hotline"])), &["assisting_units"]);
    assert_invalid(&f.refused(&dispatcher(), dispatch_to("co-water", &["nowhere"])), &["assisting_units"]);
    assert_eq!(f.order.status, Status::PendingDispatch);
}

#[test]
fn dispatch_is_for_dispatchers_and_orders_pending_dispatch_only() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    assert_illegal(&f.refused(&dispatcher(), dispatch_to("s440106001", &[])), Action::Dispatch, Status::Registered);
    f.ok(&operator(), Command::Submit);
    f.ok(&reviewer(), Command::Approve);
    for actor in [operator(), reviewer(), supervisor(), handler("s440106001")] {
        assert_forbidden(&f.refused(&actor, dispatch_to("s440106001", &[])), Action::Dispatch);
    }
    f.ok(&dispatcher(), dispatch_to("s440106001", &[]));
    let err = f.refused(&dispatcher(), dispatch_to("s440106002", &[]));
    assert_illegal(&err, Action::Dispatch, Status::Dispatched);
}

// ---------------------------------------------------------------------------------------
// Sign, return, sub-dispatch.
// ---------------------------------------------------------------------------------------

#[test]
fn handler_of_lead_unit_signs_into_in_progress() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &["co-water"]);
    let ev = f.ok(&handler("s440106001"), Command::Sign);
    assert_eq!(ev.change, Change::Signed);
    assert_eq!(ev.unit, Some(unit("s440106001")));
    assert_eq!(f.order.status, Status::InProgress);
    assert_eq!(f.order.signed_at, Some(ev.at));
    assert_illegal(&f.refused(&handler("s440106001"), Command::Sign), Action::Sign, Status::InProgress);
}

#[test]
fn handler_of_assisting_unit_cannot_sign() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &["co-water"]);
    assert_forbidden(&f.refused(&handler("co-water"), Command::Sign), Action::Sign);
}

#[test]
fn only_a_handler_of_the_lead_unit_may_sign() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
    // Not the parent district, not another street, not the dispatcher, not a handler
    // without a unit; a unit admin of the lead unit may.
    for actor in [
        handler("d440106"),
        handler("s440106002"),
        dispatcher(),
        supervisor(),
        actor("drifter", &[Role::Handler], None),
        actor("mixed", &[Role::Dispatcher], Some("s440106001")),
    ] {
        assert_forbidden(&f.refused(&actor, Command::Sign), Action::Sign);
    }
    f.ok(&actor("admin1", &[Role::UnitAdmin], Some("s440106001")), Command::Sign);
}

#[test]
fn return_from_dispatched_clears_lead_unit_and_deadlines() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &["co-water"]);
    let h = handler("s440106001");
    assert_invalid(&f.refused(&h, Command::Return { reason: String::new() }), &["reason"]);
    assert_forbidden(&f.refused(&handler("co-water"), Command::Return { reason: reason("不归我们") }), Action::Return);
    let ev = f.ok(&h, Command::Return { reason: "非本街道辖区".into() });
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Dispatched), Status::PendingDispatch));
    let o = &f.order;
    assert_eq!(o.status, Status::PendingDispatch);
    assert_eq!(o.lead_unit, None);
    assert!(o.assisting_units.is_empty());
    assert_eq!((o.deadline, o.sign_deadline, o.signed_at), (None, None, None));
    assert_eq!(o.returns, 1);
    // The former lead unit can do nothing more; the dispatcher dispatches again.
    assert_forbidden(&f.refused(&h, Command::Sign), Action::Sign);
    f.ok(&dispatcher(), dispatch_to("s440106002", &[]));
    assert_eq!(f.order.lead_unit, Some(unit("s440106002")));
}

#[test]
fn return_from_in_progress_also_drops_a_pending_extension() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let h = handler("s440106001");
    f.ok(&h, Command::RequestExtension { until: at("2026-12-04T17:00:00+08:00"), reason: reason("等材料") });
    f.ok(&h, Command::Return { reason: reason("应由区里处理") });
    assert_eq!(f.order.status, Status::PendingDispatch);
    assert_eq!(f.order.pending_extension, None);
    assert_eq!(f.order.signed_at, None);
    assert_illegal(
        &f.refused(&dispatcher(), Command::DecideExtension { approve: true, note: None }),
        Action::DecideExtension,
        Status::PendingDispatch,
    );
}

#[test]
fn return_is_refused_once_replied() {
    let w = world();
    let mut f = Flow::replied(&w, "s440106001");
    let err = f.refused(&handler("s440106001"), Command::Return { reason: reason("x") });
    assert_illegal(&err, Action::Return, Status::Replied);
}

#[test]
fn district_subdispatches_to_its_street_office() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "d440106", &["city-urban"]);
    f.set_time("2026-11-23T16:45:00+08:00");
    let ev =
        f.ok(&handler("d440106"), Command::Subdispatch { unit: unit("s440106001"), note: Some("请五山街处理".into()) });
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Dispatched), Status::Dispatched));
    let o = &f.order;
    assert_eq!(o.lead_unit, Some(unit("s440106001")));
    assert_eq!(o.assisting_units, vec![unit("city-urban")]);
    // The handling deadline stays; the sign deadline restarts: 45 minutes today, 15 tomorrow.
    assert_eq!(f.time(o.deadline.unwrap()), "2026-11-30T10:00:00.000+08:00");
    assert_eq!(f.time(o.sign_deadline.unwrap()), "2026-11-24T08:45:00.000+08:00");
    // Now the street office signs, and the district no longer may.
    assert_forbidden(&f.refused(&handler("d440106"), Command::Sign), Action::Sign);
    f.ok(&handler("s440106001"), Command::Sign);
}

#[test]
fn subdispatch_from_in_progress_returns_to_dispatched_and_clears_the_signature() {
    let w = world();
    let mut f = Flow::in_progress(&w, "d440106");
    f.ok(&handler("d440106"), Command::Subdispatch { unit: unit("s440106002"), note: None });
    assert_eq!(f.order.status, Status::Dispatched);
    assert_eq!(f.order.signed_at, None);
    assert_eq!(f.order.lead_unit, Some(unit("s440106002")));
}

#[test]
fn subdispatch_to_an_assisting_sub_unit_removes_it_from_the_assisting_units() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "d440106", &["s440106002", "co-water"]);
    f.ok(&handler("d440106"), Command::Subdispatch { unit: unit("s440106002"), note: None });
    assert_eq!(f.order.lead_unit, Some(unit("s440106002")));
    assert_eq!(f.order.assisting_units, vec![unit("co-water")]);
}

#[test]
fn subdispatch_outside_the_lead_units_subtree_is_invalid() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "d440106", &[]);
    let h = handler("d440106");
    let sub = |code: &str| Command::Subdispatch { unit: unit(code), note: None };
    // Not a sub-unit.
    assert_invalid(&f.refused(&h, sub("co-water")), &["unit"]);
    assert_invalid(&f.refused(&h, sub("d440106")), &["unit"]);
    // Cannot handle, or does not exist.
    assert_invalid(&f.refused(&h, sub("hotline")), &["unit"]);
    assert_invalid(&f.refused(&h, sub("nowhere")), &["unit"]);
    // A street office cannot sub-dispatch upward either.
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
    assert_invalid(&f.refused(&handler("s440106001"), sub("d440106")), &["unit"]);
    // Only the lead unit may sub-dispatch.
    assert_forbidden(&f.refused(&dispatcher(), sub("s440106002")), Action::Subdispatch);
}

#[test]
fn subdispatch_is_refused_once_replied() {
    let w = world();
    let mut f = Flow::replied(&w, "d440106");
    let err = f.refused(&handler("d440106"), Command::Subdispatch { unit: unit("s440106001"), note: None });
    assert_illegal(&err, Action::Subdispatch, Status::Replied);
}

// ---------------------------------------------------------------------------------------
// Extensions.
// ---------------------------------------------------------------------------------------

#[test]
fn request_extension_twice_is_an_illegal_transition() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let h = handler("s440106001");
    let until = at("2026-12-04T17:00:00+08:00");
    let ev = f.ok(&h, Command::RequestExtension { until, reason: " 需要更换电缆 ".into() });
    assert_eq!(ev.to_status, Status::InProgress);
    let req = f.order.pending_extension.clone().unwrap();
    assert_eq!(
        (req.until, req.reason.as_str(), req.requested_by.as_str()),
        (until, "需要更换电缆", "handler@s440106001")
    );
    assert_eq!(req.requested_at, ev.at);
    let err = f.refused(&h, Command::RequestExtension { until: until + DAY, reason: reason("再延") });
    assert_illegal(&err, Action::RequestExtension, Status::InProgress);
}

#[test]
fn request_extension_while_dispatched_is_allowed() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
    let ev = f.ok(
        &handler("s440106001"),
        Command::RequestExtension { until: at("2026-12-01T10:00:00+08:00"), reason: reason("x") },
    );
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Dispatched), Status::Dispatched));
}

#[test]
fn request_extension_until_must_be_after_now_and_the_deadline_and_within_ninety_days() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let h = handler("s440106001");
    let now = f.now;
    let deadline = f.order.deadline.unwrap();
    let ask = |until: Millis| Command::RequestExtension { until, reason: reason("x") };
    for until in [now - MINUTE, now, now + HOUR, deadline] {
        assert_invalid(&f.refused(&h, ask(until)), &["until"]);
    }
    let now = f.now;
    assert_invalid(&f.refused(&h, ask(now + 90 * DAY + 1)), &["until"]);
    assert_invalid(
        &f.refused(&h, Command::RequestExtension { until: now - 1, reason: String::new() }),
        &["reason", "until"],
    );
    assert_forbidden(&f.refused(&handler("d440106"), ask(deadline + DAY)), Action::RequestExtension);
    let now = f.now;
    f.ok(&h, ask(now + 90 * DAY));
}

#[test]
fn request_extension_is_refused_once_replied() {
    let w = world();
    let mut f = Flow::replied(&w, "s440106001");
    let err = f.refused(
        &handler("s440106001"),
        Command::RequestExtension { until: at("2026-12-04T17:00:00+08:00"), reason: reason("x") },
    );
    assert_illegal(&err, Action::RequestExtension, Status::Replied);
}

#[test]
fn approved_extension_moves_the_deadline_to_until() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let until = at("2026-12-04T17:00:00+08:00");
    f.ok(&handler("s440106001"), Command::RequestExtension { until, reason: reason("需要施工") });
    let ev = f.ok(&supervisor(), Command::DecideExtension { approve: true, note: Some("同意".into()) });
    // The new yellow point: 75% of the 4077 working minutes from Monday 10:03 to Friday
    // 4 December 17:00 is 3057 minutes, which run out at Wednesday 2 December 12:00.
    let warn_at = Some(at("2026-12-02T12:00:00+08:00"));
    assert_eq!(
        ev.change,
        Change::ExtensionDecided { approve: true, note: Some("同意".into()), deadline: Some(until), warn_at }
    );
    assert_eq!(f.order.warn_at, warn_at);
    assert_eq!(ev.to_status, Status::InProgress);
    assert_eq!(f.order.deadline, Some(until));
    assert_eq!(f.order.pending_extension, None);
    assert_eq!(f.order.extensions_granted, 1);
}

#[test]
fn denied_extension_keeps_the_deadline() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let deadline = f.order.deadline;
    f.ok(
        &handler("s440106001"),
        Command::RequestExtension { until: at("2026-12-04T17:00:00+08:00"), reason: reason("x") },
    );
    let ev = f.ok(&dispatcher(), Command::DecideExtension { approve: false, note: None });
    assert_eq!(ev.change, Change::ExtensionDecided { approve: false, note: None, deadline: None, warn_at: None });
    assert_eq!(f.order.deadline, deadline);
    assert_eq!(f.order.pending_extension, None);
    assert_eq!(f.order.extensions_granted, 0);
    // After a decision, a new request may be made.
    f.ok(
        &handler("s440106001"),
        Command::RequestExtension { until: at("2026-12-03T17:00:00+08:00"), reason: reason("y") },
    );
}

#[test]
fn decide_extension_needs_a_dispatcher_or_supervisor_and_a_pending_request() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let decide = Command::DecideExtension { approve: true, note: None };
    assert_illegal(&f.refused(&dispatcher(), decide.clone()), Action::DecideExtension, Status::InProgress);
    f.ok(
        &handler("s440106001"),
        Command::RequestExtension { until: at("2026-12-04T17:00:00+08:00"), reason: reason("x") },
    );
    for actor in [operator(), reviewer(), leader(), handler("s440106001"), handler("d440106")] {
        assert_forbidden(&f.refused(&actor, decide.clone()), Action::DecideExtension);
    }
    f.ok(&dispatcher(), decide);
}

// ---------------------------------------------------------------------------------------
// Reply, callback, reopen.
// ---------------------------------------------------------------------------------------

#[test]
fn reply_before_sign_is_an_illegal_transition() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
    let err = f.refused(&handler("s440106001"), Command::Reply { content: reason("已修好"), solved: true });
    assert_illegal(&err, Action::Reply, Status::Dispatched);
}

#[test]
fn lead_handler_replies_with_content_and_unit() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let h = handler("s440106001");
    assert_invalid(&f.refused(&h, Command::Reply { content: " ".into(), solved: true }), &["content"]);
    assert_forbidden(
        &f.refused(&handler("co-water"), Command::Reply { content: reason("x"), solved: true }),
        Action::Reply,
    );
    let ev = f.ok(&h, Command::Reply { content: " 已更换灯泡 ".into(), solved: true });
    assert_eq!(ev.to_status, Status::Replied);
    let reply = f.order.reply.clone().unwrap();
    assert_eq!(
        (reply.content.as_str(), reply.solved, reply.unit, reply.at),
        ("已更换灯泡", Some(true), Some(unit("s440106001")), ev.at)
    );
    assert_illegal(
        &f.refused(&h, Command::Reply { content: reason("x"), solved: true }),
        Action::Reply,
        Status::Replied,
    );
}

#[test]
fn satisfied_callback_closes_the_order() {
    let w = world();
    let mut f = Flow::replied(&w, "s440106001");
    let ev = f.ok(
        &callback_agent(),
        Command::Callback {
            satisfaction: Satisfaction::Satisfied, solved: Some(true), note: Some("市民满意".into())
        },
    );
    assert_eq!(ev.to_status, Status::Closed);
    assert_eq!(f.order.status, Status::Closed);
    assert_eq!(f.order.closed_at, Some(ev.at));
    assert_eq!(f.order.reopens, 0);
    let cb = f.order.callback.clone().unwrap();
    assert_eq!(
        (cb.satisfaction, cb.solved, cb.note.as_deref()),
        (Satisfaction::Satisfied, Some(true), Some("市民满意"))
    );
}

#[test]
fn every_callback_verdict_but_unsatisfied_closes_the_order() {
    let w = world();
    for s in [Satisfaction::Satisfied, Satisfaction::BasicallySatisfied, Satisfaction::Unreachable] {
        let mut f = Flow::replied(&w, "s440106001");
        f.ok(&callback_agent(), Command::Callback { satisfaction: s, solved: Some(false), note: None });
        assert_eq!(f.order.status, Status::Closed, "{s}");
    }
}

#[test]
fn unsatisfied_callback_reopens_at_the_same_lead_unit_with_a_new_deadline() {
    let w = world();
    let mut f = Flow::replied(&w, "s440106001");
    let first_deadline = f.order.deadline;
    f.set_time("2026-11-25T15:00:00+08:00");
    let ev = f.ok(
        &callback_agent(),
        Command::Callback {
            satisfaction: Satisfaction::Unsatisfied,
            solved: Some(false),
            note: Some("灯还是不亮".into()),
        },
    );
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Replied), Status::InProgress));
    let o = &f.order;
    assert_eq!(o.status, Status::InProgress);
    assert_eq!(o.lead_unit, Some(unit("s440106001")));
    assert_eq!(o.reopens, 1);
    assert_eq!(o.reply, None);
    assert_eq!(o.closed_at, None);
    assert_ne!(o.deadline, first_deadline);
    // Wednesday 15:00 + 5 working days = next Wednesday 15:00.
    assert_eq!(f.time(o.deadline.unwrap()), "2026-12-02T15:00:00.000+08:00");
    assert_eq!(o.callback.as_ref().unwrap().satisfaction, Satisfaction::Unsatisfied);
    // The same unit replies again without signing anew.
    f.ok(&handler("s440106001"), Command::Reply { content: reason("已更换线路"), solved: true });
    assert_eq!(f.order.status, Status::Replied);
}

#[test]
fn callback_is_for_callback_agents_and_replied_orders_only() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let cb = || Command::Callback { satisfaction: Satisfaction::Satisfied, solved: Some(true), note: None };
    assert_illegal(&f.refused(&callback_agent(), cb()), Action::Callback, Status::InProgress);
    f.ok(&handler("s440106001"), Command::Reply { content: reason("ok"), solved: true });
    for actor in [operator(), supervisor(), handler("s440106001")] {
        assert_forbidden(&f.refused(&actor, cb()), Action::Callback);
    }
    let long =
        Command::Callback { satisfaction: Satisfaction::Satisfied, solved: Some(true), note: Some("长".repeat(2001)) };
    assert_invalid(&f.refused(&callback_agent(), long), &["note"]);
    f.ok(&callback_agent(), cb());
}

#[test]
fn supervisor_reopens_a_closed_order_into_pending_dispatch_with_lead_unit_cleared() {
    let w = world();
    let mut f = Flow::closed(&w);
    assert_eq!(f.order.lead_unit, Some(unit("s440106001")));
    let ev = f.ok(&supervisor(), Command::Reopen { reason: "市民再次投诉".into() });
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Closed), Status::PendingDispatch));
    let o = &f.order;
    assert_eq!(o.status, Status::PendingDispatch);
    assert_eq!(o.lead_unit, None);
    assert!(o.assisting_units.is_empty());
    assert_eq!((o.deadline, o.sign_deadline, o.signed_at, o.closed_at), (None, None, None, None));
    assert_eq!(o.reply, None);
    assert_eq!(o.reopens, 1);
    f.ok(&dispatcher(), dispatch_to("d440106", &[]));
    assert_eq!(f.order.status, Status::Dispatched);
}

#[test]
fn reopening_a_first_contact_close_forgets_the_close() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    f.ok(&operator(), Command::Close { kind: CloseKind::Referred, resolution: reason("已转 110"), cite: None });
    f.ok(&supervisor(), Command::Reopen { reason: reason("需派单") });
    assert_eq!(f.order.status, Status::PendingDispatch);
    assert_eq!(f.order.first_contact, None);
    assert_eq!(f.order.closed_at, None);
}

#[test]
fn reopen_is_for_supervisors_and_closed_orders_only() {
    let w = world();
    let mut f = Flow::replied(&w, "s440106001");
    let reopen = || Command::Reopen { reason: reason("x") };
    assert_illegal(&f.refused(&supervisor(), reopen()), Action::Reopen, Status::Replied);
    f.ok(
        &callback_agent(),
        Command::Callback { satisfaction: Satisfaction::Satisfied, solved: Some(true), note: None },
    );
    for actor in [operator(), dispatcher(), leader(), callback_agent()] {
        assert_forbidden(&f.refused(&actor, reopen()), Action::Reopen);
    }
    assert_invalid(&f.refused(&supervisor(), Command::Reopen { reason: String::new() }), &["reason"]);
}

// ---------------------------------------------------------------------------------------
// Merge, cancel, urge, note.
// ---------------------------------------------------------------------------------------

fn merge_into(target: u64, status: Option<Status>) -> Command {
    Command::Merge { into: number(target), target: status.map(|status| MergeTarget { number: number(target), status }) }
}

#[test]
fn merge_into_itself_is_invalid_on_into() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    assert_invalid(&f.refused(&operator(), merge_into(1, Some(Status::PendingDispatch))), &["into"]);
    assert_invalid(&f.refused(&operator(), merge_into(1, None)), &["into"]);
}

#[test]
fn merge_into_a_missing_or_finished_target_is_invalid() {
    let w = world();
    let mut f = Flow::pending_dispatch(&w, streetlight());
    assert_invalid(&f.refused(&dispatcher(), merge_into(2, None)), &["into"]);
    for status in [Status::Closed, Status::Merged, Status::Cancelled] {
        assert_invalid(&f.refused(&dispatcher(), merge_into(2, Some(status))), &["into"]);
    }
}

#[test]
fn merge_into_an_open_target_marks_the_order_merged() {
    let w = world();
    for status in table::OPEN {
        let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
        let ev = f.ok(&operator(), merge_into(2, Some(*status)));
        assert_eq!(ev.change, Change::Merged { into: number(2) });
        assert_eq!(ev.change.comment().as_deref(), Some("2026112300002"));
        assert_eq!(f.order.status, Status::Merged);
        assert_eq!(f.order.merged_into, Some(number(2)));
        assert_eq!(f.order.closed_at, Some(ev.at));
    }
}

#[test]
fn merge_is_for_operators_and_dispatchers_on_open_orders() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    for actor in [reviewer(), supervisor(), handler("d440106")] {
        assert_forbidden(&f.refused(&actor, merge_into(2, Some(Status::InReview))), Action::Merge);
    }
    f.ok(&dispatcher(), merge_into(2, Some(Status::InReview)));
    assert_eq!(f.order.status, Status::Merged);
    let err = f.refused(&operator(), merge_into(3, Some(Status::Registered)));
    assert_illegal(&err, Action::Merge, Status::Merged);

    let mut f = Flow::closed(&w);
    assert_illegal(&f.refused(&operator(), merge_into(2, Some(Status::Registered))), Action::Merge, Status::Closed);
}

#[test]
fn reviewer_or_dispatcher_cancels_open_orders() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    f.ok(&operator(), Command::Submit);
    assert_forbidden(&f.refused(&operator(), Command::Cancel { reason: reason("重复") }), Action::Cancel);
    assert_invalid(&f.refused(&reviewer(), Command::Cancel { reason: " ".into() }), &["reason"]);
    let ev = f.ok(&reviewer(), Command::Cancel { reason: " 恶意来电 ".into() });
    assert_eq!(ev.change, Change::Cancelled { reason: "恶意来电".into() });
    assert_eq!(f.order.status, Status::Cancelled);
    assert_eq!(f.order.closed_at, Some(ev.at));
    assert_illegal(
        &f.refused(&dispatcher(), Command::Cancel { reason: reason("x") }),
        Action::Cancel,
        Status::Cancelled,
    );

    let mut f = Flow::in_progress(&w, "s440106001");
    f.ok(&dispatcher(), Command::Cancel { reason: reason("市民撤诉") });
    assert_eq!(f.order.status, Status::Cancelled);

    let mut f = Flow::closed(&w);
    assert_illegal(&f.refused(&reviewer(), Command::Cancel { reason: reason("x") }), Action::Cancel, Status::Closed);
}

#[test]
fn supervisor_urges_open_orders_at_levels_one_to_three() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
    assert_invalid(&f.refused(&supervisor(), Command::Urge { note: reason("快"), level: 0 }), &["level"]);
    assert_invalid(&f.refused(&supervisor(), Command::Urge { note: reason("快"), level: 4 }), &["level"]);
    assert_forbidden(&f.refused(&dispatcher(), Command::Urge { note: reason("快"), level: 1 }), Action::Urge);
    for level in 1..=3 {
        let ev = f.ok(&supervisor(), Command::Urge { note: " 请加快 ".into(), level });
        assert_eq!(ev.change, Change::Urged { note: "请加快".into(), level, warning: None });
        assert_eq!(ev.to_status, Status::Dispatched);
    }
    assert_eq!(f.order.urges, 3);
    assert_eq!(f.order.status, Status::Dispatched);

    let mut f = Flow::closed(&w);
    let err = f.refused(&supervisor(), Command::Urge { note: reason("快"), level: 1 });
    assert_illegal(&err, Action::Urge, Status::Closed);
}

#[test]
fn anyone_may_note_an_open_order_without_changing_its_status() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    for actor in all_actors() {
        let ev = f.ok(&actor, Command::Note { text: format!(" {} 看过 ", actor.username) });
        assert_eq!(ev.change, Change::Noted { text: format!("{} 看过", actor.username) });
        assert_eq!(ev.to_status, Status::InProgress);
    }
    assert_eq!(f.order.status, Status::InProgress);
    assert_invalid(&f.refused(&leader(), Command::Note { text: "长".repeat(2001) }), &["text"]);
}

#[test]
fn note_in_a_closed_order_is_an_illegal_transition() {
    let w = world();
    let mut f = Flow::closed(&w);
    let err = f.refused(&supervisor(), Command::Note { text: reason("补充说明") });
    assert_illegal(&err, Action::Note, Status::Closed);
}

// ---------------------------------------------------------------------------------------
// The event log.
// ---------------------------------------------------------------------------------------

#[test]
fn a_full_lifecycle_replays_from_its_events() {
    let w = world();
    let mut f = Flow::closed(&w);
    f.ok(&supervisor(), Command::Reopen { reason: reason("再次来电") });
    f.ok(&dispatcher(), dispatch_to("d440106", &["city-urban"]));
    f.ok(&handler("d440106"), Command::Subdispatch { unit: unit("s440106002"), note: None });
    f.ok(&handler("s440106002"), Command::Sign);
    f.ok(&supervisor(), Command::Urge { note: reason("加快"), level: 2 });
    f.ok(&handler("s440106002"), Command::Reply { content: reason("已修复"), solved: true });
    f.ok(
        &callback_agent(),
        Command::Callback { satisfaction: Satisfaction::BasicallySatisfied, solved: Some(true), note: None },
    );
    let seqs: Vec<i64> = f.log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=f.log.len() as i64).collect::<Vec<_>>());
    assert_eq!(lifecycle::replay(&f.log), Ok(Some(f.order.clone())));
    assert_eq!(f.order.status, Status::Closed);
    assert_eq!((f.order.reopens, f.order.urges), (1, 1));
    // Every event survives a JSON round trip unchanged, so the store can keep it as text.
    for ev in &f.log {
        let json = serde_json::to_string(ev).unwrap();
        assert_eq!(&serde_json::from_str::<lianxin_domain::Event>(&json).unwrap(), ev);
    }
}

#[test]
fn replay_refuses_logs_that_do_not_explain_the_state() {
    let w = world();
    let f = Flow::in_progress(&w, "s440106001");
    assert_eq!(lifecycle::replay(&f.log[1..]), Err(ReplayError::NotRegistered { seq: 2 }));
    let mut gap = f.log.clone();
    gap.remove(2);
    assert_eq!(lifecycle::replay(&gap), Err(ReplayError::Sequence { seq: 4, expected: 3 }));
    let mut lie = f.log.clone();
    lie[3].from_status = Some(Status::Registered);
    assert!(matches!(lifecycle::replay(&lie), Err(ReplayError::FromStatus { seq: 4, .. })));
    let mut wrong = f.log.clone();
    wrong[4].to_status = Status::Closed;
    assert_eq!(
        lifecycle::replay(&wrong),
        Err(ReplayError::ToStatus { seq: 5, action: Action::Sign, to: Status::Closed })
    );
    let mut twice = f.log.clone();
    twice.push(f.log[0].clone());
    assert_eq!(lifecycle::replay(&twice), Err(ReplayError::RegisteredTwice { seq: 1 }));
}

// ---------------------------------------------------------------------------------------
// Scope and caller masking.
// ---------------------------------------------------------------------------------------

/// Orders spread over the fixture's units and districts, each with a name.
fn scope_orders(w: &World) -> Vec<(&'static str, lianxin_domain::Order)> {
    let led = |it, lead: &str, assisting: &[&str]| Flow::dispatched(w, it, lead, assisting).order;
    vec![
        ("led-by-s001", led(streetlight(), "s440106001", &[])),
        ("s001-assists", led(intake("urban.noise", Urgency::Normal, "440106002"), "s440106002", &["s440106001"])),
        ("led-by-district", led(streetlight(), "d440106", &[])),
        ("water-in-440104", led(intake("water.outage", Urgency::Normal, "440104001"), "co-water", &[])),
        (
            "undispatched-in-440106",
            Flow::register(w, intake("urban.noise", Urgency::Normal, "440106002"), number(5)).order,
        ),
        (
            "440104-assisted-by-s002",
            led(intake("urban.noise", Urgency::Normal, "440104001"), "city-urban", &["s440106002"]),
        ),
    ]
}

fn visible(actor: &Actor, w: &World) -> Vec<&'static str> {
    let scope = scope::scope_of(actor, &w.directory);
    scope_orders(w).into_iter().filter(|(_, o)| scope.allows(o)).map(|(name, _)| name).collect()
}

#[test]
fn street_handler_sees_only_orders_its_unit_leads_or_assists() {
    let w = world();
    let h = handler("s440106001");
    assert_eq!(
        scope::scope_of(&h, &w.directory),
        Scope::Limited { units: BTreeSet::from([unit("s440106001")]), district: None }
    );
    assert_eq!(visible(&h, &w), vec!["led-by-s001", "s001-assists"]);
}

#[test]
fn district_handler_sees_its_sub_units_orders_and_orders_located_in_its_district() {
    let w = world();
    let h = handler("d440106");
    assert_eq!(
        scope::scope_of(&h, &w.directory),
        Scope::Limited {
            units: BTreeSet::from([unit("d440106"), unit("s440106001"), unit("s440106002")]),
            district: Some(place("440106")),
        }
    );
    assert_eq!(
        visible(&h, &w),
        vec!["led-by-s001", "s001-assists", "led-by-district", "undispatched-in-440106", "440104-assisted-by-s002"]
    );
}

#[test]
fn department_and_company_handlers_see_only_their_own_orders() {
    let w = world();
    assert_eq!(visible(&handler("co-water"), &w), vec!["water-in-440104"]);
    assert_eq!(visible(&handler("city-urban"), &w), vec!["440104-assisted-by-s002"]);
    assert_eq!(
        visible(&actor("ua", &[Role::UnitAdmin], Some("s440106002")), &w),
        vec!["s001-assists", "440104-assisted-by-s002"]
    );
}

#[test]
fn handler_without_a_known_unit_sees_nothing() {
    let w = world();
    for a in [actor("drifter", &[Role::Handler], None), actor("ghost", &[Role::Handler], Some("nowhere"))] {
        assert_eq!(scope::scope_of(&a, &w.directory), Scope::Limited { units: BTreeSet::new(), district: None });
        assert!(visible(&a, &w).is_empty());
    }
}

#[test]
fn city_wide_roles_see_every_order() {
    let w = world();
    let everything: Vec<&str> = scope_orders(&w).into_iter().map(|(n, _)| n).collect();
    let mut actors = city_actors();
    actors.push(actor("admin", &[Role::Admin], None));
    // A city-wide role wins over a handler role held alongside it.
    actors.push(actor("both", &[Role::Handler, Role::Supervisor], Some("s440106001")));
    for a in actors {
        assert_eq!(scope::scope_of(&a, &w.directory), Scope::All, "{}", a.username);
        assert_eq!(visible(&a, &w), everything, "{}", a.username);
    }
}

#[test]
fn scope_follows_the_order_through_return_and_subdispatch() {
    let w = world();
    let street = scope::scope_of(&handler("s440106002"), &w.directory);
    let water = scope::scope_of(&handler("co-water"), &w.directory);
    let mut f = Flow::dispatched(&w, intake("urban.noise", Urgency::Normal, "440104001"), "co-water", &[]);
    assert!(water.allows(&f.order) && !street.allows(&f.order));
    f.ok(&handler("co-water"), Command::Return { reason: reason("非供水问题") });
    assert!(!water.allows(&f.order));
    f.ok(&dispatcher(), dispatch_to("d440106", &[]));
    f.ok(&handler("d440106"), Command::Subdispatch { unit: unit("s440106002"), note: None });
    assert!(street.allows(&f.order));
}

#[test]
fn a_leader_of_a_district_government_sees_what_the_district_government_sees() {
    let w = world();
    let district_leader = actor("leader.d440106", &[Role::Leader], Some("d440106"));
    assert_eq!(scope::scope_of(&district_leader, &w.directory), scope::scope_of(&handler("d440106"), &w.directory));
    assert!(matches!(scope::scope_of(&district_leader, &w.directory), scope::Scope::Limited { .. }));
    assert_eq!(
        scope::area_of(&district_leader, &w.directory),
        scope::Area::Within(lianxin_domain::JurisdictionCode::parse("440106").unwrap())
    );
    // The hotline's own leader, and a leader of the hotline centre, see everything.
    assert_eq!(scope::scope_of(&leader(), &w.directory), scope::Scope::All);
    assert_eq!(scope::scope_of(&actor("l", &[Role::Leader], Some("hotline")), &w.directory), scope::Scope::All);
    // A confidential caller is hidden from a unit's leader as from its handlers.
    let mut it = streetlight();
    it.caller.confidential = true;
    let order = Flow::dispatched(&w, it, "s440106001", &[]).order;
    assert_eq!(scope::caller_view(&district_leader, &order), CallerView::Hidden);
}

#[test]
fn confidential_caller_is_hidden_from_handlers_full_for_operator_masked_for_leader() {
    let w = world();
    let mut it = streetlight();
    it.caller.confidential = true;
    let order = Flow::dispatched(&w, it, "s440106001", &[]).order;
    for h in [handler("s440106001"), handler("d440106"), actor("ua", &[Role::UnitAdmin], Some("s440106001"))] {
        assert_eq!(scope::caller_view(&h, &order), CallerView::Hidden, "{}", h.username);
    }
    assert_eq!(scope::caller_view(&operator(), &order), CallerView::Full);
    assert_eq!(scope::caller_view(&callback_agent(), &order), CallerView::Full);
    assert_eq!(scope::caller_view(&supervisor(), &order), CallerView::Full);
    assert_eq!(scope::caller_view(&leader(), &order), CallerView::Masked);
    assert_eq!(scope::caller_view(&dispatcher(), &order), CallerView::Masked);
    assert_eq!(scope::caller_view(&reviewer(), &order), CallerView::Masked);
}

#[test]
fn ordinary_caller_is_full_for_handlers_and_operators_masked_for_leader() {
    let w = world();
    let order = Flow::dispatched(&w, streetlight(), "s440106001", &[]).order;
    assert_eq!(scope::caller_view(&handler("s440106001"), &order), CallerView::Full);
    assert_eq!(scope::caller_view(&operator(), &order), CallerView::Full);
    assert_eq!(scope::caller_view(&leader(), &order), CallerView::Masked);
    assert_eq!(order.intake.caller.phone.as_ref().map(|p| p.masked()).as_deref(), Some("138****1234"));
    assert_eq!(scope::mask_name("张三明"), "张*明");
}

#[test]
fn calendar_renders_fixture_times_in_local_offset() {
    let c = Calendar::default();
    assert_eq!(c.rfc3339(at(DISPATCHED_AT)), "2026-11-23T10:00:00.000+08:00");
    assert_eq!(c.local_day_code(at(REGISTERED_AT)), "20261123");
}

#[test]
fn an_extension_whose_date_has_passed_cannot_be_approved_only_denied() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let until = at("2026-12-04T17:00:00+08:00");
    f.ok(&handler("s440106001"), Command::RequestExtension { until, reason: reason("需要施工") });
    f.set_time("2026-12-05T09:00:00+08:00");
    let err = f.refused(&supervisor(), Command::DecideExtension { approve: true, note: None });
    assert!(
        matches!(&err, lianxin_domain::DomainError::Invalid { fields } if fields.contains_key("approve")),
        "{err:?}"
    );
    f.ok(&supervisor(), Command::DecideExtension { approve: false, note: None });
    assert_eq!(f.order.pending_extension, None);
}

#[test]
fn a_subdispatched_street_office_asks_for_its_own_extension() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "d440106", &[]);
    f.ok(&handler("d440106"), Command::Sign);
    let until = at("2026-12-04T17:00:00+08:00");
    f.ok(&handler("d440106"), Command::RequestExtension { until, reason: reason("需要协调") });
    f.ok(&handler("d440106"), Command::Subdispatch { unit: unit("s440106001"), note: None });
    assert_eq!(f.order.pending_extension, None, "the district's request does not follow the order down");
    f.ok(&handler("s440106001"), Command::Sign);
    f.ok(&handler("s440106001"), Command::RequestExtension { until, reason: reason("街道需要施工") });
}

#[test]
fn a_padded_title_is_measured_after_trimming() {
    let w = world();
    let mut intake = streetlight();
    intake.title = format!("  {}  ", "标".repeat(99));
    let ev = lifecycle::register(&w.ctx(), intake, number(1), &operator(), at(REGISTERED_AT)).unwrap();
    let o = lifecycle::apply(None, &ev).unwrap();
    assert_eq!(o.intake.title.chars().count(), 99);
}

#[test]
fn a_derived_title_comes_from_the_callers_words_never_from_the_prompt_lines() {
    let prompts = vec!["具体地址和路灯杆编号".to_owned(), "故障范围（单盏还是整段）".to_owned()];
    // Plain content: the title is its start.
    assert_eq!(lifecycle::derive_title("小区门口路灯不亮。已经三天了", &prompts), "小区门口路灯不亮");
    // The operator wrote the matter, then filled in the inserted prompts.
    let content = "小区门口路灯不亮，晚上很黑\n具体地址和路灯杆编号：天河路12号 L-0031\n故障范围（单盏还是整段）：整段";
    assert_eq!(lifecycle::derive_title(content, &prompts), "小区门口路灯不亮，晚上很黑");
    // Prompts first, the operator's words after them.
    let content = "具体地址和路灯杆编号：天河路12号\n故障范围（单盏还是整段）：\n居民说整条路都黑了";
    assert_eq!(lifecycle::derive_title(content, &prompts), "居民说整条路都黑了");
    // Only the prompts' answers: they make the title, never the labels.
    let content = "具体地址和路灯杆编号：天河路12号\n故障范围（单盏还是整段）：整段";
    assert_eq!(lifecycle::derive_title(content, &prompts), "天河路12号，整段");
    assert!(!lifecycle::derive_title(content, &prompts).contains("编号"));
    // A template prefilled with the category: the blanks left open are skipped, and the
    // labels of those filled in are not the caller's words.
    let content = "来电人反映：【具体地址】天河路口附近路灯不亮。\n【灯杆编号】____\n来电人诉求：尽快维修。";
    assert_eq!(lifecycle::derive_title(content, &prompts), "来电人反映：天河路口附近路灯不亮");
    let content = "来电人反映：【具体地址】____附近路灯不亮。\n【灯杆编号】____\n居民说整条路都黑了";
    assert_eq!(lifecycle::derive_title(content, &prompts), "居民说整条路都黑了");
    let content = "来电人反映：【具体地址】____附近路灯不亮。\n【灯杆编号】____";
    assert_eq!(lifecycle::derive_title(content, &prompts), "来电人反映：附近路灯不亮");
}

fn correct(category_code: Option<&str>, urgency: Option<Urgency>, street: Option<&str>) -> Command {
    Command::Correct {
        category: category_code.map(category),
        request_type: None,
        urgency,
        location: street.map(|s| lianxin_domain::order::Location { street: Some(place(s)), ..Default::default() }),
        note: Some("分类有误".into()),
    }
}

#[test]
fn a_correction_records_before_and_after_and_the_deadline_follows_it() {
    let w = world();
    // A streetlight (5 working days) in review, corrected to a water outage (1 working day)
    // in another district, made urgent (4 working hours).
    let mut f = Flow::register(&w, streetlight(), number(1));
    f.ok(&operator(), Command::Submit);
    let ev = f.ok(&reviewer(), correct(Some("water.outage"), Some(Urgency::Urgent), Some("440104001")));
    assert_eq!(ev.to_status, Status::InReview, "a correction changes no status");
    let Change::Corrected { before, after, note } = &ev.change else { panic!("{:?}", ev.change) };
    assert_eq!(before.category, Some(category("urban.streetlight")));
    assert_eq!(after.category, Some(category("water.outage")));
    assert_eq!((before.urgency, after.urgency), (Some(Urgency::Normal), Some(Urgency::Urgent)));
    let (b, a) = (before.location.as_ref().unwrap(), after.location.as_ref().unwrap());
    assert_eq!(b.district, Some(place("440106")));
    assert_eq!(a.district, Some(place("440104")), "the corrected street's district is resolved");
    assert_eq!(before.request_type, None, "facts not corrected are left out");
    assert_eq!(note.as_deref(), Some("分类有误"));
    assert_eq!(f.order.intake.category, category("water.outage"));
    assert_eq!(f.order.intake.location.street, Some(place("440104001")));
    // Dispatched Monday 10:00: the deadline is the water outage's urgent limit from then,
    // never the streetlight's 5 working days.
    f.ok(&reviewer(), Command::Approve);
    f.set_time(DISPATCHED_AT);
    let ev = f.ok(&dispatcher(), dispatch_to("co-water", &[]));
    let Change::Dispatched { deadline, .. } = ev.change else { panic!() };
    let limit = w.directory.leaf(&category("water.outage")).unwrap().1.time_limits.urgent;
    assert_eq!(deadline, w.calendar.deadline(at(DISPATCHED_AT), limit));
    assert!(deadline < at("2026-11-24T10:00:00+08:00"));
}

#[test]
fn a_correction_is_for_reviewers_and_dispatchers_before_dispatch_and_must_change_something() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    assert_forbidden(&f.refused(&operator(), correct(Some("urban.noise"), None, None)), Action::Correct);
    // Registered: not yet in review.
    assert_illegal(
        &f.refused(&reviewer(), correct(Some("urban.noise"), None, None)),
        Action::Correct,
        Status::Registered,
    );
    f.ok(&operator(), Command::Submit);
    let nothing = Command::Correct { category: None, request_type: None, urgency: None, location: None, note: None };
    assert_invalid(&f.refused(&reviewer(), nothing), &["category"]);
    assert_invalid(&f.refused(&reviewer(), correct(Some("urban"), None, None)), &["category"]);
    assert_invalid(&f.refused(&reviewer(), correct(None, None, Some("440106"))), &["location.street"]);
    // The order's own values: nothing to correct.
    assert_invalid(
        &f.refused(&reviewer(), correct(Some("urban.streetlight"), Some(Urgency::Normal), None)),
        &["category"],
    );
    f.ok(&reviewer(), Command::Approve);
    let ev = f.ok(&dispatcher(), correct(Some("urban.streetlight"), Some(Urgency::Urgent), None));
    let Change::Corrected { after, .. } = &ev.change else { panic!() };
    assert_eq!(after.category, None, "an unchanged fact given along is left out");
    f.ok(&dispatcher(), dispatch_to("s440106001", &[]));
    assert_illegal(
        &f.refused(&dispatcher(), correct(Some("urban.noise"), None, None)),
        Action::Correct,
        Status::Dispatched,
    );
}

#[test]
fn a_contact_added_to_an_open_order_is_a_repeat_contact_and_no_new_order() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
    assert_forbidden(
        &f.refused(&dispatcher(), Command::AddContact { content: "又来电".into(), channel: None, caller: None }),
        Action::AddContact,
    );
    assert_invalid(
        &f.refused(&operator(), Command::AddContact { content: " ".into(), channel: None, caller: None }),
        &["content"],
    );
    let own = f.order.intake.caller.clone();
    let ev = f.ok(
        &operator(),
        Command::AddContact {
            content: " 路灯还是不亮 ".into(), channel: Some(Channel::Phone), caller: Some(own)
        },
    );
    assert_eq!(
        ev.change,
        Change::ContactAdded { content: "路灯还是不亮".into(), channel: Some(Channel::Phone), caller: None },
        "the order's own caller is not copied"
    );
    assert_eq!(f.order.status, Status::Dispatched);
    assert_eq!(f.order.added_contacts, vec![ev.at]);
    let notes = lianxin_domain::notify::notifications(&f.order, &ev);
    assert_eq!(notes.len(), 1, "the lead unit hears that the resident pressed again: {notes:?}");
    let c = lianxin_domain::kpi::contributions(&f.order, &w.calendar);
    let sum = |k| c.iter().filter(|x| x.counter == k).map(|x| x.value).sum::<i64>();
    use lianxin_domain::kpi::Counter;
    assert_eq!((sum(Counter::Registered), sum(Counter::Contacts), sum(Counter::Repeat)), (1, 2, 1));
}

#[test]
fn a_returned_orders_suggestion_passes_over_the_unit_that_returned_it() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &[]);
    let dir = &w.directory;
    let loc = f.order.intake.location.clone();
    let suggest = |o: &lianxin_domain::Order| {
        dir.suggest_lead_avoiding(&o.intake.category, loc.street.as_ref(), loc.district.as_ref(), &o.returned_by())
            .map(|u| u.code.to_string())
    };
    assert_eq!(suggest(&f.order).as_deref(), Some("s440106001"));
    f.ok(&handler("s440106001"), Command::Return { reason: "不属本街道".into() });
    assert_eq!(f.order.returned.last().map(|r| r.reason.as_str()), Some("不属本街道"));
    assert_eq!(f.order.returned_by(), vec![unit("s440106001")]);
    assert_ne!(suggest(&f.order).as_deref(), Some("s440106001"), "never the unit that just returned it");
}
