-- Widget visitors. What resumes a visitor is a secret only its browser holds (`pvs_` + 32 random bytes),
-- stored here as its SHA-256 only. Everything else (session tokens, refresh tokens, conversations, audit
-- actors, admin views) carries the visitor's pseudonymous reference `id` (`v_` + 16 characters), which
-- is shown to agents and resumes nothing.

CREATE TABLE visitors (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id           text NOT NULL CHECK (id ~ '^v_[A-Za-z0-9_-]{16}$'),
  -- NULL: a visitor carried over from before secrets existed; its live refresh token may claim one.
  secret_hash  bytea UNIQUE CHECK (octet_length(secret_hash) = 32),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

-- Visitor ids issued before this migration were bearer credentials that admin keys were shown (in the
-- conversation view and as audit actors), so none of them may resume anything any more. Each old id
-- becomes a fresh reference with no secret; its conversations and refresh tokens move to that reference,
-- so the browser that still holds a live refresh token keeps its conversations (and claims a secret on
-- its next refresh). The old ids left in the append-only audit log are inert strings from now on.
-- The owner is subject to forced row-level security; lift it for this data step only.
ALTER TABLE conversations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE widget_refresh_tokens NO FORCE ROW LEVEL SECURITY;

CREATE TEMPORARY TABLE parley_visitor_ref_map ON COMMIT DROP AS
  SELECT tenant_id, old_id,
         'v_' || substr(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), 1, 16) AS new_id
    FROM (SELECT tenant_id, visitor_id AS old_id FROM conversations WHERE channel = 'widget'
          UNION
          SELECT tenant_id, visitor_id FROM widget_refresh_tokens) old;

INSERT INTO visitors (tenant_id, id, secret_hash, created_at, last_seen_at)
  SELECT tenant_id, new_id, NULL, now(), now() FROM parley_visitor_ref_map;
UPDATE conversations c SET visitor_id = m.new_id
  FROM parley_visitor_ref_map m WHERE c.channel = 'widget' AND c.tenant_id = m.tenant_id AND c.visitor_id = m.old_id;
UPDATE widget_refresh_tokens r SET visitor_id = m.new_id
  FROM parley_visitor_ref_map m WHERE r.tenant_id = m.tenant_id AND r.visitor_id = m.old_id;

ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
ALTER TABLE widget_refresh_tokens FORCE ROW LEVEL SECURITY;

SELECT parley_isolate_tenant_table('visitors');
GRANT SELECT, INSERT, UPDATE ON visitors TO parley_app;
GRANT SELECT ON visitors TO parley_platform;

-- A refresh token belongs to a visitor of its own tenant.
ALTER TABLE widget_refresh_tokens
  ADD CONSTRAINT widget_refresh_tokens_visitor_fk FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id) ON DELETE CASCADE;
