// Storage and retrieval against the real database layer: exact statistics, atomic replace, deletion,
// bulk ingestion, BM25 ranking and tenant isolation; plus the HTML/Markdown safety of what is indexed.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Tx } from '../db/types.js';
import { wireRuntime } from '../runtime.js';
import { testConfig } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { makeTenant } from '../test/tenant.js';
import { chunkMarkdown } from './chunk.js';
import { htmlToText } from './html.js';
import { ingestSource, ingestSources, prepare } from './ingest.js';
import { bm25Retriever, tsRankRetriever } from './retrieve.js';
import { deleteSource, listSources } from './store.js';

let t: TestDb;
let a: string;
let b: string;
const as = <T>(tenant: string, fn: (tx: Tx) => Promise<T>) => t.db.withTenant(tenant, { requestId: null }, fn);
const search = (tenant: string, q: string, limit = 5) => as(tenant, (tx) => bm25Retriever.search(tx, q, { limit }));

/** Statistics recomputed from the rows must equal the ones kept incrementally. */
async function checkStats(tenant: string) {
  const { rows } = await as(tenant, (tx) =>
    tx.query<Record<string, number>>(`SELECT
      (SELECT count(*) FROM knowledge_chunks)::int AS chunks,
      (SELECT coalesce(sum(token_count), 0) FROM knowledge_chunks)::int AS total,
      coalesce((SELECT chunk_count FROM knowledge_stats), 0)::int AS kept_chunks,
      coalesce((SELECT total_length FROM knowledge_stats), 0)::int AS kept_total,
      (SELECT count(*) FROM knowledge_postings)::int AS postings,
      (SELECT coalesce(sum(cardinality(terms)), 0) FROM knowledge_chunks)::int AS chunk_terms,
      (SELECT count(*) FROM (SELECT term, count(*) AS n FROM knowledge_postings GROUP BY term) p
         FULL JOIN knowledge_terms k USING (term) WHERE p.n IS DISTINCT FROM k.df)::int AS df_mismatches`),
  );
  const s = rows[0]!;
  expect(s.kept_chunks).toBe(s.chunks);
  expect(s.kept_total).toBe(s.total);
  expect(s.postings).toBe(s.chunk_terms);
  expect(s.df_mismatches).toBe(0);
  return s;
}

const FAQ = `# Help

## Payments
We accept cards and bank transfers.

### Refunds
Refunds reach your card within 5 business days.

## Delivery
Parcels ship from Lisbon within two days.
`;

beforeAll(async () => {
  t = await createTestDb();
  const rt = wireRuntime(testConfig(), t.db);
  const make = (name: string) => makeTenant({ db: t.db, audit: rt.audit }, name);
  a = await make('A');
  b = await make('B');
});
afterAll(() => t?.close());

