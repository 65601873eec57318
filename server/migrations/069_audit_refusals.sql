-- Counters of refused widget requests (wrong origin, wrong token, …) per tenant × action × subject ×
-- window. Anyone holding a publishable key can cause refusals, so the audit log gets one entry at the
-- first refusal of a window and one summary with the count when the window closes, not one per request.
-- The subject (a normalised origin, a reason) and the metadata are bounded by the application and here.
CREATE TABLE audit_refusals (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  action       text NOT NULL CHECK (length(action) <= 100),
  subject      text NOT NULL CHECK (length(subject) <= 300),
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL,
  count        bigint NOT NULL DEFAULT 1 CHECK (count > 0),
  metadata     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (octet_length(metadata::text) <= 2048),
  first_at     timestamptz NOT NULL DEFAULT now(),
  last_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, action, window_start, subject)
);
CREATE INDEX audit_refusals_closing ON audit_refusals (window_end);
SELECT parley_isolate_tenant_table('audit_refusals');
GRANT SELECT, INSERT, UPDATE ON audit_refusals TO parley_app;
GRANT SELECT, UPDATE, DELETE ON audit_refusals TO parley_platform;
