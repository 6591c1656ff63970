//! One request to a channel's JSON API, end to end, on the shared HTTP layer: a token
//! (minted again once on a 401), a slot among `concurrency` in flight, retries with
//! backoff, the body decoded. How a kind logs in, sends its token and words its
//! refusals is its [`Dialect`]; everything else is the same for every kind.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, ACCEPT};
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tracing::debug;

use crate::channel::ChannelError;
use crate::http::{self, snippet, Backoff, Minted, RequestCounts, Resend, Stop, TokenCache};
use crate::secret::Secret;

pub const JSON: &str = "application/json";

/// Why one attempt did not produce a value: a retriable failure's reason is text.
type Failure = http::Failure<String, ChannelError>;

/// What one channel kind's API does its own way.
#[async_trait]
pub trait Dialect: fmt::Debug + Send + Sync {
    /// The channel's name in messages ("The Iconic").
    fn name(&self) -> &'static str;

    /// Logs in: a token and how long it lives, asked for through
    /// [`Transport::unauthenticated`].
    async fn mint(&self, transport: &Transport) -> Result<Minted, ChannelError>;

    /// Adds the token to a request.
    fn authorize(&self, request: RequestBuilder, token: &Secret) -> RequestBuilder;

    /// The reason a refusal's body gives, short.
    fn refusal(&self, body: &str) -> String;

    /// The login itself was refused: the credentials are wrong.
    fn credentials_refused(&self) -> ChannelError;

    /// A token just minted was refused on `endpoint` (401 again with a fresh one): the
    /// credentials are good, the account may not reach this endpoint.
    fn token_refused(&self, endpoint: &str) -> ChannelError;
}

#[derive(Debug)]
pub struct Transport {
    http: reqwest::Client,
    base: String,
    dialect: Box<dyn Dialect>,
    token: TokenCache,
    /// One permit per request in flight, token mints included.
    slots: Semaphore,
    concurrency: usize,
    backoff: Backoff,
    counts: RequestCounts,
}

