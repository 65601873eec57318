-- Admin operations through the approval rail (issue 15): a tenant marks operations as high risk
-- (settings `approvals.operations`), and then each one is a proposal of kind 'admin' that an owner or
-- admin other than the requester approves, before the requester's repeated request runs it.
--   pending → approved | rejected | expired,  approved → executing | expired,  executing → executed | failed
-- The proposal names the operation and holds its arguments as shown to the approver (secrets replaced)
-- with a hash of the exact request, so an approval runs that request and no other.
ALTER TABLE approval_proposals ALTER COLUMN action_id DROP NOT NULL;
ALTER TABLE approval_proposals DROP CONSTRAINT approval_proposals_kind_check;
ALTER TABLE approval_proposals
  ADD COLUMN operation text CHECK (operation ~ '^[a-z]+\.[a-z]+$'),
  ADD COLUMN arguments_hash text CHECK (arguments_hash ~ '^[0-9a-f]{64}$'),
  ADD CONSTRAINT approval_proposals_kind_check CHECK (
    (kind = 'action' AND action_id IS NOT NULL AND operation IS NULL AND arguments_hash IS NULL)
    OR (kind = 'admin' AND action_id IS NULL AND operation IS NOT NULL AND arguments_hash IS NOT NULL
        AND risk = 'sensitive' AND requested_by_kind IN ('member', 'key') AND conversation_id IS NULL AND subject IS NULL));

CREATE OR REPLACE FUNCTION parley_proposal_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  a actions%ROWTYPE;
BEGIN
  IF NEW.kind = 'admin' THEN
    IF NEW.status <> 'pending' THEN
      RAISE EXCEPTION 'approval rail: an admin operation starts pending' USING ERRCODE = 'check_violation';
    END IF;
  ELSE
    SELECT * INTO a FROM actions WHERE tenant_id = NEW.tenant_id AND id = NEW.action_id;
    IF NOT FOUND OR a.deleted_at IS NOT NULL OR NOT a.enabled THEN
      RAISE EXCEPTION 'approval rail: action % is not available', NEW.action_id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.risk <> a.risk THEN
      RAISE EXCEPTION 'approval rail: a proposal carries its action''s risk' USING ERRCODE = 'check_violation';
    END IF;
    IF NOT (NEW.status = 'pending' OR (NEW.status = 'approved' AND NEW.risk = 'read')) THEN
      RAISE EXCEPTION 'approval rail: a % proposal cannot start %', NEW.risk, NEW.status USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF NEW.executing_at IS NOT NULL OR NEW.finished_at IS NOT NULL OR NEW.result_status IS NOT NULL OR NEW.error IS NOT NULL THEN
    RAISE EXCEPTION 'approval rail: a new proposal has no result' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

-- As 096, and: an admin operation is approved only by an active owner or admin (a person, not a key).
CREATE OR REPLACE FUNCTION parley_proposal_transition() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  approvals integer;
  admins integer;
  people_admins integer;
  rejections integer;
BEGIN
  IF (NEW.tenant_id, NEW.id, NEW.kind, NEW.action_id, NEW.risk, NEW.arguments, NEW.requested_by_kind, NEW.requested_by_id, NEW.expires_at, NEW.created_at)
     IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.kind, OLD.action_id, OLD.risk, OLD.arguments, OLD.requested_by_kind, OLD.requested_by_id, OLD.expires_at, OLD.created_at)
     OR NEW.subject IS DISTINCT FROM OLD.subject OR NEW.conversation_id IS DISTINCT FROM OLD.conversation_id
     OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.operation IS DISTINCT FROM OLD.operation
     OR NEW.arguments_hash IS DISTINCT FROM OLD.arguments_hash THEN
    RAISE EXCEPTION 'approval rail: a proposal''s content never changes' USING ERRCODE = 'check_violation';
  END IF;
  IF NOT ((OLD.status, NEW.status) IN (('pending', 'approved'), ('pending', 'rejected'), ('pending', 'expired'),
                                        ('approved', 'executing'), ('approved', 'expired'),
                                        ('executing', 'executed'), ('executing', 'failed'))) THEN
    RAISE EXCEPTION 'approval rail: % → % is not a legal transition', OLD.status, NEW.status USING ERRCODE = 'check_violation';
  END IF;
  SELECT count(*) FILTER (WHERE decision = 'approve'), count(*) FILTER (WHERE decision = 'approve' AND admin),
         count(*) FILTER (WHERE decision = 'approve' AND admin AND decided_by_kind = 'member'),
         count(*) FILTER (WHERE decision = 'reject')
    INTO approvals, admins, people_admins, rejections
    FROM approval_decisions WHERE tenant_id = OLD.tenant_id AND proposal_id = OLD.id;
  IF NEW.status = 'approved' AND (rejections > 0 OR CASE
       WHEN OLD.kind = 'admin' THEN people_admins < 1
       WHEN OLD.risk = 'write' THEN approvals < 1
       WHEN OLD.risk = 'sensitive' THEN admins < 1 AND approvals < 2
       ELSE true END) THEN
    RAISE EXCEPTION 'approval rail: a % proposal needs more approvals', OLD.risk USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'rejected' AND rejections < 1 THEN
    RAISE EXCEPTION 'approval rail: rejecting needs a rejection' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'executing' AND now() >= OLD.expires_at THEN
    RAISE EXCEPTION 'approval rail: the approval has expired' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'expired' AND now() < OLD.expires_at THEN
    RAISE EXCEPTION 'approval rail: the proposal has not expired' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'executing' AND EXISTS (
    SELECT 1 FROM actions WHERE tenant_id = OLD.tenant_id AND id = OLD.action_id AND (deleted_at IS NOT NULL OR NOT enabled)
  ) THEN
    RAISE EXCEPTION 'approval rail: the action is no longer available' USING ERRCODE = 'check_violation';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END $$;

-- As 096, and: whoever created the key that asked for an admin operation is its requester too.
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
    NEW.admin := EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = NEW.tenant_id AND id::text = NEW.decided_by_id
                           AND revoked_at IS NULL AND 'actions:write' = ANY (capabilities));
  END IF;
  NEW.created_at := now();
  RETURN NEW;
END $$;
