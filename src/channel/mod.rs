//! Marketplace channels: the neutral model every kind maps onto (`model`), and the
//! dispatch over the kinds skubridge supports.

pub mod iconic;

use chrono::{DateTime, Utc};

pub mod model;

pub use model::*;

/// A configured channel's API client, dispatched by kind.
pub enum ChannelClient {
    Iconic(iconic::IconicClient),
}

impl ChannelClient {
    pub fn new(cfg: &crate::config::ChannelConfig, http: reqwest::Client) -> Self {
        match cfg.kind {
            crate::config::ChannelKind::Iconic => Self::Iconic(iconic::IconicClient::new(
                iconic::IconicSettings {
                    endpoint: cfg.endpoint.clone(),
                    client_id: cfg.client_id.clone(),
                    client_secret: cfg.client_secret.clone(),
                    concurrency: cfg.concurrency,
                },
                http,
            )),
        }
    }

    /// Every listing (or those changed since `updated_since`).
    pub async fn listings(
        &self,
        updated_since: Option<DateTime<Utc>>,
        on_progress: &(dyn Fn(u64) + Sync),
    ) -> anyhow::Result<Vec<Listing>> {
        match self {
            Self::Iconic(c) => Ok(c.listings(updated_since, on_progress).await?),
        }
    }

    /// Absolute stock sets in the largest batches the channel allows.
    pub async fn push_stock(&self, updates: Vec<StockUpdate>) -> PushOutcome {
        match self {
            Self::Iconic(c) => c.push_stock(updates).await,
        }
    }

    /// Orders in the channel's "new" state created at or after `created_since` and (when
    /// given) updated at or after `updated_since`, by order id ascending.
    pub async fn new_orders(
        &self,
        created_since: DateTime<Utc>,
        updated_since: Option<DateTime<Utc>>,
    ) -> anyhow::Result<OrdersRead> {
        match self {
            Self::Iconic(c) => Ok(c.new_orders(created_since, updated_since).await?),
        }
    }

    /// The current state of these orders, by order id ascending; ids the channel no
    /// longer returns are absent.
    pub async fn orders_by_id(&self, ids: &[String]) -> anyhow::Result<OrdersRead> {
        match self {
            Self::Iconic(c) => Ok(c.orders_by_id(ids).await?),
        }
    }

    /// The carriers the channel accepts on shipments.
    pub async fn carriers(&self) -> anyhow::Result<Vec<Carrier>> {
        match self {
            Self::Iconic(c) => Ok(c.shipment_providers().await?),
        }
    }

    /// Hands one order's lines to a carrier with a tracking number (The Iconic: ready
    /// to ship). An `Unknown` outcome is learnt from the lines' states on a later read.
    pub async fn ship(&self, shipment: &Shipment) -> ShipOutcome {
        match self {
            Self::Iconic(c) => c.ready_to_ship(shipment).await,
        }
    }

    pub fn requests(&self) -> std::collections::BTreeMap<String, u64> {
        match self {
            Self::Iconic(c) => c.requests(),
        }
    }
}
