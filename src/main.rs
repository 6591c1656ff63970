use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    skubridge::exit::ignore_file_size_signal();
    let cli = skubridge::cli::Cli::parse();
    skubridge::logging::init(&cli);
    match skubridge::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // One line for the user; the cause chain is in it, details at -v.
            tracing::debug!("{err:?}");
            eprintln!("error: {}", skubridge::exit::message(&err));
            ExitCode::from(skubridge::exit::code_for(&err))
        }
    }
}
