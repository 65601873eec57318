-- The agent workspace: availability, internal notes, the live inbox feed, handoff timings, canned
-- replies, ratings (CSAT) and the email a visitor leaves outside business hours.

-- Availability is what an agent chose; last_seen_at is when a console of theirs last had the inbox
-- stream open (presence "online").
ALTER TABLE members ADD COLUMN IF NOT EXISTS availability text NOT NULL DEFAULT 'available' CHECK (availability IN ('available', 'away'));
ALTER TABLE members ADD COLUMN IF NOT EXISTS last_seen_at timestamptz;

-- Internal notes are messages of their own role (author_id = the member): kept out of every visitor
-- view, every webhook and the AI history by that role.
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_role_check;
ALTER TABLE messages ADD CONSTRAINT messages_role_check CHECK (role IN ('visitor', 'assistant', 'agent', 'system', 'note'));

-- The feed. `audience` says who may see an event: everyone in the conversation, or agents only (notes,
-- the visitor's typing, a left email). `xid` is the writing transaction: ids are allocated at insert but
-- transactions commit in another order, so the tenant-wide inbox stream reads in (xid, id) order and
-- only events whose transaction is older than every running one (pg_snapshot_xmin), which can no
-- longer be joined by an earlier-numbered straggler. Presence changes belong to no conversation.
ALTER TABLE conversation_events ADD COLUMN IF NOT EXISTS audience text NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'agents'));
ALTER TABLE conversation_events ADD COLUMN IF NOT EXISTS xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE conversation_events ALTER COLUMN conversation_id DROP NOT NULL;
ALTER TABLE conversation_events ADD CONSTRAINT conversation_events_scope CHECK (conversation_id IS NOT NULL OR type = 'presence');
CREATE INDEX IF NOT EXISTS conversation_events_inbox ON conversation_events (tenant_id, xid, id);

-- Handoff timings for the inbox and reports. `resolutions` counts how often it was resolved (a reopen
-- makes the next resolution a new one, with its own rating).
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS assigned_at timestamptz;
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS first_response_at timestamptz;
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS resolved_at timestamptz;
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS resolved_by text;
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS resolutions integer NOT NULL DEFAULT 0 CHECK (resolutions >= 0);
CREATE INDEX IF NOT EXISTS handoffs_conversation ON handoffs (tenant_id, conversation_id, created_at DESC);
CREATE INDEX IF NOT EXISTS handoffs_assignee ON handoffs (tenant_id, assigned_to) WHERE status <> 'resolved';
CREATE INDEX IF NOT EXISTS handoffs_resolved ON handoffs (tenant_id, resolved_at) WHERE resolved_at IS NOT NULL;
-- Resolutions before this migration: their last update was the resolution.
ALTER TABLE handoffs NO FORCE ROW LEVEL SECURITY;
UPDATE handoffs SET resolved_at = updated_at, resolutions = 1 WHERE status = 'resolved' AND resolved_at IS NULL;
ALTER TABLE handoffs FORCE ROW LEVEL SECURITY;

-- The email a visitor left (outside business hours), sealed with the tenant's data key and bound to the
-- conversation; reading it is audited.
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS contact_email_sealed bytea;
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS contact_left_at timestamptz;

CREATE TABLE canned_replies (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id          uuid NOT NULL,
  title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
  body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  shortcut    text CHECK (shortcut ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, shortcut)
);
SELECT parley_isolate_tenant_table('canned_replies');
GRANT SELECT, INSERT, UPDATE, DELETE ON canned_replies TO parley_app;

-- One rating per resolution of a handoff. The comment is visitor text: stored redacted (pii holds the
-- redaction spans, never values), like a message.
CREATE TABLE csat_responses (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id              uuid NOT NULL,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  handoff_id      uuid NOT NULL REFERENCES handoffs(id) ON DELETE CASCADE,
  resolution      integer NOT NULL CHECK (resolution >= 1),
  score           smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment         text CHECK (length(comment) <= 4000),
  comment_pii     jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, handoff_id, resolution)
);
CREATE INDEX csat_responses_created ON csat_responses (tenant_id, created_at);
SELECT parley_isolate_tenant_table('csat_responses');
GRANT SELECT, INSERT ON csat_responses TO parley_app;
GRANT SELECT ON csat_responses TO parley_platform;

-- On a database where 090 ran already, make the new references tenant-scoped now; on a new database
-- 090 converts them after this file.
DO $$ BEGIN
  IF to_regprocedure('parley_tenant_foreign_keys()') IS NOT NULL THEN PERFORM parley_tenant_foreign_keys(); END IF;
END $$;
