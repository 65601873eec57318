// Storing sources and chunks with exact BM25 statistics, all in the caller's transaction: a failed
// re-ingest leaves the previous chunks and statistics untouched.
import { createHash, randomUUID } from 'node:crypto';
import type { Tx } from '../db/types.js';
import { analyze } from './analyze.js';
import type { Chunk } from './chunk.js';

export interface SourceInput {
  kind: 'markdown' | 'html' | 'text' | 'url' | 'sitemap';
  title: string;
  url: string | null;
  externalId: string | null;
  /** The source reduced to Markdown-like text, already chunked. */
  chunks: Chunk[];
  /** Hash of the source content: an unchanged re-ingest is a no-op. */
  contentHash: Buffer;
}

export interface SourceRow {
  id: string;
  kind: string;
  external_id: string | null;
  title: string;
  url: string | null;
  status: string;
  chunk_count: number;
  created_at: Date;
  updated_at: Date;
}

export const sourceView = (s: SourceRow) => ({
  id: s.id,
  kind: s.kind,
  externalId: s.external_id,
  title: s.title,
  url: s.url,
  status: s.status,
  chunks: s.chunk_count,
  createdAt: s.created_at.toISOString(),
  updatedAt: s.updated_at.toISOString(),
});

export const contentHash = (s: string) => createHash('sha256').update(s).digest();

/** Adds (sign 1) or removes (sign -1) the statistics of a set of chunks. */
async function adjustStats(tx: Tx, tenantId: string, termLists: string[][], sign: 1 | -1): Promise<void> {
  if (!termLists.length) return;
  const df = new Map<string, number>();
  let total = 0;
  for (const terms of termLists) {
    total += terms.length;
    for (const t of new Set(terms)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const terms = [...df.keys()];
  const counts = [...df.values()];
  if (sign > 0) {
    await tx.query(
      `INSERT INTO knowledge_stats (tenant_id, chunk_count, total_length) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET chunk_count = knowledge_stats.chunk_count + EXCLUDED.chunk_count,
         total_length = knowledge_stats.total_length + EXCLUDED.total_length`,
      [tenantId, termLists.length, total],
    );
    await tx.query(
      `INSERT INTO knowledge_terms (tenant_id, term, df) SELECT $1, t, d FROM unnest($2::text[], $3::int[]) AS u(t, d)
       ON CONFLICT (tenant_id, term) DO UPDATE SET df = knowledge_terms.df + EXCLUDED.df`,
      [tenantId, terms, counts],
    );
    return;
  }
  await tx.query('UPDATE knowledge_stats SET chunk_count = chunk_count - $2, total_length = total_length - $3 WHERE tenant_id = $1', [
    tenantId,
    termLists.length,
    total,
  ]);
  await tx.query(
    'UPDATE knowledge_terms k SET df = k.df - u.d FROM unnest($2::text[], $3::int[]) AS u(t, d) WHERE k.tenant_id = $1 AND k.term = u.t',
    [tenantId, terms, counts],
  );
  await tx.query('DELETE FROM knowledge_terms WHERE tenant_id = $1 AND df <= 0', [tenantId]);
}

async function removeChunks(tx: Tx, tenantId: string, sourceId: string): Promise<void> {
  const { rows } = await tx.query<{ terms: string[] }>('DELETE FROM knowledge_chunks WHERE source_id = $1 RETURNING terms', [sourceId]);
  await adjustStats(tx, tenantId, rows.map((r) => r.terms), -1);
}

const BATCH = 500;

async function insertChunks(tx: Tx, tenantId: string, sourceId: string, chunks: Chunk[]): Promise<void> {
  const analysed = chunks.map((c) => ({ c, terms: analyze(`${c.title}\n${c.text}`), titleTerms: [...new Set(analyze(c.title))] }));
  for (let i = 0; i < analysed.length; i += BATCH) {
    const batch = analysed.slice(i, i + BATCH);
    // Arrays of arrays cannot be passed as one parameter portably, so terms travel as JSON.
    await tx.query(
      `INSERT INTO knowledge_chunks (id, tenant_id, source_id, position, title, anchor_url, text, content_hash, terms, title_terms, length)
       SELECT u.id, $1, $2, u.position, u.title, u.anchor, u.text, decode(u.hash, 'hex'),
              ARRAY(SELECT jsonb_array_elements_text(u.terms)), ARRAY(SELECT jsonb_array_elements_text(u.title_terms)), u.length
         FROM jsonb_to_recordset($3::jsonb) AS u(id uuid, position int, title text, anchor text, text text, hash text, terms jsonb, title_terms jsonb, length int)`,
      [
        tenantId,
        sourceId,
        JSON.stringify(
          batch.map(({ c, terms, titleTerms }) => ({
            id: randomUUID(),
            position: c.position,
            title: c.title,
            anchor: c.anchor,
            text: c.text,
            hash: c.contentHash.toString('hex'),
            terms,
            title_terms: titleTerms,
            length: terms.length,
          })),
        ),
      ],
    );
  }
  await adjustStats(tx, tenantId, analysed.map((a) => a.terms), 1);
}

/** Creates a source, or replaces the one with the same externalId; returns it and whether anything changed. */
export async function upsertSource(tx: Tx, tenantId: string, input: SourceInput): Promise<{ source: SourceRow; changed: boolean; replaced: boolean }> {
  const existing = input.externalId
    ? (await tx.query<SourceRow & { content_hash: Uint8Array | null }>('SELECT * FROM knowledge_sources WHERE external_id = $1 FOR UPDATE', [input.externalId])).rows[0]
    : undefined;
  if (existing?.content_hash && Buffer.from(existing.content_hash).equals(input.contentHash)) {
    return { source: existing, changed: false, replaced: false };
  }
  const id = existing?.id ?? randomUUID();
  if (existing) {
    await removeChunks(tx, tenantId, id);
    await tx.query(
      `UPDATE knowledge_sources SET kind = $2, title = $3, url = $4, content_hash = $5, status = 'ready', error = NULL, chunk_count = $6, updated_at = now() WHERE id = $1`,
      [id, input.kind, input.title, input.url, input.contentHash, input.chunks.length],
    );
  } else {
    await tx.query(
      `INSERT INTO knowledge_sources (id, tenant_id, kind, external_id, title, url, content_hash, chunk_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, tenantId, input.kind, input.externalId, input.title, input.url, input.contentHash, input.chunks.length],
    );
  }
  await insertChunks(tx, tenantId, id, input.chunks);
  const source = (await tx.query<SourceRow>('SELECT * FROM knowledge_sources WHERE id = $1', [id])).rows[0]!;
  return { source, changed: true, replaced: !!existing };
}

export async function deleteSource(tx: Tx, tenantId: string, id: string): Promise<SourceRow | null> {
  const { rows } = await tx.query<SourceRow>('SELECT * FROM knowledge_sources WHERE id = $1 FOR UPDATE', [id]);
  if (!rows[0]) return null;
  await removeChunks(tx, tenantId, id);
  await tx.query('DELETE FROM knowledge_sources WHERE id = $1', [id]);
  return rows[0];
}

export async function listSources(tx: Tx, limit = 200, after: string | null = null): Promise<SourceRow[]> {
  const { rows } = await tx.query<SourceRow>(
    'SELECT * FROM knowledge_sources WHERE ($1::timestamptz IS NULL OR created_at > $1) ORDER BY created_at, id LIMIT $2',
    [after, limit],
  );
  return rows;
}
