// The answerer's lexical retrieval (knowledge/lexical.ts: WordNet and tenant-synonym expansion, RM3-style
// feedback, headings) against plain BM25 on the Vaswani collection, in the same run: nDCG@10, recall@10,
// MRR and query latency. The full retrieval bench (bench/retrieval.ts) adds dense, hybrid and the scale runs.
// Run: npx tsx --conditions=parley-source bench/retrieval-lexical.ts   (VASWANI=dir to point at the data)
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../server/src/config.js';
import { openDb, runMigrations } from '../server/src/db/index.js';
import { ingestSources } from '../server/src/knowledge/ingest.js';
import { lexicalSearch, type LexicalOptions } from '../server/src/knowledge/lexical.js';
import { bm25Retriever } from '../server/src/knowledge/retrieve.js';
import type { RetrievedChunk } from '../server/src/knowledge/retrieve.js';
import { wireRuntime } from '../server/src/runtime.js';
import { createTenant } from '../server/src/tenants/service.js';
import type { Tx } from '../server/src/db/types.js';
import { docs, qrels, queries, score } from './vaswani.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const config = loadConfig({
  PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-lexical-')),
  PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
  PARLEY_SIGNING_KEY: randomBytes(32).toString('base64'),
});
const db = await openDb({ url: 'memory://' });
await runMigrations(db);
const rt = wireRuntime(config, db);
const tenantId = (
  await createTenant(
    { db, audit: rt.audit, env: 'development' },
    { name: 'bench', domains: [] },
    { requestId: null, actor: { type: 'system', id: 'bench' } },
  )
).tenant.id;
for (let i = 0; i < docs.length; i += 1000)
  await db.withTenant(tenantId, { requestId: null }, (tx) =>
    ingestSources(
      tx,
      tenantId,
      docs.slice(i, i + 1000).map((d) => ({ input: { kind: 'text', title: `doc ${d.id}`, content: d.text, externalId: d.id } })),
    ),
  );
await db.withOwner((tx) => tx.exec('ANALYZE knowledge_postings; ANALYZE knowledge_terms; ANALYZE knowledge_chunks'));

async function run(name: string, search: (tx: Tx, q: string) => Promise<RetrievedChunk[]>) {
  const s: ReturnType<typeof score>[] = [];
  const times: number[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const hits = await db.withTenant(tenantId, { requestId: null }, (tx) => search(tx, q.text));
    times.push(performance.now() - t0);
    s.push(
      score(
        hits.map((h) => h.externalId!),
        qrels.get(q.id) ?? new Set(),
      ),
    );
  }
  const avg = (k: 'ndcg' | 'recall' | 'mrr') => (s.reduce((n, x) => n + x[k], 0) / s.length).toFixed(4);
  console.log(
    `${name.padEnd(40)} ${avg('ndcg')}   ${avg('recall')}    ${avg('mrr')}   p50 ${pct(times, 0.5).toFixed(1)} ms  p95 ${pct(times, 0.95).toFixed(1)} ms`,
  );
}

console.log(`Vaswani: ${docs.length} documents, ${queries.length} queries\n${'retriever'.padEnd(40)} nDCG@10  recall@10  MRR`);
const lex = (o: LexicalOptions) => (tx: Tx, q: string) => lexicalSearch(tx, q, 10, o);
await run('BM25 (plain)', (tx, q) => bm25Retriever.search(tx, q, { limit: 10 }));
await run('lexical: + RM3 feedback', lex({ wordnet: false }));
await run('lexical: + WordNet, no feedback', lex({ feedback: false }));
await run('lexical: all (the answerer’s)', lex({}));
await run('BM25 (plain), again', (tx, q) => bm25Retriever.search(tx, q, { limit: 10 }));
await db.close();
