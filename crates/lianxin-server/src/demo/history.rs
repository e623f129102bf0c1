//! Generates the demo's history by driving the real lifecycle: every event comes from
//! `decide` and `apply`, so the history obeys the same rules as live traffic and `verify`
//! passes on it. Orders young enough stop mid-way, which fills every queue.

use super::{City, DemoOptions};
use lianxin_domain::calendar::Calendar;
use lianxin_domain::command::MergeTarget;
use lianxin_domain::lifecycle::{self, Context, Policy, apply, decide};
use lianxin_domain::order::{Caller, Intake, Location};
use lianxin_domain::reference::Directory;
use lianxin_domain::*;
use lianxin_store::Store;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

fn staff(name: &str, role: Role) -> Actor {
    Actor { username: name.to_owned(), roles: vec![role], unit: None }
}

fn handler(unit: &UnitCode) -> Actor {
    Actor { username: format!("handler.{unit}"), roles: vec![Role::Handler], unit: Some(unit.clone()) }
}

fn weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut pick = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if pick < *w {
            return item;
        }
        pick -= w;
    }
    &items[0].0
}

/// What units reply in the demo's history.
pub(crate) const REPLIES: &[&str] = &[
    "经核查，我单位已安排工作人员到现场处理，问题已整改完毕，并已向市民反馈。",
    "已联系市民了解情况，现场核实后已督促责任方限期整改，后续将加强巡查。",
    "经现场查看，相关设施已修复，恢复正常使用。感谢市民的监督。",
    "已将情况转交辖区执法中队处理，当事人已按要求整改，我单位将持续跟进。",
    "经调查，市民反映的情况属实，已依法责令整改并处以警告，现已整改到位。",
    "已向市民详细解释相关政策及办理流程，市民表示理解。",
];

struct Gen<'a> {
    rng: StdRng,
    ctx: Context<'a>,
    dir: &'a Directory,
    city: &'a City,
    leaves: Vec<(CategoryCode, RequestType)>,
    streets: Vec<JurisdictionCode>,
    frequent: Vec<PhoneNumber>,
    now: Millis,
    /// When each (phone, category) last called, for repeat contacts.
    last_contact: std::collections::HashMap<(String, String), Millis>,
    /// Each caller's last category and street: a resident who calls again calls about the
    /// same matter in the same place.
    last_category: std::collections::HashMap<String, (CategoryCode, JurisdictionCode)>,
}

/// One order being walked through its life.
struct Walk {
    order: Order,
    log: Vec<Event>,
    t: Millis,
    now: Millis,
    /// Stop after this many events (the newest orders wait at the start of the queue).
    max_events: usize,
}

impl Walk {
    /// Performs `cmd` `delay` after the previous step, unless that is in the future.
    fn step(&mut self, ctx: &Context, cmd: Command, actor: &Actor, delay: Millis) -> bool {
        // A tenth of steps stall for much longer, so that young orders wait in every queue.
        let stall = if self.order.version % 10 == (self.order.number.as_str().len() as i64 + self.t / MINUTE) % 10 {
            12
        } else {
            1
        };
        let t = self.t + delay.max(MINUTE) * stall;
        if t > self.now || self.log.len() >= self.max_events {
            return false;
        }
        match decide(ctx, &self.order, &cmd, actor, t) {
            Ok(ev) => match apply(Some(self.order.clone()), &ev) {
                Ok(o) => {
                    self.order = o;
                    self.log.push(ev);
                    self.t = t;
                    true
                }
                Err(_) => false,
            },
            Err(e) => {
                tracing::debug!(error = %e, "demo step refused");
                false
            }
        }
    }
}

