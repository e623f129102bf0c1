//! Setting up a city: an order's optional place, the routing catalogue, inherited category
//! limits, past orders arriving through `import`, and the checks of imported rows.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use lianxin_domain::calendar::TimeLimit;
use lianxin_domain::kpi::{self, Counter};
use lianxin_domain::lifecycle::{self, PastOrder};
use lianxin_domain::model::*;
use lianxin_domain::reference::{Category, CategorySpec, Directory, PartialLimits, RouteRule};
use lianxin_domain::setup;
use lianxin_domain::{Change, DomainError};
use std::collections::BTreeSet;

fn fields(e: DomainError) -> Vec<String> {
    match e {
        DomainError::Invalid { fields } => fields.into_keys().collect(),
        other => panic!("expected invalid values, got {other:?}"),
    }
}

#[test]
fn an_order_may_have_no_street_or_a_district_alone() {
    let w = world();
    let mut city_wide = intake("urban.noise", Urgency::Normal, "440106001");
    city_wide.location.street = None;
    let ev = lifecycle::register(&w.ctx(), city_wide, number(1), &operator(), at(REGISTERED_AT)).unwrap();
    let o = lifecycle::apply(None, &ev).unwrap();
    assert_eq!((o.intake.location.street.as_ref(), o.intake.location.district.as_ref()), (None, None));

    let mut district = intake("urban.noise", Urgency::Normal, "440106001");
    district.location.street = None;
    district.location.district = Some(place("440106"));
    let ev = lifecycle::register(&w.ctx(), district, number(2), &operator(), at(REGISTERED_AT)).unwrap();
    let o = lifecycle::apply(None, &ev).unwrap();
    assert_eq!(o.intake.location.district, Some(place("440106")));
    // A district role sees the orders placed in its district, street or not.
    let scope = lianxin_domain::scope::scope_of(&handler("d440106"), &w.directory);
    assert!(scope.allows(&o));
    let other = lianxin_domain::scope::scope_of(&handler("s440106001"), &w.directory);
    assert!(!other.allows(&o));

    // A street names its district; one given beside it must agree.
    let mut wrong = intake("urban.noise", Urgency::Normal, "440106001");
    wrong.location.district = Some(place("440104"));
    let err = lifecycle::register(&w.ctx(), wrong, number(3), &operator(), at(REGISTERED_AT)).unwrap_err();
    assert_eq!(fields(err), vec!["location.district"]);
    let mut not_district = intake("urban.noise", Urgency::Normal, "440106001");
    not_district.location.street = None;
    not_district.location.district = Some(place("440106001"));
    let err = lifecycle::register(&w.ctx(), not_district, number(4), &operator(), at(REGISTERED_AT)).unwrap_err();
    assert_eq!(fields(err), vec!["location.district"]);
}

fn with(dir: &Directory, f: impl FnOnce(&mut Vec<Category>, &mut Vec<RouteRule>)) -> Directory {
    let mut cats: Vec<Category> = dir.categories().cloned().collect();
    let mut routes: Vec<RouteRule> = dir.routes().cloned().collect();
    f(&mut cats, &mut routes);
    Directory::new(dir.jurisdictions().cloned().collect(), dir.units().cloned().collect(), cats, routes)
}

