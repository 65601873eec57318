-- A decision counts only while whoever made it may still decide. An approval stayed counted after its
-- approver was removed, disabled or demoted to a role without approvals:decide, or after the key that gave it
-- was revoked: a second approval then approved a sensitive proposal with one person left to vouch for it.
-- Now an approval's weight is read when it is counted, from the decider as they are then, here for the
-- database and, through the same function, for the app (approvals/store.ts decisionsOf); an admin's weight
-- also needs them to have been one when they decided (approval_decisions.admin), so a promotion adds none.
--
-- The roles holding approvals:decide (owner, admin, agent) and those weighing as an admin's (owner, admin)
-- are protocol's ROLE_CAPABILITIES; a key decides while it is live, holds approvals:decide and its maker (if
-- a person made it) is an active member of such a role, as its authentication requires (111, 117).
-- An admin operation (p_proposal_kind 'admin') is decided by an owner or admin, in person, only.
CREATE FUNCTION parley_decider_standing(p_tenant uuid, p_proposal_kind text, p_kind text, p_id text, OUT decides boolean, OUT admin boolean)
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT coalesce(bool_or(CASE WHEN p_proposal_kind = 'admin' THEN s.admin AND p_kind = 'member' ELSE s.decides END), false),
         coalesce(bool_or(s.admin), false) FROM (
    SELECT m.role IN ('owner', 'admin', 'agent') AS decides, m.role IN ('owner', 'admin') AS admin
      FROM members m
     WHERE p_kind = 'member' AND m.tenant_id = p_tenant AND m.id::text = p_id AND m.status = 'active'
    UNION ALL
    SELECT 'approvals:decide' = ANY (k.capabilities)
             AND (k.created_by_member IS NULL OR coalesce(m.status = 'active' AND m.role IN ('owner', 'admin', 'agent'), false)),
           'approvals:decide' = ANY (k.capabilities) AND 'actions:write' = ANY (k.capabilities)
             AND (k.created_by_member IS NULL OR coalesce(m.status = 'active' AND m.role IN ('owner', 'admin'), false))
      FROM api_keys k LEFT JOIN members m ON m.tenant_id = k.tenant_id AND m.id = k.created_by_member
     WHERE p_kind = 'key' AND k.tenant_id = p_tenant AND k.id::text = p_id
       AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
  ) s
$$;
REVOKE ALL ON FUNCTION parley_decider_standing(uuid, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_decider_standing(uuid, text, text, text) TO parley_app;

-- As 108, counting only the decisions whose deciders may still decide. The same count is checked when an
-- approved proposal is claimed to run (approved → executing), and an approval that no longer holds goes back
-- to pending (approved → pending, only then), to wait for another person's decision.
CREATE OR REPLACE FUNCTION parley_proposal_transition() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  approvals integer;
  admins integer;
  people_admins integer;
  people integer;
  rejections integer;
  held boolean;
BEGIN
  IF (NEW.tenant_id, NEW.id, NEW.kind, NEW.action_id, NEW.risk, NEW.arguments, NEW.requested_by_kind, NEW.requested_by_id, NEW.expires_at, NEW.created_at)
     IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.kind, OLD.action_id, OLD.risk, OLD.arguments, OLD.requested_by_kind, OLD.requested_by_id, OLD.expires_at, OLD.created_at)
     OR NEW.subject IS DISTINCT FROM OLD.subject OR NEW.conversation_id IS DISTINCT FROM OLD.conversation_id
     OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.operation IS DISTINCT FROM OLD.operation
     OR NEW.arguments_hash IS DISTINCT FROM OLD.arguments_hash THEN
    RAISE EXCEPTION 'approval rail: a proposal''s content never changes' USING ERRCODE = 'check_violation';
  END IF;
  IF NOT ((OLD.status, NEW.status) IN (('pending', 'approved'), ('pending', 'rejected'), ('pending', 'expired'),
                                        ('approved', 'executing'), ('approved', 'expired'), ('approved', 'pending'),
                                        ('executing', 'executed'), ('executing', 'failed'))) THEN
    RAISE EXCEPTION 'approval rail: % → % is not a legal transition', OLD.status, NEW.status USING ERRCODE = 'check_violation';
  END IF;
  SELECT count(*) FILTER (WHERE d.decision = 'approve' AND s.decides),
         count(*) FILTER (WHERE d.decision = 'approve' AND s.decides AND d.admin AND s.admin),
         count(*) FILTER (WHERE d.decision = 'approve' AND s.decides AND d.admin AND s.admin AND d.decided_by_kind = 'member'),
         count(DISTINCT CASE WHEN d.decided_by_kind = 'member' THEN d.decided_by_id ELSE k.created_by_member::text END)
           FILTER (WHERE d.decision = 'approve' AND s.decides),
         count(*) FILTER (WHERE d.decision = 'reject')
    INTO approvals, admins, people_admins, people, rejections
    FROM approval_decisions d
    LEFT JOIN api_keys k ON d.decided_by_kind = 'key' AND k.tenant_id = d.tenant_id AND k.id::text = d.decided_by_id
    CROSS JOIN LATERAL parley_decider_standing(d.tenant_id, OLD.kind, d.decided_by_kind, d.decided_by_id) s
   WHERE d.tenant_id = OLD.tenant_id AND d.proposal_id = OLD.id;
  held := rejections = 0 AND CASE
       WHEN OLD.kind = 'admin' THEN people_admins >= 1
       WHEN OLD.risk = 'write' THEN approvals >= 1
       WHEN OLD.risk = 'sensitive' THEN admins >= 1 OR people >= 2
       ELSE OLD.risk = 'read' END;
  IF NEW.status = 'approved' AND (OLD.risk = 'read' OR NOT held) THEN
    RAISE EXCEPTION 'approval rail: a % proposal needs more approvals', OLD.risk USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'executing' AND NOT held THEN
    RAISE EXCEPTION 'approval rail: the approval no longer holds' USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.status = 'approved' AND NEW.status = 'pending' AND held THEN
    RAISE EXCEPTION 'approval rail: the approval still holds' USING ERRCODE = 'check_violation';
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
