//! A Mirakl marketplace's seller (shop) API (contract: shared/api/marketplaces.md §2),
//! the platform behind Bunnings MarketLink, Best Buy Canada, Worten, Decathlon,
//! Carrefour and many more: the shop API key sent raw, offers read through the
//! asynchronous export (in full, then what changed), stock as file imports confirmed
//! later (at most one a minute), orders accepted line by line and imported once paid,
//! tracking then "shipped".
//!
//! Listings are keyed by the shop SKU (see `listings.rs`): stock files name offers by
//! it, and the import's error report gives it back.

mod config;
mod listings;
mod orders;
mod shipping;
mod stock;
mod transport;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::channel::transport::{json, Transport};
use crate::channel::{
    Capabilities, Carrier, CarrierList, Channel, ChannelError, ChannelOrder, ImportState,
    ListingsOut, ListingsRead, OrdersRead, ShipOutcome, Shipment, Shipping, StockUpdate,
    StockWrite,
};
use crate::secret::Secret;

pub use config::KIND;

/// Where and as whom to reach a Mirakl operator.
#[derive(Debug, Clone)]
pub struct MiraklSettings {
    /// The operator's instance (`https://marketplace.example.com`), without `/api`.
    pub endpoint: String,
    pub api_key: Secret,
    /// The shop, for a key that reaches several.
    pub shop_id: Option<u64>,
    /// Maximum requests in flight (config `channel.concurrency`).
    pub concurrency: usize,
    /// How long a pass waits for its stock import to be confirmed (config
    /// `import_wait_seconds`).
    pub import_wait: std::time::Duration,
    /// The operator offers the asynchronous offer export (config `offer_export`);
    /// without it, every product sync reads every offer through OF21's pages.
    pub offer_export: bool,
}

/// UNCONFIRMED: the currency of an order that names none. OR11 always gives
/// `currency_iso_code`; this stands in only if an operator leaves it out.
const FALLBACK_CURRENCY: &str = "AUD";

const ACCOUNT: &str = "GET /api/account";

#[derive(Debug)]
pub struct MiraklClient {
    transport: Transport,
    fingerprint: String,
    /// SH21, read at most once a run: the engine's list and OR23's "registered or not"
    /// come from the same answer.
    carriers: OnceCell<Vec<Carrier>>,
    status_reads: stock::StatusReads,
    import_wait: std::time::Duration,
    offer_export: bool,
}

impl MiraklClient {
    pub fn new(settings: MiraklSettings, http: reqwest::Client) -> Self {
        // Another operator, or another shop on one, holds other offers under the same
        // SKUs. The key is left out: a secret is not stored, and a new key for the same
        // shop changes nothing.
        let shop = settings
            .shop_id
            .map_or_else(|| "default shop".to_string(), |id| format!("shop {id}"));
        Self {
            import_wait: settings.import_wait,
            offer_export: settings.offer_export,
            fingerprint: format!("mirakl {} {shop}", settings.endpoint),
            transport: transport::transport(settings, http),
            carriers: OnceCell::new(),
            status_reads: stock::StatusReads::default(),
        }
    }

    async fn registered_carriers(&self) -> Result<&[Carrier], ChannelError> {
        self.carriers
            .get_or_try_init(|| shipping::carriers(&self.transport))
            .await
            .map(Vec::as_slice)
    }
}

/// A01's answer, as far as `doctor` shows it.
#[derive(Deserialize)]
struct Account {
    shop_id: serde_json::Value,
    shop_name: Option<String>,
    shop_state: Option<String>,
}

#[async_trait]
impl Channel for MiraklClient {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // OF21 has no "changed since": without the export, every read is full.
            listings: match self.offer_export {
                true => ListingsRead::Incremental,
                false => ListingsRead::Full,
            },
            stock: StockWrite::Import {
                min_interval: stock::IMPORT_INTERVAL,
                poll: stock::STATUS_INTERVAL,
                wait: self.import_wait,
            },
            acceptance: true,
            shipping: Shipping::WholeOrder,
            carriers: CarrierList::Listed {
                max_age: shipping::CARRIERS_MAX_AGE,
                others_by_name: true,
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
        shipping::tracking_number_problem(number)
    }

