//! A Mirakl marketplace end to end, beside The Iconic in the same store and pass, over
//! real HTTP against the sandbox's Mirakl shop: stock as one file import confirmed on a
//! later status read (refused lines reported, at most one import a minute), orders
//! accepted and imported once paid, tracking then "shipped".

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::fulfil::fulfil_source;
use crate::harness::{standard_iconic, standard_shopify, Env, MIRAKL_KEY};
use crate::orders::{kill_during_imports, Stop};

const UPLOAD: &str = "mirakl STO01";
const STATUS: &str = "mirakl STO02";
const ACCEPT: &str = "mirakl OR21";
const SHIP: &str = "mirakl OR24";

/// The shop sells the shirts and one SKU Shopify lacks; every offer starts at 0.
/// Status reads are not limited (each pass reads at once); the rest keeps Mirakl's
/// limits. An import completes at its second status read.
fn shop() -> Value {
    let offer = |sku: &str| json!({"shop_sku": sku, "price": "29.95"});
    json!({
        "api_key": MIRAKL_KEY,
        "stock_import_reads": 1,
        "frequency_limits": {"STO02": 0},
        "offers": [offer("LS-S"), offer("LS-M"), offer("LS-L"), offer("NOSHOP-1")],
    })
}

/// The standard store on The Iconic and on a Mirakl marketplace (`extra` lines in its
/// block), mailing the SMTP sink. A pass does not wait for its stock import: the next
/// one confirms it.
fn env_with(extra: &str) -> Env {
    on_shop(shop(), extra)
}

/// [`env_with`] on this Mirakl shop.
fn on_shop(shop: Value, extra: &str) -> Env {
    let env = Env::with_mirakl(standard_shopify(), standard_iconic(), shop);
    let block = format!(
        r#"{channel}
[notify]
smtp_url = "{smtp}"
to = ["ops@brand.test"]
from = "skubridge@brand.test"
"#,
        channel = crate::harness::mirakl_channel(&env, extra),
        smtp = env.smtp_url
    );
    env.write_config_with("", &block);
    env
}

fn env() -> Env {
    env_with("")
}

fn mirakl(env: &Env) -> Value {
    env.state()["mirakl"].clone()
}

/// Shop SKU -> quantity of the live offers.
fn offers(env: &Env) -> BTreeMap<String, i64> {
    mirakl(env)["offers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["deleted"] == false)
        .map(|o| {
            (
                o["shop_sku"].as_str().unwrap().into(),
                o["quantity"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Each stock import's file, as (SKU, quantity) lines, header left out.
fn imports(env: &Env) -> Vec<BTreeMap<String, String>> {
    mirakl(env)["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let lines = i["lines"].as_array().unwrap();
            assert_eq!(lines[0], "\"offer-sku\";\"quantity\"");
            lines[1..]
                .iter()
                .map(|l| {
                    let (sku, quantity) = l.as_str().unwrap().split_once(';').unwrap();
                    (
                        sku.trim_matches('"').into(),
                        quantity.trim_matches('"').into(),
                    )
                })
                .collect()
        })
        .collect()
}

fn levels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(s, q)| (s.to_string(), q.to_string()))
        .collect()
}

/// `sync` at `minutes` past now on skubridge's clock, the sandbox's frequency clocks
/// restarted as if that time had passed.
fn sync_later(env: &Env, minutes: i64) {
    env.control_delete("/_sandbox/mirakl/limits");
    let at = chrono::Utc::now() + chrono::Duration::minutes(minutes);
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", &at.to_rfc3339())
        .expect(0);
}

/// A customer's order, WAITING_ACCEPTANCE: (SKU, quantity, unit price) lines, the
/// first carrying 9.95 shipping.
fn place(env: &Env, id: &str, lines: &[(&str, u32, &str)]) {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, quantity, price))| {
            let shipping = if i == 0 { "9.95" } else { "0.00" };
            json!({"offer_sku": sku, "quantity": quantity, "unit_price": price,
                   "shipping_price": shipping})
        })
        .collect();
    env.control_post(
        "/_sandbox/mirakl/orders",
        json!({"order_id": id, "lines": lines}),
    );
}

