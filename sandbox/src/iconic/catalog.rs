//! The seller's catalogue: product sets (styles) and their products (the variants that
//! carry seller SKUs and stock), as every endpoint reads and changes it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::problem::Problem;

/// A product set's or product's status on the wire (`active|inactive|deleted`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Active,
    Inactive,
    Deleted,
}

/// A product set as written in `iconic.json` (and posted to the control API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProductSet {
    pub id: u64,
    pub name: String,
    pub status: Status,
    pub products: Vec<FixtureProduct>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProduct {
    pub id: u64,
    pub seller_sku: String,
    #[serde(default)]
    pub status: Status,
    #[serde(default)]
    pub quantity: u32,
    /// Consignment stock The Iconic holds and manages: the seller cannot set it.
    #[serde(default)]
    pub fulfilled_by_venture: bool,
}

/// A control-API change to one product; absent fields stay as they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProductPatch {
    status: Option<Status>,
    seller_sku: Option<String>,
    quantity: Option<u32>,
    fulfilled_by_venture: Option<bool>,
}

pub(super) struct ProductSet {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) status: Status,
    pub(super) created_at: DateTime<Utc>,
    /// The latest of the set's own and its products' changes, so a reader filtering
    /// sets by update date also sees changed products.
    pub(super) updated_at: DateTime<Utc>,
    product_ids: Vec<u64>,
}

pub(super) struct Product {
    pub(super) id: u64,
    pub(super) set_id: u64,
    pub(super) seller_sku: String,
    pub(super) status: Status,
    pub(super) quantity: u32,
    /// Units held by pending orders; `available` is quantity minus this.
    pub(super) reserved_stock: u32,
    pub(super) fulfilled_by_venture: bool,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

impl Product {
    /// Can go negative: orders may reserve more than the seller last pushed.
    pub(super) fn available(&self) -> i64 {
        i64::from(self.quantity) - i64::from(self.reserved_stock)
    }
}

/// UNCONFIRMED: The Iconic's shop SKU format is opaque; the sandbox derives a stable,
/// unique one from the product id.
pub(super) fn shop_sku(product_id: u64) -> String {
    format!("SB{product_id:010}-ICONIC")
}

/// The time a change is stamped with. Whole seconds, so what a client reads back as
/// `updatedAt` is exactly the instant filters compare against.
pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// UNCONFIRMED: the timezone and format of v2 body timestamps; RFC 3339 in UTC is
/// what PIA parses.
pub(super) fn wire_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Default)]
pub(super) struct Catalog {
    sets: BTreeMap<u64, ProductSet>,
    products: BTreeMap<u64, Product>,
    by_seller_sku: HashMap<String, u64>,
}

impl Catalog {
    /// Loads fixture sets stamped `at`. A set that clashes with an earlier one is
    /// skipped with a warning: the real API cannot hold duplicate ids or seller SKUs.
    pub(super) fn new(sets: Vec<FixtureProductSet>, at: DateTime<Utc>) -> Self {
        let mut catalog = Self::default();
        for set in sets {
            if let Err(problem) = catalog.add_set(set, at) {
                tracing::warn!(?problem, "iconic fixture: product set skipped");
            }
        }
        catalog
    }

    /// Adds a set and its products, all created and updated `at`.
    pub(super) fn add_set(
        &mut self,
        set: FixtureProductSet,
        at: DateTime<Utc>,
    ) -> Result<(), Problem> {
        if self.sets.contains_key(&set.id) {
            return Err(Problem::conflict(format!(
                "product set {} already exists",
                set.id
            )));
        }
        let mut ids = HashSet::new();
        let mut skus = HashSet::new();
        for p in &set.products {
            if self.products.contains_key(&p.id) || !ids.insert(p.id) {
                return Err(Problem::conflict(format!(
                    "product {} already exists",
                    p.id
                )));
            }
            self.ensure_sku_free(&p.seller_sku)?;
            if !skus.insert(p.seller_sku.as_str()) {
                return Err(sku_taken(&p.seller_sku));
            }
        }
        let mut product_ids: Vec<u64> = ids.into_iter().collect();
        product_ids.sort_unstable();
        for p in set.products {
            self.by_seller_sku.insert(p.seller_sku.clone(), p.id);
            self.products.insert(
                p.id,
                Product {
                    id: p.id,
                    set_id: set.id,
                    seller_sku: p.seller_sku,
                    status: p.status,
                    quantity: p.quantity,
                    reserved_stock: 0,
                    fulfilled_by_venture: p.fulfilled_by_venture,
                    created_at: at,
                    updated_at: at,
                },
            );
        }
        self.sets.insert(
            set.id,
            ProductSet {
                id: set.id,
                name: set.name,
                status: set.status,
                created_at: at,
                updated_at: at,
                product_ids,
            },
        );
        Ok(())
    }

    fn ensure_sku_free(&self, sku: &str) -> Result<(), Problem> {
        if self.by_seller_sku.contains_key(sku) {
            Err(sku_taken(sku))
        } else {
            Ok(())
        }
    }

    /// Sets in id order.
    pub(super) fn sets(&self) -> impl Iterator<Item = &ProductSet> {
        self.sets.values()
    }

    pub(super) fn set(&self, id: u64) -> Option<&ProductSet> {
        self.sets.get(&id)
    }

