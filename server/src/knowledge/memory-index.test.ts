// The in-memory copy of a tenant's BM25 index against the SQL it stands in for, on a real database: the
// same passages, order and scores for every question; never another tenant's copy or a stale one; a load
// that a write interrupts, or that would outgrow its budget, is not kept.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Tx } from '../db/types.js';
import { wireRuntime } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { makeTenant } from '../test/tenant.js';
import type { Embeddings } from './vectors/embed.js';
import { ingestSource } from './ingest.js';
import { counted, lexicalSearch } from './lexical.js';
import { chunkTerms, indexStats, loadIndex, MemoryIndexes, precompute, scoreAll, scoreIndex, type TenantIndex } from './memory-index.js';
import { BM25, readRanked } from './retrieve.js';
import { KnowledgeRetrieval } from './retrieval.js';
import { deleteSource } from './store.js';

const KNOWLEDGE = fileURLToPath(new URL('../../../examples/demo-knowledge/', import.meta.url));
const QUESTIONS = (file: string) =>
  (
    JSON.parse(readFileSync(fileURLToPath(new URL(`../../../bench/${file}`, import.meta.url)), 'utf8')) as { questions: { q: string }[] }
  ).questions.map((q) => q.q);

// A deterministic corpus large enough (over 500 passages) that BM25's rule for common expansion terms
// (in more than a tenth of the passages) applies, with Zipf-like word use so that it does.
const WORDS =
  'order parcel refund card delivery return account gift balance courier label store credit size colour exchange invoice address track warehouse'.split(
    ' ',
  );
function generated(doc: number): string {
  let seed = doc * 7919 + 1;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const word = () => WORDS[Math.floor(WORDS.length * next() ** 2)]!;
  const sections = Array.from({ length: 10 }, (_, s) => {
    const heading = `${word()} ${word()} ${s}`;
    const body = Array.from({ length: 12 + Math.floor(next() * 30) }, word).join(' ');
    return `## ${heading}\n${body}.\n`;
  });
  return `# Guide ${doc}\n\n${sections.join('\n')}`;
}

let t: TestDb;
let a: string;
let b: string;
let make: (name: string) => Promise<string>;
let retrieval: KnowledgeRetrieval;
const as = <T>(tenant: string, fn: (tx: Tx) => Promise<T>) => t.db.withTenant(tenant, { requestId: null }, fn);
const read =
  (tenant: string) =>
  <T>(fn: (tx: Tx) => Promise<T>) =>
    as(tenant, fn);
const noEmbeddings: Embeddings = { forTenant: async () => null, recordUsage: async () => {} };

beforeAll(async () => {
  t = await createTestDb();
  const rt = wireRuntime(testConfig(), t.db);
  make = (name: string) => makeTenant({ db: t.db, audit: rt.audit }, name);
  a = await make('A');
  b = await make('B');
  await as(a, async (tx) => {
    for (const name of readdirSync(KNOWLEDGE).filter((f) => f.endsWith('.md')))
      await ingestSource(tx, a, { kind: 'markdown', content: readFileSync(KNOWLEDGE + name, 'utf8'), externalId: name });
    for (let d = 0; d < 60; d++) await ingestSource(tx, a, { kind: 'markdown', content: generated(d), externalId: `guide-${d}` });
  });
  await as(b, (tx) => ingestSource(tx, b, { kind: 'markdown', content: '# Other\n\n## Refunds\nTenant B refunds in kind only.\n', externalId: 'b' }));
  retrieval = new KnowledgeRetrieval({
    db: t.db,
    audit: rt.audit,
    vectors: null as never,
    embeddings: noEmbeddings,
    memory: { maxBytes: 64 * 1024 * 1024, minRebuildMs: 0 },
  });
}, 120_000);
afterAll(() => t?.close());

