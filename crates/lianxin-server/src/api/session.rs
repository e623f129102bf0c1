//! Sign-in and sign-out with bearer tokens.

use crate::auth::{CurrentUser, SignIn, token_hash};
use crate::body::{Fields, JsonObject};
use crate::error::ApiError;
use crate::net::ClientAddr;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lianxin_domain::error::FieldErrors;
use serde::Serialize;
use utoipa::ToSchema;

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    /// Unit code, or null for hotline-wide accounts.
    pub unit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginOut {
    /// Send as `Authorization: Bearer <token>`; valid for 12 hours.
    pub token: String,
    pub user: UserOut,
}

fn user_out(u: &CurrentUser) -> UserOut {
    UserOut {
        username: u.actor.username.clone(),
        display_name: u.display_name.clone(),
        roles: u.actor.roles.iter().map(|r| r.to_string()).collect(),
        unit: u.actor.unit.as_ref().map(|c| c.to_string()),
    }
}

/// Sign in with username and password. After repeated failures for the account or from
/// the address, further attempts are refused with 429 and `Retry-After` (seconds) for a
/// delay that doubles with each further failure; every checked attempt is recorded in the
/// login log (never the password).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = crate::openapi::LoginIn,
    responses((status = 200, description = "Signed in", body = LoginOut),
              (status = 401, description = "Wrong username or password (`bad_credentials`)"),
              (status = 422, description = "`username` or `password` missing"),
              (status = 429, description = "Too many failed sign-ins; retry after the `Retry-After` seconds",
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn login(
    State(state): State<AppState>,
    from: ClientAddr,
    JsonObject(obj): JsonObject,
) -> Result<Json<LoginOut>, Response> {
    let mut errs = FieldErrors::new();
    let f = Fields::new(&obj);
    let username = f.string("username", true, &mut errs);
    let password = f.string("password", true, &mut errs);
    errs.finish().map_err(|e| ApiError::from(e).into_response())?;
    let (username, password) = (username.unwrap_or_default(), password.unwrap_or_default());
    match crate::auth::sign_in(&state, &username, password, &from.0, "api").await {
        Ok(SignIn::Done(token, user)) => {
            let current = CurrentUser::from(user);
            Ok(Json(LoginOut { token, user: user_out(&current) }))
        }
        Ok(SignIn::Refused) => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "wrong username or password")
                .into_response())
        }
        Ok(SignIn::Throttled(secs)) => Err(throttled(secs)),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// The 429 of a throttled sign-in.
fn throttled(secs: u64) -> Response {
    let mut r = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many failed sign-ins for this account or from this address; try again in {secs} s"),
    )
    .into_response();
    r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
    r
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", operation_id = "logout",
    responses((status = 204, description = "Signed out: the token no longer works")), security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    _user: CurrentUser,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
    {
        state.forget_session(&token_hash(token.trim()));
        state.store().delete_session(&token_hash(token.trim())).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", operation_id = "me",
    responses((status = 200, description = "The signed-in user", body = UserOut)), security(("bearer" = [])))]
pub async fn me(user: CurrentUser) -> Json<UserOut> {
    Json(user_out(&user))
}
