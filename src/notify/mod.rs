//! Notifications: everything a human must act on becomes an email, queued in a durable
//! outbox and sent at the end of a pass (design §10).
//!
//! Per pass the engine calls [`queue_digest`] once per kind of problem (each problem an
//! [`Item`] with a stable key), [`queue_message`] for one-off news, then [`flush`]. A problem
//! is mailed once, and again only after the repeat window if it is still there.

mod outbox;
mod send;

use chrono::{DateTime, Duration, Utc};

use crate::clock::rfc3339;
use crate::db::{Db, DbError};

pub use send::{check, flush, FlushOutcome};

/// One kind of problem and how to explain it to a merchant.
pub struct Digest {
    /// "unmatched", "stock_refused", "step_failed", ...: the dedupe namespace of the keys.
    pub kind: &'static str,
    /// Like "{count} listings on iconic are not syncing stock". [`COUNT`] is replaced by the
    /// number of items in this email, which is fewer than passed when some were already
    /// mailed within the repeat window.
    pub subject: String,
    /// What happened, in plain words; [`COUNT`] is replaced as in `subject`.
    pub intro: String,
    /// What to do.
    pub action: String,
}

/// One problem: `key` identifies it across passes (like "iconic:HP-TOTE_BLK"), `line`
/// describes it in one human line.
pub struct Item {
    pub key: String,
    pub line: String,
}

/// Placeholder in a digest's subject and intro for the number of items in that email.
pub const COUNT: &str = "{count}";

/// Item lines listed in one email; the rest are counted, so a first run with thousands of
/// unmatched SKUs is still one readable email (the CLI lists them all).
const MAX_LISTED: usize = 200;

/// Queues one email listing every item of `digest.kind` not already mailed within
/// `repeat_after` (`None`: never mailed twice), and records them as mailed. Returns how
/// many items it lists; 0 means nothing was queued.
pub fn queue_digest(
    db: &Db,
    now: DateTime<Utc>,
    repeat_after: Option<Duration>,
    digest: &Digest,
    items: &[Item],
) -> Result<usize, DbError> {
    let at = rfc3339(now);
    // A window reaching before chrono's first date covers every stored time.
    let cutoff = rfc3339(
        repeat_after
            .and_then(|r| now.checked_sub_signed(r))
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    );
    db.write(|c| {
        let keys = items.iter().map(|i| i.key.as_str());
        let fresh: Vec<&Item> = outbox::unnotified(c, digest.kind, &cutoff, keys)?
            .into_iter()
            .map(|i| &items[i])
            .collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        let count = fresh.len().to_string();
        outbox::insert(
            c,
            &outbox::NewRow {
                kind: digest.kind,
                subject: &digest.subject.replace(COUNT, &count),
                body: &digest_body(digest, &fresh),
                repeat_after_s: repeat_after.map(|r| r.num_seconds()),
                queued_at: &at,
            },
        )?;
        outbox::mark_notified(c, digest.kind, &at, fresh.iter().map(|i| i.key.as_str()))?;
        Ok(fresh.len())
    })
}

/// Queues a one-off message that is never de-duplicated (e.g. "Product reset complete").
pub fn queue_message(
    db: &Db,
    now: DateTime<Utc>,
    kind: &'static str,
    subject: &str,
    body: &str,
) -> Result<(), DbError> {
    db.write(|c| {
        outbox::insert(
            c,
            &outbox::NewRow {
                kind,
                subject,
                body,
                repeat_after_s: None,
                queued_at: &rfc3339(now),
            },
        )
    })
}

/// Emails queued and not yet sent.
pub fn pending(db: &Db) -> Result<usize, DbError> {
    outbox::count_unsent(db)
}

/// An email waiting to be sent, as a person sees it listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub queued_at: String,
    pub subject: String,
}

/// The emails not sent yet, oldest first.
pub fn queued(db: &Db) -> Result<Vec<Queued>, DbError> {
    Ok(outbox::unsent(db)?
        .into_iter()
        .map(|r| Queued {
            queued_at: r.queued_at,
            subject: r.subject,
        })
        .collect())
}

/// Intro, the item lines as a list, then what to do. The footer is added when sending.
fn digest_body(digest: &Digest, items: &[&Item]) -> String {
    let count = items.len().to_string();
    let mut body = format!("{}\n\n", digest.intro.trim_end().replace(COUNT, &count));
    for item in items.iter().take(MAX_LISTED) {
        body.push_str("- ");
        body.push_str(&one_line(&item.line));
        body.push('\n');
    }
    if items.len() > MAX_LISTED {
        body.push_str(&format!("...and {} more.\n", items.len() - MAX_LISTED));
    }
    body.push_str(&format!("\nWhat to do:\n{}\n", digest.action.trim_end()));
    body
}

