-- skubridge schema 6: what is known per channel gets a table of its own (watermarks
-- keep only where incremental reads resume), and asynchronous stock imports are
-- recorded before they are uploaded.

-- One row per channel that has been worked on.
CREATE TABLE channel_state (
    channel       TEXT PRIMARY KEY,
    -- What the channel's product ids are valid for (endpoint, account, environment).
    fingerprint   TEXT,
    -- Orders created before this are never imported (the first pass's time, or a
    -- recovered one).
    orders_since  TEXT,
    -- When every target was last pushed again (reconcile).
    reconciled_at TEXT,
    -- The channel's carrier list (JSON) and when it was read.
    carriers      TEXT,
    carriers_at   TEXT
) WITHOUT ROWID;

INSERT INTO channel_state (channel, fingerprint)
SELECT substr(name, length('fingerprint.') + 1), value FROM watermarks
 WHERE name LIKE 'fingerprint.%';
INSERT INTO channel_state (channel) SELECT substr(name, length('orders.since.') + 1)
  FROM watermarks WHERE name LIKE 'orders.since.%'
 ON CONFLICT (channel) DO NOTHING;
INSERT INTO channel_state (channel) SELECT substr(name, length('reconcile.') + 1)
  FROM watermarks WHERE name LIKE 'reconcile.%'
 ON CONFLICT (channel) DO NOTHING;
UPDATE channel_state SET orders_since = (SELECT value FROM watermarks
 WHERE name = 'orders.since.' || channel_state.channel);
UPDATE channel_state SET reconciled_at = (SELECT value FROM watermarks
 WHERE name = 'reconcile.' || channel_state.channel);
-- The cached carrier lists had another shape: they are read again.
DELETE FROM watermarks WHERE name LIKE 'fingerprint.%' OR name LIKE 'orders.since.%'
    OR name LIKE 'reconcile.%' OR name LIKE 'providers.%';

-- One asynchronous stock import: written (`uploading`, with its lines) before the
-- upload, so a crash cannot lose what was sent. `pending` once the channel gave its
-- id; `done` or `failed` once settled.
CREATE TABLE stock_imports (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    import_id   TEXT,
    state       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    settled_at  TEXT,
    reason      TEXT
);
CREATE INDEX stock_imports_open ON stock_imports (channel, state);

CREATE TABLE stock_import_lines (
    import     INTEGER NOT NULL REFERENCES stock_imports (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    sku        TEXT NOT NULL,
    quantity   INTEGER NOT NULL,
    PRIMARY KEY (import, product_id)
) WITHOUT ROWID;

-- Listings whose match was lost (SKU renamed, deleted or now a duplicate) while they
-- held stock skubridge pushed: each is set to 0, and leaves this table once the
-- channel has taken the 0 (a failed push of it is tried again).
CREATE TABLE lost_matches (
    channel    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    sku        TEXT NOT NULL,
    lost_at    TEXT NOT NULL,
    PRIMARY KEY (channel, product_id)
) WITHOUT ROWID;

INSERT INTO lost_matches (channel, product_id, sku, lost_at)
SELECT p.channel, p.product_id, l.sku, p.pushed_at
  FROM stock_pushed p
  JOIN channel_listings l ON l.channel = p.channel AND l.product_id = p.product_id
 WHERE p.quantity != 0
   AND NOT EXISTS (SELECT 1 FROM matches m
                    WHERE m.channel = p.channel AND m.product_id = p.product_id);
