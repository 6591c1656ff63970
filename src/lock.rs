//! One run at a time per database: an exclusive, non-blocking OS lock on a file beside
//! it. The kernel releases it when the process dies, so a `kill -9` never leaves a
//! stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another skubridge run is in progress (lock {path} is held); try again later")]
    Held { path: String },
    #[error("cannot create the lock file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
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

pub fn acquire(db: &Path) -> Result<RunLock, LockError> {
    let path = lock_path(db);
    let shown = path.display().to_string();
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LockError::Io {
            path: shown.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(RunLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LockError::Held { path: shown }),
        Err(TryLockError::Error(source)) => Err(LockError::Io {
            path: shown,
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let first = acquire(&db).unwrap();
        assert!(matches!(acquire(&db), Err(LockError::Held { .. })));
        drop(first);
        acquire(&db).unwrap();
        assert!(lock_path(&db).ends_with("s.db.lock"));
    }
}
