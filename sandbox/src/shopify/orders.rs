//! Orders: `orderCreate` (contract §5) with its inventory claim and the dev-store limit,
//! the `orders(query:)` search filters (§6), and the control API's cancel and line edit
//! (§7). Fulfilments are in `fulfil`.
//!
//! Simplifications, each on the safe side for a client:
//! - stock is claimed at the first location (lowest id) that stocks the item, one
//!   location per variant, as a shop with a single fulfilling location would;
//! - every variant has inventory policy DENY (the sandbox's `inventoryPolicy`);
//! - no taxes, and of discounts only a fixed amount off the items (`itemFixedDiscountCode`):
//!   totals are lines plus shipping less that amount;
//! - every order is visible to `orders` (real Shopify hides orders older than 60 days
//!   without `read_all_orders`), and cancelled orders are listed unless `status:` says
//!   otherwise;
//! - `sortKey` is accepted but orders are always served by id (= creation order): stable
//!   cursors, as for the other connections.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use apollo_compiler::response::{JsonMap, JsonValue};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use super::fulfil::{self, Fulfillment};
use super::search::{self, Cmp, Searchable};
use super::store::{gid, parse_gid, ChangeError, Variant};

/// Dev/trial stores create at most this many orders per rolling window (contract §5).
pub const DEV_STORE_ORDERS_PER_WINDOW: usize = 5;
pub const DEV_STORE_WINDOW: TimeDelta = TimeDelta::seconds(60);
/// UNCONFIRMED: how Shopify refuses the sixth order in a minute on a dev store. The
/// contract only states the limit; the sandbox answers with a top-level GraphQL error
/// (`data.orderCreate` null) carrying this message.
pub const DEV_STORE_LIMIT_MESSAGE: &str =
    "Too many orders created: development stores can create at most 5 orders per minute";
/// The shop currency when neither the order nor its prices name one. UNCONFIRMED for any
/// given store: the fixture format has no currency, and the demo store is Australian.
pub const DEFAULT_CURRENCY: &str = "AUD";
/// Order names are `#1001`, `#1002`, ...: Shopify's default numbering.
const FIRST_ORDER_NUMBER: u64 = 1001;

/// UNCONFIRMED wording of the userErrors (the codes are schema-verified).
const MSG_NO_LINES: &str = "Order must have at least one line item";
const MSG_QUANTITY: &str = "Quantity must be greater than or equal to 1";
const MSG_UNKNOWN_VARIANT: &str = "Variant does not exist";
const MSG_TITLE: &str = "Title is required for a line item without a variant";
const MSG_AMOUNT: &str = "Amount is not a valid decimal";
const MSG_CURRENCY: &str = "Currency must match the order currency";
const MSG_CLAIM: &str = "Unable to claim inventory: not enough available";

/// An exact money amount in ten-thousandths of a unit. Shopify's `Decimal` scalar is a
/// string; amounts never go through floating point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Amount(i128);

const AMOUNT_DIGITS: usize = 4;
const AMOUNT_SCALE: i128 = 10_000;

impl Amount {
    /// `"19.99"`, `"-1"`, `".5"`; at most four decimals (no currency has more).
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty())
            || frac.len() > AMOUNT_DIGITS
            || int.len() > 24
            || !all_digits(int)
            || !all_digits(frac)
        {
            return None;
        }
        let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let frac: i128 = format!("{frac:0<AMOUNT_DIGITS$}").parse().ok()?;
        let value = int.checked_mul(AMOUNT_SCALE)?.checked_add(frac)?;
        Some(Amount(if negative { -value } else { value }))
    }

    /// A `Decimal` argument: normally a string; a JSON number is read from its text.
    fn from_json(v: Option<&JsonValue>) -> Option<Self> {
        match v? {
            JsonValue::String(s) => Amount::parse(s.as_str()),
            JsonValue::Number(n) => Amount::parse(&n.to_string()),
            _ => None,
        }
    }

    pub fn times(self, n: i64) -> Self {
        Amount(self.0.saturating_mul(i128::from(n)))
    }
}

impl std::ops::Add for Amount {
    type Output = Amount;
    fn add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }
}

impl std::ops::Sub for Amount {
    type Output = Amount;
    fn sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::default(), |a, b| a + b)
    }
}

/// As Shopify prints `Decimal`s: trailing zeros dropped, at least one decimal (`"10.0"`).
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = AMOUNT_SCALE.unsigned_abs();
        let frac = format!("{:0AMOUNT_DIGITS$}", abs % scale);
        let frac = frac.trim_end_matches('0');
        let frac = if frac.is_empty() { "0" } else { frac };
        write!(f, "{sign}{}.{frac}", abs / scale)
    }
}

pub struct LineItem {
    pub id: u64,
    pub variant_id: Option<u64>,
    pub sku: Option<String>,
    pub title: String,
    pub quantity: i64,
    /// After edits and removals.
    pub current_quantity: i64,
    pub unit_price: Amount,
    pub requires_shipping: bool,
    pub taxable: bool,
    /// `properties` as given: (name, value).
    pub properties: Vec<(String, String)>,
}

pub struct ShippingLine {
    pub id: u64,
    pub title: String,
    pub code: Option<String>,
    pub price: Amount,
}

pub struct Transaction {
    pub kind: String,
    pub status: String,
    pub gateway: Option<String>,
    pub amount: Amount,
}

