//! The Hard To Find REST client (contract: shared/api/marketplaces.md §3): a login
//! token sent as `X-Auth-Token`, absolute stock levels by SKU through `/batch`, paid
//! orders read page by page with each order's detail, and the `process` and `ship`
//! transitions.
//!
//! Hard To Find cannot list a seller's catalogue and silently ignores SKUs it does not
//! hold, so the engine offers it every Shopify SKU (or those of products carrying
//! `only_tagged`), keyed by the SKU itself.

mod config;
mod orders;
mod stock;
mod transport;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::channel::transport::{json, Transport};
use crate::channel::{
    Capabilities, Carrier, CarrierList, Channel, ChannelError, ChannelOrder, ListingsOut,
    ListingsRead, OrderStage, OrdersRead, PushOutcome, ShipOutcome, Shipment, Shipping,
    StockUpdate, StockWrite,
};
use crate::secret::Secret;

pub use config::KIND;

/// Where and as whom to reach Hard To Find.
#[derive(Debug, Clone)]
pub struct HardToFindSettings {
    /// The live or staging API, or a sandbox URL.
    pub endpoint: String,
    /// The store owner's login (one user per store).
    pub username: String,
    pub password: Secret,
    /// Only the variants of Shopify products with this tag are offered.
    pub only_tagged: Option<String>,
    /// Move imported orders to PROCESSED so Hard To Find shows they were taken.
    pub process_orders: bool,
    /// Maximum requests in flight (config `channel.concurrency`).
    pub concurrency: usize,
}

/// UNCONFIRMED: the currency of Hard To Find's orders, which name none. It sells in
/// Australia, in Australian dollars.
const CURRENCY: &str = "AUD";

const INFO: &str = "GET /info";

/// UNCONFIRMED: what a tracking number may hold (the API Reference states no rule):
/// printable characters without spaces, at most this many.
const MAX_TRACKING_NUMBER: usize = 64;

#[derive(Debug)]
pub struct HardToFindClient {
    transport: Transport,
    fingerprint: String,
    only_tagged: Option<String>,
    process_orders: bool,
}

impl HardToFindClient {
    pub fn new(settings: HardToFindSettings, http: reqwest::Client) -> Self {
        // Live and staging are other databases: the same SKUs are other offers there.
        let fingerprint = format!("hardtofind {} {}", settings.endpoint, settings.username);
        Self {
            fingerprint,
            only_tagged: settings.only_tagged.clone(),
            process_orders: settings.process_orders,
            transport: transport::transport(settings, http),
        }
    }
}

/// `GET /info`'s answer, as far as `doctor` shows it.
#[derive(Deserialize)]
struct Info {
    seller_account_id: Option<serde_json::Value>,
    expires: Option<String>,
}

#[async_trait]
impl Channel for HardToFindClient {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            listings: ListingsRead::None,
            stock: StockWrite::Batches {
                max: stock::BATCH_SIZE,
            },
            acceptance: false,
            shipping: Shipping::WholeOrder,
            carriers: CarrierList::ConfigOnly,
        }
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn default_currency(&self) -> &str {
        CURRENCY
    }

    fn tracking_number_problem(&self, number: &str) -> Option<String> {
        if number.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some(format!(
                "tracking number {number:?} contains spaces or control characters"
            ))
        } else if number.chars().count() > MAX_TRACKING_NUMBER {
            Some(format!(
                "tracking number {number:?} is longer than {MAX_TRACKING_NUMBER} characters"
            ))
        } else {
            None
        }
    }

    /// Logs in and reads `GET /info`: the endpoint is reachable and the login works.
    async fn check_credentials(&self) -> Result<String, ChannelError> {
        let url = self.transport.url("/info");
        let info: Info = self
            .transport
            .call(INFO, |http| http.get(&url), json)
            .await?;
        let account = match info.seller_account_id {
            Some(serde_json::Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => "(not given)".into(),
        };
        Ok(match info.expires {
            Some(expires) => format!("seller account {account}, token valid until {expires}"),
            None => format!("seller account {account}"),
        })
    }

    fn offered_tag(&self) -> Option<&str> {
        self.only_tagged.as_deref()
    }

    /// Never asked for: the engine offers Shopify's SKUs ([`ListingsRead::None`]).
    async fn listings(
        &self,
        _updated_since: Option<DateTime<Utc>>,
        _out: ListingsOut,
        _on_progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ChannelError> {
        Err(ChannelError::Unexpected {
            endpoint: "-",
            reason: "Hard To Find has no listing endpoint".into(),
        })
    }

    /// `POST /batch` in batches of [`stock::BATCH_SIZE`].
    async fn push_stock(&self, updates: Vec<StockUpdate>) -> PushOutcome {
        stock::push(&self.transport, updates).await
    }

    /// `process`: the order shows as taken on Hard To Find.
    async fn acknowledge(&self, order: &ChannelOrder) -> Result<(), ChannelError> {
        if !self.process_orders || order.stage != OrderStage::Ready {
            return Ok(());
        }
        orders::process(&self.transport, &order.id).await
    }

    /// `READY` orders, newest-updated first, every page until past `updated_since`;
    /// each new one's detail.
    async fn new_orders(
        &self,
        created_since: DateTime<Utc>,
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<OrdersRead, ChannelError> {
        orders::new_orders(&self.transport, created_since, updated_since).await
    }

    /// `GET /order/{id}` for each.
    async fn orders_by_id(&self, ids: &[String]) -> Result<OrdersRead, ChannelError> {
        orders::by_id(&self.transport, ids).await
    }

    /// Hard To Find takes a carrier's name as written: only `[channel.carriers]` maps.
    async fn carriers(&self) -> Result<Vec<Carrier>, ChannelError> {
        Ok(Vec::new())
    }

    /// The `ship` transition of the whole order.
    async fn ship(&self, shipment: &Shipment) -> ShipOutcome {
        orders::ship(&self.transport, shipment).await
    }

    fn requests(&self) -> BTreeMap<String, u64> {
        self.transport.requests()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: &str) -> HardToFindSettings {
        HardToFindSettings {
            endpoint: endpoint.into(),
            username: "owner@store.example".into(),
            password: Secret::new("pa55-w0rd"),
            only_tagged: Some("hardtofind".into()),
            process_orders: true,
            concurrency: 2,
        }
    }

    #[test]
    fn the_password_never_shows_and_live_and_staging_differ() {
        let live = HardToFindClient::new(
            settings("https://api.hardtofind.com.au"),
            reqwest::Client::new(),
        );
        assert!(!format!("{live:?}").contains("pa55-w0rd"));
        let staging = HardToFindClient::new(
            settings("https://staging-api.hardtofind.com.au"),
            reqwest::Client::new(),
        );
        assert_ne!(live.fingerprint(), staging.fingerprint());
        assert_eq!(live.offered_tag(), Some("hardtofind"));
    }

    #[test]
    fn tracking_numbers_without_spaces_and_not_too_long() {
        let c = HardToFindClient::new(settings("https://x.example"), reqwest::Client::new());
        assert_eq!(c.tracking_number_problem("33ABC012345"), None);
        assert!(c.tracking_number_problem("33 ABC").is_some());
        assert!(c.tracking_number_problem(&"9".repeat(65)).is_some());
    }
}
