-- A data-subject erasure also deletes the webhook events about the person's conversations (a message's
-- text, a rating's comment), with their pending deliveries (ON DELETE CASCADE): an event not yet sent is
-- never sent after the person asked to be forgotten, and one already sent is not kept for its window.
GRANT DELETE ON webhook_events TO parley_app;
