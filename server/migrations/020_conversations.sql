-- Conversations, their messages, the reversible-PII vault, handoffs and the live event feed.
-- Messages are stored redacted: strict PII is gone, reversible PII is a token whose value is sealed in
-- pii_vault with the tenant's data key. A database dump therefore holds no reversible PII in clear.

CREATE TABLE conversations (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  visitor_id       text NOT NULL,
  channel          text NOT NULL DEFAULT 'widget' CHECK (channel IN ('widget', 'api', 'email')),
  origin           text,
  -- Sign-In Pro: the verified subject, and the profile sealed with the tenant's data key.
  verified         boolean NOT NULL DEFAULT false,
  identity_subject text,
  identity_profile bytea,
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'handoff', 'closed')),
  -- Token numbering of the redaction engine, so one value keeps one token across the conversation.
  redaction_state  jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (verified = (identity_subject IS NOT NULL))
);
CREATE INDEX conversations_visitor ON conversations (tenant_id, visitor_id, created_at DESC);

CREATE TABLE messages (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id   uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq               integer NOT NULL,
  role              text NOT NULL CHECK (role IN ('visitor', 'assistant', 'agent', 'system')),
  text              text NOT NULL,
  -- [{class, start, end, score, action, token}] on the redacted text: never the values.
  pii               jsonb NOT NULL DEFAULT '[]'::jsonb,
  citations         jsonb NOT NULL DEFAULT '[]'::jsonb,
  confidence        real,
  author_id         text,
  client_message_id text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (conversation_id, seq),
  UNIQUE (conversation_id, client_message_id)
);

CREATE TABLE pii_vault (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  token           text NOT NULL,
  class           text NOT NULL,
  sealed          bytea NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, token)
);

CREATE TABLE handoffs (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'assigned', 'resolved')),
  reason          text NOT NULL CHECK (reason IN ('low_confidence', 'visitor_request', 'sensitive_topic', 'budget', 'provider_error', 'identity_required')),
  detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
  assigned_to     text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoffs_status ON handoffs (tenant_id, status, created_at);

-- What live listeners (the widget, the agent inbox) receive; the id doubles as the SSE Last-Event-ID.
CREATE TABLE conversation_events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  type            text NOT NULL,
  payload         jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_events_feed ON conversation_events (conversation_id, id);

SELECT parley_isolate_tenant_table('conversations'), parley_isolate_tenant_table('messages'), parley_isolate_tenant_table('pii_vault'), parley_isolate_tenant_table('handoffs'), parley_isolate_tenant_table('conversation_events');

GRANT SELECT, INSERT, UPDATE ON conversations, handoffs TO parley_app;
GRANT SELECT, INSERT ON messages, pii_vault, conversation_events TO parley_app;
GRANT SELECT ON conversations, messages, handoffs, conversation_events TO parley_platform;
-- Data key rotation re-seals vault values (the sweep as the platform, or a tenant's own request).
GRANT SELECT, UPDATE ON pii_vault TO parley_platform;
GRANT UPDATE (sealed) ON pii_vault TO parley_app;
