//! The stock rule (design §7), pure: `target = clamp(available − reserve, 0, max)`,
//! 0 for products that are not sellable, and only differences are pushed. The
//! arithmetic saturates: no input, however wrong, turns a shortage into stock.

use serde::Serialize;

use crate::db::stock::StockRow;

#[derive(Debug, Clone, Copy)]
pub struct StockRules {
    pub reserve: i64,
    pub max: Option<i64>,
}

/// One line of the plan (also what `sync --dry-run` prints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedPush {
    pub product_id: String,
    pub sku: String,
    pub shopify_available: i64,
    pub reserve: i64,
    /// What the channel holds as far as skubridge knows (its last accepted push).
    pub channel_now: Option<i64>,
    pub new: i64,
}

/// Shopify product statuses whose stock is offered on channels. UNLISTED (2025-10+) is
/// sellable, only hidden from the storefront's search and collections.
fn sellable(status: Option<&str>) -> bool {
    matches!(status, Some("ACTIVE" | "UNLISTED"))
}

pub fn target(row: &StockRow, rules: StockRules) -> i64 {
    if !sellable(row.product_status.as_deref()) {
        return 0;
    }
    let t = row.available.saturating_sub(rules.reserve.max(0)).max(0);
    rules.max.map_or(t, |m| t.min(m.max(0)))
}

/// What to push, in the order of `rows`. A `full` plan (reconcile) pushes every
/// target, repairing manual edits on the channel; otherwise a target the channel
/// already holds, or last refused unchanged, is skipped.
pub fn plan(rows: &[StockRow], rules: StockRules, full: bool) -> Vec<PlannedPush> {
    rows.iter()
        .filter_map(|row| {
            let new = target(row, rules);
            let skip = !full && (row.pushed == Some(new) || row.refused == Some(new));
            (!skip).then(|| PlannedPush {
                product_id: row.product_id.clone(),
                sku: row.sku.clone(),
                shopify_available: row.available,
                reserve: rules.reserve,
                channel_now: row.pushed,
                new,
            })
        })
        .collect()
}

