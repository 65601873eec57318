-- Evidence packs kept current: a tenant that asks for it (a subscription) gets a new pack version built
-- by the evidence sweep whenever its policies change, and the version it replaces is marked superseded.
-- Packs hold no personal data (audit entries are ids, counts and hashes; the rest is configuration).
CREATE TABLE evidence_subscriptions (
  tenant_id   uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  framework   text NOT NULL CHECK (framework IN ('soc2', 'eu-ai-act', 'nist-ai-rmf', 'iso-42001')),
  period_days integer NOT NULL CHECK (period_days BETWEEN 1 AND 366),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE evidence_packs (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  version         integer NOT NULL CHECK (version >= 1),
  framework       text NOT NULL CHECK (framework IN ('soc2', 'eu-ai-act', 'nist-ai-rmf', 'iso-42001')),
  -- SHA-256 of the policies the pack shows: a new version is built when it no longer matches.
  policy_sha256   bytea NOT NULL CHECK (length(policy_sha256) = 32),
  manifest_sha256 bytea NOT NULL CHECK (length(manifest_sha256) = 32),
  archive         bytea NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  superseded_at   timestamptz,
  PRIMARY KEY (tenant_id, version)
);

SELECT parley_isolate_tenant_table('evidence_subscriptions'), parley_isolate_tenant_table('evidence_packs');
GRANT SELECT, INSERT, UPDATE, DELETE ON evidence_subscriptions TO parley_app;
GRANT SELECT, INSERT, UPDATE ON evidence_packs TO parley_app;
-- The sweep finds the subscribed tenants on the platform path (tenant ids only), then works in each tenant.
GRANT SELECT ON evidence_subscriptions TO parley_platform;
