//! The packaging in `deploy/` and the `Dockerfile`: the systemd units pass
//! `systemd-analyze verify` and run the binary with flags it has, the Kubernetes
//! manifests parse and agree with each other (every `${NAME}` their config needs is in
//! their Secret, the database is on the volume), and their config loads in the real
//! binary. Nothing here builds an image or needs a cluster.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_skubridge");
/// The path the checked-in units name (`make install` rewrites it to `$(PREFIX)/bin`).
const UNIT_BIN: &str = "/usr/local/bin/skubridge";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `(section, key, value)` for each setting of a unit file, in order.
fn unit_settings(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((key, value)) = line.split_once('=') {
            out.push((section.clone(), key.trim().into(), value.trim().into()));
        } else {
            panic!("not a unit file line: {line:?}");
        }
    }
    out
}

/// The last value of `section.key` (the one systemd uses for single-valued keys).
fn unit_value<'a>(settings: &'a [(String, String, String)], section: &str, key: &str) -> &'a str {
    settings
        .iter()
        .rev()
        .find(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v.as_str())
        .unwrap_or_else(|| panic!("[{section}] {key}= is missing"))
}

/// The value following `flag` in an argument list.
fn flag_value<'a>(args: &[&'a str], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| *a == flag)
        .unwrap_or_else(|| panic!("{flag} missing from {args:?}"));
    args.get(at + 1)
        .unwrap_or_else(|| panic!("{flag} has no value in {args:?}"))
}

#[test]
fn systemd_units_name_the_store_paths_and_sandbox_it() {
    let service = unit_settings(&read("deploy/systemd/skubridge@.service"));
    let timer = unit_settings(&read("deploy/systemd/skubridge@.timer"));

    let exec = unit_value(&service, "Service", "ExecStart");
    let args: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(args[0], UNIT_BIN, "{exec}");
    assert_eq!(args.last(), Some(&"sync"), "{exec}");
    assert_eq!(flag_value(&args, "--config"), "/etc/skubridge/%i.toml");
    // The database (and the lock file beside it) in the state directory systemd makes.
    let state = unit_value(&service, "Service", "StateDirectory");
    assert_eq!(state, "skubridge/%i");
    let db = Path::new(flag_value(&args, "--db"));
    assert_eq!(
        db.parent(),
        Some(Path::new("/var/lib").join(state).as_path())
    );

    for (key, value) in [
        ("Type", "oneshot"),
        ("SuccessExitStatus", "75"),
        ("EnvironmentFile", "-/etc/skubridge/%i.env"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectControlGroups", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("RestrictRealtime", "yes"),
        ("SystemCallArchitectures", "native"),
        ("CapabilityBoundingSet", ""),
        ("UMask", "0077"),
    ] {
        assert_eq!(
            unit_value(&service, "Service", key),
            value,
            "[Service] {key}="
        );
    }
    let user = unit_value(&service, "Service", "User");
    assert!(
        !user.is_empty() && user != "root" && user != "0",
        "User={user}"
    );
    // Longer than the pass budget's default (30 min), so the binary stops itself first.
    let timeout = unit_value(&service, "Service", "TimeoutStartSec");
    let minutes: u32 = timeout
        .strip_suffix("min")
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("TimeoutStartSec={timeout}: expected minutes"));
    assert!(minutes > 30, "TimeoutStartSec={timeout}");

    for (key, value) in [
        ("OnCalendar", "*:0/5"),
        ("RandomizedDelaySec", "30"),
        ("Persistent", "true"),
        ("Unit", "skubridge@%i.service"),
    ] {
        assert_eq!(unit_value(&timer, "Timer", key), value, "[Timer] {key}=");
    }
    assert_eq!(unit_value(&timer, "Install", "WantedBy"), "timers.target");

    // The binary takes the flags ExecStart gives it (clap checks them before `--help`).
    let out = Command::new(BIN)
        .args(&args[1..])
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{exec} --help: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "systemd-analyze not found: skipping `systemd-analyze verify` of deploy/systemd/"
        );
        return;
    }
    // verify needs ExecStart's binary to exist: point the copies at the one just built.
    let dir = tempfile::tempdir().unwrap();
    for unit in ["skubridge@.service", "skubridge@.timer"] {
        let text = read(&format!("deploy/systemd/{unit}"));
        let text = if unit.ends_with(".service") {
            assert!(text.contains(&format!("ExecStart={UNIT_BIN} ")), "{unit}");
            text.replace(
                &format!("ExecStart={UNIT_BIN} "),
                &format!("ExecStart={BIN} "),
            )
        } else {
            text
        };
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    // The instances load from the templates beside them.
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.path().join("skubridge@demo.service"))
        .arg(dir.path().join("skubridge@demo.timer"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    // Unknown keys and bad values are only warnings: none may name our units.
    let complaints: Vec<&str> = stderr.lines().filter(|l| l.contains("skubridge")).collect();
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}

/// The manifests of `deploy/kubernetes/store-example/`, by kind.
struct Manifests {
    config_map: Value,
    secret: Value,
    pvc: Value,
    cron_job: Value,
}

impl Manifests {
    fn load() -> Self {
        let mut docs = Vec::new();
        let dir = repo("deploy/kubernetes/store-example");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let doc: Value = serde_yaml_ng::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            docs.push(doc);
        }
        let mut take = |kind: &str| {
            let at = docs
                .iter()
                .position(|d| d["kind"] == kind)
                .unwrap_or_else(|| panic!("no {kind} in {}", dir.display()));
            docs.remove(at)
        };
        let manifests = Self {
            config_map: take("ConfigMap"),
            secret: take("Secret"),
            pvc: take("PersistentVolumeClaim"),
            cron_job: take("CronJob"),
        };
        assert!(docs.is_empty(), "unexpected manifests: {docs:?}");
        manifests
    }

    fn config_toml(&self) -> &str {
        self.config_map["data"]["skubridge.toml"]
            .as_str()
            .expect("the ConfigMap holds skubridge.toml")
    }

    fn secret_values(&self) -> Vec<(String, String)> {
        self.secret["stringData"]
            .as_object()
            .expect("the Secret has stringData")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string values").to_string()))
            .collect()
    }
}

