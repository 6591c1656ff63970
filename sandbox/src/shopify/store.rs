//! The store's catalog: fixture format, the in-memory model the resolvers read, and the
//! changes the control API makes to it.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::orders::OrderBook;

/// Timestamp of fixture objects when the fixture does not give one.
const DEFAULT_UPDATED_AT: &str = "2026-01-01T00:00:00Z";

/// `fixtures/<name>/shopify.json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopifyFixture {
    /// The myshopify domain, e.g. `demo-outfitters.myshopify.com`.
    pub shop: String,
    pub name: String,
    /// A permanent legacy custom-app token (`shpat_...`).
    #[serde(default)]
    pub access_token: Option<String>,
    /// Dev Dashboard app credentials for the client-credentials grant.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub plan: Plan,
    /// A development or trial store: `orderCreate` is limited to 5 orders a minute.
    #[serde(default)]
    pub dev_store: bool,
    /// The `updatedAt` (and `createdAt`) of every fixture object.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub locations: Vec<FixtureLocation>,
    #[serde(default)]
    pub products: Vec<FixtureProduct>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureLocation {
    pub id: u64,
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProduct {
    pub id: u64,
    pub title: String,
    #[serde(default)]
    pub status: ProductStatus,
    /// The product's tags, as the merchant typed them.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub variants: Vec<FixtureVariant>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureVariant {
    pub id: u64,
    #[serde(default = "default_variant_title")]
    pub title: String,
    /// Missing, null and "" are all possible in real stores and kept apart.
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default = "yes")]
    pub tracked: bool,
    pub inventory_item_id: u64,
    /// Location id -> available. A location missing here does not stock the item.
    #[serde(default)]
    pub available: BTreeMap<u64, i64>,
}

fn yes() -> bool {
    true
}

fn default_variant_title() -> String {
    "Default Title".into()
}

/// The shop's plan decides its GraphQL restore rate (contract §2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    #[default]
    Standard,
    Advanced,
    Plus,
    Enterprise,
}

impl Plan {
    /// Cost points restored per second.
    pub fn restore_rate(self) -> f64 {
        match self {
            Plan::Standard => 100.0,
            Plan::Advanced => 200.0,
            Plan::Plus => 1000.0,
            Plan::Enterprise => 2000.0,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    #[default]
    Active,
    Archived,
    Draft,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "ACTIVE",
            ProductStatus::Archived => "ARCHIVED",
            ProductStatus::Draft => "DRAFT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Archived, Self::Draft]
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }
}

/// "Now" as Shopify stores it: whole seconds, so a client that uses the last seen
/// `updatedAt` as a strict `>` watermark can miss a change made in the same second
/// (which is why skubridge re-reads with an overlap).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
}

pub fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The numeric id of `gid://shopify/{kind}/{id}` (a trailing `?query` is allowed).
pub fn parse_gid(kind: &str, s: &str) -> Option<u64> {
    let rest = s.strip_prefix("gid://shopify/")?.strip_prefix(kind)?;
    let id = rest.strip_prefix('/')?;
    id.split('?').next()?.parse().ok()
}

pub struct Location {
    pub id: u64,
    pub name: String,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

pub struct Product {
    pub id: u64,
    pub title: String,
    pub status: ProductStatus,
    pub tags: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// A variant and its inventory item (always one to one in Shopify).
pub struct Variant {
    pub id: u64,
    pub product_id: u64,
    pub title: String,
    pub sku: Option<String>,
    pub tracked: bool,
    pub item_id: u64,
    pub updated_at: DateTime<Utc>,
    /// Location id -> level: where the item is stocked.
    pub levels: BTreeMap<u64, Level>,
}

impl Variant {
    pub fn inventory_quantity(&self) -> i64 {
        self.levels.values().map(|l| l.available).sum()
    }
}

pub struct Level {
    pub available: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why a control change was refused; the control API maps these to HTTP statuses.
#[derive(Debug, PartialEq)]
pub enum ChangeError {
    NotFound(String),
    Conflict(String),
    Invalid(String),
}

/// Everything the GraphQL resolvers read.
pub struct Catalog {
    pub shop: String,
    pub name: String,
    pub locations: BTreeMap<u64, Location>,
    pub products: BTreeMap<u64, Product>,
    pub variants: BTreeMap<u64, Variant>,
    /// Inventory item id -> variant id.
    pub items: BTreeMap<u64, u64>,
    pub orders: OrderBook,
}

impl Catalog {
    /// Builds the catalog; fixture entries that contradict each other are skipped with a
    /// warning (a sandbox must start even from a hand-edited fixture).
    pub fn new(
        shop: String,
        name: String,
        updated_at: Option<DateTime<Utc>>,
        locations: Vec<FixtureLocation>,
        products: Vec<FixtureProduct>,
    ) -> Self {
        let stamp = updated_at.unwrap_or_else(|| {
            DateTime::parse_from_rfc3339(DEFAULT_UPDATED_AT)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
        });
        let locations = locations
            .into_iter()
            .map(|l| {
                let loc = Location {
                    id: l.id,
                    name: l.name,
                    active: l.active,
                    updated_at: stamp,
                };
                (l.id, loc)
            })
            .collect();
        let mut cat = Catalog {
            shop,
            name,
            locations,
            products: BTreeMap::new(),
            variants: BTreeMap::new(),
            items: BTreeMap::new(),
            orders: OrderBook::default(),
        };
        for p in products {
            if let Err(e) = cat.add_product(p, stamp) {
                tracing::warn!("shopify fixture: skipping product: {e:?}");
            }
        }
        cat
    }

