// Storing sources, chunks and postings with exact BM25 statistics, all in the caller's transaction:
// a failed (re-)ingest leaves the previous chunks and statistics untouched. Everything is written
// set-wise (unnest over parallel arrays), so a batch of sources costs a handful of statements.
// Also the rows of sitemap crawl jobs, as the admin API queues and reads them and jobs.ts runs them.
import { createHash, randomUUID } from 'node:crypto';
import type { Tx } from '../db/types.js';
import { analyze } from './analyze.js';
import type { Chunk } from './chunk.js';
import { forgetIndexStats } from './memory-index.js';

export type SourceKind = 'markdown' | 'html' | 'text' | 'url' | 'sitemap';

export interface SourceInput {
  kind: SourceKind;
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
  tenant_id: string;
  kind: SourceKind;
  external_id: string | null;
  title: string;
  url: string | null;
  status: string;
  chunk_count: number;
  created_at: Date;
  updated_at: Date;
}

export interface UpsertResult {
  source: SourceRow;
  changed: boolean;
  replaced: boolean;
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

const SOURCE_COLUMNS = 'id, tenant_id, kind, external_id, title, url, status, chunk_count, created_at, updated_at';
const CHUNK_BATCH = 2000;
const POSTING_BATCH = 50_000;

/**
 * Document frequencies and lengths of a set of chunks, added (sign 1) or removed (sign -1). Every change
 * to a tenant's chunks passes here, so here the index's version moves (see memory-index.ts).
 */
async function adjustStats(tx: Tx, tenantId: string, chunks: { terms: string[]; length: number }[], sign: 1 | -1): Promise<void> {
  if (!chunks.length) return;
  forgetIndexStats(tx);
  const df = new Map<string, number>();
  let total = 0;
  for (const c of chunks) {
    total += c.length;
    for (const t of c.terms) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const terms = [...df.keys()];
  const counts = [...df.values()].map((n) => n * sign);
  if (sign < 0) {
    await tx.query(
      'UPDATE knowledge_stats SET chunk_count = chunk_count + $2, total_length = total_length + $3, version = version + 1 WHERE tenant_id = $1',
      [tenantId, -chunks.length, -total],
    );
  } else {
    await tx.query(
      `INSERT INTO knowledge_stats (tenant_id, chunk_count, total_length) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET chunk_count = knowledge_stats.chunk_count + EXCLUDED.chunk_count,
         total_length = knowledge_stats.total_length + EXCLUDED.total_length, version = knowledge_stats.version + 1`,
      [tenantId, chunks.length, total],
    );
  }
  if (sign > 0) {
    await tx.query(
      `INSERT INTO knowledge_terms (tenant_id, term, df) SELECT $1, t, d FROM unnest($2::text[], $3::int[]) AS u(t, d)
       ON CONFLICT (tenant_id, term) DO UPDATE SET df = knowledge_terms.df + EXCLUDED.df`,
      [tenantId, terms, counts],
    );
    return;
  }
  await tx.query(
    `UPDATE knowledge_terms k SET df = k.df + u.d FROM unnest($2::text[], $3::int[]) AS u(t, d) WHERE k.tenant_id = $1 AND k.term = u.t`,
    [tenantId, terms, counts],
  );
  await tx.query('DELETE FROM knowledge_terms WHERE tenant_id = $1 AND term = ANY($2::text[]) AND df <= 0', [tenantId, terms]);
}

/** Removes the chunks of some sources with their postings and statistics; returns the chunk ids. */
async function removeChunks(tx: Tx, tenantId: string, sourceIds: string[]): Promise<string[]> {
  if (!sourceIds.length) return [];
  const { rows } = await tx.query<{ id: string; terms: string[]; token_count: number }>(
    'DELETE FROM knowledge_chunks WHERE source_id = ANY($1::uuid[]) RETURNING id, terms, token_count',
    [sourceIds],
  );
  const chunkIds: string[] = [];
  const terms: string[] = [];
  for (const r of rows) {
    for (const t of r.terms) {
      chunkIds.push(r.id);
      terms.push(t);
    }
  }
  for (let i = 0; i < terms.length; i += POSTING_BATCH) {
    await tx.query(
      `DELETE FROM knowledge_postings p USING unnest($2::text[], $3::uuid[]) AS u(t, c)
        WHERE p.tenant_id = $1 AND p.term = u.t AND p.chunk_id = u.c`,
      [tenantId, terms.slice(i, i + POSTING_BATCH), chunkIds.slice(i, i + POSTING_BATCH)],
    );
  }
  await adjustStats(
    tx,
    tenantId,
    rows.map((r) => ({ terms: r.terms, length: r.token_count })),
    -1,
  );
  return rows.map((r) => r.id);
}

async function insertChunks(tx: Tx, tenantId: string, items: { sourceId: string; chunks: Chunk[] }[]): Promise<void> {
  const rows = items.flatMap(({ sourceId, chunks }) =>
    chunks.map((c) => {
      const all = analyze(`${c.title}\n${c.text}`);
      const tf = new Map<string, number>();
      for (const t of all) tf.set(t, (tf.get(t) ?? 0) + 1);
      return { id: randomUUID(), sourceId, c, tf, titleTerms: new Set(analyze(c.title)), length: all.length };
    }),
  );
  for (let i = 0; i < rows.length; i += CHUNK_BATCH) {
    const b = rows.slice(i, i + CHUNK_BATCH);
    // Arrays of arrays do not travel portably as parameters; analysed terms never contain spaces.
    await tx.query(
      `INSERT INTO knowledge_chunks (id, tenant_id, source_id, position, title, anchor_url, text, content_hash, terms, token_count)
       SELECT u.id, $1, u.source_id, u.position, u.title, u.anchor, u.text, decode(u.hash, 'hex'), string_to_array(u.terms, ' '), u.len
         FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[])
           AS u(id, source_id, position, title, anchor, text, hash, terms, len)`,
      [
        tenantId,
        b.map((r) => r.id),
        b.map((r) => r.sourceId),
        b.map((r) => r.c.position),
        b.map((r) => r.c.title),
        b.map((r) => r.c.anchor),
        b.map((r) => r.c.text),
        b.map((r) => r.c.contentHash.toString('hex')),
        b.map((r) => [...r.tf.keys()].join(' ')),
        b.map((r) => r.length),
      ],
    );
  }
  const p = { term: [] as string[], chunk: [] as string[], tf: [] as number[], len: [] as number[], title: [] as boolean[] };
  const flushPostings = async () => {
    if (!p.term.length) return;
    await tx.query(
      `INSERT INTO knowledge_postings (tenant_id, term, chunk_id, tf, chunk_len, in_title)
       SELECT $1, u.t, u.c, u.tf, u.len, u.title FROM unnest($2::text[], $3::uuid[], $4::int[], $5::int[], $6::bool[]) AS u(t, c, tf, len, title)`,
      [tenantId, p.term, p.chunk, p.tf, p.len, p.title],
    );
    for (const a of Object.values(p)) a.length = 0;
  };
  for (const r of rows) {
    for (const [t, n] of r.tf) {
      p.term.push(t);
      p.chunk.push(r.id);
      p.tf.push(n);
      p.len.push(r.length);
      p.title.push(r.titleTerms.has(t));
    }
    if (p.term.length >= POSTING_BATCH) await flushPostings();
  }
  await flushPostings();
  await adjustStats(
    tx,
    tenantId,
    rows.map((r) => ({ terms: [...r.tf.keys()], length: r.length })),
    1,
  );
}

/** Sources with the same externalId replace each other; within one batch, the last one counts. */
function splitOnRepeats(inputs: SourceInput[]): SourceInput[][] {
  const groups: SourceInput[][] = [[]];
  let seen = new Set<string>();
  for (const input of inputs) {
    if (input.externalId !== null && seen.has(input.externalId)) {
      groups.push([]);
      seen = new Set();
    }
    if (input.externalId !== null) seen.add(input.externalId);
    groups[groups.length - 1]!.push(input);
  }
  return groups;
}

/**
 * Creates sources, or replaces those with the same externalId (chunks, postings and statistics
 * together); an unchanged source is left alone. Results are in input order; the ids of replaced
 * chunks are added to `removed` (their vectors must go too).
 */
export async function upsertSources(tx: Tx, tenantId: string, inputs: SourceInput[], removed: string[] = []): Promise<UpsertResult[]> {
  const results: UpsertResult[] = [];
  for (const group of splitOnRepeats(inputs)) {
    const externalIds = group.flatMap((i) => (i.externalId === null ? [] : [i.externalId]));
    const existing = new Map<string, SourceRow & { content_hash: Uint8Array | null }>();
    if (externalIds.length) {
      const { rows } = await tx.query<SourceRow & { content_hash: Uint8Array | null }>(
        `SELECT ${SOURCE_COLUMNS}, content_hash FROM knowledge_sources WHERE external_id = ANY($1::text[]) FOR UPDATE`,
        [externalIds],
      );
      for (const r of rows) existing.set(r.external_id!, r);
    }
    const plan = group.map((input) => {
      const old = input.externalId === null ? undefined : existing.get(input.externalId);
      const unchanged = !!old?.content_hash && old.status === 'ready' && Buffer.from(old.content_hash).equals(input.contentHash);
      return { input, old, unchanged, id: old?.id ?? randomUUID() };
    });
    const replaced = plan.filter((p) => p.old && !p.unchanged);
    const created = plan.filter((p) => !p.old);
    for (const id of await removeChunks(
      tx,
      tenantId,
      replaced.map((p) => p.id),
    ))
      removed.push(id);

    const cols = (ps: typeof plan) => [
      ps.map((p) => p.id),
      ps.map((p) => p.input.kind),
      ps.map((p) => p.input.title),
      ps.map((p) => p.input.url),
      ps.map((p) => p.input.contentHash.toString('hex')),
      ps.map((p) => p.input.chunks.length),
    ];
    const written = new Map<string, SourceRow>();
    if (replaced.length) {
      const { rows } = await tx.query<SourceRow>(
        `UPDATE knowledge_sources s SET kind = u.kind, title = u.title, url = u.url, content_hash = decode(u.hash, 'hex'),
                status = 'ready', error = NULL, chunk_count = u.n, updated_at = now()
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[]) AS u(id, kind, title, url, hash, n)
          WHERE s.id = u.id
         RETURNING ${SOURCE_COLUMNS.replace(/(\w+)/g, 's.$1')}`,
        cols(replaced),
      );
      for (const r of rows) written.set(r.id, r);
    }
    if (created.length) {
      const { rows } = await tx.query<SourceRow>(
        `INSERT INTO knowledge_sources (id, tenant_id, kind, external_id, title, url, content_hash, chunk_count)
         SELECT u.id, $7, u.kind, u.external_id, u.title, u.url, decode(u.hash, 'hex'), u.n
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $8::text[]) AS u(id, kind, title, url, hash, n, external_id)
         RETURNING ${SOURCE_COLUMNS}`,
        [...cols(created), tenantId, created.map((p) => p.input.externalId)],
      );
      for (const r of rows) written.set(r.id, r);
    }
    await insertChunks(
      tx,
      tenantId,
      [...replaced, ...created].map((p) => ({ sourceId: p.id, chunks: p.input.chunks })),
    );
    for (const p of plan) {
      results.push(
        p.unchanged ? { source: p.old!, changed: false, replaced: false } : { source: written.get(p.id)!, changed: true, replaced: !!p.old },
      );
    }
  }
  return results;
}

/**
 * Deletes a source with its chunks, postings and statistics; null when there is none (in this tenant).
 * The deleted chunks' ids are added to `removed`.
 */
export async function deleteSource(tx: Tx, id: string, removed: string[] = []): Promise<SourceRow | null> {
  const { rows } = await tx.query<SourceRow>(`SELECT ${SOURCE_COLUMNS} FROM knowledge_sources WHERE id = $1 FOR UPDATE`, [id]);
  const source = rows[0];
  if (!source) return null;
  for (const chunkId of await removeChunks(tx, source.tenant_id, [id])) removed.push(chunkId);
  await tx.query('DELETE FROM knowledge_sources WHERE id = $1', [id]);
  return source;
}

export async function getSource(tx: Tx, id: string): Promise<SourceRow | null> {
  const { rows } = await tx.query<SourceRow>(`SELECT ${SOURCE_COLUMNS} FROM knowledge_sources WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** Sources in creation order; `after` is the last seen source id. */
export async function listSources(tx: Tx, opts: { limit?: number; after?: string | null } = {}): Promise<SourceRow[]> {
  const { rows } = await tx.query<SourceRow>(
    `SELECT ${SOURCE_COLUMNS} FROM knowledge_sources s
      WHERE $1::uuid IS NULL OR (s.created_at, s.id) > (SELECT created_at, id FROM knowledge_sources WHERE id = $1)
      ORDER BY s.created_at, s.id LIMIT $2`,
    [opts.after ?? null, opts.limit ?? 200],
  );
  return rows;
}

/** How many sources already have one of these externalIds. */
export async function countExternalIds(tx: Tx, externalIds: string[]): Promise<number> {
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM knowledge_sources WHERE external_id = ANY($1::text[])', [
    externalIds,
  ]);
  return rows[0]!.n;
}

/** Records the stored size of each source's content (the bytes quota counts it). */
export async function setContentBytes(tx: Tx, sizes: { id: string; bytes: number }[]): Promise<void> {
  await tx.query('UPDATE knowledge_sources s SET content_bytes = u.bytes FROM unnest($1::uuid[], $2::int[]) AS u(id, bytes) WHERE s.id = u.id', [
    sizes.map((c) => c.id),
    sizes.map((c) => c.bytes),
  ]);
}

// Sitemap crawl jobs (jobs.ts runs them).

export interface CrawlJobRow {
  id: string;
  tenant_id: string;
  kind: 'sitemap';
  url: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  urls: string[] | null;
  pages_total: number | null;
  pages_done: number;
  pages_failed: number;
  bytes: string | number;
  errors: { url: string | null; message: string }[];
  error: string | null;
  requested_by: string | null;
  request_id: string | null;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const CRAWL_JOB_COLUMNS =
  'id, tenant_id, kind, url, status, urls, pages_total, pages_done, pages_failed, bytes, errors, error, requested_by, request_id, attempts, created_at, started_at, finished_at';
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const crawlJobView = (j: CrawlJobRow) => ({
  id: j.id,
  kind: j.kind,
  url: j.url,
  status: j.status,
  pagesTotal: j.pages_total,
  pagesDone: j.pages_done,
  pagesFailed: j.pages_failed,
  bytes: Number(j.bytes),
  errors: j.errors,
  error: j.error,
  createdAt: j.created_at.toISOString(),
  startedAt: iso(j.started_at),
  finishedAt: iso(j.finished_at),
});

/** The tenant's crawls queued or running. */
export async function countActiveCrawls(tx: Tx): Promise<number> {
  const { rows } = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM crawl_jobs WHERE status IN ('queued', 'running')");
  return rows[0]!.n;
}

/** A queued sitemap crawl; `requestedBy` is the actor as `type:id`. */
export async function insertCrawlJob(
  tx: Tx,
  job: { tenantId: string; url: string; requestedBy: string; requestId: string | null },
): Promise<CrawlJobRow> {
  const { rows } = await tx.query<CrawlJobRow>(
    `INSERT INTO crawl_jobs (id, tenant_id, kind, url, requested_by, request_id) VALUES ($1, $2, 'sitemap', $3, $4, $5) RETURNING ${CRAWL_JOB_COLUMNS}`,
    [randomUUID(), job.tenantId, job.url, job.requestedBy, job.requestId],
  );
  return rows[0]!;
}

export async function getCrawlJob(tx: Tx, id: string): Promise<CrawlJobRow | null> {
  const { rows } = await tx.query<CrawlJobRow>(`SELECT ${CRAWL_JOB_COLUMNS} FROM crawl_jobs WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export async function listCrawlJobs(tx: Tx, limit = 50): Promise<CrawlJobRow[]> {
  const { rows } = await tx.query<CrawlJobRow>(`SELECT ${CRAWL_JOB_COLUMNS} FROM crawl_jobs ORDER BY created_at DESC, id LIMIT $1`, [limit]);
  return rows;
}
