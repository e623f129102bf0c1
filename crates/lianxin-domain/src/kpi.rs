//! The KPI engine (F-6): what each order contributes to the counters, and the formulas.
//!
//! An order's contributions are a pure function of its current state; the store keeps daily
//! rollups per dimension by adding `contributions(after) − contributions(before)` in the same
//! transaction as every event, so rollups always equal a recount.
//!
//! Each counter is dated by its own anchor (the local day of): registration for
//! `registered`, `first_contact`, `repeat`, `contacts`, `dispatched`, `returned`, `extended`
//! (a contact added to an open order counts in `contacts` and `repeat` on its own day); the reply for
//! `replied`, `replied_on_time`, `handling_ms` and `called_back` (a reply that has been
//! called back); signing for `signed`, `signed_on_time`; the callback for `rated`,
//! `satisfied`, `asked`, `solved`; the handling deadline for `due`
//! and `completed`. A KPI for a period sums each counter over the days of the period.
//!
//! Formulas (rates are fractions 0..1, `None` when the denominator is 0):
//! - first-contact resolution 直接办结率 = `first_contact / registered`
//! - completion rate 办结率 = `completed / due` (orders whose handling deadline falls in the
//!   period, and of those the ones now closed)
//! - on-time rate 按时办结率 = `replied_on_time / replied` (replied by the deadline in force)
//! - on-time sign rate 按时签收率 = `signed_on_time / signed`
//! - return rate 退单率 = `returned / dispatched` (orders returned at least once)
//! - extension rate 延期率 = `extended / dispatched` (orders granted an extension)
//! - callback rate 回访率 = `called_back / replied` (of the replies in the period, those
//!   called back)
//! - satisfaction 满意率 = `satisfied / rated` (satisfied + basically satisfied, over
//!   callbacks that reached the resident)
//! - resolution 解决率 = `solved / asked` (callbacks saying solved, over callbacks that
//!   reached the resident and recorded whether it was solved: an imported history may not
//!   say, and then counts in satisfaction only)
//! - repeat-contact rate 重复来电率 = `repeat / contacts`: of all contacts (each registered
//!   order, and each later call an operator added to an open order instead of registering
//!   it again), those about a matter already raised (a registration whose caller had an
//!   order in the same category within the 30 days before, and every added contact)
//! - average handling time = `handling_ms / replied`, in hours (registration → reply)
//! - connection rate and service level need call records (F-7) and are `None` until then.
//!
//! Two counters are gauges of the present rather than counts of a day: `open` (the order is
//! open) and `overdue` (being handled past its handling deadline, as the sweeper's red
//! warning for the deadline in force says). They are dated [`GAUGE_DAY`], after every real
//! day, so no period sums them and `kpis` leaves them out of `counts`.
//!
//! Besides the hotline-wide dimensions, every dimension of a period's figures is kept per
//! anchor unit ([`Anchors`]: the units whose scope allows the order), so a unit's figures
//! are read like the city's.

use crate::Millis;
use crate::calendar::Calendar;
use crate::model::*;
use crate::order::Order;
use crate::scope::Anchors;
use serde::Serialize;
use std::collections::BTreeMap;

/// A counter of the rollups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    Registered,
    FirstContact,
    Repeat,
    /// Contacts: registered orders plus contacts added to open orders.
    Contacts,
    Dispatched,
    Returned,
    Extended,
    Replied,
    RepliedOnTime,
    HandlingMs,
    Signed,
    SignedOnTime,
    CalledBack,
    Rated,
    Satisfied,
    Asked,
    Solved,
    Due,
    Completed,
    /// A gauge: the orders open now (dated [`GAUGE_DAY`]).
    Open,
    /// A gauge: orders being handled (dispatched, in progress) past their handling deadline
    /// (the sweeper's red warning for the deadline in force), dated [`GAUGE_DAY`].
    Overdue,
}

/// The "day" of the gauge cells ([`Counter::Open`], [`Counter::Overdue`]): after every
/// real day, so no period's sum includes them.
pub const GAUGE_DAY: &str = "now";

