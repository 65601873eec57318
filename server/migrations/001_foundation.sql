-- Roles, tenants, publishable and secret keys, allowed domains.
-- parley_app serves requests: no superuser, no BYPASSRLS, owns nothing, so row-level security always applies.
-- parley_platform is the explicit cross-tenant path (CLI, workers); every use writes the platform audit log.
DO $$
BEGIN
  BEGIN
    CREATE ROLE parley_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; -- roles are cluster-wide
  END;
  BEGIN
    CREATE ROLE parley_platform NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
END $$;

GRANT USAGE ON SCHEMA public TO parley_app, parley_platform;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Every tenant table gets the same isolation: RLS enabled and forced (the owner too), one policy that
-- reads the tenant set per transaction. No tenant set: zero rows, not an error.
CREATE FUNCTION parley_isolate_tenant_table(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
  EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
END $$;
REVOKE ALL ON FUNCTION parley_isolate_tenant_table(regclass) FROM PUBLIC;

CREATE TABLE tenants (
  id             uuid PRIMARY KEY,
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  policy_version integer NOT NULL DEFAULT 1,
  settings       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
  USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, UPDATE ON tenants TO parley_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants TO parley_platform;

CREATE TABLE tenant_domains (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  pattern    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, pattern)
);
SELECT parley_isolate_tenant_table('tenant_domains');
GRANT SELECT, INSERT, DELETE ON tenant_domains TO parley_app;
GRANT SELECT, INSERT, DELETE ON tenant_domains TO parley_platform;

-- Publishable keys are public identifiers (they sit in page HTML), so they are stored as they are.
CREATE TABLE publishable_keys (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  key        text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
SELECT parley_isolate_tenant_table('publishable_keys');
GRANT SELECT, INSERT, UPDATE ON publishable_keys TO parley_app;
GRANT SELECT, INSERT, UPDATE ON publishable_keys TO parley_platform;

-- Secret keys: only the SHA-256 of the key is stored, with a short visible prefix to tell keys apart.
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name         text NOT NULL,
  prefix       text NOT NULL,
  hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
  capabilities text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  created_by   uuid,
  rotated_from uuid,
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);
SELECT parley_isolate_tenant_table('api_keys');
GRANT SELECT, INSERT, UPDATE ON api_keys TO parley_app;
GRANT SELECT, INSERT, UPDATE ON api_keys TO parley_platform;

-- Authentication has to find a key before it knows the tenant. These two narrow functions are the only
-- way parley_app can: exact match on a hash or key, returning just what authentication needs.
-- They run as parley_platform (BYPASSRLS) rather than the migration owner, so they work whether or not
-- the owner is a superuser.
CREATE FUNCTION parley_resolve_secret_key(p_hash bytea)
RETURNS TABLE (key_id uuid, tenant_id uuid, capabilities text[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT k.id, k.tenant_id, k.capabilities FROM api_keys k
     WHERE k.hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
  -- Minute resolution is enough to see which keys are in use, without a write on every request.
  UPDATE api_keys k SET last_used_at = now()
   WHERE k.hash = p_hash AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
END $$;

CREATE FUNCTION parley_resolve_publishable_key(p_key text)
RETURNS TABLE (key_id uuid, tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.id, k.tenant_id FROM publishable_keys k WHERE k.key = p_key AND k.revoked_at IS NULL
$$;

ALTER FUNCTION parley_resolve_secret_key(bytea) OWNER TO parley_platform;
ALTER FUNCTION parley_resolve_publishable_key(text) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_resolve_secret_key(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION parley_resolve_publishable_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_resolve_secret_key(bytea) TO parley_app;
GRANT EXECUTE ON FUNCTION parley_resolve_publishable_key(text) TO parley_app;
