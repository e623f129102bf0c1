//! The OpenAPI document, generated from the handlers' annotations and completed in one
//! place ([`document`]) with what holds for every operation: the statuses the edge itself
//! answers (401, 400, 413, 415, 404, 422, 503) with the one error schema, and the closed
//! vocabularies as enums taken from the domain.

use crate::api::{
    admin, calendar, incidents, knowledge, orders, problems, reference, search, session, stats, supervision,
};
use crate::views;
use lianxin_domain::{
    Action, Channel, CiteKind, CloseKind, JurisdictionLevel, QaResult, RequestType, Role, Satisfaction, Status,
    UnitKind, Urgency, WarnLevel,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every error answer: `{"error":{"code","message","fields"?}}`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"error": {"code": "invalid_values", "message": "content: must not be empty",
                                     "fields": {"content": "must not be empty"}}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code for clients and the UI to translate (`not_signed_in`,
    /// `malformed_request`, `unsupported_media_type`, `not_found`, `forbidden_role`,
    /// `invalid_values`, `illegal_transition`, `stale_version`, `database_unavailable`…).
    #[schema(pattern = "^[a-z][a-z0-9_]*$")]
    pub code: String,
    pub message: String,
    /// 422 only: each invalid field or parameter and what is wrong with it.
    #[schema(nullable = false)]
    pub fields: Option<BTreeMap<String, String>>,
}

/// Sign-in.
#[derive(Debug, ToSchema)]
pub struct LoginIn {
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

/// The resident who called.
#[derive(Debug, ToSchema)]
pub struct CallerIn {
    /// 5 to 20 digits, an optional leading `+`, single `-` between digits.
    #[schema(pattern = r"^\+?(?:[0-9]-?){4,19}[0-9]$", example = "13800001234")]
    pub phone: String,
    #[schema(nullable = false, max_length = 50)]
    pub name: Option<String>,
    /// Hides name and phone from the handling units (default false).
    #[schema(nullable = false)]
    pub confidential: Option<bool>,
}

/// Where the matter is. All optional: a street implies its district, a district may stand
/// alone, neither means the whole city; `lat` and `lon` come together.
#[derive(Debug, ToSchema)]
pub struct LocationIn {
    /// A `street` node of `GET /api/v1/jurisdictions`.
    #[schema(nullable = false, pattern = "^[0-9]{1,12}$", example = "440106001")]
    pub street: Option<String>,
    /// A `district` node.
    #[schema(nullable = false, pattern = "^[0-9]{1,12}$", example = "440106")]
    pub district: Option<String>,
    #[schema(nullable = false, max_length = 200)]
    pub address: Option<String>,
    #[schema(nullable = false, minimum = -90.0, maximum = 90.0)]
    pub lat: Option<f64>,
    #[schema(nullable = false, minimum = -180.0, maximum = 180.0)]
    pub lon: Option<f64>,
}

/// A new work order. Text fields refuse control characters other than tab, CR and LF.
#[derive(Debug, ToSchema)]
pub struct OrderIn {
    pub channel: String,
    pub request_type: String,
    /// A leaf code of `GET /api/v1/categories`.
    #[schema(pattern = "^[a-z0-9._-]{1,64}$", example = "urban.facilities.streetlight-out")]
    pub category: String,
    pub urgency: String,
    /// Derived from the content when absent.
    #[schema(nullable = false, max_length = 100)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 5000, pattern = r"\S")]
    pub content: String,
    pub caller: CallerIn,
    #[schema(nullable = false)]
    pub location: Option<LocationIn>,
}

/// What a first-contact close cites; an unknown id or a retired referral entry is a 422.
#[derive(Debug, ToSchema)]
pub struct CiteIn {
    /// `article`, `referral` or `announcement`.
    pub kind: String,
    #[schema(min_length = 1, max_length = 64)]
    pub id: String,
}

/// The fields of an action; which ones an action needs is in the contract's table:
/// `send_back`, `return`, `reopen`, `cancel`, `qa_fail`: `reason`; `close`: `resolution`,
/// `kind`?; `dispatch`: `lead_unit`, `assisting_units`?, `note`?; `subdispatch`: `unit`;
/// `request_extension`: `until`, `reason`; `decide_extension`: `approve`, `note`?;
/// `reply`: `content`, `solved`; `callback`: `satisfaction`, `solved` (not recorded when
/// `satisfaction` is `unreachable`), `note`?;
/// `merge`: `into`; `urge`: `note`, `level`?; `note`: `text`; `qa_pass`: `note`?;
/// `correct`: at least one of `category`, `request_type`, `urgency`, `location` (the whole
/// place, replacing the order's), `note`? (why); a fact equal to the order's own is left out
/// of the correction, and a correction that changes nothing is a 422;
/// `add_contact`: `content`, `channel`?, `caller`? (when someone other than the order's
/// caller called).
/// A missing required field is a 422 naming it.
#[derive(Debug, ToSchema)]
pub struct ActionIn {
    /// The order's version as last read: a different one is 409 `stale_version`.
    #[schema(nullable = false, minimum = 1)]
    pub version: Option<i64>,
    #[schema(nullable = false, min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: Option<String>,
    #[schema(nullable = false, min_length = 1, max_length = 5000, pattern = r"\S")]
    pub resolution: Option<String>,
    /// `close`: how the call was resolved (default answered).
    #[schema(nullable = false)]
    pub kind: Option<String>,
    #[schema(nullable = false, pattern = "^[a-z0-9._-]{1,64}$")]
    pub lead_unit: Option<String>,
    #[schema(nullable = false)]
    pub assisting_units: Option<Vec<String>>,
    /// `subdispatch`: a unit below the lead unit.
    #[schema(nullable = false, pattern = "^[a-z0-9._-]{1,64}$")]
    pub unit: Option<String>,
    #[schema(nullable = false, max_length = 500)]
    pub note: Option<String>,
    /// `request_extension`: the new deadline, RFC 3339.
    #[schema(nullable = false, format = DateTime)]
    pub until: Option<String>,
    #[schema(nullable = false)]
    pub approve: Option<bool>,
    #[schema(nullable = false, min_length = 1, max_length = 5000, pattern = r"\S")]
    pub content: Option<String>,
    #[schema(nullable = false)]
    pub solved: Option<bool>,
    #[schema(nullable = false)]
    pub satisfaction: Option<String>,
    /// `merge`: the number of the open order this one repeats.
    #[schema(nullable = false, pattern = "^[0-9]{13,20}$")]
    pub into: Option<String>,
    /// `urge`: 1 to 3.
    #[schema(nullable = false, minimum = 1, maximum = 3)]
    pub level: Option<i64>,
    #[schema(nullable = false, min_length = 1, max_length = 500, pattern = r"\S")]
    pub text: Option<String>,
    /// `correct`: a leaf category in use.
    #[schema(nullable = false, pattern = "^[a-z0-9._-]{1,64}$")]
    pub category: Option<String>,
    /// `correct`.
    #[schema(nullable = false)]
    pub request_type: Option<String>,
    /// `correct`.
    #[schema(nullable = false)]
    pub urgency: Option<String>,
    /// `correct`: the corrected place, replacing the order's whole place.
    #[schema(nullable = false)]
    pub location: Option<LocationIn>,
    /// `add_contact`: how the resident reached the hotline this time.
    #[schema(nullable = false)]
    pub channel: Option<String>,
    /// `add_contact`: who called this time, when not the order's own caller.
    #[schema(nullable = false)]
    pub caller: Option<CallerIn>,
    /// `close`: the knowledge-base article (kind `answered`), referral entry (kind
    /// `referred`) or announcement (kind `answered`) the answer came from.
    #[schema(nullable = false)]
    pub cite: Option<CiteIn>,
}

/// A QA sample: closed orders in `[from, to)`.
#[derive(Debug, ToSchema)]
pub struct QaSampleIn {
    /// Default: 7 days ago.
    #[schema(nullable = false, format = DateTime)]
    pub from: Option<String>,
    /// Default: now; after `from`.
    #[schema(nullable = false, format = DateTime)]
    pub to: Option<String>,
    /// The share of orders to draw (default 0.05).
    #[schema(nullable = false, minimum = 0.0, maximum = 1.0)]
    pub rate: Option<f64>,
}

/// Which notifications to mark read; all of them without `ids`.
#[derive(Debug, ToSchema)]
pub struct MarkReadIn {
    #[schema(nullable = false)]
    pub ids: Option<Vec<String>>,
}

/// A row of the routing catalogue.
#[derive(Debug, ToSchema)]
pub struct RouteIn {
    #[schema(pattern = "^[a-z0-9._-]{1,64}$")]
    pub category: String,
    /// A district or street; absent: anywhere.
    #[schema(nullable = false, pattern = "^[0-9]{1,12}$")]
    pub jurisdiction: Option<String>,
    #[schema(pattern = "^[a-z0-9._-]{1,64}$")]
    pub unit: String,
}

/// An account to create or update.
#[derive(Debug, ToSchema)]
pub struct UserIn {
    #[schema(nullable = false, max_length = 100)]
    pub display_name: Option<String>,
    /// Role names (or one string `a|b`).
    pub roles: Vec<String>,
    /// Required for handler and unit_admin.
    #[schema(nullable = false, pattern = "^[a-z0-9._-]{1,64}$")]
    pub unit: Option<String>,
    /// Default true.
    #[schema(nullable = false)]
    pub active: Option<bool>,
    #[schema(nullable = false, min_length = 8)]
    pub password: Option<String>,
}

/// A new password.
#[derive(Debug, ToSchema)]
pub struct PasswordIn {
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

/// The API description served at `/api/v1/openapi.json` (see [`document`]).
#[derive(OpenApi)]
#[openapi(
    info(title = "Lianxin (连心) hotline API", version = "1",
         description = "Work orders of a city's government service hotline (12345/311). Every error is `{\"error\":{\"code\",\"message\"}}` (schema `ErrorBody`); 422 adds `fields`. A JSON body must be sent as `application/json` (415 otherwise); text refuses control characters other than tab, CR and LF (422)."),
    paths(
        session::login, session::logout, session::me,
        reference::categories, reference::units, reference::jurisdictions,
        orders::create, orders::list, orders::get, orders::events, orders::act, orders::caller_orders,
        calendar::get, calendar::put, calendar::import,
        supervision::queue, supervision::sweep, supervision::qa_sample, supervision::notifications, supervision::mark_read,
        stats::kpis, stats::ranking, stats::hotspots, stats::get_weights, stats::put_weights,
        admin::import, admin::export, admin::put_item, admin::get_item, admin::toggle_item,
        admin::routes, admin::put_route, admin::delete_route,
        admin::users, admin::get_user, admin::put_user, admin::set_password, admin::toggle_user, admin::history,
        admin::logins,
        search::orders, search::status, search::vocabulary, search::add_words, search::remove_word,
        search::add_synonyms, search::remove_synonyms,
        knowledge::kb_search, knowledge::articles, knowledge::article, knowledge::versions, knowledge::create,
        knowledge::edit, knowledge::import, knowledge::templates, knowledge::put_template, knowledge::referrals,
        knowledge::put_referral, knowledge::announcements, knowledge::create_announcement, knowledge::put_announcement,
        knowledge::delete_announcement, knowledge::suggest,
        incidents::list, incidents::detect, incidents::get_rule, incidents::put_rule, incidents::confirm, incidents::dismiss, incidents::add_orders, incidents::reply,
        problems::candidates, problems::list, problems::get, problems::create, problems::report,
    ),
    components(schemas(ErrorBody, ErrorDetail, LoginIn, OrderIn, CallerIn, LocationIn, ActionIn, CiteIn, QaSampleIn, MarkReadIn,
                       RouteIn, UserIn, PasswordIn,
                       views::OrderOut, views::EventOut, views::CiteOut, orders::OrderList, session::LoginOut, session::UserOut,
                       reference::CategoryNode, reference::UnitOut, reference::JurisdictionNode,
                       calendar::CalendarDoc, calendar::PeriodDoc, calendar::HolidayYear, calendar::HolidayDay,
                       supervision::NotificationOut, supervision::NotificationList, supervision::Marked,
                       crate::jobs::SweepReport, crate::jobs::SampleReport,
                       stats::KpiRow, stats::KpiReport, stats::RankedUnit, stats::Ranking, stats::HotspotOut, stats::HotspotReport,
                       crate::setup::Report, crate::setup::ChangeOut, admin::RouteOut, admin::AccountOut, admin::ChangeRecord,
                       admin::LoginAttemptOut, admin::LoginLog,
                       search::SnippetOut, search::FoundOrder, search::SearchResults, search::SynonymGroup,
                       search::VocabularyOut, search::WordsIn, search::GroupCreated, crate::search::SearchStatus,
                       knowledge::KbHit, knowledge::KbHits, knowledge::ArticleOut, knowledge::ArticleList, knowledge::VersionOut,
                       knowledge::VersionList, knowledge::ArticleIn, knowledge::ArticleWritten, knowledge::ImportDone,
                       knowledge::TemplateOut, knowledge::TemplateList, knowledge::TemplateIn, knowledge::ReferralOut,
                       knowledge::ReferralList, knowledge::ReferralIn, knowledge::AnnouncementOut, knowledge::AnnouncementList,
                       knowledge::AnnouncementIn, knowledge::SuggestIn, knowledge::Scored, knowledge::TextSuggestion,
                       knowledge::Suggestions, crate::search::SimilarOrder,
                       incidents::IncidentOut, incidents::IncidentList, incidents::RuleDoc, incidents::NumbersIn, incidents::Joined,
                       incidents::IncidentReplyIn, incidents::Refused, incidents::IncidentReplied,
                       problems::CandidateOut, problems::CandidateList, problems::PartOut, problems::ReportOut, problems::ProblemOut,
                       problems::ProblemList, problems::ProblemIn, problems::PartInDoc, problems::ReportIn)),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "reference"), (name = "orders"), (name = "calendar"), (name = "supervision"), (name = "stats"), (name = "admin"), (name = "search"), (name = "knowledge"), (name = "incidents"), (name = "problems"))
)]
pub struct ApiDoc;

