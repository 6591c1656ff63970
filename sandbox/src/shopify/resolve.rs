//! Field resolvers for the served schema, written once against a small interface
//! ([`Obj::resolve`]) that both apollo-compiler's executor (through [`Gql`]) and the
//! bulk-operation writer use.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;

use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use chrono::{DateTime, SecondsFormat, Utc};

use super::bulk::{BulkState, BulkView, RunPayload};
use super::cost;
use super::fulfil::{FulfilledLine, Fulfillment, Tracking};
use super::orders::{Amount, CreatePayload, LineItem, Order, OrderSearch, ShippingLine};
use super::search::{self, Cmp, Query, Searchable};
use super::store::{gid, parse_gid, Catalog, Level, Location, Product, Variant};

/// The largest page a connection serves (contract §2).
pub const MAX_PAGE: u64 = 250;

/// Inventory states the sandbox models; `on_hand` = `available` and `committed` = 0
/// because the sandbox has no open orders holding stock.
const QUANTITY_NAMES: [&str; 3] = ["available", "on_hand", "committed"];

#[derive(Clone, Copy)]
pub struct Ctx<'s> {
    pub cat: &'s Catalog,
    /// Bulk operations read whole connections: `first` and cursors are ignored.
    pub bulk: bool,
}

/// A resolved GraphQL object.
#[derive(Clone)]
pub enum Obj<'s> {
    /// `None` inside a bulk operation, which cannot see bulk operations.
    Query(Ctx<'s>, Option<&'s BulkState>),
    Shop(&'s Catalog),
    Location(Ctx<'s>, &'s Location),
    Product(&'s Product),
    Variant(Ctx<'s>, &'s Variant),
    Item(Ctx<'s>, &'s Variant),
    Level(Ctx<'s>, &'s Variant, u64, &'s Level),
    Quantity(&'s Variant, u64, &'s Level, &'static str),
    Connection(Rc<Page<'s>>),
    Edge(Rc<Page<'s>>, usize),
    PageInfo(Rc<Page<'s>>),
    BulkOperation(Rc<BulkView>),
    RunPayload(Rc<RunPayload>),
    UserError(Rc<RunPayload>, usize),
    Order(Ctx<'s>, &'s Order),
    LineItem(Ctx<'s>, &'s Order, &'s LineItem),
    Fulfillment(Ctx<'s>, &'s Order, &'s Fulfillment),
    TrackingInfo(&'s Tracking),
    FulfillmentLineItem(Ctx<'s>, &'s Order, &'s FulfilledLine),
    ShippingLine(&'s Order, &'s ShippingLine),
    /// An order's shipping address.
    Address(&'s Order, &'s JsonMap),
    Attribute(&'s str, &'s str),
    MoneyBag(Amount, &'s str),
    Money(Amount, &'s str),
    OrderCreatePayload(Ctx<'s>, Rc<CreatePayload>),
    OrderCreateUserError(Rc<CreatePayload>, usize),
}

/// What a field resolves to.
pub enum Out<'s> {
    Leaf(JsonValue),
    Object(Obj<'s>),
    List(Vec<Obj<'s>>),
}

impl<'s> Out<'s> {
    fn null() -> Self {
        Out::Leaf(JsonValue::Null)
    }

    fn maybe(obj: Option<Obj<'s>>) -> Self {
        obj.map_or_else(Out::null, Out::Object)
    }
}

fn leaf(v: impl Into<JsonValue>) -> Out<'static> {
    Out::Leaf(v.into())
}

pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One page of a connection, in the order served.
pub struct Page<'s> {
    node_type: &'static str,
    items: Vec<(u64, Obj<'s>)>,
    has_next: bool,
    has_prev: bool,
}

impl<'s> Page<'s> {
    /// The nodes of a connection (the bulk writer walks them directly).
    pub fn nodes(&self) -> impl Iterator<Item = &Obj<'s>> {
        self.items.iter().map(|(_, o)| o)
    }
}

/// Opaque cursors, base64 of a small JSON object as Shopify's are.
pub fn encode_cursor(key: u64) -> String {
    base64(format!("{{\"last_id\":{key}}}").as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = unbase64(cursor)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix("{\"last_id\":")?
        .strip_suffix('}')?
        .parse()
        .ok()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Arguments shared by every connection field.
struct ConnArgs {
    first: usize,
    after: Option<u64>,
    reverse: bool,
    query: Option<Query>,
}

impl ConnArgs {
    fn new(args: &JsonMap, bulk: bool) -> Self {
        let first = args.get("first").and_then(JsonValue::as_u64);
        let after = args
            .get("after")
            .and_then(JsonValue::as_str)
            .and_then(decode_cursor);
        ConnArgs {
            // Normal requests were checked for `first` before execution.
            first: if bulk {
                usize::MAX
            } else {
                first.unwrap_or(MAX_PAGE) as usize
            },
            after: if bulk { None } else { after },
            reverse: args
                .get("reverse")
                .and_then(JsonValue::as_bool)
                .unwrap_or(false),
            query: args
                .get("query")
                .and_then(JsonValue::as_str)
                .map(Query::parse),
        }
    }

    fn wants(&self, obj: &impl Searchable) -> bool {
        self.query.as_ref().is_none_or(|q| q.matches(obj))
    }

    /// The part of `map` after the cursor, in the requested direction.
    fn range<'m, V>(
        &self,
        map: &'m BTreeMap<u64, V>,
    ) -> Box<dyn Iterator<Item = (u64, &'m V)> + 'm> {
        let iter: Box<dyn Iterator<Item = (&u64, &V)>> = match (self.after, self.reverse) {
            (None, false) => Box::new(map.iter()),
            (None, true) => Box::new(map.iter().rev()),
            (Some(k), false) => Box::new(map.range((Bound::Excluded(k), Bound::Unbounded))),
            (Some(k), true) => Box::new(map.range(..k).rev()),
        };
        Box::new(iter.map(|(k, v)| (*k, v)))
    }

    fn page<'s>(
        &self,
        node_type: &'static str,
        items: impl Iterator<Item = (u64, Obj<'s>)>,
    ) -> Out<'s> {
        let mut items: Vec<_> = items.take(self.first.saturating_add(1)).collect();
        let has_next = items.len() > self.first;
        items.truncate(self.first);
        Out::Object(Obj::Connection(Rc::new(Page {
            node_type,
            items,
            has_next,
            has_prev: self.after.is_some(),
        })))
    }
}

struct VariantSearch<'a>(&'a Variant, Option<&'a Product>);

impl Searchable for VariantSearch<'_> {
    fn test(&self, field: &str, cmp: Cmp, value: &str) -> Option<bool> {
        let VariantSearch(v, p) = self;
        match field {
            "sku" => search::test_str(v.sku.as_deref(), cmp, value),
            "id" => search::test_id(v.id, cmp, value),
            "product_id" => search::test_id(v.product_id, cmp, value),
            // The product's tags; Shopify's tags ignore case.
            "tag" => Some(p.is_some_and(|p| p.tags.iter().any(|t| t.eq_ignore_ascii_case(value)))),
            // Shopify allows a comma-separated list of statuses.
            "product_status" => Some(p.is_some_and(|p| {
                value
                    .split(',')
                    .any(|s| s.trim().eq_ignore_ascii_case(p.status.as_str()))
            })),
            // A product change (e.g. status) must reach an incremental catalog read, so a
            // variant counts as updated when it or its product was.
            "updated_at" => {
                let at = p.map_or(v.updated_at, |p| p.updated_at.max(v.updated_at));
                search::test_time(at, cmp, value)
            }
            _ => None,
        }
    }
}

struct LevelSearch<'a>(&'a Variant, u64, &'a Level);

impl Searchable for LevelSearch<'_> {
    fn test(&self, field: &str, cmp: Cmp, value: &str) -> Option<bool> {
        let LevelSearch(v, loc, level) = self;
        match field {
            "updated_at" => search::test_time(level.updated_at, cmp, value),
            "inventory_item_id" => search::test_id(v.item_id, cmp, value),
            "location_id" => search::test_id(*loc, cmp, value),
            _ => None,
        }
    }
}

struct LocationSearch<'a>(&'a Location);

impl Searchable for LocationSearch<'_> {
    fn test(&self, field: &str, cmp: Cmp, value: &str) -> Option<bool> {
        match field {
            "id" => search::test_id(self.0.id, cmp, value),
            "name" => search::test_str(Some(&self.0.name), cmp, value),
            _ => None,
        }
    }
}

fn arg_str<'a>(args: &'a JsonMap, name: &str) -> Option<&'a str> {
    args.get(name).and_then(JsonValue::as_str)
}

fn arg_bool(args: &JsonMap, name: &str) -> bool {
    args.get(name).and_then(JsonValue::as_bool).unwrap_or(false)
}

impl<'s> Obj<'s> {
    pub fn type_name(&self) -> &'static str {
        match self {
            Obj::Query(..) => "QueryRoot",
            Obj::Shop(_) => "Shop",
            Obj::Location(..) => "Location",
            Obj::Product(_) => "Product",
            Obj::Variant(..) => "ProductVariant",
            Obj::Item(..) => "InventoryItem",
            Obj::Level(..) => "InventoryLevel",
            Obj::Quantity(..) => "InventoryQuantity",
            Obj::Connection(p) => connection_types(p.node_type).0,
            Obj::Edge(p, _) => connection_types(p.node_type).1,
            Obj::PageInfo(_) => "PageInfo",
            Obj::BulkOperation(_) => "BulkOperation",
            Obj::RunPayload(_) => "BulkOperationRunQueryPayload",
            Obj::UserError(..) => "BulkOperationUserError",
            Obj::Order(..) => "Order",
            Obj::LineItem(..) => "LineItem",
            Obj::Fulfillment(..) => "Fulfillment",
            Obj::TrackingInfo(_) => "FulfillmentTrackingInfo",
            Obj::FulfillmentLineItem(..) => "FulfillmentLineItem",
            Obj::ShippingLine(..) => "ShippingLine",
            Obj::Address(..) => "MailingAddress",
            Obj::Attribute(..) => "Attribute",
            Obj::MoneyBag(..) => "MoneyBag",
            Obj::Money(..) => "MoneyV2",
            Obj::OrderCreatePayload(..) => "OrderCreatePayload",
            Obj::OrderCreateUserError(..) => "OrderCreateUserError",
        }
    }

    /// Resolves `field`; `None` when this type has no such field.
    pub fn resolve(&self, field: &str, args: &JsonMap) -> Option<Out<'s>> {
        match self {
            Obj::Query(ctx, bulk) => query_field(*ctx, *bulk, field, args),
            Obj::Shop(cat) => Some(match field {
                "myshopifyDomain" => leaf(cat.shop.as_str()),
                "name" => leaf(cat.name.as_str()),
                _ => return None,
            }),
            Obj::Location(ctx, l) => location_field(*ctx, l, field, args),
            Obj::Product(p) => Some(match field {
                "id" => leaf(gid("Product", p.id)),
                "status" => leaf(p.status.as_str()),
                "tags" => leaf(p.tags.iter().map(String::as_str).collect::<Vec<_>>()),
                "title" => leaf(p.title.as_str()),
                "updatedAt" => leaf(time(p.updated_at)),
                _ => return None,
            }),
            Obj::Variant(ctx, v) => variant_field(*ctx, v, field),
            Obj::Item(ctx, v) => item_field(*ctx, v, field, args),
            Obj::Level(ctx, v, loc, level) => level_field(*ctx, v, *loc, level, field, args),
            Obj::Quantity(v, loc, level, name) => Some(match field {
                "id" => leaf(format!(
                    "gid://shopify/InventoryQuantity/{loc}?inventory_item_id={}&name={name}",
                    v.item_id
                )),
                "name" => leaf(*name),
                "quantity" => leaf(if *name == "committed" {
                    0
                } else {
                    level.available
                }),
                "updatedAt" => leaf(time(level.updated_at)),
                _ => return None,
            }),
            Obj::Connection(page) => Some(match field {
                "edges" => Out::List(
                    (0..page.items.len())
                        .map(|i| Obj::Edge(page.clone(), i))
                        .collect(),
                ),
                "nodes" => Out::List(page.nodes().cloned().collect()),
                "pageInfo" => Out::Object(Obj::PageInfo(page.clone())),
                _ => return None,
            }),
            Obj::Edge(page, i) => {
                let (key, node) = page.items.get(*i)?;
                Some(match field {
                    "cursor" => leaf(encode_cursor(*key)),
                    "node" => Out::Object(node.clone()),
                    _ => return None,
                })
            }
            Obj::PageInfo(page) => {
                let cursor = |item: Option<&(u64, Obj)>| {
                    item.map_or(JsonValue::Null, |(k, _)| encode_cursor(*k).into())
                };
                Some(match field {
                    "hasNextPage" => leaf(page.has_next),
                    "hasPreviousPage" => leaf(page.has_prev),
                    "startCursor" => Out::Leaf(cursor(page.items.first())),
                    "endCursor" => Out::Leaf(cursor(page.items.last())),
                    _ => return None,
                })
            }
            Obj::BulkOperation(op) => op.field(field).map(Out::Leaf),
            Obj::RunPayload(p) => Some(match field {
                "bulkOperation" => {
                    Out::maybe(p.operation.clone().map(|v| Obj::BulkOperation(Rc::new(v))))
                }
                "userErrors" => Out::List(
                    (0..p.errors.len())
                        .map(|i| Obj::UserError(p.clone(), i))
                        .collect(),
                ),
                _ => return None,
            }),
            Obj::UserError(p, i) => p.errors.get(*i)?.field(field).map(Out::Leaf),
            Obj::Order(ctx, o) => order_field(*ctx, o, field, args),
            Obj::LineItem(ctx, o, l) => Some(match field {
                "id" => leaf(gid("LineItem", l.id)),
                "sku" => leaf(l.sku.as_deref()),
                "title" | "name" => leaf(l.title.as_str()),
                "quantity" => leaf(l.quantity),
                "currentQuantity" => leaf(l.current_quantity),
                "unfulfilledQuantity" => leaf(o.unfulfilled_quantity(l.id)),
                "variant" => Out::maybe(
                    l.variant_id
                        .and_then(|id| ctx.cat.variants.get(&id))
                        .map(|v| Obj::Variant(*ctx, v)),
                ),
                "originalUnitPriceSet" => Out::Object(Obj::MoneyBag(l.unit_price, &o.currency)),
                "customAttributes" => Out::List(
                    l.properties
                        .iter()
                        .map(|(k, v)| Obj::Attribute(k, v))
                        .collect(),
                ),
                _ => return None,
            }),
            Obj::Fulfillment(ctx, o, f) => fulfillment_field(*ctx, o, f, field, args),
            Obj::TrackingInfo(t) => Some(match field {
                "company" => leaf(t.company.as_deref()),
                "number" => leaf(t.number.as_deref()),
                "url" => leaf(t.url.as_deref()),
                _ => return None,
            }),
            Obj::FulfillmentLineItem(ctx, o, l) => Some(match field {
                "id" => leaf(gid("FulfillmentLineItem", l.id)),
                "quantity" => leaf(l.quantity),
                "lineItem" => Out::maybe(
                    o.line_items
                        .get(&l.line_item_id)
                        .map(|line| Obj::LineItem(*ctx, o, line)),
                ),
                _ => return None,
            }),
            Obj::ShippingLine(o, s) => Some(match field {
                "id" => leaf(gid("ShippingLine", s.id)),
                "title" => leaf(s.title.as_str()),
                "code" => leaf(s.code.as_deref()),
                "originalPriceSet" => Out::Object(Obj::MoneyBag(s.price, &o.currency)),
                _ => return None,
            }),
            Obj::Address(o, a) => Some(match field {
                "id" => leaf(format!(
                    "{}?model_name=Address",
                    gid("MailingAddress", o.id)
                )),
                "countryCodeV2" => Out::Leaf(a.get("countryCode").cloned().unwrap_or_default()),
                "name" => {
                    let part = |k: &str| a.get(k).and_then(JsonValue::as_str);
                    let parts: Vec<&str> = [part("firstName"), part("lastName")]
                        .into_iter()
                        .flatten()
                        .collect();
                    leaf((!parts.is_empty()).then(|| parts.join(" ")))
                }
                "address1" | "address2" | "city" | "company" | "firstName" | "lastName"
                | "phone" | "provinceCode" | "zip" => {
                    Out::Leaf(a.get(field).cloned().unwrap_or_default())
                }
                _ => return None,
            }),
            Obj::Attribute(key, value) => Some(match field {
                "key" => leaf(*key),
                "value" => leaf(*value),
                _ => return None,
            }),
            // No presentment currency: both sides of the bag are the shop's money.
            Obj::MoneyBag(amount, currency) => Some(match field {
                "shopMoney" | "presentmentMoney" => Out::Object(Obj::Money(*amount, currency)),
                _ => return None,
            }),
            Obj::Money(amount, currency) => Some(match field {
                "amount" => leaf(amount.to_string()),
                "currencyCode" => leaf(*currency),
                _ => return None,
            }),
            Obj::OrderCreatePayload(ctx, p) => Some(match field {
                "order" => Out::maybe(
                    p.order
                        .and_then(|id| ctx.cat.orders.orders.get(&id))
                        .map(|o| Obj::Order(*ctx, o)),
                ),
                "userErrors" => Out::List(
                    (0..p.errors.len())
                        .map(|i| Obj::OrderCreateUserError(p.clone(), i))
                        .collect(),
                ),
                _ => return None,
            }),
            Obj::OrderCreateUserError(p, i) => p.errors.get(*i)?.field(field).map(Out::Leaf),
        }
    }
}

/// (connection, edge) type names of a node type.
fn connection_types(node_type: &str) -> (&'static str, &'static str) {
    match node_type {
        "Location" => ("LocationConnection", "LocationEdge"),
        "ProductVariant" => ("ProductVariantConnection", "ProductVariantEdge"),
        "Order" => ("OrderConnection", "OrderEdge"),
        "LineItem" => ("LineItemConnection", "LineItemEdge"),
        "ShippingLine" => ("ShippingLineConnection", "ShippingLineEdge"),
        "FulfillmentLineItem" => ("FulfillmentLineItemConnection", "FulfillmentLineItemEdge"),
        _ => ("InventoryLevelConnection", "InventoryLevelEdge"),
    }
}

fn query_field<'s>(
    ctx: Ctx<'s>,
    bulk: Option<&'s BulkState>,
    field: &str,
    args: &JsonMap,
) -> Option<Out<'s>> {
    let cat = ctx.cat;
    Some(match field {
        "shop" => Out::Object(Obj::Shop(cat)),
        // Without an id, Shopify answers with the shop's primary location.
        "location" => Out::maybe(
            match arg_str(args, "id") {
                Some(id) => parse_gid("Location", id).and_then(|id| cat.locations.get(&id)),
                None => cat.locations.values().find(|l| l.active),
            }
            .map(|l| Obj::Location(ctx, l)),
        ),
        // Ordered by id whatever `sortKey` says: stable, which is what clients rely on.
        "locations" => {
            let conn = ConnArgs::new(args, ctx.bulk);
            let inactive = arg_bool(args, "includeInactive");
            let items = conn
                .range(&cat.locations)
                .filter(|(_, l)| (inactive || l.active) && conn.wants(&LocationSearch(l)))
                .map(|(k, l)| (k, Obj::Location(ctx, l)));
            conn.page("Location", items)
        }
        "productVariants" => {
            let conn = ConnArgs::new(args, ctx.bulk);
            let items = conn
                .range(&cat.variants)
                .filter(|(_, v)| conn.wants(&VariantSearch(v, cat.products.get(&v.product_id))))
                .map(|(k, v)| (k, Obj::Variant(ctx, v)));
            conn.page("ProductVariant", items)
        }
        // Ordered by id whatever `sortKey` says (see `orders`).
        "orders" => {
            let conn = ConnArgs::new(args, ctx.bulk);
            let items = conn
                .range(&cat.orders.orders)
                .filter(|(_, o)| conn.wants(&OrderSearch(o)))
                .map(|(k, o)| (k, Obj::Order(ctx, o)));
            conn.page("Order", items)
        }
        "currentBulkOperation" => {
            let query_type = arg_str(args, "type").is_none_or(|t| t == "QUERY");
            let op = bulk.filter(|_| query_type).and_then(BulkState::poll);
            Out::maybe(op.map(|v| Obj::BulkOperation(Rc::new(v))))
        }
        _ => return None,
    })
}

fn location_field<'s>(
    ctx: Ctx<'s>,
    l: &'s Location,
    field: &str,
    args: &JsonMap,
) -> Option<Out<'s>> {
    let cat = ctx.cat;
    Some(match field {
        "id" => leaf(gid("Location", l.id)),
        "name" => leaf(l.name.as_str()),
        "isActive" => leaf(l.active),
        "fulfillsOnlineOrders" => leaf(true),
        "updatedAt" => leaf(time(l.updated_at)),
        "inventoryLevel" => {
            let level = arg_str(args, "inventoryItemId")
                .and_then(|id| parse_gid("InventoryItem", id))
                .and_then(|item| cat.variants.get(cat.items.get(&item)?))
                .and_then(|v| Some(Obj::Level(ctx, v, l.id, v.levels.get(&l.id)?)));
            Out::maybe(level)
        }
        // Ordered by inventory item id; only items stocked at this location.
        "inventoryLevels" => {
            let conn = ConnArgs::new(args, ctx.bulk);
            let items = conn
                .range(&cat.items)
                .filter_map(|(k, vid)| {
                    let v = cat.variants.get(vid)?;
                    Some((k, v, v.levels.get(&l.id)?))
                })
                .filter(|(_, v, level)| conn.wants(&LevelSearch(v, l.id, level)))
                .map(|(k, v, level)| (k, Obj::Level(ctx, v, l.id, level)));
            conn.page("InventoryLevel", items)
        }
        _ => return None,
    })
}

fn order_field<'s>(ctx: Ctx<'s>, o: &'s Order, field: &str, args: &JsonMap) -> Option<Out<'s>> {
    let money = |amount| Out::Object(Obj::MoneyBag(amount, &o.currency));
    Some(match field {
        "id" => leaf(gid("Order", o.id)),
        "name" => leaf(o.name.as_str()),
        "createdAt" | "processedAt" => leaf(time(o.created_at)),
        "updatedAt" => leaf(time(o.updated_at)),
        "cancelledAt" => leaf(o.cancelled_at.map(time)),
        "closed" => leaf(o.closed),
        "edited" => leaf(o.edited),
        "currencyCode" => leaf(o.currency.as_str()),
        "email" => leaf(o.email.as_deref()),
        "note" => leaf(o.note.as_deref()),
        "sourceIdentifier" => leaf(o.source_identifier.as_deref()),
        "sourceName" => leaf(o.source_name.as_deref()),
        "tags" => leaf(o.tags.iter().map(String::as_str).collect::<Vec<_>>()),
        "displayFinancialStatus" => leaf(o.financial_status.as_str()),
        "displayFulfillmentStatus" => leaf(o.display_fulfillment_status().as_str()),
        // A plain list, cancelled fulfilments included, oldest first.
        "fulfillments" => Out::List(
            o.fulfillments
                .values()
                .take(list_limit(args))
                .map(|f| Obj::Fulfillment(ctx, o, f))
                .collect(),
        ),
        "customAttributes" => Out::List(
            o.custom_attributes
                .iter()
                .map(|(k, v)| Obj::Attribute(k, v))
                .collect(),
        ),
        "totalPriceSet" => money(o.total_price()),
        "currentTotalPriceSet" => money(o.current_total_price()),
        "shippingAddress" => Out::maybe(o.shipping_address.as_ref().map(|a| Obj::Address(o, a))),
        "lineItems" => {
            let conn = ConnArgs::new(args, ctx.bulk);
            let items = conn
                .range(&o.line_items)
                .map(|(k, l)| (k, Obj::LineItem(ctx, o, l)));
            conn.page("LineItem", items)
        }
        "shippingLines" => {
            let conn = ConnArgs::new(args, ctx.bulk);
            let items = conn
                .range(&o.shipping_lines)
                .map(|(k, s)| (k, Obj::ShippingLine(o, s)));
            conn.page("ShippingLine", items)
        }
        _ => return None,
    })
}

fn fulfillment_field<'s>(
    ctx: Ctx<'s>,
    o: &'s Order,
    f: &'s Fulfillment,
    field: &str,
    args: &JsonMap,
) -> Option<Out<'s>> {
    Some(match field {
        "id" => leaf(gid("Fulfillment", f.id)),
        "name" => leaf(f.name.as_str()),
        "status" => leaf(f.status.as_str()),
        "createdAt" => leaf(time(f.created_at)),
        "updatedAt" => leaf(time(f.updated_at)),
        "trackingInfo" => Out::List(
            f.tracking_info()
                .into_iter()
                .take(list_limit(args))
                .map(Obj::TrackingInfo)
                .collect(),
        ),
        "fulfillmentLineItems" => {
            let conn = ConnArgs::new(args, ctx.bulk);
            let items = conn
                .range(&f.lines)
                .map(|(k, l)| (k, Obj::FulfillmentLineItem(ctx, o, l)));
            conn.page("FulfillmentLineItem", items)
        }
        _ => return None,
    })
}

