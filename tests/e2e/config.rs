//! Configuration errors as the merchant meets them: exit 2, one line naming the key.

use crate::harness::Env;

fn config_error(env: &Env, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(text.contains(from), "fixture lacks {from}");
    env.write_raw_config(&text.replacen(from, to, 1));
    env.run(&["sync"]).expect(2).stderr
}

#[test]
fn bad_config_errors_name_the_key_and_the_fix() {
    let env = Env::standard();
    let cases = [
        (
            "reserve_stock = 1",
            "reserve_stock = -1",
            "channel[0].reserve_stock: must be 0 or more (got -1)",
        ),
        (
            "reserve_stock = 1",
            "reserv_stock = 1",
            "unknown field `reserv_stock`",
        ),
        (
            "kind = \"iconic\"",
            "kind = \"catch\"",
            "channel[0].kind: unknown channel kind \"catch\"",
        ),
        (
            "${ICONIC_SECRET}",
            "${MISSING_VAR}",
            "channel[0].client_secret: environment variable MISSING_VAR is not set",
        ),
        (
            "shop = \"e2e-store.myshopify.com\"",
            "shop = \"\"",
            "shopify.shop",
        ),
    ];
    for (from, to, expected) in cases {
        let stderr = config_error(&env, from, to);
        assert!(stderr.contains(expected), "{to}: {stderr}");
        assert!(
            stderr.contains("skubridge.toml"),
            "names the file: {stderr}"
        );
        env.write_config("");
    }
}

#[test]
fn credentials_are_never_sent_over_plain_http_or_smtp() {
    let env = Env::standard();
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    // The sandbox is on loopback: plain http is fine there.
    assert!(text.contains("endpoint = \"http://127.0.0.1:"));
    // The first endpoint line is Shopify's, the second the channel's.
    let cases = [
        (0, "http://shop.example.com", "shopify.endpoint"),
        (
            1,
            "http://sellercenter-api.theiconic.com.au",
            "channel[0].endpoint",
        ),
    ];
    for (nth, url, key) in cases {
        let mut seen = 0;
        let broken: String = text
            .lines()
            .map(|l| {
                let line = if l.starts_with("endpoint = ") {
                    seen += 1;
                    if seen - 1 == nth {
                        format!("endpoint = \"{url}\"")
                    } else {
                        l.to_string()
                    }
                } else {
                    l.to_string()
                };
                line + "\n"
            })
            .collect();
        env.write_raw_config(&broken);
        let out = env.run(&["sync"]).expect(2);
        let expected = format!("{key}: \"{url}\" is plain http");
        assert!(out.stderr.contains(&expected), "{expected}\n{}", out.stderr);
    }
    env.write_config_with(
        "",
        "[notify]\nsmtp_url = \"smtp://ops:${SMTP_PASSWORD}@smtp.example.com:587\"\nto = [\"ops@e2e.test\"]\n",
    );
    let out = env
        .run(&["sync"])
        .env("SMTP_PASSWORD", "hunter2-secret")
        .expect(2);
    assert!(
        out.stderr
            .contains("notify.smtp_url: the password would go to smtp.example.com unencrypted"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2-secret"), "{}", out.stderr);
}

#[test]
fn a_missing_config_points_to_init() {
    let env = Env::standard();
    std::fs::remove_file(env.config_path()).unwrap();
    let out = env.run(&["sync"]).expect(2);
    assert!(out.stderr.contains("skubridge init"), "{}", out.stderr);
}

#[test]
fn init_writes_a_private_starter_that_loads_once_secrets_are_set() {
    let env = Env::standard();
    std::fs::remove_file(env.config_path()).unwrap();
    let out = env.run(&["init"]).expect(0);
    assert!(out.stdout.contains("Wrote skubridge.toml"));
    env.run(&["init"]).expect(2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.config_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only");
    }
    // The starter names its secrets; without them the error lists every missing variable.
    let out = env
        .run(&["sync"])
        .env_remove("SHOPIFY_ACCESS_TOKEN")
        .env_remove("ICONIC_CLIENT_SECRET")
        .expect(2);
    assert!(
        out.stderr
            .contains("shopify.access_token: environment variable SHOPIFY_ACCESS_TOKEN is not set")
            && out.stderr.contains(
                "channel[0].client_secret: environment variable ICONIC_CLIENT_SECRET is not set"
            ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_world_readable_config_with_a_literal_secret_is_warned_about() {
    let env = Env::standard();
    let text = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("${ICONIC_SECRET}", crate::harness::ICONIC_SECRET);
    env.write_raw_config(&text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.config_path(), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let out = env.run(&["sync"]).expect(0);
        assert!(
            out.stderr.contains("readable by every user"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains(crate::harness::ICONIC_SECRET));
    }
}