impl Gen<'_> {
    fn phone(&mut self) -> PhoneNumber {
        if self.rng.random_bool(0.08)
            && let Some(p) = self.frequent.choose(&mut self.rng)
        {
            return p.clone();
        }
        let prefix = ["135", "136", "137", "138", "139", "150", "158", "186", "189", "020"]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("138");
        let n: u64 = self.rng.random_range(0..100_000_000);
        PhoneNumber::parse(&format!("{prefix}{n:08}")).unwrap_or_else(|_| self.frequent[0].clone())
    }

    fn name(&mut self) -> Option<String> {
        if self.rng.random_bool(0.3) {
            return None;
        }
        let s = self.city.surnames.choose(&mut self.rng)?;
        let g = self.city.given.choose(&mut self.rng)?;
        Some(if self.rng.random_bool(0.5) { format!("{s}{g}") } else { format!("{s}先生") })
    }

    fn intake(&mut self) -> Option<Intake> {
        let phone = self.phone();
        // Residents whose problem is not solved call again about the same matter.
        // Most who call again are still waiting on the same matter (重复来电).
        let again = self.last_category.get(phone.as_str()).filter(|_| self.rng.random_bool(0.75)).cloned();
        let leaf = again.as_ref().and_then(|(c, _)| self.leaves.iter().find(|l| l.0 == *c).cloned());
        let ((category, default_type), street) = match (leaf, again) {
            (Some(leaf), Some((_, street))) => (leaf, street),
            _ => (self.leaves.choose(&mut self.rng)?.clone(), self.streets.choose(&mut self.rng)?.clone()),
        };
        self.last_category.insert(phone.to_string(), (category.clone(), street.clone()));
        let district = self.dir.district_of(&street).map(|d| d.code.to_string()).unwrap_or_default();
        let road = self
            .city
            .places
            .get(&district)
            .and_then(|r| r.choose(&mut self.rng))
            .cloned()
            .unwrap_or_else(|| "人民路".into());
        let address = format!("{}{}号", road, self.rng.random_range(1..400));
        let content = self
            .city
            .samples
            .get(&category)
            .and_then(|s| s.choose(&mut self.rng))
            .map(|s| s.replace("{address}", &address))
            .unwrap_or_else(|| format!("市民反映{address}有问题需要处理。"));
        let request_type = if default_type != RequestType::Consultation && self.rng.random_bool(0.1) {
            *[RequestType::Complaint, RequestType::Help, RequestType::Report].choose(&mut self.rng)?
        } else {
            default_type
        };
        let channel = *weighted(
            &mut self.rng,
            &[
                (Channel::Phone, 70),
                (Channel::Wechat, 10),
                (Channel::Web, 8),
                (Channel::App, 7),
                (Channel::Email, 2),
                (Channel::Letter, 1),
                (Channel::Media, 1),
                (Channel::Open311, 1),
            ],
        );
        let urgency =
            *weighted(&mut self.rng, &[(Urgency::Normal, 88), (Urgency::Urgent, 10), (Urgency::Emergency, 2)]);
        let (lat, lon) = if self.rng.random_bool(0.5) {
            (Some(23.0 + self.rng.random_range(0.0..0.4)), Some(113.2 + self.rng.random_range(0.0..0.4)))
        } else {
            (None, None)
        };
        Some(Intake {
            channel: Some(channel),
            request_type,
            category,
            urgency,
            title: String::new(),
            content,
            caller: Caller { phone: Some(phone), name: self.name(), confidential: self.rng.random_bool(0.05) },
            location: Location { address: Some(address), street: Some(street), district: None, lat, lon },
        })
    }

    /// The lead unit a dispatcher would choose.
    fn lead_for(&self, o: &Order) -> Option<UnitCode> {
        let loc = &o.intake.location;
        self.dir.suggest_lead(&o.intake.category, loc.street.as_ref(), loc.district.as_ref()).map(|u| u.code.clone())
    }

    fn street_unit(&self, o: &Order) -> Option<UnitCode> {
        self.dir
            .units()
            .find(|u| u.kind == UnitKind::Street && u.jurisdiction.as_ref() == o.intake.location.street.as_ref())
            .map(|u| u.code.clone())
    }

    fn walk(
        &mut self,
        number: OrderNumber,
        t0: Millis,
        previous: Option<MergeTarget>,
        max_events: usize,
    ) -> Option<Vec<Event>> {
        let intake = self.intake()?;
        let operator = staff("operator", Role::Operator);
        let mut ev = lifecycle::register(&self.ctx, intake, number, &operator, t0).ok()?;
        // As the store stamps it live: the caller had an order in this category within 30 days.
        if let Change::Registered { intake, repeat_contact } = &mut ev.change {
            let phone = intake.caller.phone.as_ref().map(|p| p.to_string()).unwrap_or_default();
            let key = (phone, intake.category.to_string());
            *repeat_contact = self.last_contact.get(&key).is_some_and(|t| t0 - t <= 30 * DAY);
            self.last_contact.insert(key, t0);
        }
        let order = apply(None, &ev).ok()?;
        let mut w = Walk { order, log: vec![ev], t: t0, now: self.now, max_events };
        let ctx = self.ctx;
        let reviewer = staff("reviewer", Role::Reviewer);
        let dispatcher = staff("dispatcher", Role::Dispatcher);
        let callback = staff("callback", Role::Callback);
        let supervisor = staff("supervisor", Role::Supervisor);
        let r = &mut self.rng;
        let m = |r: &mut StdRng, lo: i64, hi: i64| r.random_range(lo..hi) * MINUTE;

        if w.order.intake.request_type == RequestType::Consultation && r.random_bool(0.65) {
            let kind =
                *weighted(r, &[(CloseKind::Answered, 80), (CloseKind::Referred, 15), (CloseKind::NotAccepted, 5)]);
            let resolution = match kind {
                CloseKind::Referred => {
                    "该事项不属于本热线受理范围，已告知市民向相关主管机构咨询，并提供其办公地址和电话。"
                }
                CloseKind::NotAccepted => "已向市民解释该诉求属于司法程序处理事项，告知其依法通过诉讼途径解决。",
                _ => "已根据知识库向市民解答相关政策和办理流程，市民表示清楚。",
            };
            let delay = m(r, 2, 8);
            w.step(&ctx, Command::Close { kind, resolution: resolution.into(), cite: None }, &operator, delay);
            return Some(w.log);
        }
        let delay = m(r, 2, 6);
        if !w.step(&ctx, Command::Submit, &operator, delay) {
            return Some(w.log);
        }
        if let Some(target) = previous.filter(|_| r.random_bool(0.02)) {
            let into = target.number.clone();
            let delay = m(r, 5, 30);
            w.step(&ctx, Command::Merge { into, target: Some(target) }, &dispatcher, delay);
            return Some(w.log);
        }
        if r.random_bool(0.02) {
            let delay = m(r, 5, 30);
            w.step(&ctx, Command::Cancel { reason: "无效来电，市民未能说明具体诉求。".into() }, &reviewer, delay);
            return Some(w.log);
        }
        if r.random_bool(0.05) {
            let delay = m(r, 5, 30);
            if !w.step(
                &ctx,
                Command::SendBack { reason: "地址信息不完整，请补充具体门牌号。".into() },
                &reviewer,
                delay,
            ) {
                return Some(w.log);
            }
            let delay = m(r, 5, 20);
            if !w.step(&ctx, Command::Submit, &operator, delay) {
                return Some(w.log);
            }
        }
        let delay = m(r, 5, 60);
        if !w.step(&ctx, Command::Approve, &reviewer, delay) {
            return Some(w.log);
        }
        let Some(mut lead) = self.lead_for(&w.order) else { return Some(w.log) };
        let r = &mut self.rng;
        let assisting = if r.random_bool(0.1) {
            self.dir
                .units()
                .filter(|u| u.kind == UnitKind::Department && u.parent.is_none() && u.code != lead)
                .collect::<Vec<_>>()
                .choose(r)
                .map(|u| vec![u.code.clone()])
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let delay = m(r, 10, 120);
        if !w.step(
            &ctx,
            Command::Dispatch { lead_unit: lead.clone(), assisting_units: assisting, note: None },
            &dispatcher,
            delay,
        ) {
            return Some(w.log);
        }
        if r.random_bool(0.06) {
            let delay = m(r, 30, 240);
            if !w.step(
                &ctx,
                Command::Return {
                    reason: "该事项不属于我单位职责范围，建议改派辖区街道办事处。".into()
                },
                &handler(&lead),
                delay,
            ) {
                return Some(w.log);
            }
            let district = w.order.intake.location.district.clone();
            let fallback = self
                .dir
                .units()
                .find(|u| u.kind == UnitKind::District && u.jurisdiction == district)
                .map(|u| u.code.clone());
            let Some(new_lead) = fallback.filter(|f| f != &lead) else { return Some(w.log) };
            lead = new_lead;
            let delay = m(&mut self.rng, 10, 120);
            if !w.step(
                &ctx,
                Command::Dispatch { lead_unit: lead.clone(), assisting_units: vec![], note: Some("改派".into()) },
                &dispatcher,
                delay,
            ) {
                return Some(w.log);
            }
        }
        let delay = m(&mut self.rng, 5, 90);
        if !w.step(&ctx, Command::Sign, &handler(&lead), delay) {
            return Some(w.log);
        }
        let is_district = self.dir.unit(&lead).is_some_and(|u| u.kind == UnitKind::District);
        if is_district
            && self.rng.random_bool(0.3)
            && let Some(street) = self.street_unit(&w.order)
        {
            let delay = m(&mut self.rng, 10, 180);
            if !w.step(&ctx, Command::Subdispatch { unit: street.clone(), note: None }, &handler(&lead), delay) {
                return Some(w.log);
            }
            lead = street;
            let delay = m(&mut self.rng, 5, 90);
            if !w.step(&ctx, Command::Sign, &handler(&lead), delay) {
                return Some(w.log);
            }
        }
        if self.rng.random_bool(0.05) {
            let delay = m(&mut self.rng, 60, 2000);
            w.step(&ctx, Command::Urge { note: "请加快办理进度，按时反馈。".into(), level: 1 }, &supervisor, delay);
        }
        if self.rng.random_bool(0.08) {
            let delay = m(&mut self.rng, 120, 2000);
            let until = w.order.deadline.unwrap_or(w.t) + 5 * DAY;
            if w.step(
                &ctx,
                Command::RequestExtension {
                    until, reason: "需协调多个部门现场联合处置，申请延期。".into()
                },
                &handler(&lead),
                delay,
            ) {
                let approve = self.rng.random_bool(0.7);
                let delay = m(&mut self.rng, 30, 600);
                if !w.step(&ctx, Command::DecideExtension { approve, note: None }, &dispatcher, delay) {
                    return Some(w.log);
                }
            }
        }
        for round in 0..2 {
            let delay = m(&mut self.rng, 240, 6 * 24 * 60);
            let content = (*REPLIES.choose(&mut self.rng).unwrap_or(&REPLIES[0])).to_owned();
            let solved = self.rng.random_bool(0.85);
            if !w.step(&ctx, Command::Reply { content, solved }, &handler(&lead), delay) {
                return Some(w.log);
            }
            let satisfaction = if round == 1 {
                Satisfaction::Satisfied
            } else {
                *weighted(
                    &mut self.rng,
                    &[
                        (Satisfaction::Satisfied, 72),
                        (Satisfaction::BasicallySatisfied, 14),
                        (Satisfaction::Unsatisfied, 7),
                        (Satisfaction::Unreachable, 7),
                    ],
                )
            };
            let delay = m(&mut self.rng, 120, 2 * 24 * 60);
            let note =
                (satisfaction == Satisfaction::Unsatisfied).then(|| "市民表示问题仍未解决，要求重办。".to_owned());
            if !w.step(
                &ctx,
                Command::Callback {
                    satisfaction,
                    solved: Some(solved && satisfaction != Satisfaction::Unsatisfied),
                    note,
                },
                &callback,
                delay,
            ) {
                return Some(w.log);
            }
            if w.order.status == Status::Closed {
                break;
            }
        }
        Some(w.log)
    }
}

