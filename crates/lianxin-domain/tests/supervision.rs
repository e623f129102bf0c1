//! Supervision (督办): yellow and red warnings from the sweeper, the deadlines for callbacks
//! and extension decisions, quality-assurance sampling, and who hears about what.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use lianxin_domain::command::Command;
use lianxin_domain::event::{Change, Event};
use lianxin_domain::lifecycle;
use lianxin_domain::model::*;
use lianxin_domain::notify::{self, Draft, Recipient};
use lianxin_domain::order::{Order, Warning};

const YELLOW_NOTE: &str = "【黄牌预警】办理时限已过大半，请抓紧办理。";
const RED_NOTE: &str = "【红牌督办】已超过办理时限，请立即办理并反馈。";

fn warn(level: WarnLevel) -> Command {
    Command::SystemUrge { level }
}

fn urged(level: WarnLevel) -> Change {
    match level {
        WarnLevel::Yellow => Change::Urged { note: YELLOW_NOTE.into(), level: 1, warning: Some(level) },
        WarnLevel::Red => Change::Urged { note: RED_NOTE.into(), level: 2, warning: Some(level) },
    }
}

fn satisfied() -> Command {
    Command::Callback { satisfaction: Satisfaction::Satisfied, solved: Some(true), note: None }
}

/// A normal street-light order dispatched to s440106001 on Monday 23 November 10:00.
fn dispatched(w: &World) -> Flow<'_> {
    Flow::dispatched(w, streetlight(), "s440106001", &[])
}

// ---------------------------------------------------------------------------------------
// The yellow point and the red deadline.
// ---------------------------------------------------------------------------------------

#[test]
fn the_yellow_point_of_five_working_days_from_monday_ten_is_thursday_quarter_past_five() {
    let w = world();
    let f = dispatched(&w);
    // 5 working days are 5 × 7 h = 2100 working minutes; 75 % of them are 1575 minutes
    // (26 h 15 min): Monday 10:00–17:30 has 5 h 30, Tuesday and Wednesday 7 h each, so
    // 6 h 45 remain on Thursday: 08:30–12:00 (3 h 30) and 14:00–17:15 (3 h 15).
    let yellow = at("2026-11-26T17:15:00+08:00");
    let red = at("2026-11-30T10:00:00+08:00");
    assert_eq!(f.order.warn_at, Some(yellow));
    assert_eq!(f.order.deadline, Some(red));
    assert_eq!(f.order.yellow_at(75), Some(yellow));
    match &f.log.last().unwrap().change {
        Change::Dispatched { warn_at, deadline, .. } => assert_eq!((*warn_at, *deadline), (Some(yellow), red)),
        other => panic!("expected Dispatched, got {other:?}"),
    }
    let o = &f.order;
    assert_eq!(o.warning_due(yellow - MINUTE, 75), None);
    assert_eq!(o.warning_due(yellow, 75), Some(WarnLevel::Yellow));
    assert_eq!(o.warning_due(red - MINUTE, 75), Some(WarnLevel::Yellow));
    assert_eq!(o.warning_due(red, 75), Some(WarnLevel::Red));
    assert_eq!(o.warned_level(), None);
}

#[test]
fn emergency_orders_turn_yellow_at_three_quarters_of_wall_clock_time() {
    let w = world();
    let f = Flow::dispatched(&w, intake("urban.noise", Urgency::Emergency, "440106002"), "s440106002", &[]);
    // 2 wall-clock hours from 10:00: yellow at 11:30, red at 12:00.
    assert_eq!(f.time(f.order.warn_at.unwrap()), "2026-11-23T11:30:00.000+08:00");
    assert_eq!(f.time(f.order.deadline.unwrap()), "2026-11-23T12:00:00.000+08:00");
}