pub struct Order {
    pub id: u64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub closed: bool,
    pub edited: bool,
    pub currency: String,
    pub email: Option<String>,
    pub note: Option<String>,
    pub source_identifier: Option<String>,
    pub source_name: Option<String>,
    pub tags: Vec<String>,
    pub custom_attributes: Vec<(String, String)>,
    pub financial_status: String,
    /// `MailingAddressInput` fields as given.
    pub shipping_address: Option<JsonMap>,
    /// Keyed by line id, which is also the connection order.
    pub line_items: BTreeMap<u64, LineItem>,
    pub shipping_lines: BTreeMap<u64, ShippingLine>,
    pub transactions: Vec<Transaction>,
    /// The fixed amount `discountCode.itemFixedDiscountCode` took off, and its code.
    pub discount: Option<(String, Amount)>,
    /// Keyed by fulfilment id (shop-wide), cancelled ones included.
    pub fulfillments: BTreeMap<u64, Fulfillment>,
}

impl Order {
    fn total(&self, quantity: impl Fn(&LineItem) -> i64) -> Amount {
        let lines: Amount = self
            .line_items
            .values()
            .map(|l| l.unit_price.times(quantity(l)))
            .sum();
        let discount = self.discount.as_ref().map_or(Amount::default(), |d| d.1);
        lines + self.shipping_lines.values().map(|s| s.price).sum() - discount
    }

    pub fn total_price(&self) -> Amount {
        self.total(|l| l.quantity)
    }

    /// After edits (`currentQuantity`).
    pub fn current_total_price(&self) -> Amount {
        self.total(|l| l.current_quantity)
    }

