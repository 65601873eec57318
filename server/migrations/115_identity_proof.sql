-- A verified widget session's refresh family keeps what proved its Sign-In Pro identity (identity/verify.ts):
-- `secret:<kid>`, `key:<thumbprint>` or `jwks:<thumbprint>`. Revoking that secret, or taking that key or
-- the JWKS URL away, revokes the families it proved in the same transaction (identity/service.ts), so no
-- refresh chain carries the identity on. Families verified before this migration cannot say what proved
-- them: `legacy`, ended by any revocation of a secret or change of keys.
ALTER TABLE widget_refresh_tokens ADD COLUMN IF NOT EXISTS identity_proof text;
-- The owner is subject to forced row-level security; lift it for this data step only.
ALTER TABLE widget_refresh_tokens NO FORCE ROW LEVEL SECURITY;
UPDATE widget_refresh_tokens SET identity_proof = 'legacy' WHERE identity_subject IS NOT NULL AND identity_proof IS NULL;
ALTER TABLE widget_refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE INDEX IF NOT EXISTS widget_refresh_proof ON widget_refresh_tokens (tenant_id, identity_proof)
  WHERE identity_proof IS NOT NULL AND revoked_at IS NULL;