#[test]
fn the_nearest_category_then_the_narrowest_place_wins_and_the_own_government_is_the_fallback() {
    let base = directory();
    let lead = |d: &Directory, street: Option<&str>, district: Option<&str>| {
        d.suggest_lead(&category("urban.noise"), street.map(place).as_ref(), district.map(place).as_ref())
            .map(|u| u.code.to_string())
    };
    // No route: the street office, else the district government, else nothing.
    assert_eq!(lead(&base, Some("440106001"), None).as_deref(), Some("s440106001"));
    assert_eq!(lead(&base, None, Some("440106")).as_deref(), Some("d440106"));
    assert_eq!(lead(&base, None, None), None);

    let r = |c: &str, j: Option<&str>, u: &str| RouteRule {
        category: category(c),
        jurisdiction: j.map(place),
        unit: unit(u),
    };
    let d = with(&base, |_, routes| {
        routes.push(r("urban", None, "city-urban"));
        routes.push(r("urban", Some("440106"), "d440106"));
    });
    // The group's rows apply to its leaves; the district row beats "anywhere".
    assert_eq!(lead(&d, Some("440106001"), None).as_deref(), Some("d440106"));
    assert_eq!(lead(&d, Some("440104001"), None).as_deref(), Some("city-urban"));
    assert_eq!(lead(&d, None, None).as_deref(), Some("city-urban"));
    // A row for the leaf itself beats any row of its group.
    let d = with(&d, |_, routes| routes.push(r("urban.noise", None, "co-water")));
    assert_eq!(lead(&d, Some("440106001"), None).as_deref(), Some("co-water"));
    // A deactivated unit is passed over.
    let mut units: Vec<_> = d.units().cloned().collect();
    units.iter_mut().filter(|u| u.code.as_str() == "co-water").for_each(|u| u.active = false);
    let d = Directory::new(
        d.jurisdictions().cloned().collect(),
        units,
        d.categories().cloned().collect(),
        d.routes().cloned().collect(),
    );
    assert_eq!(lead(&d, Some("440106001"), None).as_deref(), Some("d440106"));
}

#[test]
fn leaves_inherit_limits_request_type_and_prompts_from_the_nearest_group_then_the_defaults() {
    let base = directory();
    let d = with(&base, |cats, _| {
        let g = cats.iter_mut().find(|c| c.code.as_str() == "urban").unwrap();
        g.spec = CategorySpec {
            request_type: Some(RequestType::Help),
            time_limits: PartialLimits { normal: Some(TimeLimit::WorkingDays(3)), ..Default::default() },
            prompts: vec!["在哪里".into()],
            keywords: Vec::new(),
        };
        cats.push(Category {
            code: category("urban.dust"),
            name: "扬尘".into(),
            parent: Some(category("urban")),
            position: 9,
            spec: CategorySpec {
                time_limits: PartialLimits { urgent: Some(TimeLimit::WorkingHours(4)), ..Default::default() },
                ..Default::default()
            },
            active: true,
            leaf: None,
        });
    });
    let (_, leaf) = d.leaf(&category("urban.dust")).unwrap();
    assert_eq!(leaf.time_limits.normal, TimeLimit::WorkingDays(3));
    assert_eq!(leaf.time_limits.urgent, TimeLimit::WorkingHours(4));
    assert_eq!(leaf.time_limits.emergency, TimeLimit::Hours(2));
    assert_eq!(leaf.request_type, Some(RequestType::Help));
    assert_eq!(leaf.prompts, vec!["在哪里".to_owned()]);
    assert!(d.leaf(&category("urban")).is_none(), "a parent is a group");
}

#[test]
fn a_deactivated_category_is_refused_at_intake_but_stays_on_old_orders() {
    let w = world();
    let ev = lifecycle::register(
        &w.ctx(),
        intake("urban.streetlight", Urgency::Normal, "440106001"),
        number(1),
        &operator(),
        at(REGISTERED_AT),
    )
    .unwrap();
    let old = lifecycle::apply(None, &ev).unwrap();
    let d = with(&w.directory, |cats, _| {
        cats.iter_mut().find(|c| c.code.as_str() == "urban.streetlight").unwrap().active = false;
    });
    let ctx = lifecycle::Context { directory: &d, calendar: &w.calendar, policy: &w.policy };
    let err = lifecycle::register(
        &ctx,
        intake("urban.streetlight", Urgency::Normal, "440106001"),
        number(2),
        &operator(),
        at(REGISTERED_AT),
    )
    .unwrap_err();
    assert_eq!(fields(err), vec!["category"]);
    // The old order still moves on.
    let ev = lifecycle::decide(&ctx, &old, &lianxin_domain::Command::Submit, &operator(), at(REGISTERED_AT)).unwrap();
    assert_eq!(ev.to_status, Status::InReview);
}

fn past(source: &str) -> PastOrder {
    let mut i = intake("urban.streetlight", Urgency::Normal, "440106001");
    i.channel = None;
    i.caller.phone = None;
    PastOrder {
        source_ref: source.into(),
        created_at: at("2026-11-02T09:00:00+08:00"),
        intake: i,
        lead_unit: Some(unit("s440106001")),
        replied_at: Some(at("2026-11-04T10:00:00+08:00")),
        reply: Some("已修复".into()),
        closed_at: Some(at("2026-11-05T10:00:00+08:00")),
        satisfaction: Some(Satisfaction::Satisfied),
    }
}

