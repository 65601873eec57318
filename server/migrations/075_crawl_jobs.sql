-- Crawls of many pages (sitemaps) run as leased background jobs with progress: one instance runs a
-- job at a time; when its holder dies the lease lapses and another instance resumes at the next page.
CREATE TABLE crawl_jobs (
  id            uuid PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('sitemap')),
  url           text NOT NULL CHECK (length(url) <= 2000),
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  -- The pages to crawl, in order, once the sitemap is read; pages_done is the resume point.
  urls          text[],
  pages_total   integer,
  pages_done    integer NOT NULL DEFAULT 0 CHECK (pages_done >= 0),
  pages_failed  integer NOT NULL DEFAULT 0 CHECK (pages_failed >= 0),
  bytes         bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  errors        jsonb NOT NULL DEFAULT '[]'::jsonb,
  error         text,
  requested_by  text,
  request_id    text,
  holder        text,
  lease_until   timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX crawl_jobs_tenant ON crawl_jobs (tenant_id, created_at DESC);
CREATE INDEX crawl_jobs_pending ON crawl_jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX crawl_jobs_finished ON crawl_jobs (finished_at) WHERE status IN ('done', 'failed');
SELECT parley_isolate_tenant_table('crawl_jobs');
GRANT SELECT, INSERT, UPDATE ON crawl_jobs TO parley_app;
-- Workers claim jobs across tenants; the retention sweep deletes old finished ones.
GRANT SELECT, UPDATE, DELETE ON crawl_jobs TO parley_platform;
