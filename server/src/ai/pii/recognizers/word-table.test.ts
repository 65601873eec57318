import { describe, expect, it } from 'vitest';
import { WordTable } from './word-table.js';

describe('WordTable', () => {
  it('answers as the Map it was built from, for present and absent words', () => {
    const words = new Map<string, number>();
    for (let i = 0; i < 5000; i++) words.set(`w${i.toString(36)}`, i % 256);
    words.set('zoë', 3).set('straße', 7).set('', 9).set('𝒜bc', 200);
    const table = new WordTable(words);
    for (const [w, v] of words) expect(table.get(w)).toBe(v);
    for (const w of ['w', 'x1', 'zoe', 'strasse', '𝒜b', 'w0 ', 'W0']) expect(table.get(w)).toBe(words.get(w));
  });

  it('looks up an ASCII range in lower case as get() does the lower-cased slice', () => {
    const words = new Map([
      ['anna', 1],
      ["o'brien", 2],
      ['', 3],
    ]);
    const table = new WordTable(words);
    const text = "Hi ANNA, o'Brien; Annabel";
    for (let start = 0; start <= text.length; start++)
      for (let end = start; end <= text.length; end++)
        expect(table.getAsciiLower(text, start, end)).toBe(table.get(text.slice(start, end).toLowerCase()));
  });
});
