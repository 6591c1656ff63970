//! `skubridge report --html FILE` and `[report] html` end to end: after real passes
//! against the sandbox, the page shows what `status` and `unmatched` show, loads
//! nothing from anywhere, and escapes what the store holds.

use serde_json::{json, Value};

use crate::harness::Env;

/// Imports every order from 2020 on: the tests' orders are created "now".
const SINCE: &str = r#"import_orders_since = "2020-01-01T00:00:00Z""#;

/// A SKU a page must never run.
const EVIL: &str = "X<script>alert(1)</script>";

/// A pending order of one unit of `sku` (number 300000 + id).
fn order(id: u64, sku: &str) -> Value {
    json!({
        "id": id, "number": 300_000 + id,
        "customer": {"first_name": "Jo", "last_name": "Citizen"},
        "email": "jo@example.com",
        "address": {"first_name": "Jo", "last_name": "Citizen", "phone": "0400000000",
                    "address1": "1 George St", "city": "Sydney", "region": "NSW",
                    "post_code": "2000", "country": "AU"},
        "delivery_info": "Standard",
        "shipping_fee": "9.95",
        "items": [{"id": 1, "seller_sku": sku, "paid_price": "20", "unit_price": "20"}],
    })
}

/// Nothing that loads or runs anything: no scripts, no links, no sources, no URLs.
fn assert_self_contained(page: &str) {
    for needle in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "src=", "href=", "@import",
        "url(", "http://", "https://",
    ] {
        assert!(!page.contains(needle), "{needle:?} in the page:\n{page}");
    }
}

#[test]
fn before_any_pass_the_page_says_so() {
    let env = Env::standard();
    env.run(&["report", "--html", "page.html"])
        .env("SKUBRIDGE_NOW", "2026-11-27T00:00:00Z")
        .expect(0);
    let page = std::fs::read_to_string(env.dir.path().join("page.html")).unwrap();
    for needle in [
        "<h1>e2e-store.myshopify.com</h1>",
        "generated <time datetime=\"2026-11-27T00:00:00.000Z\">",
        "Needs attention",
        "no sync pass has run yet",
        "No passes yet",
        "No product sync has read this channel",
    ] {
        assert!(page.contains(needle), "{needle:?} in\n{page}");
    }
    assert_self_contained(&page);
}

#[test]
fn the_page_shows_the_figures_status_and_unmatched_show() {
    let env = Env::standard();
    env.write_config(SINCE);
    env.add_channel_set(
        json!({"id": 60, "name": "Odd", "status": "active", "products": [
            {"id": 951, "seller_sku": EVIL, "status": "active", "quantity": 2},
        ]}),
    );
    env.run(&["sync"]).expect(0);
    env.add_channel_order(order(9201, "NEW-<1>"));
    let out = env.run(&["sync"]).expect(0);
    assert!(out.stderr.contains("1 held"), "{}", out.stderr);

    let now = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
    env.run(&["report", "--html", "page.html"])
        .env("SKUBRIDGE_NOW", &now)
        .expect(0);
    let page = std::fs::read_to_string(env.dir.path().join("page.html")).unwrap();
    assert!(!env.dir.path().join("page.html.tmp").exists());
    let out = env
        .run(&["status", "--format", "json"])
        .env("SKUBRIDGE_NOW", &now)
        .expect(0);
    let status: Value = serde_json::from_str(&out.stdout).unwrap();

    assert_self_contained(&page);
    assert!(page.contains("<h1>e2e-store.myshopify.com</h1>"), "{page}");
    assert!(
        page.contains(&format!(
            "generated <time datetime=\"{}\">",
            status["now"].as_str().unwrap()
        )),
        "{page}"
    );
    assert!(page.contains("<strong>Healthy</strong>"), "{page}");
    let due = status["next_due_at"].as_str().unwrap();
    assert!(
        page.contains(&format!("<time datetime=\"{due}\" id=\"next-due\">due ")),
        "next pass due {due} in\n{page}"
    );
    assert!(page.contains("Paused</dt><dd>no</dd>"), "{page}");

    // The same per-channel figures as `status`.
    let iconic = &status["channels"][0];
    let card = |value: &Value, label: &str| {
        format!("<div class=\"v\">{value}</div><div class=\"k\">{label}</div>")
    };
    for (value, label) in [
        (
            &iconic["unmatched_listings"],
            "Unmatched (no Shopify variant)",
        ),
        (&iconic["orders_held"], "Orders held"),
        (&iconic["orders_failed"], "Orders refused by Shopify"),
        (
            &iconic["orders_items_changed"],
            "Items changed after import",
        ),
        (&iconic["fulfilment_errors"], "Fulfilment errors"),
    ] {
        assert!(
            page.contains(&card(value, label)),
            "{label} {value} in\n{page}"
        );
    }
    assert_eq!(iconic["orders_held"], 1);
    assert!(
        page.contains(&format!(
            "Emails waiting to be sent ({})",
            status["emails_pending"]
        )),
        "{page}"
    );

    // The rows `unmatched` shows, the odd SKU escaped and never raw.
    let unmatched = env.run(&["unmatched", "--format", "json"]).expect(0).stdout;
    let unmatched: Value = serde_json::from_str(&unmatched).unwrap();
    for listing in unmatched["listings"].as_array().unwrap() {
        let product_id = listing["product_id"].as_str().unwrap();
        assert!(
            page.contains(&format!("<td>{product_id}</td>")),
            "{listing} in\n{page}"
        );
    }
    for sku in ["NOSHOP-1", "DUP-1", "UT-1"] {
        assert!(
            page.contains(&format!("<code>{sku}</code>")),
            "{sku} in\n{page}"
        );
    }
    assert!(
        page.contains("<code>X&lt;script&gt;alert(1)&lt;/script&gt;</code>"),
        "{page}"
    );

    // The held order, its reason escaped.
    let orders = page
        .split("<h3>Orders waiting on you (1)</h3>")
        .nth(1)
        .unwrap();
    assert!(orders.contains("<td>309201</td><td>held</td>"), "{orders}");
    assert!(orders.contains("NEW-&lt;1&gt;"), "{orders}");
    assert!(!page.contains("NEW-<1>"), "{page}");

    // A bar per pass, both ok, and both runs in the table.
    assert_eq!(page.matches("<rect class=\"bar ok\"").count(), 2, "{page}");
    assert!(page.contains("<h3>Last 2 runs</h3>"), "{page}");
}

#[test]
fn a_sync_writes_the_page_the_config_names_beside_the_config() {
    let env = Env::standard();
    env.write_config_with("", "[report]\nhtml = \"dash.html\"\n");
    let dash = env.dir.path().join("dash.html");
    env.run(&["sync"]).expect(0);
    let first = std::fs::read_to_string(&dash).unwrap();
    assert!(
        first.contains("<h1>e2e-store.myshopify.com</h1>"),
        "{first}"
    );
    assert_eq!(first.matches("<rect class=\"bar ").count(), 1, "{first}");
    assert!(!env.dir.path().join("dash.html.tmp").exists());
    assert_self_contained(&first);

    // Rewritten whole after the next run, with that run in it.
    env.run(&["sync"]).expect(0);
    let second = std::fs::read_to_string(&dash).unwrap();
    assert_eq!(second.matches("<rect class=\"bar ").count(), 2, "{second}");
    // Commands that only read leave it alone.
    std::fs::remove_file(&dash).unwrap();
    env.run(&["status"]).expect(0);
    assert!(!dash.exists());
}
