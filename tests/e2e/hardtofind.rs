//! Hard To Find end to end, beside The Iconic in the same store and the same pass:
//! stock by SKU (only tagged products when `only_tagged` is set), READY orders into
//! Shopify once with their personalisations, the `process` and `ship` transitions, and
//! what a person must hear about (refusals, cancellations, changed orders).

use serde_json::{json, Value};

use crate::fulfil::fulfil_source;
use crate::harness::{standard_iconic, standard_shopify, Env, HTF_PASSWORD, HTF_USER};
use crate::orders::{kill_during_imports, rows_in_state, Stop};

const BATCH: &str = "POST /hardtofind/batch";
const LOGIN: &str = "POST /hardtofind/authenticate";
const TRANSITION: &str = "POST /hardtofind/order/{id}/transition";

/// The standard store with its shirts tagged for Hard To Find, plus a tagged mug and an
/// untagged cup; Hard To Find sells shirts, the mug and the cup.
fn store() -> Value {
    let mut shopify = standard_shopify();
    shopify["products"][0]["tags"] = json!(["Summer", "hardtofind"]);
    let products = shopify["products"].as_array_mut().unwrap();
    let product = |id: u64, title: &str, sku: &str, available: i64, tags: Value| {
        json!({"id": id, "title": title, "status": "ACTIVE", "tags": tags, "variants": [
            {"id": id * 10, "title": title, "sku": sku, "tracked": true,
             "inventory_item_id": id * 10 + 5, "available": {"1": available}}]})
    };
    products.push(product(
        500,
        "Engraved Mug",
        "MUG-1",
        5,
        json!(["HardToFind"]),
    ));
    products.push(product(600, "Plain Cup", "CUP-1", 7, json!([])));
    shopify
}

fn account() -> Value {
    let variant = |sku: &str| json!({"sku": sku, "inventory": 0});
    json!({
        "username": HTF_USER,
        "password": HTF_PASSWORD,
        "page_size": 2,
        "variants": [variant("LS-S"), variant("LS-M"), variant("MUG-1"), variant("CUP-1")],
    })
}

/// The channel's block; `extra` lines go in it.
fn block(env: &Env, extra: &str) -> String {
    format!(
        r#"[[channel]]
name = "htf"
kind = "hardtofind"
endpoint = "{url}/hardtofind"
username = "{HTF_USER}"
password = "${{HARDTOFIND_PASSWORD}}"
import_orders_since = "2020-01-01T00:00:00Z"
{extra}
"#,
        url = env.url
    )
}

/// The store on The Iconic and on Hard To Find (offered tagged products only), mailing
/// the SMTP sink.
fn env_with(extra: &str) -> Env {
    let env = Env::with_hardtofind(store(), standard_iconic(), account());
    let notify = format!(
        "[notify]\nsmtp_url = \"{}\"\nto = [\"ops@brand.test\"]\nfrom = \"skubridge@brand.test\"\n",
        env.smtp_url
    );
    env.write_config_with("", &format!("{}\n{notify}", block(&env, extra)));
    env
}

fn env() -> Env {
    env_with("only_tagged = \"hardtofind\"\n[channel.carriers]\n\"Australia Post\" = \"AusPost eParcel\"")
}

fn htf(env: &Env) -> Value {
    env.state()["hardtofind"].clone()
}

