// Dense and hybrid retrieval over HTTP with a real server and database, for every vector store. The
// doubles are the hosted models only (the ai SDK's test models, which record what they receive) and,
// for the Pinecone store, a local server speaking Pinecone's data-plane API to the real client.
import { simulateReadableStream } from 'ai';
import { MockEmbeddingModelV3, MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { startFakePinecone } from '../test/pinecone-fake.js';
import { Visitor } from '../test/widget.js';
import { reciprocalRankFusion } from './retrieval.js';
import { pgVectorStore } from './vectors/pgvector.js';
import { pineconeStore } from './vectors/pinecone.js';
import type { VectorStore } from './vectors/store.js';

// A tiny "semantic" embedding for the double: words of one concept share a dimension, so a question
// about reimbursement lands near a passage about refunds that shares no word with it.
const CONCEPTS: Record<string, string> = {
  refund: 'money-back',
  refunds: 'money-back',
  refunded: 'money-back',
  reimburse: 'money-back',
  reimbursed: 'money-back',
  reimbursement: 'money-back',
  repaid: 'money-back',
  parcel: 'parcel',
  package: 'parcel',
  packet: 'parcel',
  courier: 'parcel',
  delivery: 'parcel',
  deliver: 'parcel',
  shipping: 'parcel',
  days: 'time',
  weeks: 'time',
  long: 'time',
};
const DIMS = 64;
function embedText(text: string): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    const key = CONCEPTS[w] ?? w;
    let h = 2166136261;
    for (const ch of key) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    v[(h >>> 0) % DIMS]! += CONCEPTS[w] ? 3 : 1;
  }
  return v;
}

let failing = false;
const embedding = new MockEmbeddingModelV3({
  maxEmbeddingsPerCall: 100,
  doEmbed: async ({ values }) => {
    if (failing) throw new Error('upstream 503');
    return { embeddings: values.map(embedText), usage: { tokens: values.join(' ').split(/\s+/).length }, warnings: [] };
  },
});
const embedded = () => embedding.doEmbedCalls.flatMap((c) => c.values).join('\n');

const usage = { inputTokens: { total: 50, noCache: 50, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 10, text: 10, reasoning: 0 } };
const model = new MockLanguageModelV3({
  doStream: async () => {
    const words = 'Your money goes back to your card within 5 business days [1].'.match(/\S+\s*/g)!;
    return {
      stream: simulateReadableStream({
        chunks: [
          { type: 'text-start' as const, id: 't' },
          ...words.map((w) => ({ type: 'text-delta' as const, id: 't', delta: w })),
          { type: 'text-end' as const, id: 't' },
          { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: 'stop' }, usage },
        ],
      }),
    };
  },
  doGenerate: async () => ({
    content: [{ type: 'text' as const, text: '0.9' }],
    finishReason: { unified: 'stop' as const, raw: 'stop' },
    usage,
    warnings: [],
  }),
});

const PII = { email: 'refund-desk@northwind-mail.example', card: '4111 1111 1111 1111', phone: '+44 20 7946 0958', person: 'Margaret Thornbury' };
const REFUNDS = `# Returns\n\n## Refund timing\n\nA refund reaches the original card within 5 business days after the parcel arrives at our warehouse. Escalations go to ${PII.person} at ${PII.email} or ${PII.phone}; test card ${PII.card} is never charged.`;
const SHIPPING = '# Delivery\n\n## Couriers\n\nEvery parcel ships with a tracked courier; delivery takes 2 to 4 days in the EU.';
const B_SECRET = '# Members\n\n## Zanzibar refunds\n\nMembers of B are reimbursed instantly with promotion code ZX-4242.';