/// The actions `POST /api/v1/orders/{number}/actions/{action}` takes.
pub fn action_names() -> Vec<&'static str> {
    Action::ALL.iter().filter(|a| !matches!(a, Action::Register | Action::Import)).map(|a| a.as_str()).collect()
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<Value> {
    all.iter().map(|v| Value::from(name(*v))).collect()
}

/// The closed vocabularies, as (schema, property) → allowed values.
fn vocabularies() -> Vec<(&'static str, &'static str, Vec<Value>)> {
    let channel = names(Channel::ALL, Channel::as_str);
    let request_type = names(RequestType::ALL, RequestType::as_str);
    let urgency = names(Urgency::ALL, Urgency::as_str);
    let status = names(Status::ALL, Status::as_str);
    let satisfaction = names(Satisfaction::ALL, Satisfaction::as_str);
    let action = names(Action::ALL, Action::as_str);
    let role = names(Role::ALL, Role::as_str);
    let warn = names(WarnLevel::ALL, WarnLevel::as_str);
    vec![
        ("OrderIn", "channel", channel.clone()),
        ("OrderIn", "request_type", request_type.clone()),
        ("OrderIn", "urgency", urgency.clone()),
        ("ActionIn", "kind", names(CloseKind::ALL, CloseKind::as_str)),
        ("ActionIn", "satisfaction", satisfaction.clone()),
        ("ActionIn", "request_type", request_type.clone()),
        ("ActionIn", "urgency", urgency.clone()),
        ("ActionIn", "channel", channel.clone()),
        ("OrderOut", "status", status.clone()),
        ("OrderOut", "channel", channel),
        ("OrderOut", "request_type", request_type),
        ("OrderOut", "urgency", urgency),
        ("OrderOut", "warning", warn.clone()),
        ("OrderOut", "warned", warn),
        ("OrderOut", "qa", names(QaResult::ALL, QaResult::as_str)),
        ("CallbackOut", "satisfaction", satisfaction),
        ("FirstContactOut", "kind", names(CloseKind::ALL, CloseKind::as_str)),
        ("CiteIn", "kind", names(CiteKind::ALL, CiteKind::as_str)),
        ("CiteOut", "kind", names(CiteKind::ALL, CiteKind::as_str)),
        ("EventOut", "action", action),
        ("EventOut", "from_status", status.clone()),
        ("EventOut", "to_status", status),
        ("UnitOut", "kind", names(UnitKind::ALL, UnitKind::as_str)),
        ("JurisdictionNode", "level", names(JurisdictionLevel::ALL, JurisdictionLevel::as_str)),
        ("UserOut", "roles[]", role.clone()),
        ("AccountOut", "roles[]", role.clone()),
        ("UserIn", "roles[]", role),
    ]
}

