//! Orders end to end: channel orders into Shopify exactly once, held orders, changes
//! after import, crashes and a second install.

use serde_json::{json, Value};

use crate::harness::Env;

/// Imports every order from 2020 on: the tests' orders are created "now".
const SINCE: &str = r#"import_orders_since = "2020-01-01T00:00:00Z""#;

fn config(env: &Env) {
    env.write_config(&format!(
        r#"{SINCE}
[channel.orders]
tags = ["the-iconic"]
extra_line_item = {{ title = "THE ICONIC ORDER", price = "0.00" }}
shipping_by_country = {{ AU = "Standard AU" }}"#
    ));
}

fn env() -> Env {
    let env = Env::standard();
    config(&env);
    env
}

/// A pending order: `items` are (item id, seller SKU, paid price), one unit each.
fn order(id: u64, items: &[(u64, &str, &str)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(item, sku, price)| {
            json!({"id": item, "seller_sku": sku, "paid_price": price, "unit_price": price})
        })
        .collect();
    json!({
        "id": id, "number": 300_000 + id,
        "customer": {"first_name": "Jo", "last_name": "Citizen"},
        "email": "jo@example.com",
        "address": {"first_name": "Jo", "last_name": "Citizen", "phone": "0400000000",
                    "address1": "1 George St", "address2": "Level 2", "city": "Sydney",
                    "region": "NSW", "post_code": "2000", "country": "AU"},
        "delivery_info": "Standard",
        "shipping_fee": "9.95",
        "items": items,
    })
}

/// Every email's subject, whole: merchants' filters match them exactly.
fn subjects(env: &Env) -> Vec<String> {
    env.mails()
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn smtp_config(env: &Env, extra: &str) {
    env.write_config_with(
        &format!("{SINCE}\n{extra}"),
        &format!(
            "[notify]\nsmtp_url = \"{}\"\nto = [\"ops@brand.test\"]\nfrom = \"skubridge@brand.test\"\n",
            env.smtp_url
        ),
    );
}

/// A store with mail to the SMTP sink where this one order was just imported.
fn imported(id: u64, items: &[(u64, &str, &str)]) -> Env {
    let env = Env::standard();
    smtp_config(&env, "");
    env.add_channel_order(order(id, items));
    env.run(&["sync"]).expect(0);
    assert_eq!(env.shopify_orders().len(), 1);
    env
}

#[test]
fn a_new_order_becomes_one_shopify_order_with_its_lines_prices_and_stock() {
    let env = env();
    env.run(&["sync"]).expect(0);
    env.add_channel_order(order(
        9001,
        &[
            (1, "LS-S", "49.95"),
            (2, "LS-S", "49.95"),
            (3, "LS-M", "30.00"),
        ],
    ));
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr.contains("iconic orders: 1 imported"),
        "{}",
        out.stderr
    );

    let orders = env.shopify_orders();
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o["source_identifier"], "iconic:9001");
    let lines: Vec<(Value, Value, Value)> = o["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["variant_id"].clone(),
                l["quantity"].clone(),
                l["price"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                json!("gid://shopify/ProductVariant/1001"),
                json!(2),
                json!("49.95")
            ),
            (
                json!("gid://shopify/ProductVariant/1002"),
                json!(1),
                json!("30.0")
            ),
            (Value::Null, json!(1), json!("0.0")),
        ]
    );
    assert_eq!(o["shipping_lines"][0]["title"], "Standard AU");
    assert_eq!(o["shipping_lines"][0]["price"], "9.95");
    assert_eq!(o["total_price"], "139.85");
    assert_eq!(o["financial_status"], "PAID");
    assert_eq!(o["transactions"][0]["gateway"], "iconic");
    assert_eq!(o["transactions"][0]["amount"], "139.85");
    assert_eq!(o["email"], "jo@example.com");
    assert_eq!(o["shipping_address"]["city"], "Sydney");
    assert_eq!(o["shipping_address"]["countryCode"], "AU");
    assert_eq!(o["shipping_address"]["address2"], "Level 2");
    assert_eq!(o["tags"], json!(["the-iconic", "iconic", "iconic:9001"]));
    assert_eq!(
        o["note"],
        "iconic order 309001 (id 9001), imported by skubridge"
    );

    // Shopify stock was claimed, and the channel got the new levels in the same pass.
    assert_eq!(env.shopify_available("LS-S"), 8);
    assert_eq!(env.shopify_available("LS-M"), 2);
    let stock = env.channel_stock();
    assert_eq!((stock["LS-S"], stock["LS-M"]), (7, 1));

    let creates = env.count("graphql OrderCreate");
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr.contains("iconic orders: nothing new"),
        "{}",
        out.stderr
    );
    assert_eq!(env.count("graphql OrderCreate"), creates);
    assert_eq!(env.shopify_orders().len(), 1);

    let table = env.run(&["orders"]).expect(0).stdout;
    assert!(
        table.contains("309001") && table.contains("#1001"),
        "{table}"
    );
    assert!(
        table.contains("imported") && table.contains("AUD 139.85"),
        "{table}"
    );
    let json: Value =
        serde_json::from_str(&env.run(&["orders", "--format", "json"]).expect(0).stdout).unwrap();
    assert_eq!(json[0]["order_number"], "309001");
    assert_eq!(json[0]["shopify_order_name"], "#1001");
    assert_eq!(json[0]["state"], "imported");
    assert_eq!(json[0]["value"], "139.85");
    assert_eq!(json[0]["difference"], Value::Null);
    let csv = env.run(&["orders", "--format", "csv"]).expect(0).stdout;
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("iconic,309001,9001,#1001,imported,"),
        "{csv}"
    );
    let months = env
        .run(&["orders", "--summary", "month", "--format", "csv"])
        .expect(0)
        .stdout;
    assert!(months.contains(",iconic,AUD,1,1,0,139.85"), "{months}");
}

