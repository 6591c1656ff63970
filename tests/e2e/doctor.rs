//! `skubridge doctor` on a store with deliberate problems: each check is one line with
//! its verdict and fix, and the exit code says whether anything failed.

use serde_json::json;

use crate::harness::Env;

fn smtp_env() -> Env {
    let env = Env::standard();
    env.write_config_with(
        "import_orders_since = \"2020-01-01T00:00:00Z\"\n[channel.carriers]\n\"Australia Post\" = \"AusPost\"",
        &format!(
            "[notify]\nsmtp_url = \"{}\"\nto = [\"ops@brand.test\"]\nfrom = \"skubridge@brand.test\"\n",
            env.smtp_url
        ),
    );
    env
}

fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name)))
        .unwrap_or_else(|| panic!("no {name} line in\n{out}"))
}

#[test]
fn doctor_passes_what_works_and_warns_with_the_fix() {
    let env = smtp_env();
    env.add_channel_order(json!({
        "id": 1, "number": 300001,
        "customer": {"first_name": "Jo", "last_name": "C"},
        "address": {"first_name": "Jo", "last_name": "C", "phone": "1", "address1": "1 St",
                    "city": "Sydney", "region": "NSW", "post_code": "2000", "country": "AU"},
        "items": [{"id": 11, "seller_sku": "LS-S", "paid_price": "10", "unit_price": "10"}]}));
    env.run(&["sync"]).expect(0);
    let order = env.shopify_orders()[0]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    env.control_post(
        &format!("/_sandbox/shopify/orders/{order}/fulfillments"),
        json!({"company": "Pigeon Post", "number": "PP 1"}),
    );
    let out = env.run(&["doctor"]).expect(0).stdout;
    for name in [
        "configuration",
        "database integrity",
        "Shopify credentials",
        "Shopify locations",
        "iconic credentials",
        "iconic orders edited in Shopify",
        "iconic orders from another install",
        "email",
    ] {
        assert!(line(&out, name).starts_with("PASS"), "{name}:\n{out}");
    }
    assert!(
        line(&out, "Shopify credentials").contains("E2E Store"),
        "{out}"
    );
    let carriers = line(&out, "iconic carriers");
    assert!(
        carriers.starts_with("WARN") && carriers.contains("\"Pigeon Post\" (1)"),
        "{out}"
    );
    let tracking = line(&out, "iconic tracking numbers");
    assert!(
        tracking.starts_with("WARN") && tracking.contains("contains spaces"),
        "{out}"
    );
    let skus = line(&out, "SKUs");
    assert!(
        skus.starts_with("WARN") && skus.contains("1 duplicate Shopify SKUs"),
        "{out}"
    );
    assert!(
        out.contains("fix: add each under [channel.carriers]"),
        "{out}"
    );
    assert!(out.contains("0 failed"), "{out}");
}

#[test]
fn doctor_fails_on_bad_credentials_and_an_unreachable_mail_server() {
    let env = smtp_env();
    env.run(&["sync"]).expect(0);
    env.smtp_down(true);
    let out = env
        .run(&["doctor"])
        .env("ICONIC_SECRET", "wrong-secret")
        .expect(1)
        .stdout;
    assert!(
        line(&out, "iconic credentials").starts_with("FAIL"),
        "{out}"
    );
    assert!(line(&out, "email").starts_with("FAIL"), "{out}");
    assert!(!out.contains("wrong-secret"), "secrets never shown:\n{out}");
    assert!(
        line(&out, "Shopify credentials").starts_with("PASS"),
        "{out}"
    );
}

#[test]
fn doctor_sends_a_test_email_on_request() {
    let env = smtp_env();
    env.run(&["doctor", "--send-test-email"]).expect(0);
    let mails = env.mails();
    assert!(
        mails.iter().any(|m| m["subject"]
            .as_str()
            .unwrap_or_default()
            .ends_with("Test email from skubridge doctor")),
        "{mails:?}"
    );
}
