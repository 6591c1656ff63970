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
        if let Some(DbError::TooNew { .. }) = cause.downcast_ref::<DbError>() {
            return USAGE;
        }
    }
    FAILED
}
