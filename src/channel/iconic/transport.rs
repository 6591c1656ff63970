//! One request to The Iconic, end to end, on the shared HTTP layer: bearer token
//! (re-minted once on a 401), a slot among `concurrency` in flight, retries with
//! backoff, the body decoded. What is The Iconic's own here is how its answers read.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT};
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tracing::debug;

use super::{credentials_refused, token_refused, IconicSettings};
use crate::channel::ChannelError;
use crate::http::{self, snippet, Backoff, Minted, RequestCounts, Resend, Stop, TokenCache};
use crate::secret::Secret;

const TOKEN_PATH: &str = "/oauth/client-credentials";
const MINT: &str = "POST /oauth/client-credentials";

const JSON: &str = "application/json";

/// UNCONFIRMED: the contract always shows `expires_in`; if it is ever missing, assume
/// a one-hour token (the usual OAuth2 lifetime) rather than refusing to work.
const ASSUMED_LIFETIME: Duration = Duration::from_secs(3600);

/// The token endpoint's answer to a mint, for a `crate::test_server` handler.
#[cfg(test)]
pub(super) fn token_reply(token: &str) -> crate::test_server::Reply {
    crate::test_server::Reply::new(
        200,
        &format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#),
    )
}

/// Why one attempt did not produce a value: a retriable failure's reason is text.
type Failure = http::Failure<String, ChannelError>;

/// The token endpoint's answer. No `Debug`: it holds the raw token.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug)]
pub(super) struct Transport {
    http: reqwest::Client,
    base: String,
    client_id: String,
    client_secret: Secret,
    token: TokenCache,
    /// One permit per request in flight, token mints included.
    slots: Semaphore,
    concurrency: usize,
    backoff: Backoff,
    counts: RequestCounts,
}

impl Transport {
    pub(super) fn new(settings: IconicSettings, http: reqwest::Client) -> Self {
        let concurrency = settings.concurrency.max(1);
        Self {
            http,
            base: settings.endpoint.trim_end_matches('/').to_string(),
            client_id: settings.client_id,
            client_secret: settings.client_secret,
            token: TokenCache::default(),
            slots: Semaphore::new(concurrency),
            concurrency,
            backoff: Backoff::default(),
            counts: RequestCounts::default(),
        }
    }

    /// A transport to a `crate::test_server` at `url`, with millisecond backoff.
    #[cfg(test)]
    pub(super) fn to_test_server(url: &str, concurrency: usize) -> Self {
        let settings = IconicSettings {
            endpoint: format!("{url}/"),
            client_id: "iconic-id".into(),
            client_secret: Secret::new("iconic-secret"),
            environment: "live".into(),
            concurrency,
        };
        let mut transport = Self::new(settings, reqwest::Client::new());
        transport.backoff = Backoff {
            attempts: 5,
            base: Duration::from_millis(1),
            max: Duration::from_millis(4),
        };
        transport
    }

    pub(super) fn concurrency(&self) -> usize {
        self.concurrency
    }

