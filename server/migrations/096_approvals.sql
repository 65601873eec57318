-- Actions the assistant can take, behind the approval rail (issue 15). An action is a tenant's endpoint
-- with an input schema and a risk level; every call of one is a proposal that goes
--   pending → approved | rejected | expired,  approved → executing | expired,  executing → executed | failed
-- (a `read` proposal starts approved). The triggers below make that the only way a proposal moves, even
-- for buggy application code: no illegal transition, no approval without the decisions it needs, no
-- decision by whoever asked, no decision once it is decided, and a proposal's content never changes.
CREATE TABLE actions (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id            uuid NOT NULL,
  name          text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
  description   text NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
  input_schema  jsonb NOT NULL,
  endpoint      text NOT NULL CHECK (length(endpoint) BETWEEN 1 AND 2000),
  risk          text NOT NULL CHECK (risk IN ('read', 'write', 'sensitive')),
  expires_after_seconds integer NOT NULL DEFAULT 86400 CHECK (expires_after_seconds BETWEEN 60 AND 2592000),
  enabled       boolean NOT NULL DEFAULT true,
  -- The signing secret of its calls (whsec_…), sealed with the tenant's data key, shown once.
  secret_sealed bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  -- Removed actions stay for their proposals' history; none of their proposals can execute.
  deleted_at    timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX actions_name ON actions (tenant_id, name) WHERE deleted_at IS NULL;

CREATE TABLE approval_proposals (
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id                uuid NOT NULL,
  -- What is proposed: an action call now; admin operations later, each kind with its own executor.
  kind              text NOT NULL DEFAULT 'action' CHECK (kind IN ('action')),
  action_id         uuid NOT NULL,
  -- The action's risk when proposed: it decides which approvals are needed.
  risk              text NOT NULL CHECK (risk IN ('read', 'write', 'sensitive')),
  -- Erasing or expiring a conversation takes its proposals with it (they hold the visitor's data).
  conversation_id   uuid REFERENCES conversations(id) ON DELETE CASCADE,
  subject           text,
  arguments         jsonb NOT NULL,
  reason            text CHECK (length(reason) <= 500),
  requested_by_kind text NOT NULL CHECK (requested_by_kind IN ('visitor', 'member', 'key')),
  requested_by_id   text NOT NULL CHECK (length(requested_by_id) BETWEEN 1 AND 200),
  status            text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'executing', 'executed', 'failed')),
  expires_at        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  executing_at      timestamptz,
  finished_at       timestamptz,
  result_status     integer,
  result_summary    text CHECK (length(result_summary) <= 4000),
  error             text CHECK (length(error) <= 500),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, action_id) REFERENCES actions (tenant_id, id)
);
CREATE INDEX approval_proposals_status ON approval_proposals (tenant_id, status, created_at);
CREATE INDEX approval_proposals_due ON approval_proposals (expires_at) WHERE status IN ('pending', 'approved', 'executing');

CREATE TABLE approval_decisions (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  proposal_id     uuid NOT NULL,
  decided_by_kind text NOT NULL CHECK (decided_by_kind IN ('member', 'key')),
  decided_by_id   text NOT NULL,
  decision        text NOT NULL CHECK (decision IN ('approve', 'reject')),
  -- Set by the trigger from the decider's role (owner, admin) or key (holding actions:write), never by the app.
  admin           boolean NOT NULL DEFAULT false,
  reason          text CHECK (length(reason) <= 500),
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- One decision per person: two approvals are two people.
  PRIMARY KEY (tenant_id, proposal_id, decided_by_kind, decided_by_id),
  FOREIGN KEY (tenant_id, proposal_id) REFERENCES approval_proposals (tenant_id, id) ON DELETE CASCADE
);

SELECT parley_isolate_tenant_table('actions'), parley_isolate_tenant_table('approval_proposals'),
       parley_isolate_tenant_table('approval_decisions');