    /// Adds a product in fixture format with every object stamped `at`.
    pub fn add_product(&mut self, p: FixtureProduct, at: DateTime<Utc>) -> Result<(), ChangeError> {
        if self.products.contains_key(&p.id) {
            return Err(ChangeError::Conflict(format!("product {} exists", p.id)));
        }
        for v in &p.variants {
            if self.variants.contains_key(&v.id) {
                return Err(ChangeError::Conflict(format!("variant {} exists", v.id)));
            }
            if self.items.contains_key(&v.inventory_item_id) {
                let id = v.inventory_item_id;
                return Err(ChangeError::Conflict(format!("inventory item {id} exists")));
            }
            if let Some(loc) = v.available.keys().find(|l| !self.locations.contains_key(l)) {
                return Err(ChangeError::Invalid(format!("unknown location {loc}")));
            }
        }
        for v in p.variants {
            let levels = v
                .available
                .into_iter()
                .map(|(loc, available)| {
                    let level = Level {
                        available,
                        created_at: at,
                        updated_at: at,
                    };
                    (loc, level)
                })
                .collect();
            self.items.insert(v.inventory_item_id, v.id);
            let variant = Variant {
                id: v.id,
                product_id: p.id,
                title: v.title,
                sku: v.sku,
                tracked: v.tracked,
                item_id: v.inventory_item_id,
                updated_at: at,
                levels,
            };
            self.variants.insert(v.id, variant);
        }
        let product = Product {
            id: p.id,
            title: p.title,
            status: p.status,
            tags: p.tags,
            updated_at: at,
        };
        self.products.insert(p.id, product);
        Ok(())
    }

    /// The variant whose SKU is exactly `sku`; two such variants are a conflict.
    fn variant_by_sku(&self, sku: &str) -> Result<u64, ChangeError> {
        let mut found = self
            .variants
            .values()
            .filter(|v| v.sku.as_deref() == Some(sku));
        match (found.next(), found.next()) {
            (Some(v), None) => Ok(v.id),
            (None, _) => Err(ChangeError::NotFound(format!("unknown sku {sku:?}"))),
            (Some(_), Some(_)) => Err(ChangeError::Conflict(format!(
                "sku {sku:?} is on several variants; use inventory_item_id"
            ))),
        }
    }

    /// Sets `available` of each change (all or none), creating levels as needed.
    pub fn set_inventory(
        &mut self,
        changes: &[StockChange],
        at: DateTime<Utc>,
    ) -> Result<(), ChangeError> {
        let first_location = self.locations.keys().next().copied();
        let mut resolved = Vec::with_capacity(changes.len());
        for c in changes {
            let variant = match (&c.sku, c.inventory_item_id) {
                (_, Some(item)) => *self.items.get(&item).ok_or_else(|| {
                    ChangeError::NotFound(format!("unknown inventory_item_id {item}"))
                })?,
                (Some(sku), None) => self.variant_by_sku(sku)?,
                (None, None) => {
                    return Err(ChangeError::Invalid("give sku or inventory_item_id".into()))
                }
            };
            let loc = c
                .location_id
                .or(first_location)
                .filter(|l| self.locations.contains_key(l))
                .ok_or_else(|| {
                    ChangeError::NotFound(format!("unknown location {:?}", c.location_id))
                })?;
            resolved.push((variant, loc, c.available));
        }
        for (variant, loc, available) in resolved {
            if let Some(v) = self.variants.get_mut(&variant) {
                let level = v.levels.entry(loc).or_insert(Level {
                    available,
                    created_at: at,
                    updated_at: at,
                });
                level.available = available;
                level.updated_at = at;
            }
        }
        Ok(())
    }

