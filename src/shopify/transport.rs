//! One GraphQL operation end to end: access token (minted lazily, re-minted once on a
//! 401), pacing against the cost bucket, retries, and the reply decoded.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::debug;

use super::queries::Operation;
use super::throttle::{throttled_wait, Bucket, Cost};
use super::{ShopifyAuth, ShopifyError, ShopifySettings};
use crate::http::{
    self, server_date, snippet, Backoff, Minted, RequestCounts, Resend, Stop, TokenCache,
};
use crate::secret::Secret;

const TOKEN_HEADER: &str = "X-Shopify-Access-Token";
const MINT: &str = "POST /admin/oauth/access_token";

/// Why one attempt did not produce a value: the same error type either way.
pub(super) type Failure = http::Failure<ShopifyError, ShopifyError>;

/// A decoded reply and the server's clock when it was sent.
#[derive(Debug)]
pub(super) struct Reply<T> {
    pub data: T,
    pub date: Option<DateTime<Utc>>,
}

enum Auth {
    Static(Secret),
    Minted {
        client_id: String,
        client_secret: Secret,
        cache: TokenCache,
    },
}

/// `{access_token, expires_in}`. No `Debug`: it holds the token.
#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    expires_in: Option<u64>,
}

pub(super) struct Transport {
    http: reqwest::Client,
    graphql_url: String,
    token_url: String,
    auth: Auth,
    bucket: Mutex<Bucket>,
    backoff: Backoff,
    counts: RequestCounts,
}

impl Transport {
    pub fn new(settings: ShopifySettings, http: reqwest::Client) -> Self {
        let base = settings.endpoint.trim_end_matches('/');
        let auth = match settings.auth {
            ShopifyAuth::Token(token) => Auth::Static(token),
            ShopifyAuth::ClientCredentials {
                client_id,
                client_secret,
            } => Auth::Minted {
                client_id,
                client_secret,
                cache: TokenCache::default(),
            },
        };
        Self {
            http,
            graphql_url: format!("{base}/admin/api/{}/graphql.json", settings.api_version),
            token_url: format!("{base}/admin/oauth/access_token"),
            auth,
            bucket: Mutex::default(),
            backoff: Backoff::default(),
            counts: RequestCounts::default(),
        }
    }

    #[cfg(test)]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn requests(&self) -> std::collections::BTreeMap<String, u64> {
        self.counts.snapshot()
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn count(&self, label: &str) {
        self.counts.add(label);
    }

    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// Runs `op` and decodes its `data` as `T`. Reads are retried; a mutation is not
    /// re-sent once the server may have executed it (the caller decides). A minted
    /// token refused with a 401 is minted again, once.
    pub async fn run<T: DeserializeOwned>(
        &self,
        op: &Operation,
        variables: &Value,
    ) -> Result<Reply<T>, ShopifyError> {
        let body = json!({
            "query": op.document,
            "variables": variables,
            "operationName": op.name,
        });
        let body = &body;
        match &self.auth {
            Auth::Static(token) => self.graphql(op, body, token).await,
            Auth::Minted {
                client_id,
                client_secret,
                cache,
            } => {
                cache
                    .call(
                        || self.mint(client_id, client_secret),
                        |e| matches!(e, ShopifyError::Unauthorized { status: 401, .. }),
                        |token, _| async move { self.graphql(op, body, &token).await },
                    )
                    .await
            }
        }
    }

    async fn graphql<T: DeserializeOwned>(
        &self,
        op: &Operation,
        body: &Value,
        token: &Secret,
    ) -> Result<Reply<T>, ShopifyError> {
        let header = token_header(token, op.label)?;
        self.retry(op.label, !op.mutation, |attempt| {
            self.graphql_once(op, body, &header, attempt)
        })
        .await
    }

