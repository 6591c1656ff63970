//! Fulfilment end to end: a Shopify fulfilment of an imported order reaches The Iconic
//! as ready-to-ship with the mapped provider and the tracking number, exactly once;
//! what cannot be pushed is a "Fulfilment Error" email, never a retry loop.

use serde_json::{json, Value};

use crate::harness::Env;

const READY: &str = "POST /v2/orders/statuses/set-to-ready-to-ship";

/// A store mailing the SMTP sink, with `extra` channel config lines.
fn env_with(extra: &str) -> Env {
    let env = Env::standard();
    env.write_config_with(
        &format!(
            "import_orders_since = \"2020-01-01T00:00:00Z\"\n[channel.carriers]\n\"Australia Post\" = \"AusPost\"\n{extra}"
        ),
        &format!(
            "[notify]\nsmtp_url = \"{}\"\nto = [\"ops@brand.test\"]\nfrom = \"skubridge@brand.test\"\n",
            env.smtp_url
        ),
    );
    env
}

/// A pending Iconic order of one-unit items (item id, SKU).
pub(crate) fn order(id: u64, items: &[(u64, &str)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(item, sku)| json!({"id": item, "seller_sku": sku, "paid_price": "10", "unit_price": "10"}))
        .collect();
    json!({
        "id": id, "number": 300_000 + id,
        "customer": {"first_name": "Jo", "last_name": "Citizen"},
        "address": {"first_name": "Jo", "last_name": "Citizen", "phone": "0400000000",
                    "address1": "1 George St", "city": "Sydney", "region": "NSW",
                    "post_code": "2000", "country": "AU"},
        "items": items,
    })
}

/// The numeric id of the Shopify order imported as `source` (`channel:order id`), and
/// its line ids by SKU.
fn shopify_order(env: &Env, source: &str) -> (String, Vec<(String, String)>) {
    let orders = env.shopify_orders();
    let o = orders
        .iter()
        .find(|o| o["source_identifier"] == source)
        .expect("imported");
    let num = |gid: &Value| {
        gid.as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string()
    };
    let lines = o["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap_or_default().to_string(),
                num(&l["id"]),
            )
        })
        .collect();
    (num(&o["id"]), lines)
}

/// Fulfils Iconic order `id` in Shopify: every unfulfilled line (`lines` None) or the
/// given (SKU, quantity).
pub(crate) fn fulfil(
    env: &Env,
    id: u64,
    company: &str,
    number: &str,
    lines: Option<&[(&str, i64)]>,
) -> String {
    fulfil_source(env, &format!("iconic:{id}"), company, number, lines)
}

/// Like [`fulfil`], for the Shopify order imported as `source`.
pub(crate) fn fulfil_source(
    env: &Env,
    source: &str,
    company: &str,
    number: &str,
    lines: Option<&[(&str, i64)]>,
) -> String {
    let (order, line_ids) = shopify_order(env, source);
    let mut body = json!({"company": company, "number": number});
    if let Some(lines) = lines {
        body["lines"] = lines
            .iter()
            .map(|(sku, q)| {
                let line = &line_ids.iter().find(|(s, _)| s == sku).unwrap().1;
                json!({"line_item_id": line.parse::<u64>().unwrap(), "quantity": q})
            })
            .collect();
    }
    let o = env.control_post(
        &format!("/_sandbox/shopify/orders/{order}/fulfillments"),
        body,
    );
    let last = o["fulfillments"].as_array().unwrap().last().unwrap();
    last["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

/// The channel's items of order `id`: (item id, status, provider, tracking code).
fn channel_items(env: &Env, id: u64) -> Vec<(u64, String, Option<String>, Option<String>)> {
    let state = env.state();
    let order = state["iconic"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap()
        .clone();
    order["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = |k: &str| i["shipment"][k].as_str().map(String::from);
            (
                i["id"].as_u64().unwrap(),
                i["status"].as_str().unwrap().to_string(),
                s("provider"),
                s("tracking_code"),
            )
        })
        .collect()
}

pub(crate) fn ready(provider: &str, tracking: &str) -> (String, Option<String>, Option<String>) {
    (
        "ready_to_ship".into(),
        Some(provider.into()),
        Some(tracking.into()),
    )
}

pub(crate) fn statuses(env: &Env, id: u64) -> Vec<(String, Option<String>, Option<String>)> {
    channel_items(env, id)
        .into_iter()
        .map(|(_, s, p, t)| (s, p, t))
        .collect()
}

fn fulfilment_errors(env: &Env) -> Vec<Value> {
    env.mails()
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("Fulfilment Error")
        })
        .collect()
}

