//! The Iconic's way with the shared channel transport (`crate::channel::transport`):
//! OAuth2 client credentials minted with basic auth, a bearer token on each call, and
//! RFC 7807 problem bodies as refusals.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::ACCEPT;
use reqwest::RequestBuilder;
use serde::Deserialize;

pub(super) use crate::channel::transport::{json, Transport};

use super::{credentials_refused, token_refused, IconicSettings};
use crate::channel::transport::{Dialect, JSON};
use crate::channel::ChannelError;
use crate::http::{snippet, Minted};
use crate::secret::Secret;

const TOKEN_PATH: &str = "/oauth/client-credentials";
const MINT: &str = "POST /oauth/client-credentials";

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

/// The token endpoint's answer. No `Debug`: it holds the raw token.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// The Iconic's transport for one seller account.
pub(super) fn transport(settings: IconicSettings, http: reqwest::Client) -> Transport {
    let dialect = IconicDialect {
        client_id: settings.client_id,
        client_secret: settings.client_secret,
    };
    Transport::new(
        &settings.endpoint,
        settings.concurrency,
        Box::new(dialect),
        http,
    )
}

/// A transport to a `crate::test_server` at `url`, with millisecond backoff.
#[cfg(test)]
pub(super) fn test_transport(url: &str, concurrency: usize) -> Transport {
    let settings = IconicSettings {
        endpoint: format!("{url}/"),
        client_id: "iconic-id".into(),
        client_secret: Secret::new("iconic-secret"),
        environment: "live".into(),
        concurrency,
    };
    transport(settings, reqwest::Client::new()).with_fast_backoff()
}

#[derive(Debug)]
struct IconicDialect {
    client_id: String,
    client_secret: Secret,
}

#[async_trait]
impl Dialect for IconicDialect {
    fn name(&self) -> &'static str {
        "The Iconic"
    }

    async fn mint(&self, transport: &Transport) -> Result<Minted, ChannelError> {
        let url = transport.url(TOKEN_PATH);
        let reply: TokenResponse = transport
            .unauthenticated(
                MINT,
                || {
                    transport
                        .http()
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

    fn authorize(&self, request: RequestBuilder, token: &Secret) -> RequestBuilder {
        request.bearer_auth(token.expose())
    }

    fn refusal(&self, body: &str) -> String {
        problem_message(body)
    }

    fn credentials_refused(&self) -> ChannelError {
        credentials_refused()
    }

    fn token_refused(&self, endpoint: &str) -> ChannelError {
        token_refused(endpoint)
    }
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
            let t = test_transport(&server.url, 2);
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
            let t = test_transport(&server.url, 2);
            assert_eq!(get_x(&t).await.unwrap(), vec![5]);
            let seen = server.seen();
            assert_eq!(seen[1].header("authorization"), Some("Bearer t1"));
            assert_eq!(seen[2].target, TOKEN_PATH);
            assert_eq!(seen[3].header("authorization"), Some("Bearer t2"));
        }

        #[tokio::test]
        async fn a_401_to_a_fresh_token_does_not_blame_the_credentials() {
            let server = server(vec![Reply::new(401, ""), Reply::new(401, "")]).await;
            let t = test_transport(&server.url, 2);
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
            let t = test_transport(&server.url, 2);
            assert_eq!(get_x(&t).await.unwrap(), vec![9]);
            assert_eq!(t.requests()[GET_X], 5);
        }

        #[tokio::test]
        async fn gives_up_after_five_attempts() {
            let server = server((0..6).map(|_| Reply::new(500, "oops")).collect()).await;
            let t = test_transport(&server.url, 2);
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
            let t = test_transport(&server.url, 2);
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
            let t = test_transport(&server.url, 2);
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
                let t = test_transport(&server.url, 2);
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
            let t = test_transport(&format!("http://127.0.0.1:{port}"), 1);
            let error = get_x(&t).await.unwrap_err();
            assert!(
                matches!(error, ChannelError::Unavailable { attempts: 5, .. }),
                "{error}"
            );
        }
    }
}
