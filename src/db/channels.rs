//! What is known per channel (migration 006): the fingerprint its matches were made
//! against, where order imports start, the last reconcile, its cached carrier list.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{Db, DbError};
use crate::clock;

/// One channel's facts; absent ones are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelState {
    pub fingerprint: Option<String>,
    pub orders_since: Option<DateTime<Utc>>,
    pub reconciled_at: Option<DateTime<Utc>>,
    /// The carrier list as JSON, and when it was read.
    pub carriers: Option<(String, DateTime<Utc>)>,
}

pub fn get(db: &Db, channel: &str) -> Result<ChannelState, DbError> {
    let row = db.read(|c| {
        c.query_row(
            "SELECT fingerprint, orders_since, reconciled_at, carriers, carriers_at
               FROM channel_state WHERE channel = ?1",
            [channel],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()
    })?;
    let Some((fingerprint, since, reconciled, carriers, carriers_at)) = row else {
        return Ok(ChannelState::default());
    };
    let time = |t: Option<String>| t.as_deref().and_then(clock::parse);
    Ok(ChannelState {
        fingerprint,
        orders_since: time(since),
        reconciled_at: time(reconciled),
        carriers: carriers.zip(time(carriers_at)),
    })
}

/// Sets one column of the channel's row (made if absent).
fn set(db: &Db, channel: &str, column: &str, value: Option<&str>) -> Result<(), DbError> {
    db.write(|c| {
        c.execute(
            &format!(
                "INSERT INTO channel_state (channel, {column}) VALUES (?1, ?2)
                 ON CONFLICT (channel) DO UPDATE SET {column} = excluded.{column}"
            ),
            params![channel, value],
        )
        .map(drop)
    })
}

pub fn set_fingerprint(db: &Db, channel: &str, fingerprint: &str) -> Result<(), DbError> {
    set(db, channel, "fingerprint", Some(fingerprint))
}

pub fn set_orders_since(db: &Db, channel: &str, t: DateTime<Utc>) -> Result<(), DbError> {
    set(db, channel, "orders_since", Some(&clock::rfc3339(t)))
}

/// When every target was pushed again; `None` makes the next pass reconcile.
pub fn set_reconciled(db: &Db, channel: &str, t: Option<DateTime<Utc>>) -> Result<(), DbError> {
    set(
        db,
        channel,
        "reconciled_at",
        t.map(clock::rfc3339).as_deref(),
    )
}

pub fn set_carriers(db: &Db, channel: &str, json: &str, at: DateTime<Utc>) -> Result<(), DbError> {
    db.atomically(|| {
        set(db, channel, "carriers", Some(json))?;
        set(db, channel, "carriers_at", Some(&clock::rfc3339(at)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_db;

    #[test]
    fn facts_are_kept_per_channel() {
        let (_d, db) = test_db();
        assert_eq!(get(&db, "iconic").unwrap(), ChannelState::default());
        let t = clock::parse("2026-11-30T00:00:00Z").unwrap();
        set_fingerprint(&db, "iconic", "https://x id live").unwrap();
        set_orders_since(&db, "iconic", t).unwrap();
        set_reconciled(&db, "iconic", Some(t)).unwrap();
        set_carriers(&db, "iconic", "[]", t).unwrap();
        set_fingerprint(&db, "other", "f").unwrap();
        let s = get(&db, "iconic").unwrap();
        assert_eq!(s.fingerprint.as_deref(), Some("https://x id live"));
        assert_eq!((s.orders_since, s.reconciled_at), (Some(t), Some(t)));
        assert_eq!(s.carriers, Some(("[]".to_string(), t)));
        set_reconciled(&db, "iconic", None).unwrap();
        assert_eq!(get(&db, "iconic").unwrap().reconciled_at, None);
        assert_eq!(get(&db, "other").unwrap().orders_since, None);
    }
}