#[test]
fn a_shopify_fulfilment_makes_the_items_ready_to_ship_exactly_once() {
    let env = env_with("");
    env.add_channel_order(order(1, &[(11, "LS-S"), (12, "LS-S"), (13, "LS-M")]));
    env.run(&["sync"]).expect(0);
    fulfil(&env, 1, "Australia Post", "TRK123", None);
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr.contains("iconic fulfilment: 1 pushed"),
        "{}",
        out.stderr
    );
    assert_eq!(statuses(&env, 1), vec![ready("AusPost", "TRK123"); 3]);
    assert_eq!(env.count(READY), 1);
    env.run(&["sync"]).expect(0);
    env.run(&["fulfil"]).expect(0);
    assert_eq!(env.count(READY), 1, "pushed once, never twice");
    assert!(fulfilment_errors(&env).is_empty());
}

#[test]
fn a_partial_fulfilment_pushes_its_items_and_the_rest_follow() {
    let env = env_with("");
    env.add_channel_order(order(2, &[(21, "LS-S"), (22, "LS-S"), (23, "LS-M")]));
    env.run(&["sync"]).expect(0);
    fulfil(&env, 2, "Australia Post", "TRK-A", Some(&[("LS-S", 1)]));
    env.run(&["sync"]).expect(0);
    let pending = ("pending".to_string(), None, None);
    assert_eq!(
        statuses(&env, 2),
        [ready("AusPost", "TRK-A"), pending.clone(), pending]
    );
    fulfil(&env, 2, "StarTrack", "TRK-B", None);
    env.run(&["sync"]).expect(0);
    assert_eq!(
        statuses(&env, 2),
        [
            ready("AusPost", "TRK-A"),
            ready("StarTrack", "TRK-B"),
            ready("StarTrack", "TRK-B")
        ]
    );
    assert_eq!(env.count(READY), 2);
}

#[test]
fn an_unknown_carrier_fails_once_and_pushes_after_the_mapping_and_retry_failed() {
    let env = env_with("");
    env.add_channel_order(order(3, &[(31, "LS-S")]));
    env.run(&["sync"]).expect(0);
    fulfil(&env, 3, "Pigeon Post", "PP1", None);
    let out = env.run(&["sync"]).expect(1);
    assert!(out.stderr.contains("1 failed"), "{}", out.stderr);
    assert_eq!(env.count(READY), 0, "rejected before any call");
    let mails = fulfilment_errors(&env);
    assert_eq!(mails.len(), 1);
    // Exactly the subject merchants' filters know; the order is named in the body.
    assert_eq!(mails[0]["subject"], "Fulfilment Error");
    let body = mails[0]["body"].as_str().unwrap();
    assert!(
        body.contains("iconic order 300003 (Shopify order #1001)"),
        "{body}"
    );
    assert!(
        body.contains("Carrier: Pigeon Post") && body.contains("Tracking number: PP1"),
        "{body}"
    );
    assert!(
        body.contains(
            "carrier \"Pigeon Post\" is not known to iconic; add it under [channel.carriers]"
        ),
        "{body}"
    );
    // No retry loop: unchanged, not tried or mailed again.
    env.run(&["sync"]).expect(0);
    assert_eq!(fulfilment_errors(&env).len(), 1);
    assert_eq!(env.count(READY), 0);

    env.write_config_with(
        "import_orders_since = \"2020-01-01T00:00:00Z\"\n[channel.carriers]\n\"Pigeon Post\" = \"Sendle\"",
        "",
    );
    let out = env.run(&["fulfil", "--retry-failed"]).expect(0);
    assert!(
        out.stdout.contains("Sendle") && out.stdout.contains("pushed"),
        "{}",
        out.stdout
    );
    assert_eq!(statuses(&env, 3), [ready("Sendle", "PP1")]);
}

#[test]
fn a_tracking_number_with_spaces_is_rejected_and_pushed_once_corrected_in_shopify() {
    let env = env_with("");
    env.add_channel_order(order(4, &[(41, "LS-S")]));
    env.run(&["sync"]).expect(0);
    let fulfilment = fulfil(&env, 4, "Australia Post", "TRK 456", None);
    env.run(&["sync"]).expect(1);
    let mails = fulfilment_errors(&env);
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0]["body"]
            .as_str()
            .unwrap()
            .contains("contains spaces"),
        "{}",
        mails[0]["body"]
    );
    assert_eq!(env.count(READY), 0);
    env.control_patch(
        &format!("/_sandbox/shopify/fulfillments/{fulfilment}"),
        json!({"number": "TRK456"}),
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(statuses(&env, 4), [ready("AusPost", "TRK456")]);
    assert_eq!(fulfilment_errors(&env).len(), 1);
}

