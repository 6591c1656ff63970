//! Orders and OR11 (`GET /api/orders`, filtered and paged). `accept` (OR21) and
//! `shipping` (OR23, OR24) move them on; the control API adds them, debits them,
//! cancels and refunds lines and opens incidents behind the API's back.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::auth::Call;
use super::error::MiraklError;
use super::limits::Limit;
use super::money::wire_money;
use super::offers::Offers;
use super::{parse_date, wire_time, Page, PREFIX};
use crate::money::Money;
use crate::raw_json::Raw;
use crate::App;

/// UNCONFIRMED: how far before `start_update_date` OR11 looks ("Mirakl will subtract a
/// time delta to ensure no orders are missed"), so clients see overlap and must dedupe.
const UPDATE_DATE_OVERLAP: TimeDelta = TimeDelta::minutes(5);

/// UNCONFIRMED: OR11's direction when `order` is absent: newest first.
const DEFAULT_ORDER: Direction = Direction::Desc;

/// OR11 refuses longer id lists (documented, and reported with this message).
const MAX_ORDER_IDS: usize = 100;

/// Days from an order's creation to its shipping deadline.
const SHIPPING_DAYS: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Asc,
    Desc,
}

/// Order and order line states (OR11's `order_state_codes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderState {
    Staging,
    #[default]
    WaitingAcceptance,
    WaitingDebit,
    WaitingDebitPayment,
    Shipping,
    Shipped,
    ToCollect,
    Received,
    Closed,
    Refused,
    Canceled,
}

impl OrderState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Staging => "STAGING",
            Self::WaitingAcceptance => "WAITING_ACCEPTANCE",
            Self::WaitingDebit => "WAITING_DEBIT",
            Self::WaitingDebitPayment => "WAITING_DEBIT_PAYMENT",
            Self::Shipping => "SHIPPING",
            Self::Shipped => "SHIPPED",
            Self::ToCollect => "TO_COLLECT",
            Self::Received => "RECEIVED",
            Self::Closed => "CLOSED",
            Self::Refused => "REFUSED",
            Self::Canceled => "CANCELED",
        }
    }

    /// A line that ended this way keeps its state when the order moves on.
    fn is_final_for_line(self) -> bool {
        matches!(self, Self::Refused | Self::Canceled)
    }
}

