-- skubridge schema 2: the email outbox, and when each problem was last mailed.

-- One email to send. Sent rows stay (sent_at set) as the record of what was mailed.
CREATE TABLE notify_outbox (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    -- Without the footer: that names the shop, which is only known when sending.
    body           TEXT NOT NULL,
    -- Digests: how long until the same problems are mailed again (said in the footer);
    -- NULL for one-off messages.
    repeat_after_s INTEGER,
    queued_at      TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    sent_at        TEXT
);
CREATE INDEX notify_outbox_unsent ON notify_outbox (id) WHERE sent_at IS NULL;

-- When each problem (kind, key) was last put in a digest; within the repeat window it is
-- left out of the next one. Rows older than the window are deleted as digests are queued.
CREATE TABLE notify_items (
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    notified_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
