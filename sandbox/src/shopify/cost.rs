//! Query cost and the per-token leaky bucket (contract §2).
//!
//! The model (Shopify documents the weights, not the exact arithmetic):
//! - scalar and enum fields cost 0;
//! - an object costs 1, a connection 2, an edge and `pageInfo` 0 (they are part of the
//!   connection's 2);
//! - a list multiplies its items' cost: `edges`/`nodes` by the connection's `first`,
//!   `quantities(names:)` by the number of names, any other list counts one item;
//! - a mutation field costs 10 on top of what it selects.
//!
//! So `productVariants(first: 250) { nodes { id product { id } inventoryItem { id } } }`
//! requests 2 + 250 × 3 = 752, the figure seen in Shopify's own THROTTLED replies. The
//! actual cost uses the same weights over what was really returned (see
//! `resolve::Gql`); the difference is refunded to the bucket.

use std::time::Instant;

use apollo_compiler::executable::{Field, Operation, OperationType, SelectionSet};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::ExecutableDocument;
use serde_json::{json, Value};

use super::doc;
use super::graphql::error_json;
use super::resolve::{decode_cursor, MAX_PAGE};

/// Largest requested cost of one query, whatever the plan (contract §2).
pub const MAX_QUERY_COST: u64 = 1000;
/// Cost of a mutation field (older Shopify docs; UNCONFIRMED for 2026, contract §2).
pub const MUTATION_COST: u64 = 10;
/// `maximumAvailable` = this many seconds of restore (Shopify publishes only restore
/// rates now; clients must read the bucket size from `throttleStatus`).
const BUCKET_SECONDS: f64 = 20.0;

/// UNCONFIRMED: the exact code name of the single-query-limit error (contract §2).
pub const MAX_COST_EXCEEDED: &str = "MAX_COST_EXCEEDED";
/// UNCONFIRMED wording of the pagination argument errors; the contract quotes only
/// "first cannot exceed 250…" (community thread).
const FIRST_MISSING: &str = "you must provide one of first or last";
const FIRST_TOO_LARGE: &str = "The first argument cannot exceed 250.";
const BAD_CURSOR: &str = "Invalid cursor for current pagination sort.";

pub fn type_weight(type_name: &str) -> u64 {
    if type_name.ends_with("Connection") {
        2
    } else if type_name.ends_with("Edge") || type_name == "PageInfo" {
        0
    } else {
        1
    }
}

/// Requested cost of `op`, and the argument errors (pagination) that stop it running.
pub struct Analysis {
    pub requested: u64,
    pub errors: Vec<Value>,
}

pub fn analyze(doc: &ExecutableDocument, op: &Operation, vars: &JsonMap) -> Analysis {
    let mut walker = Walker {
        doc,
        vars,
        errors: Vec::new(),
    };
    let extra = if op.operation_type == OperationType::Mutation {
        MUTATION_COST
    } else {
        0
    };
    let mut requested = 0;
    for (_, fields) in doc::collect(doc, &[&op.selection_set], vars) {
        requested += extra + walker.field(&fields, None);
    }
    Analysis {
        requested,
        errors: walker.errors,
    }
}

struct Walker<'d, 'v> {
    doc: &'d ExecutableDocument,
    vars: &'v JsonMap,
    errors: Vec<Value>,
}

impl<'d> Walker<'d, '_> {
    /// Cost of one response key; `page` is the enclosing connection's page size.
    fn field(&mut self, fields: &[&'d Field], page: Option<u64>) -> u64 {
        let field = fields[0];
        let sets = doc::sub_selections(fields);
        if sets.iter().all(|s| s.selections.is_empty()) {
            return 0;
        }
        let type_name = field.selection_set.ty.as_str();
        let child_page = type_name
            .ends_with("Connection")
            .then(|| self.page_size(field));
        let count = if !field.ty().is_list() {
            1
        } else if let Some(size) = page {
            size
        } else {
            let names = field.specified_argument_by_name("names");
            let names = names.map(|v| doc::value(v, self.vars));
            names
                .as_ref()
                .and_then(JsonValue::as_array)
                .map_or(1, |n| n.len() as u64)
        };
        count * (type_weight(type_name) + self.selection(&sets, child_page))
    }

    fn selection(&mut self, sets: &[&'d SelectionSet], page: Option<u64>) -> u64 {
        doc::collect(self.doc, sets, self.vars)
            .into_iter()
            .map(|(_, fields)| self.field(&fields, page))
            .sum()
    }

    /// `first`, checked as Shopify checks it before running anything.
    fn page_size(&mut self, field: &Field) -> u64 {
        let arg = |name: &str| {
            field
                .specified_argument_by_name(name)
                .map(|v| doc::value(v, self.vars))
                .filter(|v| !v.is_null())
        };
        let after = arg("after");
        if after.is_some_and(|a| a.as_str().and_then(decode_cursor).is_none()) {
            self.error(field, BAD_CURSOR);
        }
        match arg("first").and_then(|v| v.as_i64()) {
            None => {
                self.error(field, FIRST_MISSING);
                0
            }
            Some(n) if n > MAX_PAGE as i64 => {
                self.error(field, FIRST_TOO_LARGE);
                MAX_PAGE
            }
            Some(n) => n.max(0) as u64,
        }
    }

    fn error(&mut self, field: &Field, message: &str) {
        let location = doc::location(self.doc, field);
        self.errors.push(error_json(message, location, None));
    }
}

/// The error a query over the single-query limit gets instead of data.
pub fn max_cost_error(requested: u64) -> Value {
    json!({
        "message": format!(
            "Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."
        ),
        "extensions": {
            "code": MAX_COST_EXCEEDED,
            "cost": requested,
            "maxCost": MAX_QUERY_COST,
            "documentation": "https://shopify.dev/api/usage/rate-limits",
        },
    })
}

/// One access token's leaky bucket.
pub struct Bucket {
    restore_rate: f64,
    available: f64,
    at: Instant,
}

impl Bucket {
    pub fn new(restore_rate: f64) -> Self {
        Bucket {
            restore_rate,
            available: restore_rate * BUCKET_SECONDS,
            at: Instant::now(),
        }
    }

    fn maximum(&self) -> f64 {
        self.restore_rate * BUCKET_SECONDS
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let secs = now.duration_since(self.at).as_secs_f64();
        self.available = (self.available + secs * self.restore_rate).min(self.maximum());
        self.at = now;
    }

    /// Takes `cost` points if the bucket holds them.
    pub fn take(&mut self, cost: u64) -> bool {
        self.refill();
        let ok = self.available >= cost as f64;
        if ok {
            self.available -= cost as f64;
        }
        ok
    }

    /// Returns points the query requested but did not use.
    pub fn refund(&mut self, points: u64) {
        self.available = (self.available + points as f64).min(self.maximum());
    }

    #[cfg(test)]
    pub fn drain(&mut self) {
        self.available = 0.0;
    }

    /// `extensions.cost` of a reply; `actual` is `None` when nothing ran.
    pub fn report(&mut self, requested: u64, actual: Option<u64>) -> Value {
        self.refill();
        json!({
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.maximum(),
                "currentlyAvailable": self.available.floor() as u64,
                "restoreRate": self.restore_rate,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_takes_refunds_and_caps() {
        let mut b = Bucket::new(100.0);
        assert!(b.take(1500));
        assert!(!b.take(600));
        b.refund(10_000);
        let report = b.report(1, Some(1));
        assert_eq!(report["throttleStatus"]["currentlyAvailable"], 2000);
        assert_eq!(report["throttleStatus"]["maximumAvailable"], 2000.0);
    }
}
