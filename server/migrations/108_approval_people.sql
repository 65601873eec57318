-- "Two different people" for a sensitive proposal counts people, not credentials: a key's approval is its
-- maker's (api_keys.created_by_member), and a key no person made (by the CLI or by another key) is nobody's,
-- so one person holding two keys, or a key that mints a second one, is never two. As 097 otherwise.
CREATE OR REPLACE FUNCTION parley_proposal_transition() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  approvals integer;
  admins integer;
  people_admins integer;
  people integer;
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
  SELECT count(*) FILTER (WHERE d.decision = 'approve'), count(*) FILTER (WHERE d.decision = 'approve' AND d.admin),
         count(*) FILTER (WHERE d.decision = 'approve' AND d.admin AND d.decided_by_kind = 'member'),
         count(DISTINCT CASE WHEN d.decided_by_kind = 'member' THEN d.decided_by_id ELSE k.created_by_member::text END)
           FILTER (WHERE d.decision = 'approve'),
         count(*) FILTER (WHERE d.decision = 'reject')
    INTO approvals, admins, people_admins, people, rejections
    FROM approval_decisions d
    LEFT JOIN api_keys k ON d.decided_by_kind = 'key' AND k.tenant_id = d.tenant_id AND k.id::text = d.decided_by_id
   WHERE d.tenant_id = OLD.tenant_id AND d.proposal_id = OLD.id;
  IF NEW.status = 'approved' AND (rejections > 0 OR CASE
       WHEN OLD.kind = 'admin' THEN people_admins < 1
       WHEN OLD.risk = 'write' THEN approvals < 1
       WHEN OLD.risk = 'sensitive' THEN admins < 1 AND people < 2
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
