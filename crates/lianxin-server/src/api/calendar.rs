//! The working calendar: read by everyone, edited and imported by admins.

use crate::auth::CurrentUser;
use crate::body::{Fields, JsonObject};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
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
    #[schema(minimum = -720, maximum = 840)]
    pub utc_offset_minutes: i32,
    /// Working periods of a working day, e.g. `[{"start":"08:30","end":"12:00"}, …]`,
    /// not overlapping.
    #[schema(min_items = 1)]
    pub periods: Vec<PeriodDoc>,
    /// Public holidays (days off that would otherwise be worked), `YYYY-MM-DD`, years
    /// 2000 to 2100.
    pub holidays: Vec<String>,
    /// Make-up working days (调休) on weekends, `YYYY-MM-DD`, years 2000 to 2100; none
    /// of them a holiday too.
    pub workdays: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PeriodDoc {
    /// `HH:MM`, before `end`.
    #[schema(pattern = "^[0-9]{2}:[0-9]{2}$", example = "08:30")]
    pub start: String,
    /// `HH:MM`, at most `24:00`.
    #[schema(pattern = "^[0-9]{2}:[0-9]{2}$", example = "12:00")]
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

/// The years a calendar may hold: a date outside is a typo (`20226`), not a plan.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A `YYYY-MM-DD` date within [`YEARS`].
fn calendar_date(s: &str) -> Result<NaiveDate, String> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("`{s}` is not a date like 2026-10-01"))?;
    if YEARS.contains(&chrono::Datelike::year(&d)) {
        Ok(d)
    } else {
        Err(format!("`{s}` is outside the years {} to {}", YEARS.start(), YEARS.end()))
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
            match calendar_date(d) {
                Ok(d) => {
                    out.insert(d);
                }
                Err(m) => errs.add(field, m),
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
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", operation_id = "get_calendar",
    responses((status = 200, description = "The calendar in force", body = CalendarDoc)), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, _user: CurrentUser) -> Json<CalendarDoc> {
    Json(CalendarDoc::from(&*state.calendar()))
}

/// Replace the working calendar (admin).
#[utoipa::path(put, path = "/api/v1/calendar", tag = "calendar", operation_id = "put_calendar", request_body = CalendarDoc,
    responses((status = 200, description = "The calendar now in force", body = CalendarDoc),
              (status = 403, description = "Only an admin may change the calendar"),
              (status = 422, description = "Invalid values, every one named")),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<CalendarDoc>, ApiError> {
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
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    pub days: Vec<HolidayDay>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HolidayDay {
    /// `YYYY-MM-DD`, within `year`.
    #[schema(format = Date)]
    pub date: String,
    /// true: a holiday (day off); false: a make-up working day.
    #[serde(rename = "isOffDay")]
    pub is_off_day: bool,
    #[serde(default)]
    #[schema(nullable = false, max_length = 100)]
    pub name: Option<String>,
}

/// Import a year of official holidays and make-up days (admin): replaces that year's.
#[utoipa::path(post, path = "/api/v1/calendar/import", tag = "calendar", operation_id = "import_holidays",
    request_body = HolidayYear,
    responses((status = 200, description = "The calendar now in force", body = CalendarDoc),
              (status = 403, description = "Only an admin may change the calendar"),
              (status = 422, description = "A year outside 2000–2100, a bad date or a date of another year, every one named")),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonObject(obj): JsonObject,
) -> Result<Json<CalendarDoc>, ApiError> {
    user.require(&[Role::Admin], "only an admin may change the calendar")?;
    let mut errs = FieldErrors::new();
    let f = Fields::new(&obj);
    let year = f.integer("year", true, &mut errs).and_then(|y| match i32::try_from(y) {
        Ok(y) if YEARS.contains(&y) => Some(y),
        _ => {
            errs.add("year", format!("must be a year from {} to {}", YEARS.start(), YEARS.end()));
            None
        }
    });
    let mut days = Vec::new();
    match obj.get("days") {
        Some(serde_json::Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let field = |k: &str| format!("days[{i}].{k}");
                let Some(day) = item.as_object() else {
                    errs.add(&format!("days[{i}]"), "must be an object {\"date\",\"isOffDay\",\"name\"?}");
                    continue;
                };
                let d = Fields::new(day);
                let mut day_errs = FieldErrors::new();
                let date = d.parsed("date", true, &mut day_errs, calendar_date);
                let off = d.boolean("isOffDay", true, &mut day_errs);
                d.string("name", false, &mut day_errs);
                for (k, m) in day_errs.into_map() {
                    errs.add(&field(&k), m);
                }
                match (date, off, year) {
                    (Some(date), _, Some(y)) if chrono::Datelike::year(&date) != y => {
                        errs.add(&field("date"), format!("{date} is not in {y}"))
                    }
                    (Some(date), Some(off), _) => days.push((date, off)),
                    _ => {}
                }
            }
        }
        Some(_) => errs.add("days", "must be a list of days"),
        None => errs.add("days", "is required"),
    }
    errs.finish()?;
    let year = year.unwrap_or_default();
    let mut cal = (*state.calendar()).clone();
    cal.holidays.retain(|d| chrono::Datelike::year(d) != year);
    cal.workdays.retain(|d| chrono::Datelike::year(d) != year);
    for (date, off) in days {
        if off {
            cal.workdays.remove(&date);
            cal.holidays.insert(date);
        } else {
            cal.holidays.remove(&date);
            cal.workdays.insert(date);
        }
    }
    save(&state, cal).await?;
    Ok(Json(CalendarDoc::from(&*state.calendar())))
}
