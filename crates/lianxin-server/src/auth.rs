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

fn dummy_hash() -> &'static str {
    DUMMY_HASH.get_or_init(|| hash_password("no such user").unwrap_or_default()).as_str()
}

/// Computes the dummy hash ahead of the first sign-in of an unknown user (which would
/// otherwise pay for hashing it on top of verifying).
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(|| dummy_hash().len()).await;
}

/// How a sign-in ended.
#[derive(Debug)]
pub enum SignIn {
    /// The session token and the account.
    Done(String, UserRecord),
    /// Wrong username or password, or an account that may not sign in.
    Refused,
    /// Too many recent failures for this account or from this address: try again after
    /// this many seconds. Nothing was checked or recorded.
    Throttled(u64),
}

/// The longest username the login log keeps of an attempt.
const LOGGED_NAME_CHARS: usize = 64;

/// Checks a username and password and opens a session; the API and the console both
/// sign in through here. First the login log is asked whether this account or `address`
/// must wait ([`lianxin_domain::login::LoginPolicy`]); then the password is verified with
/// argon2 off the async runtime — against a dummy hash for an unknown, inactive or
/// password-less account, so every refusal costs the same; then the attempt (never the
/// password) is recorded, a success together with its session in one transaction.
pub async fn sign_in(
    state: &crate::state::AppState,
    username: &str,
    password: String,
    address: &str,
    via: &str,
) -> Result<SignIn, lianxin_store::StoreError> {
    let username: String = username.trim().chars().take(LOGGED_NAME_CHARS).collect();
    let policy = state.settings().login;
    let now = state.now();
    let (account, from) = state.store().login_failures(&username, address, now - policy.window_ms).await?;
    if let Some(at) = policy.retry_at(account, from, now) {
        let secs = lianxin_domain::login::retry_after_seconds(at, now);
        tracing::warn!(user = %username, address, retry_after = secs, "sign-in throttled");
        return Ok(SignIn::Throttled(secs));
    }
    let user = state.store().user(&username).await?;
    let hash = user.as_ref().filter(|u| u.active && !u.password_hash.is_empty()).map(|u| u.password_hash.clone());
    state.count_password_check();
    let ok = tokio::task::spawn_blocking(move || {
        let h = match hash.as_deref() {
            Some(h) => h,
            None => dummy_hash(),
        };
        verify_password(&password, h) && hash.is_some()
    })
    .await
    .unwrap_or(false);
    let mut attempt = lianxin_store::LoginAttempt {
        at: now,
        username: username.clone(),
        address: address.to_owned(),
        outcome: lianxin_store::LoginOutcome::Failure,
        via: via.to_owned(),
    };
    let Some(user) = user.filter(|_| ok) else {
        state.store().record_login(&attempt, None).await?;
        tracing::info!(user = %username, address, "sign-in refused");
        return Ok(SignIn::Refused);
    };
    let token = new_token();
    attempt.outcome = lianxin_store::LoginOutcome::Success;
    let session = lianxin_store::NewSession { token_hash: &token_hash(&token), expires_at: now + SESSION_MS };
    state.store().record_login(&attempt, Some(session)).await?;
    tracing::info!(user = %user.username, address, "signed in");
    Ok(SignIn::Done(token, user))
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