    /// A01: the key works, and for which shop.
    async fn check_credentials(&self) -> Result<String, ChannelError> {
        let url = self.transport.url("/api/account");
        let account: Account = self
            .transport
            .call(ACCOUNT, |http| http.get(&url), json)
            .await?;
        let name = account.shop_name.unwrap_or_else(|| "(no name)".into());
        let state = account
            .shop_state
            .unwrap_or_else(|| "state not given".into());
        Ok(format!("shop {} \"{name}\", {state}", account.shop_id))
    }

    /// OF52 in full (inactive offers too) or differential, OF53 until ready, each file.
    async fn listings(
        &self,
        updated_since: Option<DateTime<Utc>>,
        out: ListingsOut,
        on_progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), ChannelError> {
        match self.offer_export {
            true => listings::fetch(&self.transport, updated_since, &out, on_progress).await,
            false => listings::pages(&self.transport, &out, on_progress).await,
        }
    }

    /// STO01: one file of every level.
    async fn start_stock_import(&self, updates: &[StockUpdate]) -> Result<String, ChannelError> {
        stock::upload(&self.transport, updates).await
    }

    /// STO02, and STO03 once complete with lines in error.
    async fn stock_import(&self, id: &str) -> Result<ImportState, ChannelError> {
        stock::state(&self.transport, &self.status_reads, id).await
    }

    /// OR21.
    async fn accept(&self, order: &ChannelOrder, refused: &[String]) -> Result<(), ChannelError> {
        orders::accept(&self.transport, order, refused).await
    }

    /// OR11: orders to accept, waiting for their debit, or paid.
    async fn new_orders(
        &self,
        created_since: DateTime<Utc>,
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<OrdersRead, ChannelError> {
        orders::new_orders(&self.transport, created_since, updated_since).await
    }

    /// OR11 by `order_ids`, 100 at a time.
    async fn orders_by_id(&self, ids: &[String]) -> Result<OrdersRead, ChannelError> {
        orders::by_id(&self.transport, ids).await
    }

    /// SH21.
    async fn carriers(&self) -> Result<Vec<Carrier>, ChannelError> {
        self.registered_carriers().await.map(<[_]>::to_vec)
    }

    /// OR23, then OR24. Without the carrier list nothing is sent: which carriers are
    /// registered decides the body, and the next pass sends it.
    async fn ship(&self, shipment: &Shipment) -> ShipOutcome {
        match self.registered_carriers().await {
            Ok(registered) => shipping::ship(&self.transport, registered, shipment).await,
            Err(e) => ShipOutcome::Unknown {
                reason: format!("nothing sent: the carriers could not be read ({e})"),
            },
        }
    }

    fn requests(&self) -> BTreeMap<String, u64> {
        self.transport.requests()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: &str, shop_id: Option<u64>) -> MiraklSettings {
        MiraklSettings {
            endpoint: endpoint.into(),
            api_key: Secret::new("k3y-never-shown"),
            shop_id,
            concurrency: 2,
            import_wait: std::time::Duration::ZERO,
            offer_export: true,
        }
    }

    #[test]
    fn the_key_never_shows_and_operators_and_shops_differ() {
        let client = |endpoint: &str, shop| {
            MiraklClient::new(settings(endpoint, shop), reqwest::Client::new())
        };
        let bunnings = client("https://marketlink.bunnings.com.au", None);
        assert!(!format!("{bunnings:?}").contains("k3y-never-shown"));
        assert!(!bunnings.fingerprint().contains("k3y"));
        let worten = client("https://marketplace.worten.pt", None);
        let other_shop = client("https://marketlink.bunnings.com.au", Some(2002));
        assert_ne!(bunnings.fingerprint(), worten.fingerprint());
        assert_ne!(bunnings.fingerprint(), other_shop.fingerprint());
    }

    #[tokio::test]
    async fn doctor_names_the_shop_the_key_reaches() {
        use crate::test_server::{Reply, TestServer};
        let server = TestServer::start(|_| {
            Reply::json(
                &serde_json::json!({"shop_id": 2001, "shop_name": "Linen & Co",
                "shop_state": "OPEN", "currency_iso_code": "AUD"}),
            )
        })
        .await;
        let client = MiraklClient::new(settings(&server.url, None), reqwest::Client::new());
        assert_eq!(
            client.check_credentials().await.unwrap(),
            "shop 2001 \"Linen & Co\", OPEN"
        );
        assert_eq!(
            server.seen()[0].header("authorization"),
            Some("k3y-never-shown")
        );
    }
}
