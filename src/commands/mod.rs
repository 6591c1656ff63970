//! One module per subcommand. Each exposes its clap `Args` and a `run`; this module
//! builds what they share (config, database, lock, clock) once.

pub mod backup;
pub mod completions;
pub mod doctor;
pub mod fulfil;
pub mod init;
pub mod orders;
pub(crate) mod outputs;
pub mod report;
pub mod reset_products;
pub mod status;
pub mod sync;
pub mod unmatched;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tracing::warn;

use crate::channel::{Kind, KINDS};
use crate::cli::{Cli, Command};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::exit::UsageError;
use crate::lock::{self, RunLock};

/// What skubridge runs with besides its command line: the channel kinds it knows and
/// where `${VAR}` in the config comes from. The binary uses the build's kinds and its
/// environment; a test running skubridge in-process brings its own kind.
pub struct Host<'a> {
    pub kinds: &'a [&'static Kind],
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub clock: Clock,
    /// Passes stop in order on SIGTERM and SIGINT (the binary); a test running
    /// skubridge in-process keeps its own handling of them.
    pub signals: bool,
}

pub fn run(cli: Cli) -> Result<u8> {
    run_in(
        cli,
        &Host {
            kinds: KINDS,
            env: &|name| std::env::var(name).ok(),
            clock: Clock::from_env().map_err(UsageError)?,
            signals: true,
        },
    )
}

pub fn run_in(cli: Cli, host: &Host<'_>) -> Result<u8> {
    for name in crate::hooks::ignored() {
        warn!("{name} is set but ignored: it is a test hook, honoured only by debug builds");
    }
    let config_path = config_path(cli.config.as_deref());
    let db = cli.db.as_deref();
    let open = |purpose| Ctx::build(&config_path, db, Hold::Run(purpose), host);
    let open_readonly = || Ctx::build(&config_path, db, Hold::Nothing, host);
    // A run that changed the store, then the monitoring files, whatever it ended with;
    // a run stopped by a signal exits as shells report one (143, 130).
    let with_outputs = |ctx: &Ctx, result: Result<u8>| {
        outputs::write(ctx, cli.metrics_file.as_deref());
        match crate::stop::global().requested() {
            Some(signal) => Ok(crate::stop::exit_code(signal)),
            None => result,
        }
    };
    // Passes stop in order on SIGTERM and SIGINT (see `stop`).
    let stoppable = || -> Result<tokio::runtime::Runtime> {
        let rt = runtime()?;
        if host.signals {
            rt.block_on(async { crate::stop::listen() });
        }
        Ok(rt)
    };
    match cli.command {
        Command::Init(args) => init::run(&config_path, args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => completions::man(args),
        Command::Sync(args) => {
            let ctx = open("sync")?;
            with_outputs(&ctx, stoppable()?.block_on(sync::run(&ctx, args)))
        }
        Command::ResetProducts(args) => {
            reset_products::confirm(&args)?;
            // One channel's reset holds the run lock only while it writes.
            let hold = match args.channel.as_deref() {
                Some(channel) => Hold::ChannelReset(channel),
                None => Hold::Run(crate::lock::RESET_PURPOSE),
            };
            let ctx = Ctx::build(&config_path, db, hold, host)?;
            with_outputs(&ctx, stoppable()?.block_on(reset_products::run(&ctx, args)))
        }
        Command::Unmatched(args) => unmatched::run(&open_readonly()?, args),
        Command::Doctor(args) => runtime()?.block_on(doctor::run(&open_readonly()?, args)),
        Command::Fulfil(args) => {
            let ctx = open("fulfil")?;
            with_outputs(&ctx, stoppable()?.block_on(fulfil::run(&ctx, args)))
        }
        Command::Report(args) => report::run(&open_readonly()?, args),
        Command::Orders(args) => orders::run(&open_readonly()?, args),
        Command::Status(args) => status::run(&open_readonly()?, args),
        Command::Backup(args) => backup::run(&open_readonly()?, args),
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

/// The configured channel names, or only `wanted`, which must be one.
fn configured<'a>(cfg: &'a Config, wanted: Option<&str>) -> Result<Vec<&'a str>, UsageError> {
    let names: Vec<&str> = cfg.channels.iter().map(|c| c.name.as_str()).collect();
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

/// The lock a command holds for its whole length.
enum Hold<'a> {
    /// None: the command only reads, alongside a running pass (WAL).
    Nothing,
    /// The run lock, for this purpose.
    Run(&'a str),
    /// This channel's product-reset lock.
    ChannelReset(&'a str),
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
        configured(&self.cfg, wanted)
    }

    /// Takes the run lock for `purpose` now, waiting up to `patience` for a run that
    /// holds it (for a command that holds another lock, like one channel's reset).
    pub fn run_lock(&self, purpose: &str, patience: std::time::Duration) -> Result<RunLock> {
        let since = crate::clock::rfc3339(self.clock.now());
        Ok(lock::acquire_waiting(
            &self.cfg.database,
            purpose,
            &since,
            patience,
        )?)
    }

    /// Loads the config, takes the lock `hold` names, opens (and migrates) the database.
    fn build(
        config_path: &Path,
        db_override: Option<&Path>,
        hold: Hold<'_>,
        host: &Host<'_>,
    ) -> Result<Self> {
        let clock = host.clock;
        let mut cfg = Config::load_with(config_path, host.env, host.kinds)?;
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
        let since = crate::clock::rfc3339(clock.now());
        let lock = match hold {
            Hold::Nothing => None,
            Hold::Run(purpose) => Some(lock::acquire(&cfg.database, purpose, &since)?),
            Hold::ChannelReset(channel) => {
                configured(&cfg, Some(channel))?;
                Some(lock::acquire_channel_reset(&cfg.database, channel, &since)?)
            }
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
