-- A member's authority ends with them, also at the same moment as a request of theirs. Each read-write
-- transaction of a request made with a member's authority (their console session, or a key they made) holds
-- their row first thing, FOR KEY SHARE, until it commits (tenants/authority.ts, asked by db/index.ts
-- withTenant): removing, disabling or demoting them (which lock the row FOR UPDATE) waits for it, and then sees
-- what it made (a key, an invitation) and revokes it. One that starts after they are gone or disabled, or hold
-- less than the request was allowed, is refused here: `PY401` (gone or disabled), `PY403` (their role now is
-- not one of `p_roles`, those holding what the request holds). As the caller (parley_app, the tenant set).
CREATE FUNCTION parley_hold_member(p_member uuid, p_roles text[]) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_role text;
  v_status text;
BEGIN
  SELECT m.role, m.status INTO v_role, v_status FROM members m WHERE m.id = p_member FOR KEY SHARE;
  IF NOT FOUND OR v_status IS DISTINCT FROM 'active' THEN
    RAISE EXCEPTION 'the member behind this request is no longer an active member' USING ERRCODE = 'PY401';
  END IF;
  IF NOT (v_role = ANY (p_roles)) THEN
    RAISE EXCEPTION 'the member behind this request no longer holds a role allowing it' USING ERRCODE = 'PY403';
  END IF;
END $$;
REVOKE ALL ON FUNCTION parley_hold_member(uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_hold_member(uuid, text[]) TO parley_app;

-- A key names the member who made it (created_by_member, no foreign key: the keys of a removed member are
-- kept, revoked). Resolving a key now says whether it names one (`maker_id`), so a key whose maker is no
-- longer a member is refused (tenants/auth.ts) instead of taken for a key the CLI made, which has no bounds.
-- The first key of a tenant made through the platform API named the operator who made the tenant, who is
-- no member of it: it resolved as one the CLI made, which it is (the tenant's bootstrap, which names nobody
-- from now on: tenants/service.ts). Said so first, so that it is not refused. The owner is subject to
-- forced row-level security; lifted for this data step only.
ALTER TABLE api_keys NO FORCE ROW LEVEL SECURITY;
ALTER TABLE members NO FORCE ROW LEVEL SECURITY;
UPDATE api_keys k SET created_by_member = NULL
 WHERE k.tenant_id <> '00000000-0000-0000-0000-000000000000'
   AND k.created_by_member IN (SELECT p.id FROM members p WHERE p.tenant_id = '00000000-0000-0000-0000-000000000000')
   AND NOT EXISTS (SELECT 1 FROM members m WHERE m.tenant_id = k.tenant_id AND m.id = k.created_by_member);
ALTER TABLE members FORCE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
DROP FUNCTION parley_resolve_secret_key(bytea);
CREATE FUNCTION parley_resolve_secret_key(p_hash bytea)
RETURNS TABLE (key_id uuid, tenant_id uuid, capabilities text[], expires_at timestamptz, maker_id uuid, maker_role text, maker_status text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  RETURN QUERY
    SELECT k.id, k.tenant_id, k.capabilities, k.expires_at, k.created_by_member, m.role, m.status FROM api_keys k
      LEFT JOIN members m ON m.tenant_id = k.tenant_id AND m.id = k.created_by_member
     WHERE k.hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
  -- Minute resolution is enough to see which keys are in use, without a write on every request.
  UPDATE api_keys k SET last_used_at = now()
   WHERE k.hash = p_hash AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
END $$;
ALTER FUNCTION parley_resolve_secret_key(bytea) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_resolve_secret_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_resolve_secret_key(bytea) TO parley_app;

-- Kept keys (tenants/key-cache.ts) are dropped everywhere when a member goes, as when their role or status
-- changes (111): a key of theirs that escaped revocation is refused at once, not after its keeping.
CREATE TRIGGER members_notify_key_removal
  AFTER DELETE ON members
  FOR EACH ROW EXECUTE FUNCTION parley_notify_key_change();
