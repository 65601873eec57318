-- Retention finds idle conversations by the hour of their last message (active_hour), no longer by an
-- index on updated_at: every stored message moves updated_at, and an indexed column that changes makes
-- the update a non-HOT one, which writes a new entry into each of the table's five indexes. The hour
-- changes at most once an hour, and an update that leaves every indexed value equal can stay on its page
-- (HOT), for which pages now keep a tenth free. active_hour never passes updated_at (a message moves both,
-- the hour truncated; a handoff or a contact left moves updated_at alone), so the retention sweep's range
-- on it finds every row its exact test on updated_at keeps, and a few more that the test then drops.
ALTER TABLE conversations ADD COLUMN active_hour timestamptz;
UPDATE conversations SET active_hour = date_trunc('hour', updated_at);
ALTER TABLE conversations ALTER COLUMN active_hour SET DEFAULT date_trunc('hour', now()), ALTER COLUMN active_hour SET NOT NULL;
DROP INDEX conversations_updated;
CREATE INDEX conversations_active_hour ON conversations (active_hour);
ALTER TABLE conversations SET (fillfactor = 90);