fn stock(env: &Env) -> Vec<(String, i64)> {
    htf(env)["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["sku"].as_str().unwrap().to_string(),
                v["inventory"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn order_on_channel(env: &Env, id: u64) -> Value {
    htf(env)["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .cloned()
        .expect("the order is on Hard To Find")
}

/// A READY order: (SKU, quantity, unit price) lines, the first personalised.
fn place(env: &Env, id: u64, lines: &[(&str, i64, &str)]) {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, quantity, price))| {
            let mut line = json!({"sku": sku, "quantity": quantity, "price": price});
            if i == 0 {
                line["variant_data"] = json!([{"name": "Colour", "value": "Blue"}]);
                line["personalisations"] =
                    json!([{"name": "Engraving", "value": "For Sam, love Mum"}]);
            }
            line
        })
        .collect();
    env.control_post(
        "/_sandbox/hardtofind/orders",
        json!({
            "id": id, "lines": lines, "shipping": "9.95", "discount": "5.00",
            "gift_wrapping": {"description": "Kraft paper", "message": "Happy birthday!", "price": "6.00"},
            "instructions": "Leave at the door",
        }),
    );
}

fn shopify_order(env: &Env, id: u64) -> Value {
    let source = format!("htf:{id}");
    let found: Vec<Value> = env
        .shopify_orders()
        .into_iter()
        .filter(|o| o["source_identifier"] == source.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{source} in Shopify once");
    found[0].clone()
}

fn subjects(env: &Env) -> Vec<String> {
    env.mails()
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn stock_reaches_hard_to_find_for_tagged_products_only_and_only_when_it_changes() {
    let env = env();
    env.run(&["sync"]).expect(0);
    // Shirts and the mug are tagged (any case); the cup is not, so its level stays.
    let levels = stock(&env);
    assert_eq!(
        levels,
        [
            ("LS-S".to_string(), 10),
            ("LS-M".to_string(), 3),
            ("MUG-1".to_string(), 5),
            ("CUP-1".to_string(), 0)
        ]
    );
    // Tagged SKUs Hard To Find does not hold were offered and silently ignored; the
    // untagged cup was never offered.
    let state = htf(&env);
    let ignored: Vec<&str> = state["ignored_skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        ignored.contains(&"LS-L") && !ignored.contains(&"CUP-1"),
        "{ignored:?}"
    );
    // The Iconic synced in the same pass.
    assert_eq!(env.channel_stock()["LS-S"], 9);
    assert_eq!(env.count(BATCH), 1, "every change in one batch");

    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(BATCH), 1, "nothing changed, nothing sent");
    env.set_shopify_stock("MUG-1", 2);
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(BATCH), 2);
    assert!(stock(&env).contains(&("MUG-1".to_string(), 2)));

    // Without the tag, every tracked Shopify SKU is offered: the cup too.
    env.write_config_with("", &block(&env, ""));
    env.run(&["reset-products", "--channel", "htf", "--yes"])
        .expect(0);
    env.run(&["sync"]).expect(0);
    assert!(stock(&env).contains(&("CUP-1".to_string(), 7)));

    // `unmatched` says what can be known, and that the catalogue cannot be listed.
    let out = env.run(&["unmatched", "--channel", "htf"]).expect(0).stdout;
    assert!(out.contains("cannot list its catalogue"), "{out}");
    assert!(out.contains("DUP-1") && out.contains("UT-1"), "{out}");
}

#[test]
fn a_tag_put_on_or_taken_off_a_product_is_seen_by_the_next_product_sync() {
    let env = env();
    // Passes from half an hour on: the products' own times (the sandbox's start) are
    // then older than any product sync's window, as an existing product's are.
    let t0 = chrono::Utc::now() + chrono::Duration::minutes(30);
    let at = |minutes: i64| (t0 + chrono::Duration::minutes(minutes)).to_rfc3339();
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(0)).expect(0);
    env.control_patch(
        "/_sandbox/shopify/products/600",
        json!({"tags": ["HARDTOFIND"]}),
    );
    env.control_patch("/_sandbox/shopify/products/500", json!({"tags": []}));
    // Before product sync is due, nothing moves.
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(5)).expect(0);
    assert!(stock(&env).contains(&("CUP-1".to_string(), 0)));
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(61)).expect(0);
    let levels = stock(&env);
    // The cup is offered now; the mug, no longer offered, is taken off sale.
    assert!(levels.contains(&("CUP-1".to_string(), 7)), "{levels:?}");
    assert!(levels.contains(&("MUG-1".to_string(), 0)), "{levels:?}");
}

