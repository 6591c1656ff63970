//! tracing on stderr: one info line per pass by default, `-v`/`-vv` for more,
//! `SKUBRIDGE_LOG` (an env-filter directive) overrides both. Colour only where a person
//! reads it: a file or cron's mail gets plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, ColorChoice, LogFormat};

/// Whether stderr gets colour: `--color`, else a terminal without `NO_COLOR` (any
/// non-empty value, as no-color.org says).
pub fn colour(choice: ColorChoice, terminal: bool, no_color: Option<&str>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(str::is_empty),
    }
}

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
        .with_ansi(colour(
            cli.color,
            std::io::stderr().is_terminal(),
            std::env::var("NO_COLOR").ok().as_deref(),
        ))
        .with_target(cli.verbose > 0);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color_unless_asked() {
        use ColorChoice::*;
        assert!(colour(Auto, true, None));
        assert!(colour(Auto, true, Some("")));
        assert!(!colour(Auto, true, Some("1")));
        assert!(!colour(Auto, false, None));
        assert!(colour(Always, false, Some("1")));
        assert!(!colour(Never, true, None));
    }
}
