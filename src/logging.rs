//! tracing on stderr: one info line per pass by default, `-v`/`-vv` for more,
//! `SKUBRIDGE_LOG` (an env-filter directive) overrides both.

use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, LogFormat};

pub fn init(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "warn",
        (false, 0) => "skubridge=info,warn",
        (false, 1) => "skubridge=debug,info",
        (false, _) => "trace",
    };
    let filter =
        EnvFilter::try_from_env("SKUBRIDGE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(cli.verbose > 0);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
