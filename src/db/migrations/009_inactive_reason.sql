-- Why the channel keeps a listing off sale, in its own words (Mirakl's inactivity
-- reasons), for `unmatched`.
ALTER TABLE channel_listings ADD COLUMN inactive_reason TEXT;
ALTER TABLE staged_listings ADD COLUMN inactive_reason TEXT;