fn str_at<'a>(doc: &'a Value, pointer: &str) -> &'a str {
    doc.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer}: not a string in {doc}"))
}

/// Every `NAME` of a `${NAME}` in the text (`$${` is a literal `${`).
fn env_references(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let escaped = rest[..at].ends_with('$');
        rest = &rest[at + 2..];
        if escaped {
            continue;
        }
        let end = rest.find('}').expect("an unclosed ${");
        names.insert(rest[..end].to_string());
        rest = &rest[end..];
    }
    names
}

#[test]
fn kubernetes_secret_names_every_variable_the_config_needs() {
    let m = Manifests::load();
    let needed = env_references(m.config_toml());
    let given: BTreeSet<String> = m.secret_values().into_iter().map(|(k, _)| k).collect();
    for name in [
        "SHOPIFY_ACCESS_TOKEN",
        "ICONIC_CLIENT_SECRET",
        "HARDTOFIND_PASSWORD",
        "SMTP_PASSWORD",
    ] {
        assert!(needed.contains(name), "the config does not use {name}");
    }
    assert_eq!(
        needed, given,
        "${{NAME}}s in the ConfigMap vs the Secret's keys"
    );
}

#[test]
fn kubernetes_cronjob_runs_sync_alone_with_the_database_on_the_volume() {
    let m = Manifests::load();
    let cron = &m.cron_job;
    let spec = &cron["spec"];
    assert_eq!(spec["schedule"], "*/5 * * * *");
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    let deadline = spec["startingDeadlineSeconds"]
        .as_u64()
        .expect("startingDeadlineSeconds");
    assert!(
        (1..300).contains(&deadline),
        "within one interval: {deadline}"
    );
    assert_eq!(spec["suspend"], false);
    assert!(spec["successfulJobsHistoryLimit"].is_u64());
    assert!(spec["failedJobsHistoryLimit"].is_u64());

    let job = &spec["jobTemplate"]["spec"];
    assert_eq!(job["backoffLimit"], 0);
    let config: toml::Value = toml::from_str(m.config_toml()).expect("skubridge.toml parses");
    let budget = config
        .get("schedule")
        .and_then(|s| s.get("pass_budget_minutes"))
        .and_then(toml::Value::as_integer)
        .unwrap_or(30) as u64;
    let active = job["activeDeadlineSeconds"]
        .as_u64()
        .expect("activeDeadlineSeconds");
    assert!(active > budget * 60, "{active}s beyond the pass budget");

    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let security = &c["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));

    // The image's entrypoint is skubridge; the args run one pass.
    assert!(c.get("command").is_none(), "the image's ENTRYPOINT runs");
    let args: Vec<&str> = c["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string args"))
        .collect();
    assert_eq!(args.last(), Some(&"sync"), "{args:?}");

    let volumes = pod["volumes"].as_array().expect("volumes");
    let mount_of = |volume: &Value| -> PathBuf {
        let name = &volume["name"];
        let mount = c["volumeMounts"]
            .as_array()
            .expect("volumeMounts")
            .iter()
            .find(|m| &m["name"] == name)
            .unwrap_or_else(|| panic!("volume {name} is not mounted"));
        PathBuf::from(str_at(mount, "/mountPath"))
    };
    // Where the pod mounts the volume whose `source.field` is `name`.
    let volume = |source: &str, field: &str, name: &Value| -> PathBuf {
        let v = volumes
            .iter()
            .find(|v| &v[source][field] == name)
            .unwrap_or_else(|| panic!("no {source} volume of {name}"));
        mount_of(v)
    };

    // The database: --db names a file in the directory the claim is mounted at, and the
    // config's own `database` agrees.
    let db = Path::new(flag_value(&args, "--db"));
    let state = volume(
        "persistentVolumeClaim",
        "claimName",
        &m.pvc["metadata"]["name"],
    );
    assert_eq!(db.parent(), Some(state.as_path()), "--db {}", db.display());
    if let Some(database) = config.get("database").and_then(toml::Value::as_str) {
        assert_eq!(Path::new(database), db, "database in skubridge.toml");
    }
    let modes = m.pvc["spec"]["accessModes"]
        .as_array()
        .expect("accessModes");
    assert!(
        modes
            .iter()
            .all(|a| a == "ReadWriteOnce" || a == "ReadWriteOncePod"),
        "SQLite wants a single writer: {modes:?}"
    );

    // The config: the ConfigMap's file at the path --config names.
    let config_path = Path::new(flag_value(&args, "--config"));
    let config_dir = volume("configMap", "name", &m.config_map["metadata"]["name"]);
    assert_eq!(
        config_path,
        config_dir.join("skubridge.toml"),
        "--config {}",
        config_path.display()
    );

    // The secrets, as environment variables.
    let from: Vec<&str> = c["envFrom"]
        .as_array()
        .expect("envFrom")
        .iter()
        .map(|e| str_at(e, "/secretRef/name"))
        .collect();
    assert_eq!(from, [str_at(&m.secret, "/metadata/name")]);
}

