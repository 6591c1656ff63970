//! A lost database (deleted, or moved aside as `doctor` advises for a corrupt one): the
//! next pass finds what skubridge did before in Shopify and loses no order.

use std::collections::BTreeMap;

use crate::fulfil::{fulfil, order, ready, statuses};
use crate::harness::Env;

const READY: &str = "POST /v2/orders/statuses/set-to-ready-to-ship";

/// No import_orders_since: the database alone remembers where imports started.
fn env() -> Env {
    let env = Env::standard();
    env.write_config_with(
        "[channel.carriers]\n\"Australia Post\" = \"AusPost\"\n",
        &format!(
            "[notify]\nsmtp_url = \"{}\"\nto = [\"ops@brand.test\"]\nfrom = \"skubridge@brand.test\"\n",
            env.smtp_url
        ),
    );
    env
}

#[test]
fn a_lost_database_recovers_every_pending_order_and_every_fulfilment_owed() {
    let env = env();
    env.run(&["sync"]).expect(0);
    env.add_channel_order(order(1, &[(11, "LS-S")]));
    env.add_channel_order(order(2, &[(21, "LS-M")]));
    env.add_channel_order(order(3, &[(31, "NOT-IN-SHOPIFY")]));
    env.run(&["sync"]).expect(0);
    assert_eq!(
        env.orders_per_source().into_keys().collect::<Vec<_>>(),
        ["iconic:1", "iconic:2"]
    );
    // Order 1 ships in Shopify, order 4 arrives, and the database is gone before the
    // next pass could see either.
    fulfil(&env, 1, "Australia Post", "TRK1", None);
    env.add_channel_order(order(4, &[(41, "LS-S")]));
    env.remove_database();

    // doctor says what the next pass will do.
    let doctor = env.run(&["doctor"]).expect(0).stdout;
    let history = doctor
        .lines()
        .find(|l| l.contains("iconic order history"))
        .unwrap_or_else(|| panic!("{doctor}"));
    assert!(
        history.starts_with("WARN") && history.contains("the first is #1001"),
        "{doctor}"
    );
    assert!(
        doctor.contains("the next `skubridge sync` recovers"),
        "{doctor}"
    );

    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr
            .contains("this database is new, but Shopify holds orders skubridge imported"),
        "{}",
        out.stderr
    );
    // Every order pending on the channel is in Shopify exactly once (3 is held again).
    let orders = env.orders_per_source();
    assert_eq!(
        orders,
        BTreeMap::from([
            ("iconic:1".to_string(), 1),
            ("iconic:2".to_string(), 1),
            ("iconic:4".to_string(), 1),
        ])
    );
    // The fulfilment owed is pushed, once.
    assert_eq!(statuses(&env, 1), [ready("AusPost", "TRK1")]);
    assert_eq!(env.count(READY), 1);
    let listed = env.run(&["orders"]).expect(0).stdout;
    for number in ["300001", "300002", "300003", "300004"] {
        assert!(listed.contains(number), "{number}\n{listed}");
    }
    let subjects: Vec<String> = env
        .mails()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.ends_with("skubridge recovered iconic orders after a database loss")),
        "{subjects:?}"
    );
    // What was recovered is known again: a fulfilment of order 2 goes by itself.
    env.run(&["fulfil", "--order", "300002", "--dry-run"])
        .expect(0);
    fulfil(&env, 2, "Australia Post", "TRK2", None);
    env.run(&["sync"]).expect(0);
    env.run(&["sync"]).expect(0);
    assert_eq!(statuses(&env, 2), [ready("AusPost", "TRK2")]);
    assert_eq!(env.count(READY), 2);
    assert_eq!(env.orders_per_source().values().sum::<usize>(), 3);
    let doctor = env.run(&["doctor"]).expect(0).stdout;
    assert!(
        doctor.contains("PASS  iconic order history: importing orders created since"),
        "{doctor}"
    );
}

#[test]
fn a_new_database_on_a_store_skubridge_never_used_imports_from_now_on() {
    let env = env();
    env.add_channel_order(order(1, &[(11, "LS-S")]));
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr.contains("importing orders created from now on"),
        "{}",
        out.stderr
    );
    assert!(env.shopify_orders().is_empty());
    assert_eq!(
        env.count("graphql Orders"),
        1,
        "one look for earlier imports"
    );
}
