//! The stock path end to end: the real binary, the sandbox over HTTP, a real SQLite file.

use serde_json::json;

use crate::harness::{Env, ICONIC_SECRET, SHOPIFY_TOKEN};

const STOCK_PUT: &str = "PUT /v2/stock/product";

#[test]
fn first_sync_pushes_targets_for_matched_skus_only() {
    let env = Env::standard();
    let out = env.run(&["sync"]).expect(0);
    let stock = env.channel_stock();
    // available − reserve (1), never below 0.
    assert_eq!(stock["LS-S"], 9);
    assert_eq!(stock["LS-M"], 2);
    assert_eq!(stock["LS-L"], 0);
    // A draft product is not for sale: 0.
    assert_eq!(stock["DR-1"], 0);
    // Never synced: duplicate Shopify SKU, untracked variant, no Shopify variant, inactive listing.
    assert_eq!(stock["DUP-1"], 7);
    assert_eq!(stock["UT-1"], 5);
    assert_eq!(stock["NOSHOP-1"], 3);
    assert_eq!(stock["LS-XL"], 2);
    // Cron output: nothing on stdout; the pass summary on stderr.
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("sync ok"), "{}", out.stderr);
    assert_eq!(env.count(STOCK_PUT), 1, "five targets fit one batch");
}

#[test]
fn a_second_sync_without_shopify_changes_writes_nothing() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    let before = env.count(STOCK_PUT);
    let out = env.run(&["sync"]).expect(0);
    assert_eq!(env.count(STOCK_PUT), before, "{}", out.stderr);
    // Steady state reads only changed levels: no bulk catalog, no listings.
    assert_eq!(env.count("/v2/product-sets"), 1);
    assert!(out.stderr.contains("0 pushed"), "{}", out.stderr);
}

#[test]
fn a_shopify_stock_change_reaches_the_channel_on_the_next_pass() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    env.set_shopify_stock("LS-M", 20);
    env.set_shopify_stock("LS-S", 1);
    let before = env.count(STOCK_PUT);
    env.run(&["sync"]).expect(0);
    let stock = env.channel_stock();
    assert_eq!(stock["LS-M"], 19);
    assert_eq!(stock["LS-S"], 0);
    assert_eq!(stock["LS-L"], 0);
    assert_eq!(env.count(STOCK_PUT), before + 1);
}

#[test]
fn refused_items_are_reported_and_not_offered_again_unchanged() {
    let env = Env::standard();
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr.contains("VEN-1") && out.stderr.contains("refused"),
        "{}",
        out.stderr
    );
    assert_eq!(
        env.channel_stock()["VEN-1"],
        1,
        "consignment stock untouched"
    );
    let puts = env.count(STOCK_PUT);
    env.run(&["sync"]).expect(0);
    assert_eq!(
        env.count(STOCK_PUT),
        puts,
        "the same refusal is not retried"
    );
    // A new quantity is offered again.
    env.set_shopify_stock("VEN-1", 9);
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(STOCK_PUT), puts + 1);
}

#[test]
fn rate_limits_and_outages_are_survived() {
    let env = Env::standard();
    env.fault(json!({"path": "/v2/stock/product", "kind": {"type": "status", "status": 429, "retry_after": 1}}));
    env.fault(json!({"path": "/v2/stock/product", "kind": {"type": "status", "status": 503}}));
    env.fault(json!({"path": "/v2/stock/product", "kind": {"type": "html", "status": 502}}));
    env.fault(json!({"path": "/admin/api", "kind": {"type": "status", "status": 503}}));
    env.fault(json!({"path": "/admin/api", "kind": {"type": "throttled"}}));
    env.fault(json!({"path": "/v2/product-set", "kind": {"type": "truncated"}}));
    let out = env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-S"], 9, "{}", out.stderr);
    assert_eq!(env.count(STOCK_PUT), 4, "three failures, then success");
}

#[test]
fn an_outage_that_outlasts_the_retries_fails_the_pass_and_the_next_pass_catches_up() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    env.set_shopify_stock("LS-M", 6);
    env.fault(json!({"path": "/v2/stock/product", "kind": {"type": "status", "status": 500}, "times": 100}));
    let out = env.run(&["sync"]).expect(1);
    assert!(out.stderr.contains("not confirmed"), "{}", out.stderr);
    assert_eq!(env.channel_stock()["LS-M"], 2);
    env.clear_faults();
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-M"], 5);
}

#[test]
fn reconcile_repairs_manual_channel_edits() {
    let env = Env::standard();
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", "2026-11-27T00:00:00Z")
        .expect(0);
    env.set_channel_product(501, json!({"quantity": 50}));
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", "2026-11-27T12:00:00Z")
        .expect(0);
    assert_eq!(
        env.channel_stock()["LS-S"],
        50,
        "not due yet: steady state trusts what it pushed"
    );
    let out = env
        .run(&["sync"])
        .env("SKUBRIDGE_NOW", "2026-11-28T00:00:01Z")
        .expect(0);
    assert!(out.stderr.contains("reconcile"), "{}", out.stderr);
    assert_eq!(env.channel_stock()["LS-S"], 9);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let env = Env::standard();
    let before = env.channel_stock();
    let out = env.run(&["sync", "--dry-run"]).expect(0);
    assert_eq!(env.channel_stock(), before);
    assert_eq!(env.count(STOCK_PUT), 0);
    for needle in [
        "SKU",
        "Shopify available",
        "Reserve",
        "Channel now",
        "New",
        "LS-S",
    ] {
        assert!(out.stdout.contains(needle), "{needle}\n{}", out.stdout);
    }
    assert!(
        out.stdout.contains("iconic: 5 stock changes"),
        "{}",
        out.stdout
    );
    // Nothing was kept: the real pass still matches and pushes everything.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-S"], 9);
}