impl Counter {
    pub const ALL: &'static [Counter] = &[
        Counter::Registered,
        Counter::FirstContact,
        Counter::Repeat,
        Counter::Contacts,
        Counter::Dispatched,
        Counter::Returned,
        Counter::Extended,
        Counter::Replied,
        Counter::RepliedOnTime,
        Counter::HandlingMs,
        Counter::Signed,
        Counter::SignedOnTime,
        Counter::CalledBack,
        Counter::Rated,
        Counter::Satisfied,
        Counter::Asked,
        Counter::Solved,
        Counter::Due,
        Counter::Completed,
        Counter::Open,
        Counter::Overdue,
    ];

    /// Whether the counter is a gauge of the present rather than a count of a day.
    pub fn is_gauge(self) -> bool {
        matches!(self, Counter::Open | Counter::Overdue)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Registered => "registered",
            Counter::FirstContact => "first_contact",
            Counter::Repeat => "repeat",
            Counter::Contacts => "contacts",
            Counter::Dispatched => "dispatched",
            Counter::Returned => "returned",
            Counter::Extended => "extended",
            Counter::Replied => "replied",
            Counter::RepliedOnTime => "replied_on_time",
            Counter::HandlingMs => "handling_ms",
            Counter::Signed => "signed",
            Counter::SignedOnTime => "signed_on_time",
            Counter::CalledBack => "called_back",
            Counter::Rated => "rated",
            Counter::Satisfied => "satisfied",
            Counter::Asked => "asked",
            Counter::Solved => "solved",
            Counter::Due => "due",
            Counter::Completed => "completed",
            Counter::Open => "open",
            Counter::Overdue => "overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Counter> {
        Counter::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// The dimensions KPIs are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// Everything together (grouped by day).
    All,
    Unit,
    Category,
    District,
    Channel,
    /// Category × street (`category|street`), registrations only: the hotspots' cells.
    CategoryStreet,
    /// Category × district (`category|district`), registrations only.
    CategoryDistrict,
    /// Category × street, the tough problems' signals beside the registrations of
    /// [`Dimension::CategoryStreet`] (repeats, ratings, replies on time, overdue orders): kept
    /// apart so that the hotspots read registrations only.
    ProblemStreet,
    /// Category × district, as [`Dimension::ProblemStreet`].
    ProblemDistrict,
    /// By request type (咨询, 求助, 投诉 …).
    RequestType,
    /// By local hour of registration (`00`–`23`), registrations only: the wall's day.
    Hour,
    /// Hour of registration × category (`07|urban.drainage`), registrations only: the surge
    /// alarm reads a few hours of many days, one key range a day.
    CategoryHour,
    /// The orders each unit sees (`unit|all`, one cell set per [anchor](crate::scope::Anchors)):
    /// a unit's own figures, grouped by day.
    Scope,
    /// Per anchor unit and category (`unit|category`).
    ScopeCategory,
    /// Per anchor unit and district (`unit|district`).
    ScopeDistrict,
    /// Per anchor unit and channel (`unit|channel`).
    ScopeChannel,
    /// Per anchor unit and request type (`unit|complaint`).
    ScopeRequestType,
    /// Per anchor unit and hour of registration (`unit|07`), registrations only.
    ScopeHour,
}

