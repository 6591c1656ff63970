//! The shop's offers and OF21 (`GET /api/offers`), the paged list. Offers are kept small
//! (one SKU allocation shared with the index, rarely set fields boxed apart) so a
//! benchmark shop of a million offers stays cheap; deleted ones are kept, marked, for
//! differential exports.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Call;
use super::error::MiraklError;
use super::limits::Limit;
use super::money::wire_money;
use super::{wire_time, Page, PREFIX};
use crate::money::Money;
use crate::raw_json::Raw;
use crate::App;

/// Offer condition "New", the usual state code, unless the fixture says.
const DEFAULT_STATE_CODE: &str = "11";

/// UNCONFIRMED: an offer without stock is shown inactive for this reason (and so left
/// out of full exports that exclude inactive offers), whatever its own switch says.
const ZERO_QUANTITY: &str = "ZERO_QUANTITY";

/// An offer as written in `mirakl.json` (and posted to the control API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureOffer {
    /// The seller's SKU, which stock imports and order lines name.
    pub shop_sku: String,
    /// Absent: the next free id.
    pub offer_id: Option<u64>,
    /// Absent: the shop SKU.
    pub product_sku: Option<String>,
    /// Absent: the shop SKU.
    pub product_title: Option<String>,
    #[serde(default)]
    pub quantity: u32,
    #[serde(default)]
    pub price: Money,
    /// The offer's own switch (an offer without stock is inactive anyway).
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub inactivity_reasons: Vec<String>,
    pub state_code: Option<String>,
    /// Absent: the fixture's `updated_at` when loaded, now when posted.
    pub last_updated: Option<DateTime<Utc>>,
}

/// (SKU, status, quantity), as `crate::report` takes them.
type ReportRow = (String, String, Value);

fn yes() -> bool {
    true
}

/// What few offers have (a product SKU or title other than the shop SKU, another
/// state, reasons to be inactive), kept apart so that the usual offer stays small.
#[derive(Default)]
struct Details {
    product_sku: Option<String>,
    product_title: Option<String>,
    state_code: Option<String>,
    reasons: Vec<String>,
}

impl Details {
    fn boxed(self) -> Option<Box<Self>> {
        let none = self.product_sku.is_none()
            && self.product_title.is_none()
            && self.state_code.is_none()
            && self.reasons.is_empty();
        (!none).then(|| Box::new(self))
    }
}

pub(super) struct Offer {
    pub(super) offer_id: u64,
    pub(super) shop_sku: Arc<str>,
    pub(super) quantity: u32,
    pub(super) price: Money,
    pub(super) enabled: bool,
    details: Option<Box<Details>>,
    pub(super) last_updated: DateTime<Utc>,
    pub(super) deleted: Option<DateTime<Utc>>,
    /// The quantity as loaded (`None`: added since), for the report.
    initial_quantity: Option<u32>,
}

impl Offer {
    pub(super) fn active(&self) -> bool {
        self.enabled && self.quantity > 0
    }

    fn detail(&self, field: impl Fn(&Details) -> Option<&str>) -> Option<&str> {
        self.details.as_deref().and_then(field)
    }

    pub(super) fn product_sku(&self) -> &str {
        self.detail(|d| d.product_sku.as_deref())
            .unwrap_or(&self.shop_sku)
    }

    pub(super) fn product_title(&self) -> &str {
        self.detail(|d| d.product_title.as_deref())
            .unwrap_or(&self.shop_sku)
    }

    pub(super) fn state_code(&self) -> &str {
        self.detail(|d| d.state_code.as_deref())
            .unwrap_or(DEFAULT_STATE_CODE)
    }

    /// What the seller gives as reasons for switching the offer off.
    pub(super) fn set_reasons(&mut self, reasons: Vec<String>) {
        self.details.get_or_insert_with(Box::default).reasons = reasons;
    }