    pub(super) fn requests(&self) -> BTreeMap<String, u64> {
        self.counts.snapshot()
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn mint(&self) -> Result<Minted, ChannelError> {
        let url = self.url(TOKEN_PATH);
        let reply: TokenResponse = self
            .attempts(
                MINT,
                Resend::Always,
                || {
                    self.http
                        .post(&url)
                        .basic_auth(&self.client_id, Some(self.client_secret.expose()))
                        .header(ACCEPT, JSON)
                        .form(&[("grant_type", "client_credentials")])
                },
                json,
            )
            .await?;
        let lifetime = reply
            .expires_in
            .map_or(ASSUMED_LIFETIME, Duration::from_secs);
        Ok(Minted {
            token: Secret::new(reply.access_token),
            lifetime: Some(lifetime),
        })
    }

    /// Sends an authenticated request built by `build` (called once per attempt) and
    /// decodes a success body with `parse`. A 401 drops the token and retries once
    /// with a fresh one.
    pub(super) async fn call<T>(
        &self,
        endpoint: &'static str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
        parse: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<T, ChannelError> {
        self.call_with(endpoint, Resend::Always, build, parse).await
    }

    /// [`Transport::call`] for a write whose repeat is not harmless: it is sent again
    /// only after failures The Iconic cannot have acted on (no connection, 429, 503, 401).
    /// Any other failure ends in `Unavailable` after that one attempt, so the caller
    /// can learn the outcome by reading the channel's state instead.
    pub(super) async fn call_non_idempotent<T>(
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
                || self.mint(),
                |e| matches!(e, ChannelError::Unauthorized(_)),
                |token, fresh| async move {
                    let request = || {
                        build(&self.http)
                            .bearer_auth(token.expose())
                            .header(ACCEPT, JSON)
                    };
                    match self.attempts(endpoint, resend, request, parse).await {
                        // Minted just now with accepted credentials.
                        Err(ChannelError::Unauthorized(_)) if fresh => Err(token_refused(endpoint)),
                        other => other,
                    }
                },
            )
            .await
    }

    /// One request through the shared retry loop, its failures in The Iconic's words.
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
            Stop::Unauthorized => credentials_refused(),
            Stop::GaveUp {
                reason,
                attempts,
                not_resent,
            } => ChannelError::Unavailable {
                endpoint,
                attempts,
                reason: if not_resent {
                    format!("{reason} (not re-sent: The Iconic may have applied it)")
                } else {
                    reason
                },
            },
            // The Iconic never reports throttling apart from a 429.
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
        debug!(endpoint, attempt, "The Iconic request");
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
        classify(endpoint, status, &headers, body, &self.backoff, attempt)
    }
}

/// The usual `parse` for [`Transport::call`]: a JSON body into `T`.
pub(super) fn json<T: DeserializeOwned>(body: &str) -> serde_json::Result<T> {
    serde_json::from_str(body)
}