    pub fn patch_variant(
        &mut self,
        id: u64,
        patch: VariantPatch,
        at: DateTime<Utc>,
    ) -> Result<(), ChangeError> {
        let v = self
            .variants
            .get_mut(&id)
            .ok_or_else(|| ChangeError::NotFound(format!("unknown variant {id}")))?;
        if let Some(sku) = patch.sku {
            v.sku = sku;
        }
        if let Some(tracked) = patch.tracked {
            v.tracked = tracked;
        }
        v.updated_at = at;
        Ok(())
    }

    pub fn set_product_status(
        &mut self,
        id: u64,
        status: ProductStatus,
        at: DateTime<Utc>,
    ) -> Result<(), ChangeError> {
        let p = self
            .products
            .get_mut(&id)
            .ok_or_else(|| ChangeError::NotFound(format!("unknown product {id}")))?;
        p.status = status;
        p.updated_at = at;
        Ok(())
    }

    /// Replaces a product's tags. UNCONFIRMED whether Shopify moves its variants'
    /// `updated_at` when a product's tags change: the sandbox takes the case a client
    /// must survive, and leaves every `updated_at` as it was.
    pub fn set_product_tags(&mut self, id: u64, tags: Vec<String>) -> Result<(), ChangeError> {
        let p = self
            .products
            .get_mut(&id)
            .ok_or_else(|| ChangeError::NotFound(format!("unknown product {id}")))?;
        p.tags = tags;
        Ok(())
    }

    pub fn dump(&self) -> Value {
        let locations: Vec<Value> = self
            .locations
            .values()
            .map(|l| json!({"id": gid("Location", l.id), "name": l.name, "active": l.active}))
            .collect();
        let variants: Vec<Value> = self
            .variants
            .values()
            .map(|v| {
                let available: serde_json::Map<String, Value> = v
                    .levels
                    .iter()
                    .map(|(loc, l)| (gid("Location", *loc), json!(l.available)))
                    .collect();
                let status = self.products.get(&v.product_id).map(|p| p.status.as_str());
                json!({
                    "id": gid("ProductVariant", v.id),
                    "sku": v.sku,
                    "product_id": gid("Product", v.product_id),
                    "product_status": status,
                    "tracked": v.tracked,
                    "inventory_item_id": gid("InventoryItem", v.item_id),
                    "available": available,
                })
            })
            .collect();
        json!({"locations": locations, "variants": variants, "orders": self.orders.dump()})
    }
}

/// One entry of `POST /_sandbox/shopify/inventory`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockChange {
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub inventory_item_id: Option<u64>,
    /// Defaults to the first location.
    #[serde(default)]
    pub location_id: Option<u64>,
    pub available: i64,
}

/// `PATCH /_sandbox/shopify/variants/{id}`: only the given fields change.
#[derive(Debug, Default)]
pub struct VariantPatch {
    /// `Some(None)` clears the SKU.
    pub sku: Option<Option<String>>,
    pub tracked: Option<bool>,
}

impl ShopifyFixture {
    /// A store of `skus` variants for benchmarks: one location, products of five
    /// variants, SKUs `SKU-000001`.. (the same SKUs IconicFixture lists).
    pub fn generate(skus: usize) -> Self {
        const SIZES: [&str; 5] = ["XS", "S", "M", "L", "XL"];
        let mut rng = fastrand::Rng::with_seed(0x5eed);
        let mut products = Vec::with_capacity(skus.div_ceil(5));
        for i in 1..=skus as u64 {
            let slot = (i - 1) % 5;
            if slot == 0 {
                products.push(FixtureProduct {
                    id: 10_000_000 + (i - 1) / 5 + 1,
                    title: format!("Product {:06}", (i - 1) / 5 + 1),
                    status: ProductStatus::Active,
                    tags: Vec::new(),
                    variants: Vec::with_capacity(5),
                });
            }
            let variant = FixtureVariant {
                id: 20_000_000 + i,
                title: SIZES[slot as usize].to_string(),
                sku: Some(format!("SKU-{i:06}")),
                tracked: true,
                inventory_item_id: 30_000_000 + i,
                available: BTreeMap::from([(1, rng.i64(0..50))]),
            };
            if let Some(p) = products.last_mut() {
                p.variants.push(variant);
            }
        }
        ShopifyFixture {
            shop: "bench.myshopify.com".into(),
            name: "Bench Store".into(),
            access_token: Some("shpat_sandbox_bench".into()),
            client_id: None,
            client_secret: None,
            plan: Plan::Plus,
            dev_store: false,
            updated_at: None,
            locations: vec![FixtureLocation {
                id: 1,
                name: "Warehouse".into(),
                active: true,
            }],
            products,
        }
    }
}
