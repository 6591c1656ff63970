//! Exit codes, classified once at the boundary (documented in the README).

use crate::config::ConfigError;
use crate::db::DbError;
use crate::lock::LockError;

/// The pass ran to the end.
pub const OK: u8 = 0;
/// The pass ran but something failed (details logged and recorded).
pub const FAILED: u8 = 1;
/// Usage or configuration error: fix the command line or the config.
pub const USAGE: u8 = 2;
/// EX_TEMPFAIL: another run holds the lock (or a product reset is in progress); cron
/// should simply try again.
pub const TEMPFAIL: u8 = 75;

/// A command-line or setup problem the user must fix (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A write beyond a file-size limit (`ulimit -f`) kills the process with SIGXFSZ by
/// default: no message, the pass left "never finished". Ignored, the write fails with
/// EFBIG instead and [`message`] says what happened.
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN at startup, before any thread
    // exists, has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// The one line the user sees: the cause chain with each cause once (errors that quote
/// their source would otherwise repeat it), and the likely fix when a write failed
/// for want of space.
pub fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    if err.chain().any(is_out_of_space) {
        text.push_str(
            "; the disk is full or a file-size limit (ulimit -f, systemd LimitFSIZE) stopped \
             the write: free space or raise the limit, then run again (nothing is lost: the \
             next pass carries on)",
        );
    }
    text
}

fn is_out_of_space(cause: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(e) = cause.downcast_ref::<std::io::Error>() {
        return e
            .raw_os_error()
            .is_some_and(|n| n == libc::EFBIG || n == libc::ENOSPC);
    }
    // SQLite reports a refused write as "disk full" or a write I/O error.
    cause
        .downcast_ref::<rusqlite::Error>()
        .and_then(rusqlite::Error::sqlite_error)
        .is_some_and(|e| {
            e.code == rusqlite::ErrorCode::DiskFull
                || e.extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE
                // Growing the -shm file beside the database (opening it in WAL mode).
                || e.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE
        })
}

pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<ConfigError>() || cause.is::<UsageError>() {
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<LockError>() {
            return match e {
                LockError::Held { .. } => TEMPFAIL,
                LockError::Io { .. } => FAILED,
            };
        }
        // A damaged, foreign or newer database file: a person moves it aside, points
        // `database` elsewhere or upgrades; running again changes nothing.
        if cause
            .downcast_ref::<DbError>()
            .is_some_and(DbError::is_unusable_file)
        {
            return USAGE;
        }
    }
    FAILED
}
