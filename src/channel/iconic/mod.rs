//! The Iconic Seller Center v2 REST client (contract: shared/api/marketplaces.md §1.2):
//! OAuth2 client-credentials auth, paged listings, absolute stock sets in batches of 100,
//! orders read by section or by id.
//!
//! Every request goes through one retrying transport (`transport.rs`) that also counts
//! requests per endpoint and caps how many are in flight.

mod auth;
mod listings;
mod orders;
mod shipment;
mod stock;
mod transport;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::channel::{
    Carrier, Listing, OrdersRead, PushOutcome, ShipOutcome, Shipment, StockUpdate,
};
use crate::secret::Secret;

use transport::Transport;

/// Where and as whom to reach The Iconic.
#[derive(Debug, Clone)]
pub struct IconicSettings {
    /// `https://sellercenter-api.theiconic.com.au`, or a sandbox URL.
    pub endpoint: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Maximum requests in flight (config `channel.concurrency`).
    pub concurrency: usize,
}

/// Why a call to The Iconic did not succeed. Callers branch on the variant:
/// `Unauthorized` is a config problem, `Unavailable` is worth another pass later,
/// `Refused` and `Unexpected` need a human.
#[derive(Debug, thiserror::Error)]
pub enum IconicError {
    /// The token endpoint refused the credentials.
    #[error("The Iconic rejected the client id/secret: check channel.client_id / client_secret")]
    Unauthorized,
    /// A token The Iconic had just issued was refused (401 again after a fresh one): the
    /// credentials are good, the API user may not reach this endpoint.
    #[error("{endpoint}: The Iconic refused a token it had just issued (HTTP 401 with a fresh token); the client id and secret are accepted, so check this API user's access in Seller Center")]
    TokenRefused { endpoint: &'static str },
    /// A 4xx other than 401/429: retrying cannot help. `message` is the RFC 7807
    /// "title: detail" when the body has one.
    #[error("{endpoint}: The Iconic refused the request (HTTP {status}): {message}")]
    Refused {
        endpoint: &'static str,
        status: u16,
        message: String,
    },
    /// Retriable failures (5xx, 429, timeouts, broken bodies) outlasted every attempt.
    #[error("{endpoint}: no usable answer from The Iconic after {attempts} attempts: {reason}")]
    Unavailable {
        endpoint: &'static str,
        attempts: u32,
        reason: String,
    },
    /// A well-formed answer in a shape this client does not know.
    #[error("{endpoint}: unexpected answer from The Iconic: {reason}")]
    Unexpected {
        endpoint: &'static str,
        reason: String,
    },
    /// The request could not even be built (usually a malformed `channel.endpoint`).
    #[error("{endpoint}: could not send the request (check channel.endpoint): {reason}")]
    Request {
        endpoint: &'static str,
        reason: String,
    },
}

/// A client for one seller account. Cheap to share by reference across tasks.
#[derive(Debug)]
pub struct IconicClient {
    transport: Transport,
}

impl IconicClient {
    pub fn new(settings: IconicSettings, http: reqwest::Client) -> Self {
        Self {
            transport: Transport::new(settings, http),
        }
    }

    /// Requests made so far, per endpoint label (e.g. `PUT /v2/stock/product`).
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.transport.requests()
    }

    /// Mints a token: proves the endpoint is reachable and the credentials are valid.
    pub async fn check_auth(&self) -> Result<(), IconicError> {
        self.transport.token().await.map(drop)
    }

    /// Every listing: product sets paged, then each set's products, up to
    /// `concurrency` requests in flight. With `updated_since`, only the sets updated
    /// since then (and their products). `on_progress` gets the running listing count.
    pub async fn listings(
        &self,
        updated_since: Option<DateTime<Utc>>,
        on_progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<Listing>, IconicError> {
        listings::fetch(&self.transport, updated_since, on_progress).await
    }

    /// Absolute stock sets in batches of at most 100. Never fails as a whole: each
    /// update ends up accepted, refused (with The Iconic's reason) or failed (with ours).
    pub async fn push_stock(&self, updates: Vec<StockUpdate>) -> PushOutcome {
        stock::push(&self.transport, updates).await
    }

    /// Orders in the channel's "new" state (section `status_pending`) created at or after
    /// `created_since`, and (when given) updated at or after `updated_since`; every page,
    /// by order id ascending.
    pub async fn new_orders(
        &self,
        created_since: DateTime<Utc>,
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<OrdersRead, IconicError> {
        orders::new_orders(&self.transport, created_since, updated_since).await
    }

    /// The current state of these orders (any section), by order id ascending, in chunks
    /// of up to 100 ids per request. Ids the channel no longer returns are absent.
    pub async fn orders_by_id(&self, ids: &[String]) -> Result<OrdersRead, IconicError> {
        orders::by_id(&self.transport, ids).await
    }

    /// The carriers The Iconic accepts (`GET /v2/orders-shipment-providers`).
    pub async fn shipment_providers(&self) -> Result<Vec<Carrier>, IconicError> {
        shipment::providers(&self.transport).await
    }

    /// `POST /v2/orders/statuses/set-to-ready-to-ship` for one order's items, with the
    /// provider and tracking number. Never fails as a whole; sent again only when The
    /// Iconic surely did not act on it, so an ambiguous failure is `Unknown`.
    pub async fn ready_to_ship(&self, shipment: &Shipment) -> ShipOutcome {
        shipment::ready_to_ship(&self.transport, shipment).await
    }
}

/// An id as it appears on the wire: The Iconic sends integers, but a string holding
/// digits is accepted too rather than failing a whole page over it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum WireId {
    Int(u64),
    Text(String),
}

impl fmt::Display for WireId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_ids_accept_integers_and_strings() {
        let ids: Vec<WireId> = serde_json::from_str(r#"[12, "34"]"#).unwrap();
        assert_eq!(ids[0].to_string(), "12");
        assert_eq!(ids[1].to_string(), "34");
    }

    #[test]
    fn errors_never_show_the_secret() {
        let settings = IconicSettings {
            endpoint: "http://127.0.0.1:9".into(),
            client_id: "id".into(),
            client_secret: Secret::new("s3cr3t-value"),
            concurrency: 2,
        };
        let client = IconicClient::new(settings.clone(), reqwest::Client::new());
        assert!(!format!("{settings:?} {client:?}").contains("s3cr3t-value"));
    }

    #[tokio::test]
    async fn check_auth_reports_rejected_credentials_without_retrying() {
        use crate::test_server::{Reply, TestServer};
        let server = TestServer::start(|_| Reply::new(401, r#"{"error":"invalid_client"}"#)).await;
        let client = IconicClient::new(
            IconicSettings {
                endpoint: server.url.clone(),
                client_id: "wrong".into(),
                client_secret: Secret::new("wrong-secret"),
                concurrency: 4,
            },
            reqwest::Client::new(),
        );
        let error = client.check_auth().await.unwrap_err();
        assert!(matches!(error, IconicError::Unauthorized));
        assert_eq!(
            error.to_string(),
            "The Iconic rejected the client id/secret: check channel.client_id / client_secret"
        );
        assert_eq!(client.requests()["POST /oauth/client-credentials"], 1);
    }

    #[test]
    fn client_futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let client = IconicClient::new(
            IconicSettings {
                endpoint: "http://127.0.0.1:9".into(),
                client_id: "id".into(),
                client_secret: Secret::new("x"),
                concurrency: 1,
            },
            reqwest::Client::new(),
        );
        let progress = |_: u64| {};
        assert_send(&client.listings(None, &progress));
        assert_send(&client.push_stock(Vec::new()));
        assert_send(&client.check_auth());
    }
}