/// A Mirakl channel (`extra` lines in its block) after its first pass, and a pass after
/// order `id` was placed with these lines.
fn placed(extra: &str, id: &str, lines: &[(&str, u32, &str)]) -> Env {
    let env = env_with(extra);
    env.run(&["sync"]).expect(0);
    place(&env, id, lines);
    env.run(&["sync"]).expect(0);
    env
}

/// The customer's payment for an accepted order is taken: it moves to SHIPPING.
fn debit(env: &Env, id: &str) {
    env.control_post(&format!("/_sandbox/mirakl/orders/{id}/debit"), json!({}));
}

fn order(env: &Env, id: &str) -> Value {
    mirakl(env)["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["order_id"] == id)
        .cloned()
        .expect("the order is on Mirakl")
}

fn line_states(env: &Env, id: &str) -> Vec<String> {
    order(env, id)["order_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["order_line_state"].as_str().unwrap().to_string())
        .collect()
}

/// The order's state in skubridge's ledger.
fn ledger(env: &Env, id: &str) -> String {
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    db.query_row(
        "SELECT state FROM orders WHERE channel = 'mirakl' AND order_id = ?1",
        [id],
        |r| r.get(0),
    )
    .unwrap()
}

fn imported(env: &Env, id: &str) -> Vec<Value> {
    let source = format!("mirakl:{id}");
    env.shopify_orders()
        .into_iter()
        .filter(|o| o["source_identifier"] == source.as_str())
        .collect()
}

#[test]
fn stock_goes_in_one_import_confirmed_later_and_refused_lines_are_reported() {
    let env = env();
    env.run(&["sync"]).expect(0);
    // Every matched offer in one file; NOSHOP-1 has no Shopify variant and is not sent.
    assert_eq!(
        imports(&env),
        [levels(&[("LS-L", "0"), ("LS-M", "3"), ("LS-S", "10")])]
    );
    assert_eq!(offers(&env)["LS-S"], 0, "not applied before Mirakl says so");
    // The Iconic synced in the same pass.
    assert_eq!(env.channel_stock()["LS-S"], 9);

    // The next pass reads the import complete: nothing is sent again.
    env.run(&["sync"]).expect(0);
    assert_eq!(offers(&env)["LS-S"], 10);
    assert_eq!(offers(&env)["LS-M"], 3);
    assert_eq!(env.count(UPLOAD), 1);

    // LS-M leaves the shop behind skubridge's back; two levels change.
    env.control_delete("/_sandbox/mirakl/offers/LS-M");
    env.set_shopify_stock("LS-M", 2);
    env.set_shopify_stock("LS-S", 7);
    sync_later(&env, 2);
    assert_eq!(imports(&env)[1], levels(&[("LS-M", "2"), ("LS-S", "7")]));
    sync_later(&env, 3);
    assert_eq!(offers(&env)["LS-S"], 7);
    // The error report's line is a refusal with Mirakl's reason, mailed once.
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    let refused: Vec<(String, i64, String)> = db
        .prepare("SELECT product_id, quantity, reason FROM stock_refused WHERE channel = 'mirakl'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        refused,
        [(
            "LS-M".to_string(),
            2,
            "The offer \"LS-M\" does not exist".to_string()
        )]
    );
    let mails = env.mails();
    let mail = mails
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .contains("mirakl refused stock")
        })
        .expect("a refused-stock email");
    assert!(
        mail["body"].as_str().unwrap().contains("does not exist"),
        "{mail}"
    );
    // Four passes: one export, two uploads, one status read a pass, one error report.
    let calls = |op: &str| env.count(&format!("mirakl {op}"));
    let counts = ["OF52", "STO01", "STO02", "STO03"].map(calls);
    assert_eq!(counts, [1, 2, 4, 1]);
}

