//! What skubridge leaves for the people and machines that watch it: plain log lines
//! when stderr is not a terminal, the Prometheus textfile after each run, and the shell
//! completions and man pages generated from its own command line.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::harness::Env;

const T0: &str = "2026-11-27T00:00:00Z";

#[test]
fn log_lines_carry_no_colour_codes_unless_asked() {
    let env = Env::standard();
    // The harness reads stderr through a pipe, as cron and a log file do.
    let out = env.run(&["sync", "-v"]).expect(0);
    assert!(!out.stderr.contains('\u{1b}'), "{}", out.stderr);
    assert!(!has_colour(&out.stderr));
    let out = env.run(&["sync", "--color", "always"]).expect(0);
    assert!(has_colour(&out.stderr), "asked for: {}", out.stderr);
    let out = env
        .run(&["sync", "--color", "never"])
        .env("NO_COLOR", "1")
        .expect(0);
    assert!(!out.stderr.contains('\u{1b}'));
}

#[test]
fn on_a_terminal_log_lines_are_coloured_unless_no_color_is_set() {
    // util-linux's `script` gives the run a terminal; skipped where it is missing.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("`script` is not installed: the terminal case is not checked here");
        return;
    }
    let env = Env::standard();
    let on_a_terminal = |no_color: Option<&str>| {
        let bin = env!("CARGO_BIN_EXE_skubridge");
        let run = env.run(&[]).command();
        let mut cmd = std::process::Command::new("script");
        cmd.current_dir(env.dir.path())
            .args(["-qec", &format!("{bin} sync"), "/dev/null"]);
        // The same environment the harness gives skubridge.
        for (k, v) in run.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        match no_color {
            Some(v) => cmd.env("NO_COLOR", v),
            None => cmd.env_remove("NO_COLOR"),
        };
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(has_colour(&on_a_terminal(None)), "a terminal gets colour");
    let plain = on_a_terminal(Some("1"));
    assert!(!has_colour(&plain), "NO_COLOR: {plain}");
    assert!(plain.contains("sync ok"), "{plain}");
}

/// An SGR (colour) sequence, `ESC [ digits;... m`: what NO_COLOR turns off. A progress
/// bar's cursor movements on a terminal are not colour.
fn has_colour(text: &str) -> bool {
    text.split('\u{1b}').skip(1).any(|rest| {
        rest.strip_prefix('[').is_some_and(|seq| {
            let params: String = seq
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == ';')
                .collect();
            seq[params.len()..].starts_with('m')
        })
    })
}

/// The samples of a textfile, by metric name and labels.
fn samples(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the exposition format parses");
    scrape
        .samples
        .into_iter()
        .map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                other => panic!("{} is not a gauge: {other:?}", s.metric),
            };
            let labels: BTreeMap<String, String> = s
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            ((s.metric, labels), value)
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_metrics_file_holds_the_pass_just_run() {
    let env = Env::standard();
    env.write_config_with("", "[metrics]\ntextfile = \"skubridge.prom\"\n");
    let out = env.run(&["sync"]).env("SKUBRIDGE_NOW", T0).expect(0);
    let path = env.dir.path().join("skubridge.prom");
    let text = std::fs::read_to_string(&path).expect("written after the pass");
    let m = samples(&text);
    let get = |name: &str, l: &[(&str, &str)]| {
        m.get(&(name.to_string(), labels(l)))
            .copied()
            .unwrap_or_else(|| panic!("{name} {l:?} missing in\n{text}"))
    };
    let sync = [("command", "sync")];
    assert_eq!(get("skubridge_last_run_success", &sync), 1.0);
    assert_eq!(get("skubridge_seconds_since_last_success", &sync), 0.0);
    // The same figures `status` shows for that pass.
    let status: Value = serde_json::from_str(
        &env.run(&["status", "--format", "json"])
            .env("SKUBRIDGE_NOW", T0)
            .expect(0)
            .stdout,
    )
    .unwrap();
    let steps = status["steps"].as_array().unwrap();
    let stock = steps
        .iter()
        .find(|s| s["step"] == "stock" && s["channel"] == "iconic")
        .expect("a stock step");
    let pushed = stock["counts"]["pushed"].as_f64().unwrap();
    assert!(pushed > 0.0, "{stock}");
    assert_eq!(
        get(
            "skubridge_step_count",
            &[
                ("step", "stock"),
                ("channel", "iconic"),
                ("count", "pushed")
            ]
        ),
        pushed
    );
    assert!(
        out.stderr
            .contains(&format!("iconic stock: {pushed} pushed")),
        "{}",
        out.stderr
    );
    assert_eq!(
        get("skubridge_unmatched_listings", &[("channel", "iconic")]),
        status["channels"][0]["unmatched_listings"]
            .as_f64()
            .unwrap()
    );
    assert_eq!(get("skubridge_outbox_pending", &[]), 0.0);
    // Requests per endpoint: as many as the sandbox counted.
    let sent: f64 = m
        .iter()
        .filter(|((name, l), _)| {
            name == "skubridge_last_run_requests"
                && l["api"] == "iconic"
                && l["endpoint"] == "PUT /v2/stock/product"
        })
        .map(|(_, v)| v)
        .sum();
    assert_eq!(sent as u64, env.count("PUT /v2/stock/product"));

    // A failed pass is there too, and `--metrics-file` writes where it says.
    env.fault(serde_json::json!({"path": "/admin/api", "times": 100,
                                 "kind": {"type": "status", "status": 500}}));
    env.run(&["sync", "--metrics-file", "other.prom"])
        .env("SKUBRIDGE_NOW", "2026-11-27T00:05:00Z")
        .expect(1);
    let other = std::fs::read_to_string(env.dir.path().join("other.prom")).unwrap();
    let m = samples(&other);
    let key = |name: &str, l: &[(&str, &str)]| (name.to_string(), labels(l));
    assert_eq!(m[&key("skubridge_last_run_success", &sync)], 0.0);
    assert_eq!(
        m[&key("skubridge_seconds_since_last_success", &sync)],
        300.0
    );
    let failed_steps = m
        .iter()
        .filter(|((name, _), v)| name == "skubridge_step_success" && **v == 0.0)
        .count();
    assert!(failed_steps > 0, "{other}");
}

#[test]
fn completions_and_man_pages_generate_without_a_config() {
    let env = Env::standard();
    std::fs::remove_file(env.config_path()).unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = env.run(&["completions", shell]).expect(0);
        assert!(
            out.stdout.contains("reset-products") && out.stdout.contains("--dry-run"),
            "{shell}: {}",
            out.stdout
        );
    }
    let dir = env.dir.path().join("man");
    env.run(&["man", "--dir", dir.to_str().unwrap()]).expect(0);
    for page in ["skubridge.1", "skubridge-sync.1", "skubridge-unmatched.1"] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}: {text}");
    }
}