#[test]
fn a_ready_order_becomes_one_shopify_order_with_its_personalisations() {
    let env = env();
    env.run(&["sync"]).expect(0);
    place(&env, 7001, &[("MUG-1", 2, "24.95"), ("LS-S", 1, "29.95")]);
    env.run(&["sync"]).expect(0);

    let o = shopify_order(&env, 7001);
    let lines = o["line_items"].as_array().unwrap();
    let mug = lines.iter().find(|l| l["sku"] == "MUG-1").unwrap();
    assert_eq!(mug["quantity"], 2);
    assert_eq!(
        mug["properties"],
        json!([{"name": "Colour", "value": "Blue"},
               {"name": "Engraving", "value": "For Sam, love Mum"}])
    );
    let wrap = lines
        .iter()
        .find(|l| l["title"] == "Gift wrapping: Kraft paper")
        .expect("gift wrapping is a line");
    assert_eq!(wrap["price"], "6.0");
    let attributes: Vec<(String, String)> = o["custom_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key"].as_str().unwrap().to_string(),
                a["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let attr = |k: &str| {
        attributes
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert!(attr("Dispatch due").is_some(), "{attributes:?}");
    assert!(
        attr("Packing slip (put in every parcel)")
            .is_some_and(|u| u.ends_with("/hardtofind/order/7001/packing-slip.pdf")),
        "{attributes:?}"
    );
    assert_eq!(attr("Gift message").as_deref(), Some("Happy birthday!"));
    let note = o["note"].as_str().unwrap();
    assert!(
        note.contains("Gift message: Happy birthday!") && note.contains("Leave at the door"),
        "{note}"
    );
    // 2 x 24.95 + 29.95 + 9.95 shipping + 6.00 wrapping - 5.00 discount, as Hard To Find says.
    assert_eq!(o["total_price"], "90.8");
    assert_eq!(
        order_on_channel(&env, 7001)["payment_summary"]["total"],
        "90.80"
    );
    // Taken: processed on Hard To Find, stock claimed in Shopify and pushed back.
    assert_eq!(order_on_channel(&env, 7001)["status"], "PROCESSED");
    assert_eq!(env.shopify_available("MUG-1"), 3);
    env.run(&["sync"]).expect(0);
    shopify_order(&env, 7001);
    assert_eq!(env.count(TRANSITION), 1, "processed once");
    assert!(stock(&env).contains(&("MUG-1".to_string(), 3)));
    let listed = env.run(&["orders", "--channel", "htf"]).expect(0).stdout;
    assert!(
        listed.contains("7001") && listed.contains("imported"),
        "{listed}"
    );
}

#[test]
fn with_process_orders_off_an_imported_order_stays_ready_on_hard_to_find() {
    let env = env_with("process_orders = false");
    env.run(&["sync"]).expect(0);
    place(&env, 7051, &[("MUG-1", 1, "24.95")]);
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);
    shopify_order(&env, 7051);
    assert_eq!(order_on_channel(&env, 7051)["status"], "READY");
    assert_eq!(env.count(TRANSITION), 0);
}

#[test]
fn another_login_pauses_hard_to_find_until_its_products_are_reset() {
    let env = env();
    env.run(&["sync"]).expect(0);
    // Staging, or another store's login: the SKUs offered belong to another account.
    let other = block(&env, "only_tagged = \"hardtofind\"")
        .replace(HTF_USER, "other-owner@e2e-store.example");
    env.write_config_with("", &other);
    env.set_shopify_stock("MUG-1", 1);
    let out = env.run(&["sync"]).expect(2);
    assert!(out.stderr.contains("channel htf"), "{}", out.stderr);
    assert!(
        stock(&env).contains(&("MUG-1".to_string(), 5)),
        "nothing sent"
    );
    // The Iconic carried on in the same pass.
    assert_eq!(env.channel_stock()["LS-S"], 9);
    // Monitoring hears of it: status is unhealthy and names the fix.
    let status = env.run(&["status"]).expect(1).stdout;
    assert!(
        status.contains("htf sits out every pass")
            && status.contains("reset-products --channel htf"),
        "{status}"
    );
}