describe('scoring in memory', () => {
  test('ranks exactly as the SQL does: every bench question, with feedback and expansion, at depth 5 and 40', async () => {
    // As searches use it: with every posting's tf-part worked out for the default parameters.
    const index = precompute((await loadIndex(read(a), 64 * 1024 * 1024))!, BM25);
    expect(index.stats.n).toBeGreaterThan(500);
    const questions = [
      ...QUESTIONS('support-questions.json'),
      ...QUESTIONS('support-heldout.json'),
      ...WORDS.map((w) => `${w} ${w}s please`),
      'how long do refnuds tkae',
      'retrun windw',
    ];
    let compared = 0;
    for (const q of questions)
      for (const limit of [5, 40]) {
        const [sql, mem] = await as(a, async (tx) => [await lexicalSearch(tx, q, limit), await lexicalSearch(tx, q, limit, { index })]);
        expect(mem, q).toEqual(sql);
        compared += sql.length;
      }
    // Not a comparison of empty lists.
    expect(compared).toBeGreaterThan(questions.length * 20);
  });

  test("a chunk's terms in the copy are the ones feedback counts from its text", async () => {
    const index = precompute((await loadIndex(read(a), 64 * 1024 * 1024))!, BM25);
    const found = await as(a, (tx) =>
      readRanked(
        tx,
        index.ids.map((id, doc) => ({ id, score: 1, doc })),
      ),
    );
    expect(found).toHaveLength(index.ids.length);
    for (const c of found) {
      const { tf, length } = counted(c);
      expect(chunkTerms(index, index.ids.indexOf(c.chunkId)), c.chunkId).toEqual({ tf, length });
    }
  });

  test('the statistics are read once per transaction, and again after it writes knowledge', async () => {
    const [before, again, after] = await as(b, async (tx) => {
      const first = await indexStats(tx);
      const second = await indexStats(tx);
      await ingestSource(tx, b, { kind: 'markdown', content: '# More\n\n## Gift cards\nTenant B sells none.\n', externalId: 'b-more' });
      return [first, second, await indexStats(tx)];
    });
    expect(again).toBe(before);
    expect(Number(after!.version)).toBeGreaterThan(Number(before!.version));
    expect(after!.n).toBeGreaterThan(before!.n);
    await as(b, async (tx) => {
      const { rows } = await tx.query<{ id: string }>("SELECT id FROM knowledge_sources WHERE external_id = 'b-more'");
      await deleteSource(tx, rows[0]!.id);
    });
  });

  test('a search uses the copy only at the version it reads, and the copy never crosses tenants', async () => {
    const search = (tenant: string, q: string) => retrieval.searchTenant(tenant, q, 3).then((r) => r.results.map((c) => c.text));
    await search(a, 'refund');
    await retrieval.indexes!.settled();
    const stats = (await as(a, indexStats))!;
    expect(retrieval.indexes!.current(a, stats)).not.toBeNull();
    // Tenant B has no copy yet: its search is scored in SQL, on its own passages only.
    expect((await search(b, 'refunds')).join(' ')).toContain('in kind only');
    await retrieval.indexes!.settled();
    expect((await search(b, 'refunds')).join(' ')).toContain('in kind only');
    expect((await search(a, 'refunds')).join(' ')).not.toContain('in kind only');

    // A new passage is found at once (the copy is stale, so SQL scores), then from the rebuilt copy.
    await as(a, (tx) =>
      ingestSource(tx, a, { kind: 'markdown', content: '# Late\n\n## Zeppelin\nZeppelin deliveries land on Tuesdays.\n', externalId: 'late' }),
    );
    const newer = (await as(a, indexStats))!;
    expect(newer.version).not.toBe(stats.version);
    expect(retrieval.indexes!.current(a, newer)).toBeNull();
    expect(await search(a, 'zeppelin')).toEqual(['Zeppelin deliveries land on Tuesdays.']);
    await retrieval.indexes!.settled();
    expect(retrieval.indexes!.current(a, newer)).not.toBeNull();
    expect(await search(a, 'zeppelin')).toEqual(['Zeppelin deliveries land on Tuesdays.']);

    // A deleted one is gone at once.
    await as(a, async (tx) => {
      const { rows } = await tx.query<{ id: string }>("SELECT id FROM knowledge_sources WHERE external_id = 'late'");
      await deleteSource(tx, rows[0]!.id);
    });
    expect(await search(a, 'zeppelin')).toEqual([]);
  });
});

