// Retrieval quality and latency. Quality on the Vaswani (NPL) collection: nDCG@10, recall@10 and MRR
// for our BM25 in Postgres, dense (pgvector) and hybrid (reciprocal rank fusion) retrieval, Postgres'
// own ts_rank_cd, and minisearch (BM25+) in the same run. Latency of queries at 10k and 100k chunks
// (the corpus repeated with varied tails), p50 and p95. Dense retrieval needs an embedding model and
// none is reachable offline: the stand-in is LSA fitted on the corpus (bench/lsa.ts), run through the
// product's own embedding, storage and search code.
// Run: npx tsx bench/retrieval.ts   (SKIP_100K=1 to stop at 11k; DATABASE_URL=postgres://… to measure a
// server instead of the embedded database: use a scratch database; the bench's knowledge is deleted at the end)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MiniSearch from 'minisearch';
import { loadConfig } from '../server/src/config.js';
import { openDb, runMigrations } from '../server/src/db/index.js';
import { setProvider } from '../server/src/ai/providers/service.js';
import { tenantEmbeddings } from '../server/src/ai/embeddings.js';
import { ingestSources } from '../server/src/knowledge/ingest.js';
import { KnowledgeRetrieval, type RetrievalMode } from '../server/src/knowledge/retrieval.js';
import { pgVectorStore } from '../server/src/knowledge/vectors/pgvector.js';
import { pineconeStore } from '../server/src/knowledge/vectors/pinecone.js';
import { startFakePinecone } from '@parley/server/testing';
import { fitLsa } from './lsa.js';
import { BM25, bm25Indexed, bm25Retriever, plainTerms, tsRankRetriever, type Retriever } from '../server/src/knowledge/retrieve.js';
import { loadIndex, scoreAll, precompute } from '../server/src/knowledge/memory-index.js';
import { wireRuntime } from '../server/src/runtime.js';
import { createTenant } from '../server/src/tenants/service.js';
import { DEVELOPMENT_ALLOW, Outbound, parseAllowList } from '../server/src/outbound/outbound.js';
import { docs, qrels, queries, score } from './vaswani.js';

function report(name: string, runs: { ranked: string[]; q: string }[]) {
  const s = runs.map((r) => score(r.ranked, qrels.get(r.q) ?? new Set()));
  const avg = (k: 'ndcg' | 'recall' | 'mrr') => (s.reduce((n, x) => n + x[k], 0) / s.length).toFixed(4);
  console.log(`${name.padEnd(28)} ${avg('ndcg')}   ${avg('recall')}   ${avg('mrr')}`);
}

const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const dir = mkdtempSync(join(tmpdir(), 'parley-retrieval-'));
const config = loadConfig({
  PARLEY_DATA_DIR: dir,
  PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
  PARLEY_SIGNING_KEY: randomBytes(32).toString('base64'),
});
const server = process.env.DATABASE_URL ?? null;
// The embedded database runs in memory: this measures retrieval, not the file system.
const db = await openDb({ url: server ?? 'memory://' });
await runMigrations(db);
const rt = wireRuntime(config, db);
const tenantId = (
  await createTenant(
    { db, audit: rt.audit, env: 'development' },
    { name: 'bench', domains: [] },
    { requestId: null, actor: { type: 'system', id: 'bench' } },
  )
).tenant.id;

const BATCH = 1000;
const variant = (copy: number, d: (typeof docs)[number]) => ({
  id: copy ? `${d.id}-${copy}` : d.id,
  text: copy ? `${d.text} variant ${copy}` : d.text,
});

/** Bulk ingestion, one transaction per batch; statistics are refreshed for the planner afterwards. */
async function load(copy: number) {
  const started = performance.now();
  for (let i = 0; i < docs.length; i += BATCH) {
    await db.withTenant(tenantId, { requestId: null }, (tx) =>
      ingestSources(
        tx,
        tenantId,
        docs
          .slice(i, i + BATCH)
          .map((d) => ({ input: { kind: 'text', title: `doc ${d.id}`, content: variant(copy, d).text, externalId: variant(copy, d).id } })),
      ),
    );
  }
  await db.withOwner((tx) => tx.exec('ANALYZE knowledge_postings; ANALYZE knowledge_terms; ANALYZE knowledge_chunks'));
  return performance.now() - started;
}

