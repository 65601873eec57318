-- Crawl jobs are claimed fairly between tenants: at most one of a tenant's jobs runs at a time, the tenant
-- served least recently first, and a job gives its worker back after a slice of time (PARLEY_CRAWL_SLICE_MS),
-- to be resumed at its next page. served_at is when a worker last took the job.
ALTER TABLE crawl_jobs ADD COLUMN IF NOT EXISTS served_at timestamptz;
CREATE INDEX IF NOT EXISTS crawl_jobs_served ON crawl_jobs (tenant_id, served_at);