    fn inactivity_reasons(&self) -> Vec<&str> {
        let own = self.details.as_deref().map_or(&[][..], |d| &d.reasons[..]);
        let mut reasons: Vec<&str> = own.iter().map(String::as_str).collect();
        if self.quantity == 0 && !reasons.contains(&ZERO_QUANTITY) {
            reasons.push(ZERO_QUANTITY);
        }
        reasons
    }

    /// Stamps every change, so differential exports find it.
    pub(super) fn touch(&mut self, at: DateTime<Utc>) {
        self.last_updated = at;
    }

    /// Sets the quantity. UNCONFIRMED: the offer is stamped only if it changed, so a
    /// stock file repeating today's quantities adds nothing to differential exports.
    pub(super) fn set_quantity(&mut self, quantity: u32, at: DateTime<Utc>) {
        if quantity != self.quantity {
            self.quantity = quantity;
            self.touch(at);
        }
    }
}

/// OF21's offer: the fields the contract lists (JSON exports add theirs to it).
pub(super) fn offer_json(offer: &Offer) -> Value {
    json!({
        "offer_id": offer.offer_id,
        "shop_sku": &*offer.shop_sku,
        "product_sku": offer.product_sku(),
        "product_title": offer.product_title(),
        "quantity": offer.quantity,
        "price": wire_money(offer.price),
        "total_price": wire_money(offer.price),
        "active": offer.active(),
        "inactivity_reasons": offer.inactivity_reasons(),
        "state_code": offer.state_code(),
        "last_updated": wire_time(offer.last_updated),
    })
}

#[derive(Default)]
pub(super) struct Offers {
    /// Every offer ever held, deleted ones included, in the order added.
    rows: Vec<Offer>,
    /// The live offer of each SKU.
    by_sku: HashMap<Arc<str>, usize>,
    next_id: u64,
}

impl Offers {
    /// Loads fixture offers updated `at` unless they say otherwise; a clashing one is
    /// skipped with a warning.
    pub(super) fn new(offers: Vec<FixtureOffer>, at: DateTime<Utc>) -> Self {
        let mut book = Self {
            rows: Vec::with_capacity(offers.len()),
            by_sku: HashMap::with_capacity(offers.len()),
            next_id: 1,
        };
        for offer in offers {
            match book.add(offer, at) {
                Ok(i) => book.rows[i].initial_quantity = Some(book.rows[i].quantity),
                Err(error) => tracing::warn!(?error, "mirakl fixture: offer skipped"),
            }
        }
        book
    }

    /// Adds an offer; its position among the rows.
    pub(super) fn add(
        &mut self,
        offer: FixtureOffer,
        at: DateTime<Utc>,
    ) -> Result<usize, MiraklError> {
        let sku: Arc<str> = offer.shop_sku.into();
        if self.by_sku.contains_key(&sku) {
            return Err(MiraklError::conflict(format!(
                "an offer with shop_sku {sku:?} exists"
            )));
        }
        let offer_id = offer.offer_id.unwrap_or(self.next_id);
        // Only explicit ids can clash (a scan, but hand-written fixtures are small).
        if offer.offer_id.is_some() && self.rows.iter().any(|o| o.offer_id == offer_id) {
            return Err(MiraklError::conflict(format!("offer {offer_id} exists")));
        }
        self.next_id = self.next_id.max(offer_id + 1);
        self.by_sku.insert(sku.clone(), self.rows.len());
        self.rows.push(Offer {
            offer_id,
            shop_sku: sku,
            quantity: offer.quantity,
            price: offer.price,
            enabled: offer.active,
            details: Details {
                product_sku: offer.product_sku,
                product_title: offer.product_title,
                state_code: offer.state_code,
                reasons: offer.inactivity_reasons,
            }
            .boxed(),
            last_updated: offer.last_updated.unwrap_or(at),
            deleted: None,
            initial_quantity: None,
        });
        Ok(self.rows.len() - 1)
    }

    /// The live offer with this shop SKU.
    pub(super) fn get(&self, sku: &str) -> Option<&Offer> {
        self.by_sku.get(sku).map(|&i| &self.rows[i])
    }

