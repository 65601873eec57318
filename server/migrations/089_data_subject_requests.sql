-- Data-subject erasure runs in the tenant's own transaction (parley_app, row-level security on): it
-- deletes the person's conversations (messages, events, vault entries, handoffs and ratings go with them:
-- ON DELETE CASCADE), their visitor records with their widget refresh tokens, and their verified profile.
GRANT DELETE ON conversations, visitors, widget_refresh_tokens, verified_visitors TO parley_app;
-- Subjects are found by verified user id as well as by visitor reference.
CREATE INDEX IF NOT EXISTS conversations_identity_subject ON conversations (tenant_id, identity_subject) WHERE identity_subject IS NOT NULL;
