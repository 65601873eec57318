// Retrieval quality and latency. Quality on the Vaswani (NPL) collection: nDCG@10, recall@10 and MRR
// for our BM25 in Postgres, Postgres' own ts_rank_cd, and minisearch (BM25+) in the same run. Latency
// of BM25 queries at 10k and 100k chunks (the corpus repeated with varied tails), p50 and p95.
// Run: npx tsx bench/retrieval.ts   (SKIP_100K=1 to stop at 11k; DATABASE_URL=postgres://… to measure a
// server instead of the embedded database: use a scratch database; the bench's knowledge is deleted at the end)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MiniSearch from 'minisearch';
import { loadConfig } from '../server/src/config.js';
import { openDb, runMigrations } from '../server/src/db/index.js';
import { ingestSources } from '../server/src/knowledge/ingest.js';
import { bm25Retriever, tsRankRetriever, type Retriever } from '../server/src/knowledge/retrieve.js';
import { wireRuntime } from '../server/src/runtime.js';
import { createTenant } from '../server/src/tenants/service.js';

const DATA = join(import.meta.dirname, '../../shared/data/retrieval/vaswani-dev');
const docs = [...readFileSync(join(DATA, 'doc-text.trec'), 'utf8').matchAll(/<DOCNO>(\d+)<\/DOCNO>([\s\S]*?)<\/DOC>/g)].map((m) => ({ id: m[1]!, text: m[2]!.trim() }));
const queries = [...readFileSync(join(DATA, 'query-text.trec'), 'utf8').matchAll(/<num>(\d+)<\/num><title>([\s\S]*?)<\/title>/g)].map((m) => ({ id: m[1]!, text: m[2]!.trim().toLowerCase() }));
const qrels = new Map<string, Set<string>>();
for (const line of readFileSync(join(DATA, 'qrels'), 'utf8').trim().split('\n')) {
  const [q, , d, rel] = line.split(/\s+/);
  if (Number(rel) > 0) (qrels.get(q!) ?? qrels.set(q!, new Set()).get(q!)!).add(d!);
}

function score(ranked: string[], relevant: Set<string>) {
  const top = ranked.slice(0, 10);
  const dcg = top.reduce((s, d, i) => s + (relevant.has(d) ? 1 / Math.log2(i + 2) : 0), 0);
  const ideal = [...Array(Math.min(10, relevant.size)).keys()].reduce((s, i) => s + 1 / Math.log2(i + 2), 0);
  const first = ranked.findIndex((d) => relevant.has(d));
  return { ndcg: ideal ? dcg / ideal : 0, recall: top.filter((d) => relevant.has(d)).length / relevant.size, mrr: first >= 0 ? 1 / (first + 1) : 0 };
}

function report(name: string, runs: { ranked: string[]; q: string }[]) {
  const s = runs.map((r) => score(r.ranked, qrels.get(r.q) ?? new Set()));
  const avg = (k: 'ndcg' | 'recall' | 'mrr') => (s.reduce((n, x) => n + x[k], 0) / s.length).toFixed(4);
  console.log(`${name.padEnd(28)} ${avg('ndcg')}   ${avg('recall')}   ${avg('mrr')}`);
}

const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const dir = mkdtempSync(join(tmpdir(), 'parley-retrieval-'));
const config = loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_MASTER_KEY: randomBytes(32).toString('base64'), PARLEY_SIGNING_KEY: randomBytes(32).toString('base64') });
const server = process.env.DATABASE_URL ?? null;
// The embedded database runs in memory: this measures retrieval, not the file system.
const db = await openDb({ url: server ?? 'memory://' });
await runMigrations(db);
const rt = wireRuntime(config, db);
const tenantId = (await createTenant({ db, audit: rt.audit, env: 'development' }, { name: 'bench', domains: [] }, { requestId: null, actor: { type: 'system', id: 'bench' } })).tenant.id;

const BATCH = 1000;
const variant = (copy: number, d: (typeof docs)[number]) => ({ id: copy ? `${d.id}-${copy}` : d.id, text: copy ? `${d.text} variant ${copy}` : d.text });

/** Bulk ingestion, one transaction per batch; statistics are refreshed for the planner afterwards. */
async function load(copy: number) {
  const started = performance.now();
  for (let i = 0; i < docs.length; i += BATCH) {
    await db.withTenant(tenantId, { requestId: null }, (tx) =>
      ingestSources(tx, tenantId, docs.slice(i, i + BATCH).map((d) => ({ input: { kind: 'text', title: `doc ${d.id}`, content: variant(copy, d).text, externalId: variant(copy, d).id } }))),
    );
  }
  await db.withOwner((tx) => tx.exec('ANALYZE knowledge_postings; ANALYZE knowledge_terms; ANALYZE knowledge_chunks'));
  return performance.now() - started;
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
  console.log(`  ${name.padEnd(26)} ${String(chunks).padStart(7)} chunks   p50 ${pct(times, 0.5).toFixed(1).padStart(7)} ms   p95 ${pct(times, 0.95).toFixed(1).padStart(7)} ms`);

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
  console.log(`Vaswani: ${docs.length} documents, ${queries.length} queries; bulk-ingested in ${(loadMs / 1000).toFixed(1)} s (${(docs.length / (loadMs / 1000)).toFixed(0)} docs/s, ${server ? 'PostgreSQL server' : 'PGlite in memory'})\n`);
  const bm25 = await run(bm25Retriever);
  const ts = await run(tsRankRetriever);
  const mini = new MiniSearch({ fields: ['text'], storeFields: ['id'], searchOptions: { combineWith: 'OR' } });
  mini.addAll(docs);
  const ms = miniRun(mini);
  console.log(`${'retriever'.padEnd(28)} nDCG@10  recall@10  MRR`);
  report('BM25 in Postgres (ours)', bm25.out);
  report('ts_rank_cd (Postgres)', ts.out);
  report('minisearch (BM25+)', ms.out);

  console.log(`\nQuery latency (${queries.length} queries, top 10, including the transaction)`);
  latency('BM25 in Postgres (ours)', docs.length, bm25.times);
  latency('ts_rank_cd (Postgres)', docs.length, ts.times);
  latency('minisearch (in memory)', docs.length, ms.times);
  if (!process.env.SKIP_100K) {
    let extraMs = 0;
    for (let copy = 1; copy <= 8; copy++) {
      extraMs += await load(copy);
      mini.addAll(docs.map((d) => variant(copy, d)));
    }
    const n = docs.length * 9;
    latency('BM25 in Postgres (ours)', n, (await run(bm25Retriever)).times);
    latency('ts_rank_cd (Postgres)', n, (await run(tsRankRetriever)).times);
    latency('minisearch (in memory)', n, miniRun(mini).times);
    console.log(`\nBulk ingestion up to ${n} chunks: ${((docs.length * 8) / (extraMs / 1000)).toFixed(0)} docs/s`);
  }
} finally {
  if (server) {
    // The audit log is append-only, so the tenant stays; its knowledge goes.
    await db.withOwner(async (tx) => {
      for (const table of ['knowledge_postings', 'knowledge_terms', 'knowledge_stats', 'knowledge_chunks', 'knowledge_sources']) {
        await tx.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
      }
    });
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
