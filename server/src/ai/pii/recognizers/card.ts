import { applyContext, type ContextRule } from '../context.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { cardNetwork, digitsOf, luhn } from '../validators.js';
import { match } from './types.js';

// 12-19 digits, optionally grouped by spaces (one or two) or hyphens; not glued to other digits or decimals
// (a comma between fields, as in a CSV row, is no decimal one).
const CANDIDATE = /(?<![\d\-.])\d(?:(?:[ \-]| {2})?\d){11,18}(?![\d\-]|\.\d|,\d{1,2}(?!\d))/g;
// Groups of four kept apart the same way each time by dots, slashes, commas, tabs, wider spaces or lines:
// only as groups of four, and only where the text speaks of a card, since these also separate lists of
// numbers that are not one (postcodes, rooms, versions).
const GROUPED =
  /(?<![\d\-.,/])\d{4}([./,_\u00b7]|-{2}| - |[ \t]{2,}|[\t\v\f\r]|[ \t]*\r?\n[ \t]*)\d{4}(?:\1\d{4}){1,2}(?:\1\d{1,3})?(?![\d\-/]|[.,]\d)/g;
const CARD_WORDS =
  /\b(?:card|credit|debit|visa|master ?card|amex|american express|discover|cc|cvv|cvc|pan|maestro|jcb|carte|tarjeta|cart[aã]o|kaart)\b|karte/i;
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
  const grouped = new Set(allMatches(GROUPED, text).filter((m) => CARD_WORDS.test(text.slice(Math.max(0, m.index - 60), m.index))));
  for (const m of [...allMatches(CANDIDATE, text), ...grouped]) {
    let raw = m[0];
    ids ??= allMatches(HEX_ID, text).map((h) => [h.index, h.index + h[0].length] as const);
    if (ids.some(([from, to]) => m.index >= from && m.index < to)) continue;
    let digits = digitsOf(raw);
    // A number typed before or after it (its code, its expiry, a count) runs into the candidate: the card
    // is the part of it cardPart finds.
    let at = m.index;
    if (!luhn(digits) || !cardNetwork(digits)) {
      const part = cardPart(raw);
      if (!part) continue;
      at += part.at;
      raw = part.text;
      digits = digitsOf(raw);
    }
    // Mixed separators ("4556-6019 3807") are not how cards are written (a grouped one repeats its own).
    if ((!grouped.has(m) && / /.test(raw) && /-/.test(raw)) || /^(\d)\1+$/.test(digits)) continue;
    const base = cardNetwork(digits) ? 0.8 : 0.3;
    const score = applyContext(text, at, at + raw.length, base, CONTEXT);
    out.push(match('payment_card', text, at, at + raw.length, score));
  }
  return out;
}

/**
 * The part of `raw`, cut only where a separator is (after a number typed before it, before its expiry or
 * code), that holds 12 digits or more and passes Luhn: one a card network issues first, then the longest;
 * its offset in `raw`. The whole of `raw` is a part too.
 */
function cardPart(raw: string): { at: number; text: string } | null {
  const cuts = [0];
  for (let j = 1; j < raw.length; j++) if (!/\d/.test(raw[j]!) && /\d/.test(raw[j - 1]!)) cuts.push(j);
  cuts.push(raw.length);
  let best: { at: number; text: string; issued: boolean } | null = null;
  for (let a = 0; a < cuts.length; a++)
    for (let b = cuts.length - 1; b > a; b--) {
      const at = a === 0 ? 0 : cuts[a]! + raw.slice(cuts[a]!).search(/\d/);
      const part = raw.slice(at, cuts[b]);
      const digits = digitsOf(part);
      if (digits.length < 12 || !luhn(digits)) continue;
      const issued = !!cardNetwork(digits);
      if (!best || (issued && !best.issued) || (issued === best.issued && part.length > best.text.length)) best = { at, text: part, issued };
    }
  return best && { at: best.at, text: best.text };
}
