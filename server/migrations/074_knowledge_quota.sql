-- Per-tenant knowledge quotas: the stored size of each source, so a tenant's totals (sources, bytes,
-- chunks) are read from the database in the transaction that writes, and enforced there.
ALTER TABLE knowledge_sources ADD COLUMN IF NOT EXISTS content_bytes integer NOT NULL DEFAULT 0 CHECK (content_bytes >= 0);
