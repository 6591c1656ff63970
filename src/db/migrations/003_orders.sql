-- skubridge schema 3: channel orders and what became of them in Shopify.

-- One row per channel order skubridge has seen (created after import_orders_since).
CREATE TABLE orders (
    channel       TEXT NOT NULL,
    order_id      TEXT NOT NULL,
    number        TEXT NOT NULL,
    -- pending: not created yet, nothing wrong; held: cannot be created (reason);
    -- creating: orderCreate may have been sent, outcome unknown until looked up;
    -- imported; failed: Shopify refused it (reason); items_changed: frozen, a person
    -- processes it; cancelled: cancelled on the channel.
    state         TEXT NOT NULL,
    reason        TEXT,
    -- On the channel.
    created_at    TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    -- When orderCreate was last sent (or about to be).
    attempt_at    TEXT,
    imported_at   TEXT,
    shopify_id    TEXT,
    shopify_name  TEXT,
    -- 1: found already in Shopify (another install, or a database restored from backup).
    adopted       INTEGER NOT NULL DEFAULT 0,
    currency      TEXT,
    -- Decimal strings: what skubridge asked Shopify to charge, the channel's grand total,
    -- and Shopify's total once created.
    value         TEXT,
    channel_total TEXT,
    shopify_total TEXT,
    -- 1 while the order is open on the channel and is re-read every pass.
    watching      INTEGER NOT NULL DEFAULT 1,
    -- When a person was told the Shopify order's lines were edited after import.
    edited_at     TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (channel, order_id)
) WITHOUT ROWID;
CREATE INDEX orders_state ON orders (channel, state);
CREATE INDEX orders_created ON orders (created_at);

-- The channel's one-unit items of each order, as last seen; `imported` marks the items
-- the Shopify order was created from (what fulfilment pushes back).
CREATE TABLE order_items (
    channel    TEXT NOT NULL,
    order_id   TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    sku        TEXT NOT NULL,
    status     TEXT NOT NULL,
    paid_price TEXT NOT NULL,
    imported   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, order_id, item_id),
    FOREIGN KEY (channel, order_id) REFERENCES orders (channel, order_id) ON DELETE CASCADE
) WITHOUT ROWID;

-- Order lines find their variant by the channel's SKU.
CREATE INDEX matches_sku ON matches (channel, sku);
