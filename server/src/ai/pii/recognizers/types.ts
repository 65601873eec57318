import type { Facts } from '../facts.js';
import type { Match } from '../types.js';

/**
 * A recogniser returns every candidate it sees with its own score; thresholds and overlaps are settled later.
 * It may read the text's facts (facts.ts) to skip patterns that cannot match; found anew when not given.
 */
export type Recognizer = (text: string, facts?: Facts) => Match[];

export function match(cls: Match['class'], text: string, start: number, end: number, score: number): Match {
  return { class: cls, start, end, score, text: text.slice(start, end) };
}
