//! Orders: `orderCreate` for marketplace orders (contract §5) and `orders(query:)`
//! lookups (§6-7). Exactly-once is the caller's protocol; this module only makes each
//! call and says plainly what came back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::wire::Connection;
use super::{queries, ShopifyClient, ShopifyError};
use crate::money::Money;

/// `OrderCreateOrderInput`, the fields skubridge sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    pub currency: String,
    pub email: Option<String>,
    pub line_items: Vec<NewLine>,
    pub shipping_lines: Vec<NewShippingLine>,
    pub shipping_address: NewAddress,
    /// Always `PAID`: the marketplace collected the money.
    pub financial_status: &'static str,
    pub transactions: Vec<NewTransaction>,
    pub tags: Vec<String>,
    pub note: String,
    pub source_identifier: String,
    pub custom_attributes: Vec<Attribute>,
    /// A discount the channel took off the order as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<DiscountCode>,
}

/// `OrderCreateDiscountCodeInput`: only the fixed amount taken off the items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountCode {
    pub item_fixed_discount_code: FixedDiscount,
}

/// `OrderCreateFixedDiscountCodeAttributesInput`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FixedDiscount {
    pub code: String,
    pub amount_set: MoneyBag,
}

/// `OrderCreateLineItemPropertyInput`: shown on the order and its packing slip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineProperty {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewLine {
    /// `None` for a custom line (the configured extra line item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: i64,
    pub price_set: MoneyBag,
    pub requires_shipping: bool,
    pub taxable: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<LineProperty>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewShippingLine {
    pub title: String,
    pub price_set: MoneyBag,
}

/// `MailingAddressInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAddress {
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: String,
    pub province_code: Option<String>,
    pub zip: String,
    /// ISO 3166-1 alpha-2; `None` when the channel's country could not be read as one.
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTransaction {
    /// `SALE`, `SUCCESS`: the marketplace took the payment.
    pub kind: &'static str,
    pub status: &'static str,
    pub gateway: String,
    pub amount_set: MoneyBag,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    pub key: String,
    pub value: String,
}

/// `MoneyBagInput` in shop money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    pub shop_money: MoneyInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyInput {
    pub amount: Money,
    pub currency_code: String,
}

impl MoneyBag {
    pub fn new(amount: Money, currency: &str) -> Self {
        MoneyBag {
            shop_money: MoneyInput {
                amount,
                currency_code: currency.to_string(),
            },
        }
    }
}

/// An order as Shopify holds it, as far as the import watch needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyOrder {
    pub id: String,
    /// `#1001`.
    pub name: String,
    pub source_identifier: Option<String>,
    pub tags: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Lines were edited after creation.
    pub edited: bool,
    pub total: Option<Money>,
    pub lines: Vec<ShopifyLine>,
}

impl ShopifyOrder {
    /// Carries this identifier as its source identifier, or as a tag (Shopify's tags
    /// are case-insensitive).
    pub fn is(&self, source_identifier: &str) -> bool {
        self.source_identifier.as_deref() == Some(source_identifier)
            || self
                .tags
                .iter()
                .any(|t| t.eq_ignore_ascii_case(source_identifier))
    }

