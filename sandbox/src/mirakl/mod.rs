//! Mirakl's seller (shop) API (contract: shared/api/marketplaces.md §2), served under
//! `/mirakl` (clients use `{sandbox}/mirakl` as the operator URL; every path is under
//! `/mirakl/api/`): the raw shop API key, offset paging, per-operation call frequency
//! limits (429), offers (OF21) and their asynchronous export (OF52, OF53, OF54), stock
//! file imports (STO01, STO02, STO03), carriers (SH21), and orders (OR11, OR21, OR23,
//! OR24); plus the control routes under `/_sandbox/mirakl/` that tests and the demo
//! drive.
//!
//! One submodule per API area (`auth`, `offers`, `export`, `stock`, `orders`, `accept`,
//! `shipping`) contributes its routes; `error` holds the error shape, `limits` the
//! frequency limits, `money` the amounts, `csv` and `multipart` the file formats.

mod accept;
mod auth;
mod control;
mod csv;
mod error;
mod export;
mod limits;
mod money;
mod multipart;
mod offers;
mod orders;
mod shipping;
mod stock;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, SecondsFormat, SubsecRound, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::App;

pub use crate::money::Money;
pub use auth::ApiKey;
pub use limits::Limit;
pub use offers::FixtureOffer;
pub use orders::{FixtureAddress, FixtureCustomer, FixtureLine, FixtureOrder, OrderState};
pub use shipping::FixtureCarrier;

/// STO02 reads an import answers WAITING then RUNNING before it completes, by default.
const DEFAULT_STOCK_IMPORT_READS: u32 = 2;

/// The shop a sandbox serves, as read from the optional `mirakl.json` (absent file or
/// field: the default below).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MiraklFixture {
    pub shop_id: u64,
    pub shop_name: String,
    /// What every call sends, raw, in `Authorization`.
    pub api_key: ApiKey,
    pub currency_iso_code: String,
    /// When the shop was created, and when offers and orders without dates were last
    /// updated.
    pub updated_at: DateTime<Utc>,
    /// Minimum seconds between two calls of an operation, over the contract's defaults
    /// (STO01 60, STO02 15 per import, STO03 60, OF52_DIFFERENTIAL 60, OF52_FULL 86400);
    /// 0 lifts a limit. Keys: A01, OF21, OF52_FULL, OF52_DIFFERENTIAL, OF53, OF54, STO01,
    /// STO02, STO03, SH21, OR11, OR21, OR23, OR24.
    pub frequency_limits: BTreeMap<Limit, u64>,
    /// STO02 reads an import answers before it completes (WAITING, then RUNNING); 0
    /// completes it at the first read.
    pub stock_import_reads: u32,
    /// Accepted orders are debited at once (SHIPPING) instead of waiting in
    /// WAITING_DEBIT_PAYMENT for the control API's debit.
    pub auto_debit: bool,
    /// SH21's carriers; absent: an Australian list.
    pub carriers: Vec<FixtureCarrier>,
    pub offers: Vec<FixtureOffer>,
    pub orders: Vec<FixtureOrder>,
    /// The operator offers the asynchronous offer export (OF52-OF54); false: OF52
    /// answers 404, and OF21 is the only way to read offers.
    pub offer_export: bool,
}

fn default_updated_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid UTC instant")
}

/// Not derived: an absent file still has a shop, a key, limits and carriers.
impl Default for MiraklFixture {
    fn default() -> Self {
        Self {
            shop_id: 2001,
            shop_name: "Sandbox Shop".into(),
            api_key: ApiKey::new("mirakl-sandbox-key"),
            currency_iso_code: "AUD".into(),
            updated_at: default_updated_at(),
            frequency_limits: BTreeMap::new(),
            stock_import_reads: DEFAULT_STOCK_IMPORT_READS,
            auto_debit: false,
            carriers: shipping::default_carriers(),
            offers: Vec::new(),
            orders: Vec::new(),
            offer_export: true,
        }
    }
}

impl MiraklFixture {
    /// `skus` offers with shop SKUs `SKU-000001`... (the generated Shopify store's), no
    /// stock, no orders. Each offer allocates only its SKU.
    pub fn generate(skus: usize) -> Self {
        let price: Money = "29.95".parse().expect("a valid amount");
        Self {
            api_key: ApiKey::new("mirakl-bench-key"),
            offers: (1..=skus)
                .map(|i| FixtureOffer {
                    shop_sku: format!("SKU-{i:06}"),
                    offer_id: None,
                    product_sku: None,
                    product_title: None,
                    quantity: 0,
                    price,
                    active: true,
                    inactivity_reasons: Vec::new(),
                    state_code: None,
                    last_updated: None,
                })
                .collect(),
            ..Self::default()
        }
    }
}

