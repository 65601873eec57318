-- Chunk embeddings for dense and hybrid retrieval. With the pgvector extension available (always on
-- the embedded database, which bundles it) vectors are pgvector `vector`s compared with `<=>`; on a
-- server without it they are `real[]` and compared by a SQL function, which is exact but slower.
-- Vectors of any dimension may be stored: each row names its model and dimension, and only vectors of
-- the tenant's current model are compared. Search is exact within the tenant (no ANN index), so
-- row-level security filtering never costs recall.

-- Which model embedded a chunk, whatever store holds the vector (pgvector or Pinecone): chunks whose
-- value differs from the tenant's current model are the ones still to embed.
ALTER TABLE knowledge_chunks ADD COLUMN embedded_model text;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    CREATE EXTENSION IF NOT EXISTS vector;
    EXECUTE 'CREATE TABLE knowledge_vectors (
      chunk_id  uuid PRIMARY KEY REFERENCES knowledge_chunks(id) ON DELETE CASCADE,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      model     text NOT NULL,
      dims      integer NOT NULL CHECK (dims > 0),
      embedding vector NOT NULL)';
  ELSE
    EXECUTE 'CREATE TABLE knowledge_vectors (
      chunk_id  uuid PRIMARY KEY REFERENCES knowledge_chunks(id) ON DELETE CASCADE,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      model     text NOT NULL,
      dims      integer NOT NULL CHECK (dims > 0),
      embedding real[] NOT NULL CHECK (cardinality(embedding) = dims))';
  END IF;
END $$;
CREATE INDEX knowledge_vectors_model ON knowledge_vectors (tenant_id, model, dims);

-- Dot product of two unit vectors stored as arrays (the fallback without pgvector).
CREATE FUNCTION parley_dot(a real[], b real[]) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
  'SELECT sum(x::float8 * y::float8) FROM unnest(a, b) AS t(x, y)';

SELECT parley_isolate_tenant_table('knowledge_vectors');
GRANT SELECT, INSERT, UPDATE, DELETE ON knowledge_vectors TO parley_app;