/// Sets `values` as the enum of a property schema, keeping `null` for a nullable one.
fn set_enum(prop: &mut Value, mut values: Vec<Value>) {
    let nullable = prop["type"].as_array().is_some_and(|t| t.iter().any(|x| x == "null"));
    if nullable {
        values.push(Value::Null);
    }
    prop["enum"] = Value::Array(values);
}

fn error_response(status: &str) -> Value {
    let description = status
        .parse::<u16>()
        .ok()
        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// What every operation can be answered at the edge, whatever its handler does.
fn edge_statuses(op: &Value) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let has = |place: &str| params.iter().any(|p| p["in"] == place);
    if secured {
        out.push(("401", "Not signed in: no token, or an unknown or expired one"));
    }
    if !op["requestBody"].is_null() {
        out.push(("400", "Malformed body: not JSON, or not a JSON object"));
        out.push(("413", "The body is larger than this endpoint takes"));
        out.push(("415", "The body was not sent with a media type this endpoint takes"));
    }
    if has("path") {
        out.push(("404", "Absent, or outside the caller's scope (never says which)"));
    }
    if has("query") || !op["requestBody"].is_null() {
        out.push(("422", "Invalid values: `fields` names each parameter or field"));
    }
    out.push(("503", "The database is unavailable; retry shortly"));
    out
}

