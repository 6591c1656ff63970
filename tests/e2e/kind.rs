//! A channel kind the engine has never seen ("market", `market.rs`), beside The Iconic:
//! quantity lines, acceptance, asynchronous stock imports, no listings, whole-order
//! shipping. skubridge runs in-process here, with the test's kinds, because the kind
//! is not part of the binary.

use std::collections::BTreeMap;
use std::sync::Arc;

use clap::Parser;
use skubridge::channel::{iconic, Kind};
use skubridge::clock::Clock;
use skubridge::commands::{run_in, Host};

use crate::fulfil::fulfil_source;
use crate::harness::{Env, ICONIC_SECRET, SHOPIFY_TOKEN};
use crate::market::{Market, OrderState, KIND};

static KINDS: &[&Kind] = &[&iconic::KIND, &KIND];

/// The standard store and Iconic channel, and a market channel `market` with `extra`
/// keys, stock reserve 1 and a carrier mapping.
fn with_market(name: &str, offers: &[&str], extra: &str) -> (Env, Arc<Market>) {
    let env = Env::standard();
    let market = Market::register(name, offers);
    env.write_config_with(
        "",
        &format!(
            "[[channel]]\nname = \"market\"\nkind = \"market\"\nmarket = \"{name}\"\nreserve_stock = 1\nimport_orders_since = \"2020-01-01T00:00:00Z\"\n{extra}\n[channel.carriers]\n\"Australia Post\" = \"AUSPOST\"\n"
        ),
    );
    (env, market)
}

/// `skubridge sync` in-process; its exit code.
fn sync(env: &Env) -> u8 {
    sync_at(env, Clock::System)
}

/// `skubridge sync` in-process at the time `clock` gives.
fn sync_at(env: &Env, clock: Clock) -> u8 {
    let config = env.config_path();
    let cli = skubridge::cli::Cli::try_parse_from([
        "skubridge",
        "--config",
        config.to_str().unwrap(),
        "sync",
    ])
    .unwrap();
    let vars = |name: &str| match name {
        "SHOPIFY_TOKEN" => Some(SHOPIFY_TOKEN.to_string()),
        "ICONIC_SECRET" => Some(ICONIC_SECRET.to_string()),
        _ => None,
    };
    let host = Host {
        kinds: KINDS,
        env: &vars,
        clock,
        signals: false,
    };
    run_in(cli, &host).unwrap_or_else(|e| panic!("sync failed: {e:#}"))
}

