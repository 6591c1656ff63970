//! Channels side by side: one channel's problem never stops another's sync.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::fulfil::{fulfil, order, ready, statuses};
use crate::harness::{Env, ICONIC_ID};

/// A second channel "outlet" on the same account as the standard one, with `secret`
/// and `extra` keys.
fn outlet(env: &Env, secret: &str, extra: &str) -> String {
    format!(
        "[[channel]]\nname = \"outlet\"\nkind = \"iconic\"\nendpoint = \"{url}\"\nclient_id = \"{ICONIC_ID}\"\nclient_secret = \"{secret}\"\n{extra}\n",
        url = env.url
    )
}

/// The standard channel, and "outlet", a second one whose secret is refused.
fn with_a_refused_second_channel() -> Env {
    let env = Env::standard();
    env.write_config_with(
        "import_orders_since = \"2020-01-01T00:00:00Z\"\n[channel.carriers]\n\"Australia Post\" = \"AusPost\"",
        &outlet(&env, "not-the-secret", ""),
    );
    env
}

#[test]
fn a_channel_whose_credentials_are_refused_does_not_stop_the_others() {
    let env = with_a_refused_second_channel();
    env.add_channel_order(order(1, &[(11, "LS-S")]));
    let out = env.run(&["sync"]).expect(1);
    // The healthy channel synced stock and imported the order in the same pass.
    assert_eq!(env.channel_stock()["LS-S"], 8, "{}", out.stderr);
    assert_eq!(env.shopify_orders().len(), 1);
    // The failing one is named, in the log and in status.
    assert!(
        out.stderr.contains("outlet") && out.stderr.contains("rejected the client id/secret"),
        "{}",
        out.stderr
    );
    let status = env.run(&["status"]).expect(1).stdout;
    assert!(status.contains("outlet"), "{status}");
    let json: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--format", "json"]).expect(1).stdout).unwrap();
    let failing: Vec<&str> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "failed")
        .map(|s| s["channel"].as_str().unwrap())
        .collect();
    assert!(
        !failing.is_empty() && failing.iter().all(|c| *c == "outlet"),
        "{failing:?}"
    );

    // Its fulfilments go out too.
    fulfil(&env, 1, "Australia Post", "TRK1", None);
    env.run(&["sync"]).expect(1);
    assert_eq!(statuses(&env, 1), [ready("AusPost", "TRK1")]);
}

#[test]
fn an_environment_change_pauses_only_that_channel() {
    let env = Env::standard();
    let second = |extra: &str| env.write_config_with("", &outlet(&env, "${ICONIC_SECRET}", extra));
    second("");
    env.run(&["sync"]).expect(0);
    second("environment = \"preprod\"");
    env.set_shopify_stock("LS-M", 7);
    let out = env.run(&["sync"]).expect(2);
    assert!(
        out.stderr
            .contains("environment changed for channel outlet"),
        "{}",
        out.stderr
    );
    // The other channel still synced.
    assert_eq!(env.channel_stock()["LS-M"], 6, "{}", out.stderr);
    let doctor = env.run(&["doctor"]).expect(1).stdout;
    assert!(doctor.contains("PASS  iconic in passes: yes"), "{doctor}");
    assert!(
        doctor.contains("FAIL  outlet in passes: environment changed for channel outlet"),
        "{doctor}"
    );
    env.run(&["reset-products", "--yes", "--channel", "outlet"])
        .expect(0);
    env.run(&["sync"]).expect(0);
}

#[test]
fn a_product_reset_of_one_channel_pauses_only_that_channel() {
    const STOCK_WRITE: &str = "PUT /v2/stock/product";
    let env = Env::standard();
    // "outlet" sells the same listings with a larger reserve: its pushes show.
    env.write_config_with("", &outlet(&env, "${ICONIC_SECRET}", "reserve_stock = 2"));
    env.run(&["sync"]).expect(0);
    env.set_shopify_stock("LS-S", 6);
    // The reset's listing read is held, so it is still running while a pass runs.
    env.fault(json!({"path": "/v2/product-sets", "method": "GET",
                     "kind": {"type": "delay", "ms": 4000}}));
    let reset = env
        .run(&["reset-products", "--yes", "--channel", "outlet"])
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    let paused = loop {
        let status = env.run(&["status"]).expect(0).stdout;
        if status.contains("outlet: product reset in progress since") || Instant::now() > until {
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        paused.contains("outlet: product reset in progress since"),
        "{paused}"
    );

    let writes = env.count(STOCK_WRITE);
    let out = env.run(&["sync"]).expect(0);
    assert!(
        out.stderr.contains("outlet: product reset in progress"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("outlet: paused (product reset in progress)"),
        "the summary line names it: {}",
        out.stderr
    );
    assert_eq!(env.count(STOCK_WRITE), writes + 1, "only iconic pushed");
    let doctor = env.run(&["doctor"]).expect(0).stdout;
    assert!(
        doctor.contains("WARN  outlet in passes: outlet: product reset in progress"),
        "{doctor}"
    );
    assert_eq!(env.channel_stock()["LS-S"], 5, "iconic's level (reserve 1)");

    // The reset finishes once the pass has let go of the database.
    let done = reset.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("Product reset complete"));
    let status = env.run(&["status"]).expect(0).stdout;
    assert!(status.contains("Paused:         no"), "{status}");
    // Reset, the outlet pushes every level again on the next pass.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-S"], 4, "outlet's level (reserve 2)");
}
