//! The fault matrix: every endpoint skubridge calls (Shopify's operations, The Iconic's,
//! Hard To Find's and Mirakl's routes) × every fault an API or a network gives × the pass that
//! calls it. In each cell the faulted pass never panics and, when it fails, names the
//! endpoint; two clean passes later every channel holds Shopify's stock, every order is
//! in Shopify once, every fulfilment reached its channel once, and no email went twice.
//! Cells run side by side, each against its own sandbox.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::fulfil::{fulfil_source, statuses};
use crate::harness::{
    mirakl_channel, quick_mirakl, standard_iconic, standard_shopify, Env, HTF_PASSWORD, HTF_USER,
};

/// Where a fault lands: the sandbox path (and method, and GraphQL operation), the
/// label a failure must name, and whether the first pass calls it (a catalogue read)
/// or a later one (orders, fulfilments, stock changes).
struct Endpoint {
    path: &'static str,
    method: &'static str,
    operation: Option<&'static str>,
    label: &'static str,
    first_pass: bool,
}

const fn ep(
    path: &'static str,
    method: &'static str,
    operation: Option<&'static str>,
    label: &'static str,
    first_pass: bool,
) -> Endpoint {
    Endpoint {
        path,
        method,
        operation,
        label,
        first_pass,
    }
}

const GQL: &str = "/admin/api";

const ENDPOINTS: &[Endpoint] = &[
    ep(GQL, "POST", Some("Locations"), "Locations", true),
    ep(
        GQL,
        "POST",
        Some("BulkOperationRunQuery"),
        "BulkOperationRunQuery",
        true,
    ),
    ep(
        GQL,
        "POST",
        Some("CurrentBulkOperation"),
        "CurrentBulkOperation",
        true,
    ),
    ep("/shopify-bulk/", "GET", None, "bulk", true),
    ep(GQL, "POST", Some("Orders"), "Orders", false),
    ep(GQL, "POST", Some("OrderCreate"), "OrderCreate", false),
    ep(
        GQL,
        "POST",
        Some("FulfilledOrders"),
        "FulfilledOrders",
        false,
    ),
    ep(GQL, "POST", Some("LevelsSince"), "LevelsSince", false),
    ep(
        "/oauth/client-credentials",
        "POST",
        None,
        "/oauth/client-credentials",
        false,
    ),
    ep("/v2/product-sets", "GET", None, "/v2/product-sets", true),
    ep("/v2/product-set/", "GET", None, "/products", true),
    ep("/v2/stock/product", "PUT", None, "/v2/stock/product", false),
    ep("/v2/orders", "GET", None, "/v2/orders", false),
    ep(
        "/v2/orders-shipment-providers",
        "GET",
        None,
        "shipment-providers",
        false,
    ),
    ep(
        "/v2/orders/statuses/set-to-ready-to-ship",
        "POST",
        None,
        "set-to-ready-to-ship",
        false,
    ),
    ep(
        "/hardtofind/authenticate",
        "POST",
        None,
        "/authenticate",
        false,
    ),
    ep("/hardtofind/batch", "POST", None, "/batch", false),
    ep("/hardtofind/orders", "GET", None, "GET /orders", false),
    ep("/hardtofind/order/", "GET", None, "/order/{id}", false),
    ep("/hardtofind/order/", "POST", None, "/transition", false),
    ep(
        MIRAKL_EXPORT,
        "POST",
        None,
        "POST /api/offers/export/async",
        true,
    ),
    ep(
        "/mirakl/api/offers/export/async/status/",
        "GET",
        None,
        "GET /api/offers/export/async/status/{id}",
        true,
    ),
    ep(
        "/mirakl/api/offers/export/async/file/",
        "GET",
        None,
        "GET (offer export file)",
        true,
    ),
    ep(
        MIRAKL_STOCK,
        "POST",
        None,
        "POST /api/offers/stock/imports",
        false,
    ),
    ep(
        "/mirakl/api/offers/stock/imports/",
        "GET",
        None,
        "GET /api/offers/stock/imports/{id}",
        false,
    ),
    ep("/mirakl/api/orders", "GET", None, "GET /api/orders", false),
    // By order: OR21, OR23 and OR24 share the prefix `/mirakl/api/orders/`.
    ep(
        "/mirakl/api/orders/9002-A/accept",
        "PUT",
        None,
        "PUT /api/orders/{id}/accept",
        false,
    ),
    ep(
        "/mirakl/api/orders/9001-A/tracking",
        "PUT",
        None,
        "PUT /api/orders/{id}/tracking",
        false,
    ),
    ep(
        "/mirakl/api/orders/9001-A/ship",
        "PUT",
        None,
        "PUT /api/orders/{id}/ship",
        false,
    ),
    ep(
        "/mirakl/api/shipping/carriers",
        "GET",
        None,
        "GET /api/shipping/carriers",
        false,
    ),
];

