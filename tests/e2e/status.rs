//! `skubridge status` end to end: after real passes against the sandbox, what it shows
//! and its exit code (0 healthy, 1 for monitoring to act), with a fixed clock.

use serde_json::{json, Value};

use crate::harness::{Env, Output};

const T0: &str = "2026-11-27T00:00:00Z";

fn status(env: &Env, now: &str, code: i32) -> Output {
    env.run(&["status"]).env("SKUBRIDGE_NOW", now).expect(code)
}

fn status_json(env: &Env, now: &str, code: i32) -> Value {
    let out = env
        .run(&["status", "--format", "json"])
        .env("SKUBRIDGE_NOW", now)
        .expect(code);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn before_any_pass_it_is_unhealthy() {
    let env = Env::standard();
    let out = status(&env, T0, 1);
    assert!(out.stdout.contains("UNHEALTHY"), "{}", out.stdout);
    assert!(
        out.stdout.contains("no sync pass has run yet"),
        "{}",
        out.stdout
    );
}

#[test]
fn after_a_good_pass_it_is_healthy_until_three_intervals_pass_without_one() {
    let env = Env::standard();
    env.run(&["sync"]).env("SKUBRIDGE_NOW", T0).expect(0);

    let out = status(&env, "2026-11-27T00:02:00Z", 0);
    let text = &out.stdout;
    for needle in [
        "Health:         ok\n",
        "Last pass:      started 2026-11-27 00:00:00 UTC (2 min ago), ok in ",
        "Next pass:      due 2026-11-27 00:05:00 UTC (in 3 min)\n",
        "Paused:         no\n",
        "5 of 9 listings matched, 1 unmatched",
        "4 pushed, 1 refused, 0 failed (reconcile)",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
    // Per channel: the last product sync's unmatched count, no orders waiting.
    let channels = text.split("\nChannels\n").nth(1).unwrap_or_default();
    assert!(
        channels.contains(
            "│ iconic  ┆         1 ┆      0 ┆      0 ┆        0 ┆       0 ┆          0 │"
        ),
        "{channels}"
    );
    assert!(!text.contains("Last error:"), "{text}");

    // Fifteen minutes after it finished: still within three 5-minute intervals.
    status(&env, "2026-11-27T00:15:00Z", 0);
    let out = status(&env, "2026-11-27T00:16:00Z", 1);
    for needle in [
        "UNHEALTHY",
        "no successful pass since 2026-11-27 00:00:00 UTC (16 min ago",
        "due 2026-11-27 00:05:00 UTC (11 min ago), OVERDUE",
    ] {
        assert!(out.stdout.contains(needle), "{needle:?} in\n{}", out.stdout);
    }
}

#[test]
fn a_failing_pass_makes_it_unhealthy_and_shows_the_error() {
    let env = Env::standard();
    env.run(&["sync"]).env("SKUBRIDGE_NOW", T0).expect(0);
    // The channel answers 500 to everything, beyond every retry.
    for path in ["/oauth", "/v2/"] {
        env.fault(json!({"path": path, "kind": {"type": "status", "status": 500}, "times": 1000}));
    }
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", "2026-11-27T00:05:00Z")
        .expect(1);

    let out = status(&env, "2026-11-27T00:06:00Z", 1);
    let text = &out.stdout;
    assert!(
        text.contains("- the last pass (started 2026-11-27 00:05:00 UTC) failed: "),
        "{text}"
    );
    assert!(
        text.contains("500"),
        "the channel's answer is shown:\n{text}"
    );
    assert!(text.contains("┆ failed "), "{text}");
    assert!(
        text.contains("\n  iconic orders failed: reading new iconic orders: "),
        "{text}"
    );

    let v = status_json(&env, "2026-11-27T00:06:00Z", 1);
    for field in [
        "healthy",
        "problems",
        "now",
        "sync_every_minutes",
        "last_pass",
        "last_success_at",
        "next_due_at",
        "overdue",
        "reset_in_progress_since",
        "steps",
        "channels",
        "emails_pending",
        "last_error",
    ] {
        assert!(v.get(field).is_some(), "{field} in {v:#}");
    }
    assert_eq!(v["healthy"], false);
    assert_eq!(v["now"], "2026-11-27T00:06:00.000Z");
    assert_eq!(v["sync_every_minutes"], 5);
    assert_eq!(v["last_pass"]["outcome"], "failed");
    assert_eq!(v["last_pass"]["started_at"], "2026-11-27T00:05:00.000Z");
    assert!(
        v["last_pass"]["error"].as_str().unwrap().contains("500"),
        "{v:#}"
    );
    assert!(v["last_pass"]["requests"].as_u64().unwrap() > 0, "{v:#}");
    assert_eq!(v["last_success_at"], "2026-11-27T00:00:00.000Z");
    assert_eq!(v["next_due_at"], "2026-11-27T00:10:00.000Z");
    assert_eq!(v["overdue"], false);
    assert_eq!(v["reset_in_progress_since"], Value::Null);
    assert_eq!(v["channels"][0]["channel"], "iconic");
    assert_eq!(v["channels"][0]["unmatched_listings"], 1);
    assert_eq!(v["channels"][0]["orders_held"], 0);
    assert_eq!(v["channels"][0]["fulfilment_errors"], 0);
    assert!(v["emails_pending"].is_u64());
    let failed: Vec<&Value> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{v:#}");
    for s in failed {
        assert_eq!(s["last_run_at"], "2026-11-27T00:05:00.000Z", "{s:#}");
        assert!(s["error"].is_string() || s["counts"]["failed"].as_i64() > Some(0));
    }
    assert_eq!(v["last_error"]["at"], "2026-11-27T00:05:00.000Z");
    assert!(
        v["last_error"]["error"].as_str().unwrap().contains("500"),
        "{v:#}"
    );

    // The channel recovers: healthy again, and the old error is still on record.
    env.clear_faults();
    env.run(&["sync"])
        .env("SKUBRIDGE_NOW", "2026-11-27T00:10:00Z")
        .expect(0);
    let out = status(&env, "2026-11-27T00:11:00Z", 0);
    assert!(
        out.stdout.contains(
            "Last error:     2026-11-27 00:05:00 UTC (6 min ago), iconic orders: reading new iconic orders: "
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn a_product_reset_in_progress_is_shown() {
    let env = Env::standard();
    env.run(&["sync"]).env("SKUBRIDGE_NOW", T0).expect(0);
    let _reset = skubridge::lock::acquire(
        &env.db_path(),
        skubridge::lock::RESET_PURPOSE,
        "2026-11-27T00:01:00.000Z",
    )
    .unwrap();
    let out = status(&env, "2026-11-27T00:02:00Z", 0);
    assert!(
        out.stdout
            .contains("Paused:         product reset in progress since 2026-11-27T00:01:00.000Z\n"),
        "{}",
        out.stdout
    );
    let v = status_json(&env, "2026-11-27T00:02:00Z", 0);
    assert_eq!(v["reset_in_progress_since"], "2026-11-27T00:01:00.000Z");
}

#[test]
fn a_pass_without_an_end_is_running_while_it_holds_the_lock_and_interrupted_after() {
    let env = Env::standard();
    env.run(&["sync"]).env("SKUBRIDGE_NOW", T0).expect(0);
    // What a pass writes when it starts; it would finish the row at its end.
    rusqlite::Connection::open(env.db_path())
        .unwrap()
        .execute(
            "INSERT INTO sync_runs (command, dry_run, started_at)
             VALUES ('sync', 0, '2026-11-27T00:05:00.000Z')",
            [],
        )
        .unwrap();
    let pass =
        skubridge::lock::acquire(&env.db_path(), "sync", "2026-11-27T00:05:00.000Z").unwrap();
    let out = status(&env, "2026-11-27T00:06:00Z", 0);
    assert!(
        out.stdout.contains(
            "Last pass:      started 2026-11-27 00:05:00 UTC (1 min ago), still running\n"
        ),
        "{}",
        out.stdout
    );
    // Killed: the kernel freed the lock, the row never got its end.
    drop(pass);
    let out = status(&env, "2026-11-27T00:06:00Z", 1);
    assert!(
        out.stdout
            .contains("- the last pass (started 2026-11-27 00:05:00 UTC) never finished"),
        "{}",
        out.stdout
    );
    let v = status_json(&env, "2026-11-27T00:06:00Z", 1);
    assert_eq!(v["last_pass"]["outcome"], "interrupted");
    assert_eq!(v["last_pass"]["finished_at"], Value::Null);
}
