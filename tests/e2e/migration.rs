//! A database written by an earlier release opens, migrates in place and carries on:
//! no order imported again, none lost, its lines still pushed back on fulfilment.

use crate::fulfil::{fulfil, order, ready, statuses};
use crate::harness::Env;

/// The store of `fixtures/db/schema4.db`, as that release left it: the same channel
/// orders, and order 1 in Shopify.
fn store_as_left_by_schema_4() -> Env {
    let env = Env::standard();
    env.write_config(
        "import_orders_since = \"2020-01-01T00:00:00Z\"\n[channel.carriers]\n\"Australia Post\" = \"AusPost\"",
    );
    env.add_channel_order(order(1, &[(11, "LS-S"), (12, "LS-S"), (13, "LS-M")]));
    env.add_channel_order(order(2, &[(21, "NOT-IN-SHOPIFY")]));
    // Today's build makes the Shopify order the fixture refers to, with a throwaway
    // database; then the fixture takes its place.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.shopify_orders()[0]["id"], "gid://shopify/Order/1");
    for suffix in ["", "-wal", "-shm"] {
        let mut path = env.db_path().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/db/schema4.db");
    std::fs::copy(fixture, env.db_path()).unwrap();
    // The fixture's sandbox listened on another port: what its matches were made
    // against is this run's sandbox, so its environment fingerprint names this URL.
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    let moved = db
        .execute(
            "UPDATE watermarks SET value = ?1 || substr(value, instr(value, ' '))
              WHERE name = 'fingerprint.iconic'",
            [&env.url],
        )
        .unwrap();
    assert_eq!(moved, 1);
    env
}

#[test]
fn a_schema_4_database_migrates_and_carries_on() {
    let env = store_as_left_by_schema_4();
    env.run(&["sync"]).expect(0);

    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(version >= 5, "{version}");
    let lines: Vec<(String, i64, String, bool)> = db
        .prepare("SELECT line_id, quantity, state, imported FROM order_lines ORDER BY line_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        lines,
        [
            ("11".to_string(), 1, "open".to_string(), true),
            ("12".to_string(), 1, "open".to_string(), true),
            ("13".to_string(), 1, "open".to_string(), true),
            ("21".to_string(), 1, "open".to_string(), false),
        ]
    );
    // What is known per channel moved to its own table (this pass, more than a day
    // after the fixture's, reconciled since); the carrier cache of the old shape went.
    let (fingerprint, reconciled): (String, Option<String>) = db
        .query_row(
            "SELECT fingerprint, reconciled_at FROM channel_state WHERE channel = 'iconic'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(fingerprint.starts_with(&env.url), "{fingerprint}");
    assert!(reconciled.is_some());
    let moved: i64 = db
        .query_row(
            "SELECT count(*) FROM watermarks WHERE name LIKE 'fingerprint.%' OR name LIKE 'providers.%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(moved, 0);
    drop(db);

    // Nothing imported again; the held order is still held.
    assert_eq!(env.shopify_orders().len(), 1);
    let listed = env.run(&["orders"]).expect(0).stdout;
    assert!(
        listed.contains("300001") && listed.contains("#1001"),
        "{listed}"
    );
    let held = env.run(&["orders", "--state", "held"]).expect(0).stdout;
    assert!(held.contains("300002"), "{held}");

    // The imported lines are what the fulfilment pushes.
    fulfil(&env, 1, "Australia Post", "TRK1", None);
    env.run(&["sync"]).expect(0);
    assert_eq!(statuses(&env, 1), vec![ready("AusPost", "TRK1"); 3]);
    assert_eq!(env.shopify_orders().len(), 1);
}