impl Dimension {
    pub const ALL: &'static [Dimension] = &[
        Dimension::All,
        Dimension::Unit,
        Dimension::Category,
        Dimension::District,
        Dimension::Channel,
        Dimension::CategoryStreet,
        Dimension::CategoryDistrict,
        Dimension::ProblemStreet,
        Dimension::ProblemDistrict,
        Dimension::RequestType,
        Dimension::Hour,
        Dimension::CategoryHour,
        Dimension::Scope,
        Dimension::ScopeCategory,
        Dimension::ScopeDistrict,
        Dimension::ScopeChannel,
        Dimension::ScopeRequestType,
        Dimension::ScopeHour,
    ];

    /// The dimensions kept per anchor unit.
    pub const ANCHORED: &'static [Dimension] = &[
        Dimension::Scope,
        Dimension::ScopeCategory,
        Dimension::ScopeDistrict,
        Dimension::ScopeChannel,
        Dimension::ScopeRequestType,
        Dimension::ScopeHour,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::All => "all",
            Dimension::Unit => "unit",
            Dimension::Category => "category",
            Dimension::District => "district",
            Dimension::Channel => "channel",
            Dimension::CategoryStreet => "category_street",
            Dimension::CategoryDistrict => "category_district",
            Dimension::ProblemStreet => "problem_street",
            Dimension::ProblemDistrict => "problem_district",
            Dimension::Scope => "scope",
            Dimension::ScopeCategory => "scope_category",
            Dimension::ScopeDistrict => "scope_district",
            Dimension::ScopeChannel => "scope_channel",
            Dimension::RequestType => "request_type",
            Dimension::Hour => "hour",
            Dimension::CategoryHour => "category_hour",
            Dimension::ScopeRequestType => "scope_request_type",
            Dimension::ScopeHour => "scope_hour",
        }
    }

    /// Whether this dimension keeps one set of cells per anchor unit.
    pub fn is_anchored(self) -> bool {
        Dimension::ANCHORED.contains(&self)
    }

    /// The hotline-wide dimension an anchored one splits by unit (and the reverse: `None`
    /// for a dimension without an anchored twin).
    pub fn anchored(self) -> Option<Dimension> {
        match self {
            Dimension::All => Some(Dimension::Scope),
            Dimension::Category => Some(Dimension::ScopeCategory),
            Dimension::District => Some(Dimension::ScopeDistrict),
            Dimension::Channel => Some(Dimension::ScopeChannel),
            Dimension::RequestType => Some(Dimension::ScopeRequestType),
            Dimension::Hour => Some(Dimension::ScopeHour),
            _ => None,
        }
    }

    /// Whether this dimension keeps `counter`. The hotspots' place cells and the hour cells
    /// count registrations only; the tough problems' place cells the
    /// [signals](crate::problem::Signals) besides.
    pub fn takes(self, counter: Counter) -> bool {
        match self {
            Dimension::CategoryStreet | Dimension::CategoryDistrict => counter == Counter::Registered,
            Dimension::ProblemStreet | Dimension::ProblemDistrict => matches!(
                counter,
                Counter::Repeat
                    | Counter::Rated
                    | Counter::Satisfied
                    | Counter::Replied
                    | Counter::RepliedOnTime
                    | Counter::Overdue
            ),
            Dimension::Hour | Dimension::CategoryHour | Dimension::ScopeHour => counter == Counter::Registered,
            _ => true,
        }
    }

    /// The order's keys in this dimension: one (`""` when it has none, as an order not yet
    /// dispatched has no unit), or for an anchored dimension one per anchor
    /// (`unit|key`, none for an order no unit sees yet).
    pub fn keys(self, o: &Order, anchors: &Anchors, cal: &Calendar) -> Vec<String> {
        let base = match self {
            Dimension::Scope => Dimension::All,
            Dimension::ScopeCategory => Dimension::Category,
            Dimension::ScopeDistrict => Dimension::District,
            Dimension::ScopeChannel => Dimension::Channel,
            Dimension::ScopeRequestType => Dimension::RequestType,
            Dimension::ScopeHour => Dimension::Hour,
            _ => return vec![self.key(o, cal)],
        };
        let key = base.key(o, cal);
        anchors.of(o).into_iter().map(|u| format!("{u}|{key}")).collect()
    }

    /// The order's key in a dimension that is not anchored; `""` when it has none (not yet
    /// dispatched).
    pub fn key(self, o: &Order, cal: &Calendar) -> String {
        let hour = || format!("{:02}", cal.local_hour(o.created_at));
        match self {
            Dimension::All => "all".into(),
            Dimension::Unit => o.lead_unit.as_ref().map(|u| u.to_string()).unwrap_or_default(),
            Dimension::Category => o.intake.category.to_string(),
            Dimension::District => o.intake.location.district.as_ref().map(|d| d.to_string()).unwrap_or_default(),
            Dimension::Channel => o.intake.channel.map(|c| c.to_string()).unwrap_or_default(),
            Dimension::CategoryStreet | Dimension::ProblemStreet => {
                place_key(o.intake.category.as_str(), o.intake.location.street.as_ref().map_or("", |s| s.as_str()))
            }
            Dimension::CategoryDistrict | Dimension::ProblemDistrict => {
                place_key(o.intake.category.as_str(), o.intake.location.district.as_ref().map_or("", |d| d.as_str()))
            }
            Dimension::RequestType => o.intake.request_type.to_string(),
            Dimension::Hour => hour(),
            Dimension::CategoryHour => format!("{}|{}", hour(), o.intake.category),
            Dimension::Scope
            | Dimension::ScopeCategory
            | Dimension::ScopeDistrict
            | Dimension::ScopeChannel
            | Dimension::ScopeRequestType
            | Dimension::ScopeHour => String::new(),
        }
    }
}

/// The key of a hotspot cell: `category|place`, empty for an order without the place.
pub fn place_key(category: &str, place: &str) -> String {
    if place.is_empty() { String::new() } else { format!("{category}|{place}") }
}

/// One counter increment on one local day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Contribution {
    /// `YYYY-MM-DD`, local.
    pub day: String,
    pub counter: Counter,
    pub value: i64,
}

