//! The SQLite state file: opened once per run (WAL, busy timeout, foreign keys),
//! migrated forward-only, one module per table group.

pub mod catalog;
pub mod channels;
pub mod fulfilments;
pub mod meta;
pub mod orders;
pub mod runs;
pub mod stock;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

/// Forward-only migrations; the schema version is `PRAGMA user_version`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_notify.sql"),
    include_str!("migrations/003_orders.sql"),
    include_str!("migrations/004_fulfilments.sql"),
    include_str!("migrations/005_order_lines.sql"),
    include_str!("migrations/006_channels.sql"),
    include_str!("migrations/007_product_tags.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database {path} was written by a newer skubridge (schema {found}, this build knows {known}); upgrade skubridge or point --db at another file")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
}

pub struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let wrap = |source| DbError::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let fresh = !path.exists();
        let conn = Connection::open(path).map_err(wrap)?;
        if fresh {
            restrict_permissions(path);
        }
        conn.busy_timeout(Duration::from_secs(10)).map_err(wrap)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(wrap)?;
        let db = Self {
            conn,
            path: path.to_path_buf(),
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&self) -> Result<(), DbError> {
        let known = MIGRATIONS.len() as i64;
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if found > known {
            return Err(DbError::TooNew {
                path: self.path.display().to_string(),
                found,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = i as i64 + 1;
            self.write(|c| {
                c.execute_batch(sql)?;
                c.pragma_update(None, "user_version", version)
            })?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    fn err(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Runs `f` atomically. Savepoints nest, so a dry run can wrap a whole pass in one
    /// and roll everything back.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        self.conn
            .execute_batch("SAVEPOINT w")
            .map_err(|e| self.err(e))?;
        match f(&self.conn) {
            Ok(v) => {
                self.conn
                    .execute_batch("RELEASE w")
                    .map_err(|e| self.err(e))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK TO w; RELEASE w");
                Err(self.err(e))
            }
        }
    }

    /// Reads through `f`, mapping errors to [`DbError`].
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        f(&self.conn).map_err(|e| self.err(e))
    }

    /// Runs `f` so that every write it makes lands together or not at all (a process
    /// killed midway leaves the previous state).
    pub fn atomically<T, E: From<DbError>>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("SAVEPOINT atomic")
            .map_err(|e| self.err(e))?;
        match f() {
            Ok(v) => {
                self.conn
                    .execute_batch("RELEASE atomic")
                    .map_err(|e| self.err(e))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self
                    .conn
                    .execute_batch("ROLLBACK TO atomic; RELEASE atomic");
                Err(e)
            }
        }
    }

    /// Starts a scope whose writes are all discarded by [`Db::discard`] (`--dry-run`).
    pub fn begin_scratch(&self) -> Result<(), DbError> {
        self.conn
            .execute_batch("SAVEPOINT scratch")
            .map_err(|e| self.err(e))
    }

    pub fn discard(&self) -> Result<(), DbError> {
        self.conn
            .execute_batch("ROLLBACK TO scratch; RELEASE scratch")
            .map_err(|e| self.err(e))
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // The database holds the catalog and order data: owner-only, like the config.
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) {}

#[cfg(test)]
pub(crate) fn test_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("t.db")).unwrap();
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_and_reopens() {
        let (dir, db) = test_db();
        let v: i64 = db
            .read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        drop(db);
        Db::open(&dir.path().join("t.db")).unwrap();
    }

    #[test]
    fn refuses_a_newer_database() {
        let (dir, db) = test_db();
        db.read(|c| c.pragma_update(None, "user_version", 99))
            .unwrap();
        drop(db);
        let err = Db::open(&dir.path().join("t.db")).err().unwrap();
        assert!(matches!(err, DbError::TooNew { found: 99, .. }));
        assert!(err.to_string().contains("newer skubridge"));
    }

    #[test]
    fn atomically_rolls_back_every_write_on_error() {
        let (_dir, db) = test_db();
        let r: Result<(), DbError> = db.atomically(|| {
            meta::set_watermark(&db, "a", "1")?;
            meta::set_watermark(&db, "b", "2")?;
            Err(DbError::TooNew {
                path: String::new(),
                found: 0,
                known: 0,
            })
        });
        assert!(r.is_err());
        assert_eq!(meta::watermark(&db, "a").unwrap(), None);
        db.atomically(|| meta::set_watermark(&db, "a", "1"))
            .unwrap();
        assert_eq!(meta::watermark(&db, "a").unwrap().as_deref(), Some("1"));
    }

    #[test]
    fn scratch_discards_writes() {
        let (_dir, db) = test_db();
        db.begin_scratch().unwrap();
        meta::set_watermark(&db, "x", "1").unwrap();
        db.discard().unwrap();
        assert_eq!(meta::watermark(&db, "x").unwrap(), None);
    }
}
