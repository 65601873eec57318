-- Each instance keeps what every page view reads for a few seconds (widget/front-cache.ts): a publishable
-- key's tenant, the tenant's allowed domains, its widget settings. Whatever changes them tells every instance
-- with the commit, naming the tenant whose entries it drops, so a removed domain or a revoked key stops
-- working everywhere at once; the cache's TTL is left as the bound for notices lost with a connection.
-- The argument names the column that holds the tenant's id.
CREATE FUNCTION parley_notify_widget_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pg_notify('parley_widget_changes', coalesce(to_jsonb(NEW), to_jsonb(OLD)) ->> TG_ARGV[0]);
  RETURN NULL;
END $$;

CREATE TRIGGER publishable_keys_notify_widget
  AFTER UPDATE OR DELETE ON publishable_keys
  FOR EACH ROW EXECUTE FUNCTION parley_notify_widget_change('tenant_id');
CREATE TRIGGER tenant_domains_notify_widget
  AFTER INSERT OR UPDATE OR DELETE ON tenant_domains
  FOR EACH ROW EXECUTE FUNCTION parley_notify_widget_change('tenant_id');
CREATE TRIGGER identity_settings_notify_widget
  AFTER INSERT OR UPDATE OR DELETE ON identity_settings
  FOR EACH ROW EXECUTE FUNCTION parley_notify_widget_change('tenant_id');
-- Its name and settings; a deletion cascades to the tables above as well.
CREATE TRIGGER tenants_notify_widget
  AFTER UPDATE OF name, settings OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION parley_notify_widget_change('id');
