//! Fulfilments of orders (contract §6): what a merchant does in the admin when they ship,
//! read back through `Order.fulfillments`, `Order.displayFulfillmentStatus`,
//! `LineItem.unfulfilledQuantity` and the `fulfillment_status:` search filter. The control
//! API creates them, edits their tracking and cancels them.
//!
//! Simplifications: fulfilments are created directly (no fulfillment orders, holds or
//! fulfilment services), every line counts as fulfillable whether or not it requires
//! shipping, and a live fulfilment is always SUCCESS.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::orders::{Order, OrderBook};
use super::store::{gid, ChangeError};

/// UNCONFIRMED: whether editing a fulfilment's tracking info bumps `Order.updatedAt` on
/// real Shopify (contract §6). The sandbox says it does; with `false` only the
/// fulfilment's own `updatedAt` would move, which is the case a client must also survive
/// (it re-scans recent orders and compares `Fulfillment.updatedAt`).
pub const TRACKING_EDIT_BUMPS_ORDER: bool = true;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentStatus {
    Success,
    Cancelled,
}

impl FulfillmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FulfillmentStatus::Success => "SUCCESS",
            FulfillmentStatus::Cancelled => "CANCELLED",
        }
    }
}

/// `FulfillmentTrackingInfo`: every part is optional in Shopify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
}

impl Tracking {
    fn is_empty(&self) -> bool {
        self.company.is_none() && self.number.is_none() && self.url.is_none()
    }
}

/// A `FulfillmentLineItem`: part of one order line.
pub struct FulfilledLine {
    pub id: u64,
    pub line_item_id: u64,
    pub quantity: i64,
}

pub struct Fulfillment {
    pub id: u64,
    pub name: String,
    pub status: FulfillmentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub tracking: Tracking,
    /// Keyed by fulfilment line item id, which is also the connection order.
    pub lines: BTreeMap<u64, FulfilledLine>,
}

impl Fulfillment {
    fn is_live(&self) -> bool {
        self.status == FulfillmentStatus::Success
    }

    /// Shopify keeps one tracking entry per number; the sandbox sets at most one, and a
    /// fulfilment without any tracking detail has none.
    pub fn tracking_info(&self) -> Option<&Tracking> {
        (!self.tracking.is_empty()).then_some(&self.tracking)
    }

    fn dump(&self, order: &Order) -> Value {
        let lines: Vec<Value> = self
            .lines
            .values()
            .map(|l| {
                let sku = order.line_items.get(&l.line_item_id).map(|li| &li.sku);
                json!({"id": gid("FulfillmentLineItem", l.id),
                       "line_item_id": gid("LineItem", l.line_item_id),
                       "sku": sku, "quantity": l.quantity})
            })
            .collect();
        json!({
            "id": gid("Fulfillment", self.id), "name": self.name,
            "status": self.status.as_str(),
            "created_at": self.created_at, "updated_at": self.updated_at,
            "company": self.tracking.company, "number": self.tracking.number,
            "url": self.tracking.url, "lines": lines,
        })
    }
}

/// Shop-wide fulfilment id sequences and where each fulfilment lives.
#[derive(Default)]
pub struct Ledger {
    last_id: u64,
    last_line_id: u64,
    /// Fulfilment id -> order id.
    order_of: HashMap<u64, u64>,
}

/// What `displayFulfillmentStatus` can be in the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayStatus {
    Unfulfilled,
    PartiallyFulfilled,
    Fulfilled,
}

impl DisplayStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DisplayStatus::Unfulfilled => "UNFULFILLED",
            DisplayStatus::PartiallyFulfilled => "PARTIALLY_FULFILLED",
            DisplayStatus::Fulfilled => "FULFILLED",
        }
    }
}

impl Order {
    /// Units of line `line_id` in live fulfilments.
    fn fulfilled_quantity(&self, line_id: u64) -> i64 {
        self.fulfillments
            .values()
            .filter(|f| f.is_live())
            .flat_map(|f| f.lines.values())
            .filter(|l| l.line_item_id == line_id)
            .map(|l| l.quantity)
            .sum()
    }