#[test]
fn the_sweeper_gives_one_yellow_at_the_yellow_point_and_one_red_at_the_deadline() {
    let w = world();
    let mut f = dispatched(&w);
    let s = system();
    let deadline = f.order.deadline.unwrap();

    let err = f.refused_at("2026-11-26T17:14:00+08:00", &s, warn(WarnLevel::Yellow));
    assert_illegal(&err, Action::Urge, Status::Dispatched);

    let ev = f.ok_at("2026-11-26T17:15:00+08:00", &s, warn(WarnLevel::Yellow));
    assert_eq!(ev.change, urged(WarnLevel::Yellow));
    assert_eq!(ev.change.comment().as_deref(), Some(YELLOW_NOTE));
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Dispatched), Status::Dispatched));
    assert_eq!((ev.actor.as_str(), ev.unit.as_ref()), ("system", None));
    assert_eq!(f.order.warned, Some(Warning { deadline, level: WarnLevel::Yellow }));
    assert_eq!(f.order.warned_level(), Some(WarnLevel::Yellow));
    assert_eq!(f.order.urges, 1);

    // A second yellow for the same deadline is refused.
    assert_illegal(&f.refused(&s, warn(WarnLevel::Yellow)), Action::Urge, Status::Dispatched);

    // Signed for, the order is still supervised.
    f.ok(&handler("s440106001"), Command::Sign);
    let err = f.refused_at("2026-11-30T09:59:00+08:00", &s, warn(WarnLevel::Red));
    assert_illegal(&err, Action::Urge, Status::InProgress);

    let ev = f.ok_at("2026-11-30T10:00:00+08:00", &s, warn(WarnLevel::Red));
    assert_eq!(ev.change, urged(WarnLevel::Red));
    assert_eq!(f.order.warned, Some(Warning { deadline, level: WarnLevel::Red }));
    assert_eq!(f.order.urges, 2);
    assert_eq!(f.order.status, Status::InProgress);

    // Neither a second red nor a late yellow.
    assert_illegal(&f.refused(&s, warn(WarnLevel::Red)), Action::Urge, Status::InProgress);
    assert_illegal(&f.refused(&s, warn(WarnLevel::Yellow)), Action::Urge, Status::InProgress);
}

#[test]
fn a_red_may_come_without_a_yellow_and_then_no_yellow_follows() {
    let w = world();
    let mut f = dispatched(&w);
    f.ok_at("2026-11-30T10:00:00+08:00", &system(), warn(WarnLevel::Red));
    assert_eq!(f.order.warned_level(), Some(WarnLevel::Red));
    assert_illegal(&f.refused(&system(), warn(WarnLevel::Yellow)), Action::Urge, Status::Dispatched);
}

#[test]
fn a_sweeper_that_missed_the_yellow_may_still_give_it_after_the_deadline_then_red() {
    let w = world();
    let mut f = dispatched(&w);
    // Past the deadline the order has reached both thresholds; a yellow not yet given may be.
    f.ok_at("2026-11-30T11:00:00+08:00", &system(), warn(WarnLevel::Yellow));
    f.ok(&system(), warn(WarnLevel::Red));
    assert_eq!(f.order.warned_level(), Some(WarnLevel::Red));
    assert_eq!(f.order.urges, 2);
}

#[test]
fn an_approved_extension_sets_a_new_deadline_and_yellow_point_for_a_new_round() {
    let w = world();
    let mut f = dispatched(&w);
    let h = handler("s440106001");
    f.ok(&h, Command::Sign);
    f.ok_at("2026-11-26T17:15:00+08:00", &system(), warn(WarnLevel::Yellow));

    let until = at("2026-12-11T17:00:00+08:00");
    f.ok_at("2026-11-26T17:16:00+08:00", &h, Command::RequestExtension { until, reason: reason("需要更换电缆") });
    let ev =
        f.ok_at("2026-11-26T17:20:00+08:00", &supervisor(), Command::DecideExtension { approve: true, note: None });
    // Working time from Thursday 17:20 to Friday 11 December 17:00: 10 min + Friday 420 +
    // 5 × 420 + 4 × 420 + Friday 390 = 4600 minutes; 75 % = 3450, which run out on
    // Wednesday 9 December at 08:30 + 80 min = 09:50.
    let new_yellow = at("2026-12-09T09:50:00+08:00");
    assert_eq!(
        ev.change,
        Change::ExtensionDecided { approve: true, note: None, deadline: Some(until), warn_at: Some(new_yellow) }
    );
    assert_eq!((f.order.deadline, f.order.warn_at), (Some(until), Some(new_yellow)));
    // The yellow given was for the old deadline: none is in force for the new one.
    assert_eq!(f.order.warned_level(), None);
    assert_eq!(f.order.warning_due(at("2026-11-30T10:00:00+08:00"), 75), None, "no longer red at the old deadline");

    let err = f.refused_at("2026-12-09T09:49:00+08:00", &system(), warn(WarnLevel::Yellow));
    assert_illegal(&err, Action::Urge, Status::InProgress);
    let ev = f.ok_at("2026-12-09T09:50:00+08:00", &system(), warn(WarnLevel::Yellow));
    assert_eq!(ev.change, urged(WarnLevel::Yellow));
    assert_eq!(f.order.warned, Some(Warning { deadline: until, level: WarnLevel::Yellow }));
    assert_illegal(
        &f.refused_at("2026-12-11T16:59:00+08:00", &system(), warn(WarnLevel::Red)),
        Action::Urge,
        Status::InProgress,
    );
    f.ok_at("2026-12-11T17:00:00+08:00", &system(), warn(WarnLevel::Red));
    assert_eq!(f.order.urges, 3);
}

