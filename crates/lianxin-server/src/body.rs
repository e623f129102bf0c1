//! Reading JSON bodies field by field, so that a malformed body is a 400 while missing or
//! invalid values are one 422 naming every field.

use crate::error::ApiError;
use lianxin_domain::error::FieldErrors;
use serde_json::{Map, Value};

/// Parses a request body as a JSON object; an empty body is `{}`.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::malformed("the body must be a JSON object")),
        Err(e) => Err(ApiError::malformed(format!("the body is not valid JSON: {e}"))),
    }
}

/// Field reader over one JSON object; `prefix` names nested objects in errors.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    pub fn new(obj: &'a Map<String, Value>) -> Self {
        Fields { obj, prefix: String::new() }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    /// A nested object (`caller`, `location`); missing → `None` and, if required, an error.
    pub fn object(&self, key: &str, required: bool, errs: &mut FieldErrors) -> Option<Fields<'a>> {
        match self.get(key) {
            Some(Value::Object(m)) => Some(Fields { obj: m, prefix: format!("{}.", self.name(key)) }),
            Some(_) => {
                errs.add(&self.name(key), "must be an object");
                None
            }
            None => {
                if required {
                    errs.add(&self.name(key), "is required");
                }
                None
            }
        }
    }

    pub fn string(&self, key: &str, required: bool, errs: &mut FieldErrors) -> Option<String> {
        match self.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errs.add(&self.name(key), "must be a string");
                None
            }
            None => {
                if required {
                    errs.add(&self.name(key), "is required");
                }
                None
            }
        }
    }

    pub fn boolean(&self, key: &str, required: bool, errs: &mut FieldErrors) -> Option<bool> {
        match self.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                errs.add(&self.name(key), "must be true or false");
                None
            }
            None => {
                if required {
                    errs.add(&self.name(key), "is required");
                }
                None
            }
        }
    }

    pub fn number(&self, key: &str, errs: &mut FieldErrors) -> Option<f64> {
        match self.get(key) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => {
                errs.add(&self.name(key), "must be a number");
                None
            }
            None => None,
        }
    }

    pub fn integer(&self, key: &str, required: bool, errs: &mut FieldErrors) -> Option<i64> {
        match self.get(key) {
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
            Some(_) => {
                errs.add(&self.name(key), "must be an integer");
                None
            }
            None => {
                if required {
                    errs.add(&self.name(key), "is required");
                }
                None
            }
        }
    }

    pub fn string_list(&self, key: &str, errs: &mut FieldErrors) -> Vec<String> {
        match self.get(key) {
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for v in items {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        _ => errs.add(&self.name(key), "must be a list of strings"),
                    }
                }
                out
            }
            Some(_) => {
                errs.add(&self.name(key), "must be a list of strings");
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// A string parsed by `parse`, whose error message becomes the field's.
    pub fn parsed<T>(
        &self,
        key: &str,
        required: bool,
        errs: &mut FieldErrors,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = self.string(key, required, errs)?;
        match parse(&s) {
            Ok(v) => Some(v),
            Err(m) => {
                errs.add(&self.name(key), m);
                None
            }
        }
    }

    /// One of a closed vocabulary.
    pub fn vocab<T>(
        &self,
        key: &str,
        required: bool,
        errs: &mut FieldErrors,
        parse: fn(&str) -> Option<T>,
        allowed: String,
    ) -> Option<T> {
        self.parsed(key, required, errs, |s| parse(s).ok_or_else(|| format!("`{s}` is not one of: {allowed}")))
    }
}
