// Typing slips ("retrun windw"): a visitor's word that the tenant's knowledge does not have, one edit
// (a letter left out, added, changed, or two swapped) from one it has, is read as that word too, at a
// weight below a tenant's own synonym. Only words of five letters and more: shorter ones are one edit from
// too many others ("boot" from "book"), and only words WordNet does not know: "trail" is no slip for
// "trial". The vocabulary is the tenant's (the index's terms, with their document frequencies) for search,
// and the passages found for the answer's decision.
import { byWeight, type WeightedTerm } from './expand.js';
import { senses } from './wordnet.js';

/** What a corrected word weighs: below a tenant synonym (0.9), above the support vocabulary (0.6). */
export const TYPO_WEIGHT = 0.7;
const MIN_LENGTH = 5;
// A word has about 54 one-edit neighbours per letter: a message of long made-up words must not cost a
// search tens of thousands of lookups. The first few possible slips are read, of at most MAX_LENGTH letters.
const MAX_LENGTH = 20;
const MAX_SLIPS = 4;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Every string one edit from `w` (optimal string alignment: deletion, transposition, substitution, insertion). */
export function editsOf(w: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i <= w.length; i++) {
    const head = w.slice(0, i);
    const tail = w.slice(i);
    if (tail) out.add(head + tail.slice(1));
    if (tail.length > 1) out.add(head + tail[1] + tail[0] + tail.slice(2));
    for (const c of LETTERS) {
      if (tail && c !== tail[0]) out.add(head + c + tail.slice(1));
      out.add(head + c + tail);
    }
  }
  out.delete(w);
  return [...out];
}

/** An English word, as the stemmer leaves it ("deliveri", "expens"): WordNet knows it or a likely base form. */
const isWord = (stem: string) => [stem, `${stem}e`, stem.replace(/i$/, 'y')].some((w) => senses(w, 1).length > 0);

/** The question's own words that could be slips: its words, not what expansion added, of a slip's length, letters only, no English word. */
const mayBeSlip = (t: WeightedTerm) =>
  !t.from && t.weight >= 1 && t.term.length >= MIN_LENGTH && t.term.length <= MAX_LENGTH && /^[a-z]+$/.test(t.term) && !isWord(t.term);

/** The question's words that may be slips, if the vocabulary lacks them: the first MAX_SLIPS. */
export const possibleSlips = (terms: readonly WeightedTerm[]): string[] =>
  terms
    .filter(mayBeSlip)
    .slice(0, MAX_SLIPS)
    .map((t) => t.term);

/**
 * `terms` with, for each of the question's words the vocabulary lacks, the known word one edit away that the
 * most passages have (ties by spelling), standing in for it at TYPO_WEIGHT. `df` gives each word's document
 * frequency (0 or absent: unknown).
 */
export function withSpellingFixes(terms: readonly WeightedTerm[], df: (term: string) => number): WeightedTerm[] {
  const out = new Map(terms.map((t) => [t.term, t]));
  let fixed = false;
  for (const word of possibleSlips(terms)) {
    if (df(word) > 0) continue;
    let best: string | null = null;
    let most = 0;
    for (const e of editsOf(word)) {
      const n = df(e);
      if (n > most || (n === most && n > 0 && e < best!)) [best, most] = [e, n];
    }
    if (best === null || (out.get(best)?.weight ?? 0) >= TYPO_WEIGHT) continue;
    out.set(best, { term: best, weight: TYPO_WEIGHT, from: word });
    fixed = true;
  }
  if (!fixed) return [...terms];
  return [...out.values()].sort(byWeight);
}
