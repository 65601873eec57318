-- Every reference between tenant tables carries the tenant: (tenant_id, x_id) -> parent (tenant_id, id).
-- A foreign key check reads the parent past row-level security, so a single-column key let the app role
-- store a row of one tenant pointing at another tenant's conversation, and "unknown id" (an error)
-- versus "another tenant's id" (stored) told which ids exist elsewhere. With the tenant in the key, both
-- are the same foreign key violation.
--
-- This runs after every other migration and converts whatever single-column references between tenant
-- tables it finds in the catalog (tables added by earlier migrations included); it is idempotent, and a
-- later migration may call parley_tenant_foreign_keys() again.

-- Makes sure `t` has a unique constraint (or unique index) on exactly (tenant_id, cols), the target a
-- composite foreign key needs. Safe to call when one exists already, under any name.
CREATE OR REPLACE FUNCTION parley_ensure_tenant_unique(t regclass, cols text[] DEFAULT ARRAY['id']) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  wanted int2[];
BEGIN
  SELECT array_agg(a.attnum ORDER BY a.attnum) INTO wanted
    FROM pg_attribute a
   WHERE a.attrelid = t AND NOT a.attisdropped AND a.attname = ANY (array_append(cols, 'tenant_id'));
  IF cardinality(wanted) IS DISTINCT FROM cardinality(array_append(cols, 'tenant_id')) THEN
    RAISE EXCEPTION 'parley_ensure_tenant_unique: % lacks one of the columns tenant_id, %', t, array_to_string(cols, ', ');
  END IF;
  IF EXISTS (
    SELECT 1 FROM pg_index i
     WHERE i.indrelid = t AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
       AND i.indnkeyatts = cardinality(wanted)
       AND (SELECT array_agg(k ORDER BY k) FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) AS k) = wanted
  ) THEN
    RETURN;
  END IF;
  EXECUTE format('ALTER TABLE %s ADD UNIQUE (tenant_id, %s)', t,
    (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) AS c));
END $$;
REVOKE ALL ON FUNCTION parley_ensure_tenant_unique(regclass, text[]) FROM PUBLIC;

-- Converts every single-column foreign key between two tenant tables (both have tenant_id) into the
-- composite form, keeping its name, match type, actions and deferrability; returns how many it changed.
CREATE OR REPLACE FUNCTION parley_tenant_foreign_keys() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  fk record;
  changed integer := 0;
  child_cols text;
  parent_cols text[];
  on_delete text;
  on_update text;
BEGIN
  FOR fk IN
    SELECT c.conname, c.conrelid::regclass AS child, c.confrelid::regclass AS parent, c.conkey, c.confkey,
           c.confdeltype, c.confupdtype, c.confmatchtype, c.condeferrable, c.condeferred
      FROM pg_constraint c
      JOIN pg_namespace n ON n.oid = c.connamespace
      JOIN pg_attribute ct ON ct.attrelid = c.conrelid AND ct.attname = 'tenant_id' AND NOT ct.attisdropped
      JOIN pg_attribute pt ON pt.attrelid = c.confrelid AND pt.attname = 'tenant_id' AND NOT pt.attisdropped
     WHERE c.contype = 'f' AND n.nspname = 'public' AND NOT (ct.attnum = ANY (c.conkey))
     ORDER BY c.conrelid::regclass::text, c.conname
  LOOP
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i) INTO child_cols
      FROM unnest(fk.conkey) WITH ORDINALITY AS k(att, i)
      JOIN pg_attribute a ON a.attrelid = fk.child AND a.attnum = k.att;
    SELECT array_agg(a.attname::text ORDER BY k.i) INTO parent_cols
      FROM unnest(fk.confkey) WITH ORDINALITY AS k(att, i)
      JOIN pg_attribute a ON a.attrelid = fk.parent AND a.attnum = k.att;
    PERFORM parley_ensure_tenant_unique(fk.parent, parent_cols);
    -- SET NULL / SET DEFAULT touch only the reference's own columns: tenant_id stays (and is NOT NULL).
    on_delete := CASE fk.confdeltype
      WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
      WHEN 'n' THEN format('SET NULL (%s)', child_cols) WHEN 'd' THEN format('SET DEFAULT (%s)', child_cols) END;
    on_update := CASE fk.confupdtype
      WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
      WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END;
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.child, fk.conname);
    EXECUTE format(
      'ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (tenant_id, %s) REFERENCES %s (tenant_id, %s) MATCH %s ON DELETE %s ON UPDATE %s %s %s',
      fk.child, fk.conname, child_cols, fk.parent,
      (SELECT string_agg(quote_ident(c), ', ') FROM unnest(parent_cols) AS c),
      CASE fk.confmatchtype WHEN 'f' THEN 'FULL' ELSE 'SIMPLE' END, on_delete, on_update,
      CASE WHEN fk.condeferrable THEN 'DEFERRABLE' ELSE 'NOT DEFERRABLE' END,
      CASE WHEN fk.condeferred THEN 'INITIALLY DEFERRED' ELSE 'INITIALLY IMMEDIATE' END);
    changed := changed + 1;
  END LOOP;
  RETURN changed;
END $$;
REVOKE ALL ON FUNCTION parley_tenant_foreign_keys() FROM PUBLIC;

SELECT parley_tenant_foreign_keys();