#[test]
fn only_stock_without_matches_pushes_nothing_and_says_why() {
    let env = Env::standard();
    let out = env.run(&["sync", "--only", "stock"]).expect(0);
    assert!(out.stderr.contains("no matched SKUs yet"), "{}", out.stderr);
    assert_eq!(env.count(STOCK_PUT), 0);
}

#[test]
fn a_concurrent_run_exits_75() {
    let env = Env::standard();
    let lock = std::fs::File::create(env.dir.path().join("skubridge.db.lock")).unwrap();
    lock.try_lock().unwrap();
    let out = env.run(&["sync"]).expect(75);
    assert!(
        out.stderr.contains("another skubridge run is in progress"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    drop(lock);
    env.run(&["sync"]).expect(0);
}

#[test]
fn a_run_killed_mid_pass_leaves_no_lock_behind() {
    let env = Env::standard();
    env.latency(300);
    let mut child = env.run(&["sync"]).command().spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    env.latency(0);
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-S"], 9);
}

#[test]
fn client_credentials_tokens_are_minted_and_refreshed() {
    let env = Env::new(
        {
            let mut s = crate::harness::standard_shopify();
            s["client_id"] = json!("e2e-app");
            s["client_secret"] = json!("shpss_e2e_app_secret");
            s
        },
        crate::harness::standard_iconic(),
    );
    let text = std::fs::read_to_string(env.config_path()).unwrap().replace(
        "access_token = \"${SHOPIFY_TOKEN}\"",
        "client_id = \"e2e-app\"\nclient_secret = \"${SHOPIFY_SECRET}\"",
    );
    env.write_raw_config(&text);
    env.run(&["sync"])
        .env("SHOPIFY_SECRET", "shpss_e2e_app_secret")
        .expect(0);
    assert_eq!(env.count("POST /admin/oauth/access_token"), 1);
    assert_eq!(env.channel_stock()["LS-S"], 9);
}

#[test]
fn no_secret_appears_in_any_output_at_maximum_verbosity() {
    let env = Env::standard();
    let mut outputs = vec![env.run(&["-vvv", "sync"]).expect(0)];
    env.set_shopify_stock("LS-S", 4);
    outputs.push(env.run(&["-vvv", "sync", "--dry-run"]).expect(0));
    outputs.push(env.run(&["-vvv", "--log-format", "json", "sync"]).expect(0));
    let mut lines = 0;
    for out in &outputs {
        for line in out.stdout.lines().chain(out.stderr.lines()) {
            lines += 1;
            for secret in [SHOPIFY_TOKEN, ICONIC_SECRET, "Bearer ", "shpca_", "Basic "] {
                assert!(!line.contains(secret), "{secret} leaked: {line}");
            }
        }
    }
    assert!(lines > 20, "-vvv should log requests ({lines} lines)");
}

#[test]
fn a_pass_that_runs_out_of_time_records_what_it_did_and_frees_the_lock() {
    let env = Env::standard();
    // Every answer slow: the first pass cannot finish within a 1.5 s budget.
    env.latency(400);
    let out = env
        .run(&["sync"])
        .env("SKUBRIDGE_PASS_BUDGET_MS", "1500")
        .expect_within(1, std::time::Duration::from_secs(30));
    assert!(
        out.stderr
            .contains("stopped: the pass used its budget of 1.5 s (schedule.pass_budget_minutes)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("not run: the pass had used its budget"),
        "{}",
        out.stderr
    );
    let status = env.run(&["status"]).expect(1).stdout;
    assert!(status.contains("budget"), "{status}");
    assert_eq!(env.channel_stock()["LS-S"], 0, "nothing pushed yet");

    // The lock is free and the next pass catches up.
    env.latency(0);
    env.run(&["sync"]).expect(0);
    let stock = env.channel_stock();
    assert_eq!((stock["LS-S"], stock["LS-M"]), (9, 2));
    env.run(&["status"]).expect(0);
}

#[test]
fn a_huge_reserve_is_refused_and_negative_stock_never_becomes_positive() {
    let env = Env::standard();
    // The probe's value: before, it was accepted and LS-S at -2 was pushed as 15.
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let reserve = |value: &str| {
        let text = config.replace("reserve_stock = 1", &format!("reserve_stock = {value}"));
        env.write_raw_config(&text);
    };
    reserve("9223372036854775807");
    let out = env.run(&["sync"]).expect(2);
    assert!(
        out.stderr.contains(
            "channel[0].reserve_stock: must be at most 10000000 (got 9223372036854775807)"
        ),
        "{}",
        out.stderr
    );
    assert!(!env.db_path().exists(), "nothing ran");
    reserve("10000000\nmax_stock = 10000000");
    env.set_shopify_stock("LS-S", -2);
    env.set_channel_product(501, json!({"quantity": 15}));
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-S"], 0);
}
