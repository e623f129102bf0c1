//! Sign-in: argon2 password hashes, bearer tokens (only their SHA-256 is stored), and the
//! extractor that turns a request into an [`Actor`].

use crate::error::ApiError;
use crate::state::AppState;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lianxin_domain::Actor;
use lianxin_store::UserRecord;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a session lasts.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;

/// Hashes a password with argon2id. Slow on purpose: call it off the async runtime.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A fresh random session token.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub actor: Actor,
    pub display_name: String,
}

impl From<UserRecord> for CurrentUser {
    fn from(u: UserRecord) -> Self {
        CurrentUser {
            actor: Actor { username: u.username, roles: u.roles, unit: u.unit },
            display_name: u.display_name,
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let user = state.session_user(&token_hash(token)).await?.ok_or_else(|| {
            let mut e = ApiError::unauthorized();
            e.message = "the token is unknown or expired; sign in again".into();
            e
        })?;
        Ok(user.into())
    }
}

/// A hash to verify against when the user does not exist, so that timing does not reveal
/// which usernames exist.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Checks a username and password (argon2, off the async runtime) and opens a session.
/// `Ok(None)` for wrong credentials or an inactive account; the API and the console both
/// sign in through here.
pub async fn sign_in(
    state: &crate::state::AppState,
    username: &str,
    password: String,
) -> Result<Option<(String, UserRecord)>, lianxin_store::StoreError> {
    let user = state.store().user(username.trim()).await?;
    let hash = user.as_ref().filter(|u| u.active && !u.password_hash.is_empty()).map(|u| u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || {
        let dummy = || DUMMY_HASH.get_or_init(|| hash_password("no such user").unwrap_or_default()).as_str();
        let h = hash.as_deref().unwrap_or_else(dummy);
        verify_password(&password, h) && hash.is_some()
    })
    .await
    .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else { return Ok(None) };
    let token = new_token();
    let now = state.now();
    state.store().create_session(&token_hash(&token), &user.username, now, now + SESSION_MS).await?;
    tracing::info!(user = %user.username, "signed in");
    Ok(Some((token, user)))
}

impl CurrentUser {
    /// 403 `forbidden_role` with `rule` unless the user has one of `roles`.
    pub fn require(&self, roles: &[lianxin_domain::Role], rule: &str) -> Result<(), crate::error::ApiError> {
        if self.actor.has_any(roles) {
            Ok(())
        } else {
            Err(crate::error::ApiError::new(axum::http::StatusCode::FORBIDDEN, "forbidden_role", rule))
        }
    }
}
