//! Incremental parser for the bulk catalog's JSONL result: fed network chunks as they
//! arrive and drained as it goes, so the file is never held in memory whole.
//!
//! Lines without `__parentId` are variants; lines with it are inventory levels of that
//! variant. A level is handed on with its parent's id and line: Shopify no longer
//! promises parents first (`groupObjects` went away), so levels are linked to their
//! inventory items once every line is in (by the store the catalogue goes to).

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

/// A level whose inventory item is known only through its parent's id: the variant's,
/// or (UNCONFIRMED which one the live API uses) the item's own.
#[derive(Debug, Clone, PartialEq)]
pub struct ParentedLevel {
    pub parent_id: String,
    /// Where it is in the file, for the error if its parent never comes.
    pub line: u64,
    /// With an empty `inventory_item_id` until linked.
    pub level: Level,
}

#[derive(Default)]
pub(super) struct Parser {
    /// Bytes of a line whose newline has not arrived yet.
    pending: Vec<u8>,
    records: Records,
}

/// What a parser has read and not yet handed on.
pub(super) type Parsed = (Vec<Variant>, Vec<ParentedLevel>);

#[derive(Default)]
struct Records {
    lines: u64,
    objects: u64,
    variants: Vec<Variant>,
    levels: Vec<ParentedLevel>,
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

    /// Objects parsed and not yet taken.
    pub fn buffered(&self) -> usize {
        self.records.variants.len() + self.records.levels.len()
    }

    /// Hands on what was parsed so far.
    pub fn take(&mut self) -> Parsed {
        (
            std::mem::take(&mut self.records.variants),
            std::mem::take(&mut self.records.levels),
        )
    }