#[test]
fn history_before_import_orders_since_is_never_imported() {
    let env = Env::standard();
    env.add_channel_order(order(9101, &[(1, "LS-S", "10")]));
    // No import_orders_since: the first pass starts importing from its own time.
    env.run(&["sync"]).expect(0);
    assert!(env.shopify_orders().is_empty());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.add_channel_order(order(9102, &[(2, "LS-S", "10")]));
    env.run(&["sync"]).expect(0);
    assert_eq!(
        env.orders_per_source().into_keys().collect::<Vec<_>>(),
        ["iconic:9102"]
    );
}

#[test]
fn held_orders_are_mailed_once_and_imported_when_the_cause_is_fixed() {
    let env = Env::standard();
    smtp_config(&env, "");
    let at = |minutes: i64| (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339();
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(0)).expect(0);
    let before = env.mails().len();
    env.add_channel_order(order(9201, &[(1, "NEW-1", "20")]));
    env.add_channel_order(order(
        9202,
        &[
            (2, "LS-M", "5"),
            (3, "LS-M", "5"),
            (4, "LS-M", "5"),
            (5, "LS-M", "5"),
        ],
    ));
    let out = env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(1)).expect(0);
    assert!(out.stderr.contains("2 held"), "{}", out.stderr);
    assert!(env.shopify_orders().is_empty());
    let mails = env.mails();
    assert_eq!(mails.len(), before + 1);
    assert_eq!(
        subjects(&env)[before],
        "2 iconic orders are not in Shopify yet"
    );
    let body = mails[before]["body"].as_str().unwrap();
    assert!(
        body.contains("Order 309201: SKU \"NEW-1\" is not matched"),
        "{body}"
    );
    assert!(
        body.contains("Order 309202: SKU \"LS-M\": wanted 4, Shopify has 3 available"),
        "{body}"
    );

    // Still held: not mailed again.
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(2)).expect(0);
    assert_eq!(env.mails().len(), before + 1);
    let held = env.run(&["orders", "--state", "held"]).expect(0).stdout;
    assert!(held.contains("309201") && held.contains("309202"), "{held}");

    // Stock arrives: that order goes through on the next pass.
    env.set_shopify_stock("LS-M", 6);
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(3)).expect(0);
    assert_eq!(
        env.orders_per_source().into_keys().collect::<Vec<_>>(),
        ["iconic:9202"]
    );
    assert_eq!(env.shopify_available("LS-M"), 2);

    // The SKU is created in Shopify and listed: the next product sync matches it.
    env.add_shopify_product(
        json!({"id": 900, "title": "New", "status": "ACTIVE", "variants": [
        {"id": 9001, "title": "v", "sku": "NEW-1", "tracked": true, "inventory_item_id": 9901,
         "available": {"1": 4}}]}),
    );
    env.add_channel_set(
        json!({"id": 90, "name": "New", "status": "active", "products": [
        {"id": 990, "seller_sku": "NEW-1", "status": "active", "quantity": 0}]}),
    );
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(62)).expect(0);
    assert_eq!(env.orders_per_source().len(), 2);
    assert_eq!(env.mails().len(), before + 1, "{:?}", subjects(&env));
    assert!(env
        .run(&["orders", "--state", "held"])
        .expect(0)
        .stdout
        .contains("No orders"));
}

