//! Watermarks: where each incremental read resumes, and when reconciles happened.

use rusqlite::{params, OptionalExtension};

use super::{Db, DbError};

pub fn watermark(db: &Db, name: &str) -> Result<Option<String>, DbError> {
    db.read(|c| {
        c.query_row(
            "SELECT value FROM watermarks WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()
    })
}

pub fn set_watermark(db: &Db, name: &str, value: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            "INSERT INTO watermarks (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )
        .map(drop)
    })
}

pub fn clear_watermark(db: &Db, name: &str) -> Result<(), DbError> {
    db.write(|c| {
        c.execute("DELETE FROM watermarks WHERE name = ?1", [name])
            .map(drop)
    })
}