const MIRAKL_EXPORT: &str = "/mirakl/api/offers/export/async";
const MIRAKL_STOCK: &str = "/mirakl/api/offers/stock/imports";

/// A fault, as many times as it is served (more than the attempts a request gets, so
/// the step fails; once for the 401).
fn faults() -> Vec<(&'static str, Value, u32)> {
    vec![
        (
            "429 Retry-After",
            json!({"type": "status", "status": 429, "retry_after": 0}),
            6,
        ),
        ("429", json!({"type": "status", "status": 429}), 6),
        ("500", json!({"type": "status", "status": 500}), 6),
        ("502 HTML", json!({"type": "html", "status": 502}), 6),
        ("503", json!({"type": "status", "status": 503}), 6),
        ("timeout", json!({"type": "delay", "ms": 1500}), 6),
        ("reset", json!({"type": "reset"}), 6),
        ("truncated", json!({"type": "truncated"}), 6),
        (
            "wrong shape",
            json!({"type": "status", "status": 200, "body": "{\"unexpected\":[1,2]}"}),
            6,
        ),
        ("401 once", json!({"type": "status", "status": 401}), 1),
    ]
}

/// The store on The Iconic (reserve 1), Hard To Find and Mirakl (accepted orders paid at
/// once), mailing the sandbox's sink.
fn store() -> Env {
    let htf = json!({"username": HTF_USER, "password": HTF_PASSWORD, "variants": [
        {"sku": "LS-S", "inventory": 0}, {"sku": "LS-M", "inventory": 0}]});
    let mut mirakl = quick_mirakl(&["LS-S", "LS-M", "LS-L"]);
    mirakl["auto_debit"] = json!(true);
    let env = Env::with_hardtofind_and_mirakl(standard_shopify(), standard_iconic(), htf, mirakl);
    let since = "import_orders_since = \"2020-01-01T00:00:00Z\"";
    env.write_config_with(
        &format!("{since}\n[channel.carriers]\n\"Australia Post\" = \"AusPost\""),
        &format!(
            "[[channel]]\nname = \"htf\"\nkind = \"hardtofind\"\nendpoint = \"{url}/hardtofind\"\nusername = \"{HTF_USER}\"\npassword = \"${{HARDTOFIND_PASSWORD}}\"\n{since}\n\
             {mirakl}\
             [notify]\nsmtp_url = \"{smtp}\"\nto = [\"ops@brand.test\"]\nfrom = \"skubridge@brand.test\"\n",
            url = env.url,
            mirakl = mirakl_channel(&env, ""),
            smtp = env.smtp_url
        ),
    );
    env
}

fn place_iconic(env: &Env, id: u64, sku: &str) {
    env.add_channel_order(json!({
        "id": id, "number": 300_000 + id,
        "customer": {"first_name": "Jo", "last_name": "Citizen"},
        "address": {"first_name": "Jo", "last_name": "Citizen", "phone": "0400000000",
                    "address1": "1 George St", "city": "Sydney", "region": "NSW",
                    "post_code": "2000", "country": "AU"},
        "items": [{"id": id * 10, "seller_sku": sku, "paid_price": "10", "unit_price": "10"}],
    }));
}

fn place_htf(env: &Env, id: u64, sku: &str) {
    env.control_post(
        "/_sandbox/hardtofind/orders",
        json!({"id": id, "lines": [{"sku": sku, "price": "10.00", "quantity": 1}]}),
    );
}

/// A Mirakl order of one unit of `sku`: waiting for acceptance, or already paid (its
/// state set directly, so the first pass imports it).
fn place_mirakl(env: &Env, id: &str, sku: &str, paid: bool) {
    env.control_post(
        "/_sandbox/mirakl/orders",
        json!({"order_id": id, "lines": [{"offer_sku": sku, "quantity": 1,
               "unit_price": "10.00", "shipping_price": "0.00"}]}),
    );
    if paid {
        env.control_put(
            &format!("/_sandbox/mirakl/orders/{id}/state"),
            json!({"state": "SHIPPING"}),
        );
    }
}

