import { applyContext, type ContextRule } from '../context.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { cardNetwork, digitsOf, luhn } from '../validators.js';
import { match } from './types.js';

// 12-19 digits, optionally grouped by single spaces or hyphens; not glued to other digits or decimals.
const CANDIDATE = /(?<![\d\-.,])\d(?:[ \-]?\d){11,18}(?![\d\-]|[.,]\d)/g;
// Groups of four kept apart the same way each time by dots, slashes, wider spaces or line breaks: only as
// groups of four, since these also separate numbers that are not one.
const GROUPED = /(?<![\d\-.,/])\d{4}([./]| {2,}|[ \t]*\n[ \t]*)\d{4}(?:\1\d{4}){1,2}(?:\1\d{1,3})?(?![\d\-/]|[.,]\d)/g;
// Ids and hashes: a UUID, or a long hex string with a letter in it. A digit run inside one passes Luhn one
// time in ten, and is not a card. (Digits merely next to letters still are: "[CARD_4111…]" must not hide one.)
const HEX_ID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|(?<![0-9a-z])(?=[0-9a-f]*[a-f])[0-9a-f]{20,}(?![0-9a-z])/gi;

const CONTEXT: ContextRule[] = [
  { words: /\b(?:card|credit|debit|visa|master ?card|amex|american express|discover|cc|cvv|cvc|expir\w*|pan|maestro|jcb)\b/, delta: 0.2 },
  // Only when the word labels this very number: "order no. 4111…", not an order mentioned earlier.
  {
    words: /\b(?:order|tracking|invoice|ref|reference|ticket|isbn|serial|sku|imei|id)\b(?:\s*(?:no\.?|number|num|#|:|is|id))*\s*\u0000/,
    delta: -0.35,
    before: 30,
    after: 0,
  },
];

export function findCards(text: string): Match[] {
  const out: Match[] = [];
  // Found on the first candidate only: most messages have none.
  let ids: (readonly [number, number])[] | undefined;
  for (const m of [...allMatches(CANDIDATE, text), ...allMatches(GROUPED, text)]) {
    const raw = m[0];
    ids ??= allMatches(HEX_ID, text).map((h) => [h.index, h.index + h[0].length] as const);
    if (ids.some(([from, to]) => m.index >= from && m.index < to)) continue;
    // Mixed separators ("4556-6019 3807") are not how cards are written.
    if (/ /.test(raw) && /-/.test(raw)) continue;
    const digits = digitsOf(raw);
    if (!luhn(digits) || /^(\d)\1+$/.test(digits)) continue;
    const base = cardNetwork(digits) ? 0.8 : 0.3;
    const score = applyContext(text, m.index, m.index + raw.length, base, CONTEXT);
    out.push(match('payment_card', text, m.index, m.index + raw.length, score));
  }
  return out;
}
