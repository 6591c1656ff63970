//! One module per subcommand. Each exposes its clap `Args` and a `run`; this module
//! builds what they share (config, database, lock, clock) once.

pub mod doctor;
pub mod fulfil;
pub mod init;
pub mod orders;
pub mod reset_products;
pub mod status;
pub mod sync;
pub mod unmatched;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tracing::warn;

use crate::cli::{Cli, Command};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::exit::UsageError;
use crate::lock::{self, RunLock};

pub fn run(cli: Cli) -> Result<u8> {
    for name in crate::hooks::ignored() {
        warn!("{name} is set but ignored: it is a test hook, honoured only by debug builds");
    }
    let config_path = config_path(cli.config.as_deref());
    match cli.command {
        Command::Init(args) => init::run(&config_path, args),
        Command::Sync(args) => {
            let ctx = Ctx::open(&config_path, cli.db.as_deref(), "sync")?;
            runtime()?.block_on(sync::run(&ctx, args))
        }
        Command::ResetProducts(args) => {
            reset_products::confirm(&args)?;
            let ctx = Ctx::open(&config_path, cli.db.as_deref(), crate::lock::RESET_PURPOSE)?;
            runtime()?.block_on(reset_products::run(&ctx, args))
        }
        Command::Unmatched(args) => {
            unmatched::run(&Ctx::open_readonly(&config_path, cli.db.as_deref())?, args)
        }
        Command::Doctor(args) => {
            let ctx = Ctx::open_readonly(&config_path, cli.db.as_deref())?;
            runtime()?.block_on(doctor::run(&ctx, args))
        }
        Command::Fulfil(args) => {
            let ctx = Ctx::open(&config_path, cli.db.as_deref(), "fulfil")?;
            runtime()?.block_on(fulfil::run(&ctx, args))
        }
        Command::Orders(args) => {
            orders::run(&Ctx::open_readonly(&config_path, cli.db.as_deref())?, args)
        }
        Command::Status(args) => {
            status::run(&Ctx::open_readonly(&config_path, cli.db.as_deref())?, args)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `--config`, then `$SKUBRIDGE_CONFIG`, then `./skubridge.toml`.
fn config_path(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SKUBRIDGE_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("skubridge.toml"))
}

/// What every command that touches the store needs, built once.
pub struct Ctx {
    pub cfg: Config,
    pub db: Db,
    pub clock: Clock,
    /// stderr is a terminal: progress bars may be drawn.
    pub interactive: bool,
    /// Held by commands that change state; reports read alongside a running pass (WAL).
    _lock: Option<RunLock>,
}

impl Ctx {
    /// The configured channel names, or only `wanted` (`--channel`), which must be one.
    pub fn channels(&self, wanted: Option<&str>) -> Result<Vec<&str>, UsageError> {
        let names: Vec<&str> = self.cfg.channels.iter().map(|c| c.name.as_str()).collect();
        match wanted {
            None => Ok(names),
            Some(w) => match names.iter().find(|n| **n == w) {
                Some(n) => Ok(vec![*n]),
                None => Err(UsageError(format!(
                    "--channel {w}: no such channel in the config (configured: {})",
                    names.join(", ")
                ))),
            },
        }
    }

    /// Loads the config, takes the run lock for `purpose`, opens (and migrates) the database.
    pub fn open(config_path: &Path, db_override: Option<&Path>, purpose: &str) -> Result<Self> {
        Self::build(config_path, db_override, Some(purpose))
    }

    /// Like [`Ctx::open`] without the run lock, for commands that only read.
    pub fn open_readonly(config_path: &Path, db_override: Option<&Path>) -> Result<Self> {
        Self::build(config_path, db_override, None)
    }

    fn build(config_path: &Path, db_override: Option<&Path>, lock: Option<&str>) -> Result<Self> {
        let clock = Clock::from_env().map_err(UsageError)?;
        let mut cfg = Config::load(config_path, &|name| std::env::var(name).ok())?;
        if let Some(db) = db_override {
            cfg.database = db.to_path_buf();
        }
        let dir = cfg.database.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            let from = match db_override {
                Some(_) => "--db".to_string(),
                None => format!("`database` in {}", cfg.path.display()),
            };
            return Err(UsageError(format!(
                "the database's directory {} does not exist (from {from}); create it, or point {from} at an existing one",
                dir.display()
            ))
            .into());
        }
        for w in &cfg.warnings {
            warn!("{w}");
        }
        let lock = match lock {
            Some(purpose) => Some(lock::acquire(
                &cfg.database,
                purpose,
                &crate::clock::rfc3339(clock.now()),
            )?),
            None => None,
        };
        let db = Db::open(&cfg.database)?;
        Ok(Self {
            cfg,
            db,
            clock,
            interactive: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            _lock: lock,
        })
    }
}