#[test]
fn an_offer_mirakl_keeps_off_sale_shows_in_unmatched_with_mirakls_reasons() {
    let env = env();
    env.run(&["sync"]).expect(0);
    // The seller's offer LS-L is switched off by Mirakl (its dates ran out).
    env.control_patch(
        "/_sandbox/mirakl/offers/LS-L",
        json!({"active": false, "inactivity_reasons": ["OFFER_DATE_EXPIRED"]}),
    );
    env.set_shopify_stock("LS-L", 4);
    // Product sync is due an hour later: the differential export brings the change.
    sync_later(&env, 61);
    let out = env
        .run(&["unmatched", "--channel", "mirakl", "--format", "json"])
        .expect(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let off: Vec<(&str, &str, &str)> = doc["listings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["reason"] == "inactive_on_channel")
        .map(|l| {
            (
                l["sku"].as_str().unwrap(),
                l["reason"].as_str().unwrap(),
                l["reason_text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        off,
        [(
            "LS-L",
            "inactive_on_channel",
            "inactive on the channel (OFFER_DATE_EXPIRED)"
        )]
    );
    // The merchant is told too, with Mirakl's reason (after the first pass's email).
    let mail = env
        .mails()
        .into_iter()
        .rev()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .contains("on mirakl are not syncing")
        })
        .expect("an unmatched email");
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .contains("OFFER_DATE_EXPIRED"),
        "{mail}"
    );
    // Its level is not sent while Mirakl keeps it off sale.
    assert!(imports(&env)
        .iter()
        .all(|i| !i.contains_key("LS-L") || i["LS-L"] == "0"));
}

#[test]
fn a_pass_waits_a_bounded_time_for_its_import_to_be_confirmed() {
    // The import completes at its second status read, which Mirakl allows 15 s after
    // the first: a pass waiting up to 20 s confirms it itself.
    let env = Env::with_mirakl(standard_shopify(), standard_iconic(), shop());
    env.write_config_with("", &crate::harness::mirakl_waiting(&env, 20, ""));
    let started = std::time::Instant::now();
    env.run(&["sync"]).expect(0);
    assert!(started.elapsed() >= std::time::Duration::from_secs(15));
    assert_eq!(offers(&env)["LS-S"], 10);
    assert_eq!(env.count(STATUS), 2, "read at the upload and 15 s later");
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    let open: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM stock_imports WHERE settled_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(open, 0, "settled within the pass");

    // Held by Mirakl past the wait: the pass ends, and the next one confirms it.
    env.control_post("/_sandbox/mirakl/imports/hold", json!({}));
    env.set_shopify_stock("LS-S", 6);
    env.control_delete("/_sandbox/mirakl/limits");
    let at = chrono::Utc::now() + chrono::Duration::minutes(2);
    let started = std::time::Instant::now();
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", &at.to_rfc3339())
        .expect(0);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "bounded"
    );
    assert_eq!(offers(&env)["LS-S"], 10, "not applied yet");
    env.control_post("/_sandbox/mirakl/imports/release", json!({}));
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", &at.to_rfc3339())
        .expect(0);
    assert_eq!(offers(&env)["LS-S"], 6);
    assert_eq!(env.count(UPLOAD), 2, "never sent again while unsettled");
}

#[test]
fn an_operator_without_the_offer_export_is_read_page_by_page_once_configured() {
    let mut without = shop();
    without["offer_export"] = json!(false);
    let env = on_shop(without.clone(), "");
    let out = env.run(&["sync"]).expect(1);
    assert!(
        out.stderr.contains("set offer_export = false"),
        "{}",
        out.stderr
    );
    assert!(imports(&env).is_empty(), "nothing matched, nothing sent");

    let env = on_shop(without, "offer_export = false");
    env.run(&["sync"]).expect(0);
    assert_eq!(
        imports(&env),
        [levels(&[("LS-L", "0"), ("LS-M", "3"), ("LS-S", "10")])]
    );
    assert_eq!(env.count("mirakl OF21"), 1, "four offers: one page");
    assert_eq!(env.count("mirakl OF52"), 0);
}

#[test]
fn a_dry_run_uses_the_days_full_export_and_the_first_sync_reads_page_by_page() {
    let env = env();
    env.run(&["sync", "--dry-run"]).expect(0);
    assert_eq!(env.count("mirakl OF52"), 1);
    // Mirakl refuses a second full export the same day: the offers come page by page.
    env.run(&["sync"]).expect(0);
    assert!(env.count("mirakl OF21") >= 1);
    assert_eq!(
        imports(&env),
        [levels(&[("LS-L", "0"), ("LS-M", "3"), ("LS-S", "10")])]
    );
}

#[test]
fn an_import_mirakl_fails_is_sent_again_whole() {
    let env = env();
    env.control_post("/_sandbox/mirakl/imports/fail-next", json!({}));
    env.run(&["sync"]).expect(0);
    // Two minutes on, the status read says FAILED: nothing was applied, and every level
    // goes again in the same pass.
    let at = chrono::Utc::now() + chrono::Duration::minutes(2);
    env.control_delete("/_sandbox/mirakl/limits");
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", &at.to_rfc3339())
        .expect(1);
    let sent = imports(&env);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "the same levels again");
    assert_eq!(offers(&env)["LS-S"], 0, "the failed import applied nothing");
    sync_later(&env, 3);
    assert_eq!(offers(&env)["LS-S"], 10);
    assert_eq!(env.count(UPLOAD), 2);
}