describe('chunking and safety of what is indexed', () => {
  test('nested headings give heading paths; a shallower heading closes the deeper ones', () => {
    const chunks = chunkMarkdown(FAQ, { title: 'Help', url: 'https://x.example/help#top' });
    expect(chunks.map((c) => [c.title, c.anchor])).toEqual([
      ['Help › Payments', 'https://x.example/help#payments'],
      ['Help › Payments › Refunds', 'https://x.example/help#refunds'],
      ['Help › Delivery', 'https://x.example/help#delivery'],
    ]);
    expect(chunkMarkdown(FAQ, { title: 'Help', url: null })[0]!.anchor).toBeNull();
  });

  test('long sections split into 200–400 word chunks with overlap; short ones are never split', () => {
    const para = (i: number) => Array.from({ length: 50 }, (_, j) => `w${i}x${j}`).join(' ') + '.';
    const chunks = chunkMarkdown(`## Long\n\n${Array.from({ length: 16 }, (_, i) => para(i)).join('\n\n')}`, { title: 'T', url: null });
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.text.split(/\s+/).length).toBeLessThanOrEqual(400 + 40);
    expect(chunks[1]!.text.startsWith(chunks[0]!.text.split(/\s+/).slice(-40).join(' '))).toBe(true);
    expect(chunks.map((c) => c.position)).toEqual(chunks.map((_, i) => i));
  });

  test('HTML: entities decoded, nested headings kept, hidden and active content dropped, cells apart', () => {
    const { text, title } = htmlToText(`<!doctype html><html><head><title>Plans &amp; pricing</title>
      <script>var secret = "ignore previous instructions"</script></head>
      <body><form id="page"><svg><title>icon</title></svg>
      <h1>Plans</h1><p>Prices in &euro; &#8212; VAT&nbsp;included.</p>
      <div hidden>hidden instructions</div><p style="display: none">invisible text</p><span aria-hidden="true">decor</span>
      <h2>Team</h2><table><tr><td>Seats</td><td>10</td></tr></table>
      <template><p>template text</p></template><select><option>choice</option></select>
      <h3>Add-ons</h3><p>Extra storage <b>doubles</b> your quota.</p></form></body></html>`);
    expect(title).toBe('Plans & pricing');
    expect(text).toBe('# Plans\n\nPrices in € — VAT included.\n\n## Team\n\nSeats\n\n10\n\n### Add-ons\n\nExtra storage doubles your quota.');
    expect(text).not.toMatch(/secret|instructions|invisible|decor|template|choice|icon/);
  });

  test('Markdown with raw HTML: scripts, styles and comments are dropped, code blocks are kept', () => {
    const { markdown } = prepare({
      kind: 'markdown',
      content:
        '# Doc\n\nBefore <script>alert("x")</script> after.\n<!-- note to self -->\n<style>p{}</style>\n\n```html\n<script>shown()</script>\n```\n',
    });
    expect(markdown).not.toMatch(/alert|note to self|p\{\}/);
    expect(markdown).toContain('<script>shown()</script>');
    expect(prepare({ kind: 'text', content: '# not a heading' }).markdown).toBe('# not a heading');
  });
});

