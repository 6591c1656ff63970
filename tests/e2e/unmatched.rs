//! `skubridge unmatched` end to end: after a real `sync`, every listing that does not sync
//! is reported with its reason and near-miss hint, in each format, and none was synced.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::harness::{Env, ICONIC_ID, ICONIC_SECRET, SHOPIFY_TOKEN};

fn variant(id: u64, sku: Option<&str>, tracked: bool) -> Value {
    let mut v = json!({"id": id, "tracked": tracked, "inventory_item_id": id + 5000,
                       "available": {"1": 10}});
    if let Some(sku) = sku {
        v["sku"] = json!(sku);
    }
    v
}

fn product(id: u64, status: &str, variants: Vec<Value>) -> Value {
    json!({"id": id, "title": format!("p{id}"), "status": status, "variants": variants})
}

fn shopify() -> Value {
    let active = |id, skus: &[&str]| {
        let variants = skus
            .iter()
            .enumerate()
            .map(|(i, sku)| variant(id * 10 + i as u64, Some(sku), true))
            .collect();
        product(id, "ACTIVE", variants)
    };
    json!({
        "shop": "e2e-store.myshopify.com",
        "name": "E2E Store",
        "access_token": SHOPIFY_TOKEN,
        "locations": [{"id": 1, "name": "Warehouse", "active": true}],
        "products": [
            active(100, &["OK-1", "TRAIL-1", "ABC-123", "CASE-1", "ZW-1", "NB 1", "MULTI-1", "multi_1"]),
            product(200, "DRAFT", vec![variant(2000, Some("DR-1"), true)]),
            product(300, "ARCHIVED", vec![variant(3000, Some("AR-1"), true)]),
            active(400, &["DUP-1", "DUP-1"]),
            product(500, "ACTIVE", vec![variant(5000, Some(""), true), variant(5001, None, true)]),
            product(600, "ACTIVE", vec![variant(6000, Some("UT-1"), false)]),
        ]
    })
}

/// Channel quantities: what a listing holds if nothing is ever pushed to it.
const LISTINGS: &[(u64, &str, i64)] = &[
    (501, "OK-1", 0),
    (502, "TRAIL-1 ", 3),
    (503, "ABC_123", 3),
    (504, "case-1", 3),
    (505, "ZW\u{200B}-1", 3),
    (506, "NB\u{A0}1", 3),
    (507, "Multi 1", 3),
    (601, "DR-1", 0),
    (602, "AR-1", 0),
    (701, "DUP-1", 3),
    (801, "UT-1", 3),
    (901, "NOSHOP-1", 3),
];

fn iconic() -> Value {
    let mut products: Vec<Value> = LISTINGS
        .iter()
        .map(|(id, sku, q)| json!({"id": id, "seller_sku": sku, "status": "active", "quantity": q}))
        .collect();
    products.push(json!({"id": 902, "seller_sku": "GONE-1", "status": "inactive", "quantity": 3}));
    json!({
        "client_id": ICONIC_ID,
        "client_secret": ICONIC_SECRET,
        "product_sets": [{"id": 10, "name": "Everything", "status": "active", "products": products}]
    })
}

/// After one product sync.
fn synced() -> Env {
    let env = Env::new(shopify(), iconic());
    env.run(&["sync"]).expect(0);
    env
}

fn no_raw_invisibles(text: &str) {
    for c in ['\u{200B}', '\u{A0}'] {
        assert!(!text.contains(c), "raw {c:?} in\n{text}");
    }
}