    fn dump(&self) -> Value {
        let lines: Vec<Value> = self
            .line_items
            .values()
            .map(|l| {
                json!({
                    "id": gid("LineItem", l.id),
                    "variant_id": l.variant_id.map(|v| gid("ProductVariant", v)),
                    "sku": l.sku, "title": l.title, "quantity": l.quantity,
                    "current_quantity": l.current_quantity,
                    "unfulfilled_quantity": self.unfulfilled_quantity(l.id),
                    "price": l.unit_price.to_string(),
                    "requires_shipping": l.requires_shipping, "taxable": l.taxable,
                    "properties": l.properties.iter()
                        .map(|(name, value)| json!({"name": name, "value": value}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        let shipping: Vec<Value> = self
            .shipping_lines
            .values()
            .map(|s| json!({"title": s.title, "code": s.code, "price": s.price.to_string()}))
            .collect();
        let transactions: Vec<Value> = self
            .transactions
            .iter()
            .map(|t| {
                json!({"kind": t.kind, "status": t.status, "gateway": t.gateway,
                       "amount": t.amount.to_string()})
            })
            .collect();
        let attributes: Vec<Value> = self
            .custom_attributes
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        json!({
            "id": gid("Order", self.id), "name": self.name,
            "created_at": self.created_at, "updated_at": self.updated_at,
            "cancelled_at": self.cancelled_at, "closed": self.closed, "edited": self.edited,
            "currency": self.currency, "email": self.email, "note": self.note,
            "source_identifier": self.source_identifier, "source_name": self.source_name,
            "tags": self.tags, "custom_attributes": attributes,
            "financial_status": self.financial_status,
            "shipping_address": self.shipping_address,
            "line_items": lines, "shipping_lines": shipping, "transactions": transactions,
            "discount": self.discount.as_ref()
                .map(|(code, amount)| json!({"code": code, "amount": amount.to_string()})),
            "total_price": self.total_price().to_string(),
            "current_total_price": self.current_total_price().to_string(),
            "display_fulfillment_status": self.display_fulfillment_status().as_str(),
            "fulfillments": self.dump_fulfillments(),
        })
    }
}

pub struct OrderSearch<'a>(pub &'a Order);

impl Searchable for OrderSearch<'_> {
    fn test(&self, field: &str, cmp: Cmp, value: &str) -> Option<bool> {
        let o = self.0;
        match field {
            "source_identifier" => search::test_str(o.source_identifier.as_deref(), cmp, value),
            "source_name" => search::test_str(o.source_name.as_deref(), cmp, value),
            // Shopify's tags are case-insensitive (a shop cannot hold "A" and "a").
            "tag" => Some(o.tags.iter().any(|t| t.eq_ignore_ascii_case(value))),
            "sku" => Some(
                o.line_items
                    .values()
                    .any(|l| l.sku.as_deref() == Some(value)),
            ),
            "name" => Some(o.name.trim_start_matches('#') == value.trim_start_matches('#')),
            "id" => search::test_id(o.id, cmp, value),
            "created_at" | "processed_at" => search::test_time(o.created_at, cmp, value),
            "updated_at" => search::test_time(o.updated_at, cmp, value),
            "financial_status" => Some(o.financial_status.eq_ignore_ascii_case(value)),
            "fulfillment_status" => fulfil::status_filter(o, value),
            "status" => Some(match value.to_ascii_lowercase().as_str() {
                "any" => true,
                "open" => !o.closed && o.cancelled_at.is_none(),
                "closed" => o.closed,
                "cancelled" => o.cancelled_at.is_some(),
                "not_closed" => !o.closed,
                _ => return None,
            }),
            _ => None,
        }
    }
}

/// One `OrderCreateUserError`.
#[derive(Debug)]
pub struct UserError {
    pub code: &'static str,
    pub field: Vec<String>,
    pub message: &'static str,
}

impl UserError {
    fn invalid(field: &[&str], message: &'static str) -> Self {
        UserError {
            code: "INVALID",
            field: field.iter().map(|s| s.to_string()).collect(),
            message,
        }
    }

    pub fn field(&self, name: &str) -> Option<JsonValue> {
        Some(match name {
            "code" => self.code.into(),
            "field" => self
                .field
                .iter()
                .map(|f| JsonValue::from(f.as_str()))
                .collect(),
            "message" => self.message.into(),
            _ => return None,
        })
    }
}

/// What `orderCreate` returns: the new order's id, or why nothing was created.
#[derive(Debug)]
pub struct CreatePayload {
    pub order: Option<u64>,
    pub errors: Vec<UserError>,
}

/// Every order of the shop, and the dev-store rate window.
#[derive(Default)]
pub struct OrderBook {
    pub orders: BTreeMap<u64, Order>,
    /// When true, at most [`DEV_STORE_ORDERS_PER_WINDOW`] orders per [`DEV_STORE_WINDOW`].
    pub dev_store: bool,
    /// Creation times inside the current window (dev stores only).
    recent: VecDeque<DateTime<Utc>>,
    /// Line items and shipping lines share one id sequence.
    last_line_id: u64,
    pub(super) fulfilments: fulfil::Ledger,
}

fn str_arg(map: &JsonMap, name: &str) -> Option<String> {
    map.get(name).and_then(JsonValue::as_str).map(String::from)
}

fn objects<'a>(map: &'a JsonMap, name: &str) -> impl Iterator<Item = &'a JsonMap> {
    map.get(name)
        .and_then(JsonValue::as_array)
        .into_iter()
        .flatten()
        .filter_map(JsonValue::as_object)
}

/// `MoneyBagInput.shopMoney`: amount and currency code.
fn shop_money(bag: Option<&JsonValue>) -> Option<(Option<Amount>, Option<&str>)> {
    let money = bag?.as_object()?.get("shopMoney")?.as_object()?;
    let currency = money.get("currencyCode").and_then(JsonValue::as_str);
    Some((Amount::from_json(money.get("amount")), currency))
}

impl OrderBook {
    pub fn new(dev_store: bool) -> Self {
        OrderBook {
            dev_store,
            ..OrderBook::default()
        }
    }

    fn next_line_id(&mut self) -> u64 {
        self.last_line_id += 1;
        self.last_line_id
    }

    /// `Err` is the top-level GraphQL error of a refused request (dev-store limit).
    pub fn create(
        &mut self,
        variants: &mut BTreeMap<u64, Variant>,
        order: &JsonMap,
        options: Option<&JsonMap>,
        now: DateTime<Utc>,
    ) -> Result<CreatePayload, &'static str> {
        if self.dev_store {
            while self
                .recent
                .front()
                .is_some_and(|t| now - *t >= DEV_STORE_WINDOW)
            {
                self.recent.pop_front();
            }
            if self.recent.len() >= DEV_STORE_ORDERS_PER_WINDOW {
                return Err(DEV_STORE_LIMIT_MESSAGE);
            }
        }
        let behaviour = options
            .and_then(|o| o.get("inventoryBehaviour"))
            .and_then(JsonValue::as_str)
            .unwrap_or("BYPASS");
        let mut draft = match self.draft(variants, order, now) {
            Ok(draft) => draft,
            Err(errors) => {
                return Ok(CreatePayload {
                    order: None,
                    errors,
                })
            }
        };
        if behaviour != "BYPASS" {
            let obey = behaviour == "DECREMENT_OBEYING_POLICY";
            if let Err(e) = claim(variants, &draft, obey, now) {
                return Ok(CreatePayload {
                    order: None,
                    errors: vec![e],
                });
            }
        }
        let id = self.orders.last_key_value().map_or(1, |(id, _)| id + 1);
        draft.id = id;
        draft.name = format!("#{}", FIRST_ORDER_NUMBER + id - 1);
        for line in draft.line_items.values_mut() {
            line.id = self.next_line_id();
        }
        draft.line_items = std::mem::take(&mut draft.line_items)
            .into_values()
            .map(|l| (l.id, l))
            .collect();
        draft.shipping_lines = std::mem::take(&mut draft.shipping_lines)
            .into_values()
            .map(|mut s| {
                s.id = self.next_line_id();
                (s.id, s)
            })
            .collect();
        self.orders.insert(id, draft);
        if self.dev_store {
            self.recent.push_back(now);
        }
        Ok(CreatePayload {
            order: Some(id),
            errors: Vec::new(),
        })
    }

    /// The order as given, checked; ids are assigned by the caller. Line items are keyed
    /// by their input index until then.
    fn draft(
        &self,
        variants: &BTreeMap<u64, Variant>,
        input: &JsonMap,
        now: DateTime<Utc>,
    ) -> Result<Order, Vec<UserError>> {
        let mut errors = Vec::new();
        let first_price_currency = objects(input, "lineItems")
            .find_map(|l| shop_money(l.get("priceSet")).and_then(|(_, c)| c));
        let currency = str_arg(input, "currency")
            .or(first_price_currency.map(String::from))
            .unwrap_or_else(|| DEFAULT_CURRENCY.into());
        // A money input at `at`: its amount, with errors for a bad amount or currency.
        let money = |bag: Option<&JsonValue>, at: &[&str], errors: &mut Vec<UserError>| {
            let Some((amount, code)) = shop_money(bag) else {
                return Amount::default();
            };
            if code.is_some_and(|c| c != currency) {
                errors.push(UserError::invalid(at, MSG_CURRENCY));
            }
            amount.unwrap_or_else(|| {
                errors.push(UserError::invalid(at, MSG_AMOUNT));
                Amount::default()
            })
        };

        let mut line_items = BTreeMap::new();
        for (i, line) in objects(input, "lineItems").enumerate() {
            let n = i.to_string();
            let at = |f: &'static str| ["lineItems", n.as_str(), f];
            let quantity = line
                .get("quantity")
                .and_then(JsonValue::as_i64)
                .unwrap_or(0);
            if quantity < 1 {
                errors.push(UserError::invalid(&at("quantity"), MSG_QUANTITY));
            }
            let variant_id = line.get("variantId").and_then(JsonValue::as_str);
            let variant = match variant_id {
                None => None,
                Some(id) => {
                    let found = parse_gid("ProductVariant", id).and_then(|id| variants.get(&id));
                    if found.is_none() {
                        errors.push(UserError::invalid(&at("variantId"), MSG_UNKNOWN_VARIANT));
                    }
                    found
                }
            };
            // A variant line takes its title and SKU from the variant unless given.
            let title = str_arg(line, "title").or_else(|| variant.map(|v| v.title.clone()));
            if title.is_none() && variant_id.is_none() {
                errors.push(UserError::invalid(&at("title"), MSG_TITLE));
            }
            let unit_price = money(line.get("priceSet"), &at("priceSet"), &mut errors);
            let flag = |name: &str, default: bool| {
                line.get(name)
                    .and_then(JsonValue::as_bool)
                    .unwrap_or(default)
            };
            let item = LineItem {
                id: 0,
                variant_id: variant.map(|v| v.id),
                sku: str_arg(line, "sku").or_else(|| variant.and_then(|v| v.sku.clone())),
                title: title.unwrap_or_default(),
                quantity,
                current_quantity: quantity,
                unit_price,
                requires_shipping: flag("requiresShipping", false),
                taxable: flag("taxable", true),
                properties: objects(line, "properties")
                    .filter_map(|p| Some((str_arg(p, "name")?, str_arg(p, "value")?)))
                    .collect(),
            };
            line_items.insert(i as u64, item);
        }
        if line_items.is_empty() {
            errors.push(UserError::invalid(&["lineItems"], MSG_NO_LINES));
        }
        let mut shipping_lines = BTreeMap::new();
        for (i, s) in objects(input, "shippingLines").enumerate() {
            let n = i.to_string();
            let price = money(
                s.get("priceSet"),
                &["shippingLines", &n, "priceSet"],
                &mut errors,
            );
            let line = ShippingLine {
                id: 0,
                title: str_arg(s, "title").unwrap_or_default(),
                code: str_arg(s, "code"),
                price,
            };
            shipping_lines.insert(i as u64, line);
        }
        let discount = input
            .get("discountCode")
            .and_then(|d| d.get("itemFixedDiscountCode"))
            .and_then(JsonValue::as_object)
            .map(|d| {
                let at = ["discountCode", "itemFixedDiscountCode", "amountSet"];
                let amount = money(d.get("amountSet"), &at, &mut errors);
                (str_arg(d, "code").unwrap_or_default(), amount)
            });
        let mut transactions = Vec::new();
        for (i, t) in objects(input, "transactions").enumerate() {
            let n = i.to_string();
            let amount = money(
                t.get("amountSet"),
                &["transactions", &n, "amountSet"],
                &mut errors,
            );
            transactions.push(Transaction {
                kind: str_arg(t, "kind").unwrap_or_else(|| "SALE".into()),
                status: str_arg(t, "status").unwrap_or_else(|| "SUCCESS".into()),
                gateway: str_arg(t, "gateway"),
                amount,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let tags = input
            .get("tags")
            .and_then(JsonValue::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| Some(t.as_str()?.trim().to_string()))
            .filter(|t| !t.is_empty())
            .collect();
        let custom_attributes = objects(input, "customAttributes")
            .filter_map(|a| Some((str_arg(a, "key")?, str_arg(a, "value")?)))
            .collect();
        let mut order = Order {
            id: 0,
            name: String::new(),
            created_at: now,
            updated_at: now,
            cancelled_at: None,
            closed: false,
            edited: false,
            currency,
            email: str_arg(input, "email"),
            note: str_arg(input, "note"),
            source_identifier: str_arg(input, "sourceIdentifier"),
            source_name: str_arg(input, "sourceName"),
            tags,
            custom_attributes,
            financial_status: String::new(),
            shipping_address: input
                .get("shippingAddress")
                .and_then(JsonValue::as_object)
                .cloned(),
            line_items,
            shipping_lines,
            transactions,
            discount,
            fulfillments: BTreeMap::new(),
        };
        order.financial_status = str_arg(input, "financialStatus")
            .unwrap_or_else(|| derived_financial_status(&order).into());
        Ok(order)
    }

    pub fn cancel(&mut self, id: u64, now: DateTime<Utc>) -> Result<(), ChangeError> {
        let order = self.get_mut(id)?;
        if order.cancelled_at.is_some() {
            return Err(ChangeError::Conflict(format!(
                "order {id} is already cancelled"
            )));
        }
        order.cancelled_at = Some(now);
        order.updated_at = now;
        Ok(())
    }

    /// An order edit that sets one line's current quantity.
    pub fn set_line_quantity(
        &mut self,
        id: u64,
        line_id: u64,
        quantity: i64,
        now: DateTime<Utc>,
    ) -> Result<(), ChangeError> {
        if quantity < 0 {
            return Err(ChangeError::Invalid("current_quantity must be >= 0".into()));
        }
        let order = self.get_mut(id)?;
        let line = order
            .line_items
            .get_mut(&line_id)
            .ok_or_else(|| ChangeError::NotFound(format!("order {id} has no line {line_id}")))?;
        line.current_quantity = quantity;
        order.edited = true;
        order.updated_at = now;
        Ok(())
    }

    pub(super) fn get(&self, id: u64) -> Result<&Order, ChangeError> {
        self.orders.get(&id).ok_or_else(|| unknown_order(id))
    }

    pub(super) fn get_mut(&mut self, id: u64) -> Result<&mut Order, ChangeError> {
        self.orders.get_mut(&id).ok_or_else(|| unknown_order(id))
    }

    pub fn dump(&self) -> Value {
        self.orders.values().map(Order::dump).collect()
    }

    /// One order as [`OrderBook::dump`] shows it.
    pub fn dump_order(&self, id: u64) -> Result<Value, ChangeError> {
        self.get(id).map(Order::dump)
    }
}

fn unknown_order(id: u64) -> ChangeError {
    ChangeError::NotFound(format!("unknown order {id}"))
}

/// UNCONFIRMED: the status Shopify derives when `financialStatus` is not given, from
/// the successful transactions (sales and captures pay; an authorization authorizes).
fn derived_financial_status(order: &Order) -> &'static str {
    let ok = |kinds: &[&str]| {
        order
            .transactions
            .iter()
            .filter(|t| t.status == "SUCCESS" && kinds.contains(&t.kind.as_str()))
            .map(|t| t.amount)
            .sum::<Amount>()
    };
    let paid = ok(&["SALE", "CAPTURE"]);
    if paid > Amount::default() {
        if paid >= order.total_price() {
            "PAID"
        } else {
            "PARTIALLY_PAID"
        }
    } else if ok(&["AUTHORIZATION"]) > Amount::default() {
        "AUTHORIZED"
    } else {
        "PENDING"
    }
}

/// UNCONFIRMED: which input path Shopify names for a failed claim; the line is the
/// useful part for a client.
fn claim_failed(line_index: u64) -> UserError {
    UserError {
        code: "INVENTORY_CLAIM_FAILED",
        field: vec!["lineItems".into(), line_index.to_string()],
        message: MSG_CLAIM,
    }
}

/// Takes the order's quantities from `available` at each tracked variant's first
/// stocking location, all or nothing. `obey`: refuse what the stock cannot cover
/// (policy DENY); otherwise `available` may go negative.
fn claim(
    variants: &mut BTreeMap<u64, Variant>,
    order: &Order,
    obey: bool,
    now: DateTime<Utc>,
) -> Result<(), UserError> {
    // Variant -> (first line index, total quantity).
    let mut wanted: BTreeMap<u64, (u64, i64)> = BTreeMap::new();
    for (index, line) in &order.line_items {
        if let Some(v) = line.variant_id {
            wanted.entry(v).or_insert((*index, 0)).1 += line.quantity;
        }
    }
    for (vid, (index, quantity)) in &wanted {
        let Some(v) = variants.get(vid).filter(|v| v.tracked) else {
            continue;
        };
        let available = v.levels.values().next().map(|l| l.available);
        if obey && available.is_none_or(|a| a < *quantity) {
            return Err(claim_failed(*index));
        }
    }
    for (vid, (_, quantity)) in wanted {
        let level = variants
            .get_mut(&vid)
            .filter(|v| v.tracked)
            .and_then(|v| v.levels.values_mut().next());
        if let Some(level) = level {
            level.available -= quantity;
            level.updated_at = now;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::store::now;
    use super::super::{ShopifyFixture, ShopifyState};
    use super::*;
    use axum::http::StatusCode;

    const TOKEN: &str = "shpat_orders_test";

    const CREATE: &str = r#"
mutation CreateOrder($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name sourceIdentifier tags note email edited closed cancelledAt
      displayFinancialStatus customAttributes { key value }
      totalPriceSet { shopMoney { amount currencyCode } }
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      shippingAddress { firstName lastName name city countryCodeV2 zip }
      shippingLines(first: 5) { nodes { title originalPriceSet { shopMoney { amount } } } }
      lineItems(first: 10) { nodes { id sku title quantity currentQuantity variant { id }
        originalUnitPriceSet { shopMoney { amount currencyCode } } } } }
    userErrors { code field message }
  }
}"#;

    const LOOKUP: &str = r#"
query FindOrders($q: String!) {
  orders(first: 5, query: $q) { nodes { id name sourceIdentifier tags cancelledAt } }
}"#;

    fn state(dev_store: bool) -> ShopifyState {
        let fixture: ShopifyFixture = serde_json::from_value(json!({
            "shop": "orders.myshopify.com", "name": "Orders", "access_token": TOKEN,
            "dev_store": dev_store,
            "locations": [{"id": 1, "name": "Warehouse"}, {"id": 2, "name": "Shop"}],
            "products": [{"id": 100, "title": "Linen Shirt", "variants": [
                {"id": 1001, "title": "S", "sku": "LS-S", "inventory_item_id": 5001,
                 "available": {"1": 7, "2": 1}},
                {"id": 1002, "title": "M", "sku": "LS-M", "inventory_item_id": 5002,
                 "available": {"2": 0}}]}]
        }))
        .expect("test fixture parses");
        ShopifyState::new(fixture)
    }

    fn gql(st: &mut ShopifyState, query: &str, variables: Value) -> Value {
        let body = json!({"query": query, "variables": variables}).to_string();
        let (status, reply, _) =
            st.graphql(Some(TOKEN), Some("application/json"), body.as_bytes(), "");
        assert_eq!(status, StatusCode::OK);
        reply
    }

    fn money(amount: &str) -> Value {
        json!({"shopMoney": {"amount": amount, "currencyCode": "AUD"}})
    }

    /// An Iconic-style order: `lines` of (variant id, quantity, unit price).
    fn order(source: &str, lines: &[(u64, i64, &str)]) -> Value {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(v, q, p)| {
                json!({"variantId": format!("gid://shopify/ProductVariant/{v}"),
                       "quantity": q, "priceSet": money(p), "requiresShipping": true})
            })
            .collect();
        json!({
            "lineItems": lines,
            "shippingLines": [{"title": "Standard", "priceSet": money("10.00")}],
            "shippingAddress": {"firstName": "Ada", "lastName": "Lovelace", "city": "Sydney",
                                "countryCode": "AU", "zip": "2000"},
            "email": "ada@example.com", "financialStatus": "PAID",
            "transactions": [{"kind": "SALE", "status": "SUCCESS", "gateway": "The Iconic",
                              "amountSet": money("69.97")}],
            "tags": ["the-iconic", format!("mp:{source}")], "note": "Iconic order 42",
            "sourceIdentifier": source, "sourceName": "skubridge",
            "customAttributes": [{"key": "iconic_order_id", "value": "42"}],
        })
    }

    fn create(st: &mut ShopifyState, order: Value, behaviour: &str) -> Value {
        let options = json!({"inventoryBehaviour": behaviour, "sendReceipt": false});
        let reply = gql(st, CREATE, json!({"order": order, "options": options}));
        assert!(reply.get("errors").is_none(), "{reply}");
        reply["data"]["orderCreate"].clone()
    }

    fn available(st: &ShopifyState, variant: u64, location: u64) -> i64 {
        st.catalog.variants[&variant].levels[&location].available
    }

    fn found(st: &mut ShopifyState, q: &str) -> Vec<String> {
        let reply = gql(st, LOOKUP, json!({"q": q}));
        let nodes = reply["data"]["orders"]["nodes"].as_array().cloned();
        nodes
            .unwrap_or_else(|| panic!("{reply}"))
            .iter()
            .map(|n| n["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn decrement_obeying_policy_claims_stock_and_the_order_reads_back() {
        let mut st = state(false);
        let payload = create(
            &mut st,
            order("iconic:A1", &[(1001, 3, "19.99")]),
            "DECREMENT_OBEYING_POLICY",
        );
        assert_eq!(payload["userErrors"], json!([]));
        let o = &payload["order"];
        assert_eq!(o["id"], "gid://shopify/Order/1");
        assert_eq!(o["name"], "#1001");
        assert_eq!(o["sourceIdentifier"], "iconic:A1");
        assert_eq!(o["tags"], json!(["the-iconic", "mp:iconic:A1"]));
        assert_eq!(o["note"], "Iconic order 42");
        assert_eq!(o["email"], "ada@example.com");
        assert_eq!(o["displayFinancialStatus"], "PAID");
        assert_eq!((&o["edited"], &o["closed"]), (&json!(false), &json!(false)));
        assert_eq!(o["cancelledAt"], Value::Null);
        assert_eq!(
            o["customAttributes"],
            json!([{"key": "iconic_order_id", "value": "42"}])
        );
        let line = &o["lineItems"]["nodes"][0];
        assert_eq!(line["variant"]["id"], "gid://shopify/ProductVariant/1001");
        assert_eq!(
            (&line["sku"], &line["title"]),
            (&json!("LS-S"), &json!("S"))
        );
        assert_eq!(
            (&line["quantity"], &line["currentQuantity"]),
            (&json!(3), &json!(3))
        );
        assert_eq!(
            line["originalUnitPriceSet"]["shopMoney"],
            json!({"amount": "19.99", "currencyCode": "AUD"})
        );
        // 3 x 19.99 + 10.00 shipping, exactly.
        assert_eq!(o["totalPriceSet"]["shopMoney"]["amount"], "69.97");
        assert_eq!(o["currentTotalPriceSet"]["shopMoney"]["amount"], "69.97");
        assert_eq!(
            o["shippingLines"]["nodes"][0],
            json!({"title": "Standard", "originalPriceSet": {"shopMoney": {"amount": "10.0"}}})
        );
        assert_eq!(o["shippingAddress"]["name"], "Ada Lovelace");
        assert_eq!(o["shippingAddress"]["countryCodeV2"], "AU");
        // Claimed at the first location that stocks the item only.
        assert_eq!((available(&st, 1001, 1), available(&st, 1001, 2)), (4, 1));
        assert_eq!(found(&mut st, "source_identifier:'iconic:A1'"), ["#1001"]);
    }

    #[test]
    fn bypass_is_the_default_and_does_not_decrement() {
        let mut st = state(false);
        let reply = gql(
            &mut st,
            CREATE,
            json!({"order": order("iconic:B1", &[(1001, 2, "5")])}),
        );
        assert_eq!(reply["data"]["orderCreate"]["userErrors"], json!([]));
        create(&mut st, order("iconic:B2", &[(1002, 9, "5")]), "BYPASS");
        assert_eq!(available(&st, 1001, 1), 7);
        assert_eq!(available(&st, 1002, 2), 0);
        // Ignoring the policy may oversell.
        create(
            &mut st,
            order("iconic:B3", &[(1002, 2, "5")]),
            "DECREMENT_IGNORING_POLICY",
        );
        assert_eq!(available(&st, 1002, 2), -2);
    }

    #[test]
    fn orders_are_found_by_source_identifier_tag_status_and_time() {
        let mut st = state(false);
        for source in ["iconic:C1", "iconic:C2", "iconic:C3"] {
            create(&mut st, order(source, &[(1001, 1, "1.00")]), "BYPASS");
        }
        assert_eq!(found(&mut st, "source_identifier:iconic:C2"), ["#1002"]);
        assert_eq!(
            found(&mut st, r#"source_identifier:"iconic:C9""#),
            Vec::<String>::new()
        );
        assert_eq!(found(&mut st, "tag:'mp:iconic:C3'"), ["#1003"]);
        assert_eq!(found(&mut st, "tag:MP:ICONIC:C3"), ["#1003"]);
        assert_eq!(
            found(&mut st, "tag:mp:iconic:C1 OR source_identifier:'iconic:C3'"),
            ["#1001", "#1003"]
        );
        assert_eq!(found(&mut st, "tag:the-iconic").len(), 3);
        // Cancelled orders still count as imported: listed unless filtered out.
        st.catalog.orders.cancel(2, now()).unwrap();
        assert_eq!(found(&mut st, "source_identifier:iconic:C2").len(), 1);
        assert_eq!(found(&mut st, "status:cancelled"), ["#1002"]);
        assert_eq!(found(&mut st, "status:open"), ["#1001", "#1003"]);
        assert_eq!(found(&mut st, "status:any").len(), 3);
        assert_eq!(
            found(&mut st, "updated_at:>'2000-01-01T00:00:00Z'").len(),
            3
        );
        assert!(found(&mut st, "created_at:>'2999-01-01T00:00:00Z'").is_empty());
    }

    #[test]
    fn not_enough_stock_under_deny_fails_the_claim_and_changes_nothing() {
        let mut st = state(false);
        let payload = create(
            &mut st,
            order("iconic:D1", &[(1001, 1, "1"), (1002, 1, "1")]),
            "DECREMENT_OBEYING_POLICY",
        );
        assert_eq!(payload["order"], Value::Null);
        assert_eq!(payload["userErrors"][0]["code"], "INVENTORY_CLAIM_FAILED");
        assert_eq!(payload["userErrors"][0]["field"], json!(["lineItems", "1"]));
        assert_eq!(available(&st, 1001, 1), 7);
        // Two lines of one variant claim together: 4 + 4 > 7.
        let payload = create(
            &mut st,
            order("iconic:D2", &[(1001, 4, "1"), (1001, 4, "1")]),
            "DECREMENT_OBEYING_POLICY",
        );
        assert_eq!(payload["userErrors"][0]["code"], "INVENTORY_CLAIM_FAILED");
        assert_eq!(available(&st, 1001, 1), 7);
        assert!(st.catalog.orders.orders.is_empty());
    }

    #[test]
    fn unknown_variants_and_bad_quantities_are_invalid() {
        let mut st = state(false);
        let payload = create(
            &mut st,
            order("iconic:E1", &[(1001, 0, "1"), (999, 1, "1")]),
            "DECREMENT_OBEYING_POLICY",
        );
        assert_eq!(payload["order"], Value::Null);
        assert_eq!(
            payload["userErrors"],
            json!([
                {"code": "INVALID", "field": ["lineItems", "0", "quantity"], "message": MSG_QUANTITY},
                {"code": "INVALID", "field": ["lineItems", "1", "variantId"], "message": MSG_UNKNOWN_VARIANT},
            ])
        );
        let mut bad_amount = order("iconic:E2", &[(1001, 1, "1")]);
        bad_amount["lineItems"][0]["priceSet"] = money("1.2.3");
        let payload = create(&mut st, bad_amount, "BYPASS");
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["lineItems", "0", "priceSet"])
        );
        assert!(st.catalog.orders.orders.is_empty());
        assert_eq!(available(&st, 1001, 1), 7);
    }

    #[test]
    fn custom_lines_need_a_title_and_keep_exact_amounts() {
        let mut st = state(false);
        let mut o = order("iconic:F1", &[(1001, 3, "19.99")]);
        o["lineItems"]
            .as_array_mut()
            .unwrap()
            .push(json!({"title": "THE ICONIC ORDER", "quantity": 1, "priceSet": money("0.00")}));
        let payload = create(&mut st, o, "BYPASS");
        let lines = &payload["order"]["lineItems"]["nodes"];
        assert_eq!(lines[1]["title"], "THE ICONIC ORDER");
        assert_eq!(lines[1]["variant"], Value::Null);
        assert_eq!(
            lines[1]["originalUnitPriceSet"]["shopMoney"]["amount"],
            "0.0"
        );
        assert_eq!(
            payload["order"]["totalPriceSet"]["shopMoney"]["amount"],
            "69.97"
        );
        let untitled = json!({"lineItems": [{"quantity": 1}]});
        let payload = create(&mut st, untitled, "BYPASS");
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["lineItems", "0", "title"])
        );
    }

    #[test]
    fn a_dev_store_creates_five_orders_a_minute() {
        let mut st = state(true);
        for i in 0..DEV_STORE_ORDERS_PER_WINDOW {
            create(
                &mut st,
                order(&format!("iconic:G{i}"), &[(1001, 1, "1")]),
                "BYPASS",
            );
        }
        let options = json!({"inventoryBehaviour": "BYPASS"});
        let sixth = order("iconic:G5", &[(1001, 1, "1")]);
        let reply = gql(&mut st, CREATE, json!({"order": sixth, "options": options}));
        assert_eq!(reply["data"]["orderCreate"], Value::Null);
        assert_eq!(reply["errors"][0]["message"], DEV_STORE_LIMIT_MESSAGE);
        assert_eq!(st.catalog.orders.orders.len(), 5);

        // The window rolls.
        let mut book = OrderBook::new(true);
        let mut variants = BTreeMap::new();
        let input = json!({"lineItems": [{"title": "x", "quantity": 1}]});
        let JsonValue::Object(input) = JsonValue::from(input) else {
            unreachable!()
        };
        let t0 = now();
        for s in 0..5 {
            let at = t0 + TimeDelta::seconds(s * 10);
            assert!(book.create(&mut variants, &input, None, at).is_ok());
        }
        let refused = book.create(&mut variants, &input, None, t0 + TimeDelta::seconds(59));
        assert_eq!(refused.err(), Some(DEV_STORE_LIMIT_MESSAGE));
        assert!(book
            .create(&mut variants, &input, None, t0 + TimeDelta::seconds(60))
            .is_ok());
        // Not limited on a normal store.
        let mut book = OrderBook::new(false);
        for _ in 0..10 {
            assert!(book.create(&mut variants, &input, None, t0).is_ok());
        }
    }

    #[test]
    fn cancel_and_line_edits_stamp_the_order() {
        let mut st = state(false);
        create(&mut st, order("iconic:H1", &[(1001, 3, "19.99")]), "BYPASS");
        let later = now() + TimeDelta::seconds(5);
        let book = &mut st.catalog.orders;
        let line = *book.orders[&1].line_items.keys().next().unwrap();
        book.set_line_quantity(1, line, 1, later).unwrap();
        assert!(matches!(
            book.set_line_quantity(1, 999, 1, later),
            Err(ChangeError::NotFound(_))
        ));
        assert!(matches!(
            book.set_line_quantity(1, line, -1, later),
            Err(ChangeError::Invalid(_))
        ));
        book.cancel(1, later).unwrap();
        assert!(matches!(
            book.cancel(1, later),
            Err(ChangeError::Conflict(_))
        ));
        assert!(matches!(
            book.cancel(7, later),
            Err(ChangeError::NotFound(_))
        ));
        let reply = gql(
            &mut st,
            "{ orders(first: 1) { nodes { edited updatedAt cancelledAt
                 currentTotalPriceSet { shopMoney { amount } } lineItems(first: 1) { nodes { quantity currentQuantity } } } } }",
            json!({}),
        );
        let o = &reply["data"]["orders"]["nodes"][0];
        assert_eq!(o["edited"], true);
        assert_eq!(o["updatedAt"], super::super::resolve::time(later));
        assert_eq!(o["cancelledAt"], o["updatedAt"]);
        assert_eq!(
            o["lineItems"]["nodes"][0],
            json!({"quantity": 3, "currentQuantity": 1})
        );
        assert_eq!(o["currentTotalPriceSet"]["shopMoney"]["amount"], "29.99");
        let dump = st.dump();
        assert_eq!(dump["orders"][0]["total_price"], "69.97");
        assert_eq!(dump["orders"][0]["line_items"][0]["current_quantity"], 1);
    }

    #[test]
    fn amounts_are_exact_decimals() {
        let p = |s| Amount::parse(s).unwrap();
        assert_eq!(p("19.99").times(3).to_string(), "59.97");
        assert_eq!((p("0.1") + p("0.2")).to_string(), "0.3");
        assert_eq!(p("10").to_string(), "10.0");
        assert_eq!(p("10.50").to_string(), "10.5");
        assert_eq!(p("-1.005").to_string(), "-1.005");
        assert_eq!(p(".5").to_string(), "0.5");
        for bad in ["", ".", "1.23456", "1e3", "abc", "1.2.3", "--1"] {
            assert_eq!(Amount::parse(bad), None, "{bad:?}");
        }
    }
}