    /// Calls `once(attempt)` through the shared retry loop (`repeatable`: a read, or a
    /// write that is harmless to repeat).
    pub async fn retry<T, Fut>(
        &self,
        op: &'static str,
        repeatable: bool,
        once: impl FnMut(u32) -> Fut,
    ) -> Result<T, ShopifyError>
    where
        Fut: Future<Output = Result<T, Failure>>,
    {
        let resend = if repeatable {
            Resend::Always
        } else {
            Resend::IfNotApplied
        };
        self.backoff
            .run(op, resend, once)
            .await
            .map_err(|stop| match stop {
                Stop::Fatal(error) | Stop::GaveUp { reason: error, .. } => error,
                Stop::Unauthorized => ShopifyError::Unauthorized { op, status: 401 },
                Stop::Throttled { .. } => ShopifyError::GraphQl {
                    op,
                    messages: vec![format!(
                        "still throttled after {} waits",
                        http::MAX_THROTTLED_WAITS
                    )],
                },
            })
    }

    async fn graphql_once<T: DeserializeOwned>(
        &self,
        op: &Operation,
        body: &Value,
        token: &HeaderValue,
        attempt: u32,
    ) -> Result<Reply<T>, Failure> {
        self.pace(op).await;
        self.counts.add(op.label);
        let response = self
            .http
            .post(&self.graphql_url)
            .header(TOKEN_HEADER, token.clone())
            .header(ACCEPT, "application/json")
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport_failure(op.label, e, attempt))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|e| self.transport_failure(op.label, e, attempt))?;
        if !status.is_success() {
            let backoff = &self.backoff;
            return Err(status_failure(
                op.label, status, &headers, &text, true, backoff, attempt,
            ));
        }
        let envelope = read_envelope(op.label, &text, &self.backoff, attempt)?;
        let cost = envelope.extensions.cost.unwrap_or_default();
        let expected = {
            let mut bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
            bucket.record(op.label, &cost, Instant::now());
            bucket.expected(op.label, op.estimated_cost)
        };
        debug!(
            op = op.label,
            attempt,
            requested = ?cost.requested_query_cost,
            actual = ?cost.actual_query_cost,
            available = ?cost.throttle_status.map(|s| s.currently_available),
            "Shopify GraphQL reply"
        );
        let data = graphql_data(op.label, envelope, expected, self.backoff.delay(attempt))?;
        let data = serde_path_to_error::deserialize(data).map_err(|e| {
            Failure::Fatal(ShopifyError::Decode {
                op: op.label,
                message: e.to_string(),
            })
        })?;
        Ok(Reply {
            data,
            date: server_date(&headers),
        })
    }

    /// Sleeps first when the bucket, as last reported and refilled since, cannot hold
    /// what `op` is expected to cost.
    async fn pace(&self, op: &Operation) {
        let wait = {
            let bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
            bucket.wait_before(bucket.expected(op.label, op.estimated_cost), Instant::now())
        };
        if !wait.is_zero() {
            debug!(op = op.label, ?wait, "pacing to Shopify's cost bucket");
            tokio::time::sleep(wait).await;
        }
    }

    pub fn transport_failure(
        &self,
        op: &'static str,
        error: reqwest::Error,
        attempt: u32,
    ) -> Failure {
        let error_of = |message| ShopifyError::Transport { op, message };
        http::send_failure(&error, &self.backoff, attempt, error_of, error_of)
    }

    async fn mint(&self, client_id: &str, client_secret: &Secret) -> Result<Minted, ShopifyError> {
        self.retry(MINT, true, |attempt| {
            self.mint_once(client_id, client_secret, attempt)
        })
        .await
    }

    async fn mint_once(
        &self,
        client_id: &str,
        client_secret: &Secret,
        attempt: u32,
    ) -> Result<Minted, Failure> {
        self.counts.add(MINT);
        debug!(op = MINT, attempt, "minting a Shopify access token");
        let response = self
            .http
            .post(&self.token_url)
            .header(ACCEPT, "application/json")
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret.expose()),
            ])
            .send()
            .await
            .map_err(|e| self.transport_failure(MINT, e, attempt))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|e| self.transport_failure(MINT, e, attempt))?;
        // The body only reaches an error message; keep the secret out even if echoed.
        let shown = redact(&text, client_secret);
        if !status.is_success() {
            let backoff = &self.backoff;
            return Err(status_failure(
                MINT, status, &headers, &shown, true, backoff, attempt,
            ));
        }
        // serde's message could quote the token, so it is not passed on.
        let reply: TokenReply = serde_json::from_str(&text).map_err(|_| {
            let message = if shown.contains("access_token") {
                "token reply with an unusable access_token or expires_in".to_string()
            } else {
                format!(
                    "expected {{access_token, expires_in}}, got: {}",
                    snippet(&shown)
                )
            };
            Failure::Fatal(ShopifyError::Decode { op: MINT, message })
        })?;
        Ok(Minted {
            token: Secret::new(reply.access_token),
            lifetime: reply.expires_in.map(Duration::from_secs),
        })
    }
}