#[test]
fn a_second_import_within_a_minute_is_never_sent() {
    let env = env();
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);
    env.set_shopify_stock("LS-S", 5);
    // A pass inside the minute: the new level waits, and no upload is even tried.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(UPLOAD), 1);
    assert_eq!(env.channel_stock()["LS-S"], 4, "The Iconic does not wait");
    // A minute on, it goes.
    sync_later(&env, 2);
    assert_eq!(env.count(UPLOAD), 2);
    assert_eq!(imports(&env)[1], levels(&[("LS-S", "5")]));
}

#[test]
fn an_order_is_accepted_imported_once_when_paid_then_tracked_and_shipped() {
    let env = placed("", "5001-A", &[("LS-S", 2, "29.95")]);
    // Accepted, every line; the customer has not paid: nothing in Shopify.
    assert_eq!(
        order(&env, "5001-A")["order_state"],
        "WAITING_DEBIT_PAYMENT"
    );
    assert_eq!(ledger(&env, "5001-A"), "accepted");
    env.run(&["sync"]).expect(0);
    assert!(
        imported(&env, "5001-A").is_empty(),
        "never while awaiting payment"
    );
    assert_eq!(env.count(ACCEPT), 1, "accepted once");

    debit(&env, "5001-A");
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);
    let orders = imported(&env, "5001-A");
    assert_eq!(orders.len(), 1, "imported exactly once");
    let o = &orders[0];
    let lines = o["line_items"].as_array().unwrap();
    assert_eq!(
        (
            lines.len(),
            &lines[0]["sku"],
            &lines[0]["quantity"],
            &lines[0]["price"]
        ),
        (1, &json!("LS-S"), &json!(2), &json!("29.95"))
    );
    assert_eq!(o["shipping_lines"][0]["price"], "9.95");
    assert_eq!(o["total_price"], "69.85");
    assert_eq!(o["shipping_address"]["countryCode"], "AU");
    // The commercial id is the number people see; the deadline comes along.
    let attribute = |key: &str| {
        o["custom_attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
    };
    assert_eq!(attribute("mirakl order number"), Some(json!("5001")));
    assert!(attribute("Ship by").is_some(), "{o}");
    assert_eq!(env.shopify_available("LS-S"), 8);

    fulfil_source(&env, "mirakl:5001-A", "Australia Post", "33AB0123", None);
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);
    assert_eq!(order(&env, "5001-A")["order_state"], "SHIPPED");
    let calls = mirakl(&env)["shipping_calls"].clone();
    assert_eq!(
        calls.as_array().unwrap().len(),
        2,
        "tracking, then ship, once: {calls}"
    );
    assert_eq!(calls[0]["operation"], "OR23");
    // Shopify's carrier matched to Mirakl's registered one by its label.
    assert_eq!(calls[0]["carrier_code"], "AUPOST");
    assert_eq!(calls[0]["tracking_number"], "33AB0123");
    assert_eq!(calls[1]["operation"], "OR24");
}

/// Subjects of the emails sent so far that contain `text`.
fn subjects(env: &Env, text: &str) -> Vec<String> {
    env.mails()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .filter(|s| s.contains(text))
        .collect()
}

