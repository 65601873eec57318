-- People: members of a tenant with one role each, invitations, console sessions (refresh tokens in
-- families, as the widget's), and sign-in throttling. Passwords are argon2id hashes; invite and refresh
-- tokens are stored as SHA-256 only.

-- Platform operators are people of the deployment, not of a tenant: members of the platform "tenant"
-- (the nil uuid, whose audit log is the platform log), holding the one role no tenant can have. They
-- sign in like everyone else, must use a second factor, and act on tenants only through audited
-- platform routes.
INSERT INTO tenants (id, name, settings) VALUES ('00000000-0000-0000-0000-000000000000', 'Platform operators', '{"signIn": {"requireMfa": "everyone"}}')
  ON CONFLICT (id) DO NOTHING;

CREATE TABLE members (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id             uuid NOT NULL,
  email          text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  role           text NOT NULL CHECK (CASE WHEN tenant_id = '00000000-0000-0000-0000-000000000000' THEN role = 'operator'
                                           ELSE role IN ('owner', 'admin', 'agent', 'analyst') END),
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  password_hash  text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  created_by     text,
  last_sign_in_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, email)
);
SELECT parley_isolate_tenant_table('members');
GRANT SELECT, INSERT, UPDATE, DELETE ON members TO parley_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON members TO parley_platform;

CREATE TABLE member_invites (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id          uuid NOT NULL,
  email       text NOT NULL CHECK (email = lower(email)),
  role        text NOT NULL CHECK (CASE WHEN tenant_id = '00000000-0000-0000-0000-000000000000' THEN role = 'operator'
                                        ELSE role IN ('owner', 'admin', 'agent', 'analyst') END),
  token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  delivery    text NOT NULL CHECK (delivery IN ('smtp', 'log')),
  -- Only for `log` delivery (no SMTP server, development): the link sealed with the tenant's data key,
  -- so the console can list it. Never kept when the link went by email.
  link_sealed bytea,
  invited_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at  timestamptz,
  member_id   uuid,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE SET NULL (member_id)
);
SELECT parley_isolate_tenant_table('member_invites');
GRANT SELECT, INSERT, UPDATE ON member_invites TO parley_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON member_invites TO parley_platform;

-- A console session is one refresh-token family: `revoked_at` ends it (and every token in it) at once.
CREATE TABLE member_sessions (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id           uuid NOT NULL,
  member_id    uuid NOT NULL,
  method       text NOT NULL CHECK (length(method) BETWEEN 1 AND 40),
  user_agent   text CHECK (length(user_agent) <= 300),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  idle_expires_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  revoked_reason text,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
SELECT parley_isolate_tenant_table('member_sessions');
GRANT SELECT, INSERT, UPDATE ON member_sessions TO parley_app;
GRANT SELECT, DELETE ON member_sessions TO parley_platform;
CREATE INDEX member_sessions_member ON member_sessions (tenant_id, member_id) WHERE revoked_at IS NULL;
CREATE INDEX member_sessions_expiry ON member_sessions (expires_at);

CREATE TABLE member_refresh_tokens (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id          uuid NOT NULL,
  family_id   uuid NOT NULL,
  token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, family_id) REFERENCES member_sessions (tenant_id, id) ON DELETE CASCADE
);
SELECT parley_isolate_tenant_table('member_refresh_tokens');
GRANT SELECT, INSERT, UPDATE ON member_refresh_tokens TO parley_app;
GRANT SELECT, DELETE ON member_refresh_tokens TO parley_platform;
CREATE INDEX member_refresh_tokens_expiry ON member_refresh_tokens (expires_at);

-- Who a refresh token (sent alone, in a cookie) belongs to, found by its hash: the one way to learn
-- the tenant before a transaction can be scoped to it.
CREATE FUNCTION parley_resolve_member_refresh(p_hash bytea)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.tenant_id FROM member_refresh_tokens r WHERE r.token_hash = p_hash
$$;
-- Sign-in by email: the memberships an address has, with what a password check needs. Nothing else
-- about a tenant leaves before the password is verified.
CREATE FUNCTION parley_member_logins(p_email text)
RETURNS TABLE (tenant_id uuid, member_id uuid, password_hash text, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT m.tenant_id, m.id, m.password_hash, m.status FROM members m WHERE m.email = lower(p_email) ORDER BY m.created_at LIMIT 20
$$;
-- An invite link carries only its token: which tenant it belongs to, by the token's hash.
CREATE FUNCTION parley_resolve_invite(p_hash bytea)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT i.tenant_id FROM member_invites i WHERE i.token_hash = p_hash
$$;
ALTER FUNCTION parley_resolve_member_refresh(bytea) OWNER TO parley_platform;
ALTER FUNCTION parley_member_logins(text) OWNER TO parley_platform;
ALTER FUNCTION parley_resolve_invite(bytea) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_resolve_member_refresh(bytea), parley_member_logins(text), parley_resolve_invite(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_resolve_member_refresh(bytea), parley_member_logins(text), parley_resolve_invite(bytea) TO parley_app;

-- Failed sign-ins, counted per account and per client address (keys are SHA-256 of the subject). No
-- tenant owns a row: the app reaches the table only through the functions below.
CREATE TABLE sign_in_throttle (
  key           bytea PRIMARY KEY CHECK (octet_length(key) = 32),
  failures      integer NOT NULL DEFAULT 0,
  last_failure_at timestamptz NOT NULL DEFAULT now(),
  blocked_until timestamptz
);
ALTER TABLE sign_in_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE sign_in_throttle FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON sign_in_throttle USING (false) WITH CHECK (false);
GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_throttle TO parley_platform;
-- The app role may look (RLS shows it nothing); it changes counters only through the functions below.
GRANT SELECT ON sign_in_throttle TO parley_app;
CREATE INDEX sign_in_throttle_last ON sign_in_throttle (last_failure_at);

-- The latest time any of the keys is blocked until (NULL: none is).
CREATE FUNCTION parley_throttle_blocked(p_keys bytea[])
RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT max(t.blocked_until) FROM sign_in_throttle t WHERE t.key = ANY (p_keys) AND t.blocked_until > now()
$$;
-- One more failure for a key. Failures older than p_forget_s are forgotten; past p_free failures the
-- key is blocked for 2^(n - p_free) seconds, never longer than p_max_s: a delay, never a lock-out.
CREATE FUNCTION parley_throttle_fail(p_key bytea, p_free integer, p_max_s integer, p_forget_s integer)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE n integer; until timestamptz;
BEGIN
  INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at) VALUES (p_key, 1, now())
  ON CONFLICT (key) DO UPDATE
    SET failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => p_forget_s) THEN 1 ELSE t.failures + 1 END,
        last_failure_at = now()
  RETURNING failures INTO n;
  IF n > p_free THEN
    until := now() + make_interval(secs => least(p_max_s, power(2, least(n - p_free, 30))::integer));
    UPDATE sign_in_throttle SET blocked_until = until WHERE key = p_key;
  END IF;
  RETURN until;
