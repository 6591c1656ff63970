//! `skubridge doctor`: the troubleshooting checklist, automated. Each check is one
//! PASS / WARN / FAIL line with the fix; reads only (one cheap call per service), except
//! the optional test email.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use serde::Serialize;

use super::fulfilment::{carrier_for, Known};
use super::pass::Pause;
use super::unmatched;
use super::{ChannelHandle, Engine};
use crate::channel::ChannelError;
use crate::db::{catalog, orders as ledger, DbError};
use crate::notify;
use crate::shopify::orders::term;
use crate::shopify::ShopifyError;

/// How far back fulfilments are checked for unmapped carriers and bad tracking numbers.
const RECENT: Duration = Duration::days(7);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub verdict: Verdict,
    /// What was checked, e.g. "Shopify credentials".
    pub name: String,
    /// What was found.
    pub detail: String,
    /// What to do (empty when it passed).
    pub fix: String,
}

fn check(verdict: Verdict, name: impl Into<String>, detail: impl Into<String>, fix: &str) -> Check {
    Check {
        verdict,
        name: name.into(),
        detail: detail.into(),
        fix: fix.to_string(),
    }
}

fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
    check(Verdict::Pass, name, detail, "")
}

impl Engine<'_> {
    /// Runs every check, in the order a person would troubleshoot.
    pub async fn doctor(&self, config_warnings: &[String], send_test_email: bool) -> Vec<Check> {
        let mut out = vec![self.config_check(config_warnings)];
        out.push(self.database_check());
        let shopify_ok = self.shopify_checks(&mut out).await;
        for ch in &self.channels {
            self.channel_checks(ch, shopify_ok, &mut out).await;
        }
        out.push(self.catalog_check());
        out.push(self.email_check(send_test_email).await);
        out
    }

    fn config_check(&self, warnings: &[String]) -> Check {
        if warnings.is_empty() {
            pass("configuration", "valid")
        } else {
            check(
                Verdict::Warn,
                "configuration",
                warnings.join("; "),
                "see the warning",
            )
        }
    }

    fn database_check(&self) -> Check {
        const NAME: &str = "database integrity";
        let path = self.db.path().display().to_string();
        let result: Result<String, _> = self
            .db
            .read(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)));
        match result {
            Ok(ok) if ok == "ok" => pass(NAME, path),
            // Damage SQLite can still describe, or cannot read past.
            Ok(problem) => check(
                Verdict::Fail,
                NAME,
                format!("{path}: {problem}"),
                &crate::db::way_back(&path),
            ),
            Err(DbError::Unusable { reason, .. }) => check(
                Verdict::Fail,
                NAME,
                format!("{path}: {reason}"),
                &crate::db::way_back(&path),
            ),
            Err(e) => check(
                Verdict::Fail,
                NAME,
                e.to_string(),
                "check the file's permissions and disk space",
            ),
        }
    }

    /// Credentials and locations; false when Shopify cannot be reached at all.
    async fn shopify_checks(&self, out: &mut Vec<Check>) -> bool {
        match self.shopify.shop().await {
            Ok(shop) => out.push(pass(
                "Shopify credentials",
                format!("{} ({})", shop.name, shop.myshopify_domain),
            )),
            Err(e) => {
                // An unreachable host and a refused token need different fixes.
                let fix = match e {
                    ShopifyError::Transport { .. } | ShopifyError::Http { .. } => {
                        "check shopify.shop (or shopify.endpoint) and this machine's network; run doctor again"
                    }
                    _ => "check shopify.access_token (or client_id/client_secret) and the app's scopes",
                };
                out.push(check(
                    Verdict::Fail,
                    "Shopify credentials",
                    e.to_string(),
                    fix,
                ));
                return false;
            }
        }
        match self.shopify.locations().await {
            Ok(locations) => {
                let wanted = &self.cfg.shopify.locations;
                let missing: Vec<&String> = wanted
                    .iter()
                    .filter(|w| !locations.iter().any(|l| &l.id == *w))
                    .collect();
                let inactive: Vec<String> = locations
                    .iter()
                    .filter(|l| wanted.contains(&l.id) && !l.is_active)
                    .map(|l| format!("{} ({})", l.name, l.id))
                    .collect();
                let known = || {
                    locations
                        .iter()
                        .map(|l| format!("{} ({})", l.name, l.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                out.push(if !missing.is_empty() {
                    check(
                        Verdict::Fail,
                        "Shopify locations",
                        format!("not in the store: {} (it has: {})", join(&missing), known()),
                        "fix shopify.locations",
                    )
                } else if !inactive.is_empty() {
                    check(
                        Verdict::Warn,
                        "Shopify locations",
                        format!("configured but inactive: {}", inactive.join(", ")),
                        "remove them from shopify.locations or reactivate them in Shopify",
                    )
                } else if wanted.is_empty() {
                    pass(
                        "Shopify locations",
                        format!("every active location counts: {}", known()),
                    )
                } else {
                    pass(
                        "Shopify locations",
                        format!("{} configured, all active", wanted.len()),
                    )
                });
            }
            Err(e) => out.push(check(
                Verdict::Fail,
                "Shopify locations",
                e.to_string(),
                "check the app's read_locations scope",
            )),
        }
        true
    }

    async fn channel_checks(&self, ch: &ChannelHandle<'_>, shopify_ok: bool, out: &mut Vec<Check>) {
        let name = ch.name();
        out.push(self.pause_check(ch));
        match ch.client.check_credentials().await {
            Ok(what) => {
                out.push(pass(format!("{name} credentials"), what));
                if shopify_ok {
                    out.extend(self.fulfilment_checks(ch).await);
                }
            }
            Err(e) => {
                let fix = match &e {
                    ChannelError::Unauthorized(_) => {
                        "fix the channel's credentials in skubridge.toml (the message says which)"
                    }
                    ChannelError::Unavailable { .. } => {
                        "check the channel's endpoint and this machine's network; run doctor again"
                    }
                    _ => "check the channel's endpoint and credentials in skubridge.toml",
                };
                out.push(check(
                    Verdict::Fail,
                    format!("{name} credentials"),
                    e.to_string(),
                    fix,
                ));
            }
        }
        if shopify_ok {
            out.push(self.history_check(ch).await);
        }
        out.extend(self.order_checks(name));
    }

    /// Whether passes include the channel.
    fn pause_check(&self, ch: &ChannelHandle<'_>) -> Check {
        let label = format!("{} in passes", ch.name());
        match self.pause_of(ch) {
            Ok(None) => pass(label, "yes"),
            Ok(Some(pause @ Pause::Resetting(_))) => check(
                Verdict::Warn,
                label,
                pause.reason(ch.name()),
                "nothing: it rejoins when `reset-products` ends",
            ),
            Ok(Some(pause @ Pause::EnvironmentChanged)) => check(
                Verdict::Fail,
                label,
                pause.reason(ch.name()),
                "confirm the config points at the right account, then reset its products",
            ),
            Err(e) => check(Verdict::Fail, label, format!("{e:#}"), "check the database"),
        }
    }

    /// Where order imports start, and whether the next pass recovers a lost history.
    async fn history_check(&self, ch: &ChannelHandle<'_>) -> Check {
        let name = ch.name();
        let label = format!("{name} order history");
        if let Some(t) = ch.cfg.import_orders_since {
            return pass(
                label,
                format!(
                    "importing orders created since {} (import_orders_since)",
                    crate::clock::rfc3339(t)
                ),
            );
        }
        match self.recorded_import_start(name) {
            Ok(Some(t)) => {
                return pass(
                    label,
                    format!(
                        "importing orders created since {}",
                        crate::clock::rfc3339(t)
                    ),
                )
            }
            Ok(None) => {}
            Err(e) => return check(Verdict::Fail, label, format!("{e:#}"), "check the database"),
        }
        match self.first_import(name).await {
            Ok(None) => pass(label, "none yet: the next sync imports orders created from then on"),
            Ok(Some(first)) => check(
                Verdict::Warn,
                label,
                format!(
                    "this database has none, but Shopify holds orders skubridge imported from {name} (the first is {})",
                    first.name
                ),
                "nothing to do: the next `skubridge sync` recovers (adopts what is in Shopify, imports what is pending, pushes fulfilments owed) and emails what it did",
            ),
            Err(e) => check(Verdict::Warn, label, format!("{e:#}"), "run it again later"),
        }
    }

    /// Carriers with no mapping, and tracking numbers the channel would refuse, among
    /// the last week's fulfilments of this channel's orders.
    async fn fulfilment_checks(&self, ch: &ChannelHandle<'_>) -> Vec<Check> {
        let name = ch.name();
        // Without the channel's list, the configured carriers are all there is.
        let source = ch.client.capabilities().carriers;
        let list = match source {
            crate::channel::CarrierList::Listed { .. } => ch.client.carriers().await.ok(),
            crate::channel::CarrierList::ConfigOnly => None,
        };
        let known = Known::of(source, list.as_deref());
        let since = (self.clock.now() - RECENT).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let query = format!(
            "{} AND updated_at:>'{since}' AND (fulfillment_status:shipped OR fulfillment_status:partial)",
            term("tag", name)
        );
        let orders = match self.shopify.fulfilled_orders(&query).await {
            Ok(o) => o,
            Err(e) => {
                return vec![check(
                    Verdict::Warn,
                    format!("{name} recent fulfilments"),
                    e.to_string(),
                    "run it again later",
                )]
            }
        };
        let carriers = &ch.cfg.carriers;
        let mut unmapped: BTreeMap<String, usize> = BTreeMap::new();
        let mut bad_tracking = Vec::new();
        let mut count = 0;
        for o in &orders {
            for f in o.fulfillments.iter().filter(|f| f.status == "SUCCESS") {
                count += 1;
                if let Some(company) = f.company.as_deref().filter(|c| !c.trim().is_empty()) {
                    if carrier_for(company.trim(), carriers, known, name).is_err() {
                        *unmapped.entry(company.to_string()).or_default() += 1;
                    }
                }
                if let Some(problem) = f
                    .number
                    .as_deref()
                    .and_then(|n| ch.client.tracking_number_problem(n.trim()))
                {
                    bad_tracking.push(format!("{}: {problem}", o.name));
                }
            }
        }
        let carriers_check = if unmapped.is_empty() {
            pass(
                format!("{name} carriers"),
                format!(
                    "every carrier of {count} fulfilments in the last 7 days maps to one {name} accepts"
                ),
            )
        } else {
            let list: Vec<String> = unmapped
                .iter()
                .map(|(c, n)| format!("{c:?} ({n})"))
                .collect();
            check(
                Verdict::Warn,
                format!("{name} carriers"),
                format!("not known to {name}: {}", list.join(", ")),
                "add each under [channel.carriers] as \"<Shopify carrier>\" = \"<the channel's carrier>\"",
            )
        };
        let tracking_check = if bad_tracking.is_empty() {
            pass(
                format!("{name} tracking numbers"),
                "none with characters the channel refuses",
            )
        } else {
            check(
                Verdict::Warn,
                format!("{name} tracking numbers"),
                bad_tracking.join("; "),
                "edit the tracking numbers in Shopify (letters, digits and '-' only, no spaces)",
            )
        };
        vec![carriers_check, tracking_check]
    }

    /// Orders edited in Shopify after import, and orders another install imported.
    fn order_checks(&self, name: &str) -> Vec<Check> {
        let rows = match ledger::list(
            self.db,
            &ledger::Filter {
                channel: Some(name),
                ..Default::default()
            },
        ) {
            Ok(rows) => rows,
            Err(e) => {
                return vec![check(
                    Verdict::Fail,
                    format!("{name} orders"),
                    e.to_string(),
                    "check the database",
                )]
            }
        };
        let edited: Vec<&str> = rows
            .iter()
            .filter(|r| r.edited_at.is_some())
            .map(|r| r.number.as_str())
            .collect();
        let adopted: Vec<&str> = rows
            .iter()
            .filter(|r| r.adopted)
            .map(|r| r.number.as_str())
            .collect();
        vec![
            if edited.is_empty() {
                pass(
                    format!("{name} orders edited in Shopify"),
                    "none since import",
                )
            } else {
                check(
                    Verdict::Warn,
                    format!("{name} orders edited in Shopify"),
                    format!("{} edited after import: {}", edited.len(), edited.join(", ")),
                    "make sure the channel ships what its order says, or cancel the missing items there",
                )
            },
            if adopted.is_empty() {
                pass(format!("{name} orders from another install"), "none")
            } else {
                check(
                    Verdict::Warn,
                    format!("{name} orders from another install"),
                    format!(
                        "{} found already in Shopify: {}",
                        adopted.len(),
                        adopted.join(", ")
                    ),
                    "if another skubridge imports this channel into this store, stop one of them",
                )
            },
        ]
    }

    /// Duplicate and empty Shopify SKUs, and listings that do not sync, from the last
    /// product sync.
    fn catalog_check(&self) -> Check {
        let variants = match catalog::variants(self.db) {
            Ok(v) => v,
            Err(e) => return check(Verdict::Fail, "SKUs", e.to_string(), "check the database"),
        };
        if variants.is_empty() {
            return check(
                Verdict::Warn,
                "SKUs",
                "no product sync yet",
                "run `skubridge sync`",
            );
        }
        let mut listings = Vec::new();
        for c in &self.cfg.channels {
            listings.push((
                c.name.as_str(),
                catalog::listings(self.db, &c.name).unwrap_or_default(),
            ));
        }
        let channels: Vec<(&str, &[crate::channel::Listing])> =
            listings.iter().map(|(n, l)| (*n, l.as_slice())).collect();
        let report = unmatched::report(&variants, &channels);
        let skus: BTreeSet<&str> = report
            .variants
            .iter()
            .filter_map(|v| v.sku.as_deref())
            .collect();
        let empty = report
            .variants
            .iter()
            .filter(|v| v.sku.as_deref().is_none_or(str::is_empty))
            .count();
        let detail = format!(
            "{} listings do not sync; {} duplicate Shopify SKUs, {empty} variants without a SKU",
            report.listings.len(),
            skus.len()
        );
        if report.listings.is_empty() && report.variants.is_empty() {
            pass(
                "SKUs",
                format!("{} variants, every active listing matched", variants.len()),
            )
        } else {
            check(
                Verdict::Warn,
                "SKUs",
                detail,
                "`skubridge unmatched` lists each one with the reason and near misses",
            )
        }
    }

    async fn email_check(&self, send_test_email: bool) -> Check {
        match notify::check(&self.cfg.notify, &self.cfg.shopify.shop).await {
            Err(e) => check(
                Verdict::Fail,
                "email",
                e,
                "fix [notify] (smtp_url, from, to)",
            ),
            Ok(what) if !send_test_email => pass("email", what),
            Ok(what) => {
                let queued = notify::queue_message(
                    self.db,
                    self.clock.now(),
                    "test",
                    "Test email from skubridge doctor",
                    "This is a test: skubridge can reach you. Problems that need a person (orders held, fulfilment errors, listings that do not sync) arrive like this.",
                );
                if let Err(e) = queued {
                    return check(Verdict::Fail, "email", e.to_string(), "check the database");
                }
                let outcome = notify::flush(
                    self.db,
                    &self.cfg.notify,
                    &self.cfg.shopify.shop,
                    self.clock.now(),
                    tokio::time::Instant::now() + self.cfg.notify.timeout * 3,
                )
                .await;
                match outcome.error {
                    None => pass(
                        "email",
                        format!(
                            "{what}; test email sent to {}",
                            self.cfg.notify.to.join(", ")
                        ),
                    ),
                    Some(e) => check(
                        Verdict::Fail,
                        "email",
                        e,
                        "fix [notify]; the email stays queued for the next pass",
                    ),
                }
            }
        }
    }
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