impl Transport {
    /// Requests go to `base` (an endpoint without its trailing `/`).
    pub fn new(
        base: &str,
        concurrency: usize,
        dialect: Box<dyn Dialect>,
        http: reqwest::Client,
    ) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            dialect,
            token: TokenCache::default(),
            slots: Semaphore::new(concurrency),
            concurrency,
            backoff: Backoff::default(),
            counts: RequestCounts::default(),
        }
    }

    /// Millisecond backoff, for tests against a `crate::test_server`.
    #[cfg(test)]
    pub fn with_fast_backoff(mut self) -> Self {
        use std::time::Duration;
        self.backoff = Backoff {
            attempts: 5,
            base: Duration::from_millis(1),
            max: Duration::from_millis(4),
        };
        self
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.counts.snapshot()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The shared reqwest client, for a dialect building its login request.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends an authenticated request built by `build` (called once per attempt) and
    /// decodes a success body with `parse`. A 401 drops the token and retries once
    /// with a fresh one.
    pub async fn call<T>(
        &self,
        endpoint: &'static str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        parse: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<T, ChannelError> {
        self.call_with(endpoint, Resend::Always, build, parse).await
    }

    /// [`Transport::call`] for a write whose repeat is not harmless: it is sent again
    /// only after failures the channel cannot have acted on (no connection, 429, 503,
    /// 401). Any other failure ends in `Unavailable` after that one attempt, so the
    /// caller can learn the outcome by reading the channel's state instead.
    pub async fn call_non_idempotent<T>(
        &self,
        endpoint: &'static str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        parse: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<T, ChannelError> {
        self.call_with(endpoint, Resend::IfNotApplied, build, parse)
            .await
    }

    async fn call_with<T>(
        &self,
        endpoint: &'static str,
        resend: Resend,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        parse: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<T, ChannelError> {
        let (build, parse) = (&build, &parse);
        self.token
            .call(
                || self.dialect.mint(self),
                |e| matches!(e, ChannelError::Unauthorized(_)),
                |token, fresh| async move {
                    let request = || {
                        self.dialect
                            .authorize(build(&self.http), &token)
                            .header(ACCEPT, JSON)
                    };
                    match self.attempts(endpoint, resend, request, parse).await {
                        // Minted just now with accepted credentials.
                        Err(ChannelError::Unauthorized(_)) if fresh => {
                            Err(self.dialect.token_refused(endpoint))
                        }
                        other => other,
                    }
                },
            )
            .await
    }

    /// A request without a token (the login), retried like any read: a 401 means the
    /// credentials were refused.
    pub async fn unauthenticated<T>(
        &self,
        endpoint: &'static str,
        build: impl Fn() -> RequestBuilder,
        parse: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<T, ChannelError> {
        self.attempts(endpoint, Resend::Always, build, parse).await
    }

    /// One request through the shared retry loop, its failures in the channel's words.
    async fn attempts<T>(
        &self,
        endpoint: &'static str,
        resend: Resend,
        build: impl Fn() -> RequestBuilder,
        parse: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<T, ChannelError> {
        let parse = &parse;
        let outcome = self
            .backoff
            .run(endpoint, resend, |attempt| {
                let request = build();
                async move {
                    let body = self.exchange(endpoint, request, attempt).await?;
                    decode(endpoint, &body, parse, &self.backoff, attempt)
                }
            })
            .await;
        outcome.map_err(|stop| match stop {
            Stop::Fatal(error) => error,
            Stop::Unauthorized => self.dialect.credentials_refused(),
            Stop::GaveUp {
                reason,
                attempts,
                not_resent,
            } => ChannelError::Unavailable {
                endpoint,
                attempts,
                reason: if not_resent {
                    format!(
                        "{reason} (not re-sent: {} may have applied it)",
                        self.dialect.name()
                    )
                } else {
                    reason
                },
            },
            // Channels report throttling only as a 429.
            Stop::Throttled { reason } => ChannelError::Unavailable {
                endpoint,
                attempts: 1,
                reason,
            },
        })
    }

    /// One HTTP exchange inside a concurrency slot; the success body as text.
    async fn exchange(
        &self,
        endpoint: &'static str,
        request: RequestBuilder,
        attempt: u32,
    ) -> Result<String, Failure> {
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.counts.add(endpoint);
        debug!(endpoint, attempt, channel = self.dialect.name(), "request");
        let unsent = |e: reqwest::Error| {
            http::send_failure(
                &e,
                &self.backoff,
                attempt,
                |r| r,
                |reason| ChannelError::Unexpected {
                    endpoint,
                    reason: format!(
                        "could not send the request (check channel.endpoint): {reason}"
                    ),
                },
            )
        };
        let response = request.send().await.map_err(unsent)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(unsent)?;
        classify(endpoint, status, &headers, body, self, attempt)
    }
}

/// The usual `parse` for [`Transport::call`]: a JSON body into `T`.
pub fn json<T: DeserializeOwned>(body: &str) -> serde_json::Result<T> {
    serde_json::from_str(body)
}

/// Sorts an HTTP answer into success, retry, re-auth or a final error.
fn classify(
    endpoint: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: String,
    transport: &Transport,
    attempt: u32,
) -> Result<String, Failure> {
    if status.is_success() {
        return Ok(body);
    }
    if status == StatusCode::UNAUTHORIZED {
        return Err(Failure::Unauthorized);
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let reason = match snippet(&body) {
            text if text.is_empty() => format!("HTTP {} (empty body)", status.as_u16()),
            text => format!("HTTP {}: {text}", status.as_u16()),
        };
        return Err(Failure::Retry {
            reason,
            wait: transport.backoff.server_delay(headers, attempt),
            // 429 and 503 turn a request away before it is processed (the usual "sleep
            // and retry" pair); any other 5xx may come after it was applied.
            maybe_applied: status != StatusCode::TOO_MANY_REQUESTS
                && status != StatusCode::SERVICE_UNAVAILABLE,
        });
    }
    let reason = match body.trim() {
        "" => "(empty body)".to_string(),
        _ => transport.dialect.refusal(&body),
    };
    Err(Failure::Fatal(ChannelError::Refused {
        endpoint,
        status: status.as_u16(),
        reason,
    }))
}

/// Decodes a success body (see [`http::body_failure`] for what is retried).
fn decode<T>(
    endpoint: &'static str,
    body: &str,
    parse: impl Fn(&str) -> serde_json::Result<T>,
    backoff: &Backoff,
    attempt: u32,
) -> Result<T, Failure> {
    parse(body).map_err(|e| {
        http::body_failure(
            &e,
            body,
            backoff,
            attempt,
            |r| r,
            |reason| ChannelError::Unexpected { endpoint, reason },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    use std::time::Duration;

    const EP: &str = "GET /v2/test";

    /// A dialect whose refusals are their body, for the sorting rules alone.
    #[derive(Debug)]
    struct Plain;

    #[async_trait]
    impl Dialect for Plain {
        fn name(&self) -> &'static str {
            "Plain"
        }
        async fn mint(&self, _: &Transport) -> Result<Minted, ChannelError> {
            Ok(Minted {
                token: Secret::new("t"),
                lifetime: None,
            })
        }
        fn authorize(&self, request: RequestBuilder, token: &Secret) -> RequestBuilder {
            request.bearer_auth(token.expose())
        }
        fn refusal(&self, body: &str) -> String {
            format!("said {body}")
        }
        fn credentials_refused(&self) -> ChannelError {
            ChannelError::Unauthorized("refused".into())
        }
        fn token_refused(&self, endpoint: &str) -> ChannelError {
            ChannelError::Unauthorized(endpoint.into())
        }
    }

    fn transport() -> Transport {
        let t = Transport::new(
            "http://127.0.0.1:9",
            1,
            Box::new(Plain),
            reqwest::Client::new(),
        );
        Transport {
            backoff: Backoff {
                attempts: 5,
                base: Duration::from_millis(10),
                max: Duration::from_millis(20),
            },
            ..t
        }
    }

    fn classify_status(status: u16, headers: &HeaderMap, body: &str) -> Result<String, Failure> {
        classify(
            EP,
            StatusCode::from_u16(status).unwrap(),
            headers,
            body.to_string(),
            &transport(),
            1,
        )
    }

    #[test]
    fn client_errors_are_final_with_the_channels_reason() {
        match classify_status(400, &HeaderMap::new(), "quantity must be an integer") {
            Err(Failure::Fatal(ChannelError::Refused { status, reason, .. })) => {
                assert_eq!(status, 400);
                assert_eq!(reason, "said quantity must be an integer");
            }
            other => panic!("{other:?}"),
        }
        match classify_status(404, &HeaderMap::new(), "  ") {
            Err(Failure::Fatal(ChannelError::Refused { reason, .. })) => {
                assert_eq!(reason, "(empty body)")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_errors_and_429_are_retried_honouring_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        for (status, turned_away) in [(429, true), (500, false), (502, false), (503, true)] {
            match classify_status(status, &headers, "<html>busy</html>") {
                Err(Failure::Retry {
                    reason,
                    wait,
                    maybe_applied,
                }) => {
                    assert_eq!(reason, format!("HTTP {status}: <html>busy</html>"));
                    assert_eq!(maybe_applied, !turned_away, "{status}");
                    // Unless tests shrink backoff through the environment, the server's wait wins.
                    if crate::hooks::backoff_base().is_none() {
                        assert_eq!(wait, Duration::from_secs(7));
                    }
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        match classify_status(502, &HeaderMap::new(), "") {
            Err(Failure::Retry { reason, .. }) => assert_eq!(reason, "HTTP 502 (empty body)"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify_status(401, &HeaderMap::new(), ""),
            Err(Failure::Unauthorized)
        ));
        assert_eq!(classify_status(200, &HeaderMap::new(), "[]").unwrap(), "[]");
    }

    #[test]
    fn broken_json_is_retried_but_wrong_shapes_are_not() {
        let parse = json::<Vec<u64>>;
        let backoff = transport().backoff;
        for broken in ["[1, 2", "<html>Bad gateway</html>", ""] {
            assert!(
                matches!(
                    decode(EP, broken, parse, &backoff, 1),
                    Err(Failure::Retry {
                        maybe_applied: true,
                        ..
                    })
                ),
                "{broken}"
            );
        }
        assert!(matches!(
            decode(EP, r#"{"unexpected":true}"#, parse, &backoff, 1),
            Err(Failure::Fatal(ChannelError::Unexpected { .. }))
        ));
        assert_eq!(decode(EP, "[3]", parse, &backoff, 1).unwrap(), vec![3]);
    }

    /// Answers of any status, `Retry-After` and body: never a panic; a success is the
    /// body as sent; a 401 re-authenticates; 429 and 5xx retry with a one-line reason
    /// and a wait within the cap; anything else is final with a reason. A success body
    /// that does not decode is retried when cut off or not JSON, final when JSON of the
    /// wrong shape, and never repeats customer data from a JSON body.
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_transport_classify_and_decode() {
        use crate::http::fuzz::{self, nasty_string, pick, planted, text_body, PLANTED};
        let t = transport();
        fuzz::run("transport_classify_and_decode", |rng, input| {
            let status = match rng.u8(..4) {
                0 => rng.u16(100..=999),
                _ => *pick(
                    rng,
                    &[
                        200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504,
                    ],
                ),
            };
            let sample = serde_json::json!({"items": [{"id": 1, "email": planted(rng), "quantity": 2}],
                                            "title": "Bad Request", "detail": planted(rng)});
            let body = match rng.u8(..3) {
                0 => nasty_string(rng),
                _ => text_body(rng, &sample),
            };
            let mut headers = HeaderMap::new();
            let after = pick(rng, &["7", "0.5", "1e20", "-1", "NaN", "soon", "1e-400"]);
            if rng.bool() {
                headers.insert(RETRY_AFTER, HeaderValue::from_static(after));
            }
            *input = format!("HTTP {status}, Retry-After {after:?}, body {body}");
            let status = StatusCode::from_u16(status).unwrap();
            match classify(EP, status, &headers, body.clone(), &t, rng.u32(1..6)) {
                Ok(got) if status.is_success() && got == body => {}
                Err(Failure::Unauthorized) if status == StatusCode::UNAUTHORIZED => {}
                Err(Failure::Retry {
                    reason,
                    wait,
                    maybe_applied,
                }) if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
                    if reason.chars().any(char::is_control) || reason.chars().count() > 220 {
                        return Err(format!("reason not one short line: {reason:?}"));
                    }
                    if wait > Duration::from_secs(120) {
                        return Err(format!("waits {wait:?}"));
                    }
                    let turned_away = matches!(status.as_u16(), 429 | 503);
                    if maybe_applied == turned_away {
                        return Err(format!("HTTP {status}: maybe_applied {maybe_applied}"));
                    }
                }
                Err(Failure::Fatal(ChannelError::Refused {
                    status: s, reason, ..
                })) if s == status.as_u16() && !reason.is_empty() => {}
                other => return Err(format!("HTTP {status} became {other:?}")),
            }
            if !status.is_success() {
                return Ok(());
            }
            let json_like = body.trim_start().starts_with(['{', '[']);
            let decoded = [
                decode(EP, &body, json::<Vec<u64>>, &t.backoff, 1).map(drop),
                decode(EP, &body, json::<BTreeMap<String, Vec<u64>>>, &t.backoff, 1).map(drop),
                decode(
                    EP,
                    &body,
                    json::<Box<serde_json::value::RawValue>>,
                    &t.backoff,
                    1,
                )
                .map(drop),
            ];
            for result in decoded {
                let said = match result {
                    Ok(()) => continue,
                    Err(Failure::Retry {
                        reason,
                        maybe_applied: true,
                        ..
                    }) if reason.starts_with("undecodable body: ") => reason,
                    Err(Failure::Fatal(ChannelError::Unexpected { reason, .. })) => reason,
                    other => return Err(format!("decoding became {other:?}")),
                };
                if json_like && said.contains(PLANTED) {
                    return Err(format!("repeats customer data: {said}"));
                }
            }
            Ok(())
        });
    }
}
