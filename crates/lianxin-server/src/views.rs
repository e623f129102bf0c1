//! What the API shows of domain data: masking applied, times in RFC 3339.

use lianxin_domain::calendar::Calendar;
use lianxin_domain::scope::{CallerView, caller_view, mask_name};
use lianxin_domain::{Actor, Order};
use lianxin_store::StoredEvent;
use serde::Serialize;
use utoipa::ToSchema;

/// The resident, as the viewer may see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallerOut {
    /// Full for roles that need it (audited), masked (`138****0000`) for others, null for a
    /// confidential caller seen by a handling unit.
    pub phone: Option<String>,
    pub name: Option<String>,
    pub confidential: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationOut {
    pub address: Option<String>,
    /// Null for a consultation or a matter of a whole district or the city.
    pub street: Option<String>,
    /// Null for a matter of the whole city.
    pub district: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionOut {
    pub until: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    /// When it should be decided.
    pub decide_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyOut {
    pub content: String,
    /// Null when an imported history did not say.
    pub solved: Option<bool>,
    pub unit: Option<String>,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackOut {
    pub satisfaction: String,
    /// Null when an imported history did not say.
    pub solved: Option<bool>,
    pub note: Option<String>,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FirstContactOut {
    pub kind: String,
    pub resolution: String,
    /// The knowledge-base article, referral entry or announcement the answer named.
    pub cite: Option<CiteOut>,
}

/// What a first-contact close cited, as it was when cited.
#[derive(Debug, Serialize, ToSchema)]
pub struct CiteOut {
    /// `article`, `referral` or `announcement`.
    pub kind: String,
    pub id: String,
    pub title: String,
    /// The article's version that was read out.
    pub version: Option<i64>,
}

/// A work order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    #[schema(example = "2026112400123")]
    pub number: String,
    pub status: String,
    /// Null only on an order imported from a history that did not say.
    pub channel: Option<String>,
    pub request_type: String,
    pub category: String,
    pub urgency: String,
    pub title: String,
    pub content: String,
    pub caller: CallerOut,
    pub location: LocationOut,
    pub lead_unit: Option<String>,
    pub assisting_units: Vec<String>,
    /// When handling must be finished.
    pub deadline: Option<String>,
    /// When the lead unit must sign for it.
    pub sign_deadline: Option<String>,
    /// When the resident must be called back (after a reply).
    pub callback_deadline: Option<String>,
    /// Supervision: `yellow` when past 75% of the handling limit, `red` when overdue.
    pub warning: Option<String>,
    /// The warning already given for the current deadline.
    pub warned: Option<String>,
    /// Quality assurance: `pending`, `passed` or `failed` once sampled.
    pub qa: Option<String>,
    /// The caller had an order in the same category within 30 days.
    pub repeat_contact: bool,
    pub pending_extension: Option<ExtensionOut>,
    pub reply: Option<ReplyOut>,
    pub callback: Option<CallbackOut>,
    pub first_contact: Option<FirstContactOut>,
    pub merged_into: Option<String>,
    /// The order's id in the system it was imported from.
    pub source_ref: Option<String>,
    pub returns: u32,
    pub reopens: u32,
    pub urges: u32,
    pub extensions_granted: u32,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    /// Increments with every accepted action; send it back for optimistic concurrency.
    pub version: i64,
}

/// One event of an order's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub unit: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub comment: Option<String>,
    /// SHA-256 chaining this event to the previous one.
    pub hash: String,
}

/// Renders an order for `actor` at `now`; returns whether the caller was shown unmasked.
pub fn order_out(o: &Order, actor: &Actor, cal: &Calendar, now: i64, warn_percent: u8) -> (OrderOut, bool) {
    let t = |ms: i64| cal.rfc3339(ms);
    let view = caller_view(actor, o);
    let c = &o.intake.caller;
    let caller = match view {
        CallerView::Full => CallerOut {
            phone: c.phone.as_ref().map(|p| p.to_string()),
            name: c.name.clone(),
            confidential: c.confidential,
        },
        CallerView::Masked => CallerOut {
            phone: c.phone.as_ref().map(|p| p.masked()),
            name: c.name.as_deref().map(mask_name),
            confidential: c.confidential,
        },
        CallerView::Hidden => CallerOut { phone: None, name: None, confidential: true },
    };
    let l = &o.intake.location;
    let out = OrderOut {
        number: o.number.to_string(),
        status: o.status.to_string(),
        channel: o.intake.channel.map(|c| c.to_string()),
        request_type: o.intake.request_type.to_string(),
        category: o.intake.category.to_string(),
        urgency: o.intake.urgency.to_string(),
        title: o.intake.title.clone(),
        content: o.intake.content.clone(),
        caller,
        location: LocationOut {
            address: l.address.clone(),
            street: l.street.as_ref().map(|s| s.to_string()),
            district: l.district.as_ref().map(|d| d.to_string()),
            lat: l.lat,
            lon: l.lon,
        },
        lead_unit: o.lead_unit.as_ref().map(|u| u.to_string()),
        assisting_units: o.assisting_units.iter().map(|u| u.to_string()).collect(),
        deadline: o.deadline.map(t),
        sign_deadline: o.sign_deadline.map(t),
        callback_deadline: o.callback_deadline.map(t),
        warning: o.warning_due(now, warn_percent).map(|w| w.to_string()),
        warned: o.warned_level().map(|w| w.to_string()),
        qa: o.qa.as_ref().map(|q| q.result.to_string()),
        repeat_contact: o.repeat_contact,
        pending_extension: o.pending_extension.as_ref().map(|e| ExtensionOut {
            until: t(e.until),
            reason: e.reason.clone(),
            requested_by: e.requested_by.clone(),
            requested_at: t(e.requested_at),
            decide_by: e.decide_by.map(t),
        }),
        reply: o.reply.as_ref().map(|r| ReplyOut {
            content: r.content.clone(),
            solved: r.solved,
            unit: r.unit.as_ref().map(|u| u.to_string()),
            at: t(r.at),
        }),
        callback: o.callback.as_ref().map(|c| CallbackOut {
            satisfaction: c.satisfaction.to_string(),
            solved: c.solved,
            note: c.note.clone(),
            at: t(c.at),
        }),
        first_contact: o.first_contact.as_ref().map(|f| FirstContactOut {
            kind: f.kind.to_string(),
            resolution: f.resolution.clone(),
            cite: f.cite.as_ref().map(|c| CiteOut {
                kind: c.kind.to_string(),
                id: c.id.clone(),
                title: c.title.clone(),
                version: c.version,
            }),
        }),
        merged_into: o.merged_into.as_ref().map(|n| n.to_string()),
        source_ref: o.source_ref.clone(),
        returns: o.returns,
        reopens: o.reopens,
        urges: o.urges,
        extensions_granted: o.extensions_granted,
        created_by: o.created_by.clone(),
        created_at: t(o.created_at),
        updated_at: t(o.updated_at),
        closed_at: o.closed_at.map(t),
        version: o.version,
    };
    (out, view == CallerView::Full)
}

pub fn event_out(e: &StoredEvent, cal: &Calendar) -> EventOut {
    EventOut {
        seq: e.event.seq,
        at: cal.rfc3339(e.event.at),
        actor: e.event.actor.clone(),
        unit: e.event.unit.as_ref().map(|u| u.to_string()),
        action: e.event.action().to_string(),
        from_status: e.event.from_status.map(|s| s.to_string()),
        to_status: e.event.to_status.to_string(),
        comment: e.comment.clone(),
        hash: e.hash.clone(),
    }
}
