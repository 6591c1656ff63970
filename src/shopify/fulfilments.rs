//! Fulfilments read back from Shopify (contract §6): the orders a search finds (the
//! caller's "shipped since T" query), each with its fulfilments' status, first tracking
//! entry and the SKUs and quantities they cover, for the push to the channel.
//!
//! Page sizes in `queries/FulfilledOrders.graphql` and the requested cost they give by
//! the published formula (contract §2: object 1, connection 2 + first × node cost,
//! scalars 0). The plain lists `fulfillments(first:)` and `trackingInfo(first:)` are
//! counted at their `first` too, the worst case (the formula only sizes connections):
//!
//! ```text
//! fulfilled line = FulfillmentLineItem 1 + lineItem 1                         =   2
//! fulfilment     = 1 + trackingInfo 1 × 1 + fulfillmentLineItems (2 + 20 × 2) =  44
//! order          = 1 + fulfillments 5 × 44                                    = 221
//! page           = orders 2 + 4 × 221                                         = 886 ≤ 1000
//! ```
//!
//! The limits that follow: an order's fulfilments after the 5th and a fulfilment's lines
//! after the 20th are not read (later pages are not fetched). Orders shipped in more than
//! 5 parcels, or with more than 20 SKUs in one parcel, are rare.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::wire::Connection;
use super::{queries, ShopifyClient, ShopifyError};

/// An order with its fulfilments, cancelled ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilledOrder {
    pub id: String,
    /// `#1001`.
    pub name: String,
    pub source_identifier: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub fulfillments: Vec<Fulfillment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfillment {
    pub id: String,
    /// SUCCESS, CANCELLED, ERROR, FAILURE (kept as text: the enum grows)
    pub status: String,
    pub updated_at: Option<DateTime<Utc>>,
    /// First tracking entry's fields (None when absent).
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
    /// What it fulfilled: (sku, quantity) per fulfillment line item.
    pub lines: Vec<FulfilledLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilledLine {
    pub sku: Option<String>,
    pub quantity: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderNode {
    id: String,
    name: String,
    source_identifier: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    fulfillments: Vec<FulfillmentNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentNode {
    id: String,
    status: String,
    updated_at: Option<DateTime<Utc>>,
    tracking_info: Vec<TrackingNode>,
    fulfillment_line_items: Nodes<LineNode>,
}

#[derive(Deserialize)]
struct TrackingNode {
    company: Option<String>,
    number: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct Nodes<N> {
    nodes: Vec<N>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineNode {
    /// Nullable in Shopify's schema: a null is a decode error, not a guessed quantity.
    quantity: i64,
    line_item: SkuNode,
}

#[derive(Deserialize)]
struct SkuNode {
    sku: Option<String>,
}

impl From<OrderNode> for FulfilledOrder {
    fn from(n: OrderNode) -> Self {
        FulfilledOrder {
            id: n.id,
            name: n.name,
            source_identifier: n.source_identifier,
            updated_at: n.updated_at,
            fulfillments: n.fulfillments.into_iter().map(Fulfillment::from).collect(),
        }
    }
}

impl From<FulfillmentNode> for Fulfillment {
    fn from(n: FulfillmentNode) -> Self {
        let (company, number, url) = n
            .tracking_info
            .into_iter()
            .next()
            .map_or((None, None, None), |t| (t.company, t.number, t.url));
        Fulfillment {
            id: n.id,
            status: n.status,
            updated_at: n.updated_at,
            company,
            number,
            url,
            lines: n
                .fulfillment_line_items
                .nodes
                .into_iter()
                .map(|l| FulfilledLine {
                    sku: l.line_item.sku,
                    quantity: l.quantity,
                })
                .collect(),
        }
    }
}

impl ShopifyClient {
    /// Orders matching `query`, every page, least recently updated first, with their
    /// fulfilments. The caller builds the search, e.g. `tag:'iconic' AND
    /// updated_at:>'T' AND (fulfillment_status:shipped OR fulfillment_status:partial)`.
    pub async fn fulfilled_orders(&self, query: &str) -> Result<Vec<FulfilledOrder>, ShopifyError> {
        #[derive(Deserialize)]
        struct Data {
            orders: Connection<OrderNode>,
        }
        let variables = json!({ "query": query });
        let pages = self
            .pages(
                &queries::FULFILLED_ORDERS,
                variables,
                |d: Data| Ok(d.orders),
            )
            .await?;
        Ok(pages.nodes.into_iter().map(FulfilledOrder::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_sizes_are_the_ones_the_cost_comment_counts() {
        let document = queries::FULFILLED_ORDERS.document;
        for literal in [
            "orders(first: 4,",
            "fulfillments(first: 5)",
            "trackingInfo(first: 1)",
            "fulfillmentLineItems(first: 20)",
        ] {
            assert!(document.contains(literal), "{literal} changed: recount");
        }
        let fulfilment = 1 + 1 + 2 + 20 * 2;
        let page = 2 + 4 * (1 + 5 * fulfilment);
        assert_eq!(queries::FULFILLED_ORDERS.estimated_cost, f64::from(page));
        assert!(page <= 1000, "Shopify refuses a query over 1000 points");
    }
}
