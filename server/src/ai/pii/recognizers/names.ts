import { createRequire } from 'node:module';
import { windowText } from '../context.js';
import type { Match } from '../types.js';
import { match } from './types.js';

interface Lexicon {
  first: Set<string>;
  last: Set<string>;
  /** Words the lexicon knows as something other than a name ("will", "may", "grant"). */
  other: Set<string>;
}

let lexicon: Lexicon | undefined;

/**
 * First and last names from compromise's lexicon, which also files ambiguous words ("Will", "May")
 * under their common reading. Loaded on first use: parsing the library costs ~150 ms.
 */
function getLexicon(): Lexicon {
  if (lexicon) return lexicon;
  const nlp = createRequire(import.meta.url)('compromise') as { model(): { one: { lexicon: Record<string, string | string[]> } } };
  const first = new Set<string>();
  const last = new Set<string>();
  const other = new Set<string>();
  for (const [word, tag] of Object.entries(nlp.model().one.lexicon)) {
    const tags = Array.isArray(tag) ? tag : [tag];
    if (word.includes(' ')) continue;
    if (tags.some((t) => t === 'MaleName' || t === 'FemaleName' || t === 'FirstName')) first.add(word);
    else if (tags.includes('LastName')) last.add(word);
    else other.add(word);
  }
  for (const w of NOT_NAME) other.add(w);
  lexicon = { first, last, other };
  return lexicon;
}

const NOT_NAME = (
  'street avenue road lane drive suite apt apartment unit box office company inc ltd llc gmbh bank card account order team support ' +
  'customer service manager monday tuesday wednesday thursday friday saturday sunday january february march april june july august ' +
  'september october november december god internet ok okay hi hello hey yes no please thanks'
).split(' ');