pub struct MiraklState {
    shop: auth::Shop,
    limits: limits::Limits,
    offers: offers::Offers,
    exports: export::Exports,
    imports: stock::Imports,
    carriers: Vec<FixtureCarrier>,
    orders: orders::Orders,
    auto_debit: bool,
    offer_export: bool,
}

impl MiraklState {
    pub fn new(fixture: MiraklFixture) -> Self {
        let at = fixture.updated_at;
        let mut carriers = fixture.carriers;
        carriers.sort_by(|a, b| a.label.cmp(&b.label));
        let offers = offers::Offers::new(fixture.offers, at);
        let orders = orders::Orders::new(fixture.orders, &offers, &fixture.currency_iso_code, at);
        Self {
            shop: auth::Shop {
                id: fixture.shop_id,
                name: fixture.shop_name,
                api_key: fixture.api_key,
                currency_iso_code: fixture.currency_iso_code,
                date_created: at,
            },
            limits: limits::Limits::new(&fixture.frequency_limits),
            offers,
            exports: export::Exports::default(),
            imports: stock::Imports::new(fixture.stock_import_reads),
            carriers,
            orders,
            auto_debit: fixture.auto_debit,
            offer_export: fixture.offer_export,
        }
    }

    /// Offers, orders (as OR11 shows them), stock imports, exports and the tracking and
    /// ship calls, for tests and `/_sandbox/state`.
    pub fn dump(&self) -> Value {
        json!({
            "shop_id": self.shop.id,
            "offers": self.offers.dump(),
            "orders": self.orders.dump(),
            "imports": self.imports.dump(),
            "exports": self.exports.dump(),
            "shipping_calls": self.orders.dump_shipping_calls(),
        })
    }
}

/// Where the API is mounted: the sandbox's stand-in for an operator's instance.
const PREFIX: &str = "/mirakl";

/// Milliseconds, as the API shows them, so comparisons agree with what clients read.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// UNCONFIRMED: dates answer as RFC 3339 in UTC with milliseconds
/// (`2026-03-01T00:00:00.000Z`).
fn wire_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A date query parameter (ISO 8601 with an offset), or a 400 naming it.
fn parse_date(
    name: &str,
    value: Option<&str>,
) -> Result<Option<DateTime<Utc>>, error::MiraklError> {
    value
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| {
                    error::MiraklError::bad_request(format!(
                        "{name} must be an ISO 8601 date-time like 2026-03-01T00:00:00Z, got {text:?}"
                    ))
                })
        })
        .transpose()
}

/// UNCONFIRMED: a `max` above this is refused (400) rather than clamped, so a client
/// asking for more finds out here.
const MAX_PAGE_SIZE: usize = 100;
const DEFAULT_PAGE_SIZE: usize = 10;

/// Mirakl's offset paging: `max` items from `offset`.
struct Page {
    max: usize,
    offset: usize,
}

impl Page {
    fn parse(max: Option<&str>, offset: Option<&str>) -> Result<Self, error::MiraklError> {
        let number = |name: &str, text: Option<&str>, default: usize| {
            text.map_or(Ok(default), |t| {
                t.parse().map_err(|_| {
                    error::MiraklError::bad_request(format!(
                        "{name} must be a whole number, got {t:?}"
                    ))
                })
            })
        };
        let max = number("max", max, DEFAULT_PAGE_SIZE)?;
        if !(1..=MAX_PAGE_SIZE).contains(&max) {
            return Err(error::MiraklError::bad_request(format!(
                "max must be between 1 and {MAX_PAGE_SIZE}, got {max}"
            )));
        }
        Ok(Self {
            max,
            offset: number("offset", offset, 0)?,
        })
    }

    fn of<I: Iterator>(&self, rows: I) -> impl Iterator<Item = I::Item> {
        rows.skip(self.offset).take(self.max)
    }
}

/// The API routes (the fault middleware applies to them).
pub fn router() -> Router<Arc<App>> {
    auth::routes()
        .merge(offers::routes())
        .merge(export::routes())
        .merge(stock::routes())
        .merge(orders::routes())
        .merge(accept::routes())
        .merge(shipping::routes())
}

/// `/_sandbox/mirakl/*` and `/_sandbox/report/mirakl`.
pub fn control_router() -> Router<Arc<App>> {
    control::routes()
}

#[cfg(test)]
mod tests;
