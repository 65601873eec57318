-- Bring-your-own AI provider keys. The key is sealed with the tenant's data key (bound to the provider
-- and base URL); only its last four characters are stored in clear, to tell keys apart.
CREATE TABLE ai_providers (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  provider        text NOT NULL CHECK (provider IN ('openai', 'anthropic', 'openai-compatible')),
  api_key_sealed  bytea NOT NULL,
  api_key_last4   text NOT NULL CHECK (length(api_key_last4) <= 4),
  -- Only a compatible endpoint names its own base URL: the official providers' keys go to their own hosts.
  base_url        text CHECK ((provider = 'openai-compatible') = (base_url IS NOT NULL)),
  model           text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
  embedding_model text CHECK (length(embedding_model) BETWEEN 1 AND 200),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, provider)
);
SELECT parley_isolate_tenant_table('ai_providers');
GRANT SELECT, INSERT, UPDATE, DELETE ON ai_providers TO parley_app;
-- Rotation re-seals keys on the platform path.
GRANT SELECT, UPDATE ON ai_providers TO parley_platform;
