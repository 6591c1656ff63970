//! The Iconic Seller Center v2 REST client (contract: shared/api/marketplaces.md §1.2):
//! OAuth2 client-credentials auth, paged listings, absolute stock sets in batches of 100,
//! orders read by section or by id.
//!
//! Every request goes through one retrying transport (`transport.rs`) that also counts
//! requests per endpoint and caps how many are in flight.

mod config;
mod listings;
mod orders;
mod shipment;
mod stock;
mod transport;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::channel::{
    Capabilities, Carrier, CarrierList, Channel, ChannelError, ListingsOut, ListingsRead,
    OrdersRead, PushOutcome, ShipOutcome, Shipment, Shipping, StockUpdate, StockWrite,
};
use crate::secret::Secret;

pub use config::KIND;
use transport::Transport;

/// Where and as whom to reach The Iconic.
#[derive(Debug, Clone)]
pub struct IconicSettings {
    /// `https://sellercenter-api.theiconic.com.au`, or a sandbox URL.
    pub endpoint: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// `live` or `preprod`: the same ids mean other products in the other one.
    pub environment: String,
    /// Maximum requests in flight (config `channel.concurrency`).
    pub concurrency: usize,
}

/// UNCONFIRMED: the currency of an order that names none. The Iconic sells in
/// Australian dollars.
const FALLBACK_CURRENCY: &str = "AUD";

/// The shipment provider list changes rarely: read once a day.
const CARRIERS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The token endpoint refused the client id and secret.
fn credentials_refused() -> ChannelError {
    ChannelError::Unauthorized(
        "The Iconic rejected the client id/secret: check channel.client_id / client_secret".into(),
    )
}

/// A token The Iconic had just issued was refused (401 again after a fresh one): the
/// credentials are good, the API user may not reach this endpoint.
fn token_refused(endpoint: &str) -> ChannelError {
    ChannelError::Unauthorized(format!(
        "{endpoint}: The Iconic refused a token it had just issued (HTTP 401 with a fresh token); the client id and secret are accepted, so check this API user's access in Seller Center"
    ))
}

/// A client for one seller account. Cheap to share by reference across tasks.
#[derive(Debug)]
pub struct IconicClient {
    transport: Transport,
    fingerprint: String,
}

impl IconicClient {
    pub fn new(settings: IconicSettings, http: reqwest::Client) -> Self {
        // The format of databases written before channels were neutral: kept, so they
        // carry on without a product reset.
        let fingerprint = format!(
            "{} {} {}",
            settings.endpoint, settings.client_id, settings.environment
        );
        Self {
            transport: transport::transport(settings, http),
            fingerprint,
        }
    }
}

#[async_trait]
impl Channel for IconicClient {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            listings: ListingsRead::Incremental,
            stock: StockWrite::Batches {
                max: stock::MAX_BATCH,
            },
            acceptance: false,
            shipping: Shipping::Lines,
            carriers: CarrierList::Listed {
                max_age: CARRIERS_MAX_AGE,
                others_by_name: false,
            },
        }
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn default_currency(&self) -> &str {
        FALLBACK_CURRENCY
    }

    fn tracking_number_problem(&self, number: &str) -> Option<String> {
        shipment::tracking_number_problem(number)
    }

    /// Mints a token and lists the shipment providers: the endpoint is reachable, the
    /// credentials are valid and the API user may read orders' data.
    async fn check_credentials(&self) -> Result<String, ChannelError> {
        let providers = shipment::providers(&self.transport).await?;
        Ok(format!("{} shipment providers listed", providers.len()))
    }

    /// Product sets paged, then each set's products, up to `concurrency` requests in
    /// flight. With `updated_since`, only the sets updated since then.
    async fn listings(
        &self,
        updated_since: Option<DateTime<Utc>>,
        out: ListingsOut,
        on_progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ChannelError> {
        listings::fetch(&self.transport, updated_since, &out, on_progress).await
    }

    /// `PUT /v2/stock/product` in batches of at most 100.
    async fn push_stock(&self, updates: Vec<StockUpdate>) -> PushOutcome {
        stock::push(&self.transport, updates).await
    }

    /// Section `status_pending`; every page.
    async fn new_orders(
        &self,
        created_since: DateTime<Utc>,
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<OrdersRead, ChannelError> {
        orders::new_orders(&self.transport, created_since, updated_since).await
    }

    /// Any section, in chunks of up to 100 ids per request.
    async fn orders_by_id(&self, ids: &[String]) -> Result<OrdersRead, ChannelError> {
        orders::by_id(&self.transport, ids).await
    }

    /// `GET /v2/orders-shipment-providers`.
    async fn carriers(&self) -> Result<Vec<Carrier>, ChannelError> {
        shipment::providers(&self.transport).await
    }

    /// `POST /v2/orders/statuses/set-to-ready-to-ship` for one order's items; sent again
    /// only when The Iconic surely did not act on it.
    async fn ship(&self, shipment: &Shipment) -> ShipOutcome {
        shipment::ready_to_ship(&self.transport, shipment).await
    }

    fn requests(&self) -> BTreeMap<String, u64> {
        self.transport.requests()
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
            environment: "live".into(),
            concurrency: 2,
        };
        let client = IconicClient::new(settings.clone(), reqwest::Client::new());
        assert!(!format!("{settings:?} {client:?}").contains("s3cr3t-value"));
    }

    #[tokio::test]
    async fn rejected_credentials_are_reported_without_retrying() {
        use crate::test_server::{Reply, TestServer};
        let server = TestServer::start(|_| Reply::new(401, r#"{"error":"invalid_client"}"#)).await;
        let client = IconicClient::new(
            IconicSettings {
                endpoint: server.url.clone(),
                client_id: "wrong".into(),
                client_secret: Secret::new("wrong-secret"),
                environment: "live".into(),
                concurrency: 4,
            },
            reqwest::Client::new(),
        );
        let error = client.check_credentials().await.unwrap_err();
        assert!(matches!(error, ChannelError::Unauthorized(_)));
        assert_eq!(
            error.to_string(),
            "The Iconic rejected the client id/secret: check channel.client_id / client_secret"
        );
        assert_eq!(client.requests()["POST /oauth/client-credentials"], 1);
    }
}