#[test]
fn a_denied_extension_keeps_the_deadline_the_yellow_point_and_the_warning_given() {
    let w = world();
    let mut f = dispatched(&w);
    let (deadline, yellow) = (f.order.deadline, f.order.warn_at);
    f.ok_at("2026-11-26T17:15:00+08:00", &system(), warn(WarnLevel::Yellow));
    let until = at("2026-12-11T17:00:00+08:00");
    f.ok(&handler("s440106001"), Command::RequestExtension { until, reason: reason("x") });
    f.ok(&dispatcher(), Command::DecideExtension { approve: false, note: None });
    assert_eq!((f.order.deadline, f.order.warn_at), (deadline, yellow));
    assert_eq!(f.order.warned_level(), Some(WarnLevel::Yellow));
    assert_illegal(&f.refused(&system(), warn(WarnLevel::Yellow)), Action::Urge, Status::Dispatched);
}

#[test]
fn a_return_and_a_new_dispatch_start_a_new_round() {
    let w = world();
    let mut f = dispatched(&w);
    f.ok_at("2026-11-26T17:15:00+08:00", &system(), warn(WarnLevel::Yellow));
    f.ok(&handler("s440106001"), Command::Return { reason: reason("非本辖区") });
    assert_eq!((f.order.deadline, f.order.warn_at), (None, None));
    assert_eq!(f.order.warned_level(), None);
    f.ok_at("2026-11-27T09:00:00+08:00", &dispatcher(), dispatch_to("s440106002", &[]));
    // Friday 09:00 + 1575 working minutes: Friday 390, Monday 420, Tuesday 420, and the last
    // 345 on Wednesday: 210 in the morning and 135 after 14:00.
    assert_eq!(f.time(f.order.warn_at.unwrap()), "2026-12-02T16:15:00.000+08:00");
    assert_eq!(f.time(f.order.deadline.unwrap()), "2026-12-04T09:00:00.000+08:00");
    f.ok_at("2026-12-02T16:15:00+08:00", &system(), warn(WarnLevel::Yellow));
    assert_eq!(f.order.warned_level(), Some(WarnLevel::Yellow));
}

#[test]
fn an_unsatisfied_callback_sets_a_new_deadline_and_yellow_point() {
    let w = world();
    let mut f = Flow::replied(&w, "s440106001");
    let ev = f.ok_at(
        "2026-11-25T15:00:00+08:00",
        &callback_agent(),
        Command::Callback { satisfaction: Satisfaction::Unsatisfied, solved: Some(false), note: None },
    );
    // Wednesday 15:00 + 5 working days = next Wednesday 15:00; 1575 working minutes: 150 on
    // Wednesday, 420 each Thursday, Friday and Monday, and 165 on Tuesday from 08:30.
    let (deadline, yellow) = (at("2026-12-02T15:00:00+08:00"), at("2026-12-01T11:15:00+08:00"));
    match &ev.change {
        Change::CalledBack { reopen_deadline, reopen_warn_at, .. } => {
            assert_eq!((*reopen_deadline, *reopen_warn_at), (Some(deadline), Some(yellow)));
        }
        other => panic!("expected CalledBack, got {other:?}"),
    }
    assert_eq!((f.order.deadline, f.order.warn_at), (Some(deadline), Some(yellow)));
    f.ok_at("2026-12-01T11:15:00+08:00", &system(), warn(WarnLevel::Yellow));
}

