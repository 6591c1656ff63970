-- skubridge schema 5: order lines with a quantity, their states in channel-neutral words.
-- A one-unit item (The Iconic) is a line of 1 keyed by the item's id, so every order,
-- line and fulfilment claim of schema 4 carries over unchanged.

CREATE TABLE order_lines (
    channel       TEXT NOT NULL,
    order_id      TEXT NOT NULL,
    line_id       TEXT NOT NULL,
    sku           TEXT NOT NULL,
    quantity      INTEGER NOT NULL,
    -- open (waits for the seller), ready_to_ship, shipped, delivered, cancelled, failed,
    -- or a state skubridge has no word for, as the channel writes it.
    state         TEXT NOT NULL,
    -- What the customer paid per unit (decimal string).
    unit_price    TEXT NOT NULL,
    -- 1: the Shopify order was created from this line (what fulfilment pushes back).
    imported      INTEGER NOT NULL DEFAULT 0,
    -- The Shopify fulfilment this line was pushed (or is being pushed) with.
    fulfilment_id TEXT,
    PRIMARY KEY (channel, order_id, line_id),
    FOREIGN KEY (channel, order_id) REFERENCES orders (channel, order_id) ON DELETE CASCADE
) WITHOUT ROWID;

INSERT INTO order_lines (channel, order_id, line_id, sku, quantity, state, unit_price,
                         imported, fulfilment_id)
SELECT channel, order_id, item_id, sku, 1,
       CASE status WHEN 'pending' THEN 'open' WHEN 'canceled' THEN 'cancelled' ELSE status END,
       paid_price, imported, fulfilment_id
  FROM order_items;

DROP TABLE order_items;
