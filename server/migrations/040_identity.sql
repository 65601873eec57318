-- Sign-In Pro (verified visitors) and widget sessions.

CREATE TABLE identity_settings (
  tenant_id   uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  mode        text NOT NULL DEFAULT 'optional' CHECK (mode IN ('optional', 'required')),
  -- Public keys only: the tenant's private key never leaves the tenant.
  public_keys jsonb NOT NULL DEFAULT '[]'::jsonb,
  jwks_url    text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Shared signing secrets (HS256), sealed with the tenant's data key; several may be active in rotation.
CREATE TABLE identity_secrets (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kid        text NOT NULL UNIQUE,
  sealed     bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

-- One-time use of identity tokens: a jti seen before is a replay.
CREATE TABLE identity_token_uses (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, jti)
);

-- The verified profile of a visitor, sealed; conversations refer to it by subject.
CREATE TABLE verified_visitors (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  subject    text NOT NULL,
  profile    bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, subject)
);

-- Widget refresh tokens: stored hashed, one-time; reuse of a spent token revokes its whole family.
CREATE TABLE widget_refresh_tokens (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  family_id        uuid NOT NULL,
  token_hash       bytea NOT NULL UNIQUE,
  visitor_id       text NOT NULL,
  origin           text NOT NULL,
  identity_subject text,
  expires_at       timestamptz NOT NULL,
  used_at          timestamptz,
  revoked_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX widget_refresh_family ON widget_refresh_tokens (tenant_id, family_id);

SELECT parley_isolate_tenant_table('identity_settings'), parley_isolate_tenant_table('identity_secrets'), parley_isolate_tenant_table('identity_token_uses'), parley_isolate_tenant_table('verified_visitors'), parley_isolate_tenant_table('widget_refresh_tokens');

GRANT SELECT, INSERT, UPDATE ON identity_settings, identity_secrets, verified_visitors, widget_refresh_tokens TO parley_app;
GRANT SELECT, INSERT, DELETE ON identity_token_uses TO parley_app;
-- The data key rotation sweep re-seals secrets and profiles.
GRANT SELECT, UPDATE ON identity_secrets, verified_visitors TO parley_platform;
