//! Product matching over time: incremental product sync, reset-products, and the
//! environment switch guard.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::json;

use crate::harness::Env;

fn at(minutes_from_now: i64) -> String {
    (Utc::now() + chrono::Duration::minutes(minutes_from_now))
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[test]
fn a_product_added_on_both_sides_syncs_once_product_sync_is_due() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    env.add_shopify_product(
        json!({"id": 900, "title": "New Tee", "status": "ACTIVE", "variants": [
        {"id": 9001, "title": "S", "sku": "TEE-S", "tracked": true, "inventory_item_id": 19001,
         "available": {"1": 12}}]}),
    );
    env.add_channel_set(
        json!({"id": 90, "name": "New Tee", "status": "active", "products": [
        {"id": 9901, "seller_sku": "TEE-S", "status": "active", "quantity": 0}]}),
    );

    // Half an hour later product sync is not due (every 60 minutes): not matched yet.
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(30)).expect(0);
    assert_eq!(env.channel_stock()["TEE-S"], 0);

    let listing_reads = env.count("/v2/product-sets");
    let out = env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(61)).expect(0);
    assert_eq!(env.channel_stock()["TEE-S"], 11, "{}", out.stderr);
    assert_eq!(
        env.count("/v2/product-sets"),
        listing_reads + 1,
        "one incremental page"
    );
    // Only changed sets are read again: the new one, plus the two whose stock the first
    // pass wrote (the sandbox assumes a stock write moves a product's updatedAt, which
    // is UNCONFIRMED for The Iconic). Sets 30, 40 and 50 are not re-read.
    assert_eq!(env.count("GET /v2/product-set/{id}/products"), 5 + 3);
    assert!(
        out.stderr.contains("6 of 10 listings matched"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_channel_that_matches_nothing_is_not_read_in_full_every_pass() {
    let env = Env::new(
        crate::harness::standard_shopify(),
        json!({"client_id": crate::harness::ICONIC_ID, "client_secret": crate::harness::ICONIC_SECRET,
               "product_sets": [{"id": 50, "name": "Elsewhere", "status": "active", "products": [
                   {"id": 901, "seller_sku": "NOSHOP-1", "status": "active", "quantity": 3}]}]}),
    );
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(30)).expect(0);
    assert_eq!(
        env.count("/v2/product-sets"),
        1,
        "one full read, then nothing until due"
    );
    assert_eq!(env.count("graphql BulkOperationRunQuery"), 1);
}

#[test]
fn a_draft_product_is_zeroed_by_the_next_due_product_sync() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-M"], 2);
    env.control_patch("/_sandbox/shopify/products/100", json!({"status": "DRAFT"}));
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(61)).expect(0);
    assert_eq!(env.channel_stock()["LS-M"], 0);
}

#[test]
fn sync_waits_for_a_reset_and_a_killed_reset_leaves_the_previous_matches() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    let matches = env.db_count("matches");
    assert_eq!(matches, 5);

    env.latency(300);
    let mut reset = env
        .run(&["reset-products", "--yes"])
        .command()
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let out = env.run(&["sync"]).expect(75);
    assert!(
        out.stderr.contains("product reset in progress since"),
        "{}",
        out.stderr
    );

    reset.kill().unwrap(); // SIGKILL
    reset.wait().unwrap();
    env.latency(0);
    assert_eq!(env.db_count("matches"), matches, "previous matches intact");
    env.run(&["sync"]).expect(0);

    let out = env.run(&["reset-products", "--yes"]).expect(0);
    assert!(
        out.stdout.contains("Product reset complete"),
        "{}",
        out.stdout
    );
    for header in [
        "Matched",
        "Unmatched",
        "Duplicate",
        "No SKU",
        "Untracked",
        "Inactive",
    ] {
        assert!(out.stdout.contains(header), "{header}: {}", out.stdout);
    }
    // After a reset the next sync pushes every target again.
    env.set_channel_product(501, json!({"quantity": 40}));
    let out = env.run(&["sync"]).expect(0);
    assert!(out.stderr.contains("(reconcile)"), "{}", out.stderr);
    assert_eq!(env.channel_stock()["LS-S"], 9);
}

#[test]
fn reset_products_asks_before_running_unattended() {
    let env = Env::standard();
    let out = env.run(&["reset-products"]).expect(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    let out = env
        .run(&["reset-products", "--yes", "--channel", "nope"])
        .expect(2);
    assert!(out.stderr.contains("configured: iconic"), "{}", out.stderr);
}

#[test]
fn an_environment_switch_refuses_to_sync_until_products_are_reset() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    env.write_config("environment = \"preprod\"");
    let out = env.run(&["sync"]).expect(2);
    assert!(
        out.stderr
            .contains("environment changed for channel iconic")
            && out.stderr.contains("skubridge reset-products"),
        "{}",
        out.stderr
    );
    env.run(&["reset-products", "--yes", "--channel", "iconic"])
        .expect(0);
    env.run(&["sync"]).expect(0);
}

#[test]
fn a_listing_that_loses_its_match_is_set_to_zero_once_and_reported() {
    let env = Env::standard();
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(0)).expect(0);
    assert_eq!(env.channel_stock()["LS-S"], 9);
    // The Shopify SKU is renamed: the listing no longer has a variant. Keeping 9 on
    // the channel would sell stock that no longer backs it.
    env.control_patch(
        "/_sandbox/shopify/variants/1001",
        json!({"sku": "LS-S-2026"}),
    );
    // The first try of the 0 fails for good (every attempt a 503): the next pass
    // sends it again.
    env.fault(
        json!({"path": "/v2/stock/product", "method": "PUT", "times": 10,
                     "kind": {"type": "status", "status": 503}}),
    );
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(61)).expect(1);
    assert_eq!(env.channel_stock()["LS-S"], 9);
    env.clear_faults();
    let puts = env.count("PUT /v2/stock/product");
    let out = env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(61)).expect(0);
    assert_eq!(env.channel_stock()["LS-S"], 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("SKU \"LS-S\" (product 501) lost its match in Shopify"),
        "{}",
        out.stderr
    );
    assert_eq!(env.count("PUT /v2/stock/product"), puts + 1);
    // Once: the channel holds 0 now.
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(62)).expect(0);
    assert_eq!(env.count("PUT /v2/stock/product"), puts + 1);
    let unmatched = env.run(&["unmatched"]).expect(0).stdout;
    assert!(unmatched.contains("LS-S"), "{unmatched}");
}
