//! The GraphQL operations skubridge sends, each read from `queries/<Name>.graphql`.

/// One GraphQL document and what the transport needs to know about it.
#[derive(Debug)]
pub(super) struct Operation {
    /// The operation name inside the document (and its file name).
    pub name: &'static str,
    /// The request-count label: `graphql <name>`.
    pub label: &'static str,
    pub document: &'static str,
    /// Requested cost assumed before Shopify has reported the real one, for pacing.
    pub estimated_cost: f64,
    /// Mutations are not re-sent after a failure whose outcome is unknown.
    pub mutation: bool,
}

macro_rules! operation {
    ($name:literal, cost: $cost:expr, mutation: $mutation:expr) => {
        Operation {
            name: $name,
            label: concat!("graphql ", $name),
            document: include_str!(concat!("queries/", $name, ".graphql")),
            estimated_cost: $cost,
            mutation: $mutation,
        }
    };
}

// The estimated costs follow the older published formula (object 1, connection
// 2 + first × per-node cost, mutation 10), UNCONFIRMED for 2026; they only matter
// until the first reply reports `requestedQueryCost`.
pub(super) const SHOP: Operation = operation!("Shop", cost: 1.0, mutation: false);
pub(super) const LOCATIONS: Operation = operation!("Locations", cost: 252.0, mutation: false);
pub(super) const VARIANTS: Operation = operation!("Variants", cost: 752.0, mutation: false);
pub(super) const LEVELS_SINCE: Operation = operation!("LevelsSince", cost: 753.0, mutation: false);
pub(super) const BULK_RUN: Operation =
    operation!("BulkOperationRunQuery", cost: 10.0, mutation: true);
pub(super) const CURRENT_BULK: Operation =
    operation!("CurrentBulkOperation", cost: 1.0, mutation: false);

pub(super) const ORDER_CREATE: Operation = operation!("OrderCreate", cost: 10.0, mutation: true);
pub(super) const ORDERS: Operation = operation!("Orders", cost: 532.0, mutation: false);
/// Counted in `fulfilments.rs`.
pub(super) const FULFILLED_ORDERS: Operation =
    operation!("FulfilledOrders", cost: 886.0, mutation: false);

/// The query the bulk operation runs: every variant and its levels at every location.
pub(super) const BULK_CATALOG: &str = include_str!("queries/bulk/Catalog.graphql");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_document_declares_the_operation_named_like_its_file() {
        for op in [
            SHOP,
            LOCATIONS,
            VARIANTS,
            LEVELS_SINCE,
            BULK_RUN,
            CURRENT_BULK,
            ORDER_CREATE,
            ORDERS,
            FULFILLED_ORDERS,
        ] {
            let keyword = if op.mutation { "mutation" } else { "query" };
            let mut words = op.document.split(|c: char| !c.is_alphanumeric());
            assert_eq!(words.next(), Some(keyword), "{}", op.name);
            assert_eq!(words.next(), Some(op.name));
            assert_eq!(op.label, format!("graphql {}", op.name));
        }
    }
}
