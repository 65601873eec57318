-- Deleting a tenant for good. An owner schedules it (a grace period, cancellable) or an operator runs it at
-- once; the engine (server/src/tenants/deletion.ts) then destroys the tenant's data keys, removes its
-- vectors, records a tombstone in the platform log and deletes every row that carries its id.
--
-- The deletion record outlives the tenant: its key column is `tenant`, not `tenant_id`, so it is not one
-- of "the tenant's rows" and keeps answering "was this tenant deleted, when, with which counts". It holds
-- ids, times and counts only.
CREATE TABLE tenant_deletions (
  tenant           uuid PRIMARY KEY,
  state            text NOT NULL CHECK (state IN ('scheduled', 'erasing', 'done')),
  requested_at     timestamptz NOT NULL DEFAULT now(),
  due_at           timestamptz NOT NULL,
  -- Set when the data keys were destroyed (the first step; an interrupted deletion resumes after it).
  shredded_at      timestamptz,
  keys_destroyed   integer NOT NULL DEFAULT 0,
  -- The tenant log's last signed checkpoint, taken before its entries are deleted.
  final_checkpoint text,
  -- The verifier key that checkpoint is signed for (its log's key name is deleted with the log).
  final_verifier_key text,
  counts           jsonb,
  completed_at     timestamptz,
  CHECK (state <> 'done' OR (completed_at IS NOT NULL AND final_checkpoint IS NOT NULL))
);
CREATE INDEX tenant_deletions_due ON tenant_deletions (due_at) WHERE state <> 'done';

-- The app (an owner, inside the tenant's own transaction) may read its record, schedule, and cancel while
-- it is only scheduled; everything after that is the platform's.
ALTER TABLE tenant_deletions ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_deletions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON tenant_deletions FOR SELECT
  USING (tenant = nullif(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_schedule ON tenant_deletions FOR INSERT
  WITH CHECK (tenant = nullif(current_setting('app.tenant_id', true), '')::uuid AND state = 'scheduled');
CREATE POLICY tenant_cancel ON tenant_deletions FOR DELETE
  USING (tenant = nullif(current_setting('app.tenant_id', true), '')::uuid AND state = 'scheduled');
GRANT SELECT, INSERT, DELETE ON tenant_deletions TO parley_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_deletions TO parley_platform;

-- Deletes the rows of one tenant from one table (`tenants` itself by its id), only while that tenant's
-- deletion is under way. SECURITY DEFINER: the platform role holds no DELETE on most tenant tables, and
-- this is the only path by which it deletes a whole tenant, so a table added later needs no new grant.
CREATE FUNCTION parley_erase_tenant_rows(t regclass, victim uuid) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n bigint;
  was text := current_setting('app.tenant_id', true);
BEGIN
  IF victim = '00000000-0000-0000-0000-000000000000' OR NOT EXISTS (
    SELECT 1 FROM tenant_deletions WHERE tenant = victim AND state = 'erasing'
  ) THEN
    RAISE EXCEPTION 'tenant % is not being deleted', victim USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Row-level security stays on (an owner without BYPASSRLS is subject to it): it shows this tenant only.
  PERFORM set_config('app.tenant_id', victim::text, true);
  IF t = 'tenants'::regclass THEN
    DELETE FROM tenants WHERE id = victim;
  ELSIF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t AND attname = 'tenant_id' AND NOT attisdropped) THEN
    EXECUTE format('DELETE FROM %s WHERE tenant_id = $1', t) USING victim;
  ELSE
    RAISE EXCEPTION '% has no tenant_id column', t;
  END IF;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('app.tenant_id', coalesce(was, ''), true);
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION parley_erase_tenant_rows(regclass, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_erase_tenant_rows(regclass, uuid) TO parley_platform;

-- The audit log stays append-only, with one deliberate exception: the rows of a tenant whose deletion is
-- under way and whose final checkpoint is already recorded (it goes into the platform log's tombstone in
-- the same transaction). The platform log, the deployment identity and signing keys have no such exception.
CREATE OR REPLACE FUNCTION parley_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('audit_entries', 'audit_nodes', 'audit_checkpoints', 'audit_heads') THEN
    IF OLD.tenant_id <> '00000000-0000-0000-0000-000000000000' AND EXISTS (
      SELECT 1 FROM tenant_deletions d
       WHERE d.tenant = OLD.tenant_id AND d.state = 'erasing' AND d.final_checkpoint IS NOT NULL
    ) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
