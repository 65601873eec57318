-- Each instance keeps what an admin knowledge search reads before it scores (knowledge/inputs-cache.ts): the
-- tenant's retrieval settings, its index version and statistics, and whether it has an embedding model.
-- Whatever changes them tells every instance with the commit, naming the tenant whose entry it drops, so a
-- search on any instance sees a change to the knowledge, the settings or the providers on its next request.
-- The argument names the column that holds the tenant's id.
CREATE FUNCTION parley_notify_retrieval_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pg_notify('parley_retrieval_changes', coalesce(to_jsonb(NEW), to_jsonb(OLD)) ->> TG_ARGV[0]);
  RETURN NULL;
END $$;

-- Every change to a tenant's chunks bumps its version here (migration 102), in the same transaction.
CREATE TRIGGER knowledge_stats_notify_retrieval
  AFTER INSERT OR UPDATE OR DELETE ON knowledge_stats
  FOR EACH ROW EXECUTE FUNCTION parley_notify_retrieval_change('tenant_id');
CREATE TRIGGER ai_providers_notify_retrieval
  AFTER INSERT OR UPDATE OR DELETE ON ai_providers
  FOR EACH ROW EXECUTE FUNCTION parley_notify_retrieval_change('tenant_id');
CREATE TRIGGER tenants_notify_retrieval
  AFTER UPDATE OF settings OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION parley_notify_retrieval_change('id');
