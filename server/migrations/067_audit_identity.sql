-- The audit log's identity and evidence that survives an owner deleting signed checkpoints.
--
-- 1. Identity: a log's origin line and signing key name are fixed when the log first writes and stored,
--    never recomputed from the current host or port. audit_identity holds the deployment's (used for new
--    logs); audit_heads.origin / key_name hold each log's own.
-- 2. Signing keys: every public key that ever signed checkpoints, newest first by created_at. Each row is
--    a signed note by that key naming the key it replaced, so a verifier that trusts the configured key
--    trusts its predecessors through the chain and nothing an owner inserts beside them.
-- 3. Checkpoint chain: the head counts checkpoints and keeps the hash of the newest signed note; every
--    new checkpoint carries both in a signed extension line (see server/src/audit/log.ts).
-- 4. Entry signatures: each new entry carries key id ‖ Ed25519 signature over (origin, seq, leaf hash), so
--    a rewrite is found at its own index even when leaves, nodes, head and checkpoints were recomputed.
--    signed_from is the first seq written with a signature (entries before it predate this migration).

CREATE TABLE audit_identity (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  origin_prefix text NOT NULL CHECK (origin_prefix <> ''),
  key_name      text NOT NULL CHECK (key_name <> ''),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_signing_keys (
  public_key bytea PRIMARY KEY CHECK (length(public_key) = 32),
  previous   bytea CHECK (previous IS NULL OR length(previous) = 32),
  note       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Public data (the verifier keys are published), not tenant-scoped: no row-level security.
GRANT SELECT, INSERT ON audit_identity, audit_signing_keys TO parley_app, parley_platform;

CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_identity
  FOR EACH ROW EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON audit_identity
  FOR EACH STATEMENT EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_signing_keys
  FOR EACH ROW EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON audit_signing_keys
  FOR EACH STATEMENT EXECUTE FUNCTION parley_audit_append_only();

ALTER TABLE audit_heads
  ADD COLUMN origin text,
  ADD COLUMN key_name text,
  ADD COLUMN checkpoint_count bigint NOT NULL DEFAULT 0,
  ADD COLUMN last_checkpoint_hash bytea CHECK (last_checkpoint_hash IS NULL OR length(last_checkpoint_hash) = 32),
  ADD COLUMN signed_from bigint NOT NULL DEFAULT 0;

ALTER TABLE audit_entries ADD COLUMN sig bytea CHECK (sig IS NULL OR length(sig) = 68);

-- Existing logs: recover the identity they were signed with from their oldest checkpoint (its origin
-- line and the name on its signature line), count their checkpoints and hash the newest one, and mark
-- every entry so far as written before entry signatures.
WITH oldest AS (
  SELECT DISTINCT ON (tenant_id) tenant_id, note FROM audit_checkpoints ORDER BY tenant_id, size
), newest AS (
  SELECT DISTINCT ON (tenant_id) tenant_id, note FROM audit_checkpoints ORDER BY tenant_id, size DESC
), counted AS (
  SELECT tenant_id, count(*) AS n FROM audit_checkpoints GROUP BY tenant_id
)
UPDATE audit_heads h SET
  origin = split_part(o.note, E'\n', 1),
  key_name = substring(o.note FROM E'\n\n\u2014 ([^ \n]+) '),
  checkpoint_count = c.n,
  last_checkpoint_hash = sha256(convert_to(nw.note, 'UTF8'))
FROM oldest o, newest nw, counted c
WHERE o.tenant_id = h.tenant_id AND nw.tenant_id = h.tenant_id AND c.tenant_id = h.tenant_id;

UPDATE audit_heads SET signed_from = size;

-- The deployment identity: the platform log's, else any log's (its origin without the trailing tenant id).
INSERT INTO audit_identity (origin_prefix, key_name)
SELECT left(origin, length(origin) - length('/' || tenant_id::text)), key_name
FROM audit_heads
WHERE origin IS NOT NULL AND key_name IS NOT NULL AND origin LIKE '%/' || tenant_id::text
ORDER BY tenant_id = '00000000-0000-0000-0000-000000000000' DESC, size DESC
LIMIT 1;

-- Logs that never signed a checkpoint take the deployment identity, when there is one already.
UPDATE audit_heads h SET origin = i.origin_prefix || '/' || h.tenant_id::text, key_name = i.key_name
FROM audit_identity i WHERE h.origin IS NULL;

-- A log's identity is set once; its checkpoint count and entry-signature start only move forward.
CREATE OR REPLACE FUNCTION parley_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.size < OLD.size OR NEW.last_checkpoint_size < OLD.last_checkpoint_size
     OR NEW.checkpoint_count < OLD.checkpoint_count OR NEW.signed_from <> OLD.signed_from
     OR (OLD.origin IS NOT NULL AND NEW.origin IS DISTINCT FROM OLD.origin)
     OR (OLD.key_name IS NOT NULL AND NEW.key_name IS DISTINCT FROM OLD.key_name) THEN
    RAISE EXCEPTION 'audit head may only move forward' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