#[test]
fn kubernetes_config_loads_with_the_secret_and_fails_without_it() {
    let m = Manifests::load();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("skubridge.toml");
    std::fs::write(&config, m.config_toml()).unwrap();
    let secrets = m.secret_values();
    let status = |leave_out: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(dir.path().join("x.db"))
            .arg("status")
            .env_remove("SKUBRIDGE_CONFIG");
        for (name, value) in &secrets {
            cmd.env_remove(name);
            if Some(name.as_str()) != leave_out {
                cmd.env(name, value);
            }
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // `status` reads the config and the database only: exit 1, no pass has run yet.
    let (code, stdout, stderr) = status(None);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("no sync pass has run yet"), "{stdout}");
    assert!(!stderr.contains("skubridge.toml"), "{stderr}");

    // Each variable is needed: without it the config does not load (exit 2).
    let (name, _) = &secrets[0];
    let (code, _, stderr) = status(Some(name));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(name.as_str()), "{stderr}");
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (op, rest) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((op.to_uppercase(), rest.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

#[test]
fn dockerfile_builds_in_one_stage_and_runs_unprivileged_in_another() {
    let steps = dockerfile_instructions(&read("Dockerfile"));
    let stages: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, (op, _))| op == "FROM")
        .map(|(i, _)| i)
        .collect();
    assert!(stages.len() >= 2, "multi-stage: {steps:?}");
    let build = &steps[stages[0]..stages[1]];
    assert!(
        build.iter().any(|(op, arg)| op == "RUN"
            && arg.contains("cargo build --release --locked --bin skubridge")),
        "{build:?}"
    );

    let last = &steps[*stages.last().unwrap()..];
    let get = |name: &str| -> Vec<&str> {
        last.iter()
            .filter(|(op, _)| op == name)
            .map(|(_, arg)| arg.as_str())
            .collect()
    };
    let user = *get("USER").last().expect("the final stage sets USER");
    let user_name = user.split(':').next().unwrap();
    assert!(!["root", "0", ""].contains(&user_name), "USER {user}");

    let entrypoint: Vec<String> =
        serde_json::from_str(get("ENTRYPOINT").last().expect("ENTRYPOINT")).expect("exec form");
    assert_eq!(entrypoint, ["/usr/local/bin/skubridge"]);
    assert!(
        get("COPY")
            .iter()
            .any(|c| c.starts_with("--from=") && c.ends_with(" /usr/local/bin/skubridge")),
        "the binary is copied from the build stage"
    );
    assert!(get("ENV").contains(&"SKUBRIDGE_CONFIG=/etc/skubridge/skubridge.toml"));

    // CMD runs a pass with the database on the volume.
    let cmd: Vec<String> =
        serde_json::from_str(get("CMD").last().expect("CMD")).expect("exec form");
    assert_eq!(cmd.last().map(String::as_str), Some("sync"), "{cmd:?}");
    let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
    let db = Path::new(flag_value(&args, "--db"));
    let volume: Vec<String> =
        serde_json::from_str(get("VOLUME").last().expect("VOLUME")).expect("JSON form");
    assert_eq!(volume, [db.parent().unwrap().to_str().unwrap()]);

    let ignore = read(".dockerignore");
    for path in ["target", ".git"] {
        assert!(
            ignore.lines().any(|l| l.trim() == path),
            ".dockerignore: {path}"
        );
    }
}
