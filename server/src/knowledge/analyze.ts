// One analyser for indexing and for queries: Unicode words, lower case, English stop words removed,
// Porter stems. BM25 needs the same terms on both sides.
import { ENGINE_PLACEHOLDER } from '@parley/protocol/placeholder';
import { stemmer } from 'stemmer';
import { boundedMemo } from './memo.js';

// Modal verbs are stop words like "can" and "will": "may" is also the month of a visitor's story ("bought in
// May"), which must not meet a passage's "may take a few days". Chunks indexed before a word joined this list
// keep it among their terms, but no query asks for it, so nothing needs indexing again.
const STOP = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by can ' +
    'could did do does doing down during each few for from further had has have having he her here hers herself him himself his ' +
    'how i if in into is it its itself just may me might more most must my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same shall she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will with ' +
    'would you your yours yourself yourselves'
  ).split(' '),
);

/**
 * The text a search reads: a placeholder stands for a visitor's personal data, and "[EMAIL_1]" is no
 * mention of e-mail, while its class name would match passages about it (in BM25 and an embedding alike).
 */
export const withoutPlaceholders = (text: string): string => (text.includes('[') ? text.replace(ENGINE_PLACEHOLDER, ' ') : text);

// Stemming is most of the analyser's work, and a tenant's words and its visitors' repeat: each word's stem is kept.
const stem = boundedMemo(50_000, (word: string) => stemmer(word));

/** Terms in order, duplicates kept (term frequency matters). */
export const analyze = (text: string): string[] => analyzeWords(text).map((w) => w.term);

/** Each term with the word it came from (lower case), for showing people a term as it was written. */
export function analyzeWords(text: string): { term: string; word: string }[] {
  const out: { term: string; word: string }[] = [];
  for (const m of withoutPlaceholders(text)
    .normalize('NFKC')
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu)) {
    const w = m[0].replace(/['’]s$/, '');
    if (w.length < 2 || w.length > 40 || STOP.has(w)) continue;
    out.push({ term: /^\p{N}+$/u.test(w) ? w : stem(w), word: w });
  }
  return out;
}

export const uniqueTerms = (text: string): string[] => [...new Set(analyze(text))];
