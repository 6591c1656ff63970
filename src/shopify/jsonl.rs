//! Incremental parser for the bulk catalog's JSONL result: fed network chunks as they
//! arrive, so the file is never held in memory whole.
//!
//! Lines without `__parentId` are variants; lines with it are inventory levels of that
//! variant. Children are resolved after the last line, so the order of lines does not
//! matter (Shopify no longer promises parents first since `groupObjects` went away).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::error::Category;

use super::wire::{available, IdNode, ItemNode, ProductNode, Quantity, VariantNode};
use super::{Level, Variant};

/// A line that could not be used.
#[derive(Debug, PartialEq)]
pub(super) struct LineError {
    pub line: u64,
    pub message: String,
    /// Cut-off or non-JSON text (a truncated download, an HTML page): fetching the
    /// file again may help. Otherwise the content itself is wrong.
    pub retryable: bool,
}

/// Either kind of line; which fields are present decides what it is.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    #[serde(rename = "__parentId")]
    parent_id: Option<String>,
    id: Option<String>,
    sku: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    product: Option<ProductNode>,
    inventory_item: Option<ItemNode>,
    location: Option<IdNode>,
    quantities: Option<Vec<Quantity>>,
}

/// A level whose inventory item is known only through its parent's id.
struct Child {
    parent_id: String,
    line: u64,
    level: Level,
}

#[derive(Default)]
pub(super) struct Parser {
    /// Bytes of a line whose newline has not arrived yet.
    pending: Vec<u8>,
    records: Records,
}

#[derive(Default)]
struct Records {
    lines: u64,
    objects: u64,
    variants: Vec<Variant>,
    children: Vec<Child>,
}

impl Parser {
    /// Objects parsed so far.
    pub fn objects(&self) -> u64 {
        self.records.objects
    }