/// An order as written in `mirakl.json` (and posted to the control API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureOrder {
    /// Mirakl's order id, e.g. `1001-A`.
    pub order_id: String,
    /// Absent: the order id up to its last `-`.
    pub commercial_id: Option<String>,
    #[serde(default)]
    pub state: OrderState,
    /// Absent: the fixture's `updated_at` when loaded, now when posted.
    pub created_date: Option<DateTime<Utc>>,
    /// Absent: `created_date`.
    pub last_updated_date: Option<DateTime<Utc>>,
    /// Absent: the shop's currency.
    pub currency_iso_code: Option<String>,
    /// Absent: a Sydney customer.
    pub customer: Option<FixtureCustomer>,
    #[serde(default)]
    pub has_incident: bool,
    pub lines: Vec<FixtureLine>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureLine {
    /// Absent: `{order_id}-{n}`, n counting from 1.
    pub id: Option<String>,
    pub offer_sku: String,
    pub quantity: NonZeroU32,
    pub unit_price: Money,
    #[serde(default)]
    pub shipping_price: Money,
    /// Absent: the offer's, else the SKU.
    pub product_title: Option<String>,
    /// Absent: the order's state.
    pub state: Option<OrderState>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureCustomer {
    pub firstname: String,
    pub lastname: String,
    pub shipping_address: FixtureAddress,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureAddress {
    pub firstname: String,
    pub lastname: String,
    pub company: Option<String>,
    pub street_1: String,
    pub street_2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub zip_code: String,
    pub country: String,
    pub country_iso_code: String,
    pub phone: Option<String>,
}

fn sydney() -> FixtureCustomer {
    FixtureCustomer {
        firstname: "Ada".into(),
        lastname: "Lovelace".into(),
        shipping_address: FixtureAddress {
            firstname: "Ada".into(),
            lastname: "Lovelace".into(),
            company: None,
            street_1: "1 Harbour Street".into(),
            street_2: None,
            city: "Sydney".into(),
            state: Some("NSW".into()),
            zip_code: "2000".into(),
            country: "Australia".into(),
            country_iso_code: "AUS".into(),
            phone: None,
        },
    }
}

/// What the control API does to a line: cancel it or refund it.
#[derive(Debug, Clone, Copy)]
pub(super) enum LineAction {
    Cancel,
    Refund,
}

/// A cancelation or a refund of (part of) a line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Adjustment {
    /// Absent: the line's whole price.
    pub(super) amount: Option<Money>,
    #[serde(default)]
    pub(super) shipping_amount: Money,
    /// Absent: the line's quantity.
    pub(super) quantity: Option<u32>,
    #[serde(default = "default_reason")]
    pub(super) reason_code: String,
}

fn default_reason() -> String {
    "SANDBOX".into()
}

/// Where the parcel went, as OR23 recorded it.
#[derive(Debug, Clone, Default)]
pub(super) struct Tracking {
    pub(super) carrier_code: Option<String>,
    pub(super) company: Option<String>,
    pub(super) number: Option<String>,
    pub(super) url: Option<String>,
}

pub(super) struct Line {
    pub(super) id: String,
    index: usize,
    pub(super) state: OrderState,
    offer_sku: String,
    offer_id: u64,
    product_sku: String,
    product_title: String,
    quantity: u32,
    unit_price: Money,
    shipping_price: Money,
    cancelations: Vec<Value>,
    refunds: Vec<Value>,
    shipped_date: Option<DateTime<Utc>>,
}

impl Line {
    fn price(&self) -> Money {
        self.unit_price * self.quantity
    }
}

pub(super) struct Order {
    pub(super) id: String,
    commercial_id: String,
    pub(super) state: OrderState,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    acceptance_decision_date: Option<DateTime<Utc>>,
    currency: String,
    customer: FixtureCustomer,
    has_incident: bool,
    pub(super) lines: Vec<Line>,
    pub(super) tracking: Tracking,
}

impl Order {
    /// Stamps every change (API calls and control changes alike).
    pub(super) fn touch(&mut self, at: DateTime<Utc>) {
        self.updated = at;
    }

    /// The order, and every line not refused or canceled, move to `state`.
    pub(super) fn set_state(&mut self, state: OrderState, at: DateTime<Utc>) {
        self.state = state;
        for line in &mut self.lines {
            if !line.state.is_final_for_line() {
                line.state = state;
                if state == OrderState::Shipped {
                    line.shipped_date = Some(at);
                }
            }
        }
        self.touch(at);
    }

    /// OR21's decisions, already checked to name every line once: accepted lines wait
    /// for the debit, refused ones end; an order with none accepted is refused.
    pub(super) fn decide(
        &mut self,
        accepted: &[(String, bool)],
        next: OrderState,
        at: DateTime<Utc>,
    ) {
        for line in &mut self.lines {
            let yes = accepted.iter().any(|(id, a)| *id == line.id && *a);
            line.state = if yes { next } else { OrderState::Refused };
        }
        let any = self.lines.iter().any(|l| l.state == next);
        self.state = if any { next } else { OrderState::Refused };
        self.acceptance_decision_date = Some(at);
        self.touch(at);
    }

    fn line_mut(&mut self, id: &str) -> Result<&mut Line, MiraklError> {
        self.lines
            .iter_mut()
            .find(|l| l.id == id)
            .ok_or_else(|| MiraklError::not_found(format!("order line {id} not found")))
    }

    /// Cancels a line (CANCELED; an order whose every line is canceled is too) or
    /// records a refund on it (its state is unchanged).
    pub(super) fn adjust(
        &mut self,
        line_id: &str,
        action: LineAction,
        adjustment: Adjustment,
        at: DateTime<Utc>,
    ) -> Result<(), MiraklError> {
        let line = self.line_mut(line_id)?;
        match action {
            LineAction::Cancel => {
                let record = adjustment_json(line, &adjustment, "cancelation", at);
                line.cancelations.push(record);
                line.state = OrderState::Canceled;
                if self.lines.iter().all(|l| l.state == OrderState::Canceled) {
                    self.state = OrderState::Canceled;
                }
            }
            LineAction::Refund => {
                let mut record = adjustment_json(line, &adjustment, "refund", at);
                record["state"] = json!("REFUNDED");
                line.refunds.push(record);
            }
        }
        self.touch(at);
        Ok(())
    }

    pub(super) fn set_incident(&mut self, open: bool, at: DateTime<Utc>) {
        self.has_incident = open;
        self.touch(at);
    }
}

fn adjustment_json(line: &Line, a: &Adjustment, kind: &str, at: DateTime<Utc>) -> Value {
    let n = line.cancelations.len() + line.refunds.len() + 1;
    json!({
        "id": format!("{}-{kind}-{n}", line.id),
        "amount": wire_money(a.amount.unwrap_or(line.price())),
        "shipping_amount": wire_money(a.shipping_amount),
        "quantity": a.quantity.unwrap_or(line.quantity),
        "reason_code": a.reason_code,
        "created_date": wire_time(at),
    })
}

/// OR11's order. Amounts are sums over every line: `price` of line prices (unit price ×
/// quantity), `shipping_price` of line shipping, `total_price` of both.
pub(super) fn order_json(order: &Order) -> Value {
    let price: Money = order.lines.iter().map(Line::price).sum();
    let shipping: Money = order.lines.iter().map(|l| l.shipping_price).sum();
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            json!({
                "order_line_id": l.id,
                "order_line_index": l.index,
                "order_line_state": l.state,
                "offer_id": l.offer_id,
                "offer_sku": l.offer_sku,
                "product_sku": l.product_sku,
                "product_title": l.product_title,
                "quantity": l.quantity,
                "price": wire_money(l.price()),
                "price_unit": wire_money(l.unit_price),
                "origin_unit_price": wire_money(l.unit_price),
                "shipping_price": wire_money(l.shipping_price),
                "total_price": wire_money(l.price() + l.shipping_price),
                "commission_fee": wire_money(Money::ZERO),
                "taxes": [],
                "shipping_taxes": [],
                "cancelations": l.cancelations,
                "refunds": l.refunds,
                "created_date": wire_time(order.created),
                "shipped_date": l.shipped_date.map(wire_time),
            })
        })
        .collect();
    let deadline = order.created + TimeDelta::days(SHIPPING_DAYS);
    json!({
        "order_id": order.id,
        "commercial_id": order.commercial_id,
        "order_state": order.state,
        "order_state_reason_code": null,
        "created_date": wire_time(order.created),
        "last_updated_date": wire_time(order.updated),
        "acceptance_decision_date": order.acceptance_decision_date.map(wire_time),
        "currency_iso_code": order.currency,
        "price": wire_money(price),
        "shipping_price": wire_money(shipping),
        "total_price": wire_money(price + shipping),
        "total_commission": wire_money(Money::ZERO),
        "shipping_carrier_code": order.tracking.carrier_code,
        "shipping_company": order.tracking.company,
        "shipping_tracking": order.tracking.number,
        "shipping_tracking_url": order.tracking.url,
        "shipping_type_code": "STD",
        "shipping_deadline": wire_time(deadline),
        "customer": {
            "customer_id": format!("customer-{}", order.commercial_id),
            "firstname": order.customer.firstname,
            "lastname": order.customer.lastname,
            "billing_address": order.customer.shipping_address,
            "shipping_address": order.customer.shipping_address,
        },
        "customer_notification_email": format!("{}@notifications.example", order.commercial_id),
        "has_incident": order.has_incident,
        "can_cancel": false,
        "order_lines": lines,
    })
}

