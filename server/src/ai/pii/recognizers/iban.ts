import { applyContext } from '../context.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { IBAN_LENGTHS, ibanValid } from '../validators.js';
import { match } from './types.js';

const START = /(?<![\p{L}\p{N}])([A-Za-z]{2})(\d{2})/gu;

/**
 * IBANs are written with or without spaces between groups (or hyphens, or a line break where a PDF wrapped
 * it), so a regex cannot know where one ends; the country's registered length does. Collect exactly that
 * many characters, then check mod-97.
 */
export function findIbans(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(START, text)) {
    const len = IBAN_LENGTHS[m[1]!.toUpperCase()];
    if (!len) continue;
    let i = m.index;
    let collected = '';
    while (i < text.length && collected.length < len) {
      const ch = text[i]!;
      if (/[A-Za-z0-9]/.test(ch)) collected += ch;
      else {
        // Separators only at group boundaries, which keeps a following word from being swallowed.
        const gap = collected.length % 4 === 0 ? /^[ \t]{0,2}(?:-|\r?\n)?[ \t]{0,2}/.exec(text.slice(i, i + 8))![0] : '';
        if (!gap || !/[A-Za-z0-9]/.test(text[i + gap.length] ?? '')) break;
        i += gap.length;
        continue;
      }
      i++;
    }
    if (collected.length !== len || /[\p{L}\p{N}]/u.test(text[i] ?? '')) continue;
    if (!ibanValid(collected)) continue;
    const score = applyContext(text, m.index, i, 0.9, [{ words: /\b(?:iban|bank|account|transfer|wire|sepa)\b/, delta: 0.08 }]);
    out.push(match('bank_account', text, m.index, i, score));
  }
  return out;
}