    pub(super) fn get_mut(&mut self, sku: &str) -> Result<&mut Offer, MiraklError> {
        match self.by_sku.get(sku) {
            Some(&i) => Ok(&mut self.rows[i]),
            None => Err(MiraklError::not_found(format!("offer {sku:?} not found"))),
        }
    }

    /// The offer leaves the shop (kept, marked, for differential exports).
    pub(super) fn delete(&mut self, sku: &str, at: DateTime<Utc>) -> Result<(), MiraklError> {
        self.get_mut(sku)?;
        let i = self.by_sku.remove(sku).expect("found above");
        self.rows[i].deleted = Some(at);
        self.rows[i].touch(at);
        Ok(())
    }

    /// Every offer ever held, deleted ones included.
    pub(super) fn all(&self) -> &[Offer] {
        &self.rows
    }

    pub(super) fn live(&self) -> impl Iterator<Item = &Offer> {
        self.rows.iter().filter(|o| o.deleted.is_none())
    }

    pub(super) fn dump(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|o| {
                json!({"shop_sku": &*o.shop_sku, "offer_id": o.offer_id,
                    "quantity": o.quantity, "active": o.active(),
                    "last_updated": wire_time(o.last_updated),
                    "deleted": o.deleted.is_some()})
            })
            .collect();
        json!(rows)
    }

    /// (SKU, status, quantity) of the offers added, deleted or whose quantity changed
    /// since the sandbox started, and the same rows as loaded: what the report shows.
    pub(super) fn changes(&self) -> (Vec<ReportRow>, Vec<ReportRow>) {
        let changed = self
            .rows
            .iter()
            .filter(|o| o.deleted.is_some() || o.initial_quantity != Some(o.quantity));
        let (mut was, mut now) = (Vec::new(), Vec::new());
        for o in changed {
            let status = match (o.deleted, o.active()) {
                (Some(_), _) => "deleted",
                (None, true) => "active",
                (None, false) => "inactive",
            };
            if let Some(q) = o.initial_quantity {
                was.push((o.shop_sku.to_string(), String::new(), json!(q)));
            }
            now.push((
                o.shop_sku.to_string(),
                status.to_string(),
                json!(o.quantity),
            ));
        }
        (was, now)
    }
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new().route(&format!("{PREFIX}/api/offers"), get(list))
}

#[derive(Deserialize)]
struct ListParams {
    max: Option<String>,
    offset: Option<String>,
    sku: Option<String>,
    product_id: Option<String>,
    offer_state_codes: Option<String>,
    sort: Option<String>,
}

/// OF21: the shop's live offers (active or not), in the order they were added; `sku`
/// (shop SKU), `product_id` (product SKU) and `offer_state_codes` (comma list) filter.
async fn list(call: Call, State(app): State<Arc<App>>) -> Result<Raw, MiraklError> {
    call.admit(&app, "OF21", Limit::Of21, "")?;
    let params: ListParams = call.query()?;
    let page = Page::parse(params.max.as_deref(), params.offset.as_deref())?;
    if params.sort.is_some() {
        return Err(MiraklError::bad_request("the sandbox does not sort offers"));
    }
    let states: Option<Vec<&str>> = params
        .offer_state_codes
        .as_deref()
        .map(|s| s.split(',').collect());
    let state = app.mirakl.lock().unwrap();
    let wanted = |o: &&Offer| {
        params
            .product_id
            .as_deref()
            .is_none_or(|p| o.product_sku() == p)
            && states.as_ref().is_none_or(|s| s.contains(&o.state_code()))
    };
    // Walked twice (count, then page) rather than collected: a million offers.
    let matching = || -> Box<dyn Iterator<Item = &Offer> + '_> {
        match params.sku.as_deref() {
            Some(sku) => Box::new(state.offers.get(sku).into_iter().filter(wanted)),
            None => Box::new(state.offers.live().filter(wanted)),
        }
    };
    let offers: Vec<Value> = page.of(matching()).map(offer_json).collect();
    Ok(Raw(
        json!({"offers": offers, "total_count": matching().count()}),
    ))
}