/// Generates and stores `opts.history` orders spread over the last `opts.days` days.
pub async fn generate(
    store: &Store,
    city: &City,
    dir: &Directory,
    calendar: &Calendar,
    opts: &DemoOptions,
    now: Millis,
) -> anyhow::Result<()> {
    if opts.history == 0 {
        return Ok(());
    }
    let policy = Policy::default();
    let ctx = Context { directory: dir, calendar, policy: &policy };
    let leaves: Vec<(CategoryCode, RequestType)> = dir
        .categories()
        .filter_map(|c| c.leaf.as_ref().map(|l| (c.code.clone(), l.request_type.unwrap_or(RequestType::Complaint))))
        .collect();
    let streets: Vec<JurisdictionCode> =
        dir.jurisdictions().filter(|j| j.level == JurisdictionLevel::Street).map(|j| j.code.clone()).collect();
    let mut rng = StdRng::seed_from_u64(12345);
    let frequent = (0..60)
        .filter_map(|_| PhoneNumber::parse(&format!("139{:08}", rng.random_range(0..100_000_000u64))).ok())
        .collect();
    let mut g = Gen {
        rng,
        ctx,
        dir,
        city,
        leaves,
        streets,
        frequent,
        now,
        last_contact: Default::default(),
        last_category: Default::default(),
    };

    // Spread orders over the days, more on weekdays, each day's in time order.
    let days = opts.days.max(1);
    let first_day = calendar.local_date(now - (days - 1) * DAY);
    let mut batch: Vec<Vec<Event>> = Vec::new();
    let mut made = 0usize;
    let per_day = opts.history as f64 / days as f64;
    for d in 0..days {
        let date = first_day + chrono::Duration::days(d);
        let day_code = date.format("%Y%m%d").to_string();
        let midnight = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(0)
            - i64::from(calendar.utc_offset_minutes) * MINUTE;
        let weekday_factor = if calendar.is_working_day(date) { 1.1 } else { 0.75 };
        let remaining_days = (days - d) as usize;
        let mut n = ((per_day * weekday_factor).round() as usize).min(opts.history - made);
        if d == days - 1 || remaining_days == 1 {
            n = opts.history - made;
        }
        let mut times: Vec<Millis> = (0..n)
            .map(|_| {
                // Calls cluster in the day: 07:00–23:00 mostly.
                let minute = if g.rng.random_bool(0.93) {
                    g.rng.random_range(7 * 60..23 * 60)
                } else {
                    g.rng.random_range(0..24 * 60)
                };
                midnight + minute * MINUTE + g.rng.random_range(0..60_000)
            })
            .filter(|t| *t <= now - MINUTE)
            .collect();
        times.sort_unstable();
        let mut previous: Option<MergeTarget> = None;
        let mut seq = 0u64;
        let count = times.len();
        for (i, t0) in times.into_iter().enumerate() {
            // The day's newest orders wait at each early step, so every queue has some.
            let from_end = count - i;
            let max_events = if d == days - 1 && from_end <= 4 { from_end } else { usize::MAX };
            // A number is used only when an order was made with it: days have no gaps.
            let number = OrderNumber::format(&day_code, seq + 1);
            if let Some(log) = g.walk(number, t0, previous.take(), max_events) {
                seq += 1;
                if let Some(o) = lianxin_domain::lifecycle::replay(&log).ok().flatten()
                    && o.status.is_open()
                    && o.status != Status::Registered
                {
                    previous = Some(MergeTarget { number: o.number.clone(), status: o.status });
                }
                batch.push(log);
                made += 1;
            }
            if batch.len() >= 500 {
                store.insert_history(&batch).await?;
                batch.clear();
            }
        }
    }
    if !batch.is_empty() {
        store.insert_history(&batch).await?;
    }
    tracing::info!(orders = made, "demo history generated");
    Ok(())
}
