//! The bad-input corpus: every broken config in `tests/corpus/config/` run as cron would
//! run it. Each file says what it expects in its first comment lines:
//! `# expect: TEXT` (stderr contains it; repeatable), and optionally `# exit: N`
//! (default 2), `# command: NAME` (default sync), `# mode: OCTAL` (the file's mode) and
//! `# env-unset: VAR`. Every case must name the file, never panic, never print a
//! secret, and never create the database.

use std::path::{Path, PathBuf};

use crate::harness::{Env, HTF_PASSWORD, ICONIC_SECRET, MIRAKL_KEY, SHOPIFY_TOKEN};

struct Case {
    path: PathBuf,
    expect: Vec<String>,
    exit: i32,
    command: String,
    mode: Option<u32>,
    unset: Vec<String>,
}

fn read(path: &Path) -> Case {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    // A file saved with a byte-order mark still starts with its directives.
    let text = text.trim_start_matches('\u{feff}');
    let mut case = Case {
        path: path.to_path_buf(),
        expect: Vec::new(),
        exit: 2,
        command: "sync".into(),
        mode: None,
        unset: Vec::new(),
    };
    for line in text.lines().take_while(|l| l.starts_with("# ")) {
        let Some((key, value)) = line[2..].split_once(": ") else {
            continue;
        };
        let value = value.trim().to_string();
        match key {
            "expect" => case.expect.push(value),
            "exit" => case.exit = value.parse().unwrap(),
            "command" => case.command = value,
            "mode" => case.mode = Some(u32::from_str_radix(&value, 8).unwrap()),
            "env-unset" => case.unset.push(value),
            other => panic!("{}: unknown directive {other}", path.display()),
        }
    }
    assert!(
        !case.expect.is_empty(),
        "{}: no `# expect:`",
        path.display()
    );
    case
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_broken_config_is_named_with_its_key_and_touches_nothing() {
    let env = Env::standard();
    let files = corpus();
    assert!(files.len() >= 40, "{} cases", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let case = read(file);
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("skubridge.toml");
        std::fs::copy(&case.path, &config).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = case.mode.unwrap_or(0o600);
            std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let mut run = env.run(&["--config", config.to_str().unwrap(), &case.command]);
        for var in &case.unset {
            run = run.env_remove(var);
        }
        let out = run.output();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut problems = Vec::new();
        if out.code != case.exit {
            problems.push(format!("exit {} (wanted {})", out.code, case.exit));
        }
        for wanted in &case.expect {
            if !out.stderr.contains(wanted.as_str()) {
                problems.push(format!("no {wanted:?}"));
            }
        }
        if !out.stderr.contains("skubridge.toml") && case.exit == 2 {
            problems.push("the file is not named".into());
        }
        if out.stderr.contains("panicked") {
            problems.push("panicked".into());
        }
        for secret in [
            SHOPIFY_TOKEN,
            ICONIC_SECRET,
            HTF_PASSWORD,
            MIRAKL_KEY,
            "shpat_literal_corpus_secret",
        ] {
            if out.stderr.contains(secret) {
                problems.push("a secret in the output".into());
            }
        }
        if case.exit == 2 && dir.path().join("skubridge.db").exists() {
            problems.push("the database was created".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n    {}",
                problems.join(", "),
                out.stderr.trim()
            ));
        }
    }
    println!("config corpus: {} cases", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_config_that_cannot_be_read_is_named() {
    let env = Env::standard();
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: unreadable as a file, whoever runs it.
    let config = dir.path().join("skubridge.toml");
    std::fs::create_dir(&config).unwrap();
    let out = env
        .run(&["--config", config.to_str().unwrap(), "sync"])
        .expect(2);
    assert!(out.stderr.contains("skubridge.toml"), "{}", out.stderr);
    assert!(!dir.path().join("skubridge.db").exists());
}

/// Where a folder of `tests/corpus/api/` is served: the sandbox path (and method) its
/// bodies replace, and the endpoint the recorded failure must name.
fn target(folder: &str) -> (&'static str, &'static str, &'static str) {
    match folder {
        "shopify" => ("/admin/api", "POST", "graphql"),
        "iconic-orders" => ("/v2/orders", "GET", "GET /v2/orders"),
        "iconic-product-sets" => ("/v2/product-sets", "GET", "GET /v2/product-sets"),
        "iconic-products" => ("/v2/product-set/", "GET", "/products"),
        "htf-orders" => ("/hardtofind/orders", "GET", "GET /orders"),
        "htf-order" => ("/hardtofind/order/", "GET", "GET /order/{id}"),
        "htf-login" => ("/hardtofind/authenticate", "POST", "POST /authenticate"),
        "mirakl-orders" => ("/mirakl/api/orders", "GET", "GET /api/orders"),
        "mirakl-export-file" => (
            "/mirakl/api/offers/export/async/file/",
            "GET",
            "GET (offer export file)",
        ),
        "mirakl-export-status" => (
            "/mirakl/api/offers/export/async/status/",
            "GET",
            "GET /api/offers/export/async/status/{id}",
        ),
        other => panic!("tests/corpus/api/{other}: no endpoint is known for it"),
    }
}

/// What the customer's order in the corpus holds: never to be printed.
const CUSTOMER: [&str; 3] = ["Secretperson", "Private Lane", "sam@private.example"];

/// The standard store on The Iconic and Hard To Find, with one order on Hard To Find.
fn hardtofind_env() -> Env {
    let htf = serde_json::json!({"username": crate::harness::HTF_USER, "password": HTF_PASSWORD});
    let env = Env::with_hardtofind(
        crate::harness::standard_shopify(),
        crate::harness::standard_iconic(),
        htf,
    );
    let since = "import_orders_since = \"2020-01-01T00:00:00Z\"";
    env.write_config_with(
        since,
        &format!(
            "[[channel]]\nname = \"htf\"\nkind = \"hardtofind\"\nendpoint = \"{}/hardtofind\"\nusername = \"{}\"\npassword = \"${{HARDTOFIND_PASSWORD}}\"\n{since}\n",
            env.url,
            crate::harness::HTF_USER
        ),
    );
    env.control_post(
        "/_sandbox/hardtofind/orders",
        serde_json::json!({"id": 88001, "lines": [{"sku": "LS-S", "price": "10.00", "quantity": 1}]}),
    );
    env
}

/// The standard store on The Iconic and Mirakl, with one order on Mirakl (88001-A, the
/// id the corpus's orders carry) waiting for acceptance.
fn mirakl_env() -> Env {
    let env = Env::with_mirakl(
        crate::harness::standard_shopify(),
        crate::harness::standard_iconic(),
        crate::harness::quick_mirakl(&["LS-S", "LS-M"]),
    );
    env.write_config_with("", &crate::harness::mirakl_channel(&env, ""));
    env.control_post(
        "/_sandbox/mirakl/orders",
        serde_json::json!({"order_id": "88001-A", "lines": [{"offer_sku": "LS-S", "quantity": 1,
                           "unit_price": "10.00", "shipping_price": "0.00"}]}),
    );
    env
}

/// One API body served in place of the real answer, every time it is asked for (so
/// retries see it too). `fail-*`: the step fails, recorded with the endpoint named;
/// `held-*`: the one order is held with the field named and no customer data; `ok-*`:
/// the pass goes through. Never a panic.
fn api_case(folder: &str, name: &str, body: &str) -> Result<(), String> {
    let env = match folder.starts_with("mirakl-") {
        true => mirakl_env(),
        false => hardtofind_env(),
    };
    let (path, method, label) = target(folder);
    env.fault(
        serde_json::json!({"path": path, "method": method, "times": 1000,
                                 "kind": {"type": "status", "status": 200, "body": body}}),
    );
    let out = env.run(&["sync"]).output();
    let status = env.run(&["status", "--format", "json"]).output().stdout;
    let orders = env.run(&["orders", "--format", "json"]).output().stdout;
    let everything = format!("{}{}{status}{orders}", out.stdout, out.stderr);
    if everything.contains("panicked") {
        return Err(format!("panicked: {}", out.stderr));
    }
    if let Some(leak) = CUSTOMER.iter().find(|c| everything.contains(*c)) {
        return Err(format!("printed the customer's {leak:?}"));
    }
    if name.starts_with("fail-") {
        if out.code != 1 {
            return Err(format!("exit {} (wanted 1): {}", out.code, out.stderr));
        }
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        // An answer no order can be told apart in is named as the channel's orders read.
        let named = status["steps"].as_array().into_iter().flatten().any(|s| {
            s["outcome"] == "failed"
                && s["error"].as_str().is_some_and(|e| {
                    e.contains(label)
                        || (folder.ends_with("orders") && e.contains("could not be read"))
                })
        });
        if !named {
            let errors: Vec<String> = status["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["error"].as_str())
                .map(|e| e.chars().take(200).collect())
                .collect();
            return Err(format!("no failed step names {label:?}: {errors:?}"));
        }
    } else if name.starts_with("held-") {
        if out.code != 0 {
            return Err(format!("exit {}: {}", out.code, out.stderr));
        }
        let orders: serde_json::Value = serde_json::from_str(&orders).unwrap();
        let held = orders.as_array().into_iter().flatten().any(|o| {
            // Named in a few words, however deep the answer nested.
            o["state"] == "held"
                && o["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("could not be read") && r.chars().count() < 400)
        });
        if !held {
            return Err(format!("no order held as unreadable: {orders}"));
        }
    } else if out.code != 0 {
        return Err(format!("exit {}: {}", out.code, out.stderr));
    }
    Ok(())
}

#[test]
fn every_bad_api_body_is_recorded_against_its_endpoint_never_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/api");
    let mut cases: Vec<(String, String, String)> = Vec::new();
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    for folder in folders {
        let f = folder.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            cases.push((f.clone(), name, std::fs::read_to_string(&file).unwrap()));
        }
        // Too big to keep in the repository: a megabyte of JSON of the wrong shape (the
        // most the sandbox's control API takes in one body). One order's detail of the
        // wrong shape holds that order; any other answer fails its step.
        let huge = format!("{{\"data\":{{\"x\":\"{}\"}}}}", "y".repeat(1_000_000));
        let kind = if f == "htf-order" { "held" } else { "fail" };
        cases.push((f, format!("{kind}-huge-wrong-shape.json"), huge));
    }
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((folder, name, body)) = cases.get(i) else {
                    break;
                };
                if let Err(why) = api_case(folder, name, body) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{folder}/{name}: {why}"));
                }
            });
        }
    });
    let failures: Vec<String> = failures
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|f| f.chars().take(400).collect())
        .collect();
    println!("api corpus: {} cases", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
