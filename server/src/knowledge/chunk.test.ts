// Attack: a chunk without an upper bound. A long paragraph was cut only on sentence ends (.!?), so 899 KB of
// words with none became one 900 KB chunk, and a word-less blob one chunk of its whole length: every search hit
// and every prompt citing it then carried all of it. Now a chunk holds at most MAX_WORDS words (with the
// overlap carried from the chunk before) and MAX_CHUNK_CHARS characters, cut on words, and on characters
// where a "word" is longer than that.
import { describe, expect, test } from 'vitest';
import { chunkMarkdown, MAX_CHUNK_CHARS, MAX_WORDS, OVERLAP_WORDS } from './chunk.js';

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
const within = (chunks: { text: string }[]) => {
  for (const c of chunks) {
    expect(c.text.length).toBeLessThanOrEqual(MAX_CHUNK_CHARS);
    expect(words(c.text)).toBeLessThanOrEqual(MAX_WORDS + OVERLAP_WORDS);
  }
};

describe('every chunk is bounded', () => {
  test('899 KB of words with no sentence end or line break is cut on words, nothing lost', () => {
    // Distinct words: identical chunks of one source are stored once, and this text should keep all of its.
    const text = Array.from({ length: 92_000 }, (_, i) => `item${i}`).join(' ');
    expect(text.length).toBeGreaterThan(899_000);
    const chunks = chunkMarkdown(text, { title: 'Blob', url: null, headings: false });
    expect(chunks.length).toBeGreaterThan(100);
    within(chunks);
    expect(chunks.map((c) => c.text).join(' ')).toBe(text);
  });

  test('a blob without spaces is cut on characters, a surrogate pair never split', () => {
    const blob = Array.from({ length: 60_000 }, (_, i) => `${i}😀`).join('');
    const chunks = chunkMarkdown(blob, { title: 'Blob', url: null, headings: false });
    within(chunks);
    expect(chunks.map((c) => c.text).join('')).toBe(blob);
    for (const c of chunks) expect(c.text).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  });

  test('a paragraph of few but very long words is cut too', () => {
    const p = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, '0')}${'y'.repeat(998)}`).join(' ');
    const chunks = chunkMarkdown(`## Section\n${p}\n\nAfter.`, { title: 'T', url: null });
    within(chunks);
    expect(chunks.length).toBeGreaterThan(10);
  });

  test('ordinary prose is chunked as before: whole paragraphs, sentences for a long one', () => {
    const para = (n: number) => Array.from({ length: n }, (_, i) => `Sentence ${i} tells about parcels and lockers.`).join(' ');
    const chunks = chunkMarkdown(`## A\n${para(10)}\n\n${para(20)}\n\n## B\n${para(120)}`, { title: 'T', url: null });
    within(chunks);
    expect(chunks[0]!.text).toBe(`${para(10)}\n\n${para(20)}`);
    for (const c of chunks.slice(1)) expect(c.text).toMatch(/\.$/);
  });
});
