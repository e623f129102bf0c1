//! The period picker of the statistics pages (热点, 统计): a preset (`days`: the last N days
//! up to today) or a first and last day of its own, both included.

use super::i18n::Tr;
use chrono::{Duration, NaiveDate};

/// A picked period and what the form shows.
pub struct Picked {
    pub from: NaiveDate,
    /// The last day, included.
    pub last: NaiveDate,
    /// The form's fields as given (or as picked, when they were fine).
    pub from_s: String,
    pub to_s: String,
    /// The preset in force; empty for a period of its own.
    pub days: String,
    /// (field label, message) in the console's language.
    pub errors: Vec<(String, String)>,
}

/// Reads `days` (one of `presets`), or `from` and `to`; else the first preset. A bad date
/// or range is named and the first preset used instead.
pub fn pick(
    t: Tr,
    today: NaiveDate,
    days: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    presets: &[&str],
) -> Picked {
    let date = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let (from_in, to_in) = (date(from), date(to));
    let days = date(days).filter(|d| presets.contains(&d.as_str()));
    let default = presets.first().and_then(|d| d.parse::<i64>().ok()).unwrap_or(7);
    let preset = |n: i64| (today - Duration::days(n - 1), today);
    let mut errors = Vec::new();
    let (f, l) = match (days.as_deref(), &from_in, &to_in) {
        (None, Some(f), Some(l)) => {
            match (NaiveDate::parse_from_str(f, "%Y-%m-%d"), NaiveDate::parse_from_str(l, "%Y-%m-%d")) {
                (Ok(f), Ok(l)) if f <= l && (l - f).num_days() < 3660 => (f, l),
                (Ok(_), Ok(_)) => {
                    errors.push((t.s("hot.to").to_owned(), t.s("search.bad_range").to_owned()));
                    preset(default)
                }
                _ => {
                    errors.push((t.s("hot.from").to_owned(), t.s("search.bad_date").to_owned()));
                    preset(default)
                }
            }
        }
        (d, _, _) => preset(d.and_then(|d| d.parse().ok()).unwrap_or(default)),
    };
    let own = from_in.is_some() && days.is_none();
    let (from_s, to_s) = if errors.is_empty() {
        (f.to_string(), l.to_string())
    } else {
        (from_in.unwrap_or_default(), to_in.unwrap_or_default())
    };
    let days = if own { String::new() } else { days.unwrap_or_else(|| default.to_string()) };
    Picked { from: f, last: l, from_s, to_s, days, errors }
}
