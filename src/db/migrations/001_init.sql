-- skubridge schema 1: catalog mirror, matches, stock pushed, watermarks, runs.

CREATE TABLE shopify_locations (
    location_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    is_active   INTEGER NOT NULL,
    -- 1 when its `available` counts toward channel stock (configured, or all active).
    counted     INTEGER NOT NULL
);

CREATE TABLE shopify_variants (
    variant_id        TEXT PRIMARY KEY,
    sku               TEXT,
    inventory_item_id TEXT NOT NULL,
    tracked           INTEGER NOT NULL,
    product_id        TEXT NOT NULL,
    product_status    TEXT NOT NULL,
    updated_at        TEXT
);
CREATE INDEX shopify_variants_sku ON shopify_variants (sku);
CREATE INDEX shopify_variants_item ON shopify_variants (inventory_item_id);

CREATE TABLE shopify_levels (
    inventory_item_id TEXT NOT NULL,
    location_id       TEXT NOT NULL,
    available         INTEGER NOT NULL,
    updated_at        TEXT,
    PRIMARY KEY (inventory_item_id, location_id)
) WITHOUT ROWID;

CREATE TABLE channel_listings (
    channel    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    sku        TEXT NOT NULL,
    status     TEXT NOT NULL,
    parent_id  TEXT,
    updated_at TEXT,
    PRIMARY KEY (channel, product_id)
) WITHOUT ROWID;
CREATE INDEX channel_listings_sku ON channel_listings (channel, sku);

-- A channel listing and the Shopify variant with the byte-identical SKU.
CREATE TABLE matches (
    channel           TEXT NOT NULL,
    product_id        TEXT NOT NULL,
    sku               TEXT NOT NULL,
    variant_id        TEXT NOT NULL,
    inventory_item_id TEXT NOT NULL,
    matched_at        TEXT NOT NULL,
    PRIMARY KEY (channel, product_id)
) WITHOUT ROWID;
CREATE INDEX matches_item ON matches (inventory_item_id);

-- The last quantity the channel accepted per listing: skubridge is the only writer of
-- channel stock, so steady-state passes diff against this instead of reading it back.
CREATE TABLE stock_pushed (
    channel    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity   INTEGER NOT NULL,
    pushed_at  TEXT NOT NULL,
    PRIMARY KEY (channel, product_id)
) WITHOUT ROWID;

-- The latest refusal per listing; the same quantity is not offered again until it
-- changes or the next reconcile.
CREATE TABLE stock_refused (
    channel    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    sku        TEXT NOT NULL,
    quantity   INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    refused_at TEXT NOT NULL,
    PRIMARY KEY (channel, product_id)
) WITHOUT ROWID;

CREATE TABLE watermarks (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT NOT NULL,
    dry_run     INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER,
    -- ok | failed | NULL while running (or killed)
    outcome     TEXT,
    requests    TEXT,
    error       TEXT
);

CREATE TABLE sync_steps (
    run_id      INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    channel     TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    counts      TEXT NOT NULL,
    error       TEXT,
    PRIMARY KEY (run_id, step, channel)
);