/// What the control API told the channel to refuse: the next `times` calls of an
/// operation answer 400 with `message` (only calls that would otherwise succeed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Refusal {
    pub(super) operation: Refusable,
    #[serde(default = "one")]
    pub(super) times: u32,
    #[serde(default = "default_refusal")]
    pub(super) message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum Refusable {
    Or21,
    Or23,
    Or24,
}

fn one() -> u32 {
    1
}

fn default_refusal() -> String {
    "The operation was refused by the operator".into()
}

#[derive(Default)]
pub(super) struct Orders {
    orders: BTreeMap<String, Order>,
    refusals: Vec<Refusal>,
    /// Every OR23 and OR24 call that changed an order, in order.
    shipping_calls: Vec<Value>,
}

impl Orders {
    /// Loads fixture orders created `at` unless they say otherwise; a clashing one is
    /// skipped with a warning.
    pub(super) fn new(
        orders: Vec<FixtureOrder>,
        offers: &Offers,
        currency: &str,
        at: DateTime<Utc>,
    ) -> Self {
        let mut book = Self::default();
        for order in orders {
            if let Err(error) = book.add(order, offers, currency, at) {
                tracing::warn!(?error, "mirakl fixture: order skipped");
            }
        }
        book
    }

    /// Adds an order, created `at` unless it says otherwise, in `currency` (the shop's)
    /// unless it says otherwise; its lines take their offer's id, SKU and title.
    pub(super) fn add(
        &mut self,
        order: FixtureOrder,
        offers: &Offers,
        currency: &str,
        at: DateTime<Utc>,
    ) -> Result<&Order, MiraklError> {
        if self.orders.contains_key(&order.order_id) {
            return Err(MiraklError::conflict(format!(
                "order {} exists",
                order.order_id
            )));
        }
        let created = order.created_date.unwrap_or(at);
        let lines = order
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let offer = offers.get(&l.offer_sku);
                Line {
                    id: l
                        .id
                        .unwrap_or_else(|| format!("{}-{}", order.order_id, i + 1)),
                    index: i + 1,
                    state: l.state.unwrap_or(order.state),
                    offer_id: offer.map_or(0, |o| o.offer_id),
                    product_sku: offer.map_or(l.offer_sku.clone(), |o| o.product_sku().into()),
                    product_title: l.product_title.unwrap_or_else(|| {
                        offer.map_or(l.offer_sku.clone(), |o| o.product_title().into())
                    }),
                    offer_sku: l.offer_sku,
                    quantity: l.quantity.get(),
                    unit_price: l.unit_price,
                    shipping_price: l.shipping_price,
                    cancelations: Vec::new(),
                    refunds: Vec::new(),
                    shipped_date: None,
                }
            })
            .collect();
        let commercial_id = order.commercial_id.unwrap_or_else(|| {
            let id = &order.order_id;
            id.rsplit_once('-')
                .map_or(id.clone(), |(c, _)| c.to_string())
        });
        let order = Order {
            commercial_id,
            state: order.state,
            created,
            updated: order.last_updated_date.unwrap_or(created),
            acceptance_decision_date: None,
            currency: order
                .currency_iso_code
                .unwrap_or_else(|| currency.to_string()),
            customer: order.customer.unwrap_or_else(sydney),
            has_incident: order.has_incident,
            lines,
            tracking: Tracking::default(),
            id: order.order_id,
        };
        Ok(self.orders.entry(order.id.clone()).or_insert(order))
    }

    pub(super) fn get_mut(&mut self, id: &str) -> Result<&mut Order, MiraklError> {
        self.orders.get_mut(id).ok_or_else(|| {
            MiraklError::not_found(format!("order {id} not found")).with_code("ORDER_NOT_FOUND")
        })
    }

    pub(super) fn refuse(&mut self, refusal: Refusal) {
        if refusal.times > 0 {
            self.refusals.push(refusal);
        }
    }

    /// Takes one firing of the first refusal of `operation`, if any: a 400 with its
    /// message.
    pub(super) fn check_refusal(&mut self, operation: Refusable) -> Result<(), MiraklError> {
        let Some(i) = self.refusals.iter().position(|r| r.operation == operation) else {
            return Ok(());
        };
        let refusal = &mut self.refusals[i];
        refusal.times -= 1;
        let message = refusal.message.clone();
        if refusal.times == 0 {
            self.refusals.remove(i);
        }
        Err(MiraklError::bad_request(message))
    }

    pub(super) fn record_shipping_call(&mut self, call: Value) {
        self.shipping_calls.push(call);
    }

    pub(super) fn dump(&self) -> Value {
        json!(self.orders.values().map(order_json).collect::<Vec<_>>())
    }

    pub(super) fn dump_shipping_calls(&self) -> Value {
        json!(self.shipping_calls)
    }
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new().route(&format!("{PREFIX}/api/orders"), get(list))
}

