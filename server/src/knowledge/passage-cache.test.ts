import { describe, expect, test } from 'vitest';
import { type Passage, PassageCache, passageBudget } from './passage-cache.js';

const passage = (id: string, chars: number): Passage => ({
  id,
  source_id: 's',
  external_id: null,
  title: 't',
  anchor_url: null,
  url: null,
  text: 'x'.repeat(chars),
});

describe('PassageCache', () => {
  test('keeps what fits in its bytes, the least recently used out first', () => {
    const cache = new PassageCache(3 * (2 * 1001 + 300));
    for (const id of ['a', 'b', 'c']) cache.add(passage(id, 1000));
    expect(cache.size).toBe(3);
    expect(cache.get('a')?.id).toBe('a');
    cache.add(passage('d', 1000));
    // b was the least recently used: a was read after it.
    expect(['a', 'b', 'c', 'd'].filter((id) => cache.get(id))).toEqual(['a', 'c', 'd']);
    expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes);
    // One larger than the whole budget is not kept, and keeps the others.
    cache.add(passage('huge', 10_000));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(3);
    cache.clear();
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });

  test('a copy reserves an eighth of its postings for passages, within 64 KiB and 4 MiB', () => {
    expect(passageBudget(0)).toBe(64 * 1024);
    expect(passageBudget(8 * 1024 * 1024)).toBe(1024 * 1024);
    expect(passageBudget(1 << 30)).toBe(4 * 1024 * 1024);
  });
});
