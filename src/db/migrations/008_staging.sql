-- skubridge schema 8: full reads are staged on disk and swapped in whole once complete,
-- so a catalogue of any size is never held in memory, and a read cut off leaves the
-- previous mirror as it was. Empty between reads.

-- Shopify's catalogue as the bulk result's lines arrive.
CREATE TABLE staged_variants (
    variant_id        TEXT PRIMARY KEY,
    sku               TEXT,
    inventory_item_id TEXT NOT NULL,
    tracked           INTEGER NOT NULL,
    product_id        TEXT NOT NULL,
    product_status    TEXT NOT NULL,
    updated_at        TEXT,
    product_tags      TEXT
);
CREATE INDEX staged_variants_item ON staged_variants (inventory_item_id);

-- A level names its parent (the variant, or its inventory item) and is linked to the
-- item once every line is in: the file's lines come in no promised order.
-- Keyed by line, so reading them in file order needs no sort.
CREATE TABLE staged_levels (
    line        INTEGER PRIMARY KEY,
    parent_id   TEXT NOT NULL,
    location_id TEXT NOT NULL,
    available   INTEGER NOT NULL,
    updated_at  TEXT
);

-- A channel's listings as its pages arrive.
CREATE TABLE staged_listings (
    channel    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    sku        TEXT NOT NULL,
    status     TEXT NOT NULL,
    parent_id  TEXT,
    updated_at TEXT,
    PRIMARY KEY (channel, product_id)
) WITHOUT ROWID;

-- A channel's matches as a re-match finds them, compared with the stored ones (to
-- tell which were lost) before they replace them.
CREATE TABLE staged_matches (
    channel           TEXT NOT NULL,
    product_id        TEXT NOT NULL,
    sku               TEXT NOT NULL,
    variant_id        TEXT NOT NULL,
    inventory_item_id TEXT NOT NULL,
    PRIMARY KEY (channel, product_id)
) WITHOUT ROWID;
