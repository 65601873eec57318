-- Each instance keeps a resolved secret key for a few seconds (tenants/key-cache.ts), and only while it
-- hears this channel. Whatever can end a key's use (revocation, a new expiry or capabilities, deletion
-- with its tenant) tells every instance with the commit, naming the tenant whose keys it drops.
CREATE FUNCTION parley_notify_key_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pg_notify('parley_key_changes', OLD.tenant_id::text);
  RETURN NULL;
END $$;

CREATE TRIGGER api_keys_notify_change
  AFTER UPDATE OF revoked_at, expires_at, capabilities, hash, tenant_id OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION parley_notify_key_change();

-- The key's expiry as well, so a kept key ends on time without asking again.
DROP FUNCTION parley_resolve_secret_key(bytea);
CREATE FUNCTION parley_resolve_secret_key(p_hash bytea)
RETURNS TABLE (key_id uuid, tenant_id uuid, capabilities text[], expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT k.id, k.tenant_id, k.capabilities, k.expires_at FROM api_keys k
     WHERE k.hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
  -- Minute resolution is enough to see which keys are in use, without a write on every request.
  UPDATE api_keys k SET last_used_at = now()
   WHERE k.hash = p_hash AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
END $$;
ALTER FUNCTION parley_resolve_secret_key(bytea) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_resolve_secret_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_resolve_secret_key(bytea) TO parley_app;