/// Sorts an HTTP answer into success, retry, re-auth or a final error.
fn classify(
    endpoint: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: String,
    backoff: &Backoff,
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
            wait: backoff.server_delay(headers, attempt),
            // 429 and 503 turn a request away before it is processed (the contract's
            // "sleep and retry" pair); any other 5xx may come after it was applied.
            maybe_applied: status != StatusCode::TOO_MANY_REQUESTS
                && status != StatusCode::SERVICE_UNAVAILABLE,
        });
    }
    Err(Failure::Fatal(ChannelError::Refused {
        endpoint,
        status: status.as_u16(),
        reason: problem_message(&body),
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

/// An RFC 7807 problem body as "title: detail"; anything else as a short snippet.
fn problem_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct Problem {
        title: Option<String>,
        detail: Option<String>,
    }
    match serde_json::from_str::<Problem>(body) {
        Ok(Problem {
            title: Some(title),
            detail: Some(detail),
        }) => format!("{title}: {detail}"),
        Ok(Problem {
            title: Some(one), ..
        })
        | Ok(Problem {
            detail: Some(one), ..
        }) => one,
        _ if body.trim().is_empty() => "(empty body)".to_string(),
        _ => snippet(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    const EP: &str = "GET /v2/test";

    fn backoff() -> Backoff {
        Backoff {
            attempts: 5,
            base: Duration::from_millis(10),
            max: Duration::from_millis(20),
        }
    }

    fn classify_status(status: u16, headers: &HeaderMap, body: &str) -> Result<String, Failure> {
        classify(
            EP,
            StatusCode::from_u16(status).unwrap(),
            headers,
            body.to_string(),
            &backoff(),
            1,
        )
    }

    #[test]
    fn rfc7807_problem_becomes_title_and_detail() {
        let body = r#"{"type":"about:blank","title":"Status Transition is not allowed","status":422,"detail":"Item 5 is shipped"}"#;
        assert_eq!(
            problem_message(body),
            "Status Transition is not allowed: Item 5 is shipped"
        );
        assert_eq!(
            problem_message(r#"{"title":"Bad Request","status":400}"#),
            "Bad Request"
        );
        assert_eq!(problem_message(r#"{"detail":"no title"}"#), "no title");
        assert_eq!(problem_message("<html>nope</html>"), "<html>nope</html>");
        assert_eq!(problem_message(" "), "(empty body)");
    }

    #[test]
    fn client_errors_are_final_with_the_problem_text() {
        let body =
            r#"{"title":"Validation Failed","detail":"quantity must be an integer","status":400}"#;
        match classify_status(400, &HeaderMap::new(), body) {
            Err(Failure::Fatal(ChannelError::Refused { status, reason, .. })) => {
                assert_eq!(status, 400);
                assert_eq!(reason, "Validation Failed: quantity must be an integer");
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
        for broken in ["[1, 2", "<html>Bad gateway</html>", ""] {
            assert!(
                matches!(
                    decode(EP, broken, parse, &backoff(), 1),
                    Err(Failure::Retry {
                        maybe_applied: true,
                        ..
                    })
                ),
                "{broken}"
            );
        }
        assert!(matches!(
            decode(EP, r#"{"unexpected":true}"#, parse, &backoff(), 1),
            Err(Failure::Fatal(ChannelError::Unexpected { .. }))
        ));
        assert_eq!(decode(EP, "[3]", parse, &backoff(), 1).unwrap(), vec![3]);
    }

    mod over_http {
        use std::sync::atomic::{AtomicU32, Ordering};

        use super::super::token_reply;
        use super::*;
        use crate::test_server::{Reply, Script, TestServer};

        const GET_X: &str = "GET /v2/x";

        /// Answers token requests with t1, t2...; API requests from `script`, then `[0]`.
        async fn server(script: Vec<Reply>) -> TestServer {
            let tokens = AtomicU32::new(0);
            let script = Script::new(script);
            TestServer::start(move |seen| {
                if seen.path() == TOKEN_PATH {
                    return token_reply(&format!("t{}", tokens.fetch_add(1, Ordering::SeqCst) + 1));
                }
                script.pop().unwrap_or_else(|| Reply::new(200, "[0]"))
            })
            .await
        }

        async fn get_x(t: &Transport) -> Result<Vec<u64>, ChannelError> {
            let url = t.url("/v2/x");
            t.call(GET_X, |http| http.get(&url), json).await
        }

        #[tokio::test]
        async fn sends_basic_auth_for_the_token_and_bearer_for_calls() {
            let server = server(vec![Reply::new(200, "[7]")]).await;
            let t = Transport::to_test_server(&server.url, 2);
            assert_eq!(get_x(&t).await.unwrap(), vec![7]);
            assert_eq!(get_x(&t).await.unwrap(), vec![0]);
            let seen = server.seen();
            assert_eq!(seen.len(), 3, "one mint serves both calls");
            assert_eq!(seen[0].method, "POST");
            assert_eq!(seen[0].target, TOKEN_PATH);
            assert_eq!(
                seen[0].header("authorization"),
                Some("Basic aWNvbmljLWlkOmljb25pYy1zZWNyZXQ=")
            );
            assert_eq!(seen[0].body, "grant_type=client_credentials");
            assert_eq!(
                seen[0].header("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            assert_eq!(seen[1].header("authorization"), Some("Bearer t1"));
            assert_eq!(seen[1].header("accept"), Some("application/json"));
            assert_eq!(seen[2].header("authorization"), Some("Bearer t1"));
            assert_eq!(t.requests()[MINT], 1);
            assert_eq!(t.requests()[GET_X], 2);
        }

        #[tokio::test]
        async fn a_401_mints_a_new_token_once() {
            let server = server(vec![Reply::new(401, ""), Reply::new(200, "[5]")]).await;
            let t = Transport::to_test_server(&server.url, 2);
            assert_eq!(get_x(&t).await.unwrap(), vec![5]);
            let seen = server.seen();
            assert_eq!(seen[1].header("authorization"), Some("Bearer t1"));
            assert_eq!(seen[2].target, TOKEN_PATH);
            assert_eq!(seen[3].header("authorization"), Some("Bearer t2"));
        }

        #[tokio::test]
        async fn a_401_to_a_fresh_token_does_not_blame_the_credentials() {
            let server = server(vec![Reply::new(401, ""), Reply::new(401, "")]).await;
            let t = Transport::to_test_server(&server.url, 2);
            let error = get_x(&t).await.unwrap_err();
            assert!(
                matches!(&error, ChannelError::Unauthorized(m) if m.starts_with(GET_X)),
                "{error}"
            );
            assert!(
                !error.to_string().contains("check channel.client_id"),
                "{error}"
            );
            assert_eq!(t.requests()[MINT], 2);
            assert_eq!(t.requests()[GET_X], 2);
        }

        #[tokio::test]
        async fn transient_failures_are_retried_until_an_answer_decodes() {
            let script = vec![
                Reply::new(503, "").header("Retry-After", "0"),
                Reply::new(429, ""),
                Reply::new(200, "<html><body>502 Bad Gateway</body></html>"),
                Reply::new(200, "[1, 2"),
                Reply::new(200, "[9]"),
            ];
            let server = server(script).await;
            let t = Transport::to_test_server(&server.url, 2);
            assert_eq!(get_x(&t).await.unwrap(), vec![9]);
            assert_eq!(t.requests()[GET_X], 5);
        }

        #[tokio::test]
        async fn gives_up_after_five_attempts() {
            let server = server((0..6).map(|_| Reply::new(500, "oops")).collect()).await;
            let t = Transport::to_test_server(&server.url, 2);
            match get_x(&t).await.unwrap_err() {
                ChannelError::Unavailable {
                    attempts, reason, ..
                } => {
                    assert_eq!(attempts, 5);
                    assert!(reason.contains("HTTP 500: oops"), "{reason}");
                }
                other => panic!("{other}"),
            }
            assert_eq!(t.requests()[GET_X], 5);
        }

        #[tokio::test]
        async fn client_errors_are_not_retried() {
            let problem = r#"{"type":"https://example/problem","title":"Unprocessable Entity","status":422,"detail":"limit must be at most 50"}"#;
            let server = server(vec![Reply::new(422, problem)]).await;
            let t = Transport::to_test_server(&server.url, 2);
            let error = get_x(&t).await.unwrap_err();
            assert_eq!(
                error.to_string(),
                "GET /v2/x: refused with HTTP 422: Unprocessable Entity: limit must be at most 50"
            );
            assert_eq!(t.requests()[GET_X], 1);
        }

        async fn post_x(t: &Transport) -> Result<Vec<u64>, ChannelError> {
            let url = t.url("/v2/x");
            t.call_non_idempotent("POST /v2/x", |http| http.post(&url), json)
                .await
        }

        #[tokio::test]
        async fn non_idempotent_calls_are_resent_only_when_surely_not_applied() {
            let script = vec![
                Reply::new(503, "").header("Retry-After", "0"),
                Reply::new(429, ""),
                Reply::new(401, ""),
                Reply::new(200, "[4]"),
            ];
            let server = server(script).await;
            let t = Transport::to_test_server(&server.url, 2);
            assert_eq!(post_x(&t).await.unwrap(), vec![4]);
            assert_eq!(t.requests()["POST /v2/x"], 4);
            assert_eq!(t.requests()[MINT], 2);
        }

        #[tokio::test]
        async fn non_idempotent_calls_stop_after_a_failure_that_may_have_applied() {
            for ambiguous in [
                Reply::new(500, "oops"),
                Reply::new(502, ""),
                Reply::new(200, "[1, 2"),
            ] {
                let server = server(vec![ambiguous]).await;
                let t = Transport::to_test_server(&server.url, 2);
                match post_x(&t).await.unwrap_err() {
                    ChannelError::Unavailable {
                        attempts, reason, ..
                    } => {
                        assert_eq!(attempts, 1);
                        assert!(reason.ends_with("(not re-sent: The Iconic may have applied it)"));
                    }
                    other => panic!("{other}"),
                }
                assert_eq!(t.requests()["POST /v2/x"], 1);
            }
        }

        #[tokio::test]
        async fn unreachable_endpoint_is_unavailable_after_retries() {
            // Bind then drop a listener so the port is (almost certainly) closed.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let t = Transport::to_test_server(&format!("http://127.0.0.1:{port}"), 1);
            let error = t.mint().await.unwrap_err();
            assert!(
                matches!(error, ChannelError::Unavailable { attempts: 5, .. }),
                "{error}"
            );
        }
    }
}
