//! Background work: the supervision sweeper (督办) and QA sampling. The database is the
//! source of truth: a warning is an order event, and the lifecycle refuses a second warning
//! of the same level for the same deadline, so every threshold produces exactly one urge even
//! across restarts and with several server processes on one database.

use crate::error::ApiError;
use crate::state::AppState;
use lianxin_domain::lifecycle;
use lianxin_domain::*;
use lianxin_store::ActError;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    /// Yellow warnings given.
    pub yellow: usize,
    /// Red warnings given.
    pub red: usize,
}

/// Gives every warning that is due at the current time and not yet given.
pub async fn sweep(state: &AppState) -> Result<SweepReport, ApiError> {
    let now = state.now();
    let percent = state.policy().warn_percent;
    let mut report = SweepReport::default();
    let system = Actor::system();
    loop {
        let candidates = state.store().supervision_candidates(now, 200).await?;
        if candidates.is_empty() {
            break;
        }
        let mut progressed = false;
        for number in candidates {
            // Up to two steps: a yellow not yet given comes before the red.
            for _ in 0..2 {
                let dir = state.directory();
                let cal = state.calendar();
                let ctx = state.context(&dir, &cal);
                let mut given = None;
                let r = state
                    .store()
                    .act(&number, |o| {
                        let due = o.warning_due(now, percent);
                        let next = match (o.warned_level(), due) {
                            (None, Some(_)) => WarnLevel::Yellow,
                            (Some(WarnLevel::Yellow), Some(WarnLevel::Red)) => WarnLevel::Red,
                            _ => return Err(None),
                        };
                        given = Some(next);
                        lifecycle::decide(&ctx, o, &Command::SystemUrge { level: next }, &system, now).map_err(Some)
                    })
                    .await;
                match r {
                    Ok(_) => {
                        progressed = true;
                        match given {
                            Some(WarnLevel::Yellow) => report.yellow += 1,
                            Some(WarnLevel::Red) => report.red += 1,
                            None => {}
                        }
                    }
                    // Nothing (more) due, or another process gave it first.
                    Err(ActError::Rejected(_)) | Err(ActError::NotFound) => break,
                    Err(ActError::Store(e)) => return Err(e.into()),
                }
            }
        }
        if !progressed {
            break;
        }
    }
    if report.yellow + report.red > 0 {
        tracing::info!(yellow = report.yellow, red = report.red, "supervision sweep");
        metrics::counter!("lianxin_warnings_total", "level" => "yellow").increment(report.yellow as u64);
        metrics::counter!("lianxin_warnings_total", "level" => "red").increment(report.red as u64);
    }
    Ok(report)
}

/// Runs [`sweep`] every `every`, forever.
pub fn spawn_sweeper(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e.message, "supervision sweep failed; will retry");
            }
            // Many orders about one event become a proposed incident.
            match crate::api::incidents::detect_now(&state, "system").await {
                Ok(made) if !made.is_empty() => tracing::info!(incidents = made.len(), "incidents proposed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "incident detection failed; will retry"),
            }
            advise(&state).await;
        }
    })
}

/// The sweep's advisory checks: the surge alarm and the reminders of tough problems' parts
/// past their day. A failure is logged and retried by the next sweep, never failing it.
pub async fn advise(state: &AppState) {
    if let Err(e) = alarm_surges(state).await {
        tracing::warn!(error = %e.message, "the surge check failed; will retry");
    }
    if let Err(e) = remind_overdue_parts(state).await {
        tracing::warn!(error = %e.message, "the tough problems' reminders failed; will retry");
    }
}

/// Tells each unit once about each part of an open tough problem that is not done by its
/// due day. Returns the reminders sent.
pub async fn remind_overdue_parts(state: &AppState) -> Result<usize, ApiError> {
    let now = state.now();
    let today = state.calendar().local_date(now).to_string();
    let mut sent = 0;
    for (problem, title, part) in state.store().overdue_parts(&today).await? {
        let id = format!("{problem}-part-{}-overdue", part.part);
        let message =
            format!("疑难问题「{title}」第 {} 项任务已过完成期限（{}）：{}", part.part, part.due_day, part.task);
        if state.store().notify_unit(&id, now, &part.unit, "problem", &message).await? {
            sent += 1;
        }
    }
    if sent > 0 {
        tracing::info!(reminders = sent, "tough problems' overdue parts reminded");
    }
    Ok(sent)
}

/// Sends the supervisors a notification for each level-1 category whose last hours break
/// their expected band (the wall shows the same alarm), once per category a day. Returns
/// the alarms sent.
pub async fn alarm_surges(state: &AppState) -> Result<usize, ApiError> {
    let now = state.now();
    let today = state.calendar().local_date(now);
    let mut sent = 0;
    for (code, name, s) in crate::web::wall::surges(state).await? {
        let message = format!(
            "激增预警：{name} 近{}小时受理 {} 件，往日同时段平均 {:.1} 件，超出预期上限 {:.0} 件",
            crate::web::wall::SURGE_HOURS,
            s.count,
            s.mean,
            s.upper
        );
        let id = format!("surge-{today}-{code}");
        if state.store().notify_role(&id, now, lianxin_domain::Role::Supervisor, "surge", &message).await? {
            tracing::info!(category = %code, count = s.count, "surge alarm sent to the supervisors");
            sent += 1;
        }
    }
    Ok(sent)
}

/// Whether an order falls in a sample of `rate` (0..1). Deterministic per order and seed, so
/// re-running a sampling over the same window draws the same orders.
pub fn in_sample(number: &str, seed: &str, rate: f64) -> bool {
    let h = Sha256::digest(format!("{seed}:{number}").as_bytes());
    let x = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    (f64::from(x) / f64::from(u32::MAX)) < rate
}

/// What a QA sampling drew.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct SampleReport {
    /// Closed orders in the window not sampled before.
    pub considered: usize,
    /// The numbers drawn, now awaiting a QA decision.
    pub sampled: Vec<String>,
}

/// Draws a random sample of the orders closed in `[from, to)` for QA, as `actor`.
pub async fn sample_for_qa(
    state: &AppState,
    actor: &Actor,
    from: Millis,
    to: Millis,
    rate: f64,
) -> Result<SampleReport, ApiError> {
    let now = state.now();
    let candidates = state.store().qa_candidates(from, to).await?;
    let mut report = SampleReport { considered: candidates.len(), sampled: Vec::new() };
    let seed = format!("{from}-{to}");
    for number in candidates.into_iter().filter(|n| in_sample(n, &seed, rate)) {
        let dir = state.directory();
        let cal = state.calendar();
        let ctx = state.context(&dir, &cal);
        let r = state.store().act(&number, |o| lifecycle::decide(&ctx, o, &Command::QaSample, actor, now)).await;
        match r {
            Ok(_) => report.sampled.push(number),
            Err(ActError::Rejected(_)) | Err(ActError::NotFound) => {}
            Err(ActError::Store(e)) => return Err(e.into()),
        }
    }
    Ok(report)
}
