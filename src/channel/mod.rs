//! Marketplace channels: the shared types every channel kind speaks, and the
//! dispatch over the kinds skubridge supports.

pub mod iconic;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::money::Money;

/// One sellable listing on a channel (an Iconic "product": a size/colour variant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The channel's own id for the listing; stock writes are keyed by it.
    pub product_id: String,
    /// The seller SKU exactly as the channel holds it (never trimmed or normalised).
    pub sku: String,
    pub status: ListingStatus,
    /// The parent style (Iconic product set), when the channel has one.
    pub parent_id: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    Active,
    Inactive,
    Deleted,
    /// A status this version of skubridge does not know; treated as not active.
    Other(String),
}

impl ListingStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "active" => Self::Active,
            "inactive" => Self::Inactive,
            "deleted" => Self::Deleted,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Deleted => "deleted",
            Self::Other(s) => s,
        }
    }
}

/// An absolute stock level to set on the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockUpdate {
    pub product_id: String,
    pub sku: String,
    pub quantity: i64,
}

/// What happened to a set of stock updates.
#[derive(Debug, Default)]
pub struct PushOutcome {
    /// Applied by the channel.
    pub accepted: Vec<StockUpdate>,
    /// Answered but refused by the channel, with its reason.
    pub refused: Vec<(StockUpdate, String)>,
    /// Never confirmed (retries exhausted): pushed again on the next pass.
    pub failed: Vec<(StockUpdate, String)>,
}

/// A marketplace order, as the order import needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOrder {
    /// The channel's id for the order (unique, stable): the import key.
    pub id: String,
    /// The number the channel shows people (on packing slips, in Seller Center).
    pub number: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// ISO 4217, when the channel says.
    pub currency: Option<String>,
    pub email: Option<String>,
    pub shipping_address: Address,
    /// The channel's delivery option text (e.g. "Standard").
    pub delivery_info: Option<String>,
    /// What the channel says the customer paid in total, when it says.
    pub grand_total: Option<Money>,
    /// One unit each on Seller Center: the same SKU bought twice is two items.
    pub items: Vec<OrderItem>,
}

/// An order the channel answered with that could not be read (a price that is not an
/// amount, a field missing): it is held on its own, and the other orders go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableOrder {
    /// `None` when not even the id could be read.
    pub id: Option<String>,
    pub number: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// The field and what is wrong with it; never the customer's data.
    pub reason: String,
}

/// Orders as read from a channel.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OrdersRead {
    /// By order id ascending.
    pub orders: Vec<ChannelOrder>,
    pub unreadable: Vec<UnreadableOrder>,
}

impl OrdersRead {
    pub fn extend(&mut self, more: OrdersRead) {
        self.orders.extend(more.orders);
        self.unreadable.extend(more.unreadable);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    /// Street lines, first to last.
    pub lines: Vec<String>,
    pub city: String,
    /// State or province as the channel writes it ("NSW").
    pub region: String,
    pub post_code: String,
    /// As the channel writes it: an ISO code ("AU") or a name ("Australia").
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub id: String,
    /// The seller SKU exactly as the channel holds it.
    pub sku: String,
    pub status: ItemStatus,
    /// What the customer paid for this unit after discounts.
    pub paid_price: Money,
    /// The shipping fee this item carries (often only the first item of an order).
    pub shipping_fee: Money,
}

/// An order item's status on the channel (Seller Center's item statuses).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Pending,
    ReadyToShip,
    Shipped,
    Delivered,
    Canceled,
    Failed,
    /// `returned`, `return_*` and statuses this version does not know, verbatim.
    Other(String),
}

impl ItemStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            "ready_to_ship" => Self::ReadyToShip,
            "shipped" => Self::Shipped,
            "delivered" => Self::Delivered,
            "canceled" | "cancelled" => Self::Canceled,
            "failed" => Self::Failed,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::ReadyToShip => "ready_to_ship",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
            Self::Other(s) => s,
        }
    }

    /// Still waiting for the seller to ship: what an import or a change can affect.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Pending | Self::ReadyToShip)
    }
}

/// A carrier the channel accepts on shipments (The Iconic: a shipment provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ShipmentProvider {
    /// The exact name the channel expects back.
    pub name: String,
    /// The provider allocates tracking numbers itself (The Iconic's
    /// `apiIntegrationAvailable`).
    pub api_integration: bool,
}

/// Items of one channel order handed to a carrier with one tracking number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub order_id: String,
    pub item_ids: Vec<String>,
    /// The channel's provider name.
    pub provider: String,
    pub tracking_number: String,
}

/// What the channel did with a shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipOutcome {
    /// The channel confirmed these items.
    Shipped { confirmed: Vec<String> },
    /// The channel answered and refused; its reason verbatim ("Status Transition is not
    /// allowed: ...", "trackingNumber ... is already used").
    Refused { reason: String },
    /// No usable answer after every retry: the channel may or may not have applied it.
    Unknown { reason: String },
}

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
    pub async fn shipment_providers(&self) -> anyhow::Result<Vec<ShipmentProvider>> {
        match self {
            Self::Iconic(c) => Ok(c.shipment_providers().await?),
        }
    }

    /// Hands one order's items to a carrier with a tracking number (The Iconic: ready
    /// to ship). An `Unknown` outcome is learnt from the items' statuses on a later read.
    pub async fn ready_to_ship(&self, shipment: &Shipment) -> ShipOutcome {
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
