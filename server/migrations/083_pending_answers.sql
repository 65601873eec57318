-- A visitor's question the assistant still owes an answer: one row from the transaction that stores the
-- question to the one that stores its answer (or its handoff). An instance that dies between the two
-- leaves the row behind, so the turn is not lost: a retry of the same message, or the turn sweeper on
-- any instance, claims it once `claimed_until` has passed and runs the answer. The claim is an atomic
-- UPDATE … WHERE claimed_until < now(), so two racing retries (or a retry and the sweeper) cannot both
-- answer; the answer itself is stored only by whoever deletes the row, in the answer's transaction.
CREATE TABLE pending_answers (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  message_id      uuid NOT NULL,
  conversation_id uuid NOT NULL,
  claimed_until   timestamptz NOT NULL,
  -- Claims taken after the first (retries and sweeps): the sweeper hands off a question it keeps failing.
  attempts        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX pending_answers_due ON pending_answers (claimed_until);
SELECT parley_isolate_tenant_table('pending_answers');
GRANT SELECT, INSERT, UPDATE, DELETE ON pending_answers TO parley_app;
GRANT SELECT, UPDATE, DELETE ON pending_answers TO parley_platform;
