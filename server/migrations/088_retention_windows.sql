-- Per-tenant retention windows (tenants.settings -> 'retention', days): the retention sweep, as
-- parley_platform, deletes conversations with no activity within the tenant's `messages` window (their
-- messages, events, vault entries, handoffs and ratings go with them: ON DELETE CASCADE) and verified
-- users' profiles not refreshed within `verifiedProfiles`. Webhook events already are deletable.
GRANT DELETE ON conversations, verified_visitors TO parley_platform;
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations (updated_at);
CREATE INDEX IF NOT EXISTS verified_visitors_updated ON verified_visitors (updated_at);

-- The tenant's window for `key` in days, or `fallback` when not set (or not a whole number in range).
CREATE OR REPLACE FUNCTION parley_retention_days(settings jsonb, key text, fallback int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN jsonb_typeof(settings -> 'retention' -> key) = 'number'
     AND (settings -> 'retention' ->> key)::numeric BETWEEN 1 AND 3650
     AND (settings -> 'retention' ->> key)::numeric = trunc((settings -> 'retention' ->> key)::numeric)
    THEN (settings -> 'retention' ->> key)::int
    ELSE fallback
  END
$$;
REVOKE ALL ON FUNCTION parley_retention_days(jsonb, text, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_retention_days(jsonb, text, int) TO parley_platform, parley_app;
