-- The tracking link Shopify had for a pushed fulfilment: a channel that takes a carrier
-- it does not list by name shows the link, also when a lost answer is sent again.
ALTER TABLE fulfilments ADD COLUMN tracking_url TEXT;
