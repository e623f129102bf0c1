//! The shared fixture of the domain's integration tests: reference data, actors, intakes, and `Flow`, a driver that checks every step the
//! way the lifecycle property test does.
#![allow(dead_code, clippy::unwrap_used)]

use lianxin_domain::Millis;
use lianxin_domain::calendar::{Calendar, TimeLimit};
use lianxin_domain::command::{Actor, Command};
use lianxin_domain::error::DomainError;
use lianxin_domain::event::{Change, Event};
use lianxin_domain::lifecycle::{self, Context, Policy};
use lianxin_domain::model::*;
use lianxin_domain::order::{Caller, Intake, Location, Order};
use lianxin_domain::reference::{
    Category, CategorySpec, Directory, Jurisdiction, PartialLimits, RouteRule, TimeLimits, Unit,
};

pub const MINUTE: Millis = 60_000;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// Monday 23 November 2026, 09:00 in Guangzhou: when the fixture's orders are registered.
pub const REGISTERED_AT: &str = "2026-11-23T09:00:00+08:00";
/// Monday 10:00: when `Flow::dispatched` dispatches.
pub const DISPATCHED_AT: &str = "2026-11-23T10:00:00+08:00";

/// Every unit of the fixture, handling or not.
pub const UNIT_CODES: &[&str] =
    &["hotline", "dispatch", "city-urban", "d440106", "s440106001", "s440106002", "co-water"];
/// The units that may lead or assist.
pub const HANDLING_UNITS: &[&str] = &["city-urban", "d440106", "s440106001", "s440106002", "co-water"];

pub fn unit(code: &str) -> UnitCode {
    UnitCode::parse(code).unwrap()
}

pub fn place(code: &str) -> JurisdictionCode {
    JurisdictionCode::parse(code).unwrap()
}

pub fn category(code: &str) -> CategoryCode {
    CategoryCode::parse(code).unwrap()
}

pub fn number(seq: u64) -> OrderNumber {
    OrderNumber::format("20261123", seq)
}

pub fn at(rfc3339: &str) -> Millis {
    Calendar::parse_rfc3339(rfc3339).unwrap()
}

fn limits(normal: &str, urgent: &str, emergency: &str) -> TimeLimits {
    TimeLimits {
        normal: TimeLimit::parse(normal).unwrap(),
        urgent: TimeLimit::parse(urgent).unwrap(),
        emergency: TimeLimit::parse(emergency).unwrap(),
    }
}

/// City 4401 → district 440106 (streets 001, 002) and district 440104 (street 001);
/// the hotline and dispatch centres, a department, a district government with two
/// street offices below it, a water company; an `urban` group with two leaves routed to
/// the street, and `water.outage` routed to the water company.
pub fn directory() -> Directory {
    directory_with(true)
}