#[test]
fn only_the_system_sends_automatic_warnings() {
    let w = world();
    let mut f = dispatched(&w);
    f.set_time("2026-11-30T10:00:00+08:00");
    for actor in [supervisor(), dispatcher(), leader(), operator(), handler("s440106001")] {
        assert_forbidden(&f.refused(&actor, warn(WarnLevel::Yellow)), Action::Urge);
        assert_forbidden(&f.refused(&actor, warn(WarnLevel::Red)), Action::Urge);
    }
    // Role is checked before state: a supervisor is refused as such on a closed order too.
    let mut closed = Flow::closed(&w);
    assert_forbidden(&closed.refused(&supervisor(), warn(WarnLevel::Red)), Action::Urge);
    f.ok(&system(), warn(WarnLevel::Red));
}

#[test]
fn automatic_warnings_are_only_for_orders_being_handled() {
    let w = world();
    let late = "2027-01-04T10:00:00+08:00";
    let mut f = Flow::pending_dispatch(&w, streetlight());
    assert_illegal(&f.refused_at(late, &system(), warn(WarnLevel::Red)), Action::Urge, Status::PendingDispatch);
    // Replied (even late) or closed orders are no longer supervised for handling time.
    let mut f = Flow::replied(&w, "s440106001");
    assert_illegal(&f.refused_at(late, &system(), warn(WarnLevel::Red)), Action::Urge, Status::Replied);
    assert_illegal(&f.refused(&system(), warn(WarnLevel::Yellow)), Action::Urge, Status::Replied);
    f.ok(&callback_agent(), satisfied());
    assert_illegal(&f.refused(&system(), warn(WarnLevel::Red)), Action::Urge, Status::Closed);
}

#[test]
fn a_manual_urge_is_open_to_the_system_and_records_no_warning() {
    let w = world();
    let mut f = dispatched(&w);
    let ev = f.ok(&system(), Command::Urge { note: " 请尽快处理 ".into(), level: 3 });
    assert_eq!(ev.change, Change::Urged { note: "请尽快处理".into(), level: 3, warning: None });
    assert_eq!((f.order.urges, f.order.warned), (1, None));
    // It does not count as the yellow warning, which the sweeper still gives.
    f.ok_at("2026-11-26T17:15:00+08:00", &system(), warn(WarnLevel::Yellow));
    // And a supervisor's urge afterwards leaves the warning as it was.
    f.ok(&supervisor(), Command::Urge { note: reason("再催"), level: 2 });
    assert_eq!(f.order.warned_level(), Some(WarnLevel::Yellow));
    assert_eq!(f.order.urges, 3);
    assert_forbidden(&f.refused(&dispatcher(), Command::Urge { note: reason("催"), level: 1 }), Action::Urge);
}

#[test]
fn orders_from_before_warn_at_existed_turn_yellow_at_three_quarters_of_wall_clock_time() {
    let w = world();
    let f = dispatched(&w);
    // Strip the yellow point from the dispatch, as in an event written by an older version.
    let mut log = f.log.clone();
    let dispatch = log.iter_mut().find(|e| e.action() == Action::Dispatch).unwrap();
    if let Change::Dispatched { warn_at, .. } = &mut dispatch.change {
        *warn_at = None;
    }
    let old = lifecycle::replay(&log).unwrap().unwrap();
    assert_eq!(old.warn_at, None);
    // Monday 10:00 to Monday 10:00 is 7 days; 75 % is 5 days 6 hours: Saturday 16:00.
    let yellow = at("2026-11-28T16:00:00+08:00");
    assert_eq!(old.yellow_at(75), Some(yellow));
    let decide = |now| lifecycle::decide(&w.ctx(), &old, &warn(WarnLevel::Yellow), &system(), now);
    assert_illegal(&decide(yellow - MINUTE).unwrap_err(), Action::Urge, Status::Dispatched);
    assert_eq!(decide(yellow).unwrap().change, urged(WarnLevel::Yellow));
}