#[test]
fn every_listing_that_does_not_sync_has_its_reason_and_hint_and_none_synced() {
    let env = synced();
    let stock = env.channel_stock();
    assert_eq!(stock["OK-1"], 9, "the control listing syncs");
    for (_, sku, quantity) in &LISTINGS[1..] {
        // Draft and archived listings hold 0: Shopify's 10 − 1 would show a push.
        assert_eq!(stock[*sku], *quantity, "{sku:?} was synced");
    }

    let out = env.run(&["unmatched", "--format", "json"]).expect(0);
    no_raw_invisibles(&out.stdout);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let listings: BTreeMap<&str, &Value> = doc["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap(), l))
        .collect();
    let hint = |sku: &str, shopify: &str| format!(r#""{sku}" ≈ Shopify {shopify}"#);
    let expected: Vec<(&str, &str, Option<String>)> = vec![
        (
            "TRAIL-1 ",
            "no_variant",
            Some(hint("TRAIL-1\\u{0020}", r#""TRAIL-1" (trailing space)"#)),
        ),
        (
            "ABC_123",
            "no_variant",
            Some(hint("ABC_123", r#""ABC-123" (underscore vs dash)"#)),
        ),
        (
            "case-1",
            "no_variant",
            Some(hint("case-1", r#""CASE-1" (case)"#)),
        ),
        (
            "ZW\u{200B}-1",
            "no_variant",
            Some(hint("ZW\\u{200B}-1", r#""ZW-1" (U+200B zero-width space)"#)),
        ),
        (
            "NB\u{A0}1",
            "no_variant",
            Some(hint(
                "NB\\u{00A0}1",
                r#""NB 1" (U+00A0 no-break space vs space)"#,
            )),
        ),
        (
            "Multi 1",
            "no_variant",
            Some(hint(
                "Multi 1",
                r#""MULTI-1" (case, space vs dash) or "multi_1" (case, space vs underscore)"#,
            )),
        ),
        ("DR-1", "product_draft", None),
        ("AR-1", "product_archived", None),
        ("DUP-1", "duplicate_in_shopify", None),
        ("UT-1", "untracked", None),
        ("NOSHOP-1", "no_variant", None),
    ];
    let mut skus: Vec<&str> = expected.iter().map(|e| e.0).collect();
    skus.sort_unstable();
    assert_eq!(
        listings.keys().copied().collect::<Vec<_>>(),
        skus,
        "matched and inactive listings are not reported"
    );
    for (sku, reason, hint) in &expected {
        let l = listings[sku];
        assert_eq!(l["channel"], "iconic", "{l}");
        assert_eq!(l["reason"], *reason, "{l}");
        assert_eq!(l["hint"].as_str(), hint.as_deref(), "{l}");
    }
    for (sku, text) in [
        ("DUP-1", "duplicate in Shopify (2 variants)"),
        ("UT-1", "variant untracked"),
        ("DR-1", "product draft"),
        ("NOSHOP-1", "no Shopify variant"),
    ] {
        assert_eq!(listings[sku]["reason_text"], text);
    }
    let trailing = listings["TRAIL-1 "];
    assert_eq!(trailing["product_id"], "502");
    assert_eq!(trailing["near_misses"][0]["shopify_sku"], "TRAIL-1");
    assert_eq!(
        trailing["near_misses"][0]["differences"],
        json!(["trailing space"])
    );

    let variants: Vec<(String, String, Value)> = doc["shopify_variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let tail = |k: &str| {
                v[k].as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            };
            assert!(v["problem_text"].is_string(), "{v}");
            (
                tail("variant_id"),
                v["problem"].as_str().unwrap().to_string(),
                v["sku"].clone(),
            )
        })
        .collect();
    assert_eq!(
        variants,
        [
            ("4000".into(), "duplicate_sku".into(), json!("DUP-1")),
            ("4001".into(), "duplicate_sku".into(), json!("DUP-1")),
            ("5000".into(), "no_sku".into(), json!("")),
            ("5001".into(), "no_sku".into(), Value::Null),
        ]
    );
    assert!(doc["shopify_variants"][0]["product_id"]
        .as_str()
        .unwrap()
        .ends_with("400"));

    // Reporting changes nothing: a second pass still leaves every near miss alone.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock(), stock);
}

#[test]
fn the_table_shows_skus_escaped_with_hints_and_a_summary() {
    let env = synced();
    let out = env.run(&["unmatched"]).expect(0);
    let t = &out.stdout;
    no_raw_invisibles(t);
    for needle in [
        "Channel",
        "Product id",
        "Hint",
        r#""ABC_123" ≈ Shopify "ABC-123" (underscore vs dash)"#,
        "TRAIL-1\\u{0020}",
        "ZW\\u{200B}-1",
        "NB\\u{00A0}1",
        "duplicate in Shopify (2 variants)",
        "duplicate SKU (2 variants)",
        "no SKU",
    ] {
        assert!(t.contains(needle), "{needle:?} missing from\n{t}");
    }
    assert!(
        t.ends_with(
            "11 active listings do not sync (6 with a near-miss hint); \
             4 Shopify variants with a duplicate or missing SKU\n"
        ),
        "{t}"
    );
    // The same with the channel named.
    assert_eq!(
        env.run(&["unmatched", "--channel", "iconic"])
            .expect(0)
            .stdout,
        *t
    );
}

#[test]
fn csv_parses_with_a_header_and_escaped_skus() {
    let env = synced();
    let out = env.run(&["unmatched", "--format", "csv"]).expect(0);
    no_raw_invisibles(&out.stdout);
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "kind",
            "channel",
            "product_id",
            "variant_id",
            "sku",
            "reason",
            "reason_text",
            "hint"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let kinds = |k: &str| rows.iter().filter(|r| &r[0] == k).count();
    assert_eq!(
        (kinds("listing"), kinds("shopify_variant"), rows.len()),
        (11, 4, 15)
    );
    let trailing = rows.iter().find(|r| &r[2] == "502").unwrap();
    assert_eq!(&trailing[4], "TRAIL-1\\u{0020}");
    assert_eq!(&trailing[5], "no_variant");
    assert_eq!(
        &trailing[7],
        r#""TRAIL-1\u{0020}" ≈ Shopify "TRAIL-1" (trailing space)"#
    );
    let no_sku = rows.iter().filter(|r| &r[5] == "no_sku").count();
    assert_eq!(no_sku, 2);
}

#[test]
fn an_unknown_channel_or_no_product_sync_yet_is_explained() {
    let env = Env::new(shopify(), iconic());
    let out = env.run(&["unmatched"]).expect(2);
    assert!(
        out.stderr.contains("no product sync has happened yet")
            && out.stderr.contains("skubridge sync"),
        "{}",
        out.stderr
    );
    env.run(&["sync"]).expect(0);
    let out = env.run(&["unmatched", "--channel", "catch"]).expect(2);
    assert!(
        out.stderr.contains("--channel catch") && out.stderr.contains("configured: iconic"),
        "{}",
        out.stderr
    );
}