/// The fixture directory, optionally without the `water.outage` category (as if an
/// admin removed it after orders were registered under it).
pub fn directory_with(water_outage: bool) -> Directory {
    let j = |code: &str, name: &str, level: JurisdictionLevel, parent: Option<&str>| Jurisdiction {
        code: place(code),
        name: name.to_owned(),
        level,
        parent: parent.map(place),
        active: true,
    };
    let jurisdictions = vec![
        j("4401", "广州市", JurisdictionLevel::City, None),
        j("440106", "天河区", JurisdictionLevel::District, Some("4401")),
        j("440106001", "五山街道", JurisdictionLevel::Street, Some("440106")),
        j("440106002", "员村街道", JurisdictionLevel::Street, Some("440106")),
        j("440104", "越秀区", JurisdictionLevel::District, Some("4401")),
        j("440104001", "洪桥街道", JurisdictionLevel::Street, Some("440104")),
    ];
    let u = |code: &str, kind: UnitKind, parent: Option<&str>, jurisdiction: Option<&str>| Unit {
        code: unit(code),
        name: code.to_uppercase(),
        kind,
        parent: parent.map(unit),
        jurisdiction: jurisdiction.map(place),
        active: true,
    };
    let units = vec![
        u("hotline", UnitKind::HotlineCentre, None, Some("4401")),
        u("dispatch", UnitKind::DispatchCentre, None, Some("4401")),
        u("city-urban", UnitKind::Department, None, Some("4401")),
        u("d440106", UnitKind::District, None, Some("440106")),
        u("s440106001", UnitKind::Street, Some("d440106"), Some("440106001")),
        u("s440106002", UnitKind::Street, Some("d440106"), Some("440106002")),
        u("co-water", UnitKind::Company, None, None),
    ];
    let spec = |request_type: RequestType, l: TimeLimits, prompts: Vec<String>| CategorySpec {
        request_type: Some(request_type),
        time_limits: PartialLimits { normal: Some(l.normal), urgent: Some(l.urgent), emergency: Some(l.emergency) },
        prompts,
        keywords: Vec::new(),
    };
    let cat = |code: &str, name: &str, parent: Option<&str>, position: i64, spec: CategorySpec| Category {
        code: category(code),
        name: name.into(),
        parent: parent.map(category),
        position,
        spec,
        active: true,
        leaf: None,
    };
    let urban = || spec(RequestType::Complaint, limits("5wd", "1wd", "2h"), vec![]);
    let mut categories = vec![
        cat("urban", "城市管理", None, 1, CategorySpec::default()),
        cat("urban.streetlight", "路灯", Some("urban"), 1, urban()),
        cat("urban.noise", "噪音", Some("urban"), 2, spec(RequestType::Report, limits("5wd", "1wd", "2h"), vec![])),
    ];
    // The urban leaves go to the order's own street office (the catalogue's fallback).
    let mut routes = Vec::new();
    if water_outage {
        categories.push(cat(
            "water.outage",
            "停水",
            None,
            2,
            spec(RequestType::Help, limits("1wd", "4wh", "1h"), vec!["停水范围".into()]),
        ));
        routes.push(RouteRule { category: category("water.outage"), jurisdiction: None, unit: unit("co-water") });
    }
    Directory::new(jurisdictions, units, categories, routes)
}

/// Reference data, calendar and policy: what `Context` borrows.
pub struct World {
    pub directory: Directory,
    pub calendar: Calendar,
    pub policy: Policy,
}

impl World {
    pub fn ctx(&self) -> Context<'_> {
        Context { directory: &self.directory, calendar: &self.calendar, policy: &self.policy }
    }
}

pub fn world() -> World {
    World { directory: directory(), calendar: Calendar::default(), policy: Policy::default() }
}

pub fn actor(username: &str, roles: &[Role], unit_code: Option<&str>) -> Actor {
    Actor { username: username.to_owned(), roles: roles.to_vec(), unit: unit_code.map(unit) }
}

pub fn operator() -> Actor {
    actor("operator", &[Role::Operator], Some("hotline"))
}

pub fn reviewer() -> Actor {
    actor("reviewer", &[Role::Reviewer], Some("hotline"))
}

pub fn dispatcher() -> Actor {
    actor("dispatcher", &[Role::Dispatcher], Some("dispatch"))
}

pub fn callback_agent() -> Actor {
    actor("callback", &[Role::Callback], Some("hotline"))
}

pub fn supervisor() -> Actor {
    actor("supervisor", &[Role::Supervisor], Some("hotline"))
}

pub fn leader() -> Actor {
    actor("leader", &[Role::Leader], None)
}

/// A handler (办理人) of a unit.
pub fn handler(unit_code: &str) -> Actor {
    actor(&format!("handler@{unit_code}"), &[Role::Handler], Some(unit_code))
}

/// The city-wide actors.
pub fn city_actors() -> Vec<Actor> {
    vec![operator(), reviewer(), dispatcher(), callback_agent(), supervisor(), leader()]
}

/// The platform itself: the supervision sweeper and the QA sampling job.
pub fn system() -> Actor {
    Actor::system()
}