// ---------------------------------------------------------------------------------------
// Callback and extension-decision deadlines.
// ---------------------------------------------------------------------------------------

#[test]
fn the_callback_is_due_two_working_days_after_the_reply_and_the_callback_clears_it() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    assert_eq!(f.order.callback_deadline, None);
    let ev = f.ok_at(
        "2026-11-23T10:02:00+08:00",
        &handler("s440106001"),
        Command::Reply { content: reason("已更换灯泡"), solved: true },
    );
    let due = at("2026-11-25T10:02:00+08:00");
    assert_eq!(ev.change, Change::Replied { content: "已更换灯泡".into(), solved: true, callback_deadline: Some(due) });
    assert_eq!(f.order.callback_deadline, Some(due));
    f.ok(&callback_agent(), satisfied());
    assert_eq!(f.order.callback_deadline, None);
}

#[test]
fn a_friday_reply_is_due_for_callback_on_tuesday_and_each_reply_gets_its_own() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let h = handler("s440106001");
    f.ok_at("2026-11-27T16:00:00+08:00", &h, Command::Reply { content: reason("已处理"), solved: false });
    // Friday 16:00 + 840 working minutes: 90 on Friday, 420 on Monday, 330 on Tuesday.
    assert_eq!(f.time(f.order.callback_deadline.unwrap()), "2026-12-01T16:00:00.000+08:00");
    f.ok_at(
        "2026-11-30T09:00:00+08:00",
        &callback_agent(),
        Command::Callback { satisfaction: Satisfaction::Unsatisfied, solved: Some(false), note: None },
    );
    assert_eq!(f.order.callback_deadline, None, "an unsatisfied callback also clears it");
    f.ok_at("2026-12-01T09:00:00+08:00", &h, Command::Reply { content: reason("再次处理"), solved: true });
    assert_eq!(f.time(f.order.callback_deadline.unwrap()), "2026-12-03T09:00:00.000+08:00");
}

#[test]
fn an_extension_request_is_to_be_decided_within_one_working_day() {
    let w = world();
    let mut f = Flow::in_progress(&w, "s440106001");
    let h = handler("s440106001");
    let until = at("2026-12-04T17:00:00+08:00");
    let ev = f.ok_at("2026-11-23T10:02:00+08:00", &h, Command::RequestExtension { until, reason: reason("施工") });
    let by = at("2026-11-24T10:02:00+08:00");
    assert_eq!(ev.change, Change::ExtensionRequested { until, reason: "施工".into(), decide_by: Some(by) });
    assert_eq!(f.order.pending_extension.as_ref().unwrap().decide_by, Some(by));
    f.ok(&dispatcher(), Command::DecideExtension { approve: false, note: None });
    // Friday 17:00: 30 minutes on Friday, 210 on Monday morning, 180 from 14:00.
    f.ok_at("2026-11-27T17:00:00+08:00", &h, Command::RequestExtension { until, reason: reason("施工") });
    assert_eq!(f.time(f.order.pending_extension.as_ref().unwrap().decide_by.unwrap()), "2026-11-30T17:00:00.000+08:00");
}

// ---------------------------------------------------------------------------------------
// Quality assurance.
// ---------------------------------------------------------------------------------------

#[test]
fn the_system_samples_a_closed_order_and_a_supervisor_passes_it() {
    let w = world();
    let mut f = Flow::closed(&w);
    let closed = f.order.clone();
    let ev = f.ok(&system(), Command::QaSample);
    assert_eq!(ev.change, Change::QaSampled);
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Closed), Status::Closed));
    let qa = f.order.qa.clone().unwrap();
    assert_eq!((qa.sampled_at, qa.result, qa.decided_by, qa.decided_at), (ev.at, QaResult::Pending, None, None));

    let ev = f.ok(&supervisor(), Command::QaPass { note: Some("答复规范".into()) });
    assert_eq!(ev.change, Change::QaPassed { note: Some("答复规范".into()) });
    assert_eq!(ev.change.comment().as_deref(), Some("答复规范"));
    assert_eq!(ev.to_status, Status::Closed);
    let qa = f.order.qa.clone().unwrap();
    assert_eq!(qa.result, QaResult::Passed);
    assert_eq!(
        (qa.decided_by.as_deref(), qa.decided_at, qa.note.as_deref()),
        (Some("supervisor"), Some(ev.at), Some("答复规范"))
    );
    // Apart from the sample, nothing about the closed order changed.
    let mut same = f.order.clone();
    same.qa = None;
    same.version = closed.version;
    same.updated_at = closed.updated_at;
    assert_eq!(same, closed);

    // Decided, the sample accepts no further decision and the order no second sample.
    assert_illegal(&f.refused(&supervisor(), Command::QaPass { note: None }), Action::QaPass, Status::Closed);
    assert_illegal(&f.refused(&supervisor(), Command::QaFail { reason: reason("x") }), Action::QaFail, Status::Closed);
    assert_illegal(&f.refused(&supervisor(), Command::QaSample), Action::QaSample, Status::Closed);
}