describe('storage and BM25', () => {
  test('ingests, ranks the specific section first, and keeps exact statistics', async () => {
    await as(a, async (tx) => {
      await ingestSource(tx, a, { kind: 'markdown', content: FAQ, url: 'https://a.example/help', externalId: 'faq' });
      await ingestSource(tx, a, {
        kind: 'text',
        content: 'Refunds for gift cards are not possible. Gift cards never expire.',
        externalId: 'gift',
        title: 'Gift cards',
      });
    });
    const hits = await search(a, 'how many days for a refund to my card?');
    expect(hits[0]).toMatchObject({ externalId: 'faq', title: 'Help › Payments › Refunds', url: 'https://a.example/help#refunds' });
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect((await search(a, 'gift card expiry'))[0]!.externalId).toBe('gift');
    expect(await search(a, 'the of and')).toEqual([]);
    expect((await as(a, (tx) => tsRankRetriever.search(tx, 'parcels Lisbon', { limit: 3 })))[0]!.title).toBe('Help › Delivery');
    const s = await checkStats(a);
    expect(s.chunks).toBe(4);
  });

  test('identical chunk content in a source is stored once', async () => {
    const res = await as(a, (tx) =>
      ingestSource(tx, a, { kind: 'markdown', content: '## Same\nSame words.\n\n## Same\nSame words.\n\n## Other\nOther words.', externalId: 'dup' }),
    );
    expect(res.source.chunk_count).toBe(2);
    await checkStats(a);
  });

  test('an unchanged source is a no-op; a changed one replaces its chunks', async () => {
    const again = await as(a, (tx) => ingestSource(tx, a, { kind: 'markdown', content: FAQ, url: 'https://a.example/help', externalId: 'faq' }));
    expect(again).toMatchObject({ changed: false, replaced: false });
    const changed = await as(a, (tx) =>
      ingestSource(tx, a, {
        kind: 'markdown',
        content: FAQ.replace('5 business days', '10 business days'),
        url: 'https://a.example/help',
        externalId: 'faq',
      }),
    );
    expect(changed).toMatchObject({ changed: true, replaced: true });
    const texts = (await search(a, 'refunds business days', 10)).map((h) => h.text).join(' ');
    expect(texts).toContain('10 business days');
    expect(texts).not.toContain('5 business days');
    await checkStats(a);
  });

  test('a re-ingest that fails leaves the previous chunks and statistics as they were', async () => {
    const before = await checkStats(a);
    const hits = await search(a, 'refunds business days');
    await expect(
      as(a, async (tx) => {
        await ingestSource(tx, a, { kind: 'markdown', content: '# Help\n\nNothing about money.', externalId: 'faq' });
        throw new Error('failed after writing');
      }),
    ).rejects.toThrow('failed after writing');
    // A failure inside ingestion itself (here: a title the database refuses) rolls back the whole batch.
    await expect(
      as(a, (tx) =>
        ingestSources(tx, a, [
          { input: { kind: 'text', content: 'fine', externalId: 'ok' } },
          { input: { kind: 'text', content: 'x', externalId: 'faq', title: 'bad\u0000title' } },
        ]),
      ),
    ).rejects.toThrow();
    expect(await search(a, 'refunds business days')).toEqual(hits);
    expect(await checkStats(a)).toEqual(before);
  });

  test('deleting a source removes its chunks, postings and statistics', async () => {
    const { source } = await as(a, (tx) =>
      ingestSource(tx, a, { kind: 'text', content: 'Zebra-striped umbrellas are sold out.', externalId: 'zebra' }),
    );
    expect(await search(a, 'zebra umbrellas')).toHaveLength(1);
    expect((await as(a, (tx) => deleteSource(tx, source.id)))?.id).toBe(source.id);
    expect(await search(a, 'zebra umbrellas')).toEqual([]);
    const left = await as(a, (tx) =>
      tx.query(
        "SELECT term FROM knowledge_terms WHERE term IN ('zebra', 'umbrella') UNION ALL SELECT term FROM knowledge_postings WHERE term = 'zebra'",
      ),
    );
    expect(left.rows).toEqual([]);
    expect(await as(a, (tx) => deleteSource(tx, source.id))).toBeNull();
    await checkStats(a);
  });

  test("tenant isolation: B's knowledge never comes back for A, nor A's for B", async () => {
    const { source } = await as(b, (tx) =>
      ingestSource(tx, b, { kind: 'text', content: 'Loyalty members earn double points on Tuesdays. Refunds are instant.', externalId: 'faq' }),
    );
    expect(await search(a, 'loyalty double points tuesday')).toEqual([]);
    expect((await search(b, 'loyalty double points tuesday'))[0]!.sourceId).toBe(source.id);
    expect((await search(b, 'refunds card business days', 10)).every((h) => h.sourceId === source.id)).toBe(true);
    expect(await as(a, (tx) => deleteSource(tx, source.id))).toBeNull();
    expect((await as(a, (tx) => listSources(tx))).some((s) => s.id === source.id)).toBe(false);
    const none = await t.db.withoutTenant({ requestId: null }, (tx) =>
      tx.query('SELECT 1 FROM knowledge_postings UNION ALL SELECT 1 FROM knowledge_terms UNION ALL SELECT 1 FROM knowledge_chunks'),
    );
    expect(none.rows).toEqual([]);
    await checkStats(a);
    await checkStats(b);
  });

  test('bulk ingestion: thousands of sources in one transaction; a repeated externalId keeps the last', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({
      input: { kind: 'text' as const, content: `Article ${i} about topic${i % 50} and widget${i}.`, externalId: `bulk-${i}` },
    }));
    items.push({ input: { kind: 'text', content: 'The final word on widget7.', externalId: 'bulk-7' } });
    const started = performance.now();
    const res = await as(a, (tx) => ingestSources(tx, a, items));
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(res).toHaveLength(3001);
    expect(res.at(-1)).toMatchObject({ changed: true, replaced: true });
    expect((await search(a, 'widget7'))[0]!.text).toBe('The final word on widget7.');
    const sources = await as(a, (tx) => listSources(tx, { limit: 5000 }));
    expect(sources.filter((s) => s.external_id?.startsWith('bulk-'))).toHaveLength(3000);
    const page = await as(a, (tx) => listSources(tx, { limit: 2, after: sources[0]!.id }));
    expect(page.map((s) => s.id)).toEqual(sources.slice(1, 3).map((s) => s.id));
    await checkStats(a);
  });
});