const lsaStarted = performance.now();
const lsa = fitLsa(docs.map((d) => d.text));
const lsaFitMs = performance.now() - lsaStarted;
const vectors = pgVectorStore();
const retrieval = new KnowledgeRetrieval({ db, audit: rt.audit, vectors, embeddings: tenantEmbeddings(rt.keyring, () => lsa.model) });
// The provider's base URL is checked when saved, as in the product; this one is never called.
const outbound = new Outbound({ env: 'development', allow: parseAllowList(DEVELOPMENT_ALLOW) });
await setProvider(
  { db, audit: rt.audit, keyring: rt.keyring, env: 'development', outbound },
  { tenantId, requestId: null, actor: { type: 'system', id: 'bench' } },
  'openai',
  {
    apiKey: `sk-bench-${'x'.repeat(40)}`,
    model: 'unused',
    embeddingModel: lsa.model.modelId,
  },
);

/** Embeds every chunk not yet embedded, through the product's pipeline (redaction, batches, audit). */
async function embedAll() {
  const started = performance.now();
  const r = await retrieval.embedPending(tenantId, null);
  if (r.error || r.pending) throw new Error(`embedding stopped: ${r.error ?? `${r.pending} pending`}`);
  await db.withOwner((tx) => tx.exec('ANALYZE knowledge_vectors'));
  return { n: r.embedded, ms: performance.now() - started };
}

/** How this database stores vectors: pgvector, or real[] on a server without the extension. */
async function vectorType() {
  const { rows } = await db.withOwner((tx) =>
    tx.query<{ t: string }>(
      "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'knowledge_vectors'::regclass AND attname = 'embedding'",
    ),
  );
  return rows[0]!.t === 'vector' ? 'pgvector' : 'real[], no pgvector';
}

const byMode = (mode: RetrievalMode, via = retrieval): Retriever => ({
  name: mode,
  search: async (tx, query, { limit }) => (await via.search(tx, query, limit, { mode })).results,
});

/**
 * The same vectors copied into the Pinecone store, through the real client to a local stand-in of the
 * index's data plane (Pinecone is not reachable here): checks the adapter returns the same ranking.
 * Its latency is the stand-in's, not Pinecone's, so it is not reported.
 */
async function viaPinecone() {
  const fake = await startFakePinecone({ apiKey: 'pc-bench' });
  const store = pineconeStore({ apiKey: 'pc-bench', indexHost: fake.host });
  await db.withTenant(tenantId, { requestId: null }, async (tx) => {
    const { rows } = await tx.query<{ chunk_id: string; model: string; v: string }>(
      'SELECT chunk_id, model, embedding::text AS v FROM knowledge_vectors',
    );
    const items = rows.map((r) => ({
      chunkId: r.chunk_id,
      sourceId: r.chunk_id,
      model: r.model,
      vector: JSON.parse(r.v.replace('{', '[').replace('}', ']')) as number[],
    }));
    await store.upsert(tx, tenantId, items);
  });
  const via = new KnowledgeRetrieval({ db, audit: rt.audit, vectors: store, embeddings: tenantEmbeddings(rt.keyring, () => lsa.model) });
  const runs = { dense: await run(byMode('dense', via)), hybrid: await run(byMode('hybrid', via)) };
  await fake.close();
  return runs;
}

async function run(r: Retriever) {
  const out = [];
  const times: number[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const hits = await db.withTenant(tenantId, { requestId: null }, (tx) => r.search(tx, q.text, { limit: 10 }));
    times.push(performance.now() - t0);
    out.push({ q: q.id, ranked: hits.map((h) => h.externalId!.split('-')[0]!) });
  }
  return { out, times };
}

const latency = (name: string, chunks: number, times: number[]) =>
  console.log(
    `  ${name.padEnd(26)} ${String(chunks).padStart(7)} chunks   p50 ${pct(times, 0.5).toFixed(1).padStart(7)} ms   p95 ${pct(times, 0.95).toFixed(1).padStart(7)} ms   p99 ${pct(times, 0.99).toFixed(1).padStart(7)} ms`,
  );

/**
 * Plain BM25 scored on an instance's in-memory copy of the index (what searches use once it is loaded),
 * the passages read back from the database; with the copy's load time and size.
 */
async function inMemory() {
  const t0 = performance.now();
  const index = precompute((await loadIndex((fn) => db.withTenantRead(tenantId, { requestId: null }, fn), 2 ** 31))!, BM25);
  const loaded = `copy loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(index.bytes / 2 ** 20).toFixed(0)} MB`;
  const retriever: Retriever = { name: 'bm25-memory', search: (tx, query, { limit }) => bm25Indexed(tx, index, plainTerms(query), limit) };
  // Every posting scored, without MaxScore's pruning: what the pruning saves, in the same run.
  const unpruned: Retriever = {
    name: 'bm25-memory-all',
    search: (tx, query, { limit }) => bm25Indexed(tx, index, plainTerms(query), limit, BM25, scoreAll),
  };
  return { loaded, retriever, unpruned };
}