#[test]
fn a_failed_sample_reopens_the_order_for_dispatch() {
    let w = world();
    let mut f = Flow::closed(&w);
    f.ok(&supervisor(), Command::QaSample);
    let ev = f.ok(&supervisor(), Command::QaFail { reason: " 答复与事实不符 ".into() });
    assert_eq!(ev.change, Change::QaFailed { reason: "答复与事实不符".into() });
    assert_eq!((ev.from_status, ev.to_status), (Some(Status::Closed), Status::PendingDispatch));
    let o = &f.order;
    assert_eq!(o.status, Status::PendingDispatch);
    assert_eq!(o.reopens, 1);
    assert_eq!(o.lead_unit, None);
    assert!(o.assisting_units.is_empty());
    assert_eq!((o.deadline, o.warn_at, o.sign_deadline, o.signed_at), (None, None, None, None));
    assert_eq!((o.callback_deadline, o.closed_at), (None, None));
    assert_eq!(o.reply, None);
    let qa = o.qa.clone().unwrap();
    assert_eq!(
        (qa.result, qa.decided_by.as_deref(), qa.note.as_deref()),
        (QaResult::Failed, Some("supervisor"), Some("答复与事实不符"))
    );
    // It is handled again from dispatch; once closed, it is not sampled a second time.
    f.ok(&dispatcher(), dispatch_to("s440106002", &[]));
    f.ok(&handler("s440106002"), Command::Sign);
    f.ok(&handler("s440106002"), Command::Reply { content: reason("已重新核实"), solved: true });
    f.ok(&callback_agent(), satisfied());
    assert_illegal(&f.refused(&system(), Command::QaSample), Action::QaSample, Status::Closed);
}

#[test]
fn a_first_contact_close_may_be_sampled_and_failed() {
    let w = world();
    let mut f = Flow::register(&w, streetlight(), number(1));
    f.ok(&operator(), Command::Close { kind: CloseKind::Answered, resolution: reason("已答复"), cite: None });
    f.ok(&system(), Command::QaSample);
    f.ok(&supervisor(), Command::QaFail { reason: reason("应派单办理") });
    assert_eq!(f.order.status, Status::PendingDispatch);
    assert_eq!(f.order.first_contact, None);
    assert_eq!(f.order.reopens, 1);
}

#[test]
fn qa_refusals() {
    let w = world();
    // Sampling an open order.
    let mut f = Flow::in_progress(&w, "s440106001");
    assert_illegal(&f.refused(&system(), Command::QaSample), Action::QaSample, Status::InProgress);
    assert_illegal(&f.refused(&supervisor(), Command::QaPass { note: None }), Action::QaPass, Status::InProgress);

    // Deciding without a sample.
    let mut f = Flow::closed(&w);
    assert_illegal(&f.refused(&supervisor(), Command::QaPass { note: None }), Action::QaPass, Status::Closed);
    assert_illegal(&f.refused(&supervisor(), Command::QaFail { reason: reason("x") }), Action::QaFail, Status::Closed);

    // Who may: supervisors or the system sample; only supervisors decide.
    for actor in [handler("s440106001"), dispatcher(), callback_agent(), operator(), leader()] {
        assert_forbidden(&f.refused(&actor, Command::QaSample), Action::QaSample);
    }
    f.ok(&supervisor(), Command::QaSample);
    assert_illegal(&f.refused(&system(), Command::QaSample), Action::QaSample, Status::Closed);
    for actor in [handler("s440106001"), system(), dispatcher(), leader()] {
        assert_forbidden(&f.refused(&actor, Command::QaPass { note: None }), Action::QaPass);
        assert_forbidden(&f.refused(&actor, Command::QaFail { reason: reason("x") }), Action::QaFail);
    }

    // Values.
    assert_invalid(&f.refused(&supervisor(), Command::QaFail { reason: "  ".into() }), &["reason"]);
    assert_invalid(&f.refused(&supervisor(), Command::QaPass { note: Some("长".repeat(2001)) }), &["note"]);
    f.ok(&supervisor(), Command::QaPass { note: None });

    // Merged and cancelled orders are not closed: not sampled.
    let mut f = Flow::pending_dispatch(&w, streetlight());
    f.ok(&dispatcher(), Command::Cancel { reason: reason("重复") });
    assert_illegal(&f.refused(&system(), Command::QaSample), Action::QaSample, Status::Cancelled);
}

