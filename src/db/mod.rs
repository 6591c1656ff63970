//! The SQLite state file: opened once per run (WAL, busy timeout, foreign keys),
//! migrated forward-only, one module per table group.

pub mod catalog;
pub mod channels;
pub mod fulfilments;
pub mod meta;
pub mod orders;
pub mod runs;
pub mod stock;

use std::cell::RefCell;
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
    include_str!("migrations/008_staging.sql"),
    include_str!("migrations/009_inactive_reason.sql"),
    include_str!("migrations/010_tracking_url.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database {path} was written by a newer skubridge (schema version {found}; this build knows up to {known}) and is left unchanged: upgrade skubridge to the release that wrote it, or a later one")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    /// SQLite cannot read the file: random bytes, a file cut short, a damaged page.
    #[error(
        "database {path} is damaged or not a database ({reason}); {}",
        way_back(path)
    )]
    Unusable { path: String, reason: String },
    /// A readable SQLite file that skubridge did not write: never migrated into.
    #[error("database {path} is not a skubridge database but another program's SQLite file ({what}), and is left unchanged; point `database` in the config (or --db) at skubridge's file, or if this is where skubridge's database was, {}", way_back(path))]
    Foreign { path: String, what: String },
    /// Storage refused this connection earlier in the run (see [`Db::check`]).
    #[error("database {path}: a write failed earlier in this run, so the run records nothing more and changes nothing more: {source}")]
    Halted {
        path: String,
        source: rusqlite::Error,
    },
}

impl DbError {
    /// The file itself is the problem (damaged, foreign, too new): the person must act,
    /// running again changes nothing.
    pub fn is_unusable_file(&self) -> bool {
        matches!(
            self,
            Self::TooNew { .. } | Self::Unusable { .. } | Self::Foreign { .. }
        )
    }
}

/// How to get going again without the database at `path`: a new one recovers from
/// Shopify (see README "Losing the database").
pub fn way_back(path: &str) -> String {
    // Whole, so the command works from any directory.
    let path =
        std::path::absolute(path).map_or_else(|_| path.to_string(), |p| p.display().to_string());
    let q = shell_quote(&path);
    let aside = shell_quote(&format!("{path}.corrupt"));
    format!(
        "move it aside (`mv {q} {aside}`, and its -wal file too if there is one) and run `skubridge sync`: a new database adopts every order skubridge already created in Shopify and matches products again, so nothing is created twice (or copy a backup made by `skubridge backup` into its place)"
    )
}

fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// SQLite's verdict that the file's content cannot be read as a database.
fn unreadable(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Storage failed under the file: disk full, a file-size limit, an I/O error, a file or
/// directory that became read-only.
fn storage_failure(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::DiskFull
                | rusqlite::ErrorCode::SystemIoFailure
                | rusqlite::ErrorCode::ReadOnly
        )
    )
}

/// The table every skubridge schema has had since the first.
const MARKER_TABLE: &str = "sync_runs";

pub struct Db {
    conn: Connection,
    path: PathBuf,
    /// The first storage failure or damage met on this connection (its SQLite error),
    /// after which nothing more is read or written: see [`Db::check`].
    refused: RefCell<Option<(rusqlite::ffi::Error, String)>>,
}

