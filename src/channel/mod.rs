//! Marketplace channels: the shared types every channel kind speaks, and the
//! dispatch over the kinds skubridge supports.

pub mod iconic;

use chrono::{DateTime, Utc};
use serde::Serialize;

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

    pub fn requests(&self) -> std::collections::BTreeMap<String, u64> {
        match self {
            Self::Iconic(c) => c.requests(),
        }
    }
}
