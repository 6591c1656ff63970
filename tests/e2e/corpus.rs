//! The bad-input corpus: every broken config in `tests/corpus/config/` run as cron would
//! run it. Each file says what it expects in its first comment lines:
//! `# expect: TEXT` (stderr contains it; repeatable), and optionally `# exit: N`
//! (default 2), `# command: NAME` (default sync), `# mode: OCTAL` (the file's mode) and
//! `# env-unset: VAR`. Every case must name the file, never panic, never print a
//! secret, and never create the database.

use std::path::{Path, PathBuf};

use crate::harness::{Env, HTF_PASSWORD, ICONIC_SECRET, SHOPIFY_TOKEN};

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
