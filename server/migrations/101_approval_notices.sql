-- The email that an admin operation waits for a decision: which proposals' notices went out, so the
-- approval sweep (on one instance of the fleet at a time) sends each once. Recorded after the emails
-- are sent: a sweep cut short sends a notice again rather than never.
CREATE TABLE approval_notices (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  proposal_id uuid NOT NULL,
  recipients  integer NOT NULL,
  sent_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, proposal_id),
  FOREIGN KEY (tenant_id, proposal_id) REFERENCES approval_proposals (tenant_id, id) ON DELETE CASCADE
);
SELECT parley_isolate_tenant_table('approval_notices');
GRANT SELECT, INSERT ON approval_notices TO parley_app;
GRANT SELECT ON approval_notices TO parley_platform;
