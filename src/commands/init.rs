//! `skubridge init`: write the commented starter config.

use std::path::Path;

use anyhow::{Context, Result};

use crate::channel::{Kind, KINDS};
use crate::exit::{UsageError, OK};

const HEAD: &str = include_str!("starter/head.toml");
/// The keys every `[[channel]]` has, after each kind's own.
const CHANNEL: &str = include_str!("starter/channel.toml");
const TAIL: &str = include_str!("starter/tail.toml");

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Overwrite an existing file
    #[arg(long)]
    force: bool,

    /// A `[[channel]]` block for this kind of channel; repeat it for several
    /// (example: --kind iconic)
    #[arg(long = "kind", value_name = "KIND", default_value = "iconic", value_parser = kind_names())]
    kinds: Vec<String>,
}

fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

/// The starter config with one block per kind, in the order given.
pub fn starter(kinds: &[&Kind]) -> String {
    let mut text = HEAD.to_string();
    for kind in kinds {
        text.push_str(kind.starter);
        text.push_str(CHANNEL);
    }
    text.push_str(TAIL);
    text
}

pub fn run(path: &Path, args: Args) -> Result<u8> {
    if path.exists() && !args.force {
        return Err(UsageError(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        ))
        .into());
    }
    let kinds: Vec<&Kind> = args
        .kinds
        .iter()
        .filter_map(|name| KINDS.iter().copied().find(|k| k.name == name))
        .collect();
    write_private(path, &starter(&kinds)).with_context(|| format!("writing {}", path.display()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_is_the_default_starter() {
        let example = include_str!("../../config.example.toml");
        assert_eq!(starter(&[&crate::channel::iconic::KIND]), example);
    }

    #[test]
    fn every_kind_has_a_starter_block_that_loads_once_filled_in() {
        for kind in KINDS {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("skubridge.toml");
            std::fs::write(&path, starter(&[kind])).unwrap();
            // Every ${VAR} is set; nothing else needs filling in to load.
            let cfg = crate::config::Config::load(&path, &|_| Some("x".into()));
            let cfg = cfg.unwrap_or_else(|e| panic!("{}: {e}", kind.name));
            assert_eq!(cfg.channels[0].kind, kind.name);
        }
    }
}