#[test]
fn a_reused_tracking_number_is_refused_by_the_channel_verbatim_and_mailed_once() {
    let env = env_with("");
    env.add_channel_order(order(5, &[(51, "LS-S")]));
    env.add_channel_order(order(6, &[(61, "LS-M")]));
    env.run(&["sync"]).expect(0);
    fulfil(&env, 5, "Australia Post", "SAME1", None);
    fulfil(&env, 6, "Australia Post", "SAME1", None);
    env.run(&["sync"]).expect(1);
    assert_eq!(statuses(&env, 5), [ready("AusPost", "SAME1")]);
    assert_eq!(statuses(&env, 6)[0].0, "pending");
    let mails = fulfilment_errors(&env);
    assert_eq!(mails.len(), 1);
    let body = mails[0]["body"].as_str().unwrap();
    assert!(
        body.contains("iconic refused it:") && body.contains("already used"),
        "{body}"
    );
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(READY), 2, "the refused push is not repeated");
    let out = env.run(&["fulfil", "--order", "300006"]).expect(0);
    assert!(
        out.stdout.contains("failed before and unchanged"),
        "{}",
        out.stdout
    );
}

#[test]
fn dry_run_shows_the_push_and_changes_nothing() {
    let env = env_with("");
    env.add_channel_order(order(7, &[(71, "LS-S")]));
    env.run(&["sync"]).expect(0);
    fulfil(&env, 7, "couriers-please", "TRK789", None);
    let out = env.run(&["fulfil", "--dry-run"]).expect(0);
    assert!(
        out.stdout.contains("would push") && out.stdout.contains("Couriers Please"),
        "{}",
        out.stdout
    );
    assert_eq!(env.count(READY), 0);
    assert_eq!(statuses(&env, 7)[0].0, "pending");
    // Not in [channel.carriers]: matched to The Iconic's provider list by normalised name.
    env.run(&["sync"]).expect(0);
    assert_eq!(statuses(&env, 7), [ready("Couriers Please", "TRK789")]);
}

#[test]
fn a_push_whose_answer_is_lost_is_settled_from_the_channel_not_sent_twice() {
    let env = env_with("");
    env.add_channel_order(order(8, &[(81, "LS-S")]));
    env.run(&["sync"]).expect(0);
    fulfil(&env, 8, "Australia Post", "TRK800", None);
    env.fault(json!({"path": "/v2/orders/statuses/set-to-ready-to-ship",
                     "kind": {"type": "status_after", "status": 500}}));
    let out = env.run(&["sync"]).expect(0);
    assert!(out.stderr.contains("outcome unknown"), "{}", out.stderr);
    assert_eq!(statuses(&env, 8), [ready("AusPost", "TRK800")]);
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(READY), 1);
    assert!(fulfilment_errors(&env).is_empty());
}

#[test]
fn without_open_imported_orders_a_pass_makes_no_fulfilment_search() {
    let env = env_with("");
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count("graphql FulfilledOrders"), 0);
    env.add_channel_order(order(9, &[(91, "LS-S")]));
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count("graphql FulfilledOrders"), 1);
}

#[test]
fn fulfil_order_names_an_unknown_order_number_as_a_usage_error() {
    let env = env_with("");
    env.run(&["sync"]).expect(0);
    let out = env.run(&["fulfil", "--order", "999"]).expect(2);
    assert!(
        out.stderr
            .contains("--order 999: skubridge has seen no channel order with this number"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_run_killed_while_its_push_is_in_flight_is_finished_by_the_next_pass() {
    let env = env_with("");
    env.add_channel_order(order(6, &[(61, "LS-S")]));
    env.run(&["sync"]).expect(0);
    fulfil(&env, 6, "Australia Post", "TRK6", None);
    // The channel holds the request: the run is killed with `pushing` committed and
    // the answer never read.
    env.fault(json!({"path": "/v2/orders/statuses/set-to-ready-to-ship",
                     "kind": {"type": "delay", "ms": 5000}}));
    let mut child = env
        .run(&["sync"])
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.count(READY) == 0 && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(env.count(READY), 1, "the push reached the channel");
    child.kill().unwrap();
    child.wait().unwrap();
    env.clear_faults();

    // Whether or not the held request was applied, the next pass settles it from the
    // channel's line states: shipped once, with the tracking number.
    env.run(&["sync"]).expect(0);
    assert_eq!(statuses(&env, 6), [ready("AusPost", "TRK6")]);
    env.run(&["sync"]).expect(0);
    assert!(env.count(READY) <= 2, "{}", env.count(READY));
    let out = env.run(&["orders", "--format", "json"]).expect(0).stdout;
    assert!(out.contains("\"imported\""), "{out}");
}
