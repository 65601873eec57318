// Context words near a candidate raise or lower its score: "card" before a 16-digit number makes a card
// likelier, "order" makes it an order id. Windows are in UTF-16 units around the match.

export interface ContextRule {
  /** Tested against the lower-cased window text. */
  words: RegExp;
  /** Added to the score (negative to lower it). */
  delta: number;
  before?: number;
  after?: number;
}

export function windowText(text: string, start: number, end: number, before: number, after: number): string {
  const pre = text.slice(Math.max(0, start - before), start);
  const post = text.slice(end, Math.min(text.length, end + after));
  return `${pre}\u0000${post}`.toLowerCase();
}

export function hasContext(text: string, start: number, end: number, words: RegExp, before = 48, after = 0): boolean {
  return words.test(windowText(text, start, end, before, after));
}

/** Applies every matching rule once and clamps to [0, 1]. */
export function applyContext(text: string, start: number, end: number, base: number, rules: readonly ContextRule[]): number {
  let score = base;
  for (const r of rules) {
    if (r.words.test(windowText(text, start, end, r.before ?? 48, r.after ?? 16))) score += r.delta;
  }
  return clamp(score);
}

export function clamp(n: number): number {
  return Math.max(0, Math.min(1, Math.round(n * 1000) / 1000));
}
