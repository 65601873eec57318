-- Daily AI usage per tenant, for the tokens-per-day budget.
CREATE TABLE ai_usage (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  day       date NOT NULL,
  requests  integer NOT NULL DEFAULT 0,
  tokens    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day)
);
SELECT parley_isolate_tenant_table('ai_usage');
GRANT SELECT, INSERT, UPDATE ON ai_usage TO parley_app;