// A capitalised name word: "Anna", "McCathie", "O'Brien", "Jónasdóttir", "Jean-Luc".
const NAME_WORD = String.raw`\p{Lu}(?:['’]\p{Lu})?[\p{Ll}\p{M}]+(?:[-'’]\p{Lu}?[\p{Ll}\p{M}]+)*`;
const ANY_WORD = String.raw`[\p{L}][\p{L}\p{M}'’-]*`;
const PARTICLE = String.raw`(?:van|von|der|den|de|del|della|di|da|dos|das|du|la|le|bin|ibn|al|ter|ten)`;
const SEQUENCE = new RegExp(
  String.raw`(?<![\p{L}\p{N}@._-])${NAME_WORD}(?:[ \t]+(?:${PARTICLE}[ \t]+){0,2}${NAME_WORD}){0,3}(?![\p{L}\p{N}@_-]|\.[\p{L}\p{N}])`,
  'gu',
);
const LOWER_WORD = /(?<![\p{L}\p{N}@._-])[\p{Ll}][\p{Ll}\p{M}'’-]+(?![\p{L}\p{N}@_-])/gu;

// The honorific is part of the span: it gives away gender or profession.
const HONORIFIC = new RegExp(
  String.raw`\b(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|madam|mme|mlle|herr|frau|sr|sra|srta)\.?[ \t]+${ANY_WORD}(?:[ \t]+(?:${PARTICLE}[ \t]+){0,2}${ANY_WORD}){0,2}`,
  'giu',
);
// Phrases that introduce a name; lower-case names count after them.
const NAME_CUE = new RegExp(
  String.raw`\b(?:my name is|name is|name's|name:|names?\s+on the \w+(?:\s+is)?[?:]?\s*(?:\w+:)?|call me|dear|regards,?|sincerely,?|signed|cheers,?|ask for|speak (?:to|with)|talk to|follow up with|add|correct it to)[ \t]+(${ANY_WORD}(?:[ \t]+${ANY_WORD}){0,2})`,
  'giu',
);
// Weaker cues, taken only before a capitalised word: matched case-insensitively, then the name is read
// case-sensitively where the cue ends.
const INTRO_CUE = /\b(?:i am|i'm|this is|hi|hello|hey|thanks|thank you|from|with|by|told|asked|met|said|says|to|ex-)[ \t,]+/giu;
const NAME_AT = new RegExp(String.raw`${NAME_WORD}(?:[ \t]+${NAME_WORD}){0,2}(?![\p{L}\p{N}])`, 'uy');
const WORD = /\S+/gu;

// Words around a lone unknown capitalised word that make it a person rather than a place or product.
const PERSON_BEFORE = /\b(?:says|said|told|asked|shouted|wrote|replied|met|by|ex-|founders?|given|dear|with)\W*\u0000/;
const PERSON_AFTER = /\u0000(?:['’]s\b|\s+(?:says|said|told|asked|shouted|wrote|replied|was|is a|has|had|his|her|and (?:his|her)|were)\b)/;
// Lists: "Eklund, Warren and Bailey". A neighbour of a found name in a list is a name too.
const LIST_AFTER = new RegExp(
  String.raw`^(?:,[ \t]*(?:and[ \t]+|&[ \t]+)?|[ \t]+(?:and|&|or)[ \t]+)(${ANY_WORD}(?:[ \t]+${NAME_WORD})?)(?![\p{L}\p{N}])`,
  'u',
);
const LIST_BEFORE = new RegExp(String.raw`(?<![\p{L}\p{N}])(${ANY_WORD})(?:,[ \t]*|[ \t]+(?:and|&|or)[ \t]+)$`, 'u');

function atSentenceStart(text: string, index: number): boolean {
  const before = text.slice(Math.max(0, index - 4), index).replace(/[ \t"'“‘(\[\\]+$/, '');
  return before === '' || /[.!?:\n]$/.test(before);
}

interface Word {
  text: string;
  start: number;
  end: number;
}

function wordsOf(s: string, offset: number): Word[] {
  return [...s.matchAll(WORD)].map((m) => ({ text: m[0], start: offset + m.index, end: offset + m.index + m[0].length }));
}

export function findNames(text: string): Match[] {
  const lex = getLexicon();
  const out: Match[] = [];
  const lower = (w: string) => w.toLowerCase().replace(/['’]s$/, '');
  const isFirst = (w: string) => lex.first.has(lower(w));
  const isLast = (w: string) => lex.last.has(lower(w));
  const isOther = (w: string) => lex.other.has(lower(w));
  const unknown = (w: string) => !isFirst(w) && !isLast(w) && !isOther(w);
  const personContext = (start: number, end: number) => {
    const win = windowText(text, start, end, 24, 24);
    return PERSON_BEFORE.test(win) || PERSON_AFTER.test(win);
  };
  const lowerCaseText = !/\p{Lu}/u.test(text);

  for (const m of text.matchAll(SEQUENCE)) {
    let words = wordsOf(m[0], m.index);
    // A capitalised sentence opener ("Please Anna") is not part of the name, nor a trailing common word.
    while (words.length > 1 && isOther(words[0]!.text) && !isFirst(words[0]!.text)) words = words.slice(1);
    while (words.length > 1 && isOther(words.at(-1)!.text) && !isLast(words.at(-1)!.text)) words = words.slice(0, -1);
    const head = words[0]!.text;
    const tail = words.at(-1)!.text;
    const start = words[0]!.start;
    const end = words.at(-1)!.end;
    let score = 0;
    if (words.length >= 2) {
      if (isFirst(head)) score = isLast(tail) ? 0.85 : 0.75;
      else if (isLast(tail) && !isOther(head)) score = 0.6;
      else if (!words.some((w) => isOther(w.text))) score = personContext(start, end) ? 0.55 : 0.35;
    } else if (isFirst(head) && !isOther(head)) {
      score = atSentenceStart(text, start) ? 0.55 : 0.65;
    } else if (isLast(head) && !isOther(head)) {
      score = atSentenceStart(text, start) ? 0.35 : personContext(start, end) ? 0.6 : 0.45;
    } else if (unknown(head) && head.length > 2) {
      score = personContext(start, end) ? 0.55 : 0.4;
    }
    if (score > 0) out.push(match('person', text, start, end, score));
  }
  // In all-lower-case text capitals say nothing, so a known first name carries the match.
  if (lowerCaseText) {
    const words = [...text.matchAll(LOWER_WORD)];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (!isFirst(w[0]) || isOther(w[0])) continue;
      const next = words[i + 1];
      const joined = next && /^[ \t]+$/.test(text.slice(w.index + w[0].length, next.index));
      if (joined && !isOther(next[0])) {
        out.push(match('person', text, w.index, next.index + next[0].length, 0.65));
        i++;
      } else out.push(match('person', text, w.index, w.index + w[0].length, 0.55));
    }
  }
  for (const m of text.matchAll(HONORIFIC)) {
    const words = wordsOf(m[0], m.index);
    // "Sir bot": after a capitalised honorific the name is capitalised too.
    const capitalsOnly = /^\p{Lu}/u.test(m[0]);
    let keep = 1;
    while (
      keep < words.length &&
      !(capitalsOnly && !/^\p{Lu}/u.test(words[keep]!.text)) &&
      !(isOther(words[keep]!.text) && !isFirst(words[keep]!.text) && !isLast(words[keep]!.text))
    )
      keep++;
    if (keep > 1) out.push(match('person', text, m.index, words[keep - 1]!.end, 0.85));
  }
  for (const m of text.matchAll(NAME_CUE)) {
    const words = wordsOf(m[1]!, m.index + m[0].length - m[1]!.length);
    // Keep the words up to the first common one ("my name is john and ..." → "john").
    const kept: Word[] = [];
    for (const w of words) {
      if (isOther(w.text) && !isFirst(w.text) && !isLast(w.text)) break;
      kept.push(w);
    }
    if (kept.length > 0) out.push(match('person', text, kept[0]!.start, kept.at(-1)!.end, 0.85));
  }
  for (const m of text.matchAll(INTRO_CUE)) {
    NAME_AT.lastIndex = m.index + m[0].length;
    const n = NAME_AT.exec(text);
    if (!n) continue;
    const head = n[0].split(/[ \t]/)[0]!;
    if (isOther(head) && !isFirst(head)) continue;
    out.push(match('person', text, n.index, n.index + n[0].length, isFirst(head) ? 0.8 : 0.55));
  }
  // In a list a capitalised common noun can be a name ("Sarah, Brandy and Robin"); lower-case words cannot.
  const notName = (w: string) =>
    NOT_NAME.includes(w.toLowerCase()) ||
    w.length < 2 ||
    /['’](?:m|re|ve|ll|d)$/i.test(w) ||
    (lowerCaseText ? isOther(w) && !isFirst(w) && !isLast(w) : !/^\p{Lu}/u.test(w));
  return [...out, ...listNeighbours(text, out, notName)];
}

/** Names next to a confident name in a list ("Sean, John and Dawn") are names as well. */
function listNeighbours(text: string, found: Match[], common: (w: string) => boolean): Match[] {
  const extra: Match[] = [];
  let frontier = found.filter((m) => m.score >= 0.5);
  const seen = new Set(found.map((m) => `${m.start}:${m.end}`));
  for (let round = 0; round < 12 && frontier.length > 0; round++) {
    const next: Match[] = [];
    for (const f of frontier) {
      const after = LIST_AFTER.exec(text.slice(f.end, f.end + 60));
      if (after) {
        const start = f.end + after[0].length - after[1]!.length;
        next.push(match('person', text, start, start + after[1]!.length, 0.6));
      }
      const before = LIST_BEFORE.exec(text.slice(Math.max(0, f.start - 60), f.start));
      if (before) {
        const start = f.start - before[0].length;
        next.push(match('person', text, start, start + before[1]!.length, 0.6));
      }
    }
    frontier = next.filter((m) => {
      const key = `${m.start}:${m.end}`;
      if (seen.has(key) || common(m.text.split(/[ \t]/)[0]!)) return false;
      seen.add(key);
      return true;
    });
    extra.push(...frontier);
  }
  return extra;
}
