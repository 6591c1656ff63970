//! Mirakl's way with the shared channel transport (`crate::channel::transport`): no
//! login, the shop API key sent raw in `Authorization` (no scheme), the optional
//! `shop_id` on every call, refusals as `{"message", "status"}`. 429s (Mirakl's answer
//! to a call sooner than an operation's frequency allows) are retried with backoff by
//! the shared layer.

use async_trait::async_trait;
use reqwest::header::AUTHORIZATION;
use reqwest::RequestBuilder;
use serde::Deserialize;

use super::MiraklSettings;
use crate::channel::transport::{Dialect, Transport};
use crate::channel::ChannelError;
use crate::http::{snippet, Minted};
use crate::secret::Secret;

/// Mirakl's transport for one shop.
pub(super) fn transport(settings: MiraklSettings, http: reqwest::Client) -> Transport {
    let dialect = MiraklDialect {
        api_key: settings.api_key,
        shop_id: settings.shop_id,
    };
    Transport::new(
        &settings.endpoint,
        settings.concurrency,
        Box::new(dialect),
        http,
    )
}

#[derive(Debug)]
struct MiraklDialect {
    api_key: Secret,
    shop_id: Option<u64>,
}

/// The key was refused. Both of the transport's cases say the same: there is no login
/// apart from the key, so "a token just issued" is the key again.
fn key_refused(endpoint: Option<&str>) -> ChannelError {
    let at = endpoint.map(|e| format!("{e}: ")).unwrap_or_default();
    ChannelError::Unauthorized(format!(
        "{at}Mirakl refused the shop API key (HTTP 401): check channel.api_key (back office: your name > My user settings > API Key) and channel.endpoint"
    ))
}

#[async_trait]
impl Dialect for MiraklDialect {
    fn name(&self) -> &'static str {
        "Mirakl"
    }

    /// The key is the token: nothing to ask for, and it lives until refused.
    async fn mint(&self, _transport: &Transport) -> Result<Minted, ChannelError> {
        Ok(Minted {
            token: self.api_key.clone(),
            lifetime: None,
        })
    }

    fn authorize(&self, request: RequestBuilder, token: &Secret) -> RequestBuilder {
        let request = request.header(AUTHORIZATION, token.expose());
        match self.shop_id {
            Some(id) => request.query(&[("shop_id", id)]),
            None => request,
        }
    }

    fn refusal(&self, body: &str) -> String {
        refusal_message(body)
    }

    fn credentials_refused(&self) -> ChannelError {
        key_refused(None)
    }

    fn token_refused(&self, endpoint: &str) -> ChannelError {
        key_refused(Some(endpoint))
    }
}

/// UNCONFIRMED: Mirakl's error body. Read as `{"message", "status"}` with the
/// operation's error `code` where it has one ("ORDER_INVALID_STATE: ..."); anything
/// else is shown as it is. Either way as a short snippet: the reason goes into logs,
/// `status` and email.
pub(super) fn refusal_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct Refusal {
        message: Option<String>,
        code: Option<String>,
    }
    let reason = match serde_json::from_str::<Refusal>(body) {
        Ok(Refusal {
            message: Some(message),
            code: Some(code),
        }) => format!("{code}: {message}"),
        Ok(Refusal {
            message: Some(message),
            ..
        }) => message,
        _ => body.to_string(),
    };
    snippet(&reason)
}

/// A transport to a `crate::test_server` at `url` for shop 2001, with millisecond
/// backoff.
#[cfg(test)]
pub(super) fn test_transport(url: &str) -> Transport {
    let settings = MiraklSettings {
        endpoint: url.to_string(),
        api_key: Secret::new("shop-key-0f3c"),
        shop_id: Some(2001),
        concurrency: 2,
        import_wait: std::time::Duration::ZERO,
        offer_export: true,
    };
    transport(settings, reqwest::Client::new()).with_fast_backoff()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::transport::json;
    use crate::test_server::{Reply, Script, TestServer};

    #[test]
    fn refusals_read_the_message_and_its_code() {
        assert_eq!(
            refusal_message(r#"{"message":"max must be between 1 and 100","status":400}"#),
            "max must be between 1 and 100"
        );
        assert_eq!(
            refusal_message(
                r#"{"message":"The order 7-A is in state SHIPPED","status":400,"code":"ORDER_INVALID_STATE"}"#
            ),
            "ORDER_INVALID_STATE: The order 7-A is in state SHIPPED"
        );
        assert_eq!(
            refusal_message("<html>Bad gateway</html>"),
            "<html>Bad gateway</html>"
        );
    }

    /// Fuzzing found this (fuzz_mirakl_refusal_message): a message of kilobytes over
    /// several lines was given whole to logs, `status` and email.
    #[test]
    fn a_long_refusal_is_cut_short_on_one_line() {
        let body = serde_json::json!({"message": "line\n".repeat(1000), "code": "E1"});
        let reason = refusal_message(&body.to_string());
        assert!(reason.starts_with("E1: line line"), "{reason}");
        assert!(reason.chars().count() <= 201 && !reason.contains('\n'));
    }

    #[tokio::test]
    async fn the_raw_key_and_the_shop_go_with_every_call_and_throttling_is_waited_out() {
        let script = Script::new(vec![
            Reply::new(429, r#"{"message":"Too many requests","status":429}"#),
            Reply::json(&serde_json::json!({"shop_id": 2001})),
        ]);
        let server = TestServer::start(move |_| script.pop().unwrap()).await;
        let t = test_transport(&server.url);
        let url = t.url("/api/account");
        let _: serde_json::Value = t
            .call("GET /api/account", |h| h.get(&url), json)
            .await
            .unwrap();
        let seen = server.seen();
        assert_eq!(seen.len(), 2);
        for s in &seen {
            assert_eq!(s.header("authorization"), Some("shop-key-0f3c"));
            assert_eq!(s.target, "/api/account?shop_id=2001");
        }
    }

    #[tokio::test]
    async fn a_refused_key_names_the_keys_to_check_and_never_the_key() {
        let server =
            TestServer::start(|_| Reply::new(401, r#"{"message":"Unauthorized","status":401}"#))
                .await;
        let t = test_transport(&server.url);
        let url = t.url("/api/account");
        let error = t
            .call(
                "GET /api/account",
                |h| h.get(&url),
                json::<serde_json::Value>,
            )
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, ChannelError::Unauthorized(_)));
        assert!(
            text.contains("channel.api_key") && !text.contains("shop-key-0f3c"),
            "{text}"
        );
    }

    /// Error bodies of any shape: never a panic; the reason is short and on one line
    /// (it goes into logs, `status` and email), and keeps the code Mirakl names.
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_mirakl_refusal_message() {
        use crate::http::fuzz::{self, text_body};
        let sample = serde_json::json!({"message": "The order 7-A is in state SHIPPED",
                                        "status": 400, "code": "ORDER_INVALID_STATE"});
        fuzz::run("mirakl_refusal_message", |rng, input| {
            *input = text_body(rng, &sample);
            let reason = refusal_message(input);
            if reason.chars().count() > 201 || reason.contains(['\n', '\r']) {
                return Err(format!("a long or multi-line reason: {}", reason.len()));
            }
            Ok(())
        });
    }
}
