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

    /// The `data` of each read, decoded as the client does (`serde_path_to_error` over
    /// the reply's `data`), then turned into the public types.
    mod data {
        use super::*;

        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct Variants {
            pub product_variants: Connection<VariantNode>,
        }

        #[derive(Deserialize)]
        pub struct Levels {
            pub location: Option<LocationLevels>,
        }

        #[derive(Deserialize)]
        pub struct Locations {
            pub locations: Connection<LocationNode>,
        }

        #[derive(Deserialize)]
        pub struct ShopData {
            pub shop: ShopNode,
        }
    }

    fn samples() -> [serde_json::Value; 4] {
        let page = serde_json::json!({"hasNextPage": true, "endCursor": "eyJsYXN0X2lkIjoxfQ=="});
        [
            serde_json::json!({"productVariants": {"pageInfo": page, "nodes": [
                {"id": "gid://shopify/ProductVariant/1", "sku": "A-1 ", "updatedAt": "2026-03-01T00:00:00Z",
                 "product": {"id": "gid://shopify/Product/10", "status": "ACTIVE", "tags": ["HardToFind"]},
                 "inventoryItem": {"id": "gid://shopify/InventoryItem/100", "tracked": true}},
                {"id": "gid://shopify/ProductVariant/2", "sku": null, "updatedAt": null,
                 "product": {"id": "gid://shopify/Product/10", "status": "UNLISTED", "tags": []},
                 "inventoryItem": {"id": "gid://shopify/InventoryItem/200", "tracked": false}}
            ]}}),
            serde_json::json!({"location": {"inventoryLevels": {"pageInfo": page, "nodes": [
                {"updatedAt": "2026-03-01T00:00:00Z", "item": {"id": "gid://shopify/InventoryItem/100"},
                 "quantities": [{"name": "available", "quantity": 5}, {"name": "on_hand", "quantity": 7}]}
            ]}}}),
            serde_json::json!({"locations": {"pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": [
                {"id": "gid://shopify/Location/7", "name": "Warehouse", "isActive": true}
            ]}}),
            serde_json::json!({"shop": {"name": "Demo", "myshopifyDomain": "demo.myshopify.com"}}),
        ]
    }

    /// Decodes `data` as the client would; `Err` carries the path and the message.
    fn decode<T: serde::de::DeserializeOwned>(
        data: &serde_json::Value,
    ) -> Result<T, (String, String)> {
        serde_path_to_error::deserialize(data.clone())
            .map_err(|e| (e.path().to_string(), e.inner().to_string()))
    }

    /// Replies of any shape where the documents' data should be: never a panic, and a
    /// reply that does not fit names where (the path, or the missing field).
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_shopify_wire() {
        use crate::http::fuzz::{self, text_body};
        let samples = samples();
        fuzz::run("shopify_wire", |rng, input| {
            let which = rng.usize(..samples.len());
            *input = text_body(rng, &samples[which]);
            // Text that is not JSON is the envelope's to refuse (retried).
            let Ok(data) = serde_json::from_str::<serde_json::Value>(input) else {
                return Ok(());
            };
            let failed = match which {
                0 => decode::<data::Variants>(&data).map(|d| {
                    let _ = d.product_variants.page_info.next_cursor("graphql Variants");
                    let _: Vec<Variant> = d
                        .product_variants
                        .nodes
                        .into_iter()
                        .map(Variant::from)
                        .collect();
                }),
                1 => decode::<data::Levels>(&data).and_then(|d| {
                    let Some(location) = d.location else {
                        return Ok(());
                    };
                    let levels = location.inventory_levels;
                    let _ = levels.page_info.next_cursor("graphql LevelsSince");
                    for node in levels.nodes {
                        if let Err(e) = node.into_level("graphql LevelsSince", "L") {
                            let text = e.to_string();
                            if !text.contains("item ") {
                                return Err((String::new(), format!("names no item: {text}")));
                            }
                        }
                    }
                    Ok(())
                }),
                2 => decode::<data::Locations>(&data).map(|d| {
                    let _: Vec<Location> =
                        d.locations.nodes.into_iter().map(Location::from).collect();
                }),
                _ => decode::<data::ShopData>(&data).map(|d| {
                    let _ = Shop::from(d.shop);
                }),
            };
            match failed {
                Ok(()) => Ok(()),
                Err((_, message)) if message.starts_with("names no item") => Err(message),
                // A reply that is an object: the path or the field says where.
                Err((path, message))
                    if data.is_object() && path == "." && !message.contains('`') =>
                {
                    Err(format!("names nothing: {message}"))
                }
                Err(_) => Ok(()),
            }
        });
    }
}