#[test]
fn imported_orders_are_watched_for_refunds_cancellations_and_incidents() {
    let env = env_with("");
    env.run(&["sync"]).expect(0);
    place(&env, "7001-A", &[("LS-S", 1, "29.95")]);
    place(&env, "7002-A", &[("LS-S", 2, "29.95")]);
    place(&env, "7003-A", &[("LS-M", 1, "19.95")]);
    env.run(&["sync"]).expect(0);
    for id in ["7001-A", "7002-A", "7003-A"] {
        debit(&env, id);
    }
    env.run(&["sync"]).expect(0);
    for id in ["7001-A", "7002-A", "7003-A"] {
        assert_eq!(ledger(&env, id), "imported", "{id}");
    }

    // The customer opens an incident on 7001; Mirakl refunds one of 7002's two units
    // and cancels 7003's only line.
    env.control_post("/_sandbox/mirakl/orders/7001-A/incident", json!({}));
    env.control_post(
        "/_sandbox/mirakl/orders/7002-A/lines/7002-A-1/refund",
        json!({"quantity": 1}),
    );
    env.control_post(
        "/_sandbox/mirakl/orders/7003-A/lines/7003-A-1/cancel",
        json!({}),
    );
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);

    let incident = subjects(&env, "incident");
    assert_eq!(
        incident,
        ["1 mirakl orders have an incident open"],
        "mailed once"
    );
    let mail = env
        .mails()
        .into_iter()
        .find(|m| m["subject"].as_str().unwrap().contains("incident"))
        .unwrap();
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .contains("Order 7001 (Shopify order #"),
        "{mail}"
    );
    assert_eq!(ledger(&env, "7001-A"), "imported", "still watched");

    assert_eq!(
        subjects(&env, "Order Items has changed"),
        ["Order Items has changed for Order number: 7002. Please process manually"]
    );
    assert_eq!(ledger(&env, "7002-A"), "items_changed");

    assert_eq!(
        subjects(&env, "cancelled").len(),
        1,
        "{:?}",
        subjects(&env, "")
    );
    assert!(subjects(&env, "cancelled")[0].contains("7003"));
    assert_eq!(ledger(&env, "7003-A"), "cancelled");
    // Each order is still in Shopify once: nothing is changed there behind the merchant.
    for id in ["7001-A", "7002-A", "7003-A"] {
        assert_eq!(imported(&env, id).len(), 1, "{id}");
    }
}