#[test]
fn orders_that_cannot_be_sold_are_held_and_their_skus_shown() {
    let env = env();
    env.run(&["sync"]).expect(0);
    place(&env, 7101, &[("NOPE-9", 1, "10.00")]);
    place(&env, 7102, &[("LS-M", 4, "10.00")]);
    env.run(&["sync"]).expect(0);
    assert!(env.shopify_orders().is_empty());
    assert_eq!(order_on_channel(&env, 7101)["status"], "READY");
    let held = env.run(&["orders", "--channel", "htf"]).expect(0).stdout;
    assert!(
        held.contains("7101") && held.contains("7102") && held.contains("held"),
        "{held}"
    );
    let out = env.run(&["unmatched", "--channel", "htf"]).expect(0).stdout;
    assert!(out.contains("NOPE-9") && out.contains("7101"), "{out}");
    assert_eq!(
        subjects(&env)
            .iter()
            .filter(|s| s.contains("2 htf orders are not in Shopify yet"))
            .count(),
        1,
        "{:?}",
        subjects(&env)
    );
    // Stock arrives: the short order goes through on its own.
    env.set_shopify_stock("LS-M", 4);
    env.run(&["sync"]).expect(0);
    shopify_order(&env, 7102);
}

#[test]
fn a_token_refused_mid_pass_is_replaced_and_the_pass_goes_on() {
    let env = env();
    env.run(&["sync"]).expect(0);
    let logins = env.count(LOGIN);
    place(&env, 7201, &[("MUG-1", 1, "24.95")]);
    // The token lapses between the stock push and the order read.
    env.fault(json!({"path": "/hardtofind/orders", "method": "GET",
                     "kind": {"type": "status", "status": 401,
                              "body": "{\"message\":\"token expired\"}"}}));
    env.control_post("/_sandbox/hardtofind/expire-tokens", json!({}));
    env.run(&["sync"]).expect(0);
    shopify_order(&env, 7201);
    assert!(env.count(LOGIN) >= logins + 2, "logged in again mid-pass");
}