/// One cell: `Err` says what did not hold.
fn cell(endpoint: &Endpoint, fault: &str, kind: &Value, times: u32) -> Result<(), String> {
    let env = store();
    let add_fault = || {
        let mut rule = json!({"path": endpoint.path, "method": endpoint.method,
                              "kind": kind, "times": times});
        if let Some(op) = endpoint.operation {
            rule["operation"] = json!(op);
        }
        env.fault(rule);
    };
    let faulted = |env: &Env| {
        let mut run = env.run(&["sync"]);
        if fault == "timeout" {
            run = run.env("SKUBRIDGE_HTTP_TIMEOUT_MS", "500");
        }
        run.output()
    };
    place_iconic(&env, 1, "LS-S");
    place_htf(&env, 7001, "LS-M");
    place_mirakl(&env, "9001-A", "LS-M", true);
    let out = if endpoint.first_pass {
        add_fault();
        faulted(&env)
    } else {
        let first = env.run(&["sync"]).output();
        if first.code != 0 {
            return Err(format!("the clean first pass exited {}", first.code));
        }
        // Work for every step: fulfilments, new orders, a stock change.
        fulfil_source(&env, "iconic:1", "Australia Post", "TRK1", None);
        fulfil_source(&env, "htf:7001", "Australia Post", "TRK2", None);
        fulfil_source(&env, "mirakl:9001-A", "Australia Post", "TRK3", None);
        place_iconic(&env, 2, "LS-M");
        place_htf(&env, 7002, "LS-S");
        place_mirakl(&env, "9002-A", "LS-S", false);
        env.set_shopify_stock("LS-L", 7);
        add_fault();
        faulted(&env)
    };
    if out.stderr.contains("panicked") || !(out.code == 0 || out.code == 1) {
        return Err(format!("exit {}: {}", out.code, tail(&out.stderr)));
    }
    if out.code == 1 {
        let status: Value =
            serde_json::from_str(&env.run(&["status", "--format", "json"]).output().stdout)
                .unwrap_or_default();
        // A refused login names the keys to check rather than the route.
        let named = status["steps"].as_array().into_iter().flatten().any(|s| {
            s["error"].as_str().is_some_and(|e| {
                e.contains(endpoint.label)
                    || e.contains("could not be read")
                    || e.contains("refused the login")
                    || e.contains("rejected the client id")
            })
        });
        if !named {
            return Err(format!(
                "the failure does not name {}: {}",
                endpoint.label,
                tail(&out.stderr)
            ));
        }
    }
    env.clear_faults();
    // The clean passes come minutes later, as cron's do: an order whose create may have
    // reached Shopify is looked up again only once Shopify's search has settled.
    let later =
        |minutes: i64| (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339();
    if endpoint.first_pass {
        // The orders the first pass may have missed, then the fulfilments.
        env.run(&["sync"]).env("SKUBRIDGE_NOW", &later(3)).output();
        fulfil_source(&env, "iconic:1", "Australia Post", "TRK1", None);
        fulfil_source(&env, "htf:7001", "Australia Post", "TRK2", None);
        fulfil_source(&env, "mirakl:9001-A", "Australia Post", "TRK3", None);
    }
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &later(6)).output();
    let last = env.run(&["sync"]).env("SKUBRIDGE_NOW", &later(9)).output();
    if last.code != 0 {
        return Err(format!(
            "the second clean pass exited {}: {}",
            last.code,
            tail(&last.stderr)
        ));
    }
    check(&env, !endpoint.first_pass)
}

