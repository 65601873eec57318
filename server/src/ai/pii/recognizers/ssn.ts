import { applyContext, type ContextRule } from '../context.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { ssnValid } from '../validators.js';
import { match } from './types.js';

// Same separator both times: "123-45 6789" is not how an SSN is written. Dots only where it is named an SSN.
const SSN = /(?<![\d\-.])(\d{3})([-. ]?)(\d{2})\2(\d{4})(?![\d\-]|[.,]\d)/g;

const CONTEXT: ContextRule[] = [
  { words: /\b(?:ssn|ss#|social security|social sec|taxpayer|itin|tin)\b/, delta: 0.4, before: 60 },
  { words: /\b(?:phone|call|tel|mobile|fax|order|invoice|zip|tracking|ref|reference|account)\b/, delta: -0.3, after: 0 },
];

// Labelled as an SSN, a number is treated as one even when the validator rejects it: the well-known
// invalid numbers (078-05-1120 and kin) are exactly the ones people paste as examples of their own.
// "my SSN: …", "SSN #…", "my SSN is …".
const LABEL = /\b(?:ssn|ss#|social security(?: number| no\.?)?)(?:\s*[:#]|\s+(?:is|was))?\s*$/i;

export function findSsns(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(SSN, text)) {
    const labelled = LABEL.test(text.slice(Math.max(0, m.index - 30), m.index));
    if ((!ssnValid(m[1]!, m[3]!, m[4]!) && !(labelled && m[2])) || (m[2] === '.' && !labelled)) continue;
    const base = m[2] === '-' ? 0.55 : m[2] === ' ' ? 0.4 : 0.3;
    const end = m.index + m[0].length;
    out.push(match('government_id', text, m.index, end, applyContext(text, m.index, end, base, CONTEXT)));
  }
  return out;
}