    /// Parses the last line (a file need not end with a newline) and hands on the rest.
    pub fn finish(mut self) -> Result<Parsed, LineError> {
        let last = std::mem::take(&mut self.pending);
        self.records.line(&last)?;
        Ok(self.take())
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
                self.levels.push(ParentedLevel {
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
        parse_in_pieces(text.as_bytes(), &[chunk])
    }

    /// Links each level to its parent's inventory item, as the catalogue store does
    /// once every line is in (tests of that linking: `db::catalog`).
    fn linked((variants, levels): Parsed) -> (Vec<Variant>, Vec<Level>) {
        let item_of = |parent: &str| {
            variants
                .iter()
                .find(|v| v.id == parent || v.inventory_item_id == parent)
                .map(|v| v.inventory_item_id.clone())
        };
        let levels = levels
            .into_iter()
            .map(|p| Level {
                inventory_item_id: item_of(&p.parent_id).unwrap_or_default(),
                ..p.level
            })
            .collect();
        (variants, levels)
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

        let strange = "{\"id\":\"x\"}\n";
        assert!(!parse_in_chunks(strange, 16).unwrap_err().retryable);
    }

    #[test]
    fn empty_file_is_an_empty_catalog() {
        assert_eq!(parse_in_chunks("", 1).unwrap(), (vec![], vec![]));
    }

    /// One variant line and its levels' lines, as Shopify writes them.
    fn variant_lines(
        i: usize,
        sku: Option<&str>,
        levels: &[(bool, u8, i64, bool)],
    ) -> (Vec<String>, Vec<(String, String, i64)>) {
        let id = format!("gid://shopify/ProductVariant/{i}");
        let item = format!("gid://shopify/InventoryItem/{}", 100 + i);
        let mut lines = vec![serde_json::json!({
            "id": id, "sku": sku, "updatedAt": "2026-03-01T00:00:00Z",
            "product": {"id": format!("gid://shopify/Product/{}", i / 2), "status": "ACTIVE", "tags": []},
            "inventoryItem": {"id": item, "tracked": !i.is_multiple_of(3)},
        })
        .to_string()];
        let mut expected = Vec::new();
        for &(by_item, location, available, dated) in levels {
            let location = format!("gid://shopify/Location/{location}");
            lines.push(
                serde_json::json!({
                    "updatedAt": dated.then_some("2026-03-02T00:00:00Z"),
                    "location": {"id": location},
                    "quantities": [{"name": "available", "quantity": available}],
                    "__parentId": if by_item { &item } else { &id },
                })
                .to_string(),
            );
            expected.push((item.clone(), location, available));
        }
        (lines, expected)
    }

    /// Splits `text` at the given sizes (cycled), parses it piece by piece, taking what
    /// was parsed after every other piece, and links the levels.
    fn parse_in_pieces(
        text: &[u8],
        sizes: &[usize],
    ) -> Result<(Vec<Variant>, Vec<Level>), LineError> {
        let mut parser = Parser::default();
        let (mut variants, mut levels) = (Vec::new(), Vec::new());
        let mut rest = text;
        for (i, size) in sizes.iter().cycle().enumerate() {
            if rest.is_empty() {
                break;
            }
            let (piece, more) = rest.split_at((*size).min(rest.len()));
            parser.feed(piece)?;
            if i % 2 == 1 {
                let (v, l) = parser.take();
                variants.extend(v);
                levels.extend(l);
            }
            rest = more;
        }
        let (v, l) = parser.finish()?;
        variants.extend(v);
        levels.extend(l);
        Ok(linked((variants, levels)))
    }

    /// The catalogue with the order of lines taken out: variants by id, levels by
    /// item, location and quantity.
    fn sorted(
        (mut variants, levels): (Vec<Variant>, Vec<Level>),
    ) -> (Vec<Variant>, Vec<(String, String, i64)>) {
        variants.sort_by(|a, b| a.id.cmp(&b.id));
        let mut levels: Vec<(String, String, i64)> = levels
            .iter()
            .map(|l| {
                let (item, location, available) = l.key();
                (item.to_string(), location.to_string(), available)
            })
            .collect();
        levels.sort();
        (variants, levels)
    }

    proptest::proptest! {
        /// Whatever order the lines come in (levels before their variant) and however
        /// the download is cut into chunks, the catalogue is the same, every level
        /// linked to its variant's inventory item; a file that cannot be read fails the
        /// same way at the same line whatever the chunks.
        #[test]
        fn line_order_and_chunks_never_change_the_catalogue(
            variants in proptest::collection::vec(
                (
                    proptest::option::of(proptest::sample::select(vec!["A-1", "a-1 ", "Ü\u{200B}", "\"q\"", ""])),
                    proptest::collection::vec(
                        (proptest::prelude::any::<bool>(), 0u8..3, -5i64..50, proptest::prelude::any::<bool>()),
                        0..3,
                    ),
                ),
                0..6,
            ),
            keys in proptest::collection::vec(proptest::prelude::any::<u32>(), 24),
            sizes in proptest::collection::vec(1usize..64, 1..8),
            crlf in proptest::prelude::any::<bool>(),
            final_newline in proptest::prelude::any::<bool>(),
            broken in proptest::option::of((proptest::prelude::any::<proptest::sample::Index>(), 0u8..3)),
        ) {
            let mut lines = Vec::new();
            let mut expected_levels = Vec::new();
            for (i, (sku, levels)) in variants.iter().enumerate() {
                let (more, levels) = variant_lines(i, *sku, levels);
                lines.extend(more);
                expected_levels.extend(levels);
            }
            let in_order = lines.clone();
            // Shuffled by the generated keys: children may come before their parent.
            let mut keyed: Vec<(u32, String)> = keys.iter().copied().zip(lines).collect();
            keyed.sort_by_key(|(k, _)| *k);
            let mut lines: Vec<String> = keyed.into_iter().map(|(_, l)| l).collect();
            lines.extend(in_order.into_iter().skip(24));
            if let Some((at, how)) = broken.filter(|_| !lines.is_empty()) {
                let i = at.index(lines.len());
                match how {
                    0 => {
                        let mut half = lines[i].len() / 2;
                        while !lines[i].is_char_boundary(half) {
                            half -= 1;
                        }
                        lines[i].truncate(half);
                    }
                    1 => lines[i] = r#"{"id":"gid://shopify/ProductVariant/99"}"#.into(),
                    _ => lines[i] = lines[i].replace("ProductVariant", "Elsewhere"),
                }
            }
            let newline = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(newline);
            if final_newline && !text.is_empty() {
                text.push_str(newline);
            }
            let whole = parse_in_pieces(text.as_bytes(), &[text.len().max(1)]);
            let pieces = parse_in_pieces(text.as_bytes(), &sizes);
            proptest::prop_assert_eq!(&pieces, &whole);
            if broken.is_none() {
                let (variants_read, levels) = sorted(whole.unwrap());
                proptest::prop_assert_eq!(variants_read.len(), variants.len());
                for (i, v) in variants_read.iter().enumerate() {
                    proptest::prop_assert_eq!(&v.sku.as_deref(), &variants[i].0);
                }
                expected_levels.sort();
                proptest::prop_assert_eq!(levels, expected_levels);
            }
        }
    }

    /// Bulk files of any content, cut anywhere, in chunks of any size: never a panic;
    /// the same answer whatever the chunks; an error names its line (within the file).
    #[test]
    #[ignore = "fuzzing: make fuzz"]
    fn fuzz_shopify_jsonl() {
        use crate::http::fuzz::{self, body, pick};
        let samples: Vec<serde_json::Value> = FILE
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        fuzz::run("shopify_jsonl", |rng, input| {
            let mut bytes = Vec::new();
            for _ in 0..rng.usize(0..12) {
                let sample = pick(rng, &samples);
                let line = if rng.u8(..3) == 0 {
                    body(rng, sample)
                } else {
                    sample.to_string().into_bytes()
                };
                bytes.extend(line);
                bytes.extend_from_slice(if rng.u8(..4) == 0 { b"\r\n" } else { b"\n" });
            }
            if rng.u8(..4) == 0 {
                bytes.truncate(rng.usize(..=bytes.len()));
            }
            *input = String::from_utf8_lossy(&bytes).into_owned();
            let lines = bytes.split(|b| *b == b'\n').count() as u64;
            let whole = parse_in_pieces(&bytes, &[bytes.len().max(1)]);
            let sizes: Vec<usize> = (0..rng.usize(1..6)).map(|_| rng.usize(1..80)).collect();
            let pieces = parse_in_pieces(&bytes, &sizes);
            if pieces != whole {
                return Err(format!("chunks {sizes:?} change the result"));
            }
            match whole {
                Err(e) if e.line == 0 || e.line > lines => {
                    Err(format!("error at line {} of {lines}", e.line))
                }
                Err(e) if e.message.is_empty() => Err("an error without a message".into()),
                Err(_) => Ok(()),
                Ok(_) => Ok(()),
            }
        });
    }
}
