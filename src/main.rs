use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = skubridge::cli::Cli::parse();
    skubridge::logging::init(&cli);
    match skubridge::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // One line for the user; the cause chain is in it, details at -v.
            tracing::debug!("{err:?}");
            eprintln!("error: {err:#}");
            ExitCode::from(skubridge::exit::code_for(&err))
        }
    }
}
