-- skubridge schema 4: Shopify fulfilments pushed back to the channels.

-- One row per Shopify fulfilment of an imported order: what was (or was to be) pushed.
CREATE TABLE fulfilments (
    channel         TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    -- Shopify's Fulfillment GID.
    fulfilment_id   TEXT NOT NULL,
    -- pushing: sent, outcome not known yet; pushed; failed (reason).
    state           TEXT NOT NULL,
    company         TEXT,
    tracking_number TEXT,
    -- The channel's shipment provider name it was pushed with.
    provider        TEXT,
    -- Company, number and line quantities as read from Shopify: a failed push is
    -- tried again only when this changes (or on `fulfil --retry-failed`).
    fingerprint     TEXT NOT NULL,
    reason          TEXT,
    attempted_at    TEXT NOT NULL,
    pushed_at       TEXT,
    PRIMARY KEY (channel, order_id, fulfilment_id),
    FOREIGN KEY (channel, order_id) REFERENCES orders (channel, order_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX fulfilments_state ON fulfilments (state);

-- The fulfilment a channel item was pushed with (set when the push is sent).
ALTER TABLE order_items ADD COLUMN fulfilment_id TEXT;
