-- "Sign in with SSO" sends an email address to the tenant whose connection lists its domain, so a domain
-- may be listed by one tenant only: another tenant listing it would receive that organisation's people.
-- Which other tenant holds a domain is read across tenants here (the app sees its own rows only); a
-- connection is written after this check under one transaction-scoped lock, so two tenants cannot both
-- claim a domain at once.
CREATE FUNCTION parley_sso_domains_elsewhere(p_tenant uuid, p_domains text[])
RETURNS SETOF text
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT d FROM sso_connections c, unnest(c.allowed_domains) AS d
   WHERE c.tenant_id <> p_tenant AND d = ANY (p_domains) ORDER BY 1
$$;
ALTER FUNCTION parley_sso_domains_elsewhere(uuid, text[]) OWNER TO parley_platform;
REVOKE ALL ON FUNCTION parley_sso_domains_elsewhere(uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION parley_sso_domains_elsewhere(uuid, text[]) TO parley_app;
