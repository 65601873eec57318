-- Which identity at the tenant's IdP signs in which member. An IdP vouches for an email address, and any
-- account there may carry one, so an address alone must not open an account that has another way in:
-- a member is signed in by the identity linked to them (made when SSO provisioned them, or when they
-- confirmed it with their own password), never by a new identity that merely shares their address.
CREATE TABLE member_sso_links (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  member_id  uuid NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('oidc', 'saml')),
  issuer     text NOT NULL,
  subject    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, kind, issuer, subject),
  UNIQUE (tenant_id, member_id, kind),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
SELECT parley_isolate_tenant_table('member_sso_links');
GRANT SELECT, INSERT, DELETE ON member_sso_links TO parley_app;
GRANT SELECT, DELETE ON member_sso_links TO parley_platform;