#[derive(Deserialize)]
struct ListParams {
    order_ids: Option<String>,
    order_state_codes: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    start_update_date: Option<String>,
    end_update_date: Option<String>,
    max: Option<String>,
    offset: Option<String>,
    sort: Option<String>,
    order: Option<String>,
}

/// A comma list, empty items dropped.
fn list_param(text: Option<&str>) -> Option<Vec<&str>> {
    text.map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// OR11.
async fn list(call: Call, State(app): State<Arc<App>>) -> Result<Raw, MiraklError> {
    call.admit(&app, "OR11", Limit::Or11, "")?;
    let params: ListParams = call.query()?;
    let page = Page::parse(params.max.as_deref(), params.offset.as_deref())?;
    let ids = list_param(params.order_ids.as_deref());
    if ids.as_ref().is_some_and(|ids| ids.len() > MAX_ORDER_IDS) {
        return Err(MiraklError::bad_request(format!(
            "The limit of {MAX_ORDER_IDS} is exceeded for the parameter : order_ids"
        )));
    }
    let states = list_param(params.order_state_codes.as_deref())
        .map(|codes| {
            codes
                .iter()
                .map(|c| {
                    serde_json::from_value::<OrderState>(json!(c)).map_err(|_| {
                        MiraklError::bad_request(format!("unknown order state code {c:?}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let created_from = parse_date("start_date", params.start_date.as_deref())?;
    let created_to = parse_date("end_date", params.end_date.as_deref())?;
    let updated_from = parse_date("start_update_date", params.start_update_date.as_deref())?
        .map(|d| d - UPDATE_DATE_OVERLAP);
    let updated_to = parse_date("end_update_date", params.end_update_date.as_deref())?;
    if !matches!(params.sort.as_deref(), None | Some("dateCreated")) {
        return Err(MiraklError::bad_request("sort must be dateCreated"));
    }
    let direction = match params.order.as_deref() {
        None => DEFAULT_ORDER,
        Some("asc") => Direction::Asc,
        Some("desc") => Direction::Desc,
        Some(other) => {
            return Err(MiraklError::bad_request(format!(
                "order must be asc or desc, got {other:?}"
            )))
        }
    };
    let state = app.mirakl.lock().unwrap();
    let mut rows: Vec<&Order> = state
        .orders
        .orders
        .values()
        .filter(|o| ids.as_ref().is_none_or(|ids| ids.contains(&o.id.as_str())))
        .filter(|o| states.as_ref().is_none_or(|s| s.contains(&o.state)))
        .filter(|o| created_from.is_none_or(|d| o.created >= d))
        .filter(|o| created_to.is_none_or(|d| o.created <= d))
        .filter(|o| updated_from.is_none_or(|d| o.updated >= d))
        .filter(|o| updated_to.is_none_or(|d| o.updated <= d))
        .collect();
    rows.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    if direction == Direction::Desc {
        rows.reverse();
    }
    let orders: Vec<Value> = page.of(rows.iter()).map(|o| order_json(o)).collect();
    Ok(Raw(json!({"orders": orders, "total_count": rows.len()})))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state code the contract lists reads as a state that writes it back, and
    /// `as_str` (for messages) agrees.
    #[test]
    fn states_read_back_what_they_write() {
        let codes = [
            "STAGING",
            "WAITING_ACCEPTANCE",
            "WAITING_DEBIT",
            "WAITING_DEBIT_PAYMENT",
            "SHIPPING",
            "SHIPPED",
            "TO_COLLECT",
            "RECEIVED",
            "CLOSED",
            "REFUSED",
            "CANCELED",
        ];
        for code in codes {
            let state: OrderState = serde_json::from_value(json!(code)).unwrap();
            assert_eq!(serde_json::to_value(state).unwrap(), code);
            assert_eq!(state.as_str(), code);
        }
        assert_eq!(list_param(Some("A, B,,C")).unwrap(), ["A", "B", "C"]);
    }
}
