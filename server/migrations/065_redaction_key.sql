-- Placeholder numbering no longer keeps an unkeyed hash of each value beside its salt (a dump let
-- anyone test guesses: a card with a known BIN and last four, a birth date, an SSN). Values are now
-- remembered by an HMAC under a per-conversation key, sealed here with the tenant's data key, re-sealed
-- by data key rotation and deleted with the conversation.
ALTER TABLE conversations ADD COLUMN redaction_key bytea;
GRANT UPDATE (redaction_key) ON conversations TO parley_platform;

-- Existing states: drop the salt and every fingerprint, keep only the counters so new placeholders
-- never reuse a number already in a transcript or in the vault. A value seen before this migration
-- gets a new number the next time it appears. Row security is forced on the owner too, so it is lifted
-- for this statement only, inside the migration's transaction.
ALTER TABLE conversations NO FORCE ROW LEVEL SECURITY;
UPDATE conversations
   SET redaction_state = jsonb_build_object(
         'counters', CASE WHEN jsonb_typeof(redaction_state -> 'counters') = 'object' THEN redaction_state -> 'counters' ELSE '{}'::jsonb END,
         'tokens', '{}'::jsonb)
 WHERE redaction_state <> '{}'::jsonb;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