/// A plan as it is shown: by SKU, then product id.
pub fn in_display_order(plan: &mut [PlannedPush]) {
    plan.sort_by(|a, b| {
        a.sku
            .cmp(&b.sku)
            .then_with(|| a.product_id.cmp(&b.product_id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(available: i64, pushed: Option<i64>) -> StockRow {
        StockRow {
            product_id: "1".into(),
            sku: "S".into(),
            product_status: Some("ACTIVE".into()),
            available,
            pushed,
            refused: None,
        }
    }

    const RULES: StockRules = StockRules {
        reserve: 1,
        max: None,
    };

    #[test]
    fn target_subtracts_reserve_and_never_goes_negative() {
        assert_eq!(target(&row(10, None), RULES), 9);
        assert_eq!(target(&row(1, None), RULES), 0);
        assert_eq!(target(&row(-3, None), RULES), 0);
    }

    proptest::proptest! {
        /// The probe's overflow (reserve near i64::MAX turned available −2 into 15) and
        /// every other extreme: the target is never negative, never more than Shopify
        /// has, never over the cap, and exact wherever nothing saturates.
        #[test]
        fn the_rule_holds_over_the_whole_i64_range(
            available in proptest::prelude::any::<i64>(),
            reserve in proptest::prelude::any::<i64>(),
            max in proptest::option::of(proptest::prelude::any::<i64>()),
            sellable in proptest::prelude::any::<bool>(),
        ) {
            let r = StockRow {
                product_status: Some(if sellable { "ACTIVE" } else { "DRAFT" }.into()),
                ..row(available, None)
            };
            let t = target(&r, StockRules { reserve, max });
            proptest::prop_assert!(t >= 0);
            proptest::prop_assert!(t <= available.max(0));
            if let Some(m) = max {
                proptest::prop_assert!(t <= m.max(0));
            }
            if !sellable || available <= reserve.max(0) {
                proptest::prop_assert_eq!(t, 0);
            }
            if sellable && max.is_none() && (0..=available).contains(&reserve) {
                proptest::prop_assert_eq!(t, available - reserve);
            }
        }
    }

    #[test]
    fn extreme_inputs_never_turn_a_shortage_into_stock() {
        let rules = StockRules {
            reserve: i64::MAX,
            max: None,
        };
        assert_eq!(target(&row(-2, None), rules), 0);
        assert_eq!(target(&row(i64::MIN, None), RULES), 0);
        assert_eq!(target(&row(i64::MAX, None), RULES), i64::MAX - 1);
    }

    #[test]
    fn max_caps_the_target() {
        let rules = StockRules {
            reserve: 0,
            max: Some(5),
        };
        assert_eq!(target(&row(10, None), rules), 5);
        assert_eq!(target(&row(3, None), rules), 3);
    }

    #[test]
    fn unsellable_or_deleted_products_push_zero() {
        for status in [Some("DRAFT"), Some("ARCHIVED"), None] {
            let r = StockRow {
                product_status: status.map(Into::into),
                ..row(10, Some(9))
            };
            assert_eq!(target(&r, RULES), 0, "{status:?}");
        }
        let unlisted = StockRow {
            product_status: Some("UNLISTED".into()),
            ..row(10, None)
        };
        assert_eq!(target(&unlisted, RULES), 9);
    }

    #[test]
    fn only_differences_are_planned_unless_full() {
        let rows = [row(10, Some(9)), row(5, Some(9)), row(7, None)];
        let p = plan(&rows, RULES, false);
        assert_eq!(p.iter().map(|p| p.new).collect::<Vec<_>>(), [4, 6]);
        assert_eq!(p[0].channel_now, Some(9));
        assert_eq!(plan(&rows, RULES, true).len(), 3);
    }

    #[test]
    fn a_refused_quantity_is_not_offered_again_until_it_changes() {
        let refused = StockRow {
            refused: Some(9),
            ..row(10, None)
        };
        assert!(plan(std::slice::from_ref(&refused), RULES, false).is_empty());
        let changed = StockRow {
            available: 11,
            ..refused.clone()
        };
        assert_eq!(plan(&[changed], RULES, false)[0].new, 10);
        assert_eq!(plan(&[refused], RULES, true).len(), 1, "reconcile retries");
    }

    proptest::proptest! {
        /// The plan: one line per row whose target the channel does not already hold
        /// (or last refused), every row on a reconcile; each line the rule's target,
        /// never negative, within the cap, and leaving the reserve in Shopify; shown in
        /// SKU order.
        #[test]
        fn the_plan_pushes_the_rules_target_where_it_differs(
            rows in proptest::collection::vec(
                (
                    "[AB]{1,2}",
                    -5i64..30,
                    proptest::option::of(-2i64..30),
                    proptest::option::of(-2i64..30),
                    proptest::prop_oneof![
                        proptest::strategy::Just(Some("ACTIVE")),
                        proptest::strategy::Just(Some("UNLISTED")),
                        proptest::strategy::Just(Some("DRAFT")),
                        proptest::strategy::Just(None),
                    ],
                ),
                0..12,
            ),
            reserve in -3i64..10,
            max in proptest::option::of(-2i64..20),
            full in proptest::prelude::any::<bool>(),
        ) {
            let rows: Vec<StockRow> = rows
                .into_iter()
                .enumerate()
                .map(|(i, (sku, available, pushed, refused, status))| StockRow {
                    product_id: i.to_string(),
                    sku,
                    product_status: status.map(Into::into),
                    available,
                    pushed,
                    refused,
                })
                .collect();
            let rules = StockRules { reserve, max };
            let planned = plan(&rows, rules, full);
            let held = |r: &StockRow| {
                let t = target(r, rules);
                r.pushed == Some(t) || r.refused == Some(t)
            };
            let expected = rows.iter().filter(|r| full || !held(r)).count();
            proptest::prop_assert_eq!(planned.len(), expected);
            for p in &planned {
                let row = rows.iter().find(|r| r.product_id == p.product_id).unwrap();
                proptest::prop_assert_eq!(p.new, target(row, rules));
                proptest::prop_assert_eq!(&p.sku, &row.sku);
                proptest::prop_assert_eq!(p.channel_now, row.pushed);
                proptest::prop_assert!(p.new >= 0);
                if let Some(m) = max {
                    proptest::prop_assert!(p.new <= m.max(0));
                }
                // The reserve stays in Shopify: what is offered plus it fits in stock.
                proptest::prop_assert!(p.new == 0 || p.new + reserve.max(0) <= row.available);
            }
            let mut shown = planned;
            in_display_order(&mut shown);
            proptest::prop_assert!(shown
                .windows(2)
                .all(|w| (&w[0].sku, &w[0].product_id) <= (&w[1].sku, &w[1].product_id)));
        }
    }
}
