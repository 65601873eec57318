-- One counter per conversation for message order. Appending a message increments it with
-- UPDATE … RETURNING inside the transaction, which takes the conversation's row lock first: every
-- append (visitor, assistant, agent, API) is serialised on that row in one lock order, so concurrent
-- writers get 1..N with no duplicate key and no deadlock (max(seq)+1 raced and deadlocked).
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS last_seq integer NOT NULL DEFAULT 0;

-- Backfill from the messages already stored. Row security is forced on both tables, so the owner
-- lifts it for the length of this statement (all inside the migration's one transaction).
ALTER TABLE conversations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE messages NO FORCE ROW LEVEL SECURITY;
UPDATE conversations c SET last_seq = m.max_seq
  FROM (SELECT conversation_id, max(seq) AS max_seq FROM messages GROUP BY conversation_id) m
 WHERE m.conversation_id = c.id;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
