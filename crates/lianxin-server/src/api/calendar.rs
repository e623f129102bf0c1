//! The working calendar: read by everyone, edited and imported by admins.

use crate::auth::CurrentUser;
use crate::body::parse_object;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use chrono::NaiveDate;
use lianxin_domain::Role;
use lianxin_domain::calendar::{Calendar, Period};
use lianxin_domain::error::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// The working calendar as the API shows and takes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarDoc {
    /// Local time's offset from UTC in minutes (China: 480).
    pub utc_offset_minutes: i32,
    /// Working periods of a working day, e.g. `[{"start":"08:30","end":"12:00"}, …]`.
    pub periods: Vec<PeriodDoc>,
    /// Public holidays (days off that would otherwise be worked), `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    /// Make-up working days (调休) on weekends, `YYYY-MM-DD`.
    pub workdays: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PeriodDoc {
    pub start: String,
    pub end: String,
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

impl From<&Calendar> for CalendarDoc {
    fn from(c: &Calendar) -> Self {
        CalendarDoc {
            utc_offset_minutes: c.utc_offset_minutes,
            periods: c.periods.iter().map(|p| PeriodDoc { start: hhmm(p.start), end: hhmm(p.end) }).collect(),
            holidays: c.holidays.iter().map(|d| d.to_string()).collect(),
            workdays: c.workdays.iter().map(|d| d.to_string()).collect(),
        }
    }
}

/// Validates a calendar document; every problem is named.
pub fn parse_calendar(doc: &CalendarDoc) -> Result<Calendar, ApiError> {
    let mut errs = FieldErrors::new();
    if !(-12 * 60..=14 * 60).contains(&doc.utc_offset_minutes) {
        errs.add("utc_offset_minutes", "must be between -720 and 840");
    }
    let mut periods = Vec::new();
    for (i, p) in doc.periods.iter().enumerate() {
        match (parse_hhmm(&p.start), parse_hhmm(&p.end)) {
            (Some(start), Some(end)) if start < end => periods.push(Period { start, end }),
            (Some(_), Some(_)) => errs.add(&format!("periods[{i}]"), "must start before it ends"),
            _ => errs.add(&format!("periods[{i}]"), "times must be HH:MM between 00:00 and 24:00"),
        }
    }
    periods.sort_by_key(|p| p.start);
    if periods.windows(2).any(|w| w[0].end > w[1].start) {
        errs.add("periods", "working periods must not overlap");
    }
    if doc.periods.is_empty() {
        errs.add("periods", "a working day needs at least one period");
    }
    let dates = |errs: &mut FieldErrors, field: &str, list: &[String]| -> BTreeSet<NaiveDate> {
        let mut out = BTreeSet::new();
        for d in list {
            match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => {
                    out.insert(d);
                }
                Err(_) => errs.add(field, format!("`{d}` is not a date like 2026-10-01")),
            }
        }
        out
    };
    let holidays = dates(&mut errs, "holidays", &doc.holidays);
    let workdays = dates(&mut errs, "workdays", &doc.workdays);
    if let Some(d) = holidays.intersection(&workdays).next() {
        errs.add("workdays", format!("{d} is listed both as a holiday and as a working day"));
    }
    errs.finish()?;
    Ok(Calendar { utc_offset_minutes: doc.utc_offset_minutes, periods, holidays, workdays })
}

/// Saves and activates a calendar.
pub async fn save(state: &AppState, cal: Calendar) -> Result<(), ApiError> {
    let json = serde_json::to_string(&cal).map_err(|e| ApiError::malformed(e.to_string()))?;
    state.store().set_meta("calendar", &json).await?;
    state.set_calendar(cal);
    Ok(())
}

/// The working calendar.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar",
    responses((status = 200, body = CalendarDoc)), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, _user: CurrentUser) -> Json<CalendarDoc> {
    Json(CalendarDoc::from(&*state.calendar()))
}

/// Replace the working calendar (admin).
#[utoipa::path(put, path = "/api/v1/calendar", tag = "calendar", request_body = CalendarDoc,
    responses((status = 200, body = CalendarDoc), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn put(State(state): State<AppState>, user: CurrentUser, body: Bytes) -> Result<Json<CalendarDoc>, ApiError> {
    let obj = parse_object(&body)?;
    user.require(&[Role::Admin], "only an admin may change the calendar")?;
    let doc: CalendarDoc = serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| {
        let mut errs = FieldErrors::new();
        errs.add("calendar", e.to_string());
        ApiError::invalid(errs.into_map())
    })?;
    let cal = parse_calendar(&doc)?;
    save(&state, cal).await?;
    Ok(Json(CalendarDoc::from(&*state.calendar())))
}

/// A year of official holidays as published (holiday-cn format:
/// `{"year":2026,"days":[{"name","date","isOffDay"}]}`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct HolidayYear {
    pub year: i32,
    pub days: Vec<HolidayDay>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HolidayDay {
    pub date: String,
    #[serde(rename = "isOffDay")]
    pub is_off_day: bool,
    #[serde(default)]
    pub name: Option<String>,
}

/// Import a year of official holidays and make-up days (admin): replaces that year's.
#[utoipa::path(post, path = "/api/v1/calendar/import", tag = "calendar", request_body = HolidayYear,
    responses((status = 200, body = CalendarDoc), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> Result<Json<CalendarDoc>, ApiError> {
    let obj = parse_object(&body)?;
    user.require(&[Role::Admin], "only an admin may change the calendar")?;
    let year: HolidayYear = serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| {
        let mut errs = FieldErrors::new();
        errs.add("days", e.to_string());
        ApiError::invalid(errs.into_map())
    })?;
    let mut cal = (*state.calendar()).clone();
    cal.holidays.retain(|d| chrono::Datelike::year(d) != year.year);
    cal.workdays.retain(|d| chrono::Datelike::year(d) != year.year);
    let mut errs = FieldErrors::new();
    for day in &year.days {
        match NaiveDate::parse_from_str(&day.date, "%Y-%m-%d") {
            Ok(d) if chrono::Datelike::year(&d) == year.year => {
                if day.is_off_day {
                    cal.holidays.insert(d);
                } else {
                    cal.workdays.insert(d);
                }
            }
            Ok(d) => errs.add("days", format!("{d} is not in {}", year.year)),
            Err(_) => errs.add("days", format!("`{}` is not a date like 2026-10-01", day.date)),
        }
    }
    errs.finish()?;
    save(&state, cal).await?;
    Ok(Json(CalendarDoc::from(&*state.calendar())))
}
