//! Form fields → the JSON object the service functions read, with the same field names as
//! the API. Only types are converted here (checkboxes and radios to booleans, repeated
//! fields to lists, numbers, local date-times to RFC 3339); every rule about the values
//! stays with the service and the domain.

use serde_json::{Map, Value};

/// Fields that are booleans in the API.
const BOOLEANS: &[&str] = &["solved", "approve", "confidential", "done"];
/// Fields that are integers in the API.
const INTEGERS: &[&str] = &["level", "version", "part"];
/// Fields that are decimal numbers in the API.
const NUMBERS: &[&str] = &["lat", "lon"];
/// Fields that are lists in the API.
const LISTS: &[&str] = &["assisting_units", "districts", "streets"];
/// Fields that are times in the API, entered as local `datetime-local` values.
const TIMES: &[&str] = &["until", "starts_at", "ends_at"];
/// Fields of the page only (never sent to the service).
const PAGE_ONLY: &[&str] = &["then", "return_to", "district", "category_q", "street_q", "filter", "lang"];

fn boolean(v: &str) -> Value {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Value::Bool(true),
        "false" | "off" | "0" | "no" => Value::Bool(false),
        _ => Value::String(v.to_owned()),
    }
}

/// A local date-time (`2026-11-30T17:30` or `2026-11-30 17:30`) in the calendar's offset
/// (`+08:00`).
fn time(v: &str, offset_minutes: i32) -> Value {
    let v = v.trim().replacen(' ', "T", 1);
    let v = v.as_str();
    let has_offset = v.ends_with('Z') || v.get(19..).is_some_and(|tail| tail.contains(['+', '-']));
    if has_offset {
        return Value::String(v.to_owned());
    }
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.abs();
    let seconds = if v.len() == 16 { ":00" } else { "" };
    Value::String(format!("{v}{seconds}{sign}{:02}:{:02}", off / 60, off % 60))
}

/// The JSON object of a form. `a.b` names a field of nested object `a`; empty values are
/// left out, so that a missing required value is reported as the API reports it.
pub fn to_json(fields: &[(String, String)], offset_minutes: i32) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in fields {
        if k.starts_with('_') || PAGE_ONLY.contains(&k.as_str()) || v.trim().is_empty() {
            continue;
        }
        let leaf = k.rsplit('.').next().unwrap_or(k);
        let value = if BOOLEANS.contains(&leaf) {
            boolean(v)
        } else if INTEGERS.contains(&leaf) {
            v.trim().parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(v.clone()))
        } else if NUMBERS.contains(&leaf) {
            match v.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Some(n) => Value::Number(n),
                None => Value::String(v.clone()),
            }
        } else if TIMES.contains(&leaf) {
            time(v, offset_minutes)
        } else {
            Value::String(v.clone())
        };
        let target = match k.split_once('.') {
            Some((obj, _)) => match out.entry(obj.to_owned()).or_insert_with(|| Value::Object(Map::new())) {
                Value::Object(m) => m,
                _ => continue,
            },
            None => &mut out,
        };
        if LISTS.contains(&leaf) {
            match target.entry(leaf.to_owned()).or_insert_with(|| Value::Array(Vec::new())) {
                Value::Array(a) => a.push(value),
                _ => continue,
            }
        } else {
            target.insert(leaf.to_owned(), value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn forms_become_the_api_objects() {
        let obj = to_json(
            &f(&[
                ("_csrf", "x"),
                ("then", "submit"),
                ("caller.phone", "13800001234"),
                ("caller.name", ""),
                ("caller.confidential", "on"),
                ("location.street", "440106001"),
                ("content", "路灯不亮"),
            ]),
            480,
        );
        assert_eq!(
            Value::Object(obj),
            json!({"caller": {"phone": "13800001234", "confidential": true},
                   "location": {"street": "440106001"}, "content": "路灯不亮"})
        );
        let obj = to_json(
            &f(&[
                ("lead_unit", "d440106"),
                ("assisting_units", "co-power"),
                ("assisting_units", "city-urban"),
                ("version", "4"),
                ("until", "2026-11-30 17:30"),
                ("solved", "false"),
                ("level", "x"),
            ]),
            480,
        );
        assert_eq!(
            Value::Object(obj),
            json!({"lead_unit": "d440106", "assisting_units": ["co-power", "city-urban"], "version": 4,
                   "until": "2026-11-30T17:30:00+08:00", "solved": false, "level": "x"})
        );
    }
}
