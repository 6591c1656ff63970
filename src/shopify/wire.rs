//! The JSON shapes of the documents in `queries/`, and their conversion to the public
//! types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use super::{Level, Location, ProductStatus, Shop, ShopifyError, Variant};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Connection<N> {
    pub page_info: PageInfo,
    pub nodes: Vec<N>,
}

impl<N> Connection<N> {
    pub fn map<M>(self, f: impl FnMut(N) -> M) -> Connection<M> {
        Connection {
            page_info: self.page_info,
            nodes: self.nodes.into_iter().map(f).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The cursor of the next page, `None` at the end.
    pub fn next_cursor(self, op: &'static str) -> Result<Option<String>, ShopifyError> {
        match (self.has_next_page, self.end_cursor) {
            (false, _) => Ok(None),
            (true, Some(cursor)) => Ok(Some(cursor)),
            (true, None) => Err(ShopifyError::Decode {
                op,
                message: "hasNextPage is true but endCursor is null".into(),
            }),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ShopNode {
    name: String,
    myshopify_domain: String,
}

impl From<ShopNode> for Shop {
    fn from(n: ShopNode) -> Self {
        Shop {
            name: n.name,
            myshopify_domain: n.myshopify_domain,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LocationNode {
    id: String,
    name: String,
    is_active: bool,
}

impl From<LocationNode> for Location {
    fn from(n: LocationNode) -> Self {
        Location {
            id: n.id,
            name: n.name,
            is_active: n.is_active,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct IdNode {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct ProductNode {
    pub id: String,
    #[serde(deserialize_with = "product_status")]
    pub status: ProductStatus,
    pub tags: Vec<String>,
}

fn product_status<'de, D: Deserializer<'de>>(d: D) -> Result<ProductStatus, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    Ok(ProductStatus::parse(&s))
}

#[derive(Debug, Deserialize)]
pub(super) struct ItemNode {
    pub id: String,
    pub tracked: bool,
}

/// A `ProductVariant` as both the paged query and the bulk query select it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VariantNode {
    pub id: String,
    pub sku: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub product: ProductNode,
    pub inventory_item: ItemNode,
}

impl From<VariantNode> for Variant {
    fn from(n: VariantNode) -> Self {
        Variant {
            id: n.id,
            sku: n.sku,
            inventory_item_id: n.inventory_item.id,
            tracked: n.inventory_item.tracked,
            product_id: n.product.id,
            product_status: n.product.status,
            product_tags: n.product.tags,
            updated_at: n.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Quantity {
    name: String,
    quantity: i64,
}

/// `quantities(names: ["available"])` reduced to the one number; a reply without it
/// is an error, never a silent zero.
pub(super) fn available(quantities: &[Quantity]) -> Result<i64, String> {
    quantities
        .iter()
        .find(|q| q.name == "available")
        .map(|q| q.quantity)
        .ok_or_else(|| "inventory level without an \"available\" quantity".to_string())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LocationLevels {
    pub inventory_levels: Connection<LevelNode>,
}

/// An `InventoryLevel` read through `Location.inventoryLevels`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LevelNode {
    updated_at: Option<DateTime<Utc>>,
    item: IdNode,
    quantities: Vec<Quantity>,
}

impl LevelNode {
    pub fn into_level(self, op: &'static str, location_id: &str) -> Result<Level, ShopifyError> {
        let available = available(&self.quantities).map_err(|message| ShopifyError::Decode {
            op,
            message: format!("{message} (item {})", self.item.id),
        })?;
        Ok(Level {
            inventory_item_id: self.item.id,
            location_id: location_id.to_string(),
            available,
            updated_at: self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_without_available_is_an_error_not_zero() {
        let node: LevelNode = serde_json::from_str(
            r#"{"updatedAt":null,"item":{"id":"gid://shopify/InventoryItem/1"},
                "quantities":[{"name":"on_hand","quantity":4}]}"#,
        )
        .unwrap();
        let err = node.into_level("graphql LevelsSince", "L").unwrap_err();
        assert!(matches!(err, ShopifyError::Decode { .. }), "{err}");

        let node: LevelNode = serde_json::from_str(
            r#"{"updatedAt":"2026-03-01T00:00:00Z","item":{"id":"I"},
                "quantities":[{"name":"available","quantity":-2}]}"#,
        )
        .unwrap();
        let level = node.into_level("graphql LevelsSince", "L").unwrap();
        assert_eq!(level.available, -2);
        assert_eq!(level.location_id, "L");
        assert_eq!(level.inventory_item_id, "I");
    }
}
