-- Tamper-evident audit log: one RFC 9162 Merkle tree per tenant (and one for the platform, under the nil
-- uuid). Entries, tree nodes and checkpoints are append-only: the app may only INSERT and SELECT, and
-- triggers refuse UPDATE, DELETE and TRUNCATE for everyone, the owner included.

CREATE TABLE audit_entries (
  tenant_id      uuid NOT NULL,
  seq            bigint NOT NULL CHECK (seq >= 0),
  ts             timestamptz NOT NULL,
  request_id     text,
  actor_type     text NOT NULL,
  actor_id       text,
  action         text NOT NULL,
  target_type    text,
  target_id      text,
  policy_version integer NOT NULL,
  source         text NOT NULL,
  reason         text,
  metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
  leaf_hash      bytea NOT NULL CHECK (length(leaf_hash) = 32),
  PRIMARY KEY (tenant_id, seq)
);

-- Perfect subtrees of level >= 1 completed by appends: proofs need O(log n) of them, never a full scan.
CREATE TABLE audit_nodes (
  tenant_id uuid NOT NULL,
  level     smallint NOT NULL CHECK (level >= 1),
  idx       bigint NOT NULL,
  hash      bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (tenant_id, level, idx)
);

CREATE TABLE audit_checkpoints (
  tenant_id  uuid NOT NULL,
  size       bigint NOT NULL,
  root       bytea NOT NULL,
  note       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, size)
);

-- The tree head: the size and the compact range (perfect-subtree roots, largest first, 32 bytes each)
-- from which the next append and the current root follow. Locking this row orders appends per tenant.
CREATE TABLE audit_heads (
  tenant_id            uuid PRIMARY KEY,
  size                 bigint NOT NULL DEFAULT 0,
  frontier             bytea NOT NULL DEFAULT ''::bytea,
  last_checkpoint_size bigint NOT NULL DEFAULT 0,
  last_checkpoint_at   timestamptz NOT NULL DEFAULT now()
);

SELECT parley_isolate_tenant_table('audit_entries'), parley_isolate_tenant_table('audit_nodes'), parley_isolate_tenant_table('audit_checkpoints'), parley_isolate_tenant_table('audit_heads');

GRANT SELECT, INSERT ON audit_entries, audit_nodes, audit_checkpoints TO parley_app, parley_platform;
GRANT SELECT, INSERT, UPDATE ON audit_heads TO parley_app, parley_platform;

CREATE FUNCTION parley_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_nodes
  FOR EACH ROW EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON audit_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION parley_audit_append_only();
-- Heads only move forward; deleting one would let a log restart from zero.
CREATE TRIGGER append_only_delete BEFORE DELETE ON audit_heads
  FOR EACH ROW EXECUTE FUNCTION parley_audit_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON audit_heads
  FOR EACH STATEMENT EXECUTE FUNCTION parley_audit_append_only();

CREATE FUNCTION parley_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.size < OLD.size OR NEW.last_checkpoint_size < OLD.last_checkpoint_size THEN
    RAISE EXCEPTION 'audit head may only move forward' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER forward_only BEFORE UPDATE ON audit_heads
  FOR EACH ROW EXECUTE FUNCTION parley_audit_head_forward();

INSERT INTO audit_heads (tenant_id) VALUES ('00000000-0000-0000-0000-000000000000');
