-- skubridge schema 7: product tags, for channels that are offered only the variants of
-- products carrying a tag (`only_tagged`).

-- JSON array of the product's tags as Shopify sends them; NULL: not read yet.
ALTER TABLE shopify_variants ADD COLUMN product_tags TEXT;

-- Every variant is read again on the next pass, so each row gets its tags.
DELETE FROM watermarks WHERE name = 'products.shopify';
