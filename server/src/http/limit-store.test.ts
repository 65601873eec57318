// The embedded database's counters: each hit answers with its own count, though its answer waits for
// the check phase while later hits are counted.
import { describe, expect, test } from 'vitest';
import { CheckPhaseMemoryStore } from './limit-store.js';

describe('CheckPhaseMemoryStore', () => {
  test('hits counted before the first is answered each get their own count, not a later one', async () => {
    const store = new CheckPhaseMemoryStore();
    store.init({ windowMs: 60_000 } as Parameters<CheckPhaseMemoryStore['init']>[0]);
    try {
      // Each from a callback of its own, as requests are read, all before the check phase answers any.
      const hits = await Promise.all(['a', 'a', 'b', 'a'].map((key) => new Promise<void>((r) => setTimeout(r, 0)).then(() => store.increment(key))));
      expect(hits.map((h) => h.totalHits)).toEqual([1, 2, 1, 3]);
      expect(hits[0]!.resetTime!.getTime()).toBeGreaterThan(Date.now());
    } finally {
      store.shutdown();
    }
  });
});