/** Latency over three passes of the queries (p99 of 47 would be the slowest one). */
async function timed(r: Retriever) {
  const times: number[] = [];
  for (let pass = 0; pass < 3; pass++) times.push(...(await run(r)).times);
  return times;
}

function miniRun(mini: MiniSearch) {
  const out = [];
  const times: number[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const hits = mini.search(q.text).slice(0, 10);
    times.push(performance.now() - t0);
    out.push({ q: q.id, ranked: hits.map((h) => String(h.id).split('-')[0]!) });
  }
  return { out, times };
}

try {
  const loadMs = await load(0);
  console.log(
    `Vaswani: ${docs.length} documents, ${queries.length} queries; bulk-ingested in ${(loadMs / 1000).toFixed(1)} s (${(docs.length / (loadMs / 1000)).toFixed(0)} docs/s, ${server ? 'PostgreSQL server' : 'PGlite in memory'})\n`,
  );
  const emb = await embedAll();
  console.log(
    `LSA (${lsa.dims} dims) fitted in ${(lsaFitMs / 1000).toFixed(1)} s; ${emb.n} chunks embedded and stored (${await vectorType()}) in ${(emb.ms / 1000).toFixed(1)} s (${(emb.n / (emb.ms / 1000)).toFixed(0)} chunks/s)\n`,
  );
  const bm25 = await run(bm25Retriever);
  const memory = await inMemory();
  const bm25Memory = await run(memory.retriever);
  const dense = await run(byMode('dense'));
  const hybrid = await run(byMode('hybrid'));
  const pinecone = await viaPinecone();
  const ts = await run(tsRankRetriever);
  const mini = new MiniSearch({ fields: ['text'], storeFields: ['id'], searchOptions: { combineWith: 'OR' } });
  mini.addAll(docs);
  const ms = miniRun(mini);
  console.log(`${'retriever'.padEnd(28)} nDCG@10  recall@10  MRR`);
  report('BM25 in Postgres (ours)', bm25.out);
  report('BM25, in-memory copy (ours)', bm25Memory.out);
  report('dense, LSA (ours)', dense.out);
  report('hybrid RRF (ours)', hybrid.out);
  report('dense, LSA + Pinecone store', pinecone.dense.out);
  report('hybrid, Pinecone store', pinecone.hybrid.out);
  report('ts_rank_cd (Postgres)', ts.out);
  report('minisearch (BM25+)', ms.out);

  console.log(`\nQuery latency (${queries.length} queries, top 10, including the transaction)`);
  latency('BM25 in Postgres (ours)', docs.length, await timed(bm25Retriever));
  latency('BM25, in-memory copy', docs.length, await timed(memory.retriever));
  latency('  every posting scored', docs.length, await timed(memory.unpruned));
  console.log(`    (${memory.loaded})`);
  latency('dense (ours)', docs.length, dense.times);
  latency('hybrid (ours)', docs.length, hybrid.times);
  latency('ts_rank_cd (Postgres)', docs.length, ts.times);
  latency('minisearch (in memory)', docs.length, ms.times);
  if (!process.env.SKIP_100K) {
    let extraMs = 0;
    for (let copy = 1; copy <= 8; copy++) {
      extraMs += await load(copy);
      mini.addAll(docs.map((d) => variant(copy, d)));
    }
    const n = docs.length * 9;
    const emb100 = await embedAll();
    latency('BM25 in Postgres (ours)', n, await timed(bm25Retriever));
    const memory100 = await inMemory();
    latency('BM25, in-memory copy', n, await timed(memory100.retriever));
    latency('  every posting scored', n, await timed(memory100.unpruned));
    console.log(`    (${memory100.loaded})`);
    latency('dense (ours)', n, (await run(byMode('dense'))).times);
    latency('hybrid (ours)', n, (await run(byMode('hybrid'))).times);
    latency('ts_rank_cd (Postgres)', n, (await run(tsRankRetriever)).times);
    latency('minisearch (in memory)', n, miniRun(mini).times);
    console.log(
      `\nBulk ingestion up to ${n} chunks: ${((docs.length * 8) / (extraMs / 1000)).toFixed(0)} docs/s; embedding ${(emb100.n / (emb100.ms / 1000)).toFixed(0)} chunks/s`,
    );
  }
} finally {
  if (server) {
    // The audit log is append-only, so the tenant stays; its knowledge goes.
    await db.withOwner(async (tx) => {
      for (const table of [
        'knowledge_vectors',
        'knowledge_postings',
        'knowledge_terms',
        'knowledge_stats',
        'knowledge_chunks',
        'knowledge_sources',
        'ai_providers',
      ]) {
        await tx.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
      }
    });
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