/// What an order adds to the counters in its current state. Merged and cancelled orders
/// count as registered (and as repeat contacts) only. A callback counts only while its reply
/// stands: a reopened order's old callback belongs to a round that is being redone.
pub fn contributions(o: &Order, cal: &Calendar) -> Vec<Contribution> {
    let day = |t: Millis| cal.local_date(t).format("%Y-%m-%d").to_string();
    let mut out = Vec::new();
    let mut add = |t: Millis, counter: Counter, value: i64| {
        if value != 0 {
            out.push(Contribution { day: day(t), counter, value });
        }
    };
    let created = o.created_at;
    add(created, Counter::Registered, 1);
    if o.first_contact.is_some() && o.status == Status::Closed {
        add(created, Counter::FirstContact, 1);
    }
    add(created, Counter::Contacts, 1);
    if o.repeat_contact {
        add(created, Counter::Repeat, 1);
    }
    for at in &o.added_contacts {
        add(*at, Counter::Contacts, 1);
        add(*at, Counter::Repeat, 1);
    }
    if matches!(o.status, Status::Merged | Status::Cancelled) {
        return out;
    }
    let open = o.status.is_open();
    let overdue = matches!(o.status, Status::Dispatched | Status::InProgress)
        && o.warned.as_ref().is_some_and(|w| w.level == WarnLevel::Red && Some(w.deadline) == o.deadline);
    if o.dispatched_at.is_some() || o.returns > 0 {
        add(created, Counter::Dispatched, 1);
    }
    if o.returns > 0 {
        add(created, Counter::Returned, 1);
    }
    if o.extensions_granted > 0 {
        add(created, Counter::Extended, 1);
    }
    if let Some(r) = &o.reply {
        add(r.at, Counter::Replied, 1);
        if o.deadline.is_none_or(|d| r.at <= d) {
            add(r.at, Counter::RepliedOnTime, 1);
        }
        add(r.at, Counter::HandlingMs, (r.at - created).max(0));
    }
    if let Some(s) = o.signed_at {
        add(s, Counter::Signed, 1);
        if o.sign_deadline.is_none_or(|d| s <= d) {
            add(s, Counter::SignedOnTime, 1);
        }
    }
    if let (Some(c), Some(r)) = (&o.callback, &o.reply) {
        // Dated by the reply it follows up, so that the callback rate of a period compares
        // like with like and never exceeds 1.
        add(r.at, Counter::CalledBack, 1);
        if c.satisfaction != Satisfaction::Unreachable {
            add(c.at, Counter::Rated, 1);
            if matches!(c.satisfaction, Satisfaction::Satisfied | Satisfaction::BasicallySatisfied) {
                add(c.at, Counter::Satisfied, 1);
            }
            if let Some(solved) = c.solved {
                add(c.at, Counter::Asked, 1);
                if solved {
                    add(c.at, Counter::Solved, 1);
                }
            }
        }
    }
    if let Some(d) = o.deadline {
        add(d, Counter::Due, 1);
        if o.status == Status::Closed {
            add(d, Counter::Completed, 1);
        }
    }
    for (counter, on) in [(Counter::Open, open), (Counter::Overdue, overdue)] {
        if on {
            out.push(Contribution { day: GAUGE_DAY.into(), counter, value: 1 });
        }
    }
    out
}

/// A change to one rollup cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RollupDelta {
    pub dimension: Dimension,
    pub key: String,
    pub day: String,
    pub counter: Counter,
    pub delta: i64,
}

/// What the rollups must change when an order goes from `before` to `after` (both
/// counted under the same `anchors`).
pub fn rollup_deltas(before: Option<&Order>, after: &Order, cal: &Calendar, anchors: &Anchors) -> Vec<RollupDelta> {
    let mut cells: BTreeMap<(Dimension, String, String, Counter), i64> = BTreeMap::new();
    let mut account = |o: &Order, sign: i64| {
        let contributions = contributions(o, cal);
        for dim in Dimension::ALL {
            for key in dim.keys(o, anchors, cal) {
                for c in contributions.iter().filter(|c| dim.takes(c.counter)) {
                    *cells.entry((*dim, key.clone(), c.day.clone(), c.counter)).or_default() += sign * c.value;
                }
            }
        }
    };
    if let Some(b) = before {
        account(b, -1);
    }
    account(after, 1);
    cells
        .into_iter()
        .filter(|(_, d)| *d != 0)
        .map(|((dimension, key, day, counter), delta)| RollupDelta { dimension, key, day, counter, delta })
        .collect()
}

/// Summed counters of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals(pub BTreeMap<Counter, i64>);

impl Totals {
    pub fn get(&self, c: Counter) -> i64 {
        self.0.get(&c).copied().unwrap_or(0)
    }

    pub fn add(&mut self, c: Counter, v: i64) {
        *self.0.entry(c).or_default() += v;
    }
}

