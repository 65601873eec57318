// Typing slips read as the tenant's own words: pure functions over a vocabulary.
import { describe, expect, test } from 'vitest';
import { expandQuery } from './expand.js';
import { editsOf, possibleSlips, TYPO_WEIGHT, withSpellingFixes } from './spelling.js';

const vocabulary = (df: Record<string, number>) => (t: string) => df[t] ?? 0;
const plain = (q: string) => expandQuery(q, { wordnet: false, lexicon: false });

describe('typing slips', () => {
  test('one edit: a letter left out, added, changed, or two swapped', () => {
    const e = editsOf('retrun');
    for (const w of ['return', 'retun', 'retrurn', 'retran']) expect(e).toContain(w);
    expect(e).not.toContain('retrun');
    expect(e).not.toContain('rtreun');
  });

  test("a word the knowledge lacks stands for the known word one edit away, below the visitor's own words", () => {
    const terms = withSpellingFixes(plain('retrun windw'), vocabulary({ return: 4, window: 1, widow: 0 }));
    expect(terms).toContainEqual({ term: 'return', weight: TYPO_WEIGHT, from: 'retrun' });
    expect(terms).toContainEqual({ term: 'window', weight: TYPO_WEIGHT, from: 'windw' });
    // The visitor's words stay, at their own weight.
    expect(terms.find((t) => t.term === 'retrun')?.weight).toBe(1);
  });

  test('the neighbour most passages have wins, then the first by spelling', () => {
    expect(withSpellingFixes(plain('parcl'), vocabulary({ parcel: 2, parch: 1, parc: 9 })).find((t) => t.from === 'parcl')?.term).toBe('parc');
    expect(withSpellingFixes(plain('refnd'), vocabulary({ refund: 1, refind: 1 })).find((t) => t.from === 'refnd')?.term).toBe('refind');
  });

  test('a message of long made-up words costs a bounded number of lookups', () => {
    const words = Array.from({ length: 30 }, (_, i) => `zq${'x'.repeat(i % 30)}vb${String.fromCharCode(97 + (i % 26))}`);
    let lookups = 0;
    withSpellingFixes(plain(words.join(' ')), () => {
      lookups++;
      return 0;
    });
    // At most four words of at most 20 letters, each itself and its one-edit neighbours.
    expect(lookups).toBeGreaterThan(0);
    expect(lookups).toBeLessThanOrEqual(4 * (1 + editsOf('x'.repeat(20)).length));
    expect(possibleSlips(plain(words.join(' '))).length).toBe(4);
  });

  test('known words, short words, numbers and what expansion added are never corrected', () => {
    const known = plain('window widow');
    expect(withSpellingFixes(known, vocabulary({ window: 3, widow: 1 }))).toEqual(known);
    expect(withSpellingFixes(plain('boot'), vocabulary({ book: 5 }))).toEqual(plain('boot'));
    // A word of English is what the visitor meant, however close to a word of the knowledge.
    expect(withSpellingFixes(plain('trail waist'), vocabulary({ trial: 5, wait: 5 }))).toEqual(plain('trail waist'));
    expect(withSpellingFixes(plain('12345'), vocabulary({ 12346: 5 }))).toEqual(plain('12345'));
    const expanded = [{ term: 'retrun', weight: 0.5, from: 'x' }];
    expect(withSpellingFixes(expanded, vocabulary({ return: 1 }))).toEqual(expanded);
    expect(possibleSlips(expanded)).toEqual([]);
    expect(possibleSlips(plain('boot trail retrun'))).toEqual(['retrun']);
  });
});
