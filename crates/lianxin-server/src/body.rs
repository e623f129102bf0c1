//! Reading requests at the edge: JSON bodies field by field (a malformed body is a 400,
//! a body that is not `application/json` a 415, missing or invalid values one 422 naming
//! every field) and query parameters (a bad value is a 422 naming the parameter).

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use lianxin_domain::error::FieldErrors;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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

/// The media type of a request (`application/json` of `application/json; charset=utf-8`),
/// lowercased; `None` without a `Content-Type`.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?;
    let s = String::from_utf8_lossy(v.as_bytes());
    Some(s.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// 415 naming what was sent and what is taken.
pub fn unsupported_media_type(sent: Option<&str>, expected: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        match sent {
            Some(t) => format!("the body was sent as `{t}`; send it as {expected}"),
            None => format!("the body has no Content-Type; send it as {expected}"),
        },
    )
}

/// Reads the whole body within the route's limit (413 beyond it).
pub async fn read_body(req: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, &()).await.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "payload_too_large", "the body is larger than this endpoint takes")
        } else if status.is_client_error() {
            ApiError::malformed(e.body_text())
        } else {
            ApiError::new(status, "internal_error", e.body_text())
        }
    })
}

/// A JSON object body. Extract it after [`crate::auth::CurrentUser`] so that 401 comes
/// before 415/400. A non-empty body must be `application/json`; an empty one is `{}`
/// whatever its type (actions such as `submit` carry no fields).
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let media = media_type(req.headers());
        let bytes = read_body(req).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonObject(Map::new()));
        }
        if media.as_deref() != Some("application/json") {
            return Err(unsupported_media_type(media.as_deref(), "`application/json`"));
        }
        parse_object(&bytes).map(JsonObject)
    }
}

/// The query parameters of a request, in order, percent-decoded. Every handler reads its
/// parameters through this, so that a bad value is the same 422 everywhere (a control
/// character in any value is refused here); an empty value counts as absent, unknown
/// parameters are ignored.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        // A list of pairs takes any query string (bad percent-escapes decode lossily).
        let q = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::malformed(format!("the query string is malformed: {}", e.body_text())))?;
        let mut errs = FieldErrors::new();
        for (k, v) in &q.0 {
            if let Err(m) = lianxin_domain::text::check(v) {
                errs.add(k, m);
            }
        }
        if !errs.is_empty() {
            return Err(ApiError::invalid(errs.into_map()));
        }
        Ok(Params(q.0))
    }
}

impl Params {
    /// Every non-empty value of `key`, trimmed.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The last non-empty value of `key`.
    pub fn get<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        self.all(key).last()
    }

    /// A value parsed by `parse`, whose error message becomes the parameter's.
    pub fn parsed<T>(&self, key: &str, errs: &mut FieldErrors, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let mut out = None;
        for v in self.all(key) {
            match parse(v) {
                Ok(x) => out = Some(x),
                Err(m) => errs.add(key, m),
            }
        }
        out
    }

    /// A whole number within `min..=max` (a larger one is clamped to `max`, as the
    /// contract's `limit` is).
    pub fn limit(&self, key: &str, errs: &mut FieldErrors, min: i64, max: i64) -> Option<i64> {
        self.parsed(key, errs, |v| match v.parse::<i64>() {
            Ok(n) if n >= min => Ok(n.min(max)),
            _ if max == i64::MAX => Err(format!("must be a whole number, at least {min}")),
            _ => Err(format!("must be a whole number from {min} (larger than {max} counts as {max})")),
        })
    }

    /// `true`/`1` or `false`/`0`.
    pub fn boolean(&self, key: &str, errs: &mut FieldErrors) -> Option<bool> {
        self.parsed(key, errs, |v| match v {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(format!("`{other}` is not true or false")),
        })
    }

    /// One of `allowed`.
    pub fn one_of<'a>(&self, key: &str, errs: &mut FieldErrors, allowed: &[&'a str]) -> Option<&'a str> {
        self.parsed(key, errs, |v| {
            allowed
                .iter()
                .find(|a| **a == v)
                .copied()
                .ok_or_else(|| format!("`{v}` is not one of: {}", allowed.join(", ")))
        })
    }
}

/// One 422 for a single bad parameter or field.
pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(BTreeMap::from([(field.to_owned(), message.into())]))
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
            Some(Value::String(s)) => match lianxin_domain::text::check(s) {
                Ok(()) => Some(s.clone()),
                Err(m) => {
                    errs.add(&self.name(key), m);
                    None
                }
            },
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

    /// A list of objects (`parts`), each read with errors named `parts[0].task`; missing →
    /// empty.
    pub fn objects(&self, key: &str, errs: &mut FieldErrors) -> Vec<Fields<'a>> {
        match self.get(key) {
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    match v {
                        Value::Object(m) => out.push(Fields { obj: m, prefix: format!("{}[{i}].", self.name(key)) }),
                        _ => errs.add(&format!("{}[{i}]", self.name(key)), "must be an object"),
                    }
                }
                out
            }
            Some(_) => {
                errs.add(&self.name(key), "must be a list of objects");
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    pub fn string_list(&self, key: &str, errs: &mut FieldErrors) -> Vec<String> {
        match self.get(key) {
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for v in items {
                    match v {
                        Value::String(s) => match lianxin_domain::text::check(s) {
                            Ok(()) => out.push(s.clone()),
                            Err(m) => errs.add(&self.name(key), m),
                        },
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
