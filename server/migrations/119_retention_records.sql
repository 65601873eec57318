-- Retention and open handoffs: a conversation past its `messages` window whose handoff is still open
-- (waiting for a person, or taken by one) is not deleted until the handoff is resolved; the sweep marks it
-- held the first time it passes it by, and counts it then in the tenant's retention.sweep entry, so a
-- conversation kept past its window is never kept silently, nor counted again each run. Resolving the
-- handoff clears the mark (the conversation keeps its window from the resolution, as from any activity).
ALTER TABLE conversations ADD COLUMN retention_held_at timestamptz;
GRANT UPDATE (retention_held_at) ON conversations TO parley_platform;

-- Approval proposals hold what the approver was shown: an admin operation's arguments (an invitee's
-- email, a key's name), an action's arguments, free-text reasons, what an endpoint answered. Once decided
-- or expired, and older than the deployment's event retention, the sweep redacts those (arguments to {},
-- the rest to null) and stamps redacted_at; what the audit needs stays: the operation or action, its risk
-- and state, who asked, when, the hash of the exact request, and the decisions. A proposal in a
-- conversation goes with the conversation instead. The rail's transition trigger keeps a proposal's
-- content fixed; a redaction is the one change of content it allows, checked by its own trigger.
ALTER TABLE approval_proposals ADD COLUMN redacted_at timestamptz;

DROP TRIGGER approval_proposals_transition ON approval_proposals;
CREATE TRIGGER approval_proposals_transition BEFORE UPDATE ON approval_proposals
  FOR EACH ROW WHEN (NEW.redacted_at IS NOT DISTINCT FROM OLD.redacted_at) EXECUTE FUNCTION parley_proposal_transition();

CREATE FUNCTION parley_proposal_redact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.redacted_at IS NOT NULL OR NEW.redacted_at IS NULL
     OR OLD.status NOT IN ('rejected', 'expired', 'executed', 'failed') THEN
    RAISE EXCEPTION 'approval rail: only a decided or expired proposal is redacted, once' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.arguments <> '{}'::jsonb OR NEW.subject IS NOT NULL OR NEW.reason IS NOT NULL OR NEW.result_summary IS NOT NULL
     OR (NEW.tenant_id, NEW.id, NEW.kind, NEW.action_id, NEW.risk, NEW.conversation_id, NEW.requested_by_kind, NEW.requested_by_id,
         NEW.status, NEW.expires_at, NEW.created_at, NEW.updated_at, NEW.executing_at, NEW.finished_at, NEW.result_status, NEW.error,
         NEW.operation, NEW.arguments_hash)
     IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.kind, OLD.action_id, OLD.risk, OLD.conversation_id, OLD.requested_by_kind, OLD.requested_by_id,
         OLD.status, OLD.expires_at, OLD.created_at, OLD.updated_at, OLD.executing_at, OLD.finished_at, OLD.result_status, OLD.error,
         OLD.operation, OLD.arguments_hash) THEN
    RAISE EXCEPTION 'approval rail: a redaction only empties the arguments, subject, reason and result' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER approval_proposals_redact BEFORE UPDATE ON approval_proposals
  FOR EACH ROW WHEN (NEW.redacted_at IS DISTINCT FROM OLD.redacted_at) EXECUTE FUNCTION parley_proposal_redact();

GRANT UPDATE (arguments, subject, reason, result_summary, redacted_at) ON approval_proposals TO parley_platform;
CREATE INDEX approval_proposals_unredacted ON approval_proposals (updated_at)
  WHERE redacted_at IS NULL AND status IN ('rejected', 'expired', 'executed', 'failed');