#[test]
fn a_past_order_arrives_in_its_state_with_one_event_that_replays() {
    let w = world();
    let importer = system();
    let closed = lifecycle::import(&w.ctx(), past("HK-1"), number(1), &importer).unwrap();
    assert_eq!((closed.seq, closed.from_status, closed.to_status), (1, None, Status::Closed));
    let o = lifecycle::replay([&closed]).unwrap().unwrap();
    assert_eq!(o.source_ref.as_deref(), Some("HK-1"));
    assert_eq!(o.lead_unit, Some(unit("s440106001")));
    assert_eq!(o.reply.as_ref().map(|r| (r.content.as_str(), r.solved)), Some(("已修复", None)));
    assert_eq!(o.callback.as_ref().map(|c| (c.satisfaction, c.solved)), Some((Satisfaction::Satisfied, None)));
    assert!(o.signed_at.is_none(), "no sign-for time is made up");
    // Five working days from Monday 2 November 09:00: replied on the Wednesday, on time.
    assert!(o.deadline.unwrap() > o.reply.as_ref().unwrap().at);
    let c: BTreeSet<Counter> = kpi::contributions(&o, &w.calendar).iter().map(|c| c.counter).collect();
    for counter in [
        Counter::Registered,
        Counter::Dispatched,
        Counter::Replied,
        Counter::RepliedOnTime,
        Counter::Rated,
        Counter::Satisfied,
        Counter::Completed,
    ] {
        assert!(c.contains(&counter), "{counter:?} in {c:?}");
    }
    // Satisfaction counts; whether it was solved was never asked, so it is not counted.
    assert!(!c.contains(&Counter::Asked) && !c.contains(&Counter::Solved) && !c.contains(&Counter::Signed));

    // With a lead unit and no close: in progress at that unit, still owing its reply.
    let mut open = past("HK-2");
    open.closed_at = None;
    open.satisfaction = None;
    let ev = lifecycle::import(&w.ctx(), open, number(2), &importer).unwrap();
    let o = lifecycle::replay([&ev]).unwrap().unwrap();
    assert_eq!((o.status, o.reply.is_none()), (Status::InProgress, true));
    let handler = handler("s440106001");
    let ev2 = lifecycle::decide(
        &w.ctx(),
        &o,
        &lianxin_domain::Command::Reply { content: "已处理".into(), solved: true },
        &handler,
        at("2026-11-06T10:00:00+08:00"),
    )
    .unwrap();
    assert_eq!(ev2.to_status, Status::Replied);

    // No unit: waiting for dispatch; no unit and closed: answered at first contact.
    let mut pending = past("HK-3");
    (pending.lead_unit, pending.closed_at, pending.satisfaction) = (None, None, None);
    let ev = lifecycle::import(&w.ctx(), pending, number(3), &importer).unwrap();
    assert_eq!(ev.to_status, Status::PendingDispatch);
    let mut answered = past("HK-4");
    (answered.lead_unit, answered.satisfaction) = (None, None);
    let ev = lifecycle::import(&w.ctx(), answered, number(4), &importer).unwrap();
    let o = lifecycle::replay([&ev]).unwrap().unwrap();
    assert_eq!((o.status, o.first_contact.is_some()), (Status::Closed, true));
    assert!(matches!(ev.change, Change::Imported { .. }));
}

#[test]
fn a_past_order_that_contradicts_itself_is_refused_with_each_field_named() {
    let w = world();
    let mut bad = past("HK-9");
    bad.closed_at = Some(at("2026-11-01T09:00:00+08:00"));
    bad.lead_unit = Some(unit("hotline"));
    bad.intake.category = category("urban");
    let err = lifecycle::import(&w.ctx(), bad, number(1), &system()).unwrap_err();
    assert_eq!(fields(err), vec!["category", "closed_at", "lead_unit"]);
    let mut early = past("HK-10");
    early.closed_at = None;
    let err = lifecycle::import(&w.ctx(), early, number(1), &system()).unwrap_err();
    assert_eq!(fields(err), vec!["satisfaction"]);
    // Import is never a command.
    let o = lifecycle::replay([&lifecycle::import(&w.ctx(), past("HK-11"), number(1), &system()).unwrap()])
        .unwrap()
        .unwrap();
    assert!(lifecycle::authorize(&o, Action::Import, &system()).is_err());
}

