//! Hard To Find's way with the shared channel transport (`crate::channel::transport`):
//! a login with the store owner's username and password, its token sent as
//! `X-Auth-Token`, refusals as `{"message": ...}`.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::RequestBuilder;
use serde::{Deserialize, Serialize};

use super::HardToFindSettings;
use crate::channel::transport::{json, Dialect, Transport};
use crate::channel::ChannelError;
use crate::http::{snippet, Minted};
use crate::secret::Secret;

const LOGIN: &str = "POST /authenticate";
const TOKEN_HEADER: &str = "X-Auth-Token";

/// How long a token lives, per the API Reference: it is refreshed well before.
const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The login's answer. No `Debug`: it holds the raw token.
#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
}

#[derive(Serialize)]
struct Login<'a> {
    username: &'a str,
    password: &'a str,
}

/// Hard To Find's transport for one store.
pub(super) fn transport(settings: HardToFindSettings, http: reqwest::Client) -> Transport {
    let dialect = HardToFindDialect {
        username: settings.username,
        password: settings.password,
    };
    Transport::new(
        &settings.endpoint,
        settings.concurrency,
        Box::new(dialect),
        http,
    )
}

#[derive(Debug)]
struct HardToFindDialect {
    username: String,
    password: Secret,
}

#[async_trait]
impl Dialect for HardToFindDialect {
    fn name(&self) -> &'static str {
        "Hard To Find"
    }

    async fn mint(&self, transport: &Transport) -> Result<Minted, ChannelError> {
        let url = transport.url("/authenticate");
        let login = Login {
            username: &self.username,
            password: self.password.expose(),
        };
        let answer: LoginAnswer = transport
            .unauthenticated(LOGIN, || transport.http().post(&url).json(&login), json)
            .await?;
        Ok(Minted {
            token: Secret::new(answer.token),
            lifetime: Some(TOKEN_LIFETIME),
        })
    }

    fn authorize(&self, request: RequestBuilder, token: &Secret) -> RequestBuilder {
        request.header(TOKEN_HEADER, token.expose())
    }

    fn refusal(&self, body: &str) -> String {
        refusal_message(body)
    }

    fn credentials_refused(&self) -> ChannelError {
        ChannelError::Unauthorized(
            "Hard To Find refused the login: check channel.username and channel.password (the store owner's Hard To Find login)".into(),
        )
    }

    fn token_refused(&self, endpoint: &str) -> ChannelError {
        ChannelError::Unauthorized(format!(
            "{endpoint}: Hard To Find refused a token it had just issued (HTTP 401 with a fresh login); the login works, so check this user's access to the seller account"
        ))
    }
}

/// UNCONFIRMED: Hard To Find's error body. Read as `{"message": "..."}` (or `error`);
/// anything else is shown as a short snippet.
fn refusal_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct Refusal {
        message: Option<String>,
        error: Option<String>,
    }
    match serde_json::from_str::<Refusal>(body) {
        Ok(Refusal {
            message: Some(text),
            ..
        })
        | Ok(Refusal {
            error: Some(text), ..
        }) => text,
        _ => snippet(body),
    }
}

/// A transport to a `crate::test_server` at `url`, with millisecond backoff.
#[cfg(test)]
pub(super) fn test_transport(url: &str) -> Transport {
    let settings = HardToFindSettings {
        endpoint: url.to_string(),
        username: "owner@store.example".into(),
        password: Secret::new("pa55-w0rd"),
        only_tagged: None,
        process_orders: true,
        concurrency: 2,
    };
    transport(settings, reqwest::Client::new()).with_fast_backoff()
}

/// The login's answer, for a `crate::test_server` handler.
#[cfg(test)]
pub(super) fn login_reply(token: &str) -> crate::test_server::Reply {
    crate::test_server::Reply::new(
        200,
        &format!(r#"{{"person":{{"id":7,"role":"seller"}},"token":"{token}"}}"#),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::test_server::{Reply, Script, TestServer};

    #[test]
    fn refusals_read_the_message() {
        assert_eq!(
            refusal_message(r#"{"message":"order 7 is SHIPPED"}"#),
            "order 7 is SHIPPED"
        );
        assert_eq!(refusal_message(r#"{"error":"bad"}"#), "bad");
        assert_eq!(refusal_message("<html>no</html>"), "<html>no</html>");
    }

    async fn server(script: Vec<Reply>) -> TestServer {
        let logins = AtomicU32::new(0);
        let script = Script::new(script);
        TestServer::start(move |seen| {
            if seen.path() == "/authenticate" {
                return login_reply(&format!("jwt{}", logins.fetch_add(1, Ordering::SeqCst) + 1));
            }
            script.pop().unwrap_or_else(|| Reply::new(200, "{}"))
        })
        .await
    }

    #[tokio::test]
    async fn logs_in_once_sends_the_token_header_and_logs_in_again_on_a_401() {
        let server = server(vec![
            Reply::new(200, "{}"),
            Reply::new(401, r#"{"message":"token expired"}"#),
        ])
        .await;
        let t = test_transport(&server.url);
        let url = t.url("/info");
        for _ in 0..2 {
            let _: serde_json::Value = t
                .call(super::super::INFO, |h| h.get(&url), json)
                .await
                .unwrap();
        }
        let seen = server.seen();
        let login: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
        assert_eq!(
            login,
            serde_json::json!({"username": "owner@store.example", "password": "pa55-w0rd"})
        );
        assert_eq!(seen[1].header("x-auth-token"), Some("jwt1"));
        assert_eq!(seen[2].header("x-auth-token"), Some("jwt1"));
        assert_eq!(seen[3].path(), "/authenticate");
        assert_eq!(seen[4].header("x-auth-token"), Some("jwt2"));
        assert!(seen.iter().all(|s| s.header("authorization").is_none()));
    }

    #[tokio::test]
    async fn a_refused_login_names_the_keys_and_not_the_password() {
        let server =
            TestServer::start(|_| Reply::new(401, r#"{"message":"Invalid credentials"}"#)).await;
        let t = test_transport(&server.url);
        let url = t.url("/info");
        let error = t
            .call(
                super::super::INFO,
                |h| h.get(&url),
                json::<serde_json::Value>,
            )
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, ChannelError::Unauthorized(_)));
        assert!(
            text.contains("channel.username and channel.password"),
            "{text}"
        );
        assert!(!text.contains("pa55-w0rd"));
        assert_eq!(t.requests()[LOGIN], 1, "a refused login is not retried");
    }
}