describe('passages kept by the copy', () => {
  /** `tx`, noting the statements sent through it. */
  const noting = (tx: Tx, sent: string[]): Tx => ({
    query: (sql, params) => (sent.push(sql), tx.query(sql, params)),
    exec: (sql) => (sent.push(sql), tx.exec(sql)),
    defer: (sql, params) => (sent.push(sql), tx.defer(sql, params)),
    last: (sql, params) => (sent.push(sql), tx.last(sql, params)),
  });

  test('a search whose passages were read before reads none from the database, and finds the same', async () => {
    const index = precompute((await loadIndex(read(a), 64 * 1024 * 1024))!, BM25);
    const sent: string[] = [];
    const search = (q: string) => as(a, (tx) => lexicalSearch(noting(tx, sent), q, 5, { index }));
    const first = await search('how long do refunds take');
    expect(first.length).toBeGreaterThan(1);
    expect(sent.filter((s) => s.includes('knowledge_chunks'))).toHaveLength(1);
    sent.length = 0;
    expect(await search('how long do refunds take')).toEqual(first);
    expect(sent).toEqual([]);
    // Another question reads only the passages not kept yet, and still finds what SQL finds.
    const other = 'can I change my delivery address';
    const kept = index.passages!.size;
    const found = await search(other);
    expect(found).toEqual(await as(a, (tx) => lexicalSearch(tx, other, 5)));
    expect(index.passages!.size).toBeGreaterThan(kept);
  });

  test("a replaced source's passages are never served from before: new text and URL at once, and the stale copy keeps none", async () => {
    const search = () => retrieval.searchTenant(a, 'walrus', 3).then((r) => r.results.map((c) => `${c.text} ${c.url}`));
    const source = (text: string, url: string) =>
      as(a, (tx) => ingestSource(tx, a, { kind: 'markdown', content: `# Pets\n\n## Walrus\n${text}\n`, externalId: 'walrus', url }));
    await source('Walruses travel free.', 'https://example.com/old');
    await search();
    await retrieval.indexes!.settled();
    const before = (await as(a, indexStats))!;
    const copy = retrieval.indexes!.current(a, before)!;
    expect(await search()).toEqual(['Walruses travel free. https://example.com/old#walrus']);
    expect(await search()).toEqual(['Walruses travel free. https://example.com/old#walrus']);
    expect(copy.passages!.size).toBeGreaterThan(0);

    await source('Walruses travel at half price.', 'https://example.com/new');
    expect(await search()).toEqual(['Walruses travel at half price. https://example.com/new#walrus']);
    expect(copy.passages!.size).toBe(0);
    await retrieval.indexes!.settled();
    expect(await search()).toEqual(['Walruses travel at half price. https://example.com/new#walrus']);
    expect(await search()).toEqual(['Walruses travel at half price. https://example.com/new#walrus']);
  });

  test("the copy's size counts what its passages may take, and a copy that fits only without them is not kept", async () => {
    const index = (await loadIndex(read(b), 1 << 30))!;
    expect(index.passages!.maxBytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(index.bytes).toBeGreaterThan(index.passages!.maxBytes);
    expect(await loadIndex(read(b), index.bytes)).not.toBeNull();
    expect(await loadIndex(read(b), index.bytes - 1)).toBeNull();
  });
});

describe('pruning (MaxScore)', () => {
  test('ranks and scores exactly as scoring every posting: random queries over a copy with duplicate passages (ties)', () => {
    // Chunk ids in order; every chunk has a twin with the same terms and length, so ties abound.
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const vocabulary = Array.from({ length: 60 }, (_, i) => `w${i}`);
    const chunks = Array.from({ length: 300 }, () => {
      const tf = new Map<string, number>();
      for (let k = 0; k < 5 + Math.floor(next() * 40); k++) {
        const w = vocabulary[Math.floor(vocabulary.length * next() ** 2)]!;
        tf.set(w, (tf.get(w) ?? 0) + 1);
      }
      return { tf, title: new Set([...tf.keys()].filter(() => next() < 0.1)), len: [...tf.values()].reduce((a, b) => a + b, 0) };
    });
    const docs = chunks.flatMap((c) => [c, c]);
    const ids = docs.map((_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const postings = new Map<string, { docs: number[]; tf: number[] }>();
    docs.forEach((c, d) => {
      for (const [w, n] of c.tf) {
        const post = postings.get(w) ?? { docs: [], tf: [] };
        post.docs.push(d);
        post.tf.push(n | (c.title.has(w) ? 1 << 30 : 0));
        postings.set(w, post);
      }
    });
    const copy = (): TenantIndex => ({
      stats: { version: '1', n: docs.length, totalLength: docs.reduce((a, c) => a + c.len, 0) },
      ids,
      lens: Int32Array.from(docs, (c) => c.len),
      terms: new Map([...postings].map(([w, p]) => [w, { docs: Int32Array.from(p.docs), tf: Int32Array.from(p.tf) }])),
      bytes: 0,
    });
    // Scored as it goes, and with every tf-part worked out beforehand (as searches use a copy).
    const plain = copy();
    const precomputed = precompute(copy(), BM25);
    let compared = 0;
    for (let q = 0; q < 400; q++) {
      const terms = Array.from({ length: 1 + Math.floor(next() * 12) }, () => ({
        term: vocabulary[Math.floor(vocabulary.length * next())]!,
        weight: [1, 0.9, 0.5, 0.2, 0][Math.floor(next() * 5)]!,
      }));
      for (const limit of [1, 3, 10, 40]) {
        const want = scoreAll(plain, terms, limit, BM25);
        expect(scoreIndex(plain, terms, limit, BM25)).toEqual(want);
        expect(scoreIndex(precomputed, terms, limit, BM25)).toEqual(want);
        expect(scoreAll(precomputed, terms, limit, BM25)).toEqual(want);
        compared += want.length;
      }
      // Other parameters than the ones worked out beforehand are worked out as the search goes.
      const other = { ...BM25, k1: 0.9, b: 0.4 };
      expect(scoreIndex(precomputed, terms, 10, other)).toEqual(scoreAll(plain, terms, 10, other));
    }
    expect(compared).toBeGreaterThan(10_000);
  });
});

describe('loading', () => {
  test('a write committed during the load discards it', async () => {
    let calls = 0;
    const interrupted = async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
      if (++calls === 2)
        await as(a, (tx) =>
          ingestSource(tx, a, { kind: 'markdown', content: '# Mid\n\n## Mid\nWritten mid-load.\n', externalId: `mid-${Date.now()}` }),
        );
      return as(a, fn);
    };
    expect(await loadIndex(interrupted, 64 * 1024 * 1024)).toBeNull();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(await loadIndex(read(a), 64 * 1024 * 1024)).not.toBeNull();
  });

  test('a copy over the budget is not kept, nor tried again until the index changes; searches go on in SQL', async () => {
    let loads = 0;
    const small = new MemoryIndexes({ maxBytes: 10_000, load: (tenant, max) => (loads++, loadIndex(read(tenant), max)) });
    const stats = (await as(a, indexStats))!;
    expect(small.current(a, stats)).toBeNull();
    await small.settled();
    expect(small.current(a, stats)).toBeNull();
    await small.settled();
    expect(loads).toBe(1);
    const results = await as(a, (tx) => lexicalSearch(tx, 'refund', 3, { index: small.current(a, stats) }));
    expect(results.length).toBe(3);
  });

  test('a tenant whose knowledge keeps changing is reloaded at most once per minRebuildMs', async () => {
    let loads = 0;
    const slow = new MemoryIndexes({ maxBytes: 1 << 30, minRebuildMs: 60_000, load: (tenant, max) => (loads++, loadIndex(read(tenant), max)) });
    const before = (await as(b, indexStats))!;
    slow.current(b, before);
    await slow.settled();
    expect(slow.current(b, before)).not.toBeNull();
    await as(b, (tx) => ingestSource(tx, b, { kind: 'markdown', content: '# More\n\n## Hours\nTenant B opens at nine.\n', externalId: 'b2' }));
    const after = (await as(b, indexStats))!;
    expect(slow.current(b, after)).toBeNull();
    await slow.settled();
    expect(slow.current(b, after)).toBeNull();
    expect(loads).toBe(1);
  });

  test('the least recently used copy makes room for another', async () => {
    const c = await make('C');
    await as(c, (tx) => ingestSource(tx, c, { kind: 'markdown', content: '# C\n\n## Gifts\nTenant C wraps gifts for free.\n', externalId: 'c' }));
    const sizes = [(await loadIndex(read(b), 1 << 30))!.bytes, (await loadIndex(read(c), 1 << 30))!.bytes];
    // Room for either copy, not both.
    const held = new MemoryIndexes({ maxBytes: Math.max(...sizes) + Math.min(...sizes) - 1, load: (tenant, max) => loadIndex(read(tenant), max) });
    const sb = (await as(b, indexStats))!;
    const sc = (await as(c, indexStats))!;
    held.current(b, sb);
    await held.settled();
    expect(held.current(b, sb)).not.toBeNull();
    held.current(c, sc);
    await held.settled();
    expect(held.current(c, sc)).not.toBeNull();
    expect(held.current(b, sb)).toBeNull();
  });
});
