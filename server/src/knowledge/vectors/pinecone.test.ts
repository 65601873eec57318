// The Pinecone store through the real @pinecone-database/pinecone client, against a local server that
// speaks the index's data-plane API (Pinecone itself is not reachable from tests).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startFakePinecone } from '../../test/pinecone-fake.js';
import { namespaceFor, pineconeStore, VectorStoreError } from './pinecone.js';
import type { VectorItem } from './store.js';

const KEY = 'pc-test-4f1c2a9be0d7';
const tx = undefined as never;
const A = randomUUID();
const B = randomUUID();
let fake: Awaited<ReturnType<typeof startFakePinecone>>;
let store: ReturnType<typeof pineconeStore>;

const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const item = (vector: number[], model = 'openai:m1'): VectorItem => ({ chunkId: randomUUID(), sourceId: randomUUID(), model, vector });

beforeAll(async () => {
  fake = await startFakePinecone({ apiKey: KEY });
  store = pineconeStore({ apiKey: KEY, indexHost: fake.host });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
});

describe('Pinecone vector store', () => {
  test('round trip: nearest first, cosine scores', async () => {
    const [near, mid, far] = [item(unit(1, 0, 0)), item(unit(1, 1, 0)), item(unit(0, 0, 1))];
    await store.upsert(tx, A, [far, near, mid]);
    const found = await store.query(tx, A, 'openai:m1', unit(1, 0.1, 0), 3);
    expect(found.map((m) => m.chunkId)).toEqual([near.chunkId, mid.chunkId, far.chunkId]);
    expect(found[0]!.score).toBeGreaterThan(0.99);
    expect(found[2]!.score).toBeCloseTo(0, 5);
  });

  test("one namespace per tenant: identical vectors of B never answer A's query", async () => {
    const mine = item(unit(0, 1, 0));
    const theirs = item(unit(0, 1, 0));
    await store.upsert(tx, A, [mine]);
    await store.upsert(tx, B, [theirs]);
    fake.requests.length = 0;
    const found = await store.query(tx, A, 'openai:m1', unit(0, 1, 0), 50);
    expect(found.map((m) => m.chunkId)).toContain(mine.chunkId);
    expect(found.map((m) => m.chunkId)).not.toContain(theirs.chunkId);
    expect(fake.requests).toEqual([expect.objectContaining({ path: '/query', namespace: namespaceFor(A) })]);
  });

  test('vectors of another embedding model are never compared', async () => {
    const other = item(unit(0, 0, 1), 'openai:m2');
    await store.upsert(tx, A, [other]);
    expect((await store.query(tx, A, 'openai:m1', unit(0, 0, 1), 100)).map((m) => m.chunkId)).not.toContain(other.chunkId);
    expect((await store.query(tx, A, 'openai:m2', unit(0, 0, 1), 100)).map((m) => m.chunkId)).toEqual([other.chunkId]);
  });

  test('2,500 upserts and 2,500 deletions go in requests within Pinecone limits', async () => {
    const tenant = randomUUID();
    const items = Array.from({ length: 2500 }, (_, i) => item(unit(1, i, 2)));
    await store.upsert(tx, tenant, items);
    const upserts = fake.requests.filter((r) => r.path === '/vectors/upsert');
    expect(upserts.length).toBeGreaterThanOrEqual(3);
    expect(upserts.every((r) => r.count <= 1000 && r.bytes <= 2 * 1024 * 1024)).toBe(true);
    expect(fake.namespaces()[namespaceFor(tenant)]).toBe(2500);
    await store.remove(
      tx,
      tenant,
      items.map((i) => i.chunkId),
    );
    expect(fake.requests.filter((r) => r.path === '/vectors/delete').length).toBe(3);
    expect(fake.namespaces()[namespaceFor(tenant)]).toBe(0);
  });

  test('large vectors are split by size as well as by count', async () => {
    const tenant = randomUUID();
    await store.upsert(
      tx,
      tenant,
      Array.from({ length: 300 }, () => item(Array.from({ length: 3072 }, (_, i) => Math.sin(i) / 40))),
    );
    const upserts = fake.requests.filter((r) => r.path === '/vectors/upsert');
    expect(upserts.length).toBeGreaterThan(1);
    expect(upserts.every((r) => r.bytes <= 2 * 1024 * 1024)).toBe(true);
  });

  test('nothing to delete sends nothing', async () => {
    await store.remove(tx, A, []);
    expect(fake.requests).toEqual([]);
  });

  test('a wrong API key is a VectorStoreError that does not quote the key', async () => {
    const wrong = 'pc-wrong-9d8c7b6a5f4e';
    const bad = pineconeStore({ apiKey: wrong, indexHost: fake.host });
    const err = await bad.query(tx, A, 'openai:m1', unit(1, 0, 0), 3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VectorStoreError);
    expect((err as VectorStoreError).status).toBe(401);
    expect(String((err as Error).message) + String((err as Error).stack)).not.toContain(wrong);
  });

  test('a tenant id that is not a UUID is refused before any request', async () => {
    for (const id of ['', 'tenant-a', '../other', `${A}/x`]) {
      await expect(store.query(tx, id, 'openai:m1', unit(1, 0, 0), 3)).rejects.toBeInstanceOf(VectorStoreError);
    }
    expect(fake.requests).toEqual([]);
  });
});
