-- As 097, and a key's decision weighs what the person behind it is now, as its authentication does (111):
-- a key made by someone since demoted to agent, or disabled, approves as an agent would, not as an admin.
CREATE OR REPLACE FUNCTION parley_decision_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  p approval_proposals%ROWTYPE;
BEGIN
  SELECT * INTO p FROM approval_proposals WHERE tenant_id = NEW.tenant_id AND id = NEW.proposal_id FOR UPDATE;
  IF NOT FOUND OR p.status <> 'pending' THEN
    RAISE EXCEPTION 'approval rail: only a pending proposal is decided' USING ERRCODE = 'check_violation';
  END IF;
  IF p.requested_by_kind = NEW.decided_by_kind AND p.requested_by_id = NEW.decided_by_id THEN
    RAISE EXCEPTION 'approval rail: the requester cannot decide their own proposal' USING ERRCODE = 'check_violation';
  END IF;
  IF p.kind = 'admin' AND p.requested_by_kind = 'key' AND NEW.decided_by_kind = 'member' AND EXISTS (
    SELECT 1 FROM api_keys WHERE tenant_id = NEW.tenant_id AND id::text = p.requested_by_id AND created_by_member::text = NEW.decided_by_id
  ) THEN
    RAISE EXCEPTION 'approval rail: the requester cannot decide their own proposal' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.decided_by_kind = 'member' THEN
    NEW.admin := EXISTS (SELECT 1 FROM members WHERE tenant_id = NEW.tenant_id AND id::text = NEW.decided_by_id
                           AND status = 'active' AND role IN ('owner', 'admin'));
  ELSE
    -- A key weighs what its maker is now (111): an admin's only while they are an active owner or admin.
    NEW.admin := EXISTS (SELECT 1 FROM api_keys k LEFT JOIN members m ON m.tenant_id = k.tenant_id AND m.id = k.created_by_member
                          WHERE k.tenant_id = NEW.tenant_id AND k.id::text = NEW.decided_by_id
                            AND k.revoked_at IS NULL AND 'actions:write' = ANY (k.capabilities)
                            AND (k.created_by_member IS NULL OR (m.status = 'active' AND m.role IN ('owner', 'admin'))));
  END IF;
  NEW.created_at := now();
  RETURN NEW;
END $$;

