-- 010 wrote the knowledge tables' isolation policy out by hand, a copy of parley_isolate_tenant_table's.
-- Recreate it through the function, so one definition decides every tenant table's isolation.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['knowledge_sources', 'knowledge_chunks', 'knowledge_postings', 'knowledge_terms', 'knowledge_stats'] LOOP
    EXECUTE format('DROP POLICY tenant_isolation ON %I', t);
    PERFORM parley_isolate_tenant_table(t::regclass);
  END LOOP;
END $$;