/// The document: the annotations plus what holds for every operation. Built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
        complete(&mut doc);
        doc
    })
}

fn complete(doc: &mut Value) {
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for op in item.values_mut() {
                let extra = edge_statuses(op);
                let Some(responses) = op["responses"].as_object_mut() else { continue };
                for (status, description) in extra {
                    responses.entry(status.to_owned()).or_insert_with(|| {
                        let mut r = error_response(status);
                        r["description"] = Value::from(description);
                        r
                    });
                }
                // Every error answer has the one error body.
                for (status, r) in responses.iter_mut() {
                    if status.starts_with('4') || status.starts_with('5') {
                        let fallback = error_response(status);
                        if r["description"].as_str().is_none_or(str::is_empty) {
                            r["description"] = fallback["description"].clone();
                        }
                        r["content"] = fallback["content"].clone();
                    }
                }
            }
        }
    }
    // The action path parameter is one of the actions.
    if let Some(params) = doc
        .pointer_mut("/paths/~1api~1v1~1orders~1{number}~1actions~1{action}/post/parameters")
        .and_then(Value::as_array_mut)
    {
        for p in params.iter_mut().filter(|p| p["name"] == "action") {
            p["schema"]["enum"] = json!(action_names());
        }
    }
    for (schema, prop, values) in vocabularies() {
        let (prop, items) = match prop.strip_suffix("[]") {
            Some(p) => (p, true),
            None => (prop, false),
        };
        let path = format!("/components/schemas/{schema}/properties/{prop}{}", if items { "/items" } else { "" });
        if let Some(target) = doc.pointer_mut(&path) {
            set_enum(target, values);
        }
    }
    // `lat` and `lon` come together (JSON Schema 2020-12, as OpenAPI 3.1 uses).
    if let Some(Value::Object(location)) = doc.pointer_mut("/components/schemas/LocationIn") {
        location.insert("dependentRequired".into(), json!({"lat": ["lon"], "lon": ["lat"]}));
    }
}