#[test]
fn qa_events_replay_and_round_trip_as_json() {
    let w = world();
    let mut f = Flow::closed(&w);
    f.ok(&system(), Command::QaSample);
    f.ok(&supervisor(), Command::QaFail { reason: reason("不合格") });
    for ev in &f.log {
        let json = serde_json::to_string(ev).unwrap();
        assert_eq!(&serde_json::from_str::<Event>(&json).unwrap(), ev);
    }
    assert_eq!(lifecycle::replay(&f.log), Ok(Some(f.order.clone())));
    let json = serde_json::to_string(&f.order).unwrap();
    assert_eq!(serde_json::from_str::<Order>(&json).unwrap(), f.order);
}

// ---------------------------------------------------------------------------------------
// Older data: events and orders written before the new fields.
// ---------------------------------------------------------------------------------------

#[test]
fn events_and_orders_without_the_new_fields_still_read() {
    let w = world();
    let mut f = Flow::replied(&w, "s440106001");
    f.ok(&supervisor(), Command::Urge { note: reason("快"), level: 1 });
    let strip = |value: &mut serde_json::Value, keys: &[&str]| {
        for k in keys {
            value.as_object_mut().unwrap().remove(*k);
        }
    };
    for ev in &f.log {
        let mut v = serde_json::to_value(ev).unwrap();
        strip(
            v.get_mut("change").unwrap(),
            &["repeat_contact", "warn_at", "decide_by", "callback_deadline", "reopen_warn_at", "warning"],
        );
        let old: Event = serde_json::from_value(v).unwrap();
        match (&old.change, &ev.change) {
            (Change::Registered { repeat_contact, .. }, _) => assert!(!repeat_contact),
            (Change::Dispatched { warn_at, .. }, _) => assert_eq!(*warn_at, None),
            (Change::Replied { callback_deadline, .. }, _) => assert_eq!(*callback_deadline, None),
            (Change::Urged { warning, .. }, _) => assert_eq!(*warning, None),
            (a, b) => assert_eq!(a, b),
        }
    }
    let mut v = serde_json::to_value(&f.order).unwrap();
    strip(&mut v, &["callback_deadline", "warn_at", "warned", "qa", "repeat_contact"]);
    let old: Order = serde_json::from_value(v).unwrap();
    assert_eq!(
        (old.callback_deadline, old.warn_at, old.warned, old.qa.clone(), old.repeat_contact),
        (None, None, None, None, false)
    );
}

// ---------------------------------------------------------------------------------------
// Notifications.
// ---------------------------------------------------------------------------------------

fn drafts_of(f: &Flow<'_>) -> Vec<(Recipient, String)> {
    notify::notifications(&f.order, f.log.last().unwrap()).into_iter().map(|d: Draft| (d.recipient, d.kind)).collect()
}

