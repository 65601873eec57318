-- Envelope encryption: one data key (DEK) per tenant and version, stored only wrapped by the key
-- encryption key (the local master key, or AWS KMS with the tenant id as encryption context).
CREATE TABLE tenant_data_keys (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  version    integer NOT NULL CHECK (version >= 1),
  kek_id     text NOT NULL,
  wrapped    bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz,
  PRIMARY KEY (tenant_id, version)
);
SELECT parley_isolate_tenant_table('tenant_data_keys');
GRANT SELECT, INSERT, UPDATE ON tenant_data_keys TO parley_app, parley_platform;
