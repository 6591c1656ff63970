//! OAuth2 client credentials: `POST /oauth/client-credentials` mints Bearer tokens, and
//! the [`Bearer`] extractor guards every `/v2` route.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::json;

use super::problem::Problem;
use crate::{base64, App};

/// The fixture's client secret. `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The one API client the fixture knows, and the tokens issued to it.
pub(super) struct Tokens {
    client_id: String,
    client_secret: ClientSecret,
    ttl_seconds: u64,
    /// Token -> when it stops working.
    issued: HashMap<String, DateTime<Utc>>,
}

impl Tokens {
    pub(super) fn new(client_id: String, client_secret: ClientSecret, ttl_seconds: u64) -> Self {
        Self {
            client_id,
            client_secret,
            ttl_seconds,
            issued: HashMap::new(),
        }
    }

    fn accepts(&self, client_id: &str, client_secret: &str) -> bool {
        client_id == self.client_id && client_secret == self.client_secret.0
    }

    /// A fresh random token and its lifetime in seconds.
    fn issue(&mut self, now: DateTime<Utc>) -> (String, u64) {
        let token: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(40)
            .collect();
        let expires = i64::try_from(self.ttl_seconds)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.issued.insert(token.clone(), expires);
        (token, self.ttl_seconds)
    }

    fn check(&self, token: &str, now: DateTime<Utc>) -> Result<(), Problem> {
        match self.issued.get(token) {
            None => Err(Problem::unauthorized("the access token is not valid")),
            Some(expires) if now >= *expires => {
                Err(Problem::unauthorized("the access token has expired"))
            }
            Some(_) => Ok(()),
        }
    }

    /// Every token issued so far stops working (a client must fetch a new one).
    pub(super) fn expire_all(&mut self, now: DateTime<Utc>) {
        for expires in self.issued.values_mut() {
            *expires = (*expires).min(now);
        }
    }
}

/// Proof that the request carried a live Bearer token; take it first in a handler's
/// arguments so a bad token is refused before anything else is looked at.
pub(super) struct Bearer;

impl FromRequestParts<Arc<App>> for Bearer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Problem> {
        let token = credentials(&parts.headers, "Bearer").ok_or_else(|| {
            Problem::unauthorized("an `Authorization: Bearer <token>` header is required")
        })?;
        app.iconic.lock().unwrap().auth.check(token, Utc::now())?;
        Ok(Bearer)
    }
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new().route("/oauth/client-credentials", post(issue_token))
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
}

/// Answers in the OAuth2 token endpoint's own shapes (RFC 6749 §5), not RFC 7807.
async fn issue_token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let mut state = app.iconic.lock().unwrap();
    let known_client =
        basic_credentials(&headers).is_some_and(|(id, secret)| state.auth.accepts(&id, &secret));
    if !known_client {
        let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        return response;
    }
    match form {
        Err(_) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request"),
        Ok(Form(request)) if request.grant_type != "client_credentials" => {
            oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type")
        }
        Ok(_) => {
            let (token, expires_in) = state.auth.issue(Utc::now());
            Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": expires_in}))
                .into_response()
        }
    }
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

/// The credentials after `scheme ` in the Authorization header (scheme case-insensitive).
fn credentials<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let (given, rest) = headers.get(AUTHORIZATION)?.to_str().ok()?.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| rest.trim())
        .filter(|rest| !rest.is_empty())
}

/// `Authorization: Basic base64(client_id:client_secret)` as (id, secret).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let decoded = String::from_utf8(base64::decode(credentials(headers, "Basic")?)?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_after_their_ttl_and_on_demand() {
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut tokens = Tokens::new("id".into(), ClientSecret::new("secret"), 60);
        assert!(tokens.accepts("id", "secret"));
        assert!(!tokens.accepts("id", "Secret"));
        let (a, ttl) = tokens.issue(t0);
        assert_eq!(ttl, 60);
        assert!(tokens.check(&a, t0 + TimeDelta::seconds(59)).is_ok());
        assert!(tokens.check(&a, t0 + TimeDelta::seconds(60)).is_err());
        let (b, _) = tokens.issue(t0);
        assert_ne!(a, b);
        tokens.expire_all(t0);
        assert!(tokens.check(&b, t0).is_err());
        assert!(tokens.check("never-issued", t0).is_err());
    }

    #[test]
    fn client_secret_debug_is_redacted() {
        let secret = ClientSecret::new("iconic-demo-secret");
        assert_eq!(format!("{secret:?}"), "[redacted]");
    }
}