#[test]
fn imported_rows_are_checked_for_parents_cycles_duplicates_and_levels() {
    let d = directory();
    let unit_row = |code: &str, parent: Option<&str>| lianxin_domain::reference::Unit {
        code: unit(code),
        name: code.into(),
        kind: UnitKind::Department,
        parent: parent.map(unit),
        jurisdiction: None,
        active: true,
    };
    // A cycle through two new rows, and one through a stored row.
    let errs = setup::plan_units(&d, &[(2, unit_row("a", Some("b"))), (3, unit_row("b", Some("a")))]).unwrap_err();
    assert_eq!(
        errs.iter().map(|e| (e.line, e.column.as_str())).collect::<Vec<_>>(),
        vec![(2, "parent"), (3, "parent")]
    );
    assert!(errs[0].message.contains("cycle"), "{errs:?}");
    let errs = setup::plan_units(&d, &[(2, unit_row("d440106", Some("s440106001")))]).unwrap_err();
    assert!(errs.iter().any(|e| e.line == 2 && e.message.contains("cycle")), "{errs:?}");
    let errs = setup::plan_units(&d, &[(2, unit_row("x", Some("nowhere")))]).unwrap_err();
    assert_eq!((errs[0].line, errs[0].column.as_str()), (2, "parent"));
    let errs = setup::plan_units(&d, &[(2, unit_row("x", None)), (5, unit_row("x", None))]).unwrap_err();
    assert_eq!((errs[0].line, errs[0].column.as_str()), (5, "code"));
    assert!(errs[0].message.contains("line 2"));
    // Re-stating what is stored changes nothing; a new name is an update.
    let same: Vec<_> = d.units().cloned().enumerate().map(|(i, u)| (i + 2, u)).collect();
    let plan = setup::plan_units(&d, &same).unwrap();
    assert!(plan.is_empty() && plan.unchanged == same.len());
    let mut renamed = d.unit(&unit("co-water")).unwrap().clone();
    renamed.name = "自来水公司".into();
    let plan = setup::plan_units(&d, &[(2, renamed)]).unwrap();
    assert_eq!((plan.created.len(), plan.updated.len()), (0, 1));

    let j = |code: &str, level: JurisdictionLevel, parent: Option<&str>| lianxin_domain::reference::Jurisdiction {
        code: place(code),
        name: code.into(),
        level,
        parent: parent.map(place),
        active: true,
    };
    let errs = setup::plan_jurisdictions(
        &d,
        &[
            (2, j("440199001", JurisdictionLevel::Street, Some("4401"))),
            (3, j("4402", JurisdictionLevel::City, None)),
            (4, j("440198", JurisdictionLevel::District, None)),
        ],
    )
    .unwrap_err();
    assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3, 4], "{errs:?}");

    // A category that orders carry cannot become a group.
    let child = Category {
        code: category("urban.noise.night"),
        name: "夜间噪音".into(),
        parent: Some(category("urban.noise")),
        position: 0,
        spec: CategorySpec::default(),
        active: true,
        leaf: None,
    };
    let in_use: BTreeSet<CategoryCode> = [category("urban.noise")].into();
    let errs = setup::plan_categories(&d, &[(2, child.clone())], &in_use).unwrap_err();
    assert_eq!((errs[0].line, errs[0].column.as_str()), (2, "parent"));
    assert!(setup::plan_categories(&d, &[(2, child)], &BTreeSet::new()).is_ok());

    // Routes name a known category, a district or street, and a unit that can handle.
    let r = |c: &str, j: Option<&str>, u: &str| RouteRule {
        category: category(c),
        jurisdiction: j.map(place),
        unit: unit(u),
    };
    let errs = setup::plan_routes(&d, &[(2, r("nope", Some("4401"), "hotline"))]).unwrap_err();
    assert_eq!(errs.iter().map(|e| e.column.as_str()).collect::<Vec<_>>(), vec!["category", "jurisdiction", "unit"]);
}