END $$;
CREATE FUNCTION parley_throttle_clear(p_key bytea)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM sign_in_throttle WHERE key = p_key
$$;
ALTER FUNCTION parley_throttle_blocked(bytea[]) OWNER TO parley_platform;
ALTER FUNCTION parley_throttle_fail(bytea, integer, integer, integer) OWNER TO parley_platform;
ALTER FUNCTION parley_throttle_clear(bytea) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_throttle_blocked(bytea[]), parley_throttle_fail(bytea, integer, integer, integer), parley_throttle_clear(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_throttle_blocked(bytea[]), parley_throttle_fail(bytea, integer, integer, integer), parley_throttle_clear(bytea) TO parley_app;

-- API keys are created by people now: who made a key is kept (a member id, or null for the CLI).
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS created_by_member uuid;

-- Single sign-on: at most one OIDC and one SAML connection per tenant. `config` holds the protocol's
-- public settings (issuer, client id, entry point, IdP certificates); an OIDC client secret is sealed
-- with the tenant's data key.
CREATE TABLE sso_connections (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('oidc', 'saml')),
  config          jsonb NOT NULL,
  secret_sealed   bytea,
  allowed_domains text[] NOT NULL CHECK (cardinality(allowed_domains) BETWEEN 1 AND 50),
  default_role    text NOT NULL CHECK (default_role IN ('admin', 'agent', 'analyst')),
  groups_claim    text NOT NULL DEFAULT 'groups',
  group_roles     jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, kind)
);
SELECT parley_isolate_tenant_table('sso_connections');
GRANT SELECT, INSERT, UPDATE, DELETE ON sso_connections TO parley_app;
GRANT SELECT, UPDATE ON sso_connections TO parley_platform;

-- Sign-in requests in flight (OIDC state, nonce and PKCE verifier; SAML request ids for InResponseTo):
-- single use, short-lived, bound to the browser that started them by the hash of a cookie.
CREATE TABLE sso_requests (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id          text NOT NULL CHECK (length(id) BETWEEN 16 AND 200),
  kind        text NOT NULL CHECK (kind IN ('oidc', 'saml')),
  data        jsonb NOT NULL DEFAULT '{}'::jsonb,
  binding     bytea NOT NULL CHECK (octet_length(binding) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  PRIMARY KEY (tenant_id, id)
);
SELECT parley_isolate_tenant_table('sso_requests');
GRANT SELECT, INSERT, UPDATE ON sso_requests TO parley_app;
GRANT SELECT, DELETE ON sso_requests TO parley_platform;
CREATE INDEX sso_requests_expiry ON sso_requests (expires_at);

-- Assertions (SAML) and codes/tokens (OIDC) already used: a replay within their lifetime is refused.
CREATE TABLE sso_replay (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('oidc', 'saml')),
  id_hash    bytea NOT NULL CHECK (octet_length(id_hash) = 32),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, kind, id_hash)
);
SELECT parley_isolate_tenant_table('sso_replay');
GRANT SELECT, INSERT ON sso_replay TO parley_app;
GRANT SELECT, DELETE ON sso_replay TO parley_platform;
CREATE INDEX sso_replay_expiry ON sso_replay (expires_at);

-- "Sign in with SSO" starts from an email address: which tenant connection serves its domain.
CREATE FUNCTION parley_sso_for_domain(p_domain text)
RETURNS TABLE (tenant_id uuid, kind text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.tenant_id, c.kind FROM sso_connections c WHERE lower(p_domain) = ANY (c.allowed_domains) ORDER BY c.kind, c.created_at LIMIT 5
$$;
ALTER FUNCTION parley_sso_for_domain(text) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_sso_for_domain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_sso_for_domain(text) TO parley_app;
