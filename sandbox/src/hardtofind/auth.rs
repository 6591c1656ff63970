//! `POST /authenticate` trades the store owner's login for a short-lived JWT, sent back
//! on every other call as `X-Auth-Token` (the [`Session`] extractor checks it);
//! `GET /info` describes the token in use.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{parse_body, ApiError};
use super::{now, wire_time};
use crate::App;

/// The header every call but `/authenticate` carries its token in.
pub(super) const TOKEN_HEADER: &str = "x-auth-token";

/// The only role a seller's login has.
const ROLE: &str = "seller";

/// The store owner's password. `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Who a token was issued to, as `/authenticate` and `/info` describe them.
pub(super) struct Account {
    pub(super) username: String,
    pub(super) password: Password,
    pub(super) person_id: u64,
    pub(super) seller_account_id: u64,
}

/// When a token was issued and when it stops working.
#[derive(Debug, Clone, Copy)]
pub(super) struct Issued {
    created: DateTime<Utc>,
    expires: DateTime<Utc>,
}

/// The one seller login the fixture knows, and every token issued to it (kept after
/// they expire, so an expired token is told apart from one never issued).
pub(super) struct Tokens {
    account: Account,
    ttl_seconds: u64,
    issued: HashMap<String, Issued>,
}

impl Tokens {
    pub(super) fn new(account: Account, ttl_seconds: u64) -> Self {
        Self {
            account,
            ttl_seconds,
            issued: HashMap::new(),
        }
    }

    fn accepts(&self, username: &str, password: &str) -> bool {
        username == self.account.username && password == self.account.password.0
    }

    /// A fresh token, unique among those issued, living `ttl_seconds` from `now`.
    fn issue(&mut self, now: DateTime<Utc>) -> String {
        let expires = i64::try_from(self.ttl_seconds)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let issued = Issued {
            created: now,
            expires,
        };
        loop {
            let token = jwt(self.account.person_id, issued);
            if !self.issued.contains_key(&token) {
                self.issued.insert(token.clone(), issued);
                return token;
            }
        }
    }

    fn check(&self, token: &str, now: DateTime<Utc>) -> Result<Issued, ApiError> {
        match self.issued.get(token) {
            None => Err(ApiError::unauthorized("invalid token")),
            Some(issued) if now >= issued.expires => Err(ApiError::unauthorized("token expired")),
            Some(issued) => Ok(*issued),
        }
    }

    /// Every token issued so far stops working (a client must authenticate again).
    pub(super) fn expire_all(&mut self, now: DateTime<Utc>) {
        for issued in self.issued.values_mut() {
            issued.expires = issued.expires.min(now);
        }
    }

    pub(super) fn issued_count(&self) -> usize {
        self.issued.len()
    }
}

/// Looks like the real thing (`header.payload.signature`, base64url, a payload with
/// `sub` and `exp`), but is signed with random bytes: the sandbox recognises tokens by
/// keeping them, not by verifying them, and clients must treat them as opaque anyway.
fn jwt(person_id: u64, issued: Issued) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let jti: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(16)
        .collect();
    let payload = json!({
        "sub": person_id.to_string(),
        "role": ROLE,
        "iat": issued.created.timestamp(),
        "exp": issued.expires.timestamp(),
        "jti": jti,
    });
    let signature: Vec<u8> = std::iter::repeat_with(|| fastrand::u8(..))
        .take(32)
        .collect();
    format!(
        "{}.{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(payload.to_string().as_bytes()),
        base64url(&signature)
    )
}

/// Unpadded base64url (RFC 4648 §5), as JWTs use.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

/// Proof that the request carried a live `X-Auth-Token`; take it first in a handler's
/// arguments so a bad token is refused before anything else is looked at.
pub(super) struct Session(Issued);

impl FromRequestParts<Arc<App>> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(TOKEN_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ApiError::unauthorized("missing X-Auth-Token"))?;
        let issued = app.hardtofind.lock().unwrap().auth.check(token, now())?;
        Ok(Session(issued))
    }
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/hardtofind/authenticate", post(authenticate))
        .route("/hardtofind/info", get(info))
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn authenticate(State(app): State<Arc<App>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let login: Login = parse_body(&body)?;
    let mut state = app.hardtofind.lock().unwrap();
    let auth = &mut state.auth;
    if !auth.accepts(&login.username, &login.password) {
        return Err(ApiError::unauthorized("invalid username or password"));
    }
    let token = auth.issue(now());
    Ok(Json(json!({
        "person": {"id": auth.account.person_id, "role": ROLE},
        "token": token,
    })))
}

async fn info(Session(issued): Session, State(app): State<Arc<App>>) -> Json<Value> {
    let state = app.hardtofind.lock().unwrap();
    let account = &state.auth.account;
    Json(json!({
        "user_id": account.person_id,
        "seller_account_id": account.seller_account_id,
        "created": wire_time(issued.created),
        "expires": wire_time(issued.expires),
        "roles": [ROLE],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ttl: u64) -> Tokens {
        let account = Account {
            username: "u".into(),
            password: Password::new("p"),
            person_id: 7,
            seller_account_id: 8,
        };
        Tokens::new(account, ttl)
    }

    #[test]
    fn tokens_expire_after_their_ttl_and_on_demand() {
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut tokens = tokens(60);
        assert!(tokens.accepts("u", "p"));
        assert!(!tokens.accepts("u", "P"));
        let a = tokens.issue(t0);
        assert!(tokens.check(&a, t0 + TimeDelta::seconds(59)).is_ok());
        let late = tokens.check(&a, t0 + TimeDelta::seconds(60)).unwrap_err();
        assert_eq!(late.message, "token expired");
        let b = tokens.issue(t0);
        assert_ne!(a, b);
        tokens.expire_all(t0);
        assert_eq!(tokens.check(&b, t0).unwrap_err().message, "token expired");
        let never = tokens.check("never-issued", t0).unwrap_err();
        assert_eq!(never.message, "invalid token");
        assert_eq!(tokens.issued_count(), 2);
    }

    #[test]
    fn tokens_look_like_jwts_with_sub_and_exp() {
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let token = tokens(900).issue(t0);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        let decode = |part: &str| {
            assert!(!part.contains(['=', '+', '/']), "{part}");
            let standard = part.replace('-', "+").replace('_', "/");
            crate::base64::decode(&standard).unwrap()
        };
        let header: Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        assert_eq!(header["typ"], "JWT");
        let payload: Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(payload["sub"], "7");
        assert_eq!(payload["exp"], t0.timestamp() + 900);
        assert_eq!(decode(parts[2]).len(), 32);
    }

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64url(plain.as_bytes()), encoded);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn password_debug_is_redacted() {
        assert_eq!(format!("{:?}", Password::new("secret")), "[redacted]");
    }
}
