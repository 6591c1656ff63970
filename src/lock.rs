//! One run at a time per database: an exclusive, non-blocking OS lock on a file beside
//! it. The kernel releases it when the process dies, so a `kill -9` never leaves a
//! stale lock behind. The holder writes what it is doing into the file, so a run that
//! finds it held can say why ("product reset in progress since …").

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `reset-products` writes into the lock file; `sync` recognises it.
pub const RESET_PURPOSE: &str = "reset-products";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}", held_message(holder.as_deref()))]
    Held {
        path: String,
        holder: Option<String>,
    },
    #[error("cannot create the lock file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn held_message(holder: Option<&str>) -> String {
    match holder.and_then(|h| h.strip_prefix(RESET_PURPOSE)) {
        Some(rest) => format!(
            "product reset in progress{}; sync resumes when it finishes",
            rest.trim_end()
        ),
        None => format!(
            "another skubridge run is in progress{}; try again later",
            holder
                .filter(|h| !h.trim().is_empty())
                .map(|h| format!(" ({})", h.trim_end()))
                .unwrap_or_default()
        ),
    }
}

/// Held for the life of the value.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    db.with_file_name(name)
}

/// Takes the lock for `purpose` (e.g. "sync"), recording `purpose since <since>`.
pub fn acquire(db: &Path, purpose: &str, since: &str) -> Result<RunLock, LockError> {
    let path = lock_path(db);
    let shown = path.display().to_string();
    let io = |source| LockError::Io {
        path: shown.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(io)?;
            writeln!(file, "{purpose} since {since} (pid {})", std::process::id()).map_err(io)?;
            Ok(RunLock { _file: file })
        }
        Err(TryLockError::WouldBlock) => Err(LockError::Held {
            holder: std::fs::read_to_string(&path).ok(),
            path: shown,
        }),
        Err(TryLockError::Error(source)) => Err(io(source)),
    }
}

/// What the run holding the lock wrote ("reset-products since … (pid …)"), or `None`
/// when no run holds it. It probes with a non-blocking lock released at once: a run
/// starting in that instant finds the lock held and exits 75, which cron retries.
pub fn holder(db: &Path) -> Option<String> {
    let path = lock_path(db);
    let file = File::open(&path).ok()?;
    match file.try_lock() {
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => Some(
            std::fs::read_to_string(&path)
                .unwrap_or_default()
                .trim_end()
                .to_string(),
        ),
        // Not knowable (e.g. locks unsupported on this file system): claim nothing.
        Err(TryLockError::Error(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let first = acquire(&db, "sync", "2026-11-27T00:00:00Z").unwrap();
        let err = acquire(&db, "sync", "later").unwrap_err();
        assert!(matches!(err, LockError::Held { .. }));
        assert!(
            err.to_string().starts_with(
                "another skubridge run is in progress (sync since 2026-11-27T00:00:00Z (pid"
            ),
            "{err}"
        );
        drop(first);
        acquire(&db, "sync", "now").unwrap();
        assert!(lock_path(&db).ends_with("s.db.lock"));
    }

    #[test]
    fn a_held_reset_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let _reset = acquire(&db, RESET_PURPOSE, "2026-11-27T01:02:03Z").unwrap();
        let err = acquire(&db, "sync", "now").unwrap_err().to_string();
        assert!(
            err.starts_with("product reset in progress since 2026-11-27T01:02:03Z (pid"),
            "{err}"
        );
    }

    #[test]
    fn holder_names_a_live_holder_only_and_keeps_no_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        assert_eq!(holder(&db), None, "no lock file yet");
        let reset = acquire(&db, RESET_PURPOSE, "2026-11-27T01:02:03Z").unwrap();
        let text = holder(&db).unwrap();
        assert!(
            text.starts_with("reset-products since 2026-11-27T01:02:03Z (pid"),
            "{text}"
        );
        drop(reset);
        assert_eq!(holder(&db), None, "the file stays, the lock is gone");
        // The probe released what it took.
        acquire(&db, "sync", "now").unwrap();
    }
}
