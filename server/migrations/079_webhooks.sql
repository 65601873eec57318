-- Outgoing webhooks: a tenant's endpoints, the events (a transactional outbox: written in the same
-- transaction as the change they describe) and one delivery per event × subscribed endpoint, claimed by
-- workers under row leases. Secrets are sealed with the tenant's data key; during a rotation the previous
-- secret is kept until its grace period ends, and deliveries carry both signatures.
CREATE TABLE webhook_endpoints (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id              uuid NOT NULL,
  url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
  description     text CHECK (length(description) <= 200),
  events          text[] NOT NULL CHECK (cardinality(events) >= 1),
  enabled         boolean NOT NULL DEFAULT true,
  disabled_reason text,
  secret_sealed   bytea NOT NULL,
  previous_secret_sealed     bytea,
  previous_secret_expires_at timestamptz,
  -- Since when every attempt has failed (null after a success): five days of it disables the endpoint.
  failing_since   timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
SELECT parley_isolate_tenant_table('webhook_endpoints');
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO parley_app;
-- Platform transactions (tenant creation, the CLI) raise events too, for the tenant they name; the data
-- key rotation sweep re-seals the secrets.
GRANT SELECT, UPDATE ON webhook_endpoints TO parley_platform;

-- The event as sent (the exact body bytes, so every retry signs the same body), kept 7 days; its id is
-- the `webhook-id` of every delivery of it.
CREATE TABLE webhook_events (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id         text NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
  type       text NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
  body       text NOT NULL CHECK (length(body) <= 262144),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_events_created ON webhook_events (created_at);
SELECT parley_isolate_tenant_table('webhook_events');
GRANT SELECT, INSERT ON webhook_events TO parley_app;
GRANT SELECT, INSERT, DELETE ON webhook_events TO parley_platform;

CREATE TABLE webhook_deliveries (
  tenant_id       uuid NOT NULL,
  id              uuid NOT NULL,
  endpoint_id     uuid NOT NULL,
  event_id        text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  holder          text,
  lease_until     timestamptz,
  response_code   integer,
  latency_ms      integer,
  error           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, event_id) REFERENCES webhook_events (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (tenant_id, event_id);
SELECT parley_isolate_tenant_table('webhook_deliveries');
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO parley_app;
-- Workers claim due deliveries across tenants (the work itself runs in the tenant's transaction).
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_deliveries TO parley_platform;

-- Every attempt: when, the answer's status, how long it took, what went wrong.
CREATE TABLE webhook_attempts (
  tenant_id     uuid NOT NULL,
  delivery_id   uuid NOT NULL,
  n             integer NOT NULL,
  at            timestamptz NOT NULL,
  response_code integer,
  latency_ms    integer NOT NULL,
  error         text CHECK (length(error) <= 500),
  PRIMARY KEY (tenant_id, delivery_id, n),
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);
SELECT parley_isolate_tenant_table('webhook_attempts');
GRANT SELECT, INSERT ON webhook_attempts TO parley_app;
GRANT SELECT, DELETE ON webhook_attempts TO parley_platform;