    /// `LineItem.unfulfilledQuantity`: what is left of the line after edits and live
    /// fulfilments.
    pub fn unfulfilled_quantity(&self, line_id: u64) -> i64 {
        let current = self
            .line_items
            .get(&line_id)
            .map_or(0, |l| l.current_quantity);
        (current - self.fulfilled_quantity(line_id)).max(0)
    }

    pub fn display_fulfillment_status(&self) -> DisplayStatus {
        let fulfilled = self
            .line_items
            .keys()
            .any(|id| self.fulfilled_quantity(*id) > 0);
        let open = self
            .line_items
            .keys()
            .any(|id| self.unfulfilled_quantity(*id) > 0);
        match (fulfilled, open) {
            (false, _) => DisplayStatus::Unfulfilled,
            (true, true) => DisplayStatus::PartiallyFulfilled,
            (true, false) => DisplayStatus::Fulfilled,
        }
    }

    pub fn dump_fulfillments(&self) -> Vec<Value> {
        self.fulfillments.values().map(|f| f.dump(self)).collect()
    }
}

/// The `fulfillment_status:` search filter; `None` for a value Shopify does not list.
///
/// UNCONFIRMED: Shopify documents the values for `orders(query:)` (contract §6) but not
/// their meaning there; the sandbox gives them the meaning of the REST Admin API's
/// `fulfillment_status` parameter: `shipped` = `fulfilled` (every unit fulfilled),
/// `partial` (some), `unshipped` (none), `unfulfilled` (none or some, i.e. not all).
/// `scheduled`, `on_hold` and `request_declined` never match: the sandbox has no
/// fulfillment orders to hold, schedule or decline.
pub fn status_filter(order: &Order, value: &str) -> Option<bool> {
    use DisplayStatus::{Fulfilled, PartiallyFulfilled, Unfulfilled};
    let status = order.display_fulfillment_status();
    Some(match value.to_ascii_lowercase().as_str() {
        "shipped" | "fulfilled" => status == Fulfilled,
        "partial" => status == PartiallyFulfilled,
        "unshipped" => status == Unfulfilled,
        "unfulfilled" => status != Fulfilled,
        "scheduled" | "on_hold" | "request_declined" => false,
        _ => return None,
    })
}

/// A control-API tracking edit: `None` leaves a part as it is, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct TrackingPatch {
    pub company: Option<Option<String>>,
    pub number: Option<Option<String>>,
    pub url: Option<Option<String>>,
}

impl OrderBook {
    /// Fulfils `lines` (line id, quantity) of order `order_id`, or every unfulfilled unit
    /// when `lines` is `None`. Returns the new fulfilment's id.
    pub fn fulfil(
        &mut self,
        order_id: u64,
        tracking: Tracking,
        lines: Option<&[(u64, i64)]>,
        now: DateTime<Utc>,
    ) -> Result<u64, ChangeError> {
        let order = self.get(order_id)?;
        if order.cancelled_at.is_some() {
            return Err(ChangeError::Conflict(format!(
                "order {order_id} is cancelled: it cannot be fulfilled"
            )));
        }
        let wanted = match lines {
            None => {
                let all: BTreeMap<u64, i64> = order
                    .line_items
                    .keys()
                    .map(|id| (*id, order.unfulfilled_quantity(*id)))
                    .filter(|(_, q)| *q > 0)
                    .collect();
                if all.is_empty() {
                    return Err(ChangeError::Conflict(format!(
                        "order {order_id} has nothing left to fulfil"
                    )));
                }
                all
            }
            Some(lines) => requested_lines(order, lines)?,
        };
        let ledger = &mut self.fulfilments;
        ledger.last_id += 1;
        let id = ledger.last_id;
        let lines = wanted
            .into_iter()
            .map(|(line_item_id, quantity)| {
                ledger.last_line_id += 1;
                let line = FulfilledLine {
                    id: ledger.last_line_id,
                    line_item_id,
                    quantity,
                };
                (line.id, line)
            })
            .collect();
        ledger.order_of.insert(id, order_id);
        let order = self.get_mut(order_id)?;
        // UNCONFIRMED: Shopify's fulfilment names look like `#1001.1` (order name, then
        // the fulfilment's number within the order).
        let name = format!("{}.{}", order.name, order.fulfillments.len() + 1);
        order.fulfillments.insert(
            id,
            Fulfillment {
                id,
                name,
                status: FulfillmentStatus::Success,
                created_at: now,
                updated_at: now,
                tracking,
                lines,
            },
        );
        order.updated_at = now;
        Ok(id)
    }

