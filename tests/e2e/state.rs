//! The state file under faults: a damaged, foreign or newer database is refused with the
//! way back and left as it is; a database that cannot be written stops the pass before
//! any remote change; `backup` copies it in use, and a restored copy duplicates nothing.
//!
//! The tests run as root, which file permissions do not stop, so a database that
//! cannot be written is made with a file-size limit (`ulimit -f`, RLIMIT_FSIZE): every
//! write past the limit fails with EFBIG, as on a full disk (SIGXFSZ is ignored by the
//! binary).

use std::collections::BTreeMap;

use crate::fulfil::order;
use crate::harness::Env;

const CREATE: &str = "graphql OrderCreate";
const STOCK_WRITE: &str = "PUT /v2/stock/product";
const FULL: &str = "the disk is full or a file-size limit (ulimit -f";

fn total_requests(env: &Env) -> u64 {
    env.requests().values().sum()
}

/// The shell command between backquotes after "move it aside (".
fn way_back_command(stderr: &str) -> String {
    let start = stderr
        .find("move it aside (`")
        .unwrap_or_else(|| panic!("no way back in\n{stderr}"))
        + "move it aside (`".len();
    let len = stderr[start..].find('`').unwrap();
    stderr[start..start + len].to_string()
}

#[test]
fn a_damaged_or_foreign_database_is_refused_untouched_and_the_way_back_works() {
    // No import_orders_since: the new database finds where imports started in Shopify.
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    env.add_channel_order(order(1, &[(11, "LS-S")]));
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(CREATE), 1);
    let good = std::fs::read(env.db_path()).unwrap();
    assert!(good.len() > 8192, "{}", good.len());

    let foreign = env.dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT);")
        .unwrap();
    let mut rng = fastrand::Rng::with_seed(4);
    let damaged: [(&str, Vec<u8>, &str); 3] = [
        (
            "random bytes",
            std::iter::repeat_with(|| rng.u8(..)).take(good.len()).collect(),
            "file is not a database",
        ),
        (
            "cut in half",
            good[..good.len() / 2].to_vec(),
            "database disk image is malformed",
        ),
        (
            "another program's",
            std::fs::read(&foreign).unwrap(),
            "is not a skubridge database but another program's SQLite file (schema version 0, tables: invoices)",
        ),
    ];
    // The config names it relative to itself; the command to move it is whole.
    let path = env.db_path().display().to_string();
    let mut stderr = String::new();
    for (what, bytes, said) in damaged {
        env.remove_database();
        std::fs::write(env.db_path(), &bytes).unwrap();
        let requests = total_requests(&env);
        for command in ["sync", "status", "doctor", "orders"] {
            let out = env.run(&[command]).expect(2);
            assert!(
                out.stderr.contains("database skubridge.db") && out.stderr.contains(said),
                "{what}, {command}: {}",
                out.stderr
            );
            assert!(
                out.stderr.contains(&format!(
                    "move it aside (`mv {path} {path}.corrupt`, and its -wal file too if there is one) and run `skubridge sync`"
                )) && out.stderr.contains("so nothing is created twice"),
                "{what}, {command}: {}",
                out.stderr
            );
            stderr = out.stderr;
        }
        // Refused before any request, and the file is as it was: never migrated into.
        assert_eq!(total_requests(&env), requests, "{what}");
        assert_eq!(std::fs::read(env.db_path()).unwrap(), bytes, "{what}");
    }

    // The way back, as the message words it: the order is adopted, not created again.
    let command = way_back_command(&stderr);
    let moved = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(env.dir.path())
        .status()
        .unwrap();
    assert!(moved.success(), "{command}");
    assert!(env.dir.path().join("skubridge.db.corrupt").exists());
    env.add_channel_order(order(2, &[(21, "LS-M")]));
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr
            .contains("this database is new, but Shopify holds orders skubridge imported"),
        "{}",
        out.stderr
    );
    assert_eq!(
        env.orders_per_source(),
        BTreeMap::from([("iconic:1".to_string(), 1), ("iconic:2".to_string(), 1)])
    );
    assert_eq!(env.count(CREATE), 2, "order 1 adopted, order 2 created");
}

#[test]
fn damage_inside_a_database_that_opens_fails_doctor_with_the_way_back() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    // An index's root page overwritten: the schema reads, the index does not.
    let page: u64 = rusqlite::Connection::open(env.db_path())
        .unwrap()
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE type = 'index' ORDER BY rootpage DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut bytes = std::fs::read(env.db_path()).unwrap();
    let at = (page as usize - 1) * 4096;
    bytes[at..at + 4096].fill(0xA5);
    std::fs::write(env.db_path(), &bytes).unwrap();

    let out = env.run(&["doctor"]).expect(1).stdout;
    let path = env.db_path().display().to_string();
    assert!(
        out.contains("FAIL  database integrity: skubridge.db: *** in database main ***"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "      fix: move it aside (`mv {path} {path}.corrupt`, and its -wal file too if there is one) and run `skubridge sync`"
        )),
        "{out}"
    );
}

