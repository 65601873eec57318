-- The conversation a webhook event is about, taken from its data when it is written (one function beside
-- the event catalog knows where each type names it): a data-subject erasure deletes by this column rather
-- than by JSON paths that a new event type could add to unseen.
ALTER TABLE webhook_events ADD COLUMN conversation_id uuid;
CREATE INDEX webhook_events_conversation ON webhook_events (tenant_id, conversation_id);

-- Events written before this migration: the four places the catalog names a conversation today. Row
-- security is forced on the table, so the owner lifts it for this data step only.
ALTER TABLE webhook_events NO FORCE ROW LEVEL SECURITY;
UPDATE webhook_events w SET conversation_id = e.found::uuid
  FROM (SELECT tenant_id, id,
               coalesce(body::jsonb #>> '{data,conversationId}', body::jsonb #>> '{data,conversation,id}',
                        body::jsonb #>> '{data,handoff,conversationId}', body::jsonb #>> '{data,proposal,conversationId}') AS found
          FROM webhook_events) e
 WHERE w.tenant_id = e.tenant_id AND w.id = e.id
   AND e.found ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
