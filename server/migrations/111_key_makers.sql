-- A key is worth no more than the person behind it is now (api_keys.created_by_member): resolving a key
-- returns its maker's role and status, so a demoted maker's keys lose what the new role lacks and a
-- disabled maker's keys stop until they are enabled again (tenants/auth.ts applies both). A key no person
-- made (by the CLI) has neither.
DROP FUNCTION parley_resolve_secret_key(bytea);
CREATE FUNCTION parley_resolve_secret_key(p_hash bytea)
RETURNS TABLE (key_id uuid, tenant_id uuid, capabilities text[], expires_at timestamptz, maker_role text, maker_status text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT k.id, k.tenant_id, k.capabilities, k.expires_at, m.role, m.status FROM api_keys k
      LEFT JOIN members m ON m.tenant_id = k.tenant_id AND m.id = k.created_by_member
     WHERE k.hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
  -- Minute resolution is enough to see which keys are in use, without a write on every request.
  UPDATE api_keys k SET last_used_at = now()
   WHERE k.hash = p_hash AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
END $$;
ALTER FUNCTION parley_resolve_secret_key(bytea) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_resolve_secret_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_resolve_secret_key(bytea) TO parley_app;

-- Instances keep resolved keys for a few seconds (tenants/key-cache.ts): a maker's new role or status
-- drops their tenant's kept keys everywhere as it commits, as a change to a key itself does.
CREATE TRIGGER members_notify_key_change
  AFTER UPDATE OF role, status ON members
  FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION parley_notify_key_change();