    /// Lines were edited, removed or added after creation.
    pub fn lines_edited(&self) -> bool {
        self.edited || self.lines.iter().any(|l| l.current_quantity != l.quantity)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopifyLine {
    pub sku: Option<String>,
    /// As created.
    pub quantity: i64,
    /// After edits and removals.
    pub current_quantity: i64,
}

/// One `OrderCreateUserError`: Shopify refused the order and created nothing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderError {
    /// `INVALID`, `INVENTORY_CLAIM_FAILED`, ... (the enum grows: kept as text).
    pub code: Option<String>,
    #[serde(default)]
    pub field: Option<Vec<String>>,
    pub message: String,
}

impl OrderError {
    /// Shopify could not claim stock for a line (an oversell under `DENY`).
    pub fn is_inventory_claim(&self) -> bool {
        self.code.as_deref() == Some("INVENTORY_CLAIM_FAILED")
    }
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = self.field.as_deref().unwrap_or_default().join(".");
        match (&self.code, field.is_empty()) {
            (Some(code), false) => write!(f, "{code} at {field}: {}", self.message),
            (Some(code), true) => write!(f, "{code}: {}", self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

/// What `orderCreate` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Order {
        id: String,
        name: String,
        total: Option<Money>,
    },
    /// Nothing was created.
    Refused(Vec<OrderError>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoneyBagNode {
    shop_money: MoneyNode,
}

#[derive(Deserialize)]
struct MoneyNode {
    amount: Money,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderNode {
    id: String,
    name: String,
    source_identifier: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    edited: bool,
    total_price_set: Option<MoneyBagNode>,
    line_items: LineItems,
}

#[derive(Deserialize)]
struct LineItems {
    nodes: Vec<LineNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineNode {
    sku: Option<String>,
    quantity: i64,
    current_quantity: i64,
}

impl From<OrderNode> for ShopifyOrder {
    fn from(n: OrderNode) -> Self {
        ShopifyOrder {
            id: n.id,
            name: n.name,
            source_identifier: n.source_identifier,
            tags: n.tags,
            created_at: n.created_at,
            updated_at: n.updated_at,
            cancelled_at: n.cancelled_at,
            edited: n.edited,
            total: n.total_price_set.map(|t| t.shop_money.amount),
            lines: n
                .line_items
                .nodes
                .into_iter()
                .map(|l| ShopifyLine {
                    sku: l.sku,
                    quantity: l.quantity,
                    current_quantity: l.current_quantity,
                })
                .collect(),
        }
    }
}

/// A search term with its value single-quoted (quotes and backslashes escaped), so
/// `:` and spaces inside identifiers are taken literally.
pub fn term(field: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
    format!("{field}:'{escaped}'")
}

impl ShopifyClient {
    /// Creates one order, claiming its stock where the inventory policy allows
    /// (`DECREMENT_OBEYING_POLICY`, never the `BYPASS` default), sending no receipts.
    /// Not retried once Shopify may have acted on it: an `Err` means the outcome is
    /// unknown unless the error says the request never ran.
    pub async fn create_order(&self, order: &NewOrder) -> Result<Created, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            order_create: Option<Payload>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Payload {
            order: Option<CreatedNode>,
            user_errors: Vec<OrderError>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct CreatedNode {
            id: String,
            name: String,
            total_price_set: Option<MoneyBagNode>,
        }
        let op = &queries::ORDER_CREATE;
        let variables = json!({
            "order": order,
            "options": {
                "inventoryBehaviour": "DECREMENT_OBEYING_POLICY",
                "sendReceipt": false,
                "sendFulfillmentReceipt": false,
            },
        });
        let data: Data = self.transport.run(op, &variables).await?.data;
        let payload = data.order_create.ok_or_else(|| ShopifyError::Decode {
            op: op.label,
            message: "orderCreate returned null".into(),
        })?;
        match payload.order {
            Some(o) if payload.user_errors.is_empty() => Ok(Created::Order {
                id: o.id,
                name: o.name,
                total: o.total_price_set.map(|t| t.shop_money.amount),
            }),
            _ if !payload.user_errors.is_empty() => Ok(Created::Refused(payload.user_errors)),
            _ => Err(ShopifyError::Decode {
                op: op.label,
                message: "orderCreate returned neither an order nor userErrors".into(),
            }),
        }
    }

    /// Every order matching a search (`term()` builds the parts), cancelled ones
    /// included, oldest first as Shopify serves them.
    pub async fn find_orders(&self, query: &str) -> Result<Vec<ShopifyOrder>, ShopifyError> {
        self.orders_until(query, |_| false).await
    }

    /// The oldest order matching a search that also passes `wanted`; pages are read only
    /// until one does.
    pub async fn first_order(
        &self,
        query: &str,
        wanted: impl Fn(&ShopifyOrder) -> bool,
    ) -> Result<Option<ShopifyOrder>, ShopifyError> {
        let found = self.orders_until(query, &wanted).await?;
        Ok(found.into_iter().find(|o| wanted(o)))
    }

    async fn orders_until(
        &self,
        query: &str,
        done: impl Fn(&ShopifyOrder) -> bool,
    ) -> Result<Vec<ShopifyOrder>, ShopifyError> {
        #[derive(Deserialize)]
        struct Data {
            orders: Connection<OrderNode>,
        }
        // Ten orders a page (in the document): each carries up to 50 lines, and Shopify
        // refuses a query whose requested cost exceeds 1000 points (orders × lines).
        let variables = json!({ "query": query });
        let connection = |d: Data| -> Result<Connection<ShopifyOrder>, ShopifyError> {
            Ok(d.orders.map(ShopifyOrder::from))
        };
        let pages = self
            .pages_until(&queries::ORDERS, variables, connection, |page| {
                page.iter().any(&done)
            })
            .await?;
        Ok(pages.nodes)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn order() -> NewOrder {
        NewOrder {
            currency: "AUD".into(),
            email: Some("a@example.com".into()),
            line_items: vec![NewLine {
                variant_id: Some("gid://shopify/ProductVariant/1".into()),
                title: None,
                sku: None,
                quantity: 2,
                price_set: MoneyBag::new("49.95".parse().unwrap(), "AUD"),
                requires_shipping: true,
                taxable: true,
                properties: vec![LineProperty {
                    name: "Engraving".into(),
                    value: "For Sam".into(),
                }],
            }],
            shipping_lines: vec![],
            shipping_address: NewAddress::default(),
            financial_status: "PAID",
            transactions: vec![],
            tags: vec!["iconic".into()],
            note: "n".into(),
            source_identifier: "iconic:7".into(),
            custom_attributes: vec![],
            discount_code: Some(DiscountCode {
                item_fixed_discount_code: FixedDiscount {
                    code: "iconic discount".into(),
                    amount_set: MoneyBag::new("5".parse().unwrap(), "AUD"),
                },
            }),
        }
    }

    #[test]
    fn input_uses_shopifys_field_names_and_decimal_strings() {
        let v = serde_json::to_value(order()).unwrap();
        let line = &v["lineItems"][0];
        assert_eq!(line["variantId"], "gid://shopify/ProductVariant/1");
        assert_eq!(line["priceSet"]["shopMoney"]["amount"], "49.95");
        assert_eq!(line["priceSet"]["shopMoney"]["currencyCode"], "AUD");
        assert!(line.get("title").is_none(), "absent, not null: {line}");
        assert_eq!(v["sourceIdentifier"], "iconic:7");
        assert_eq!(v["financialStatus"], "PAID");
        assert_eq!(
            line["properties"],
            serde_json::json!([{"name": "Engraving", "value": "For Sam"}])
        );
        let discount = &v["discountCode"]["itemFixedDiscountCode"];
        assert_eq!(discount["amountSet"]["shopMoney"]["amount"], "5.00");
    }

    #[test]
    fn search_values_are_quoted_and_escaped() {
        assert_eq!(
            term("source_identifier", "iconic:7"),
            "source_identifier:'iconic:7'"
        );
        assert_eq!(term("tag", r"it's\x"), r"tag:'it\'s\\x'");
    }
}
