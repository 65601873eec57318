// Retrieval quality and latency. Quality on the Vaswani (NPL) collection: nDCG@10, recall@10 and MRR
// for our BM25 in Postgres, Postgres' own ts_rank_cd, and minisearch (BM25+) in the same run. Latency
// of BM25 queries at 10k and 100k chunks (the corpus repeated with varied tails), p50 and p95.
// Run: npx tsx --conditions=parley-source bench/retrieval.ts   (SKIP_100K=1 to stop at 11k)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MiniSearch from 'minisearch';
import { loadConfig } from '../server/src/config.js';
import { openDb, runMigrations } from '../server/src/db/index.js';
import { chunkMarkdown } from '../server/src/knowledge/chunk.js';
import { bm25Retriever, tsRankRetriever, type Retriever } from '../server/src/knowledge/retrieve.js';
import { contentHash, upsertSource } from '../server/src/knowledge/store.js';
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
const db = await openDb({ url: join(dir, 'db') });
await runMigrations(db);
const rt = wireRuntime(config, db);
const tenantId = (await createTenant({ db, audit: rt.audit, env: 'development' }, { name: 'bench', domains: [] }, { requestId: null, actor: { type: 'system', id: 'bench' } })).tenant.id;

async function load(copy: number, batch: typeof docs) {
  const started = performance.now();
  for (let i = 0; i < batch.length; i += 500) {
    await db.withTenant(tenantId, { requestId: null }, async (tx) => {
      for (const d of batch.slice(i, i + 500)) {
        const text = copy ? `${d.text} variant ${copy}` : d.text;
        await upsertSource(tx, tenantId, {
          kind: 'text',
          title: `doc ${d.id}`,
          url: null,
          externalId: copy ? `${d.id}-${copy}` : d.id,
          chunks: chunkMarkdown(text, { title: `doc ${d.id}`, url: null }),
          contentHash: contentHash(`${copy}/${d.id}`),
        });
      }
    });
  }
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

try {
  const loadMs = await load(0, docs);
  console.log(`Vaswani: ${docs.length} documents, ${queries.length} queries; ingested in ${(loadMs / 1000).toFixed(1)} s (${(docs.length / (loadMs / 1000)).toFixed(0)} docs/s, PGlite on disk)\n`);
  console.log(`${'retriever'.padEnd(28)} nDCG@10  recall@10  MRR`);
  const bm25 = await run(bm25Retriever);
  report('BM25 in Postgres (ours)', bm25.out);
  report('ts_rank_cd (Postgres)', (await run(tsRankRetriever)).out);
  const mini = new MiniSearch({ fields: ['text'], storeFields: ['id'], searchOptions: { combineWith: 'OR' } });
  mini.addAll(docs);
  report('minisearch (BM25+)', queries.map((q) => ({ q: q.id, ranked: mini.search(q.text).slice(0, 10).map((h) => String(h.id)) })));

  console.log(`\nBM25 query latency (${queries.length} queries)`);
  console.log(`  ${docs.length} chunks: p50 ${pct(bm25.times, 0.5).toFixed(1)} ms, p95 ${pct(bm25.times, 0.95).toFixed(1)} ms`);
  if (!process.env.SKIP_100K) {
    let extra = 0;
    for (let copy = 1; copy <= 8; copy++) extra += await load(copy, docs);
    const big = await run(bm25Retriever);
    console.log(`  ${docs.length * 9} chunks: p50 ${pct(big.times, 0.5).toFixed(1)} ms, p95 ${pct(big.times, 0.95).toFixed(1)} ms (bulk ingestion ${(docs.length * 8 / (extra / 1000)).toFixed(0)} docs/s)`);
  }
} finally {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