    /// The set's products in id order.
    pub(super) fn products_of<'a>(
        &'a self,
        set: &'a ProductSet,
    ) -> impl Iterator<Item = &'a Product> {
        set.product_ids
            .iter()
            .filter_map(|id| self.products.get(id))
    }

    pub(super) fn product(&self, id: u64) -> Option<&Product> {
        self.products.get(&id)
    }

    pub(super) fn by_seller_sku(&self, sku: &str) -> Option<&Product> {
        self.by_seller_sku
            .get(sku)
            .and_then(|id| self.products.get(id))
    }

    /// The name a product shows: its set's.
    pub(super) fn name_of(&self, product: &Product) -> &str {
        self.sets
            .get(&product.set_id)
            .map_or("", |set| set.name.as_str())
    }

    /// Changes a product and stamps it, and its set, `at`. `None` if there is no such product.
    pub(super) fn update<R>(
        &mut self,
        id: u64,
        at: DateTime<Utc>,
        change: impl FnOnce(&mut Product) -> R,
    ) -> Option<R> {
        let product = self.products.get_mut(&id)?;
        let result = change(product);
        product.updated_at = at;
        if let Some(set) = self.sets.get_mut(&product.set_id) {
            set.updated_at = set.updated_at.max(at);
        }
        Some(result)
    }

    /// Applies a control-API patch; a seller SKU another product holds is a conflict.
    pub(super) fn patch(
        &mut self,
        id: u64,
        patch: ProductPatch,
        at: DateTime<Utc>,
    ) -> Result<&Product, Problem> {
        let Some(current) = self.products.get(&id) else {
            return Err(Problem::not_found(format!("product {id} not found")));
        };
        let renamed = patch.seller_sku.filter(|sku| *sku != current.seller_sku);
        if let Some(sku) = &renamed {
            self.ensure_sku_free(sku)?;
            self.by_seller_sku.remove(&current.seller_sku);
            self.by_seller_sku.insert(sku.clone(), id);
        }
        self.update(id, at, |p| {
            if let Some(sku) = renamed {
                p.seller_sku = sku;
            }
            if let Some(status) = patch.status {
                p.status = status;
            }
            if let Some(quantity) = patch.quantity {
                p.quantity = quantity;
            }
            if let Some(fbv) = patch.fulfilled_by_venture {
                p.fulfilled_by_venture = fbv;
            }
        });
        // Present: looked up above, and nothing removes products.
        Ok(&self.products[&id])
    }

    /// Every product in id order, as the control API's state dump shows them.
    pub(super) fn dump_products(&self) -> Vec<Value> {
        self.products.values().map(dump_row).collect()
    }
}

pub(super) fn dump_row(p: &Product) -> Value {
    json!({
        "id": p.id,
        "seller_sku": p.seller_sku,
        "status": p.status,
        "product_set_id": p.set_id,
        "quantity": p.quantity,
        "fulfilled_by_venture": p.fulfilled_by_venture,
        "updated_at": wire_time(p.updated_at),
    })
}

fn sku_taken(sku: &str) -> Problem {
    Problem::conflict(format!(
        "seller SKU {sku:?} is already used by another product"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: u64, sku: &str) -> FixtureProduct {
        FixtureProduct {
            id,
            seller_sku: sku.into(),
            status: Status::Active,
            quantity: 0,
            fulfilled_by_venture: false,
        }
    }

    fn set(id: u64, products: Vec<FixtureProduct>) -> FixtureProductSet {
        FixtureProductSet {
            id,
            name: format!("Set {id}"),
            status: Status::Active,
            products,
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn clashing_sets_are_refused_whole() {
        let t = at("2026-01-01T00:00:00Z");
        let mut c = Catalog::new(vec![set(1, vec![product(1, "A"), product(2, "B")])], t);
        assert!(c.add_set(set(1, vec![]), t).is_err());
        assert!(c
            .add_set(set(2, vec![product(3, "C"), product(2, "D")]), t)
            .is_err());
        assert!(c.add_set(set(2, vec![product(3, "A")]), t).is_err());
        assert!(c
            .add_set(set(2, vec![product(3, "C"), product(4, "C")]), t)
            .is_err());
        assert!(c.product(3).is_none() && c.set(2).is_none());
        assert!(c
            .add_set(set(2, vec![product(4, "D"), product(3, "C")]), t)
            .is_ok());
        let ids: Vec<u64> = c.products_of(c.set(2).unwrap()).map(|p| p.id).collect();
        assert_eq!(ids, [3, 4]);
    }

    #[test]
    fn a_product_change_stamps_its_set() {
        let t0 = at("2026-01-01T00:00:00Z");
        let t1 = at("2026-02-01T00:00:00Z");
        let mut c = Catalog::new(
            vec![set(1, vec![product(1, "A")]), set(2, vec![product(2, "B")])],
            t0,
        );
        c.update(1, t1, |p| p.quantity = 4);
        assert_eq!(c.set(1).unwrap().updated_at, t1);
        assert_eq!(c.set(2).unwrap().updated_at, t0);
        assert_eq!(c.product(1).unwrap().quantity, 4);
        assert_eq!(c.update(99, t1, |_| ()), None);
    }

    #[test]
    fn patch_moves_the_seller_sku_index() {
        let t = at("2026-01-01T00:00:00Z");
        let mut c = Catalog::new(vec![set(1, vec![product(1, "A"), product(2, "B")])], t);
        let rename = |sku: &str| ProductPatch {
            status: None,
            seller_sku: Some(sku.into()),
            quantity: None,
            fulfilled_by_venture: None,
        };
        assert!(c.patch(1, rename("B"), t).is_err());
        c.patch(1, rename("A2"), t).unwrap();
        assert!(c.by_seller_sku("A").is_none());
        assert_eq!(c.by_seller_sku("A2").map(|p| p.id), Some(1));
        assert!(c.patch(9, rename("Z"), t).is_err());
    }
}
