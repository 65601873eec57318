import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

// Unicode letters are allowed on both sides (internationalised addresses), with their combining marks
// (a letter and its accent as macOS pastes them); the TLD must be letters.
const EMAIL =
  /(?<![\p{L}\p{M}\p{N}._%+\-])[\p{L}\p{M}\p{N}_%+\-](?:[\p{L}\p{M}\p{N}._%+\-]{0,62}[\p{L}\p{M}\p{N}_%+\-])?@(?:[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}\-]{0,61}[\p{L}\p{M}\p{N}])?\.)+\p{L}{2,24}(?![\p{L}\p{N}\-@])/gu;

export function findEmails(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(EMAIL, text)) out.push(match('email', text, m.index, m.index + m[0].length, 0.95));
  return out;
}

// Written out to keep it from scrapers: "jane(at)example.com", "jane [at] example [dot] com", "john dot
// smith at gmail dot com". A bracketed "at" is unmistakable; a bare " at " is everyday English, so it
// counts only with a spelt " dot " in the domain, a common top-level domain, and a name before it that is
// not a word that stands before "at" ("we are at home dot com").
const OPEN = String.raw`[(\[{<]`;
const CLOSE = String.raw`[)\]}>]`;
const WORD = String.raw`[\p{L}\p{N}_%+\-]+`;
const SPELT_DOT = String.raw`(?:\s*${OPEN}\s*dot\s*${CLOSE}\s*|\s+dot\s+)`;
const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?`;
// Read from each "at": the name before it and the domain after it, each within a bounded window, so text full
// of "at"s and "dot"s costs a window per "at", never a rescan of everything after it.
const AT = new RegExp(String.raw`\s*${OPEN}\s*at\s*${CLOSE}\s*|\s+at\s+`, 'giu');
const LOCAL = new RegExp(String.raw`(?<![\p{L}\p{N}._%+\-])${WORD}(?:(?:\.|${SPELT_DOT})${WORD})*$`, 'iu');
const DOMAIN = new RegExp(String.raw`^((?:${LABEL}(?:\.|${SPELT_DOT}))+)(\p{L}{2,24})(?![\p{L}\p{N}\-@])`, 'iu');
const LOCAL_WINDOW = 100;
const DOMAIN_WINDOW = 300;
const BRACKETED = new RegExp(OPEN);
const HAS_SPELT_DOT = new RegExp(SPELT_DOT, 'i');
/** What a spelt-out email needs: a bracketed "at", or a spelt "dot". */
export const SPELT_EMAIL_GATE = new RegExp(String.raw`${OPEN}\s*at\s*${CLOSE}|\sdot\s`, 'i');
const COMMON_TLDS = new Set(
  'com net org edu gov io co uk de fr es it nl be ch at se no dk fi pl pt ie us ca au nz jp cn kr in br mx ru info biz me app dev'.split(' '),
);
const BEFORE_AT = new Set(
  'i im am is are was were be been being me us we you he she it they them him her here there where which that this what who look looking meet meeting stay staying arrive arrived work working live living based available back not only just still all up out'.split(
    ' ',
  ),
);

export function findSpeltEmails(text: string): Match[] {
  const out: Match[] = [];
  for (const at of allMatches(AT, text)) {
    const from = Math.max(0, at.index - LOCAL_WINDOW);
    const local = LOCAL.exec(text.slice(from, at.index));
    const end = at.index + at[0].length;
    const domain = local && DOMAIN.exec(text.slice(end, end + DOMAIN_WINDOW));
    if (!local || !domain) continue;
    const start = from + local.index;
    const [whole, labels, tld] = domain as unknown as [string, string, string];
    if (BRACKETED.test(at[0])) out.push(match('email', text, start, end + whole.length, 0.9));
    else if (HAS_SPELT_DOT.test(labels) && COMMON_TLDS.has(tld.toLowerCase()) && !BEFORE_AT.has(local[0].toLowerCase()))
      out.push(match('email', text, start, end + whole.length, 0.8));
  }
  return out;
}
