//! `skubridge init`: write the commented starter config.

use std::path::Path;

use anyhow::{Context, Result};

use crate::exit::{UsageError, OK};

/// The starter config is the documented example, so the two never drift apart.
pub const STARTER: &str = include_str!("../../config.example.toml");

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Overwrite an existing file
    #[arg(long)]
    force: bool,
}

pub fn run(path: &Path, args: Args) -> Result<u8> {
    if path.exists() && !args.force {
        return Err(UsageError(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        ))
        .into());
    }
    write_private(path, STARTER).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "Wrote {}. Fill in the shop and channel, export the secrets it names, then run `skubridge sync --dry-run`.",
        path.display()
    );
    Ok(OK)
}

/// Owner-only from the first byte: the file is about to receive credentials.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(text.as_bytes())
}