for (const kind of ['pgvector', 'pinecone'] as const) {
  describe(`dense and hybrid retrieval (${kind})`, () => {
    let t: TestApp;
    let a: CreatedTenant;
    let b: CreatedTenant;
    let pinecone: Awaited<ReturnType<typeof startFakePinecone>> | undefined;

    const search = async (tenant: CreatedTenant, query: string, mode?: string) => {
      const res = await call(t.url, 'POST', '/v1/admin/knowledge/search', {
        key: tenant.secretKey,
        body: { query, limit: 5, ...(mode ? { mode } : {}) },
      });
      expect(res.status).toBe(200);
      return res.body as { mode: string; results: { chunkId: string; sourceId: string; title: string; text: string; score: number }[] };
    };
    const ingest = async (tenant: CreatedTenant, externalId: string, content: string) => {
      const res = await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
        key: tenant.secretKey,
        body: { kind: 'markdown', externalId, content },
      });
      expect(res.status).toBeLessThan(300);
      return res.body.sources[0] as { id: string };
    };
    const vectorCount = async (tenant: CreatedTenant) =>
      kind === 'pgvector'
        ? Number(
            (
              await t.runtime.db.withTenant(tenant.tenant.id, { requestId: null }, (tx) =>
                tx.query<{ n: number }>('SELECT count(*)::int AS n FROM knowledge_vectors'),
              )
            ).rows[0]!.n,
          )
        : (pinecone!.namespaces()[`tenant-${tenant.tenant.id}`] ?? 0);

    beforeAll(async () => {
      let vectors: VectorStore = pgVectorStore();
      if (kind === 'pinecone') {
        pinecone = await startFakePinecone({ apiKey: 'pc-test-key' });
        vectors = pineconeStore({ apiKey: 'pc-test-key', indexHost: pinecone.host });
      }
      t = await startTestApp({}, { modelFor: () => model, embeddingModelFor: () => embedding, vectors });
      a = await t.tenant('Shop A', ['shop.a.example']);
      b = await t.tenant('Shop B', ['shop.b.example']);
      for (const tenant of [a, b]) {
        await call(t.url, 'PATCH', '/v1/admin/settings', { key: tenant.secretKey, body: { budget: { requestsPerMinute: 10_000 } } });
        const set = await call(t.url, 'PUT', '/v1/admin/providers/openai', {
          key: tenant.secretKey,
          body: { apiKey: `sk-test-${'k'.repeat(40)}`, model: 'gpt-test', embeddingModel: 'embed-test' },
        });
        expect(set.status).toBe(201);
      }
      await ingest(a, 'refunds', REFUNDS);
      await ingest(a, 'shipping', SHIPPING);
      await ingest(b, 'members', B_SECRET);
    });
    afterAll(async () => {
      await t.close();
      await pinecone?.close();
    });
    beforeEach(() => {
      failing = false;
    });

    test('ingestion embeds every chunk; dense finds a passage that shares no word with the question', async () => {
      expect(await vectorCount(a)).toBe(2);
      expect(await vectorCount(b)).toBe(1);
      // A word neither WordNet nor the support vocabulary bridges to "refund".
      const question = 'How long until I am repaid?';
      const lexical = await search(a, question, 'bm25');
      expect(lexical.mode).toBe('bm25');
      expect(lexical.results.some((r) => r.title.includes('Refund'))).toBe(false);
      const dense = await search(a, question, 'dense');
      expect(dense.mode).toBe('dense');
      expect(dense.results[0]!.title).toContain('Refund timing');
      expect(dense.results[0]!.score).toBeGreaterThan(dense.results[1]!.score);
      // The tenant's default (auto) is hybrid once an embedding model is configured.
      const hybrid = await search(a, question);
      expect(hybrid.mode).toBe('hybrid');
      expect(hybrid.results[0]!.title).toContain('Refund timing');
    });

    test('no raw personal data reaches the embedding model, from knowledge or from a question', async () => {
      await search(a, `I am ${PII.person}, card ${PII.card}, mail me at ${PII.email} about my refund`, 'dense');
      const sent = embedded();
      expect(sent).toContain('Refund timing');
      for (const value of [...Object.values(PII), '4111111111111111']) expect(sent, 'a raw value reached the embedding model').not.toContain(value);
    });

    test("tenant B's chunks never come back to tenant A, in dense and hybrid modes", async () => {
      // B's passage is the nearest vector to this question for any tenant that could see it.
      const question = 'Are members reimbursed instantly with the Zanzibar promotion code?';
      const mine = await search(b, question, 'dense');
      expect(mine.results[0]!.text).toContain('ZX-4242');
      for (const mode of ['dense', 'hybrid']) {
        const res = await search(a, question, mode);
        expect(res.results.length).toBeGreaterThan(0);
        expect(JSON.stringify(res)).not.toMatch(/ZX-4242|Zanzibar refunds|Members of B/);
      }
    });

    test("a visitor's prompt holds only the tenant's own passages, whichever retrieval mode answers", async () => {
      const v = new Visitor(t.url, a.publishableKey, 'https://shop.a.example');
      await v.start();
      // Words of both tenants' passages, so every mode would find B's if it could see it.
      const question = 'Are Zanzibar refunds instant for members, or does a refund take days?';
      for (const mode of ['bm25', 'dense', 'hybrid']) {
        expect((await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { retrieval: { mode } } })).status).toBe(200);
        const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
        const before = model.doStreamCalls.length;
        await v.say(id, question);
        expect(model.doStreamCalls.length, mode).toBe(before + 1);
        const sent = model.doStreamCalls
          .slice(before)
          .map((c) => JSON.stringify(c.prompt))
          .join('\n');
        expect(sent).toContain('5 business days');
        // The question names Zanzibar refunds; B's passage (its code, its text, its heading path) must not follow.
        expect(sent, mode).not.toMatch(/ZX-4242|Members of B|Members ›/);
      }
      await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { retrieval: { mode: 'auto' } } });
    });

    test("a visitor's question is embedded without the placeholders its personal data became", async () => {
      const v = new Visitor(t.url, a.publishableKey, 'https://shop.a.example');
      await v.start();
      const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
      const before = embedding.doEmbedCalls.length;
      await v.say(id, `I am ${PII.person}, write to ${PII.email}: how long until I am repaid?`);
      const asked = embedding.doEmbedCalls
        .slice(before)
        .flatMap((c) => c.values)
        .join('\n');
      expect(asked).toContain('how long until I am repaid?');
      // Stored as "[PERSON_1]" and "[EMAIL_1]": an embedding would read "email" and "person" as the topic.
      expect(asked).not.toMatch(/\[[A-Z_]+_K?\d+\]/);
      expect(asked).not.toContain(PII.email);
    });

    test('replacing and deleting a source removes its vectors', async () => {
      const src = await ingest(a, 'temp', '# Temp\n\n## Gift wrap\n\nGift wrapping costs 3 euros per parcel.');
      expect(await vectorCount(a)).toBe(3);
      await ingest(a, 'temp', '# Temp\n\n## Gift wrap\n\nGift wrapping is free.\n\n## Cards\n\nA handwritten card costs 1 euro.');
      expect(await vectorCount(a)).toBe(4);
      expect((await call(t.url, 'DELETE', `/v1/admin/knowledge/sources/${src.id}`, { key: a.secretKey })).status).toBe(204);
      expect(await vectorCount(a)).toBe(2);
      const res = await search(a, 'handwritten card gift wrapping', 'dense');
      expect(JSON.stringify(res)).not.toMatch(/Gift wrap|handwritten/);
    });

    test('a failing embedding provider leaves chunks pending and search on BM25; a later sync catches up', async () => {
      failing = true;
      expect((await ingest(a, 'faq', '# FAQ\n\n## Vouchers\n\nVouchers never expire and can be combined.')).id).toBeTruthy();
      expect(await vectorCount(a)).toBe(2);
      const fallback = await search(a, 'Do vouchers expire?');
      expect(fallback.mode).toBe('bm25');
      expect(fallback.results[0]!.text).toContain('never expire');
      const stillFailing = await call(t.url, 'POST', '/v1/admin/knowledge/embeddings', { key: a.secretKey });
      expect(stillFailing.body).toMatchObject({ model: 'openai:embed-test', pending: 1, error: expect.any(String) });
      failing = false;
      const synced = await call(t.url, 'POST', '/v1/admin/knowledge/embeddings', { key: a.secretKey });
      expect(synced.body).toEqual({ model: 'openai:embed-test', embedded: 1, pending: 0 });
      expect(await vectorCount(a)).toBe(3);
      expect((await search(a, 'Do vouchers expire?', 'dense')).results[0]!.text).toContain('never expire');
    });

    test('every embedding call is audited with hashes and token counts, never the text', async () => {
      const res = await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: a.secretKey });
      const entries = res.body.entries.filter((e: { action: string }) => e.action === 'ai.embed');
      expect(
        entries.some((e: any) => e.metadata.call === 'index' && /^[0-9a-f]{64}$/.test(e.metadata.requestSha256) && e.metadata.inputTokens > 0),
      ).toBe(true);
      expect(entries.some((e: any) => e.metadata.call === 'query')).toBe(true);
      expect(entries.some((e: any) => e.metadata.error)).toBe(true);
      expect(JSON.stringify(entries)).not.toMatch(/Refund timing|reimbursed|vouchers/i);
    });

    test('a tenant without an embedding model searches with BM25 whatever mode it asks for', async () => {
      const c = await t.tenant('Shop C', ['shop.c.example']);
      await ingest(c, 'refunds', REFUNDS);
      expect(await vectorCount(c)).toBe(0);
      const res = await search(c, 'refund timing', 'dense');
      expect(res.mode).toBe('bm25');
      expect(res.results[0]!.title).toContain('Refund timing');
    });
  });
}

describe('reciprocal rank fusion', () => {
  test('a passage ranked well by both lists beats one ranked first by only one', () => {
    const fused = reciprocalRankFusion([
      ['x', 'both', 'y'],
      ['z', 'both', 'w'],
    ]);
    expect(fused[0]!.id).toBe('both');
    expect(fused[0]!.score).toBeCloseTo(2 / 62);
    expect(fused.map((f) => f.id).sort()).toEqual(['both', 'w', 'x', 'y', 'z']);
  });
});
