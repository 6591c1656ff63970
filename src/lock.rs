//! One run at a time per database: an exclusive, non-blocking OS lock on a file beside
//! it. The kernel releases it when the process dies, so a `kill -9` never leaves a
//! stale lock behind. The holder writes what it is doing into the file, so a run that
//! finds it held can say why ("product reset in progress since …").
//!
//! A product reset of one channel holds that channel's own lock for its whole length
//! and the run lock only while it writes: `sync` leaves that channel out meanwhile and
//! syncs the others.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// The lock a product reset of `channel` holds (channel names are letters, digits,
/// `-` and `_`, so safe in a file name).
pub fn channel_reset_path(db: &Path, channel: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".reset-{channel}.lock"));
    db.with_file_name(name)
}

/// Takes the run lock for `purpose` (e.g. "sync"), recording `purpose since <since>`.
pub fn acquire(db: &Path, purpose: &str, since: &str) -> Result<RunLock, LockError> {
    acquire_at(&lock_path(db), purpose, since)
}

/// Takes `channel`'s product-reset lock.
pub fn acquire_channel_reset(db: &Path, channel: &str, since: &str) -> Result<RunLock, LockError> {
    acquire_at(&channel_reset_path(db, channel), RESET_PURPOSE, since)
}

/// Takes the run lock, waiting up to `patience` for a run holding it to finish.
pub fn acquire_waiting(
    db: &Path,
    purpose: &str,
    since: &str,
    patience: Duration,
) -> Result<RunLock, LockError> {
    let until = Instant::now() + patience;
    loop {
        match acquire(db, purpose, since) {
            Err(LockError::Held { .. }) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(250));
            }
            other => return other,
        }
    }
}

fn acquire_at(path: &Path, purpose: &str, since: &str) -> Result<RunLock, LockError> {
    let shown = path.display().to_string();
    let io = |source| LockError::Io {
        path: shown.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(io)?;
            writeln!(file, "{purpose} since {since} (pid {})", std::process::id()).map_err(io)?;
            Ok(RunLock { _file: file })
        }
        Err(TryLockError::WouldBlock) => Err(LockError::Held {
            holder: std::fs::read_to_string(path).ok(),
            path: shown,
        }),
        Err(TryLockError::Error(source)) => Err(io(source)),
    }
}

/// What the run holding the lock wrote ("reset-products since … (pid …)"), or `None`
/// when no run holds it. It probes with a non-blocking lock released at once: a run
/// starting in that instant finds the lock held and exits 75, which cron retries.
pub fn holder(db: &Path) -> Option<String> {
    holder_at(&lock_path(db))
}

/// What a running product reset of `channel` wrote, or `None` when none runs.
pub fn channel_reset_holder(db: &Path, channel: &str) -> Option<String> {
    holder_at(&channel_reset_path(db, channel))
}

fn holder_at(path: &Path) -> Option<String> {
    let file = File::open(path).ok()?;
    match file.try_lock() {
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => Some(
            std::fs::read_to_string(path)
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

    #[test]
    fn a_channel_reset_lock_is_its_own_and_the_run_lock_can_be_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let reset = acquire_channel_reset(&db, "outlet", "2026-11-27T01:02:03Z").unwrap();
        assert!(channel_reset_holder(&db, "outlet").is_some());
        assert_eq!(channel_reset_holder(&db, "iconic"), None);
        assert_eq!(holder(&db), None, "the run lock is free meanwhile");
        assert!(acquire_channel_reset(&db, "outlet", "now").is_err());
        drop(reset);
        assert_eq!(channel_reset_holder(&db, "outlet"), None);

        let sync = acquire(&db, "sync", "now").unwrap();
        let started = Instant::now();
        let err = acquire_waiting(&db, RESET_PURPOSE, "now", Duration::from_millis(600));
        assert!(matches!(err, Err(LockError::Held { .. })));
        assert!(started.elapsed() >= Duration::from_millis(600));
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(sync);
        });
        acquire_waiting(&db, RESET_PURPOSE, "now", Duration::from_secs(10)).unwrap();
        release.join().unwrap();
    }
}
