-- A retried send is found by its conversation and the client's message id, which only a visitor's
-- message carries: the unique index now holds those alone (storing an answer, an agent's reply or a note
-- no longer writes it), with tenant_id in front for distribution. Being partial, it no longer serves
-- reads of a conversation's messages by position, where PostgreSQL, its statistics expecting short
-- conversations, used it to read every message of a long one and sort them; (conversation_id, seq)
-- reads just the window asked for.
ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_client_message_id_key;
CREATE UNIQUE INDEX messages_client_message_id ON messages (tenant_id, conversation_id, client_message_id)
  WHERE client_message_id IS NOT NULL;