    /// Changes a live fulfilment's tracking info. Returns its order's id.
    pub fn edit_tracking(
        &mut self,
        id: u64,
        patch: TrackingPatch,
        now: DateTime<Utc>,
    ) -> Result<u64, ChangeError> {
        let order = self.order_of_fulfillment(id)?;
        let f = live(order, id, "its tracking cannot change")?;
        let t = &mut f.tracking;
        for (part, new) in [
            (&mut t.company, patch.company),
            (&mut t.number, patch.number),
            (&mut t.url, patch.url),
        ] {
            if let Some(new) = new {
                *part = new;
            }
        }
        f.updated_at = now;
        if TRACKING_EDIT_BUMPS_ORDER {
            order.updated_at = now;
        }
        Ok(order.id)
    }

    /// Cancels a live fulfilment: its units count as unfulfilled again. Returns its
    /// order's id.
    pub fn cancel_fulfillment(&mut self, id: u64, now: DateTime<Utc>) -> Result<u64, ChangeError> {
        let order = self.order_of_fulfillment(id)?;
        let f = live(order, id, "it cannot be cancelled again")?;
        f.status = FulfillmentStatus::Cancelled;
        f.updated_at = now;
        order.updated_at = now;
        Ok(order.id)
    }

    fn order_of_fulfillment(&mut self, id: u64) -> Result<&mut Order, ChangeError> {
        let order_id = self.fulfilments.order_of.get(&id).copied();
        let order_id =
            order_id.ok_or_else(|| ChangeError::NotFound(format!("unknown fulfillment {id}")))?;
        self.get_mut(order_id)
    }
}

/// Fulfilment `id` of `order` if it is live; `why` says what a cancelled one cannot do.
fn live<'o>(order: &'o mut Order, id: u64, why: &str) -> Result<&'o mut Fulfillment, ChangeError> {
    match order.fulfillments.get_mut(&id) {
        Some(f) if f.is_live() => Ok(f),
        Some(_) => Err(ChangeError::Conflict(format!(
            "fulfillment {id} is cancelled: {why}"
        ))),
        None => Err(ChangeError::NotFound(format!("unknown fulfillment {id}"))),
    }
}