/// Everyone the property test picks from.
pub fn all_actors() -> Vec<Actor> {
    let mut all = city_actors();
    all.extend(["city-urban", "d440106", "s440106001", "s440106002", "co-water"].map(handler));
    all.push(system());
    all
}

pub fn intake(category_code: &str, urgency: Urgency, street: &str) -> Intake {
    Intake {
        channel: Some(Channel::Phone),
        request_type: RequestType::Complaint,
        category: category(category_code),
        urgency,
        title: String::new(),
        content: "小区门口路灯不亮。已经三天了，晚上很危险".into(),
        caller: Caller {
            phone: Some(PhoneNumber::parse("138-0000-1234").unwrap()),
            name: Some("张三明".into()),
            confidential: false,
        },
        location: Location {
            address: Some("五山路 1 号".into()),
            street: Some(place(street)),
            district: None,
            lat: Some(23.15),
            lon: Some(113.35),
        },
    }
}

/// A normal street-light complaint on street 440106001.
pub fn streetlight() -> Intake {
    intake("urban.streetlight", Urgency::Normal, "440106001")
}

pub fn dispatch_to(lead: &str, assisting: &[&str]) -> Command {
    Command::Dispatch {
        lead_unit: unit(lead),
        assisting_units: assisting.iter().map(|a| unit(a)).collect(),
        note: Some("请尽快核查".into()),
    }
}

pub fn reason(text: &str) -> String {
    text.to_owned()
}

/// One order driven through the lifecycle. Every attempt checks what the property test
/// checks: accepted events follow the version and replay to the order; refusals leave
/// the order as it was.
pub struct Flow<'w> {
    pub world: &'w World,
    pub order: Order,
    pub log: Vec<Event>,
    /// When the next command is issued; each attempt advances it by a minute.
    pub now: Millis,
}

impl<'w> Flow<'w> {
    pub fn register(world: &'w World, intake: Intake, number: OrderNumber) -> Flow<'w> {
        Flow::register_at(world, intake, number, REGISTERED_AT, false)
    }

    /// Registered at a given time; `repeat_contact` is stamped into the `Registered` change
    /// by hand, as the store does when the caller had an order in the category lately.
    pub fn register_at(
        world: &'w World,
        intake: Intake,
        number: OrderNumber,
        rfc3339: &str,
        repeat_contact: bool,
    ) -> Flow<'w> {
        let now = at(rfc3339);
        let mut ev = lifecycle::register(&world.ctx(), intake, number, &operator(), now).unwrap();
        match &mut ev.change {
            Change::Registered { repeat_contact: r, .. } => {
                assert!(!*r, "register never stamps a repeat contact itself");
                *r = repeat_contact;
            }
            other => panic!("register produced {other:?}"),
        }
        let order = lifecycle::apply(None, &ev).unwrap();
        assert_eq!(order.repeat_contact, repeat_contact);
        Flow { world, order, log: vec![ev], now: now + MINUTE }
    }

