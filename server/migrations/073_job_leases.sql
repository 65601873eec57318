-- Leases for background work: each named job runs on one instance at a time, a dead holder's lease
-- lapses and another instance takes over, and `next_run_at` spaces scheduled runs across the fleet.
-- Platform-only: no tenant rows.
CREATE TABLE job_leases (
  name        text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
  holder      text NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
  lease_until timestamptz NOT NULL,
  next_run_at timestamptz,
  finished_at timestamptz
);
GRANT SELECT, INSERT, UPDATE ON job_leases TO parley_platform;
-- Like every table: RLS forced; no tenant owns a lease, so the app role sees none (the platform bypasses RLS).
ALTER TABLE job_leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_leases FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON job_leases USING (false) WITH CHECK (false);
GRANT SELECT ON job_leases TO parley_app;

-- The retention sweep deletes what has expired, in bounded batches, through the platform role.
GRANT SELECT, DELETE ON widget_refresh_tokens, identity_token_uses, conversation_events TO parley_platform;
CREATE INDEX IF NOT EXISTS widget_refresh_tokens_expiry ON widget_refresh_tokens (expires_at);
CREATE INDEX IF NOT EXISTS identity_token_uses_expiry ON identity_token_uses (expires_at);
CREATE INDEX IF NOT EXISTS conversation_events_created ON conversation_events (created_at);