/// What must hold after the clean passes.
fn check(env: &Env, second_orders: bool) -> Result<(), String> {
    let mut sources: BTreeMap<String, usize> = BTreeMap::new();
    for o in env.shopify_orders() {
        *sources
            .entry(
                o["source_identifier"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
            .or_default() += 1;
    }
    let mut wanted = vec!["iconic:1", "htf:7001", "mirakl:9001-A"];
    if second_orders {
        wanted.extend(["iconic:2", "htf:7002", "mirakl:9002-A"]);
    }
    for source in &wanted {
        if sources.get(*source) != Some(&1) {
            return Err(format!(
                "{source} is in Shopify {:?} times",
                sources.get(*source)
            ));
        }
    }
    if sources.len() != wanted.len() {
        return Err(format!("unexpected Shopify orders: {sources:?}"));
    }
    // Stock: Shopify's available less the reserve (The Iconic 1, Hard To Find 0).
    let iconic = env.channel_stock();
    for sku in ["LS-S", "LS-M", "LS-L"] {
        let target = (env.shopify_available(sku) - 1).max(0);
        if iconic.get(sku) != Some(&target) {
            return Err(format!(
                "The Iconic holds {:?} of {sku}, Shopify's target is {target}",
                iconic.get(sku)
            ));
        }
    }
    let state = env.state();
    for v in state["hardtofind"]["variants"].as_array().unwrap() {
        let sku = v["sku"].as_str().unwrap();
        let target = env.shopify_available(sku).max(0);
        if v["inventory"].as_i64() != Some(target) {
            return Err(format!(
                "Hard To Find holds {} of {sku}, Shopify's target is {target}",
                v["inventory"]
            ));
        }
    }
    let mirakl = &state["mirakl"];
    for offer in mirakl["offers"].as_array().unwrap() {
        let sku = offer["shop_sku"].as_str().unwrap();
        let target = env.shopify_available(sku).max(0);
        if offer["quantity"].as_i64() != Some(target) {
            return Err(format!(
                "Mirakl holds {} of {sku}, Shopify's target is {target}",
                offer["quantity"]
            ));
        }
    }
    // Fulfilments: on the channel once.
    let iconic_items = statuses(env, 1);
    if iconic_items
        != [(
            "ready_to_ship".to_string(),
            Some("AusPost".to_string()),
            Some("TRK1".to_string()),
        )]
    {
        return Err(format!("The Iconic's order 1: {iconic_items:?}"));
    }
    let htf = state["hardtofind"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == 7001)
        .cloned()
        .unwrap_or_default();
    let shipments = htf["shipments"].as_array().map_or(0, Vec::len);
    if htf["status"] != "SHIPPED" || shipments != 1 {
        return Err(format!(
            "Hard To Find's order 7001: {} with {shipments} shipments",
            htf["status"]
        ));
    }
    let shipping: Vec<&str> = mirakl["shipping_calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["order_id"] == "9001-A")
        .filter_map(|c| c["operation"].as_str())
        .collect();
    let shipped = mirakl["orders"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["order_id"] == "9001-A" && o["order_state"] == "SHIPPED");
    // Tracking (OR23, repeated freely) before the one ship (OR24).
    let tracked_then_shipped = shipping.last() == Some(&"OR24")
        && shipping[..shipping.len() - 1].iter().all(|c| *c == "OR23")
        && shipping.len() >= 2;
    if !tracked_then_shipped || !shipped {
        return Err(format!(
            "Mirakl's order 9001-A: shipped {shipped}, calls {shipping:?}"
        ));
    }
    // Email: no message twice.
    let mut subjects: BTreeMap<String, usize> = BTreeMap::new();
    for m in env.mails() {
        *subjects
            .entry(m["subject"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    if let Some((subject, n)) = subjects.iter().find(|(_, n)| **n > 1) {
        return Err(format!("{subject:?} mailed {n} times"));
    }
    if subjects.keys().any(|s| s == "Fulfilment Error") {
        return Err("a Fulfilment Error was mailed".into());
    }
    Ok(())
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(3)..]
        .join(" | ")
        .chars()
        .take(600)
        .collect()
}

#[test]
fn every_endpoint_under_every_fault_recovers_without_losing_or_repeating_anything() {
    let faults = faults();
    // Not a cell: Hard To Find's stock batch answer is not read (its shape is
    // UNCONFIRMED and it says nothing per SKU), so a well-formed answer of another shape
    // counts as applied; the next change or reconcile sends the level again.
    // Nor Mirakl's OR23 and OR24: they answer 204 and their answer is not read, so a
    // 200 of another shape in their place counts as recorded (UNCONFIRMED whether
    // Mirakl ever answers them with a body).
    let unreadable_by_design = |e: &Endpoint, fault: &str| {
        fault == "wrong shape"
            && (e.path == "/hardtofind/batch"
                || e.path.ends_with("/tracking")
                || e.path.ends_with("/ship"))
    };
    let cells: Vec<(&Endpoint, &(&str, Value, u32))> = ENDPOINTS
        .iter()
        .flat_map(|e| faults.iter().map(move |f| (e, f)))
        .filter(|(e, f)| !unreadable_by_design(e, f.0))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((endpoint, (fault, kind, times))) = cells.get(i) else {
                    break;
                };
                let name = format!(
                    "{} {}{} × {fault}",
                    endpoint.method,
                    endpoint.path,
                    endpoint
                        .operation
                        .map(|o| format!(" {o}"))
                        .unwrap_or_default()
                );
                if let Err(why) = cell(endpoint, fault, kind, *times) {
                    failures.lock().unwrap().push(format!("{name}: {why}"));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    println!(
        "fault matrix: {} cells ({} endpoints × {} faults, less {} by design), {} held",
        cells.len(),
        ENDPOINTS.len(),
        faults.len(),
        ENDPOINTS.len() * faults.len() - cells.len(),
        cells.len() - failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} cells did not hold:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