    /// Registered, submitted and approved.
    pub fn pending_dispatch(world: &'w World, intake: Intake) -> Flow<'w> {
        let mut f = Flow::register(world, intake, number(1));
        f.ok(&operator(), Command::Submit);
        f.ok(&reviewer(), Command::Approve);
        f
    }

    /// Dispatched at Monday 10:00.
    pub fn dispatched(world: &'w World, intake: Intake, lead: &str, assisting: &[&str]) -> Flow<'w> {
        let mut f = Flow::pending_dispatch(world, intake);
        f.set_time(DISPATCHED_AT);
        f.ok(&dispatcher(), dispatch_to(lead, assisting));
        f
    }

    pub fn in_progress(world: &'w World, lead: &str) -> Flow<'w> {
        let mut f = Flow::dispatched(world, streetlight(), lead, &[]);
        f.ok(&handler(lead), Command::Sign);
        f
    }

    pub fn replied(world: &'w World, lead: &str) -> Flow<'w> {
        let mut f = Flow::in_progress(world, lead);
        f.ok(&handler(lead), Command::Reply { content: "已更换灯泡".into(), solved: true });
        f
    }

    /// Closed after a satisfied callback.
    pub fn closed(world: &'w World) -> Flow<'w> {
        let mut f = Flow::replied(world, "s440106001");
        f.ok(
            &callback_agent(),
            Command::Callback { satisfaction: Satisfaction::Satisfied, solved: Some(true), note: None },
        );
        f
    }

    pub fn set_time(&mut self, rfc3339: &str) {
        self.now = at(rfc3339);
    }

    /// `ok` at a given time.
    #[track_caller]
    pub fn ok_at(&mut self, rfc3339: &str, actor: &Actor, cmd: Command) -> Event {
        self.set_time(rfc3339);
        self.ok(actor, cmd)
    }

    /// `refused` at a given time.
    #[track_caller]
    pub fn refused_at(&mut self, rfc3339: &str, actor: &Actor, cmd: Command) -> DomainError {
        self.set_time(rfc3339);
        self.refused(actor, cmd)
    }

    pub fn time(&self, at: Millis) -> String {
        self.world.calendar.rfc3339(at)
    }

    pub fn attempt(&mut self, actor: &Actor, cmd: Command) -> Result<Event, DomainError> {
        let before = self.order.clone();
        let result = lifecycle::decide(&self.world.ctx(), &self.order, &cmd, actor, self.now);
        match &result {
            Ok(ev) => {
                assert_eq!(ev.seq, before.version + 1, "event follows the version");
                assert_eq!(ev.at, self.now);
                assert_eq!(ev.actor, actor.username);
                assert_eq!(ev.unit, actor.unit);
                assert_eq!(ev.from_status, Some(before.status));
                let next = lifecycle::apply(Some(before.clone()), ev).unwrap();
                assert_eq!(next.version, before.version + 1);
                assert_eq!(next.status, ev.to_status);
                self.order = next;
                self.log.push(ev.clone());
                assert_eq!(lifecycle::replay(&self.log), Ok(Some(self.order.clone())));
            }
            Err(_) => assert_eq!(self.order, before, "a refusal changes nothing"),
        }
        self.now += MINUTE;
        result
    }

    #[track_caller]
    pub fn ok(&mut self, actor: &Actor, cmd: Command) -> Event {
        let action = cmd.action();
        match self.attempt(actor, cmd) {
            Ok(ev) => ev,
            Err(e) => panic!("`{action}` by {} was refused: {e:?}", actor.username),
        }
    }

    #[track_caller]
    pub fn refused(&mut self, actor: &Actor, cmd: Command) -> DomainError {
        let action = cmd.action();
        match self.attempt(actor, cmd) {
            Ok(ev) => panic!("`{action}` by {} was accepted: {ev:?}", actor.username),
            Err(e) => e,
        }
    }
}

#[track_caller]
pub fn assert_forbidden(err: &DomainError, expected: Action) {
    match err {
        DomainError::Forbidden { action, .. } => assert_eq!(*action, expected),
        other => panic!("expected Forbidden for `{expected}`, got {other:?}"),
    }
    assert_eq!(err.code(), "forbidden_role");
}

/// The refusal is `Invalid` and names exactly these fields.
#[track_caller]
pub fn assert_invalid(err: &DomainError, expected: &[&str]) {
    match err {
        DomainError::Invalid { fields } => {
            let named: Vec<&str> = fields.keys().map(String::as_str).collect();
            assert_eq!(named, expected, "{err}");
        }
        other => panic!("expected Invalid on {expected:?}, got {other:?}"),
    }
    assert_eq!(err.code(), "invalid_values");
}

#[track_caller]
pub fn assert_illegal(err: &DomainError, expected: Action, in_status: Status) {
    match err {
        DomainError::IllegalTransition { action, status, .. } => {
            assert_eq!((*action, *status), (expected, in_status), "{err}");
        }
        other => panic!("expected IllegalTransition for `{expected}` in `{in_status}`, got {other:?}"),
    }
    assert_eq!(err.code(), "illegal_transition");
}