#[test]
fn dispatch_notifies_the_lead_unit_and_each_assisting_unit() {
    let w = world();
    let f = Flow::dispatched(&w, streetlight(), "s440106001", &["city-urban", "co-water"]);
    let drafts = notify::notifications(&f.order, f.log.last().unwrap());
    let to: Vec<(Recipient, &str)> = drafts.iter().map(|d| (d.recipient.clone(), d.kind.as_str())).collect();
    assert_eq!(
        to,
        vec![
            (Recipient::Unit(unit("s440106001")), "dispatch"),
            (Recipient::Unit(unit("city-urban")), "dispatch"),
            (Recipient::Unit(unit("co-water")), "dispatch"),
        ]
    );
    assert!(drafts.iter().all(|d| d.message.contains("2026112300001") && d.message.contains("小区门口路灯不亮")));
    assert!(drafts[0].message.contains("主办"), "{}", drafts[0].message);
    assert!(drafts[1].message.contains("协办"), "{}", drafts[1].message);
}

#[test]
fn a_yellow_warning_notifies_the_lead_unit_and_the_supervisors() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "s440106001", &["co-water"]);
    f.ok_at("2026-11-26T17:15:00+08:00", &system(), warn(WarnLevel::Yellow));
    let drafts = notify::notifications(&f.order, f.log.last().unwrap());
    assert_eq!(
        drafts.iter().map(|d| (d.recipient.clone(), d.kind.as_str())).collect::<Vec<_>>(),
        vec![
            (Recipient::Unit(unit("s440106001")), "warning_yellow"),
            (Recipient::Role(Role::Supervisor), "warning_yellow"),
        ]
    );
    assert!(drafts.iter().all(|d| d.message.contains(YELLOW_NOTE)));
    f.ok_at("2026-11-30T10:00:00+08:00", &system(), warn(WarnLevel::Red));
    assert_eq!(
        drafts_of(&f),
        vec![
            (Recipient::Unit(unit("s440106001")), "warning_red".to_owned()),
            (Recipient::Role(Role::Supervisor), "warning_red".to_owned()),
        ]
    );
    // A manual urge goes to the lead unit only.
    f.ok(&supervisor(), Command::Urge { note: reason("请回电"), level: 1 });
    assert_eq!(drafts_of(&f), vec![(Recipient::Unit(unit("s440106001")), "urge".to_owned())]);
}

#[test]
fn a_reply_notifies_the_callback_agents() {
    let w = world();
    let f = Flow::replied(&w, "s440106001");
    let drafts = notify::notifications(&f.order, f.log.last().unwrap());
    assert_eq!(drafts.len(), 1);
    assert_eq!((&drafts[0].recipient, drafts[0].kind.as_str()), (&Recipient::Role(Role::Callback), "reply"));
    assert!(drafts[0].message.contains("2026112300001"));
}

#[test]
fn other_events_notify_as_the_table_says() {
    let w = world();
    let mut f = Flow::dispatched(&w, streetlight(), "d440106", &[]);
    f.ok(&handler("d440106"), Command::Sign);
    assert_eq!(drafts_of(&f), vec![]);
    f.ok(&handler("d440106"), Command::Subdispatch { unit: unit("s440106001"), note: None });
    assert_eq!(drafts_of(&f), vec![(Recipient::Unit(unit("s440106001")), "subdispatch".to_owned())]);
    let until = at("2026-12-11T17:00:00+08:00");
    f.ok(&handler("s440106001"), Command::RequestExtension { until, reason: reason("施工") });
    assert_eq!(
        drafts_of(&f),
        vec![
            (Recipient::Role(Role::Dispatcher), "extension".to_owned()),
            (Recipient::Role(Role::Supervisor), "extension".to_owned()),
        ]
    );
    f.ok(&supervisor(), Command::DecideExtension { approve: true, note: None });
    assert_eq!(drafts_of(&f), vec![(Recipient::Unit(unit("s440106001")), "extension_decided".to_owned())]);
    f.ok(&handler("s440106001"), Command::Return { reason: reason("非本辖区") });
    assert_eq!(drafts_of(&f), vec![(Recipient::Role(Role::Dispatcher), "return".to_owned())]);

    let mut f = Flow::closed(&w);
    f.ok(&system(), Command::QaSample);
    assert_eq!(drafts_of(&f), vec![]);
    f.ok(&supervisor(), Command::QaFail { reason: reason("不合格") });
    assert_eq!(drafts_of(&f), vec![(Recipient::Role(Role::Dispatcher), "reopen".to_owned())]);
}