/// `first` of a plain list ("truncate the array result to this size"); all without it.
fn list_limit(args: &JsonMap) -> usize {
    args.get("first")
        .and_then(JsonValue::as_i64)
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(0))
}

fn variant_field<'s>(ctx: Ctx<'s>, v: &'s Variant, field: &str) -> Option<Out<'s>> {
    let product = ctx.cat.products.get(&v.product_id);
    Some(match field {
        "id" => leaf(gid("ProductVariant", v.id)),
        "title" => leaf(v.title.as_str()),
        "displayName" => leaf(format!(
            "{} - {}",
            product.map_or("", |p| p.title.as_str()),
            v.title
        )),
        "sku" => leaf(v.sku.as_deref()),
        "inventoryQuantity" => leaf(v.inventory_quantity()),
        // Shopify's default; the fixture format does not model overselling.
        "inventoryPolicy" => leaf("DENY"),
        "updatedAt" => leaf(time(v.updated_at)),
        "product" => Out::maybe(product.map(Obj::Product)),
        "inventoryItem" => Out::Object(Obj::Item(ctx, v)),
        _ => return None,
    })
}

fn item_field<'s>(ctx: Ctx<'s>, v: &'s Variant, field: &str, args: &JsonMap) -> Option<Out<'s>> {
    Some(match field {
        "id" => leaf(gid("InventoryItem", v.item_id)),
        "sku" => leaf(v.sku.as_deref()),
        "tracked" => leaf(v.tracked),
        "updatedAt" => leaf(time(v.updated_at)),
        "variant" => Out::Object(Obj::Variant(ctx, v)),
        "inventoryLevel" => {
            let level = arg_str(args, "locationId")
                .and_then(|id| parse_gid("Location", id))
                .and_then(|loc| Some(Obj::Level(ctx, v, loc, v.levels.get(&loc)?)));
            Out::maybe(level)
        }
        // Ordered by location id.
        "inventoryLevels" => {
            let conn = ConnArgs::new(args, ctx.bulk);
            let items = conn
                .range(&v.levels)
                .filter(|(loc, level)| conn.wants(&LevelSearch(v, *loc, level)))
                .map(|(loc, level)| (loc, Obj::Level(ctx, v, loc, level)));
            conn.page("InventoryLevel", items)
        }
        _ => return None,
    })
}