fn token_header(token: &Secret, op: &'static str) -> Result<HeaderValue, ShopifyError> {
    let mut value = HeaderValue::from_str(token.expose()).map_err(|_| ShopifyError::Decode {
        op,
        message: "the access token holds characters an HTTP header cannot carry".into(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn redact(text: &str, secret: &Secret) -> String {
    if secret.expose().is_empty() {
        text.to_string()
    } else {
        text.replace(secret.expose(), "[redacted]")
    }
}

/// Sorts a non-2xx reply: 401/403 (`authenticated` requests only) refuse the
/// credentials, 429 waits, 5xx retries, any other status is final.
pub(super) fn status_failure(
    op: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    authenticated: bool,
    backoff: &Backoff,
    attempt: u32,
) -> Failure {
    let code = status.as_u16();
    let error = ShopifyError::Http {
        status: code,
        op,
        snippet: snippet(body),
    };
    match code {
        401 | 403 if authenticated => {
            Failure::Fatal(ShopifyError::Unauthorized { op, status: code })
        }
        429 => Failure::Throttled {
            reason: error,
            wait: backoff.server_delay(headers, attempt),
        },
        // Any 5xx may come after the request ran.
        500..=599 => Failure::Retry {
            reason: error,
            wait: backoff.server_delay(headers, attempt),
            maybe_applied: true,
        },
        _ => Failure::Fatal(error),
    }
}

#[derive(Deserialize)]
struct Envelope {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphQlError>,
    #[serde(default)]
    extensions: Extensions,
}

#[derive(Default, Deserialize)]
struct Extensions {
    cost: Option<Cost>,
}

#[derive(Deserialize)]
struct GraphQlError {
    message: String,
    extensions: Option<ErrorExtensions>,
}

#[derive(Deserialize)]
struct ErrorExtensions {
    code: Option<String>,
}

/// Parses a 2xx body. Text that is not JSON at all, or cut off (an HTML page from a
/// proxy, a dropped connection), is worth another attempt; JSON of the wrong shape
/// is not.
fn read_envelope(
    op: &'static str,
    text: &str,
    backoff: &Backoff,
    attempt: u32,
) -> Result<Envelope, Failure> {
    serde_json::from_str(text).map_err(|e| {
        let error_of = |message| ShopifyError::Decode { op, message };
        http::body_failure(&e, text, backoff, attempt, error_of, error_of)
    })
}

/// The `data` of a reply, or why there is none. On THROTTLED, `expected` stands in
/// for an unreported requested cost and `fallback` for an unreported bucket.
fn graphql_data(
    op: &'static str,
    envelope: Envelope,
    expected: f64,
    fallback: Duration,
) -> Result<Value, Failure> {
    let cost = envelope.extensions.cost.unwrap_or_default();
    let throttled = envelope.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.code.as_deref())
            .is_some_and(|code| code == "THROTTLED")
    });
    if throttled {
        let requested = cost.requested_query_cost.unwrap_or(expected);
        let wait = cost
            .throttle_status
            .and_then(|status| throttled_wait(requested, &status))
            .unwrap_or(fallback);
        let reason = ShopifyError::GraphQl {
            op,
            messages: vec!["THROTTLED".into()],
        };
        return Err(Failure::Throttled { reason, wait });
    }
    if !envelope.errors.is_empty() {
        return Err(Failure::Fatal(ShopifyError::GraphQl {
            op,
            messages: envelope.errors.into_iter().map(|e| e.message).collect(),
        }));
    }
    match envelope.data {
        Some(data) if !data.is_null() => Ok(data),
        _ => Err(Failure::Fatal(ShopifyError::Decode {
            op,
            message: "reply without data or errors".into(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OP: &str = "graphql Shop";
    const NO_WAIT: Backoff = Backoff {
        attempts: 5,
        base: Duration::ZERO,
        max: Duration::ZERO,
    };

    fn kind(failure: &Failure) -> String {
        match failure {
            Failure::Retry {
                reason,
                maybe_applied,
                ..
            } => format!("retry executed={maybe_applied} {reason}"),
            Failure::Throttled { .. } => "throttled".into(),
            Failure::Unauthorized => "unauthorized".into(),
            Failure::Fatal(error) => format!("fatal {error}"),
        }
    }

    fn status(code: u16, authenticated: bool) -> String {
        let status = StatusCode::from_u16(code).unwrap();
        let failure = status_failure(
            OP,
            status,
            &HeaderMap::new(),
            "body",
            authenticated,
            &NO_WAIT,
            1,
        );
        kind(&failure)
    }

    #[test]
    fn http_statuses_are_sorted_by_what_a_retry_can_change() {
        assert_eq!(
            status(401, true),
            "fatal Shopify refused graphql Shop with HTTP 401: check the access token / app scopes"
        );
        assert!(status(403, true).starts_with("fatal Shopify refused"));
        // A signed download URL is no credential of ours: a plain HTTP error.
        assert_eq!(
            status(403, false),
            "fatal Shopify graphql Shop failed with HTTP 403: body"
        );
        assert_eq!(status(429, true), "throttled");
        for code in [500, 502, 503, 504] {
            assert!(
                status(code, true).starts_with("retry executed=true"),
                "{code}"
            );
        }
        for code in [400, 402, 404, 422, 423] {
            assert!(
                status(code, true).starts_with("fatal Shopify graphql Shop failed"),
                "{code}"
            );
        }
    }

    #[test]
    fn bodies_that_are_not_json_are_retried_and_wrong_json_is_not() {
        let read = |text: &str| read_envelope(OP, text, &NO_WAIT, 1).err().map(|f| kind(&f));
        assert!(read("<!DOCTYPE html><html>502</html>")
            .unwrap()
            .starts_with("retry executed=true"));
        assert!(read(r#"{"data":{"shop":"#).unwrap().starts_with("retry"));
        assert!(read(r#"{"errors":"not a list"}"#)
            .unwrap()
            .starts_with("fatal"));
        assert_eq!(read(r#"{"data":{}}"#), None);
    }

    fn data(body: serde_json::Value) -> Result<Value, Failure> {
        let envelope: Envelope = serde_json::from_value(body).unwrap();
        graphql_data(OP, envelope, 752.0, Duration::from_secs(3))
    }

    #[test]
    fn throttled_is_told_apart_from_other_graphql_errors() {
        let throttled = |extensions| {
            data(json!({
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": extensions
            }))
        };
        let bucket = json!({"cost": {"requestedQueryCost": 300, "throttleStatus":
            {"maximumAvailable": 1000, "currentlyAvailable": 100, "restoreRate": 50}}});
        assert!(matches!(
            throttled(bucket),
            Err(Failure::Throttled { wait, .. }) if wait == Duration::from_secs(4)
        ));
        // Without a reported bucket: the fallback wait.
        assert!(matches!(
            throttled(json!({})),
            Err(Failure::Throttled { wait, .. }) if wait == Duration::from_secs(3)
        ));
        let other = data(json!({"errors": [
            {"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}},
            {"message": "second"}
        ]}))
        .unwrap_err();
        assert_eq!(
            kind(&other),
            "fatal Shopify graphql Shop returned errors: Access denied; second"
        );
        assert!(matches!(
            data(json!({"data": null})),
            Err(Failure::Fatal(_))
        ));
        assert_eq!(data(json!({"data": {"a": 1}})).ok(), Some(json!({"a": 1})));
    }
}