#[test]
fn items_changed_after_import_freeze_the_order_with_the_exact_subject() {
    let env = imported(9301, &[(1, "LS-S", "10")]);
    env.add_channel_order_item(
        9301,
        json!({"id": 2, "seller_sku": "LS-M", "paid_price": "5", "unit_price": "5"}),
    );
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr.contains("1 changed after import"),
        "{}",
        out.stderr
    );
    let wanted = "Order Items has changed for Order number: 309301. Please process manually";
    assert_eq!(
        subjects(&env).iter().filter(|s| *s == wanted).count(),
        1,
        "{:?}",
        subjects(&env)
    );
    let row = env
        .run(&["orders", "--state", "items_changed"])
        .expect(0)
        .stdout;
    assert!(row.contains("309301") && row.contains("#1001"), "{row}");

    // Frozen: further changes are not mailed again and Shopify is left alone.
    env.control_post(
        "/_sandbox/iconic/orders/9301/items",
        json!({"id": 3, "seller_sku": "LS-L", "paid_price": "1", "unit_price": "1"}),
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(subjects(&env).iter().filter(|s| *s == wanted).count(), 1);
    assert_eq!(env.shopify_orders().len(), 1);
    assert_eq!(
        env.shopify_orders()[0]["line_items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_cancellation_after_import_is_mailed_naming_the_shopify_order() {
    let env = imported(9401, &[(1, "LS-S", "10"), (2, "LS-S", "10")]);
    env.control_patch(
        "/_sandbox/iconic/orders/9401",
        json!({"status": "canceled"}),
    );
    env.run(&["sync"]).expect(0);
    let wanted = "iconic order 309401 was cancelled: cancel Shopify order #1001";
    assert!(
        subjects(&env).iter().any(|s| s == wanted),
        "{:?}",
        subjects(&env)
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(subjects(&env).iter().filter(|s| *s == wanted).count(), 1);
    let row = env
        .run(&["orders", "--state", "cancelled"])
        .expect(0)
        .stdout;
    assert!(row.contains("309401"), "{row}");
    // The Shopify order is the merchant's to cancel.
    assert!(env.shopify_orders()[0]["cancelled_at"].is_null());
}

#[test]
fn a_shopify_line_edit_after_import_is_flagged_and_mailed_once() {
    let env = imported(9501, &[(1, "LS-S", "10"), (2, "LS-S", "10")]);
    let o = &env.shopify_orders()[0];
    let id = o["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let line = o["line_items"][0]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    env.control_patch(
        &format!("/_sandbox/shopify/orders/{id}/line-items/{line}"),
        json!({"current_quantity": 1}),
    );
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);
    let wanted = "Shopify order #1001 (iconic order 309501) was edited after import";
    assert_eq!(
        subjects(&env).iter().filter(|s| *s == wanted).count(),
        1,
        "{:?}",
        subjects(&env)
    );
    let row = env.run(&["orders"]).expect(0).stdout;
    assert!(row.contains("edited in Shopify after import"), "{row}");
}

#[test]
fn a_5xx_after_shopify_created_the_order_makes_no_duplicate() {
    let env = env();
    env.add_channel_order(order(9601, &[(1, "LS-S", "10")]));
    env.fault(json!({"path": "/admin/api", "operation": "OrderCreate",
                     "kind": {"type": "status_after", "status": 500}}));
    let out = env.run(&["sync"]).expect(0);
    assert!(out.stderr.contains("outcome unknown"), "{}", out.stderr);
    assert_eq!(env.count("graphql OrderCreate"), 1);
    assert_eq!(
        env.orders_per_source(),
        [("iconic:9601".to_string(), 1)].into()
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(
        env.orders_per_source(),
        [("iconic:9601".to_string(), 1)].into()
    );
    let json: Value =
        serde_json::from_str(&env.run(&["orders", "--format", "json"]).expect(0).stdout).unwrap();
    assert_eq!(json[0]["state"], "imported");
    assert_eq!(json[0]["adopted"], false);
}

#[test]
fn a_timeout_leaves_the_order_unresolved_until_a_lookup_decides() {
    let env = env();
    env.add_channel_order(order(9651, &[(1, "LS-S", "10")]));
    // Shopify never answers in time, and never commits (the client gives up first).
    env.fault(json!({"path": "/admin/api", "operation": "OrderCreate",
                     "kind": {"type": "delay", "ms": 60000}}));
    let t0 = chrono::Utc::now();
    env.run(&["sync"])
        .env("SKUBRIDGE_HTTP_TIMEOUT_MS", "500")
        .env("SKUBRIDGE_NOW", &t0.to_rfc3339())
        .expect(0);
    let json: Value =
        serde_json::from_str(&env.run(&["orders", "--format", "json"]).expect(0).stdout).unwrap();
    assert_eq!(json[0]["state"], "creating");
    env.clear_faults();
    // Within Shopify's search settle time: looked up, not re-sent.
    let creates = env.count("graphql OrderCreate");
    env.run(&["sync"])
        .env(
            "SKUBRIDGE_NOW",
            &(t0 + chrono::Duration::seconds(10)).to_rfc3339(),
        )
        .expect(0);
    assert_eq!(env.count("graphql OrderCreate"), creates);
    assert!(env.shopify_orders().is_empty());
    // After it: proven absent, created once.
    env.run(&["sync"])
        .env(
            "SKUBRIDGE_NOW",
            &(t0 + chrono::Duration::minutes(5)).to_rfc3339(),
        )
        .expect(0);
    assert_eq!(
        env.orders_per_source(),
        [("iconic:9651".to_string(), 1)].into()
    );
}

#[test]
fn a_second_install_finds_the_orders_and_creates_no_duplicate() {
    let env = imported(9701, &[(1, "LS-S", "10")]);
    let before = env.mails().len();

    let out = env.run(&["--db", "second.db", "sync"]).expect(0);
    assert!(
        out.stderr.contains("already in Shopify as #1001"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("1 already in Shopify"),
        "{}",
        out.stderr
    );
    assert_eq!(env.shopify_orders().len(), 1);
    assert!(
        subjects(&env)[before..]
            .iter()
            .any(|s| s == "1 iconic orders were already in Shopify"),
        "{:?}",
        subjects(&env)
    );
    let json: Value = serde_json::from_str(
        &env.run(&["--db", "second.db", "orders", "--format", "json"])
            .expect(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(json[0]["adopted"], true);
    assert_eq!(json[0]["shopify_order_name"], "#1001");
}

#[test]
fn dry_run_prints_the_orders_it_would_create_and_creates_none() {
    let env = env();
    env.add_channel_order(order(9801, &[(1, "LS-S", "10"), (2, "NOSHOP-1", "10")]));
    env.add_channel_order(order(9802, &[(3, "LS-S", "12.50")]));
    let out = env.run(&["sync", "--dry-run"]).expect(0);
    assert!(
        out.stdout.contains("iconic order 309801: would be held"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("iconic order 309802: would create a Shopify order of 2 lines, AUD 22.45"),
        "{}",
        out.stdout
    );
    assert!(env.shopify_orders().is_empty());
    assert_eq!(env.count("graphql OrderCreate"), 0);
    assert_eq!(env.db_count("orders"), 0);
}

#[test]
fn a_dev_store_creates_five_orders_a_minute_and_the_rest_wait() {
    let mut shopify = crate::harness::standard_shopify();
    shopify["dev_store"] = json!(true);
    let env = Env::new(shopify, crate::harness::standard_iconic());
    config(&env);
    for id in 0..7 {
        env.add_channel_order(order(9900 + id, &[(100 + id, "LS-S", "1")]));
    }
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr.contains("5 imported, 2 waiting"),
        "{}",
        out.stderr
    );
    assert_eq!(env.orders_per_source().len(), 5);
    let waiting = env.run(&["orders", "--state", "pending"]).expect(0).stdout;
    assert!(waiting.contains("5 orders per minute"), "{waiting}");
}

/// Polls `done` every 5 ms for up to 10 s; false if it never became true.
fn wait_for(done: impl Fn() -> bool) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < until {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    false
}

pub(crate) fn rows_in_state(env: &Env, state: &str) -> i64 {
    let Ok(db) = rusqlite::Connection::open(env.db_path()) else {
        return 0;
    };
    db.query_row(
        "SELECT count(*) FROM orders WHERE state = ?1",
        [state],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

#[test]
fn sigkill_at_any_point_of_an_import_never_duplicates_or_loses_an_order() {
    const ROUNDS: u64 = 54;
    let env = env();
    env.set_shopify_stock("LS-S", 10_000);
    kill_during_imports(&env, ROUNDS, Stop::Kill, |round| {
        let id = 20_000 + round;
        env.add_channel_order(order(
            id,
            &[(id * 10, "LS-S", "1.10"), (id * 10 + 1, "LS-S", "1.10")],
        ));
        format!("iconic:{id}")
    });
    assert_eq!(rows_in_state(&env, "imported"), ROUNDS as i64);
    // Every order claimed its two units once.
    assert_eq!(env.shopify_available("LS-S"), 10_000 - 2 * ROUNDS as i64);
}

/// How a pass is ended from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// SIGKILL: nothing runs after it.
    Kill,
    /// SIGTERM and SIGINT, one round each in turn: the pass stops in order.
    Signals,
}

/// `rounds` times: `place` puts a new order on the channel (and names its source
/// identifier), a pass starts and is stopped (`how`) while its create is in flight,
/// after Shopify committed it but before the answer, or anywhere. Then two clean
/// passes: every order placed is in Shopify exactly once. A pass stopped by a signal
/// exits 143 or 130 (0 when it ended first) and is recorded as stopped.
pub(crate) fn kill_during_imports(
    env: &Env,
    rounds: u64,
    how: Stop,
    place: impl Fn(u64) -> String,
) {
    // A signalled pass waits for its create: Shopify's delays stay short then.
    let delay = if how == Stop::Kill { 5000 } else { 800 };
    let t0 = chrono::Utc::now();
    // Two minutes of fixed clock per pass: longer than Shopify's search settle time, so
    // an unresolved create is decided (adopted or re-sent) on the very next pass.
    let at = |round: u64| (t0 + chrono::Duration::minutes(2 * round as i64)).to_rfc3339();
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(0)).expect(0);
    let mut expected = Vec::new();
    let mut landed = [0; 3];
    for round in 1..=rounds {
        expected.push(place(round));
        let mode = (round % 3) as usize;
        let creates = env.count("graphql OrderCreate");
        match mode {
            // Held by Shopify before it runs: the kill lands while the create is in flight.
            0 => env.fault(json!({"path": "/admin/api", "operation": "OrderCreate",
                                  "kind": {"type": "delay", "ms": delay}})),
            // Committed by Shopify, answer held back: the kill lands before skubridge
            // learns the order exists.
            1 => env.fault(json!({"path": "/admin/api", "operation": "OrderCreate",
                                  "kind": {"type": "delay_after", "ms": delay}})),
            _ => {}
        }
        let mut child = env
            .run(&["sync"])
            .env("SKUBRIDGE_NOW", &at(round))
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let jitter = std::time::Duration::from_millis(fastrand::u64(0..30));
        let hit = match mode {
            0 => wait_for(|| rows_in_state(env, "creating") > 0),
            1 => wait_for(|| env.count("graphql OrderCreate") > creates),
            // Anywhere: before the read, between intent and create, after.
            _ => {
                std::thread::sleep(std::time::Duration::from_millis(fastrand::u64(0..400)));
                true
            }
        };
        std::thread::sleep(jitter);
        match how {
            Stop::Kill => child.kill().unwrap(),
            Stop::Signals => {
                let (name, code, signal) = if round % 2 == 0 {
                    ("-TERM", 143, 15)
                } else {
                    ("-INT", 130, 2)
                };
                let pid = child.id().to_string();
                std::process::Command::new("kill")
                    .args([name, &pid])
                    .status()
                    .unwrap();
                let status = child.wait().unwrap();
                // Stopped in order, over before the signal came, or (before it listens
                // for signals, when nothing has started) ended by the signal itself.
                use std::os::unix::process::ExitStatusExt;
                assert!(
                    matches!(status.code(), Some(c) if c == code || c == 0)
                        || status.signal() == Some(signal),
                    "round {round}: {status:?}"
                );
            }
        }
        child.wait().unwrap();
        if hit {
            landed[mode] += 1;
        }
        env.clear_faults();
    }
    // Most kills hit their window (a few may find the pass not there yet).
    let per_mode = rounds / 3;
    assert!(
        landed[0] >= per_mode * 5 / 6 && landed[1] >= per_mode * 5 / 6,
        "kills landed in flight {} and after commit {} times of {per_mode}",
        landed[0],
        landed[1]
    );
    // Passes without kills catch up.
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", &at(rounds + 1))
        .expect(0);
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", &at(rounds + 2))
        .expect(0);
    let found = env.orders_per_source();
    let duplicates: Vec<_> = found.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "duplicated: {duplicates:?}");
    let missing: Vec<_> = expected
        .iter()
        .filter(|s| !found.contains_key(*s))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert_eq!(found.len() as u64, rounds);
}

#[test]
fn sigterm_and_sigint_at_any_point_stop_the_pass_in_order_and_lose_or_duplicate_nothing() {
    const ROUNDS: u64 = 30;
    let env = env();
    env.set_shopify_stock("LS-S", 10_000);
    kill_during_imports(&env, ROUNDS, Stop::Signals, |round| {
        let id = 40_000 + round;
        env.add_channel_order(order(id, &[(id * 10, "LS-S", "1.10")]));
        format!("iconic:{id}")
    });
    assert_eq!(rows_in_state(&env, "imported"), ROUNDS as i64);
    assert_eq!(env.shopify_available("LS-S"), 10_000 - ROUNDS as i64);
    // Every stopped pass is recorded as such, none left "never finished".
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM sync_runs WHERE outcome IS NULL"),
        0
    );
    let stopped = count("SELECT count(*) FROM sync_runs WHERE outcome = 'stopped'");
    assert!(
        stopped >= ROUNDS as i64 / 2,
        "{stopped} passes recorded as stopped"
    );
    let by = count(
        "SELECT count(*) FROM sync_runs WHERE outcome = 'stopped'
           AND error IN ('stopped by SIGTERM', 'stopped by SIGINT')",
    );
    assert_eq!(by, stopped);
}

#[test]
fn a_stopped_pass_shows_in_status_and_frees_the_lock() {
    let env = env();
    env.run(&["sync"]).expect(0);
    env.add_channel_order(order(41_001, &[(410_010, "LS-S", "1.10")]));
    env.fault(json!({"path": "/admin/api", "operation": "OrderCreate",
                     "kind": {"type": "delay", "ms": 1500}}));
    let child = env
        .run(&["sync"])
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(|| rows_in_state(&env, "creating") > 0));
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("STOPPED by SIGTERM"), "{stderr}");
    // The create in flight finished: the order exists, once.
    assert_eq!(env.orders_per_source().get("iconic:41001"), Some(&1));
    assert_eq!(rows_in_state(&env, "imported"), 1);
    let status = env.run(&["status"]).expect(0).stdout;
    assert!(status.contains("stopped by SIGTERM"), "{status}");
    // The lock is free: the next pass runs at once.
    env.run(&["sync"]).expect(0);
}

#[test]
fn a_held_order_processed_by_hand_on_the_channel_is_left_alone() {
    let env = env();
    env.add_channel_order(order(9851, &[(1, "NOSHOP-1", "10")]));
    env.run(&["sync"]).expect(0);
    env.control_patch(
        "/_sandbox/iconic/orders/9851",
        json!({"status": "ready_to_ship"}),
    );
    env.run(&["sync"]).expect(0);
    let json: Value =
        serde_json::from_str(&env.run(&["orders", "--format", "json"]).expect(0).stdout).unwrap();
    assert_eq!(json[0]["state"], "held");
    assert_eq!(
        json[0]["reason"],
        "was handled on iconic before import (lines now ready_to_ship); not imported: process it by hand"
    );
    // No longer re-read: the pass only asks for new orders.
    let reads = env.count("GET /v2/orders");
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count("GET /v2/orders"), reads + 1);
    assert!(env.shopify_orders().is_empty());
}

#[test]
fn a_total_that_differs_from_the_channels_is_stored_and_shown() {
    let env = Env::standard();
    env.write_config(&format!(
        "{SINCE}\n[channel.orders]\nextra_line_item = {{ title = \"Marketplace fee\", price = \"1.50\" }}"
    ));
    env.add_channel_order(order(9951, &[(1, "LS-S", "10.00")]));
    env.run(&["sync"]).expect(0);
    assert_eq!(env.shopify_orders()[0]["total_price"], "21.45");
    let json: Value =
        serde_json::from_str(&env.run(&["orders", "--format", "json"]).expect(0).stdout).unwrap();
    assert_eq!(json[0]["channel_total"], "19.95");
    assert_eq!(json[0]["shopify_total"], "21.45");
    assert_eq!(json[0]["difference"], "1.50");
    let table = env.run(&["orders"]).expect(0).stdout;
    assert!(table.contains("+1.50"), "{table}");
}

/// A pending order of one LS-S unit whose paid price is answered as `price_text`,
/// verbatim JSON.
fn order_priced(id: u64, price_text: &str) -> Value {
    let mut o = order(id, &[(id * 10, "LS-S", "10")]);
    o["items"][0]["paid_price_text"] = json!(price_text);
    o
}

#[test]
fn a_bad_order_is_held_on_its_own_and_the_others_are_imported() {
    let env = Env::standard();
    smtp_config(&env, "");
    env.run(&["sync"]).expect(0);
    let before = env.mails().len();
    let bad = [
        (9401, "1e3"),
        (9402, "29.950000000000003"),
        (9403, "null"),
        (9404, "1e400"),
    ];
    for (id, price) in bad {
        env.add_channel_order(order_priced(id, price));
    }
    env.add_channel_order(order(9405, &[(94051, "LS-M", "30.00")]));
    // A negative paid price reads fine and is still no sale.
    env.add_channel_order(order_priced(9406, "-5.00"));

    let out = env.run(&["sync"]).expect(0);
    assert_eq!(
        env.orders_per_source().into_keys().collect::<Vec<_>>(),
        ["iconic:9405"],
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("iconic orders: 1 imported, 5 held"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            r#"iconic order 309401: could not be read from iconic: items[0].paidPrice: "1e3" is not an amount like "49.95"; held"#
        ),
        "{}",
        out.stderr
    );
    // Errors and mail name the order and the field, never the customer.
    let mails = env.mails();
    assert_eq!(mails.len(), before + 1, "{:?}", subjects(&env));
    let body = mails[before]["body"].as_str().unwrap();
    for id in [9401, 9402, 9403, 9404, 9406] {
        assert!(
            body.contains(&format!("Order {}:", 300_000 + id)),
            "{id}: {body}"
        );
    }
    for reason in [
        r#"Order 309402: could not be read from iconic: items[0].paidPrice: "29.950000000000003" is not an amount like "49.95""#,
        "Order 309403: could not be read from iconic: item 94030: paidPrice is missing",
        r#"Order 309404: could not be read from iconic: items[0].paidPrice: "1e400" is not an amount"#,
    ] {
        assert!(body.contains(reason), "{reason}\n{body}");
    }
    assert!(
        body.contains(r#"line 94060 (SKU "LS-S") paid price -5.00 is below zero"#),
        "{body}"
    );
    let status = env.run(&["status"]).expect(0).stdout;
    for text in [&out.stderr, body, &status] {
        for personal in ["jo@example.com", "George St", "Citizen", "0400000000"] {
            assert!(!text.contains(personal), "{personal} in\n{text}");
        }
    }
    let held: Value = serde_json::from_str(
        &env.run(&["orders", "--state", "held", "--format", "json"])
            .expect(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(held.as_array().unwrap().len(), 5, "{held}");

    // Every pass the same: still held, not mailed again, nothing duplicated.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.mails().len(), before + 1);
    assert_eq!(env.orders_per_source().len(), 1);

    // The channel corrects one order: it goes through on the next pass.
    env.control_delete("/_sandbox/iconic/orders/9401/items/94010");
    env.add_channel_order_item(
        9401,
        json!({"id": 94011, "seller_sku": "LS-S", "paid_price": "10", "unit_price": "10"}),
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(
        env.orders_per_source().into_keys().collect::<Vec<_>>(),
        ["iconic:9401", "iconic:9405"]
    );
}

#[test]
fn an_order_with_no_items_is_held_and_listed() {
    let env = env();
    env.run(&["sync"]).expect(0);
    let mut empty = order(9501, &[]);
    empty["items"] = json!([]);
    env.add_channel_order(empty);
    let out = env.run(&["sync"]).expect(0);
    assert!(out.stderr.contains("1 held"), "{}", out.stderr);
    let held = env.run(&["orders", "--state", "held"]).expect(0).stdout;
    assert!(
        held.contains("309501") && held.contains("shows no items"),
        "{held}"
    );
    assert!(env.shopify_orders().is_empty());
}
