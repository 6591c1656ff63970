//! What a bad setup or a refusing peer makes skubridge say: one line naming the cause
//! and the fix, the right exit code, and nothing lost.

use serde_json::json;

use crate::harness::Env;

#[test]
fn a_file_size_limit_is_named_instead_of_killing_the_run_silently() {
    let env = Env::standard();
    // Before, SIGXFSZ killed the run with no word (exit 153).
    let out = env.run(&["sync"]).after_shell("ulimit -f 1").expect(1);
    assert!(
        out.stderr
            .contains("the disk is full or a file-size limit (ulimit -f"),
        "{}",
        out.stderr
    );
    // Without the limit the next pass carries on.
    env.run(&["sync"]).expect(0);
    assert_eq!(env.channel_stock()["LS-S"], 9);
}

#[test]
fn a_missing_database_directory_is_a_config_error_said_once() {
    let env = Env::standard();
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_raw_config(&text.replace(
        "database = \"skubridge.db\"",
        "database = \"state/skubridge.db\"",
    ));
    let out = env.run(&["sync"]).expect(2);
    let said = "the database's directory";
    assert_eq!(out.stderr.matches(said).count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("state does not exist (from `database` in"),
        "{}",
        out.stderr
    );
    let out = env.run(&["status", "--db", "nowhere/x.db"]).expect(2);
    assert!(out.stderr.contains("(from --db)"), "{}", out.stderr);
    std::fs::create_dir(env.dir.path().join("state")).unwrap();
    env.run(&["sync"]).expect(0);
}

#[test]
fn a_config_that_exists_but_cannot_be_read_says_so() {
    let env = Env::standard();
    std::fs::create_dir(env.dir.path().join("conf.d")).unwrap();
    let out = env.run(&["--config", "conf.d", "sync"]).expect(2);
    assert!(
        out.stderr
            .contains("conf.d: the config file cannot be read"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("skubridge init"), "{}", out.stderr);
}

#[test]
fn a_fresh_token_refused_does_not_blame_the_credentials() {
    let env = Env::standard();
    env.write_config(r#"import_orders_since = "2020-01-01T00:00:00Z""#);
    env.run(&["sync"]).expect(0);
    // The token endpoint accepts the credentials; the orders endpoint refuses the token,
    // and the fresh one too.
    env.fault(json!({"path": "/v2/orders", "kind": {"type": "status", "status": 401}, "times": 2}));
    let out = env.run(&["sync"]).expect(1);
    assert!(
        out.stderr
            .contains("The Iconic refused a token it had just issued"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("check channel.client_id"),
        "{}",
        out.stderr
    );
    // A wrong secret is still called what it is.
    let out = env.run(&["sync"]).env("ICONIC_SECRET", "wrong").expect(1);
    assert!(
        out.stderr.contains("rejected the client id/secret"),
        "{}",
        out.stderr
    );
}
