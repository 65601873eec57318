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
// smith at gmail dot com", "jsmith84 @ gmail.com", "jsmith84 arroba gmail punto com". A bracketed or spaced
// "@" or "at" is unmistakable; a bare " at " is everyday English ("cheaper at bestbuy dot com", "look at
// example.com"), so it counts only where the sentence speaks of an email, or the name before it is marked as
// one (a digit, "_", a dot or a spelt dot: "jsmith84", "jane.doe"); without the sentence speaking of one, the
// top-level domain must be a common one too, and the name not a word that stands before "at".
const OPEN = String.raw`[(\[{<]`;
const CLOSE = String.raw`[)\]}>]`;
const WORD = String.raw`[\p{L}\p{N}_%+\-]+`;
const AT_WORDS = String.raw`at|arroba|chez|собака`;
const DOT_WORDS = String.raw`dot|punto|punkt|point|точка`;
const SPELT_DOT = String.raw`(?:\s*${OPEN}\s*(?:dot|\.)\s*${CLOSE}\s*|\s+(?:${DOT_WORDS})\s+)`;
const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?`;
// Read from each "at": the name before it and the domain after it, each within a bounded window, so text full
// of "at"s and "dot"s costs a window per "at", never a rescan of everything after it. A match starts where a
// run of spaces does, so a long run is not read again from each of its spaces.
const AT = new RegExp(String.raw`(?<!\s)\s*${OPEN}\s*(?:at|@)\s*${CLOSE}\s*|(?<!\s)\s+@\s+|(?<!\s)\s+(?:${AT_WORDS})\s+`, 'giu');
const LOCAL = new RegExp(String.raw`(?<![\p{L}\p{N}._%+\-])${WORD}(?:(?:\.|${SPELT_DOT})${WORD})*$`, 'iu');
const DOMAIN = new RegExp(String.raw`^((?:${LABEL}(?:\.|${SPELT_DOT}))+)(\p{L}{2,24})(?![\p{L}\p{N}\-@])`, 'iu');
const LOCAL_WINDOW = 100;
const DOMAIN_WINDOW = 300;
const MARKED = new RegExp(String.raw`@|${OPEN}`);
const MARKED_LOCAL = new RegExp(String.raw`[\d_.]|${SPELT_DOT}`, 'iu');
const EMAIL_WORDS = /e-?mail|mail|contact|write|reach|correo|courriel|почт|メール|邮箱|이메일/i;
/** What a spelt-out email needs: a bracketed or spaced "at" or "@", an "at" word, or a spelt "dot". */
export const SPELT_EMAIL_GATE = new RegExp(String.raw`${OPEN}\s*(?:at|@|dot)\s*${CLOSE}|\s@\s|\s(?:${AT_WORDS}|${DOT_WORDS})\s`, 'i');
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
    const [whole, , tld] = domain as unknown as [string, string, string];
    if (MARKED.test(at[0])) {
      out.push(match('email', text, start, end + whole.length, 0.9));
      continue;
    }
    const named = EMAIL_WORDS.test(text.slice(Math.max(0, start - 40), start));
    const marked = MARKED_LOCAL.test(local[0]);
    if (BEFORE_AT.has(local[0].toLowerCase()) || !(named || marked) || !(named || COMMON_TLDS.has(tld.toLowerCase()))) continue;
    out.push(match('email', text, start, end + whole.length, 0.8));
  }
  return out;
}