#[test]
fn a_fulfilled_order_ships_once_under_one_tracking_number() {
    let env = env();
    env.run(&["sync"]).expect(0);
    place(&env, 7301, &[("MUG-1", 1, "24.95"), ("LS-S", 1, "29.95")]);
    env.run(&["sync"]).expect(0);
    // Two parcels: the first alone does not ship a whole-order channel.
    fulfil_source(
        &env,
        "htf:7301",
        "Australia Post",
        "TRK-A",
        Some(&[("MUG-1", 1)]),
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(order_on_channel(&env, 7301)["status"], "PROCESSED");
    fulfil_source(
        &env,
        "htf:7301",
        "Australia Post",
        "TRK-B",
        Some(&[("LS-S", 1)]),
    );
    let out = env.run(&["sync", "-v"]).expect(0);
    let o = order_on_channel(&env, 7301);
    assert_eq!(o["status"], "SHIPPED");
    let shipments = o["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 1);
    assert_eq!(shipments[0]["tracking_number"], "TRK-B");
    assert_eq!(shipments[0]["shipping_provider_name"], "AusPost eParcel");
    assert!(
        out.stderr.contains("sent TRK-B") && out.stderr.contains("not sent: TRK-A"),
        "{}",
        out.stderr
    );
    env.run(&["sync"]).expect(0);
    // process, then ship: nothing sent twice.
    assert_eq!(env.count(TRANSITION), 2);
    let listed = env.run(&["orders", "--channel", "htf"]).expect(0).stdout;
    assert!(
        listed.contains("TRK-B") && !listed.contains("TRK-A"),
        "{listed}"
    );
    assert!(!subjects(&env)
        .iter()
        .any(|s| s.contains("Fulfilment Error")));
}

#[test]
fn a_shipment_whose_answer_is_lost_is_settled_from_the_order_status() {
    let env = env();
    env.run(&["sync"]).expect(0);
    place(&env, 7351, &[("MUG-1", 1, "24.95")]);
    env.run(&["sync"]).expect(0);
    fulfil_source(&env, "htf:7351", "Australia Post", "TRK-C", None);
    // Hard To Find applies the shipment, and the answer is lost on the way back.
    env.fault(json!({"path": "/hardtofind/order/", "method": "POST",
                     "kind": {"type": "status_after", "status": 502}}));
    env.run(&["sync"]).expect(0);
    assert_eq!(order_on_channel(&env, 7351)["status"], "SHIPPED");
    let pushing = env.run(&["orders", "--channel", "htf"]).expect(0).stdout;
    assert!(!pushing.contains("TRK-C"), "not confirmed yet: {pushing}");
    // The next pass reads the order, sees it shipped, and sends nothing again.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(TRANSITION), 2, "process, then ship once");
    assert_eq!(
        order_on_channel(&env, 7351)["shipments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let listed = env.run(&["orders", "--channel", "htf"]).expect(0).stdout;
    assert!(listed.contains("TRK-C"), "{listed}");
    assert!(!subjects(&env)
        .iter()
        .any(|s| s.contains("Fulfilment Error")));
}

#[test]
fn a_refused_shipment_is_a_fulfilment_error_email() {
    let env = env();
    env.run(&["sync"]).expect(0);
    place(&env, 7401, &[("MUG-1", 1, "24.95")]);
    env.run(&["sync"]).expect(0);
    env.control_post(
        "/_sandbox/hardtofind/refuse-transitions",
        json!({"action": "ship", "message": "dispatch window closed for order 7401"}),
    );
    fulfil_source(&env, "htf:7401", "Sendle", "SND123", None);
    // A fulfilment not pushed fails the pass (exit 1), as for every channel.
    env.run(&["sync"]).expect(1);
    assert_eq!(order_on_channel(&env, 7401)["status"], "PROCESSED");
    let mails = env.mails();
    let error = mails
        .iter()
        .find(|m| m["subject"].as_str().unwrap().contains("Fulfilment Error"))
        .expect("a Fulfilment Error email");
    assert!(
        error["body"]
            .as_str()
            .unwrap()
            .contains("dispatch window closed for order 7401"),
        "{error}"
    );
    // Unchanged in Shopify: not sent again, not mailed again.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(TRANSITION), 2, "process, then the refused ship");
    assert_eq!(env.mails().len(), mails.len());
}

#[test]
fn cancelled_and_changed_orders_are_reported_and_frozen() {
    let env = env();
    env.run(&["sync"]).expect(0);
    place(&env, 7501, &[("MUG-1", 1, "24.95")]);
    place(&env, 7502, &[("LS-S", 1, "29.95")]);
    env.run(&["sync"]).expect(0);
    env.control_patch(
        "/_sandbox/hardtofind/orders/7501",
        json!({"status": "CANCELLED"}),
    );
    env.control_patch(
        "/_sandbox/hardtofind/orders/7502",
        json!({"lines": [{"sku": "LS-S", "quantity": 2, "price": "29.95"}]}),
    );
    env.run(&["sync"]).expect(0);
    let subjects = subjects(&env);
    assert!(
        subjects.iter().any(|s| s
            .ends_with("Order Items has changed for Order number: 7502. Please process manually")),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("7501") && s.contains("cancelled")),
        "{subjects:?}"
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(env.mails().len(), subjects.len(), "each reported once");
    let listed = env.run(&["orders", "--channel", "htf"]).expect(0).stdout;
    assert!(
        listed.contains("items_changed") || listed.contains("items changed"),
        "{listed}"
    );
}

#[test]
fn sigkill_during_hard_to_find_imports_never_duplicates_or_loses_an_order() {
    const ROUNDS: u64 = 18;
    let env = env();
    env.set_shopify_stock("MUG-1", 10_000);
    kill_during_imports(&env, ROUNDS, Stop::Kill, |round| {
        let id = 80_000 + round;
        place(&env, id, &[("MUG-1", 1, "24.95")]);
        format!("htf:{id}")
    });
    assert_eq!(rows_in_state(&env, "imported"), ROUNDS as i64);
    assert_eq!(env.shopify_available("MUG-1"), 10_000 - ROUNDS as i64);
    // Each imported order ends up processed on Hard To Find.
    let processed = htf(&env)["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "PROCESSED")
        .count();
    assert_eq!(processed as u64, ROUNDS);
}

#[test]
fn doctor_checks_the_hard_to_find_login() {
    let env = env();
    let out = env.run(&["doctor"]).expect(0).stdout;
    assert!(out.contains("seller account"), "{out}");
    let wrong = env
        .run(&["doctor"])
        .env("HARDTOFIND_PASSWORD", "Zq9-not-the-password")
        .expect(1);
    let text = format!("{}{}", wrong.stdout, wrong.stderr);
    assert!(
        text.contains("channel.username and channel.password"),
        "{text}"
    );
    assert!(!text.contains("Zq9-not-the-password"), "{text}");
}