fn level_field<'s>(
    ctx: Ctx<'s>,
    v: &'s Variant,
    loc: u64,
    level: &'s Level,
    field: &str,
    args: &JsonMap,
) -> Option<Out<'s>> {
    Some(match field {
        // Shopify's level ids carry the location id and the item id.
        "id" => leaf(format!(
            "gid://shopify/InventoryLevel/{loc}?inventory_item_id={}",
            v.item_id
        )),
        "createdAt" => leaf(time(level.created_at)),
        "updatedAt" => leaf(time(level.updated_at)),
        "item" => Out::Object(Obj::Item(ctx, v)),
        "location" => Out::maybe(ctx.cat.locations.get(&loc).map(|l| Obj::Location(ctx, l))),
        "quantities" => {
            let names = args.get("names").and_then(JsonValue::as_array);
            let quantities = names
                .into_iter()
                .flatten()
                .filter_map(|n| QUANTITY_NAMES.into_iter().find(|q| Some(*q) == n.as_str()))
                .map(|name| Obj::Quantity(v, loc, level, name))
                .collect();
            Out::List(quantities)
        }
        _ => return None,
    })
}

/// apollo-compiler's view of an [`Obj`]; counts the actual query cost as objects are
/// resolved (same weights as the requested cost, see [`cost::type_weight`]).
pub struct Gql<'s, 'c> {
    pub obj: Obj<'s>,
    pub cost: &'c Cell<u64>,
}