#[test]
fn a_database_from_a_newer_skubridge_is_refused_and_left_as_it_is() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    rusqlite::Connection::open(env.db_path())
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let before = std::fs::read(env.db_path()).unwrap();
    let requests = total_requests(&env);
    for command in ["sync", "status", "doctor"] {
        let out = env.run(&[command]).expect(2);
        assert!(
            out.stderr.contains(
                "database skubridge.db was written by a newer skubridge (schema version 99; this build knows up to"
            ) && out.stderr.contains("upgrade skubridge"),
            "{command}: {}",
            out.stderr
        );
    }
    assert_eq!(total_requests(&env), requests);
    assert_eq!(std::fs::read(env.db_path()).unwrap(), before);
}

#[test]
fn a_database_that_cannot_be_written_stops_the_pass_before_any_remote_change() {
    let env = Env::standard();
    env.write_config("import_orders_since = \"2020-01-01T00:00:00Z\"");
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-M"], 2);
    // A channel order to create and a Shopify stock change to push.
    env.add_channel_order(order(1, &[(11, "LS-S")]));
    env.set_shopify_stock("LS-M", 7);
    let pushes = env.count(STOCK_WRITE);

    // `ulimit -f` counts 512-byte blocks. 512 bytes: not even the -shm file beside the
    // database can grow; the database is refused as it opens, before any request.
    let requests = total_requests(&env);
    let out = env.run(&["sync"]).after_shell("ulimit -f 1").expect(1);
    assert!(out.stderr.contains(FULL), "{}", out.stderr);
    assert_eq!(total_requests(&env), requests);

    // 32 KiB: the -shm file fits and the WAL takes seven pages, so the pass starts
    // (it reads the channel's orders) and its first writes past that fail. The order's
    // intent is never committed, so it is not created, and no later step acts (before
    // the database stopped at its first refused write, the stock step ran on and pushed).
    let reads = env.count("GET /v2/orders");
    let out = env.run(&["sync"]).after_shell("ulimit -f 64").expect(1);
    assert!(out.stderr.contains(FULL), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("a write failed earlier in this run, so the run records nothing more and changes nothing more"),
        "{}",
        out.stderr
    );
    assert!(env.count("GET /v2/orders") > reads, "the pass started");
    assert_eq!(env.count(CREATE), 0);
    assert_eq!(env.count(STOCK_WRITE), pushes);
    assert!(env.shopify_orders().is_empty());

    // Without the limit the next pass does everything, once.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(CREATE), 1);
    assert_eq!(
        env.orders_per_source(),
        BTreeMap::from([("iconic:1".to_string(), 1)])
    );
    assert_eq!(env.count(STOCK_WRITE), pushes + 1);
    let stock = env.channel_stock();
    assert_eq!((stock["LS-S"], stock["LS-M"]), (8, 6));
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(CREATE), 1);
    assert_eq!(env.count(STOCK_WRITE), pushes + 1);
}

#[test]
fn a_backup_taken_in_use_restores_without_duplicating_anything() {
    let env = Env::standard();
    env.run(&["sync"]).expect(0);
    env.add_channel_order(order(1, &[(11, "LS-S")]));
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(CREATE), 1);

    // While a run holds the lock (as a pass does), the backup goes ahead: it only reads.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.dir.path().join("skubridge.db.lock"))
        .unwrap();
    lock.lock().unwrap();
    let out = env.run(&["backup", "copy.db"]).expect(0);
    drop(lock);
    assert!(out.stdout.contains("backed up"), "{}", out.stdout);
    let copy = env.dir.path().join("copy.db");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    assert!(!env.dir.path().join("copy.db.tmp").exists());
    let taken = std::fs::read(&copy).unwrap();

    // An existing file is kept unless --force.
    let out = env.run(&["backup", "copy.db"]).expect(2);
    assert!(
        out.stderr.contains("copy.db exists: pass --force"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&copy).unwrap(), taken);
    env.run(&["backup", "copy.db", "--force"]).expect(0);

    // Life goes on after the backup: another order, a stock change.
    env.add_channel_order(order(2, &[(21, "LS-M")]));
    env.set_shopify_stock("LS-L", 5);
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(CREATE), 2);
    let stock = env.channel_stock();

    // The live database is lost; the backup is copied into its place.
    env.remove_database();
    std::fs::copy(&copy, env.db_path()).unwrap();
    let pushes = env.count(STOCK_WRITE);
    let out = env.run(&["sync"]).expect(0);
    // Order 2, imported after the backup, is found in Shopify and adopted.
    assert_eq!(env.count(CREATE), 2, "{}", out.stderr);
    assert_eq!(
        env.orders_per_source(),
        BTreeMap::from([("iconic:1".to_string(), 1), ("iconic:2".to_string(), 1)])
    );
    // Levels the copy did not know were pushed are sent again (they are absolute):
    // the channel ends where it was, and the next pass has nothing to send.
    assert_eq!(env.channel_stock(), stock);
    assert_eq!(env.count(STOCK_WRITE), pushes + 1);
    let listed = env.run(&["orders"]).expect(0).stdout;
    for number in ["300001", "300002"] {
        assert!(listed.contains(number), "{number}\n{listed}");
    }
    let pushes = env.count(STOCK_WRITE);
    env.run(&["sync"]).expect(0);
    assert_eq!(env.count(CREATE), 2);
    assert_eq!(env.count(STOCK_WRITE), pushes);
}