    /// Parses every complete line in `pending + chunk`, keeping the unfinished tail.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), LineError> {
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(len) = self.pending[start..].iter().position(|&b| b == b'\n') {
            self.records.line(&self.pending[start..start + len])?;
            start += len + 1;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Parses the last line (a file need not end with a newline) and links levels to
    /// their variants.
    pub fn finish(self) -> Result<(Vec<Variant>, Vec<Level>), LineError> {
        let mut records = self.records;
        records.line(&self.pending)?;
        let items = parent_items(&records.variants);
        let mut levels = Vec::with_capacity(records.children.len());
        for Child {
            parent_id,
            line,
            mut level,
        } in records.children
        {
            let Some(item) = items.get(parent_id.as_str()) else {
                return Err(LineError {
                    line,
                    message: format!("inventory level of unknown parent {parent_id}"),
                    retryable: false,
                });
            };
            level.inventory_item_id = (*item).to_string();
            levels.push(level);
        }
        Ok((records.variants, levels))
    }
}

impl Records {
    fn line(&mut self, raw: &[u8]) -> Result<(), LineError> {
        self.lines += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let line_no = self.lines;
        let fail = |message: String, retryable: bool| LineError {
            line: line_no,
            message,
            retryable,
        };
        let line: Line = serde_json::from_slice(raw).map_err(|e| {
            let retryable = matches!(e.classify(), Category::Eof | Category::Syntax);
            fail(e.to_string(), retryable)
        })?;
        match line {
            Line {
                parent_id: Some(parent_id),
                location: Some(location),
                quantities: Some(quantities),
                updated_at,
                ..
            } => {
                let available = available(&quantities).map_err(|m| fail(m, false))?;
                self.children.push(Child {
                    parent_id,
                    line: line_no,
                    level: Level {
                        inventory_item_id: String::new(),
                        location_id: location.id,
                        available,
                        updated_at,
                    },
                });
            }
            Line {
                parent_id: None,
                id: Some(id),
                product: Some(product),
                inventory_item: Some(inventory_item),
                sku,
                updated_at,
                ..
            } => self.variants.push(
                VariantNode {
                    id,
                    sku,
                    updated_at,
                    product,
                    inventory_item,
                }
                .into(),
            ),
            _ => {
                return Err(fail(
                    "neither a variant nor an inventory level".into(),
                    false,
                ))
            }
        }
        self.objects += 1;
        Ok(())
    }
}

/// Parent id → inventory item id. Shopify names the variant (the nearest connection
/// node) as the parent of a level reached through `inventoryItem.inventoryLevels`;
/// the item's own id is accepted too in case it names the nearest object with an id
/// instead (UNCONFIRMED which one the live API uses).
fn parent_items(variants: &[Variant]) -> HashMap<&str, &str> {
    let mut map = HashMap::with_capacity(variants.len() * 2);
    for v in variants {
        map.insert(v.id.as_str(), v.inventory_item_id.as_str());
        map.insert(v.inventory_item_id.as_str(), v.inventory_item_id.as_str());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::ProductStatus;

    const FILE: &str = concat!(
        r#"{"id":"gid://shopify/ProductVariant/1","sku":"A-1","updatedAt":"2026-03-01T00:00:00Z","product":{"id":"gid://shopify/Product/10","status":"ACTIVE","tags":[]},"inventoryItem":{"id":"gid://shopify/InventoryItem/100","tracked":true}}"#,
        "\n",
        r#"{"updatedAt":"2026-03-02T00:00:00Z","location":{"id":"gid://shopify/Location/7"},"quantities":[{"name":"available","quantity":5}],"__parentId":"gid://shopify/ProductVariant/1"}"#,
        "\n",
        r#"{"id":"gid://shopify/ProductVariant/2","sku":null,"updatedAt":"2026-03-01T00:00:00Z","product":{"id":"gid://shopify/Product/10","status":"UNLISTED","tags":[]},"inventoryItem":{"id":"gid://shopify/InventoryItem/200","tracked":false}}"#,
        "\r\n",
        r#"{"updatedAt":null,"location":{"id":"gid://shopify/Location/8"},"quantities":[{"name":"available","quantity":-3}],"__parentId":"gid://shopify/ProductVariant/2"}"#,
        "\n",
        r#"{"updatedAt":null,"location":{"id":"gid://shopify/Location/7"},"quantities":[{"name":"available","quantity":0}],"__parentId":"gid://shopify/InventoryItem/100"}"#,
        "\n",
    );

    fn parse_in_chunks(text: &str, chunk: usize) -> Result<(Vec<Variant>, Vec<Level>), LineError> {
        let mut parser = Parser::default();
        for part in text.as_bytes().chunks(chunk) {
            parser.feed(part)?;
        }
        parser.finish()
    }

    #[test]
    fn variants_and_their_levels_whatever_the_chunk_size() {
        let whole = parse_in_chunks(FILE, FILE.len()).unwrap();
        for chunk in [1, 7, 64] {
            assert_eq!(
                parse_in_chunks(FILE, chunk).unwrap(),
                whole,
                "chunk {chunk}"
            );
        }
        let (variants, levels) = whole;
        assert_eq!(variants.len(), 2);
        assert_eq!(variants[0].sku.as_deref(), Some("A-1"));
        assert_eq!(
            variants[0].inventory_item_id,
            "gid://shopify/InventoryItem/100"
        );
        assert_eq!(variants[0].product_id, "gid://shopify/Product/10");
        assert_eq!(variants[0].product_status, ProductStatus::Active);
        assert!(variants[0].tracked);
        assert_eq!(variants[1].sku, None);
        assert_eq!(
            variants[1].product_status,
            ProductStatus::Other("UNLISTED".into())
        );
        let summary: Vec<_> = levels.iter().map(Level::key).collect();
        assert_eq!(
            summary,
            [
                (
                    "gid://shopify/InventoryItem/100",
                    "gid://shopify/Location/7",
                    5
                ),
                (
                    "gid://shopify/InventoryItem/200",
                    "gid://shopify/Location/8",
                    -3
                ),
                (
                    "gid://shopify/InventoryItem/100",
                    "gid://shopify/Location/7",
                    0
                ),
            ]
        );
        assert!(levels[0].updated_at.is_some());
        assert_eq!(levels[1].updated_at, None);
    }

    #[test]
    fn children_before_their_parent_still_link() {
        let mut lines: Vec<&str> = FILE.lines().collect();
        lines.reverse();
        let (variants, levels) = parse_in_chunks(&lines.join("\n"), 5).unwrap();
        assert_eq!(variants.len(), 2);
        assert_eq!(levels.len(), 3);
        assert!(levels.iter().all(|l| !l.inventory_item_id.is_empty()));
    }

    #[test]
    fn a_cut_off_file_is_retryable_and_a_wrong_one_is_not() {
        let cut = &FILE[..FILE.len() - 40];
        let err = parse_in_chunks(cut, 16).unwrap_err();
        assert_eq!(err.line, 5);
        assert!(err.retryable, "{err:?}");

        let html = "<html><body>502 Bad Gateway</body></html>\n";
        assert!(parse_in_chunks(html, 16).unwrap_err().retryable);

        let orphan = r#"{"updatedAt":null,"location":{"id":"L"},"quantities":[{"name":"available","quantity":1}],"__parentId":"gid://shopify/ProductVariant/9"}"#;
        let err = parse_in_chunks(orphan, 16).unwrap_err();
        assert!(!err.retryable);
        assert!(err.message.contains("ProductVariant/9"), "{}", err.message);

        let strange = "{\"id\":\"x\"}\n";
        assert!(!parse_in_chunks(strange, 16).unwrap_err().retryable);
    }

    #[test]
    fn empty_file_is_an_empty_catalog() {
        assert_eq!(parse_in_chunks("", 1).unwrap(), (vec![], vec![]));
    }
}
