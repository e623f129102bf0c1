//! The HTTP error type: every non-2xx answer is `{"error":{"code","message"}}` (422 adds
//! `fields`). Domain and store errors are translated here and nowhere else.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lianxin_domain::DomainError;
use lianxin_store::StoreError;
use serde_json::json;
use std::collections::BTreeMap;

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Option<BTreeMap<String, String>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), fields: None }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in first: send `Authorization: Bearer <token>`")
    }

    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", message)
    }

    /// 404 for something absent or outside the caller's scope (never says which).
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn invalid(fields: BTreeMap<String, String>) -> ApiError {
        let message = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, code: "invalid_values", message, fields: Some(fields) }
    }

    pub fn stale(current: i64, given: i64) -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "stale_version",
            format!(
                "the order has changed: you sent version {given}, it is now at version {current}; reload and retry"
            ),
        )
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Forbidden { .. } => ApiError::new(StatusCode::FORBIDDEN, "forbidden_role", e.to_string()),
            DomainError::Invalid { fields } => ApiError::invalid(fields),
            DomainError::IllegalTransition { .. } => {
                ApiError::new(StatusCode::CONFLICT, "illegal_transition", e.to_string())
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable; try again shortly",
                )
            }
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m.clone()),
            _ => {
                tracing::error!(error = %e, "store error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an internal error occurred")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut err = json!({ "code": self.code, "message": self.message });
        if let Some(fields) = self.fields {
            err["fields"] = json!(fields);
        }
        (self.status, Json(json!({ "error": err }))).into_response()
    }
}

/// Gives error answers that axum or tower produced themselves (unknown route, wrong
/// method, body too large, timeout) the same JSON shape as ours.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    // The console's own HTML error pages (text/html) are answers of ours too.
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        s if s.is_client_error() => "bad_request",
        _ => "internal_error",
    };
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    let mut out = ApiError::new(status, code, message).into_response();
    for (k, v) in resp.headers() {
        if k == axum::http::header::ALLOW {
            out.headers_mut().insert(k, v.clone());
        }
    }
    out
}