/// The KPIs of one group, by the formulas in this module's documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    pub completion_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub on_time_sign_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub callback_rate: Option<f64>,
    pub first_contact_resolution_rate: Option<f64>,
    pub return_rate: Option<f64>,
    pub extension_rate: Option<f64>,
    pub repeat_contact_rate: Option<f64>,
    pub avg_handling_hours: Option<f64>,
    pub connection_rate: Option<f64>,
    pub service_level: Option<f64>,
    /// The counters behind the rates.
    pub counts: BTreeMap<&'static str, i64>,
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

/// Applies the formulas to summed counters.
pub fn kpis(t: &Totals) -> Kpis {
    use Counter::*;
    Kpis {
        completion_rate: ratio(t.get(Completed), t.get(Due)),
        on_time_rate: ratio(t.get(RepliedOnTime), t.get(Replied)),
        on_time_sign_rate: ratio(t.get(SignedOnTime), t.get(Signed)),
        satisfaction_rate: ratio(t.get(Satisfied), t.get(Rated)),
        resolution_rate: ratio(t.get(Solved), t.get(Asked)),
        callback_rate: ratio(t.get(CalledBack), t.get(Replied)),
        first_contact_resolution_rate: ratio(t.get(FirstContact), t.get(Registered)),
        return_rate: ratio(t.get(Returned), t.get(Dispatched)),
        extension_rate: ratio(t.get(Extended), t.get(Dispatched)),
        repeat_contact_rate: ratio(t.get(Repeat), t.get(Contacts)),
        avg_handling_hours: ratio(t.get(HandlingMs), t.get(Replied)).map(|ms| ms / 3_600_000.0),
        connection_rate: None,
        service_level: None,
        counts: Counter::ALL.iter().filter(|c| !c.is_gauge()).map(|c| (c.as_str(), t.get(*c))).collect(),
    }
}

/// Weights of the unit assessment (考核): each KPI's share of the score.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Weights(pub BTreeMap<String, f64>);

impl Default for Weights {
    fn default() -> Self {
        Weights(BTreeMap::from([
            ("on_time_rate".into(), 0.30),
            ("satisfaction_rate".into(), 0.30),
            ("resolution_rate".into(), 0.20),
            ("on_time_sign_rate".into(), 0.10),
            ("return_rate".into(), 0.10),
        ]))
    }
}

/// KPIs that are better when lower: their score is `1 − rate`.
const LOWER_IS_BETTER: &[&str] = &["return_rate", "extension_rate", "repeat_contact_rate"];

impl Weights {
    /// The names of KPIs that can be weighted.
    pub const KPIS: &'static [&'static str] = &[
        "completion_rate",
        "on_time_rate",
        "on_time_sign_rate",
        "satisfaction_rate",
        "resolution_rate",
        "callback_rate",
        "first_contact_resolution_rate",
        "return_rate",
        "extension_rate",
        "repeat_contact_rate",
    ];

    /// Checks names and values.
    pub fn validate(&self) -> Result<(), String> {
        for (k, w) in &self.0 {
            if !Self::KPIS.contains(&k.as_str()) {
                return Err(format!("`{k}` is not a weighted KPI; use one of: {}", Self::KPIS.join(", ")));
            }
            if !w.is_finite() || *w < 0.0 {
                return Err(format!("the weight of `{k}` must be a number ≥ 0"));
            }
        }
        if self.0.values().sum::<f64>() <= 0.0 {
            return Err("at least one weight must be positive".into());
        }
        Ok(())
    }

    /// The assessment score 0..100: the weighted mean of the available KPIs (lower-is-better
    /// ones as `1 − rate`), re-normalised over the KPIs that have a value.
    pub fn score(&self, k: &Kpis) -> Option<f64> {
        let value = |name: &str| -> Option<f64> {
            let v = match name {
                "completion_rate" => k.completion_rate,
                "on_time_rate" => k.on_time_rate,
                "on_time_sign_rate" => k.on_time_sign_rate,
                "satisfaction_rate" => k.satisfaction_rate,
                "resolution_rate" => k.resolution_rate,
                "callback_rate" => k.callback_rate,
                "first_contact_resolution_rate" => k.first_contact_resolution_rate,
                "return_rate" => k.return_rate,
                "extension_rate" => k.extension_rate,
                "repeat_contact_rate" => k.repeat_contact_rate,
                _ => None,
            }?;
            Some(if LOWER_IS_BETTER.contains(&name) { 1.0 - v } else { v })
        };
        let (mut sum, mut weight) = (0.0, 0.0);
        for (name, w) in &self.0 {
            if let Some(v) = value(name) {
                sum += w * v;
                weight += w;
            }
        }
        (weight > 0.0).then(|| 100.0 * sum / weight)
    }
}
