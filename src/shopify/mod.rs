//! Shopify Admin GraphQL client: the reads skubridge needs (shop, locations, variants,
//! inventory levels changed since a watermark, and the full catalog through a bulk
//! operation), with cost-based throttling, retries and lazily minted tokens.
//!
//! Every GraphQL document lives in `queries/` and is validated against Shopify's real
//! schema by `tests/e2e/schema.rs`.

mod bulk;
#[cfg(test)]
mod client_tests;
pub mod fulfilments;
mod jsonl;
pub use jsonl::ParentedLevel;
pub mod orders;
mod queries;
mod search;
mod throttle;
mod transport;
mod wire;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::secret::Secret;
use queries::Operation;
use transport::Transport;
use wire::{Connection, LocationNode, VariantNode};

/// Where and how to reach the store.
#[derive(Debug, Clone)]
pub struct ShopifySettings {
    /// Base URL, e.g. `https://my-store.myshopify.com` or a sandbox `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Admin API version, e.g. `2026-10`.
    pub api_version: String,
    pub auth: ShopifyAuth,
}

#[derive(Debug, Clone)]
pub enum ShopifyAuth {
    /// A permanent token of a legacy custom app (`shpat_…`).
    Token(Secret),
    /// A Dev Dashboard app: 24-hour tokens minted through the client-credentials grant.
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shop {
    pub name: String,
    pub myshopify_domain: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: String,
    pub name: String,
    pub is_active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub id: String,
    pub sku: Option<String>,
    pub inventory_item_id: String,
    pub tracked: bool,
    pub product_id: String,
    pub product_status: ProductStatus,
    pub product_tags: Vec<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Shopify's `ProductStatus`. The enum grows (UNLISTED arrived in 2025-10), so an
/// unknown value is kept, never an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProductStatus {
    Active,
    Draft,
    Archived,
    Other(String),
}

impl ProductStatus {
    pub fn parse(value: &str) -> Self {
        match value {
            "ACTIVE" => Self::Active,
            "DRAFT" => Self::Draft,
            "ARCHIVED" => Self::Archived,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "ACTIVE",
            Self::Draft => "DRAFT",
            Self::Archived => "ARCHIVED",
            Self::Other(other) => other,
        }
    }
}

/// The `available` quantity of one inventory item at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub inventory_item_id: String,
    pub location_id: String,
    pub available: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
impl Level {
    /// What tests compare: the item, the location and the quantity.
    fn key(&self) -> (&str, &str, i64) {
        (&self.inventory_item_id, &self.location_id, self.available)
    }
}

/// Where a bulk catalog read puts what it parses, as it parses it: a catalogue of any
/// size is never held in memory. Levels come with their parent's id, to be linked to
/// inventory items once every line is in (Shopify promises no order of lines).
pub trait CatalogSink {
    /// A download is starting (again, after a cut-off one): forget what was put so far.
    fn restart(&mut self) -> Result<(), String>;
    fn put(&mut self, variants: Vec<Variant>, levels: Vec<ParentedLevel>) -> Result<(), String>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct LevelsRead {
    pub levels: Vec<Level>,
    /// Shopify's clock before any of this was read: the next watermark.
    pub read_at: DateTime<Utc>,
}

/// What went wrong talking to Shopify. Messages name the operation and never hold
/// a token or secret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShopifyError {
    /// 401 (after one re-mint of a client-credentials token) or 403.
    #[error("Shopify refused {op} with HTTP {status}: check the access token / app scopes")]
    Unauthorized { op: &'static str, status: u16 },
    #[error("Shopify {op} failed with HTTP {status}: {snippet}")]
    Http {
        status: u16,
        op: &'static str,
        snippet: String,
    },
    /// Timeouts, refused or dropped connections.
    #[error("Shopify {op} could not be reached: {message}")]
    Transport { op: &'static str, message: String },
    /// GraphQL `errors` (including THROTTLED when waiting did not help).
    #[error("Shopify {op} returned errors: {}", messages.join("; "))]
    GraphQl {
        op: &'static str,
        messages: Vec<String>,
    },
    /// A reply that is not the JSON the document asks for.
    #[error("Shopify {op} sent an unexpected reply: {message}")]
    Decode { op: &'static str, message: String },
    /// An id the caller passed (e.g. a configured location) does not exist.
    #[error("Shopify {op}: {id} does not exist")]
    NotFound { op: &'static str, id: String },
    #[error("Shopify bulk operation: {message}")]
    Bulk { message: String },
    /// The catalogue could not be stored as it was read.
    #[error("storing the Shopify catalog: {message}")]
    Store { message: String },
}

pub struct ShopifyClient {
    transport: Transport,
}

impl ShopifyClient {
    pub fn new(settings: ShopifySettings, http: reqwest::Client) -> Self {
        Self {
            transport: Transport::new(settings, http),
        }
    }

    /// Requests made so far per endpoint label ("graphql Locations",
    /// "POST /admin/oauth/access_token", "GET bulk result").
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.transport.requests()
    }

    pub async fn shop(&self) -> Result<Shop, ShopifyError> {
        #[derive(serde::Deserialize)]
        struct Data {
            shop: wire::ShopNode,
        }
        let data: Data = self.transport.run(&queries::SHOP, &json!({})).await?.data;
        Ok(data.shop.into())
    }

    /// Every location, inactive and legacy (fulfillment-service) ones included: the
    /// caller decides which count.
    pub async fn locations(&self) -> Result<Vec<Location>, ShopifyError> {
        #[derive(serde::Deserialize)]
        struct Data {
            locations: Connection<LocationNode>,
        }
        let page = self
            .pages(&queries::LOCATIONS, json!({}), |d: Data| Ok(d.locations))
            .await?;
        Ok(page.nodes.into_iter().map(Location::from).collect())
    }

    /// Variants paged 250 at a time; `updated_since` adds query `updated_at:>'T'`.
    pub async fn variants(
        &self,
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<Vec<Variant>, ShopifyError> {
        self.variants_matching(updated_since.map(search::updated_after))
            .await
    }

    /// The variants of products carrying `tag` (Shopify's tags ignore case).
    pub async fn variants_tagged(&self, tag: &str) -> Result<Vec<Variant>, ShopifyError> {
        self.variants_matching(Some(orders::term("tag", tag))).await
    }

    async fn variants_matching(&self, query: Option<String>) -> Result<Vec<Variant>, ShopifyError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            product_variants: Connection<VariantNode>,
        }
        let variables = json!({ "query": query });
        let page = self
            .pages(&queries::VARIANTS, variables, |d: Data| {
                Ok(d.product_variants)
            })
            .await?;
        Ok(page.nodes.into_iter().map(Variant::from).collect())
    }

    /// The full catalog (variants and their levels at every location) through one bulk
    /// operation and its JSONL download, streamed into `sink`; returns the read's
    /// watermark (Shopify's clock before it started). `on_progress(objects_read)` is
    /// called as lines are parsed; it restarts from zero if the download is retried.
    pub async fn bulk_catalog<S: CatalogSink>(
        &self,
        sink: &mut S,
        on_progress: &(dyn Fn(u64) + Sync),
    ) -> Result<DateTime<Utc>, ShopifyError> {
        bulk::catalog(&self.transport, sink, on_progress).await
    }

    /// Inventory levels at one location changed after `since`, paged 250 at a time.
    pub async fn levels_since(
        &self,
        location_id: &str,
        since: DateTime<Utc>,
    ) -> Result<LevelsRead, ShopifyError> {
        #[derive(serde::Deserialize)]
        struct Data {
            location: Option<wire::LocationLevels>,
        }
        let op = &queries::LEVELS_SINCE;
        let variables = json!({
            "locationId": location_id,
            "query": search::updated_after(since),
        });
        let page = self
            .pages(op, variables, |d: Data| match d.location {
                Some(location) => Ok(location.inventory_levels),
                None => Err(ShopifyError::NotFound {
                    op: op.label,
                    id: location_id.to_string(),
                }),
            })
            .await?;
        let levels = page
            .nodes
            .into_iter()
            .map(|node| node.into_level(op.label, location_id))
            .collect::<Result<_, _>>()?;
        Ok(LevelsRead {
            levels,
            read_at: page.read_at,
        })
    }

    /// Walks a connection to its end. `connection` picks it out of each page's data.
    async fn pages<D, N>(
        &self,
        op: &Operation,
        variables: Value,
        connection: impl Fn(D) -> Result<Connection<N>, ShopifyError>,
    ) -> Result<Pages<N>, ShopifyError>
    where
        D: DeserializeOwned,
    {
        self.pages_until(op, variables, connection, |_| false).await
    }

    /// Like [`Self::pages`], stopping after the first page that makes `done` true.
    async fn pages_until<D, N>(
        &self,
        op: &Operation,
        mut variables: Value,
        connection: impl Fn(D) -> Result<Connection<N>, ShopifyError>,
        done: impl Fn(&[N]) -> bool,
    ) -> Result<Pages<N>, ShopifyError>
    where
        D: DeserializeOwned,
    {
        // Fallback watermark, taken before anything is read.
        let started = Utc::now();
        let mut read_at = None;
        let mut nodes = Vec::new();
        loop {
            let reply = self.transport.run::<D>(op, &variables).await?;
            read_at.get_or_insert(reply.date.unwrap_or(started));
            let page = connection(reply.data)?;
            let stop = done(&page.nodes);
            nodes.extend(page.nodes);
            if stop {
                break;
            }
            match page.page_info.next_cursor(op.label)? {
                Some(cursor) => variables["after"] = Value::String(cursor),
                None => break,
            }
        }
        Ok(Pages {
            nodes,
            read_at: read_at.unwrap_or(started),
        })
    }
}

struct Pages<N> {
    nodes: Vec<N>,
    read_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_status_round_trips_and_keeps_unknown_values() {
        for s in ["ACTIVE", "DRAFT", "ARCHIVED", "UNLISTED"] {
            assert_eq!(ProductStatus::parse(s).as_str(), s);
        }
        assert_eq!(ProductStatus::parse("DRAFT"), ProductStatus::Draft);
        assert_eq!(
            ProductStatus::parse("UNLISTED"),
            ProductStatus::Other("UNLISTED".into())
        );
    }

    #[test]
    fn errors_name_the_operation_and_the_fix() {
        let e = ShopifyError::Unauthorized {
            op: "graphql Shop",
            status: 401,
        };
        assert_eq!(
            e.to_string(),
            "Shopify refused graphql Shop with HTTP 401: check the access token / app scopes"
        );
        let e = ShopifyError::GraphQl {
            op: "graphql Variants",
            messages: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "Shopify graphql Variants returned errors: a; b"
        );
    }
}