/// Checks the control API's `lines` against what each line has left; quantities of a
/// line named twice add up.
fn requested_lines(order: &Order, lines: &[(u64, i64)]) -> Result<BTreeMap<u64, i64>, ChangeError> {
    if lines.is_empty() {
        return Err(ChangeError::Invalid(
            "lines is empty: leave it out to fulfil every unfulfilled line".into(),
        ));
    }
    let mut wanted: BTreeMap<u64, i64> = BTreeMap::new();
    for (line_id, quantity) in lines {
        if *quantity < 1 {
            return Err(ChangeError::Invalid(format!(
                "line {line_id}: quantity must be at least 1"
            )));
        }
        if !order.line_items.contains_key(line_id) {
            return Err(ChangeError::NotFound(format!(
                "order {} has no line {line_id}",
                order.id
            )));
        }
        *wanted.entry(*line_id).or_default() += quantity;
    }
    for (line_id, quantity) in &wanted {
        let left = order.unfulfilled_quantity(*line_id);
        if *quantity > left {
            return Err(ChangeError::Conflict(format!(
                "line {line_id} has {left} unfulfilled, cannot fulfil {quantity}"
            )));
        }
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use serde_json::json;

    use super::super::resolve::time;
    use super::super::store::now;
    use super::super::tests::{fixture, gql, http, running};
    use super::super::ShopifyState;
    use super::*;

    /// What skubridge reads back (contract §6 "Shipped", smaller pages).
    const SHIPPED: &str = r#"
query Shipped($q: String!, $after: String) {
  orders(first: 10, after: $after, query: $q, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id name sourceIdentifier updatedAt displayFulfillmentStatus cancelledAt edited
      fulfillments(first: 10) { id name status createdAt updatedAt
        trackingInfo(first: 5) { company number url }
        fulfillmentLineItems(first: 10) { nodes { id quantity lineItem { id sku } } } }
      lineItems(first: 10) { nodes { id sku quantity currentQuantity unfulfilledQuantity } } }
  }
}"#;

    /// A store with orders `#1001`.. of 3 × LS-WHT-S and 1 × LS-WHT-M each, tagged
    /// `mp:iconic:N` for order N.
    fn store(orders: u64) -> ShopifyState {
        let mut st = ShopifyState::new(fixture());
        for n in 1..=orders {
            let order = json!({"lineItems": [
                {"variantId": "gid://shopify/ProductVariant/1001", "quantity": 3},
                {"variantId": "gid://shopify/ProductVariant/1002", "quantity": 1}],
                "tags": [format!("mp:iconic:{n}")], "sourceIdentifier": format!("iconic:{n}")});
            let reply = gql(
                &mut st,
                "mutation($o: OrderCreateOrderInput!) { orderCreate(order: $o) { order { id } } }",
                json!({"o": order}),
            );
            assert!(
                reply["data"]["orderCreate"]["order"]["id"].is_string(),
                "{reply}"
            );
        }
        st
    }

    /// The ids of order 1's two lines.
    fn lines(st: &ShopifyState, order: u64) -> (u64, u64) {
        let mut ids = st.catalog.orders.orders[&order].line_items.keys().copied();
        (ids.next().unwrap(), ids.next().unwrap())
    }

    fn tracking(company: &str, number: &str) -> Tracking {
        Tracking {
            company: Some(company.into()),
            number: Some(number.into()),
            url: None,
        }
    }

    fn shipped(st: &mut ShopifyState, q: &str) -> Value {
        let reply = gql(st, SHIPPED, json!({"q": q}));
        assert!(reply.get("errors").is_none(), "{reply}");
        reply["data"]["orders"]["nodes"].clone()
    }

    fn names(nodes: &Value) -> Vec<&str> {
        let nodes = nodes.as_array().expect("a list");
        nodes.iter().map(|n| n["name"].as_str().unwrap()).collect()
    }

    #[test]
    fn fulfilling_some_then_the_rest_reads_back_with_tracking_and_lines() {
        let mut st = store(1);
        let (shirt, other) = lines(&st, 1);
        let o = &shipped(&mut st, "")[0];
        assert_eq!(o["displayFulfillmentStatus"], "UNFULFILLED");
        assert_eq!(o["fulfillments"], json!([]));
        assert_eq!(o["lineItems"]["nodes"][0]["unfulfilledQuantity"], 3);

        let t1 = now() + TimeDelta::seconds(10);
        let orders = &mut st.catalog.orders;
        let first = orders.fulfil(
            1,
            tracking("Australia Post", "TRK1"),
            Some(&[(shirt, 2)]),
            t1,
        );
        let first = first.unwrap();
        let o = &shipped(&mut st, "")[0];
        assert_eq!(o["displayFulfillmentStatus"], "PARTIALLY_FULFILLED");
        assert_eq!(o["updatedAt"], time(t1));
        let f = &o["fulfillments"][0];
        assert_eq!(f["id"], gid("Fulfillment", first));
        assert_eq!(f["name"], "#1001.1");
        assert_eq!(f["status"], "SUCCESS");
        assert_eq!(
            (&f["createdAt"], &f["updatedAt"]),
            (&json!(time(t1)), &json!(time(t1)))
        );
        assert_eq!(
            f["trackingInfo"],
            json!([{"company": "Australia Post", "number": "TRK1", "url": null}])
        );
        let fulfilled = &f["fulfillmentLineItems"]["nodes"];
        assert_eq!(fulfilled.as_array().unwrap().len(), 1);
        assert_eq!(fulfilled[0]["quantity"], 2);
        assert_eq!(
            fulfilled[0]["lineItem"],
            json!({"id": gid("LineItem", shirt), "sku": "LS-WHT-S"})
        );
        let left: Vec<&Value> = o["lineItems"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| &l["unfulfilledQuantity"])
            .collect();
        assert_eq!(left, [&json!(1), &json!(1)]);

        // No lines: the rest of every line, here without any tracking detail.
        let t2 = t1 + TimeDelta::seconds(5);
        let second = st.catalog.orders.fulfil(1, Tracking::default(), None, t2);
        let second = second.unwrap();
        let o = &shipped(&mut st, "")[0];
        assert_eq!(o["displayFulfillmentStatus"], "FULFILLED");
        let f = &o["fulfillments"][1];
        assert_eq!(f["id"], gid("Fulfillment", second));
        assert_eq!(f["name"], "#1001.2");
        assert_eq!(f["trackingInfo"], json!([]));
        let quantities: Vec<(&Value, &Value)> = f["fulfillmentLineItems"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (&n["lineItem"]["id"], &n["quantity"]))
            .collect();
        assert_eq!(
            quantities,
            [
                (&json!(gid("LineItem", shirt)), &json!(1)),
                (&json!(gid("LineItem", other)), &json!(1))
            ]
        );
        assert!(o["lineItems"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["unfulfilledQuantity"] == 0));
        // `first` truncates both plain lists.
        let reply = gql(
            &mut st,
            "{ orders(first: 1) { nodes { fulfillments(first: 1) { name trackingInfo(first: 0) { number } } } } }",
            json!({}),
        );
        assert_eq!(
            reply["data"]["orders"]["nodes"][0]["fulfillments"],
            json!([{"name": "#1001.1", "trackingInfo": []}])
        );
    }

    #[test]
    fn over_fulfilment_bad_lines_and_cancelled_orders_are_refused() {
        let mut st = store(2);
        let (shirt, other) = lines(&st, 1);
        let orders = &mut st.catalog.orders;
        let at = now();
        let refused = |r: Result<u64, ChangeError>| r.expect_err("refused");
        let t = Tracking::default;
        assert!(matches!(
            refused(orders.fulfil(1, t(), Some(&[(shirt, 4)]), at)),
            ChangeError::Conflict(m) if m.contains("has 3 unfulfilled")
        ));
        // A line named twice adds up.
        assert!(matches!(
            refused(orders.fulfil(1, t(), Some(&[(shirt, 2), (shirt, 2)]), at)),
            ChangeError::Conflict(_)
        ));
        assert!(matches!(
            refused(orders.fulfil(1, t(), Some(&[(other, 0)]), at)),
            ChangeError::Invalid(_)
        ));
        assert!(matches!(
            refused(orders.fulfil(1, t(), Some(&[]), at)),
            ChangeError::Invalid(_)
        ));
        // Order 2's line is not order 1's.
        let (foreign, _) = lines(&st, 2);
        let orders = &mut st.catalog.orders;
        assert!(matches!(
            refused(orders.fulfil(1, t(), Some(&[(foreign, 1)]), at)),
            ChangeError::NotFound(_)
        ));
        assert!(matches!(
            refused(orders.fulfil(9, t(), None, at)),
            ChangeError::NotFound(_)
        ));
        orders.fulfil(1, t(), None, at).unwrap();
        assert!(matches!(
            refused(orders.fulfil(1, t(), None, at)),
            ChangeError::Conflict(m) if m.contains("nothing left")
        ));
        // An order edit lowers what is left to fulfil.
        let (shirt2, _) = lines(&st, 2);
        let orders = &mut st.catalog.orders;
        orders.set_line_quantity(2, shirt2, 1, at).unwrap();
        assert!(orders.fulfil(2, t(), Some(&[(shirt2, 2)]), at).is_err());
        orders.cancel(2, at).unwrap();
        assert!(matches!(
            refused(orders.fulfil(2, t(), None, at)),
            ChangeError::Conflict(m) if m.contains("cancelled")
        ));
        assert_eq!(orders.orders[&2].fulfillments.len(), 0);
    }

    #[test]
    fn tracking_edits_and_cancels_stamp_the_fulfilment_and_the_order() {
        let mut st = store(1);
        let t0 = now() + TimeDelta::seconds(10);
        let orders = &mut st.catalog.orders;
        let id = orders
            .fulfil(1, tracking("Australia Post", "TRK 1"), None, t0)
            .unwrap();
        let t1 = t0 + TimeDelta::seconds(5);
        let patch = TrackingPatch {
            number: Some(Some("TRK1".into())),
            url: Some(Some("https://auspost.com.au/track/TRK1".into())),
            ..Default::default()
        };
        assert_eq!(orders.edit_tracking(id, patch, t1), Ok(1));
        let o = &shipped(&mut st, "")[0];
        let f = &o["fulfillments"][0];
        assert_eq!(
            f["trackingInfo"][0],
            json!({"company": "Australia Post", "number": "TRK1",
                   "url": "https://auspost.com.au/track/TRK1"})
        );
        assert_eq!(
            (&f["createdAt"], &f["updatedAt"]),
            (&json!(time(t0)), &json!(time(t1)))
        );
        let bumped = if TRACKING_EDIT_BUMPS_ORDER { t1 } else { t0 };
        assert_eq!(o["updatedAt"], time(bumped));
        // The order is found in a window that starts after the fulfilment was created.
        let window = format!("updated_at:>'{}'", time(t0));
        assert_eq!(
            names(&shipped(&mut st, &window)).len(),
            usize::from(TRACKING_EDIT_BUMPS_ORDER)
        );

        let clear = TrackingPatch {
            company: Some(None),
            ..Default::default()
        };
        let orders = &mut st.catalog.orders;
        orders.edit_tracking(id, clear, t1).unwrap();
        assert_eq!(orders.orders[&1].fulfillments[&id].tracking.company, None);

        let t2 = t1 + TimeDelta::seconds(5);
        assert_eq!(orders.cancel_fulfillment(id, t2), Ok(1));
        let o = &shipped(&mut st, "")[0];
        assert_eq!(o["fulfillments"][0]["status"], "CANCELLED");
        assert_eq!(o["fulfillments"][0]["updatedAt"], time(t2));
        assert_eq!(o["updatedAt"], time(t2));
        assert_eq!(o["displayFulfillmentStatus"], "UNFULFILLED");
        assert_eq!(o["lineItems"]["nodes"][0]["unfulfilledQuantity"], 3);

        let orders = &mut st.catalog.orders;
        assert!(matches!(
            orders.cancel_fulfillment(id, t2),
            Err(ChangeError::Conflict(_))
        ));
        assert!(matches!(
            orders.edit_tracking(id, TrackingPatch::default(), t2),
            Err(ChangeError::Conflict(_))
        ));
        assert!(matches!(
            orders.cancel_fulfillment(99, t2),
            Err(ChangeError::NotFound(_))
        ));
        // The cancelled units can be fulfilled again: a new fulfilment, numbered on.
        let again = orders
            .fulfil(1, tracking("Sendle", "S1"), None, t2)
            .unwrap();
        assert_eq!(orders.orders[&1].fulfillments[&again].name, "#1001.2");
        assert_eq!(
            orders.orders[&1].display_fulfillment_status(),
            DisplayStatus::Fulfilled
        );
    }

    #[test]
    fn orders_are_searched_by_fulfilment_status_and_update_time() {
        // #1001 untouched, #1002 partial, #1003 fulfilled, #1004 fulfilled then cancelled.
        let mut st = store(4);
        let t0 = now() + TimeDelta::seconds(10);
        let (shirt, _) = lines(&st, 2);
        let orders = &mut st.catalog.orders;
        orders
            .fulfil(2, tracking("StarTrack", "ST2"), Some(&[(shirt, 1)]), t0)
            .unwrap();
        orders
            .fulfil(3, tracking("Australia Post", "AP3"), None, t0)
            .unwrap();
        let f4 = orders
            .fulfil(4, tracking("Australia Post", "AP4"), None, t0)
            .unwrap();
        orders.cancel_fulfillment(f4, t0).unwrap();

        let found = |st: &mut ShopifyState, q: &str| -> Vec<String> {
            names(&shipped(st, q))
                .into_iter()
                .map(String::from)
                .collect()
        };
        assert_eq!(found(&mut st, "fulfillment_status:shipped"), ["#1003"]);
        assert_eq!(found(&mut st, "fulfillment_status:fulfilled"), ["#1003"]);
        assert_eq!(found(&mut st, "fulfillment_status:partial"), ["#1002"]);
        assert_eq!(
            found(&mut st, "fulfillment_status:unshipped"),
            ["#1001", "#1004"]
        );
        assert_eq!(
            found(&mut st, "fulfillment_status:unfulfilled"),
            ["#1001", "#1002", "#1004"]
        );
        assert!(found(&mut st, "fulfillment_status:on_hold").is_empty());
        assert_eq!(found(&mut st, "fulfillment_status:invented").len(), 4);

        // The contract's "Shipped" search: changed since T, shipped or partial, tagged.
        let since = time(t0 - TimeDelta::seconds(1));
        let q = |tag: &str| {
            format!(
                "updated_at:>'{since}' AND (fulfillment_status:shipped OR fulfillment_status:partial) AND tag:'mp:iconic:{tag}'"
            )
        };
        assert_eq!(found(&mut st, &q("2")), ["#1002"]);
        assert_eq!(found(&mut st, &q("3")), ["#1003"]);
        assert!(found(&mut st, &q("4")).is_empty());
        let later = format!("updated_at:>'{}' AND fulfillment_status:shipped", time(t0));
        assert!(found(&mut st, &later).is_empty());
    }

    /// The control routes over HTTP, and the state dump.
    #[tokio::test]
    async fn http_control_fulfils_edits_and_cancels() {
        let sb = running().await;
        let create = r#"mutation { orderCreate(order: {lineItems: [
            {variantId: "gid://shopify/ProductVariant/1001", quantity: 3},
            {variantId: "gid://shopify/ProductVariant/1002", quantity: 1}]}) { order { id } } }"#;
        let (status, body) =
            super::super::tests::post_graphql(sb.addr, super::super::tests::TOKEN, create).await;
        assert_eq!(status, 200, "{body}");
        let (shirt, other) = lines(&sb.app.shopify.lock().unwrap(), 1);
        let json_head = |line: &str| format!("{line} HTTP/1.1\r\nContent-Type: application/json");
        let fulfil = json_head("POST /_sandbox/shopify/orders/1/fulfillments");
        let call = |head: String, body: Value| async move {
            let (status, reply) = http(sb.addr, &head, &body.to_string()).await;
            (status, serde_json::from_str::<Value>(&reply).unwrap())
        };

        let over = json!({"lines": [{"line_item_id": shirt, "quantity": 4}]});
        let (status, reply) = call(fulfil.clone(), over).await;
        assert_eq!(status, 409);
        assert!(
            reply["error"].as_str().unwrap().contains("unfulfilled"),
            "{reply}"
        );
        let bad_gid = json!({"lines": [{"line_item_id": "gid://shopify/Order/1", "quantity": 1}]});
        assert_eq!(call(fulfil.clone(), bad_gid).await.0, 400);
        let typo = json!({"tracking_number": "X"});
        assert_eq!(call(fulfil.clone(), typo).await.0, 400);

        let some = json!({"company": "Australia Post", "number": "TRK123", "url": null,
            "lines": [{"line_item_id": gid("LineItem", shirt), "quantity": 2}]});
        let (status, o) = call(fulfil.clone(), some).await;
        assert_eq!(status, 200, "{o}");
        assert_eq!(o["display_fulfillment_status"], "PARTIALLY_FULFILLED");
        let f = &o["fulfillments"][0];
        assert_eq!(f["id"], "gid://shopify/Fulfillment/1");
        assert_eq!(
            (&f["company"], &f["number"], &f["url"]),
            (&json!("Australia Post"), &json!("TRK123"), &Value::Null)
        );
        assert_eq!(
            f["lines"],
            json!([{"id": "gid://shopify/FulfillmentLineItem/1",
                "line_item_id": gid("LineItem", shirt), "sku": "LS-WHT-S", "quantity": 2}])
        );
        assert_eq!(o["line_items"][0]["unfulfilled_quantity"], 1);
        assert_eq!(o["line_items"][1]["unfulfilled_quantity"], 1);

        let rest = json!({"company": "StarTrack", "number": "ST9"});
        let (status, o) = call(fulfil.clone(), rest).await;
        assert_eq!(status, 200, "{o}");
        assert_eq!(o["display_fulfillment_status"], "FULFILLED");
        let rest_lines: Vec<(&Value, &Value)> = o["fulfillments"][1]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (&l["line_item_id"], &l["quantity"]))
            .collect();
        assert_eq!(
            rest_lines,
            [
                (&json!(gid("LineItem", shirt)), &json!(1)),
                (&json!(gid("LineItem", other)), &json!(1)),
            ]
        );

        let edit = json_head("PATCH /_sandbox/shopify/fulfillments/1");
        let (status, o) = call(
            edit.clone(),
            json!({"number": "TRK124", "url": "https://t/1"}),
        )
        .await;
        assert_eq!(status, 200, "{o}");
        assert_eq!(o["fulfillments"][0]["number"], "TRK124");
        assert_eq!(o["fulfillments"][0]["company"], "Australia Post");
        assert_eq!(call(edit.clone(), json!({})).await.0, 400);
        assert_eq!(call(edit.clone(), json!({"carrier": "X"})).await.0, 400);
        assert_eq!(call(edit.clone(), json!({"number": 5})).await.0, 400);
        let missing = json_head("PATCH /_sandbox/shopify/fulfillments/77");
        assert_eq!(call(missing, json!({"number": "X"})).await.0, 404);

        let cancel = json_head("POST /_sandbox/shopify/fulfillments/1/cancel");
        let (status, o) = call(cancel.clone(), Value::Null).await;
        assert_eq!(status, 200, "{o}");
        assert_eq!(o["fulfillments"][0]["status"], "CANCELLED");
        assert_eq!(o["display_fulfillment_status"], "PARTIALLY_FULFILLED");
        assert_eq!(o["line_items"][0]["unfulfilled_quantity"], 2);
        assert_eq!(call(cancel, Value::Null).await.0, 409);
        assert_eq!(call(edit, json!({"number": "X"})).await.0, 409);

        let order_cancel = json_head("POST /_sandbox/shopify/orders/1/cancel");
        assert_eq!(http(sb.addr, &order_cancel, "").await.0, 200);
        let (status, reply) = call(fulfil, json!({})).await;
        assert_eq!(status, 409);
        assert!(reply["error"].as_str().unwrap().contains("cancelled"));
        let (status, _) = call(
            json_head("POST /_sandbox/shopify/orders/5/fulfillments"),
            json!({}),
        )
        .await;
        assert_eq!(status, 404);

        let (_, orders) = http(sb.addr, "GET /_sandbox/shopify/orders HTTP/1.1", "").await;
        let orders: Value = serde_json::from_str(&orders).unwrap();
        assert_eq!(orders[0]["fulfillments"].as_array().unwrap().len(), 2);
        let (_, state) = http(sb.addr, "GET /_sandbox/state HTTP/1.1", "").await;
        let state: Value = serde_json::from_str(&state).unwrap();
        assert_eq!(state["shopify"]["orders"], orders);
    }
}
