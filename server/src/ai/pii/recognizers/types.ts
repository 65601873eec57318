import type { Match } from '../types.js';

/** A recogniser returns every candidate it sees with its own score; thresholds and overlaps are settled later. */
export type Recognizer = (text: string) => Match[];

export function match(cls: Match['class'], text: string, start: number, end: number, score: number): Match {
  return { class: cls, start, end, score, text: text.slice(start, end) };
}
