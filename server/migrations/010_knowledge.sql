-- Knowledge sources, their chunks, and exact per-tenant term statistics for BM25 (Postgres' own
-- ts_rank has no IDF). Candidates are found through a GIN index on the analysed terms.

CREATE TABLE knowledge_sources (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('markdown', 'html', 'text', 'url', 'sitemap')),
  external_id  text,
  title        text NOT NULL,
  url          text,
  content_hash bytea,
  status       text NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'failed')),
  error        text,
  chunk_count  integer NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, external_id)
);

CREATE TABLE knowledge_chunks (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  source_id    uuid NOT NULL REFERENCES knowledge_sources(id) ON DELETE CASCADE,
  position     integer NOT NULL,
  title        text NOT NULL,
  anchor_url   text,
  text         text NOT NULL,
  content_hash bytea NOT NULL,
  -- Analysed terms with repeats (term frequency), and the title's, for a heading boost.
  terms        text[] NOT NULL,
  title_terms  text[] NOT NULL,
  length       integer NOT NULL,
  -- Postgres' own full-text vector, kept for comparison in the retrieval benchmark.
  tsv          tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || text)) STORED,
  UNIQUE (source_id, content_hash)
);
CREATE INDEX knowledge_chunks_terms ON knowledge_chunks USING gin (terms);
CREATE INDEX knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);
CREATE INDEX knowledge_chunks_source ON knowledge_chunks (source_id, position);

CREATE TABLE knowledge_terms (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  term      text NOT NULL,
  df        integer NOT NULL CHECK (df >= 0),
  PRIMARY KEY (tenant_id, term)
);

CREATE TABLE knowledge_stats (
  tenant_id    uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  chunk_count  integer NOT NULL DEFAULT 0,
  total_length bigint NOT NULL DEFAULT 0
);

SELECT parley_isolate_tenant_table('knowledge_sources'), parley_isolate_tenant_table('knowledge_chunks'), parley_isolate_tenant_table('knowledge_terms'), parley_isolate_tenant_table('knowledge_stats');

GRANT SELECT, INSERT, UPDATE, DELETE ON knowledge_sources, knowledge_chunks, knowledge_terms, knowledge_stats TO parley_app;
