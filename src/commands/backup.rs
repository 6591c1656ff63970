//! `skubridge backup FILE`: a consistent copy of the database while it is in use, with
//! SQLite's online backup. It only reads, so it runs beside a pass (no run lock). The
//! copy is written to `FILE.tmp`, checked, flushed to disk and renamed into place,
//! owner-only like the database: a backup stopped midway never leaves a half file
//! under FILE's name.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Ctx;
use crate::exit::{UsageError, OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the copy (an existing file is refused, unless --force)
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Replace FILE if it exists (and a FILE.tmp left by a stopped backup)
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let dest = args.file.as_path();
    let live = ctx.db.path();
    let tmp = tmp_path(dest);
    check_target(live, dest, &tmp, args.force)?;
    if args.force && tmp.exists() {
        fs::remove_file(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    create_owner_only(&tmp)?;
    if let Err(e) = copy(ctx, &tmp, dest) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    let size = fs::metadata(dest).map(|m| m.len()).unwrap_or_default();
    println!(
        "backed up {} to {} ({}, integrity checked)",
        live.display(),
        dest.display(),
        bytes(size)
    );
    Ok(OK)
}

/// Refuses what would lose data or fail halfway: the live database itself, an existing
/// FILE (without --force), a missing directory, a FILE.tmp another backup may be writing.
fn check_target(live: &Path, dest: &Path, tmp: &Path, force: bool) -> Result<(), UsageError> {
    let shown = dest.display();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(dest, live) {
        return Err(UsageError(format!(
            "{shown} is the database itself: name another file for the copy"
        )));
    }
    if dest.is_dir() {
        return Err(UsageError(format!(
            "{shown} is a directory: name the file to write, such as {}",
            dest.join("skubridge.db.bak").display()
        )));
    }
    if dest.exists() && !force {
        return Err(UsageError(format!(
            "{shown} exists: pass --force to replace it, or name another file"
        )));
    }
    let dir = dest.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir.filter(|d| !d.is_dir()) {
        return Err(UsageError(format!(
            "{shown}: the directory {} does not exist",
            dir.display()
        )));
    }
    if tmp.exists() && !force {
        return Err(UsageError(format!(
            "{} exists (left by a backup that was stopped, or one running now): remove it, or pass --force",
            tmp.display()
        )));
    }
    Ok(())
}

/// The copy into `tmp`, flushed, then renamed over `dest`.
fn copy(ctx: &Ctx, tmp: &Path, dest: &Path) -> Result<()> {
    ctx.db.copy_to(tmp)?;
    File::open(tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("flushing {}", tmp.display()))?;
    fs::rename(tmp, dest)
        .with_context(|| format!("renaming {} to {}", tmp.display(), dest.display()))?;
    // The rename itself reaches the disk (not every filesystem can flush a directory).
    let dir = dest.parent().filter(|d| !d.as_os_str().is_empty());
    if let Ok(d) = File::open(dir.unwrap_or(Path::new("."))) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn tmp_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_os_string();
    name.push(".tmp");
    PathBuf::from(name)
}

/// An empty file only the owner can read: the copy holds the catalog and order data.
fn create_owner_only(path: &Path) -> Result<()> {
    let mut open = OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        open.mode(0o600);
        let file = open
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        // Whatever the umask left.
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    #[cfg(not(unix))]
    open.open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / f64::from(1 << 10)),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_file_sits_beside_the_target() {
        assert_eq!(
            tmp_path(Path::new("/var/backups/s.db")),
            Path::new("/var/backups/s.db.tmp")
        );
        assert_eq!(tmp_path(Path::new("s.db")), Path::new("s.db.tmp"));
    }

    #[test]
    fn an_existing_target_needs_force_and_the_database_is_never_one() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("skubridge.db");
        let dest = dir.path().join("copy.db");
        fs::write(&live, "").unwrap();
        let tmp = tmp_path(&dest);
        check_target(&live, &dest, &tmp, false).unwrap();
        fs::write(&dest, "old").unwrap();
        let err = check_target(&live, &dest, &tmp, false).unwrap_err();
        assert!(err.0.contains("exists: pass --force"), "{err}");
        check_target(&live, &dest, &tmp, true).unwrap();
        let err = check_target(&live, &live, &tmp_path(&live), true).unwrap_err();
        assert!(err.0.contains("is the database itself"), "{err}");
        fs::remove_file(&dest).unwrap();
        fs::write(&tmp, "").unwrap();
        let err = check_target(&live, &dest, &tmp, false).unwrap_err();
        assert!(err.0.contains("copy.db.tmp exists"), "{err}");
        let err = check_target(&live, &dir.path().join("no/x.db"), &tmp, true).unwrap_err();
        assert!(err.0.contains("does not exist"), "{err}");
    }
}
