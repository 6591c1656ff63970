//! Rendering for people: tables (comfy-table) and progress bars (indicatif, only on
//! a terminal; cron output stays quiet).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::stock::PlannedPush;
use crate::engine::unmatched;
use crate::engine::{ProgressSink, Reporter};

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