#[test]
fn a_carrier_mirakl_does_not_list_goes_by_name_with_shopifys_tracking_link() {
    let env = placed("", "5201-A", &[("LS-M", 1, "19.95")]);
    debit(&env, "5201-A");
    env.run(&["sync"]).expect(0);
    let id = fulfil_source(&env, "mirakl:5201-A", "Bob's Vans", "BV-778", None);
    let link = "https://bobsvans.example/track/BV-778";
    env.control_patch(
        &format!("/_sandbox/shopify/fulfillments/{id}"),
        json!({"url": link}),
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(order(&env, "5201-A")["order_state"], "SHIPPED");
    let call = &mirakl(&env)["shipping_calls"][0];
    assert_eq!(
        (
            &call["operation"],
            &call["carrier_code"],
            &call["carrier_name"],
            &call["tracking_number"],
            &call["tracking_url"]
        ),
        (
            &json!("OR23"),
            &Value::Null,
            &json!("Bob's Vans"),
            &json!("BV-778"),
            &json!(link)
        )
    );
    assert!(
        !env.mails()
            .iter()
            .any(|m| m["subject"].as_str().unwrap().contains("Fulfilment Error")),
        "no error: Mirakl takes carriers it does not list"
    );
}

#[test]
fn a_lost_ship_answer_is_settled_from_the_order_state() {
    let env = placed("", "5101-A", &[("LS-M", 1, "19.95")]);
    debit(&env, "5101-A");
    env.run(&["sync"]).expect(0);
    fulfil_source(&env, "mirakl:5101-A", "Sendle", "SND123", None);
    // Mirakl ships the order, and the answer is lost on the way back.
    env.fault(
        json!({"path": "/mirakl/api/orders/5101-A/ship", "method": "PUT",
                     "kind": {"type": "status_after", "status": 502}}),
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(order(&env, "5101-A")["order_state"], "SHIPPED");
    let pushing = env.run(&["orders", "--channel", "mirakl"]).expect(0).stdout;
    assert!(!pushing.contains("SND123"), "not confirmed yet: {pushing}");
    // The next pass reads the order shipped and sends nothing again.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(SHIP), 1);
    let listed = env.run(&["orders", "--channel", "mirakl"]).expect(0).stdout;
    assert!(listed.contains("SND123"), "{listed}");
}

#[test]
fn an_order_that_cannot_be_sold_is_held_and_refused_only_when_configured() {
    // Shopify has no LS-L to sell.
    let env = placed("", "5201-A", &[("LS-L", 1, "29.95")]);
    assert_eq!(order(&env, "5201-A")["order_state"], "WAITING_ACCEPTANCE");
    assert_eq!(ledger(&env, "5201-A"), "held");
    assert_eq!(env.count(ACCEPT), 0);

    let env = env_with("[channel.orders]\nrefuse_unfulfillable = true");
    env.run(&["sync"]).expect(0);
    place(
        &env,
        "5301-A",
        &[("LS-S", 1, "29.95"), ("LS-L", 1, "29.95")],
    );
    place(&env, "5302-A", &[("LS-L", 2, "29.95")]);
    env.run(&["sync"]).expect(0);
    // The line that cannot sell is refused, the rest accepted.
    assert_eq!(
        order(&env, "5301-A")["order_state"],
        "WAITING_DEBIT_PAYMENT"
    );
    assert_eq!(
        line_states(&env, "5301-A"),
        ["WAITING_DEBIT_PAYMENT", "REFUSED"]
    );
    // Nothing sells: Mirakl refuses the order.
    assert_eq!(order(&env, "5302-A")["order_state"], "REFUSED");
    debit(&env, "5301-A");
    env.run(&["sync"]).expect(0);
    let o = imported(&env, "5301-A");
    let skus: Vec<&str> = o[0]["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["LS-S"]);
    assert!(imported(&env, "5302-A").is_empty());
}

#[test]
fn doctor_checks_the_shop_key() {
    let env = env();
    let out = env.run(&["doctor"]).expect(0).stdout;
    assert!(out.contains("shop 2001"), "{out}");
    let wrong = env
        .run(&["doctor"])
        .env("MIRAKL_API_KEY", "Zq9-not-the-key")
        .expect(1);
    let text = format!("{}{}", wrong.stdout, wrong.stderr);
    assert!(text.contains("channel.api_key"), "{text}");
    assert!(!text.contains("Zq9-not-the-key"), "{text}");
}

#[test]
fn sigkill_during_the_stock_upload_loses_no_level() {
    let env = env();
    // Mirakl takes the file; its answer is held back, and the pass is killed meanwhile.
    env.fault(
        json!({"path": "/mirakl/api/offers/stock/imports", "method": "POST",
                     "kind": {"type": "delay_after", "ms": 5000}}),
    );
    env.sync_killed_at(UPLOAD);
    env.clear_faults();
    assert_eq!(
        env.count(UPLOAD),
        1,
        "killed after the upload reached Mirakl"
    );
    // The import skubridge never heard of is settled as failed: its levels go again.
    sync_later(&env, 2);
    sync_later(&env, 3);
    assert_eq!(env.count(UPLOAD), 2);
    let stock = offers(&env);
    assert_eq!((stock["LS-S"], stock["LS-M"], stock["LS-L"]), (10, 3, 0));
}

#[test]
fn sigkill_during_mirakl_imports_never_duplicates_or_loses_an_order() {
    const ROUNDS: u64 = 6;
    // Paid orders, imported in the pass that first sees them; imports without a limit
    // (each pass is two minutes on, but only a moment apart for the sandbox).
    let mut unlimited = shop();
    unlimited["frequency_limits"] = json!({"STO01": 0, "STO02": 0, "STO03": 0});
    let env = on_shop(unlimited, "");
    env.set_shopify_stock("LS-S", 10_000);
    kill_during_imports(&env, ROUNDS, Stop::Kill, |round| {
        let id = format!("9{round:03}-A");
        env.control_post(
            "/_sandbox/mirakl/orders",
            json!({"order_id": id, "state": "SHIPPING",
                   "lines": [{"offer_sku": "LS-S", "quantity": 1, "unit_price": "29.95"}]}),
        );
        format!("mirakl:{id}")
    });
    assert_eq!(env.shopify_available("LS-S"), 10_000 - ROUNDS as i64);
}
