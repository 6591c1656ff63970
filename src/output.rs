//! Rendering for people: tables (comfy-table) and progress bars (indicatif, only on
//! a terminal; cron output stays quiet).

use std::collections::BTreeMap;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::stock::PlannedPush;
use crate::engine::unmatched;
use crate::engine::{ProgressSink, Reporter};

/// A step's counts in one short phrase.
pub fn step_phrase(step: &str, c: &BTreeMap<String, i64>) -> String {
    let get = |k: &str| c.get(k).copied().unwrap_or(0);
    match step {
        "products" if c.contains_key("listings") => {
            let mut parts = vec![format!(
                "{} of {} listings matched",
                get("matched"),
                get("listings")
            )];
            parts.extend(nonzero(
                c,
                &[
                    ("unmatched", "unmatched"),
                    ("duplicate", "duplicate"),
                    ("untracked", "untracked"),
                    ("inactive", "inactive"),
                    ("no_sku", "without SKU"),
                    ("listings_changed", "changed"),
                ],
            ));
            parts.join(", ")
        }
        "products" => "not due".into(),
        "shopify_read" if c.contains_key("variants") => format!(
            "full read: {} variants, {} levels",
            get("variants"),
            get("levels")
        ),
        "shopify_read" if get("full") == 1 => "full read".into(),
        "shopify_read" => format!("{} levels changed", get("levels")),
        // A dry run planned pushes; a real pass made them.
        "stock" if c.contains_key("planned") && !c.contains_key("pushed") => {
            format!("{} to push", get("planned"))
        }
        "stock" => format!(
            "{} pushed, {} refused, {} failed{}",
            get("pushed"),
            get("refused"),
            get("failed"),
            if get("full") == 1 { " (reconcile)" } else { "" }
        ),
        "orders" => or_else(
            nonzero(
                c,
                &[
                    ("imported", "imported"),
                    ("adopted", "already in Shopify"),
                    ("held", "held"),
                    ("unreadable", "unreadable"),
                    ("failed", "refused by Shopify"),
                    ("waiting", "waiting"),
                    ("items_changed", "changed after import"),
                    ("cancelled", "cancelled"),
                    ("edited", "edited in Shopify"),
                ],
            ),
            "nothing new",
        ),
        "fulfilment" => or_else(
            nonzero(
                c,
                &[
                    ("pushed", "pushed"),
                    ("would push", "to push"),
                    ("failed", "failed"),
                    ("unknown", "outcome unknown"),
                ],
            ),
            "nothing to push",
        ),
        "email" => or_else(
            nonzero(c, &[("sent", "sent"), ("queued", "still queued")]),
            "nothing to send",
        ),
        // Steps this build does not describe: every count.
        _ => or_else(
            c.iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
                .collect(),
            "nothing to do",
        ),
    }
}

/// "N label" for each count above zero, in the order given.
fn nonzero(c: &BTreeMap<String, i64>, labels: &[(&str, &str)]) -> Vec<String> {
    labels
        .iter()
        .filter_map(|(k, label)| {
            c.get(*k)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {label}"))
        })
        .collect()
}

fn or_else(parts: Vec<String>, empty: &str) -> String {
    if parts.is_empty() {
        empty.to_string()
    } else {
        parts.join(", ")
    }
}

/// How a report is printed (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tables to read
    Table,
    /// For scripts: stable field names and codes, exact SKUs
    Json,
    /// For a spreadsheet: one row per record
    Csv,
}

/// The `--dry-run` plan, one table per channel.
pub fn plan_tables(plans: &[(String, Vec<PlannedPush>)]) -> String {
    let mut out = String::new();
    for (channel, pushes) in plans {
        if pushes.is_empty() {
            out.push_str(&format!("{channel}: no stock changes\n"));
            continue;
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "SKU",
            "Shopify available",
            "Reserve",
            "Channel now",
            "New",
        ]);
        for p in pushes {
            t.add_row(vec![
                unmatched::shown(&p.sku),
                p.shopify_available.to_string(),
                p.reserve.to_string(),
                p.channel_now.map_or("?".to_string(), |n| n.to_string()),
                p.new.to_string(),
            ]);
        }
        for col in 1..5 {
            if let Some(c) = t.column_mut(col) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&format!("{channel}: {} stock changes\n{t}\n", pushes.len()));
    }
    out
}

/// Progress bars on a terminal, nothing otherwise.
pub struct Progress {
    enabled: bool,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }
}

struct Bar(ProgressBar);

impl ProgressSink for Bar {
    fn set(&self, done: u64) {
        self.0.set_position(done);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

impl Reporter for Progress {
    fn progress(&self, label: &str) -> Box<dyn ProgressSink + '_> {
        let bar = if self.enabled {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}: {pos} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(label.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Box::new(Bar(bar))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmap(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn phrases() {
        let products = cmap(&[
            ("listings", 9),
            ("matched", 4),
            ("unmatched", 1),
            ("duplicate", 1),
            ("untracked", 1),
            ("inactive", 2),
            ("no_sku", 0),
        ]);
        assert_eq!(
            step_phrase("products", &products),
            "4 of 9 listings matched, 1 unmatched, 1 duplicate, 1 untracked, 2 inactive"
        );
        assert_eq!(step_phrase("products", &cmap(&[])), "not due");
        assert_eq!(
            step_phrase(
                "stock",
                &cmap(&[("pushed", 3), ("refused", 1), ("failed", 0), ("full", 1)])
            ),
            "3 pushed, 1 refused, 0 failed (reconcile)"
        );
        assert_eq!(
            step_phrase("orders", &cmap(&[("imported", 0)])),
            "nothing new"
        );
        assert_eq!(
            step_phrase(
                "orders",
                &cmap(&[("imported", 2), ("held", 1), ("failed", 1)])
            ),
            "2 imported, 1 held, 1 refused by Shopify"
        );
        assert_eq!(
            step_phrase(
                "shopify_read",
                &cmap(&[("full", 1), ("variants", 7), ("levels", 7)])
            ),
            "full read: 7 variants, 7 levels"
        );
        assert_eq!(
            step_phrase("shopify_read", &cmap(&[("full", 0), ("levels", 2)])),
            "2 levels changed"
        );
        assert_eq!(
            step_phrase("fulfilment", &cmap(&[("pushed", 2), ("failed", 1)])),
            "2 pushed, 1 failed"
        );
        assert_eq!(step_phrase("fulfilment", &cmap(&[])), "nothing to push");
        assert_eq!(step_phrase("stock", &cmap(&[("planned", 4)])), "4 to push");
        assert_eq!(
            step_phrase("later", &cmap(&[("a_b", 2), ("c", 0)])),
            "2 a b"
        );
    }

    #[test]
    fn dry_run_table_shows_unknown_channel_quantity() {
        let t = plan_tables(&[(
            "iconic".into(),
            vec![PlannedPush {
                product_id: "1".into(),
                sku: "S-1".into(),
                shopify_available: 10,
                reserve: 1,
                channel_now: None,
                new: 9,
            }],
        )]);
        assert!(t.starts_with("iconic: 1 stock changes\n"));
        assert!(
            t.contains("S-1") && t.contains(" ? ") && t.contains(" 9 "),
            "{t}"
        );
    }
}
