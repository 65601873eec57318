-- A counter every change to a tenant's chunks bumps, in the transaction that makes it: a search can then
-- tell whether an instance's in-memory copy of the index (knowledge/memory-index.ts) is still the
-- tenant's index, with the one-row read it already made for BM25's statistics.
ALTER TABLE knowledge_stats ADD COLUMN version bigint NOT NULL DEFAULT 0;