/// The market order's state and reason in the database.
fn ledger(env: &Env, id: &str) -> (String, Option<String>) {
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    db.query_row(
        "SELECT state, reason FROM orders WHERE channel = 'market' AND order_id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// An import's levels by SKU.
fn levels(lines: &[(String, i64)]) -> BTreeMap<String, i64> {
    lines.iter().cloned().collect()
}

#[test]
fn a_kind_built_on_the_interface_alone_syncs_stock_accepts_imports_and_ships() {
    let (env, market) = with_market(
        "flow",
        &["LS-S", "LS-M", "LS-L"],
        "listings = \"none\"\nimport_interval_seconds = 0\nimport_polls = 1",
    );
    assert_eq!(sync(&env), 0);
    // No listings to read: one import offers every active Shopify SKU; it is pending.
    let imports = market.imports();
    assert_eq!(imports.len(), 1);
    let sent = levels(&imports[0].lines);
    assert_eq!(
        (sent["LS-S"], sent["LS-M"], sent["LS-L"], sent["VEN-1"]),
        (9, 2, 0, 3)
    );
    assert_eq!(
        market.stock()["LS-S"],
        0,
        "not applied before the market says so"
    );
    // The Iconic, side by side in the same pass.
    assert_eq!(env.channel_stock()["LS-S"], 9);

    // The next pass learns the outcome; the SKU the market does not sell is refused
    // once and not offered again while unchanged.
    assert_eq!(sync(&env), 0);
    assert_eq!(
        market.stock(),
        BTreeMap::from([("LS-L".into(), 0), ("LS-M".into(), 2), ("LS-S".into(), 9)])
    );
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    let mut st = db
        .prepare("SELECT product_id, quantity, reason FROM stock_refused WHERE channel = 'market'")
        .unwrap();
    let refused: BTreeMap<String, (i64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // From the market's report: the SKUs it does not sell, none of those it does.
    assert_eq!(refused["VEN-1"], (3, "offer not found".into()));
    assert!(["LS-S", "LS-M", "LS-L"]
        .iter()
        .all(|s| !refused.contains_key(*s)));
    assert_eq!(market.imports().len(), 1);

    // An order of two units: accepted, imported only once paid.
    market.place("o1", &[("LS-S", 2)]);
    assert_eq!(sync(&env), 0);
    assert_eq!(market.order("o1").state, OrderState::WaitingDebit);
    assert_eq!(ledger(&env, "o1").0, "accepted");
    assert!(env.shopify_orders().is_empty());
    assert_eq!(sync(&env), 0);
    assert!(env.shopify_orders().is_empty(), "not paid yet");
    assert_eq!(market.calls()["accept"], 1, "accepted once");

    market.debit("o1");
    assert_eq!(sync(&env), 0);
    let orders = env.shopify_orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["source_identifier"], "market:o1");
    let lines = orders[0]["line_items"].as_array().unwrap();
    assert_eq!(
        (lines.len(), &lines[0]["sku"], &lines[0]["quantity"]),
        (1, &"LS-S".into(), &2.into())
    );
    assert_eq!(env.shopify_available("LS-S"), 8);
    // Both channels follow Shopify's new level in the same pass.
    assert_eq!(env.channel_stock()["LS-S"], 7);
    let imports = market.imports();
    assert_eq!(levels(&imports.last().unwrap().lines)["LS-S"], 7);

    // Fulfilled in Shopify: the whole order ships with the mapped carrier.
    fulfil_source(&env, "market:o1", "Australia Post", "TRK1", None);
    assert_eq!(sync(&env), 0);
    let shipped = market.order("o1");
    assert_eq!(shipped.state, OrderState::Shipped);
    assert_eq!(shipped.shipped, Some(("AUSPOST".into(), "TRK1".into())));
    assert_eq!(market.stock()["LS-S"], 7);
    assert_eq!(sync(&env), 0);
    assert_eq!(market.calls()["ship"], 1, "shipped once");
    assert!(!market.calls().contains_key("listings"));
}

#[test]
fn an_order_that_cannot_be_sold_is_not_accepted_and_waits_for_a_person() {
    let (env, market) = with_market(
        "short",
        &["LS-S", "LS-L"],
        "listings = \"none\"\nimport_interval_seconds = 0",
    );
    // LS-L: Shopify has none. NOPE-1: no such SKU in Shopify.
    market.place("o1", &[("LS-L", 1)]);
    market.place("o2", &[("NOPE-1", 1)]);
    assert_eq!(sync(&env), 0);
    for id in ["o1", "o2"] {
        assert_eq!(market.order(id).state, OrderState::WaitingAcceptance);
        let (state, reason) = ledger(&env, id);
        let reason = reason.unwrap();
        assert_eq!(state, "held");
        assert!(
            reason.contains("not accepted: accept or refuse it on market"),
            "{reason}"
        );
    }
    assert!(!market.calls().contains_key("accept"));

    // Stock arrives: the order is accepted on the next pass.
    env.set_shopify_stock("LS-L", 5);
    assert_eq!(sync(&env), 0);
    assert_eq!(market.order("o1").state, OrderState::WaitingDebit);
    assert_eq!(market.order("o2").state, OrderState::WaitingAcceptance);

    // Accepted by hand instead: no longer held, it waits for its payment.
    market.accept_by_hand("o2");
    assert_eq!(sync(&env), 0);
    assert_eq!(
        ledger(&env, "o2"),
        (
            "pending".into(),
            Some("waiting for its payment on market".into())
        )
    );
}

#[test]
fn one_stock_import_at_a_time_and_at_most_one_per_interval() {
    let (env, market) = with_market(
        "slow",
        &["LS-S"],
        "listings = \"none\"\nimport_interval_seconds = 3600",
    );
    assert_eq!(sync(&env), 0);
    assert_eq!(market.imports().len(), 1);
    assert_eq!(market.stock()["LS-S"], 9);
    // A new level within the interval waits for the next import.
    env.set_shopify_stock("LS-S", 5);
    assert_eq!(sync(&env), 0);
    assert_eq!(market.imports().len(), 1);
    assert_eq!(market.stock()["LS-S"], 9);
    // The Iconic is not held back by the market's interval.
    assert_eq!(env.channel_stock()["LS-S"], 4);
}

#[test]
fn a_channel_that_lists_only_in_full_is_read_in_full_at_each_product_sync() {
    let (env, market) = with_market(
        "full",
        &["LS-S", "LS-M"],
        "listings = \"full\"\nimport_interval_seconds = 0",
    );
    assert_eq!(sync(&env), 0);
    // Only what it lists is matched and offered.
    let sent = levels(&market.imports()[0].lines);
    assert_eq!(
        sent,
        BTreeMap::from([("LS-M".into(), 2), ("LS-S".into(), 9)])
    );
    assert_eq!(market.calls()["listings"], 1);

    // The next product sync (an hour on) reads every listing again, never "since".
    market.offer("LS-L");
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    assert_eq!(sync_at(&env, Clock::Fixed(later)), 0);
    assert_eq!(market.calls()["listings"], 2);
    assert!(!market.calls().contains_key("listings since"));
    let sent = levels(&market.imports().last().unwrap().lines);
    assert_eq!(
        sent,
        BTreeMap::from([("LS-L".into(), 0)]),
        "the new listing's level"
    );
}

#[test]
fn an_import_the_market_rejects_is_reported_and_sent_again() {
    let (env, market) = with_market(
        "failing",
        &["LS-S"],
        "listings = \"none\"\nimport_interval_seconds = 0",
    );
    market.fail_next_import("the file could not be parsed");
    assert_eq!(sync(&env), 1, "a failed import fails the pass");
    assert_eq!(market.stock()["LS-S"], 0);
    assert_eq!(sync(&env), 0);
    assert_eq!(market.imports().len(), 2);
    assert_eq!(market.stock()["LS-S"], 9, "its levels went again");
}

#[test]
fn with_refuse_unfulfillable_the_lines_that_cannot_sell_are_refused_and_the_rest_accepted() {
    let (env, market) = with_market(
        "refusing",
        &["LS-S", "LS-L"],
        "listings = \"none\"\nimport_interval_seconds = 0\n[channel.orders]\nrefuse_unfulfillable = true",
    );
    // NOPE-1: no Shopify variant. LS-L: Shopify has none.
    market.place("o3", &[("LS-S", 1), ("NOPE-1", 1)]);
    market.place("o4", &[("LS-L", 2)]);
    assert_eq!(sync(&env), 0);
    let o3 = market.order("o3");
    assert_eq!(o3.state, OrderState::WaitingDebit);
    assert_eq!(o3.refused, ["o3-2"]);
    let (state, reason) = ledger(&env, "o3");
    assert_eq!(state, "accepted");
    let reason = reason.unwrap();
    assert!(
        reason.contains("1 of 2 lines refused") && reason.contains("NOPE-1"),
        "{reason}"
    );
    // Every line of o4 refused: the market refuses the order.
    assert_eq!(market.order("o4").state, OrderState::Refused);
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    let mails: BTreeMap<String, String> = db
        .prepare("SELECT subject, body FROM notify_outbox ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let o3_mail = &mails["market order M-o3: 1 line refused"];
    assert!(
        o3_mail.contains("NOPE-1") && o3_mail.contains("other lines were accepted"),
        "{o3_mail}"
    );
    let o4_mail = &mails["market order M-o4: 1 line refused"];
    assert!(o4_mail.contains("nothing is imported"), "{o4_mail}");

    // Paid: o3 is imported with the line that sells only; o4 is recorded as cancelled.
    market.debit("o3");
    assert_eq!(sync(&env), 0);
    let orders = env.shopify_orders();
    let imported = orders
        .iter()
        .find(|o| o["source_identifier"] == "market:o3")
        .expect("o3 imported");
    let skus: Vec<&str> = imported["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["LS-S"]);
    assert_eq!(ledger(&env, "o3").0, "imported");
    assert_eq!(ledger(&env, "o4").0, "cancelled");
    assert!(!orders.iter().any(|o| o["source_identifier"] == "market:o4"));
}
