//! `skubridge completions SHELL` and `skubridge man --dir DIR`: shell completions and
//! man pages, generated from the command line's own definition so they never drift
//! from `--help`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::OK;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for (example: skubridge completions bash > /etc/bash_completion.d/skubridge)
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Directory to write skubridge.1 and one skubridge-<command>.1 per subcommand into
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
}

pub fn run(args: Args) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    completions(args.shell, &mut out);
    Ok(OK)
}

fn completions(shell: Shell, out: &mut dyn std::io::Write) {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    match shell {
        Shell::Bash => clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, name, out),
        Shell::Zsh => clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, name, out),
        Shell::Fish => clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, name, out),
    }
}

pub fn man(args: ManArgs) -> Result<u8> {
    let written = write_man_pages(&args.dir)?;
    for page in written {
        println!("{}", page.display());
    }
    Ok(OK)
}

/// `skubridge.1` and `skubridge-<sub>.1` for each subcommand; the paths written.
fn write_man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let cmd = Cli::command();
    let mut pages = vec![(cmd.get_name().to_string(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        // Each page names its command the way it is typed.
        let name = format!("{}-{}", cmd.get_name(), sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    let mut written = Vec::new();
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut text = Vec::new();
        clap_mangen::Man::new(page)
            .render(&mut text)
            .with_context(|| format!("rendering {name}.1"))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_name_every_subcommand_in_each_shell() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            completions(shell, &mut out);
            let text = String::from_utf8(out).unwrap();
            for sub in [
                "sync",
                "reset-products",
                "unmatched",
                "orders",
                "fulfil",
                "doctor",
                "status",
            ] {
                assert!(text.contains(sub), "{shell:?} lacks {sub}");
            }
            assert!(text.contains("--dry-run"), "{shell:?} lacks sync's flags");
        }
    }

    #[test]
    fn one_man_page_per_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let pages = write_man_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for name in [
            "skubridge.1",
            "skubridge-sync.1",
            "skubridge-reset-products.1",
            "skubridge-status.1",
        ] {
            assert!(names.iter().any(|n| n == name), "{names:?}");
        }
        let sync = std::fs::read_to_string(dir.path().join("skubridge-sync.1")).unwrap();
        assert!(sync.starts_with(".ie") || sync.contains(".TH"), "{sync}");
        assert!(
            sync.contains("skubridge\\-sync") && sync.contains("dry\\-run"),
            "{sync}"
        );
    }
}