impl<'s, 'c> Gql<'s, 'c> {
    pub fn wrap<'a>(obj: Obj<'s>, weight: u64, cost: &'c Cell<u64>) -> ResolvedValue<'a>
    where
        's: 'a,
        'c: 'a,
    {
        cost.set(cost.get() + weight);
        ResolvedValue::object(Gql { obj, cost })
    }
}

impl ObjectValue for Gql<'_, '_> {
    fn type_name(&self) -> &str {
        self.obj.type_name()
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let Some(out) = self.obj.resolve(info.field_name(), info.arguments()) else {
            return Err(self.unknown_field_error(info));
        };
        let wrap = |o: Obj<'a>| {
            let weight = cost::type_weight(o.type_name());
            Gql::wrap(o, weight, self.cost)
        };
        Ok(match out {
            // apollo-compiler wants lists of scalars item by item.
            Out::Leaf(JsonValue::Array(items)) if info.field_definition().ty.is_list() => {
                ResolvedValue::list(items.into_iter().map(ResolvedValue::Leaf))
            }
            Out::Leaf(v) => ResolvedValue::Leaf(v),
            Out::Object(o) => wrap(o),
            Out::List(list) => ResolvedValue::list(list.into_iter().map(wrap)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for key in [0, 1, 5001, u64::MAX] {
            assert_eq!(decode_cursor(&encode_cursor(key)), Some(key));
        }
        assert_eq!(encode_cursor(1), "eyJsYXN0X2lkIjoxfQ==");
        assert_eq!(decode_cursor("not a cursor"), None);
        assert_eq!(decode_cursor(&base64(b"{\"last_id\":x}")), None);
    }
}