impl Db {
    /// Opens the state file, creating it when missing, and migrates it forward. A file
    /// skubridge cannot use (damaged, another program's, written by a newer release) is
    /// refused before anything is written to it.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let shown = path.display().to_string();
        let wrap = |source: rusqlite::Error| {
            if unreadable(&source) {
                DbError::Unusable {
                    path: shown.clone(),
                    reason: source.to_string(),
                }
            } else {
                DbError::Sqlite {
                    path: shown.clone(),
                    source,
                }
            }
        };
        let fresh = !path.exists();
        let conn = Connection::open(path).map_err(wrap)?;
        if fresh {
            restrict_permissions(path);
        }
        conn.busy_timeout(Duration::from_secs(10)).map_err(wrap)?;
        // What the file holds, read before any write (even switching it to WAL).
        let (found, tables) = inspect(&conn).map_err(wrap)?;
        let known = MIGRATIONS.len() as i64;
        let empty = found == 0 && tables.is_empty();
        if !empty && (found == 0 || !tables.iter().any(|t| t == MARKER_TABLE)) {
            let mut listed: Vec<&str> = tables.iter().map(String::as_str).take(5).collect();
            if tables.len() > listed.len() {
                listed.push("…");
            }
            return Err(DbError::Foreign {
                path: shown,
                what: format!(
                    "schema version {found}, tables: {}",
                    if listed.is_empty() {
                        "none".to_string()
                    } else {
                        listed.join(", ")
                    }
                ),
            });
        }
        if found > known {
            return Err(DbError::TooNew {
                path: shown,
                found,
                known,
            });
        }
        // Temporary storage on file (SQLite keeps it in memory until it outgrows a small
        // cache): a statement replacing a million-row mirror journals the pages it
        // changes, and in memory that alone took 300 MiB.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
             PRAGMA temp_store = FILE;",
        )
        .map_err(wrap)?;
        let db = Self {
            conn,
            path: path.to_path_buf(),
            refused: RefCell::new(None),
        };
        db.migrate(found)?;
        Ok(db)
    }

    fn migrate(&self, found: i64) -> Result<(), DbError> {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = i as i64 + 1;
            self.write(|c| {
                c.execute_batch(sql)?;
                c.pragma_update(None, "user_version", version)
            })?;
        }
        Ok(())
    }

    /// Copies the whole database into `dest` (a new or empty file) with SQLite's online
    /// backup: one read transaction, so the copy is one consistent moment even while a
    /// pass writes (WAL: the reader blocks no writer), then checks the copy.
    pub fn copy_to(&self, dest: &Path) -> Result<(), DbError> {
        use rusqlite::backup::{Backup, StepResult};
        let shown = dest.display().to_string();
        let wrap = |source| DbError::Sqlite {
            path: shown.clone(),
            source,
        };
        // A step fails on either side: name both.
        let copying = |source| DbError::Sqlite {
            path: format!("{} (copying it to {shown})", self.path.display()),
            source,
        };
        let mut to = Connection::open(dest).map_err(wrap)?;
        {
            let backup = Backup::new(&self.conn, &mut to).map_err(copying)?;
            let patience = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                match backup.step(-1).map_err(copying)? {
                    StepResult::Done => break,
                    StepResult::Busy | StepResult::Locked
                        if std::time::Instant::now() < patience =>
                    {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    StepResult::Busy | StepResult::Locked => {
                        return Err(copying(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some("the database stayed locked for 30 s".into()),
                        )));
                    }
                    // Only pages so far: step again.
                    _ => {}
                }
            }
        }
        let verdict: String = to
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(wrap)?;
        if verdict != "ok" {
            return Err(DbError::Unusable {
                path: shown,
                reason: format!("the copy fails its integrity check: {verdict}"),
            });
        }
        to.close().map_err(|(_, e)| wrap(e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Fails once storage has refused this connection (disk full, `ulimit -f`, an I/O
    /// error, a read-only file) or a damaged page was met. The engine commits a remote
    /// change's intent before making it; after one refused write a later intent might
    /// land in a transaction SQLite left open and never commit, or a step might act on
    /// state that was never recorded. So every later read and write fails at once:
    /// each step stops at its first database access, before any remote change, and the
    /// next pass carries on.
    pub fn check(&self) -> Result<(), DbError> {
        let Some((code, message)) = &*self.refused.borrow() else {
            return Ok(());
        };
        let source = rusqlite::Error::SqliteFailure(*code, Some(message.clone()));
        let path = self.path.display().to_string();
        Err(if unreadable(&source) {
            DbError::Unusable {
                path,
                reason: source.to_string(),
            }
        } else {
            DbError::Halted { path, source }
        })
    }

    fn err(&self, source: rusqlite::Error) -> DbError {
        // Damage counts too: writing on would spread it.
        if storage_failure(&source) || unreadable(&source) {
            if let rusqlite::Error::SqliteFailure(code, message) = &source {
                let message = message.clone().unwrap_or_else(|| code.to_string());
                self.refused.borrow_mut().get_or_insert((*code, message));
            }
        }
        let path = self.path.display().to_string();
        // Damage found after opening (a bad page deep in the file) says the way back too.
        if unreadable(&source) {
            return DbError::Unusable {
                path,
                reason: source.to_string(),
            };
        }
        DbError::Sqlite { path, source }
    }

    /// Runs `f` atomically. Savepoints nest, so a dry run can wrap a whole pass in one
    /// and roll everything back.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        self.check()?;
        self.conn
            .execute_batch("SAVEPOINT w")
            .map_err(|e| self.err(e))?;
        match f(&self.conn) {
            Ok(v) => {
                if let Err(e) = self.conn.execute_batch("RELEASE w") {
                    // A commit the disk refused: nothing of it stays pending.
                    let _ = self.conn.execute_batch("ROLLBACK TO w; RELEASE w");
                    return Err(self.err(e));
                }
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
        self.check()?;
        f(&self.conn).map_err(|e| self.err(e))
    }

    /// Runs `f` so that every write it makes lands together or not at all (a process
    /// killed midway leaves the previous state).
    pub fn atomically<T, E: From<DbError>>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        self.check()?;
        self.conn
            .execute_batch("SAVEPOINT atomic")
            .map_err(|e| self.err(e))?;
        match f() {
            Ok(v) => {
                if let Err(e) = self.conn.execute_batch("RELEASE atomic") {
                    let _ = self
                        .conn
                        .execute_batch("ROLLBACK TO atomic; RELEASE atomic");
                    return Err(self.err(e).into());
                }
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
        self.check()?;
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

/// The schema version and skubridge's idea of the file's tables (SQLite's own left out).
fn inspect(conn: &Connection) -> rusqlite::Result<(i64, Vec<String>)> {
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
          ORDER BY name",
    )?;
    let tables = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok((version, tables))
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
        let path = dir.path().join("t.db");
        let before = std::fs::read(&path).unwrap();
        let err = Db::open(&path).err().unwrap();
        assert!(matches!(err, DbError::TooNew { found: 99, .. }));
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("newer skubridge"), "{text}");
        assert!(text.contains("upgrade skubridge"), "{text}");
        assert!(err.is_unusable_file());
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    /// A file SQLite cannot read is refused, named, with the way back, and not touched.
    fn refused_unchanged(path: &Path) -> DbError {
        let before = std::fs::read(path).unwrap();
        let err = Db::open(path).err().expect("refused");
        assert!(err.is_unusable_file(), "{err}");
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(
            text.contains(".corrupt`") && text.contains("run `skubridge sync`"),
            "{text}"
        );
        assert_eq!(std::fs::read(path).unwrap(), before, "the file changed");
        err
    }

    #[test]
    fn refuses_random_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut rng = fastrand::Rng::with_seed(7);
        let noise: Vec<u8> = std::iter::repeat_with(|| rng.u8(..))
            .take(64 * 1024)
            .collect();
        std::fs::write(&path, noise).unwrap();
        let err = refused_unchanged(&path);
        assert!(matches!(err, DbError::Unusable { .. }), "{err}");
        assert!(err.to_string().contains("not a database"), "{err}");
    }

    #[test]
    fn refuses_a_database_cut_in_half() {
        let (dir, db) = test_db();
        // Enough rows for the file to span many pages.
        for i in 0..2000 {
            meta::set_watermark(&db, &format!("k{i}"), &"x".repeat(100)).unwrap();
        }
        drop(db);
        let path = dir.path().join("t.db");
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 64 * 1024, "{}", bytes.len());
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = refused_unchanged(&path);
        assert!(matches!(err, DbError::Unusable { .. }), "{err}");
        assert!(err.to_string().contains("malformed"), "{err}");
    }

    #[test]
    fn damage_found_after_opening_says_the_way_back_too() {
        let (dir, db) = test_db();
        for i in 0..2000 {
            meta::set_watermark(&db, &format!("k{i}"), &"x".repeat(100)).unwrap();
        }
        drop(db);
        let path = dir.path().join("t.db");
        let mut bytes = std::fs::read(&path).unwrap();
        // The last page holds watermarks rows, not the schema: the file opens.
        let page = 4096;
        let last = bytes.len() - page;
        bytes[last..].fill(0xA5);
        std::fs::write(&path, &bytes).unwrap();
        let db = Db::open(&path).unwrap();
        let err = db
            .read(|c| {
                c.query_row(
                    "SELECT count(*), max(length(value)) FROM watermarks",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            })
            .unwrap_err();
        assert!(matches!(err, DbError::Unusable { .. }), "{err}");
        assert!(err.to_string().contains(".corrupt`"), "{err}");
    }

    #[test]
    fn never_migrates_into_another_programs_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT); INSERT INTO invoices VALUES (1, '9.90');")
            .unwrap();
        drop(c);
        let err = refused_unchanged(&path);
        assert!(matches!(err, DbError::Foreign { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("not a skubridge database"), "{text}");
        assert!(text.contains("tables: invoices"), "{text}");
        // Nothing was created in it, and it was not switched to WAL.
        let c = Connection::open(&path).unwrap();
        let tables: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 1);
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
    }

    #[test]
    fn a_foreign_file_with_a_schema_version_is_not_mistaken_for_ours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE notes (body TEXT); PRAGMA user_version = 3;")
            .unwrap();
        drop(c);
        assert!(matches!(refused_unchanged(&path), DbError::Foreign { .. }));
        // A newer version number, too: not "written by a newer skubridge".
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA user_version = 99;").unwrap();
        drop(c);
        assert!(matches!(refused_unchanged(&path), DbError::Foreign { .. }));
    }

    #[test]
    fn an_empty_file_or_sqlite_database_becomes_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        std::fs::write(&path, "").unwrap();
        Db::open(&path).unwrap();
        let path = dir.path().join("u.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA page_size = 4096; VACUUM;")
            .unwrap();
        let db = Db::open(&path).unwrap();
        let v: i64 = db
            .read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    #[test]
    fn the_way_back_quotes_a_path_for_the_shell() {
        assert!(way_back("/var/lib/skubridge/skubridge.db").contains(
            "`mv /var/lib/skubridge/skubridge.db /var/lib/skubridge/skubridge.db.corrupt`"
        ));
        assert!(way_back("/srv/my store/s.db")
            .contains("`mv '/srv/my store/s.db' '/srv/my store/s.db.corrupt'`"));
    }

    #[test]
    fn a_copy_is_whole_and_consistent_while_another_connection_writes() {
        let (dir, db) = test_db();
        meta::set_watermark(&db, "before", "1").unwrap();
        // Another process's open write transaction: not in the copy, and not blocked.
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        other
            .execute_batch(
                "BEGIN IMMEDIATE; INSERT INTO watermarks (name, value) VALUES ('during', '2');",
            )
            .unwrap();
        let dest = dir.path().join("copy.db");
        db.copy_to(&dest).unwrap();
        other.execute_batch("COMMIT").unwrap();
        let copy = Db::open(&dest).unwrap();
        assert_eq!(
            meta::watermark(&copy, "before").unwrap().as_deref(),
            Some("1")
        );
        assert_eq!(meta::watermark(&copy, "during").unwrap(), None);
        let v: i64 = copy
            .read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
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
    fn after_storage_refuses_a_write_nothing_more_is_read_or_written() {
        let (_dir, db) = test_db();
        meta::set_watermark(&db, "a", "1").unwrap();
        // SQLITE_READONLY, as from a file or directory that became read-only.
        db.conn.pragma_update(None, "query_only", true).unwrap();
        let err = meta::set_watermark(&db, "b", "2").unwrap_err();
        assert!(matches!(err, DbError::Sqlite { .. }), "{err}");
        db.conn.pragma_update(None, "query_only", false).unwrap();
        for err in [
            meta::watermark(&db, "a").unwrap_err(),
            meta::set_watermark(&db, "b", "2").unwrap_err(),
            db.atomically(|| meta::set_watermark(&db, "b", "2"))
                .unwrap_err(),
            db.begin_scratch().unwrap_err(),
        ] {
            assert!(matches!(err, DbError::Halted { .. }), "{err}");
            let text = err.to_string();
            assert!(
                text.contains("a write failed earlier in this run"),
                "{text}"
            );
            assert!(text.contains("readonly database"), "{text}");
            assert!(!err.is_unusable_file());
        }
    }

    #[test]
    fn a_constraint_violation_does_not_stop_the_connection() {
        let (_dir, db) = test_db();
        let err = db
            .write(|c| c.execute_batch("INSERT INTO watermarks (name) VALUES ('x')"))
            .unwrap_err();
        assert!(matches!(err, DbError::Sqlite { .. }), "{err}");
        meta::set_watermark(&db, "a", "1").unwrap();
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
