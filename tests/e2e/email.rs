//! Notifications as a merchant receives them: real SMTP on loopback (the sandbox's sink),
//! one digest per kind of problem, not repeated within repeat_after_hours, queued
//! through an outage.

use chrono::{SecondsFormat, Utc};
use serde_json::Value;

use crate::harness::Env;

fn at(hours_from_now: i64) -> String {
    (Utc::now() + chrono::Duration::hours(hours_from_now))
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn with_email() -> Env {
    with_email_and("")
}

/// Mail to the sandbox's SMTP sink, with `extra` lines in `[notify]`.
fn with_email_and(extra: &str) -> Env {
    let env = Env::standard();
    env.write_config_with(
        "",
        &format!(
            "[notify]\nsmtp_url = \"{}\"\nto = [\"ops@e2e.test\", \"owner@e2e.test\"]\nfrom = \"skubridge@e2e.test\"\nrepeat_after_hours = 24\n{extra}\n",
            env.smtp_url
        ),
    );
    env
}

fn subjects(mails: &[Value]) -> Vec<String> {
    mails
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect()
}

fn mail_about<'a>(mails: &'a [Value], needle: &str) -> &'a Value {
    mails
        .iter()
        .find(|m| m["subject"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no mail about {needle}: {:?}", subjects(mails)))
}

#[test]
fn problems_are_mailed_once_as_digests_and_again_after_the_window() {
    let env = with_email();
    let out = env.run(&["sync"]).expect(0);
    assert!(out.stderr.contains("2 emails sent"), "{}", out.stderr);
    let mails = env.mails();
    assert_eq!(mails.len(), 2, "{:?}", subjects(&mails));

    let unmatched = mail_about(&mails, "not syncing stock");
    // A plain subject; the store is in the sender's name and on the body's first line.
    assert_eq!(
        unmatched["subject"],
        "4 listings on iconic are not syncing stock"
    );
    assert!(
        unmatched["body"]
            .as_str()
            .unwrap()
            .starts_with("Store: e2e-store.myshopify.com\n"),
        "{unmatched}"
    );
    assert_eq!(
        unmatched["to"],
        serde_json::json!(["ops@e2e.test", "owner@e2e.test"])
    );
    assert_eq!(unmatched["from"], "skubridge@e2e.test");
    let body = unmatched["body"].as_str().unwrap();
    for line in [
        "SKU \"NOSHOP-1\" (product 901): no Shopify variant",
        "SKU \"DUP-1\" (product 701): duplicate in Shopify (2 variants)",
        "SKU \"UT-1\" (product 801): variant untracked",
        "SKU \"DR-1\" (product 601): product draft",
        "What to do",
    ] {
        assert!(body.contains(line), "{line}\n{body}");
    }
    let refused = mail_about(&mails, "refused stock");
    assert!(refused["body"].as_str().unwrap().contains("VEN-1"));

    // Every 5 minutes nothing new: nothing mailed.
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(1)).expect(0);
    assert_eq!(env.mails().len(), 2);

    // A day later the problems are still there: mailed again, once.
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(25)).expect(0);
    let mails = env.mails();
    assert_eq!(mails.len(), 4, "{:?}", subjects(&mails));
    env.run(&["sync"]).env("SKUBRIDGE_NOW", &at(26)).expect(0);
    assert_eq!(env.mails().len(), 4);
}

#[test]
fn an_smtp_outage_keeps_mail_queued_until_the_next_pass() {
    let env = with_email();
    env.smtp_down(true);
    // Mail that cannot go out fails the pass: nobody would hear of it otherwise.
    let out = env.run(&["sync"]).expect(1);
    assert!(out.stderr.contains("could not be sent"), "{}", out.stderr);
    assert!(
        !out.stderr.contains(&env.smtp_url),
        "the SMTP URL is secret"
    );
    assert!(env.mails().is_empty());
    let status = env.run(&["status"]).expect(1).stdout;
    assert!(status.contains("2 emails could not be sent"), "{status}");

    env.smtp_down(false);
    let out = env.run(&["sync"]).expect(0);
    assert!(out.stderr.contains("2 emails sent"), "{}", out.stderr);
    assert_eq!(env.mails().len(), 2);
}

#[test]
fn a_product_reset_mails_its_counts() {
    let env = with_email();
    env.run(&["reset-products", "--yes"]).expect(0);
    let mails = env.mails();
    let done = mail_about(&mails, "Product reset complete");
    let body = done["body"].as_str().unwrap();
    assert!(
        body.contains("iconic: 5 of 9 listings matched; 1 without a Shopify variant, 1 duplicate, 1 untracked, 1 inactive"),
        "{body}"
    );
}

#[test]
fn a_silent_smtp_server_cannot_hold_the_pass_or_the_lock() {
    for mode in ["silent", "stall_after_greeting"] {
        let env = with_email_and("timeout_seconds = 1");
        env.smtp_mode(mode);
        // Before the fix this hung for ever, holding the lock.
        let out = env
            .run(&["sync"])
            .expect_within(1, std::time::Duration::from_secs(30));
        assert!(
            out.stderr.contains("no answer within 1 s") && out.stderr.contains("stay queued"),
            "{mode}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains(&env.smtp_url),
            "the SMTP URL is secret"
        );
        let status = env.run(&["status"]).expect(1).stdout;
        assert!(
            status.contains("failed") && status.contains("no answer within 1 s"),
            "{mode}: {status}"
        );
        // The lock is free: the next pass runs (and fails the same way), not exit 75.
        env.run(&["sync"])
            .expect_within(1, std::time::Duration::from_secs(30));
        assert!(env.mails().is_empty());

        env.smtp_mode("up");
        let out = env.run(&["sync"]).expect(0);
        assert!(out.stderr.contains("2 emails sent"), "{}", out.stderr);
        assert_eq!(env.mails().len(), 2, "{mode}: each email once");
        env.run(&["status"]).expect(0);
    }
}
