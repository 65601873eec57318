-- Multi-factor authentication for members: TOTP (the secret sealed with the tenant's data key, the last
-- used time step kept so a code cannot be replayed), recovery codes (SHA-256 of high-entropy codes, single
-- use), passkeys (WebAuthn credentials) and the WebAuthn challenges in flight (single use, short-lived).

CREATE TABLE member_totp (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  member_id     uuid NOT NULL,
  -- Sealed with the tenant's data key, context `totp-secret/<member_id>`.
  secret_sealed bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- NULL while pending: enrolment begun, not yet confirmed with a code.
  confirmed_at  timestamptz,
  -- The latest RFC 6238 time step accepted: a code of this step or an earlier one is refused.
  last_step     bigint,
  PRIMARY KEY (tenant_id, member_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
SELECT parley_isolate_tenant_table('member_totp');
GRANT SELECT, INSERT, UPDATE, DELETE ON member_totp TO parley_app;
GRANT SELECT, UPDATE, DELETE ON member_totp TO parley_platform;

CREATE TABLE member_recovery_codes (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id          uuid NOT NULL,
  member_id   uuid NOT NULL,
  code_hash   bytea NOT NULL CHECK (octet_length(code_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  used_at     timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, member_id, code_hash),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
SELECT parley_isolate_tenant_table('member_recovery_codes');
GRANT SELECT, INSERT, UPDATE, DELETE ON member_recovery_codes TO parley_app;
GRANT SELECT, DELETE ON member_recovery_codes TO parley_platform;

CREATE TABLE member_passkeys (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id            uuid NOT NULL,
  member_id     uuid NOT NULL,
  -- base64url, as WebAuthn sends it. Unique across the deployment: a passwordless sign-in finds its
  -- tenant by it.
  credential_id text NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 16 AND 1400),
  public_key    bytea NOT NULL,
  counter       bigint NOT NULL DEFAULT 0 CHECK (counter >= 0),
  transports    text[] NOT NULL DEFAULT '{}',
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
SELECT parley_isolate_tenant_table('member_passkeys');
GRANT SELECT, INSERT, UPDATE, DELETE ON member_passkeys TO parley_app;
GRANT SELECT, DELETE ON member_passkeys TO parley_platform;
CREATE INDEX member_passkeys_member ON member_passkeys (tenant_id, member_id);

-- A passwordless sign-in carries only a credential id: whose it is, by that id.
CREATE FUNCTION parley_resolve_passkey(p_credential_id text)
RETURNS TABLE (tenant_id uuid, member_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT p.tenant_id, p.member_id FROM member_passkeys p WHERE p.credential_id = p_credential_id
$$;
ALTER FUNCTION parley_resolve_passkey(text) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_resolve_passkey(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_resolve_passkey(text) TO parley_app;

-- WebAuthn challenges in flight. A passwordless sign-in starts before any tenant is known, so no tenant
-- owns a row: the app reaches the table only through the functions below. `key` is the SHA-256 of a
-- random value kept in the browser's cookie; a challenge is taken (deleted) on first use.
CREATE TABLE webauthn_challenges (
  key        bytea PRIMARY KEY CHECK (octet_length(key) = 32),
  purpose    text NOT NULL CHECK (purpose IN ('register', 'mfa', 'passwordless')),
  challenge  text NOT NULL CHECK (length(challenge) BETWEEN 16 AND 200),
  tenant_id  uuid,
  member_id  uuid,
  expires_at timestamptz NOT NULL
);
ALTER TABLE webauthn_challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE webauthn_challenges FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_only ON webauthn_challenges USING (false) WITH CHECK (false);
GRANT SELECT, INSERT, UPDATE, DELETE ON webauthn_challenges TO parley_platform;
-- The app role may look (RLS shows it nothing); it changes challenges only through the functions below.
GRANT SELECT ON webauthn_challenges TO parley_app;
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);

CREATE FUNCTION parley_webauthn_challenge_put(p_key bytea, p_purpose text, p_challenge text, p_tenant uuid, p_member uuid, p_ttl_s integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM webauthn_challenges WHERE expires_at < now();
  INSERT INTO webauthn_challenges (key, purpose, challenge, tenant_id, member_id, expires_at)
  VALUES (p_key, p_purpose, p_challenge, p_tenant, p_member, now() + make_interval(secs => least(greatest(p_ttl_s, 1), 600)));
$$;
-- Takes the challenge (single use): returned once, if unexpired and of this purpose; deleted either way.
CREATE FUNCTION parley_webauthn_challenge_take(p_key bytea, p_purpose text)
RETURNS TABLE (challenge text, tenant_id uuid, member_id uuid)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH taken AS (DELETE FROM webauthn_challenges c WHERE c.key = p_key RETURNING c.*)
  SELECT t.challenge, t.tenant_id, t.member_id FROM taken t WHERE t.purpose = p_purpose AND t.expires_at > now()
$$;
ALTER FUNCTION parley_webauthn_challenge_put(bytea, text, text, uuid, uuid, integer) OWNER TO parley_platform;
ALTER FUNCTION parley_webauthn_challenge_take(bytea, text) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_webauthn_challenge_put(bytea, text, text, uuid, uuid, integer), parley_webauthn_challenge_take(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_webauthn_challenge_put(bytea, text, text, uuid, uuid, integer), parley_webauthn_challenge_take(bytea, text) TO parley_app;