/// Line breaks and other control characters (SKUs and titles come from outside) would
/// break the one-line-per-item list or a header.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_db;

    const DAY: Duration = Duration::hours(24);

    fn t(s: &str) -> DateTime<Utc> {
        crate::clock::parse(s).unwrap()
    }

    fn digest() -> Digest {
        Digest {
            kind: "unmatched",
            subject: "{count} listings on iconic are not syncing stock".into(),
            intro: "These {count} listings have no Shopify variant with the same SKU.".into(),
            action: "Fix the SKU on either side.".into(),
        }
    }

    fn items(skus: &[&str]) -> Vec<Item> {
        skus.iter()
            .map(|k| Item {
                key: format!("iconic:{k}"),
                line: format!("{k}: no Shopify variant"),
            })
            .collect()
    }

    /// Queues the "unmatched" digest of `list` at `at` with a one-day window.
    fn queue(db: &Db, at: &str, list: &[Item]) -> usize {
        queue_digest(db, t(at), Some(DAY), &digest(), list).unwrap()
    }

    fn bodies(db: &Db) -> Vec<(String, String)> {
        db.read(|c| {
            let mut s = c.prepare("SELECT subject, body FROM notify_outbox ORDER BY id")?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .unwrap()
    }

    #[test]
    fn one_digest_row_lists_every_item() {
        let (_dir, db) = test_db();
        assert_eq!(
            queue(&db, "2026-11-02T00:00:00Z", &items(&["A", "B", "C"])),
            3
        );
        let rows = bodies(&db);
        assert_eq!(rows.len(), 1);
        let (subject, body) = &rows[0];
        assert_eq!(subject, "3 listings on iconic are not syncing stock");
        assert_eq!(
            body,
            "These 3 listings have no Shopify variant with the same SKU.\n\n\
             - A: no Shopify variant\n- B: no Shopify variant\n- C: no Shopify variant\n\n\
             What to do:\nFix the SKU on either side.\n"
        );
        assert_eq!(pending(&db).unwrap(), 1);
    }

    #[test]
    fn dedupes_within_the_window_and_mails_again_after_it() {
        let (_dir, db) = test_db();
        let list = items(&["A", "B"]);
        assert_eq!(queue(&db, "2026-11-02T00:00:00Z", &list), 2);
        // Every 5 minutes for almost a day: nothing new to say.
        assert_eq!(queue(&db, "2026-11-02T00:05:00Z", &list), 0);
        assert_eq!(queue(&db, "2026-11-02T23:59:59Z", &list), 0);
        assert_eq!(pending(&db).unwrap(), 1);
        // The window has passed and both are still there.
        assert_eq!(queue(&db, "2026-11-03T00:00:00Z", &list), 2);
        assert_eq!(pending(&db).unwrap(), 2);
        // The window counts from the last mail, not the first.
        assert_eq!(queue(&db, "2026-11-03T12:00:00Z", &list), 0);
    }

    #[test]
    fn an_item_already_notified_is_left_out() {
        let (_dir, db) = test_db();
        queue(&db, "2026-11-02T00:00:00Z", &items(&["A"]));
        assert_eq!(queue(&db, "2026-11-02T01:00:00Z", &items(&["A", "B"])), 1);
        let (subject, body) = &bodies(&db)[1];
        assert_eq!(subject, "1 listings on iconic are not syncing stock");
        assert!(body.contains("- B: no Shopify variant"), "{body}");
        assert!(!body.contains("- A:"), "{body}");
    }

    #[test]
    fn kinds_are_deduplicated_separately() {
        let (_dir, db) = test_db();
        queue(&db, "2026-11-02T00:00:00Z", &items(&["A"]));
        let refused = Digest {
            kind: "stock_refused",
            ..digest()
        };
        let now = t("2026-11-02T00:00:00Z");
        assert_eq!(
            queue_digest(&db, now, Some(DAY), &refused, &items(&["A"])).unwrap(),
            1
        );
    }

    #[test]
    fn a_repeated_key_in_one_call_is_listed_once() {
        let (_dir, db) = test_db();
        assert_eq!(
            queue(&db, "2026-11-02T00:00:00Z", &items(&["A", "B", "A"])),
            2
        );
        assert_eq!(bodies(&db)[0].1.matches("- A:").count(), 1);
    }

    #[test]
    fn a_huge_digest_is_one_email_with_a_capped_list() {
        let (_dir, db) = test_db();
        let skus: Vec<String> = (0..500).map(|i| format!("SKU-{i:03}")).collect();
        let list = items(&skus.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(queue(&db, "2026-11-02T00:00:00Z", &list), 500);
        let rows = bodies(&db);
        assert_eq!(rows.len(), 1);
        let (subject, body) = &rows[0];
        assert!(subject.starts_with("500 listings"), "{subject}");
        let listed = body.lines().filter(|l| l.starts_with("- ")).count();
        assert_eq!(listed, MAX_LISTED);
        assert!(
            body.contains("- SKU-199:") && !body.contains("SKU-200"),
            "{body}"
        );
        assert!(body.contains("...and 300 more.\n"), "{body}");
    }

    #[test]
    fn item_lines_stay_on_one_line() {
        let (_dir, db) = test_db();
        let list = [Item {
            key: "k".into(),
            line: "BAD\nSKU\r\twith breaks".into(),
        }];
        queue(&db, "2026-11-02T00:00:00Z", &list);
        assert!(bodies(&db)[0].1.contains("- BAD SKU  with breaks\n"));
    }

    #[test]
    fn an_enormous_window_does_not_overflow() {
        let (_dir, db) = test_db();
        let now = t("2026-11-02T00:00:00Z");
        let list = items(&["A"]);
        assert_eq!(
            queue_digest(&db, now, Some(Duration::MAX), &digest(), &list).unwrap(),
            1
        );
        assert_eq!(
            queue_digest(&db, now, Some(Duration::MAX), &digest(), &list).unwrap(),
            0
        );
    }

    #[test]
    fn messages_are_never_deduplicated() {
        let (_dir, db) = test_db();
        let now = t("2026-11-02T00:00:00Z");
        for _ in 0..2 {
            queue_message(&db, now, "reset", "Product reset complete", "12 matched.").unwrap();
        }
        assert_eq!(pending(&db).unwrap(), 2);
        let expected = ("Product reset complete".into(), "12 matched.".into());
        assert_eq!(bodies(&db)[1], expected);
    }
}
