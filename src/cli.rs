//! The command line (clap definitions only). Each subcommand's arguments live in its
//! module under `src/commands/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;

#[derive(Debug, Parser)]
#[command(
    name = "skubridge",
    version,
    about = "Keep a Shopify store and its marketplace channels selling from one stock pool",
    long_about = "Keep a Shopify store and its marketplace channels selling from one stock pool.\n\n\
        Run `skubridge sync` from cron or a systemd timer every few minutes. Start with \
        `skubridge init` to write a config, then `skubridge sync --dry-run` to see what it would do.",
    after_help = "Exit codes: 0 done; 1 the pass ran but something failed; 2 usage or config error; \
        75 another run holds the lock (cron: just try again)."
)]
pub struct Cli {
    /// Config file [default: $SKUBRIDGE_CONFIG, then ./skubridge.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database file, overriding `database` in the config
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// More detail on stderr (-v requests, -vv everything); or set SKUBRIDGE_LOG
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only warnings and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Log line format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Colour on stderr: auto = only on a terminal, and not when NO_COLOR is set
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Write Prometheus metrics here after the run, overriding `[metrics] textfile`
    #[arg(long, global = true, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one pass: match products, import orders, push stock to every channel (cron runs this)
    Sync(commands::sync::Args),
    /// Re-match every SKU from scratch (sync pauses while it runs)
    ResetProducts(commands::reset_products::Args),
    /// List every channel listing that does not sync, why, and near-miss hints
    Unmatched(commands::unmatched::Args),
    /// List channel orders and what became of them in Shopify (held, imported, changed...)
    Orders(commands::orders::Args),
    /// Push Shopify fulfilments (carrier, tracking number) to the channels now
    Fulfil(commands::fulfil::Args),
    /// Run the troubleshooting checklist: credentials, locations, SKUs, carriers, email...
    Doctor(commands::doctor::Args),
    /// Last and next pass, each step's last run, what waits on a person (exit 1 when unhealthy)
    Status(commands::status::Args),
    /// Write a commented starter config
    Init(commands::init::Args),
    /// Print shell completions (bash, zsh, fish)
    Completions(commands::completions::Args),
    /// Write the man pages, one per subcommand
    Man(commands::completions::ManArgs),
    /// Write the dashboard page: next sync, last passes, what waits on a person
    Report(commands::report::Args),
    /// Copy the database while it is in use (SQLite online backup)
    Backup(commands::backup::Args),
}