GRANT SELECT, INSERT, UPDATE ON actions TO parley_app;
-- No DELETE: proposals and decisions are the rail's record (conversation erasure and tenant deletion
-- remove them through their own paths).
GRANT SELECT, INSERT, UPDATE ON approval_proposals TO parley_app;
GRANT SELECT, INSERT ON approval_decisions TO parley_app;
-- The sweep finds tenants with proposals due (ids only) on the platform path; rotation re-seals secrets.
GRANT SELECT ON approval_proposals TO parley_platform;
GRANT SELECT, UPDATE ON actions TO parley_platform;

-- A new proposal: pending, or approved only when it is a `read` of an action that is `read` now.
CREATE FUNCTION parley_proposal_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  a actions%ROWTYPE;
BEGIN
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
  IF NEW.executing_at IS NOT NULL OR NEW.finished_at IS NOT NULL OR NEW.result_status IS NOT NULL OR NEW.error IS NOT NULL THEN
    RAISE EXCEPTION 'approval rail: a new proposal has no result' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER approval_proposals_insert BEFORE INSERT ON approval_proposals
  FOR EACH ROW EXECUTE FUNCTION parley_proposal_insert();

-- A status change: only the legal ones, each with what it needs; the proposal's content is fixed.
CREATE FUNCTION parley_proposal_transition() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  approvals integer;
  admins integer;
  rejections integer;
BEGIN
  IF (NEW.tenant_id, NEW.id, NEW.kind, NEW.action_id, NEW.risk, NEW.arguments, NEW.requested_by_kind, NEW.requested_by_id, NEW.expires_at, NEW.created_at)
     IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.kind, OLD.action_id, OLD.risk, OLD.arguments, OLD.requested_by_kind, OLD.requested_by_id, OLD.expires_at, OLD.created_at)
     OR NEW.subject IS DISTINCT FROM OLD.subject OR NEW.conversation_id IS DISTINCT FROM OLD.conversation_id
     OR NEW.reason IS DISTINCT FROM OLD.reason THEN
    RAISE EXCEPTION 'approval rail: a proposal''s content never changes' USING ERRCODE = 'check_violation';
  END IF;
  IF NOT ((OLD.status, NEW.status) IN (('pending', 'approved'), ('pending', 'rejected'), ('pending', 'expired'),
                                        ('approved', 'executing'), ('approved', 'expired'),
                                        ('executing', 'executed'), ('executing', 'failed'))) THEN
    RAISE EXCEPTION 'approval rail: % → % is not a legal transition', OLD.status, NEW.status USING ERRCODE = 'check_violation';
  END IF;
  SELECT count(*) FILTER (WHERE decision = 'approve'), count(*) FILTER (WHERE decision = 'approve' AND admin),
         count(*) FILTER (WHERE decision = 'reject')
    INTO approvals, admins, rejections
    FROM approval_decisions WHERE tenant_id = OLD.tenant_id AND proposal_id = OLD.id;
  IF NEW.status = 'approved' AND (rejections > 0 OR CASE OLD.risk
       WHEN 'write' THEN approvals < 1
       WHEN 'sensitive' THEN admins < 1 AND approvals < 2
       ELSE true END) THEN
    RAISE EXCEPTION 'approval rail: a % proposal needs more approvals', OLD.risk USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'rejected' AND rejections < 1 THEN
    RAISE EXCEPTION 'approval rail: rejecting needs a rejection' USING ERRCODE = 'check_violation';
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
CREATE TRIGGER approval_proposals_transition BEFORE UPDATE ON approval_proposals
  FOR EACH ROW EXECUTE FUNCTION parley_proposal_transition();

-- A decision: on a pending proposal only, never by its requester; whether it counts as an admin's is read
-- from the decider's role or key here.
CREATE FUNCTION parley_decision_insert() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER approval_decisions_insert BEFORE INSERT ON approval_decisions
  FOR EACH ROW EXECUTE FUNCTION parley_decision_insert();

-- The conversation reference carries the tenant, like every reference between tenant tables (090).
SELECT parley_tenant_foreign_keys();
