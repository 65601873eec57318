import { hasContext } from '../context.js';
import { factsOf } from '../facts.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

// Street words in many languages, whole words (lower case, no trailing dot).
const STREET_WORDS = new Set(
  (
    'street st avenue ave av road rd lane ln drive dr boulevard blvd bd court ct place pl square sq terrace tce close crescent cres way ' +
    'highway hwy parkway pkwy alley row circle cir trail path walk gardens grove mews wharf quay esplanade ' +
    'rue via viale vicolo piazza corso calle carrera avenida avda rua travessa largo praça praca plaza paseo pasaje camino carretera ' +
    'chemin allée allee quai impasse strasse straße str gasse platz weg laan straat plein kade dijk gracht ' +
    'vej gade gata gatan vägen väg veien vei tie katu kuja ulica ul utca út ut ulitsa prospekt odos οδός λεωφόρος ' +
    'colonia cerrada privada sokak sokağı cadde caddesi bulvar bulvarı r c/ شارع طريق ' +
    'tér krt körút köz útja fasor sétány rakpart tänav maantee puiestee kalea enparantza etorbidea pasealekua vegur stræti braut náměstí nábřeží třída trg'
  ).split(' '),
);
// Street words that are also other words ("see u", "a Graphic Tee", "Gate 5"): a street only in lower case after
// its name and right before its house number, as Hungarian, Estonian, Slovene and Norwegian write one ("Király u. 23.",
// "Luite tee 71", "Gosposka cesta 5", "Knudssøns gate 222"); "u" only as "u.".
const NUMBERED_STREET_WORDS = new Set('u tee mnt nám cesta gate'.split(' '));
// Compound street names: "Genterstrasse", "Kromwater"-style words ending in a street word.
export const STREET_SUFFIX =
  /(?:strasse|straße|str\.|gasse|platz|weg|laan|straat|plein|kade|dijk|gracht|steenweg|vej|gade|gatan|vägen|veien|katu|tie|allee|ulica|utca)$/iu;
const UNIT = /^(?:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm|bldg|building|#)$/i;
// Lower-case words allowed inside a capitalised street name.
const CONNECTORS = new Set('de del della di da do dos das du des la le les los van der den von y e und of the al el bin'.split(' '));
const STOP = new Set(
  (
    'a an and or but if then so to for from in on at by with without about as is are was were be been am i you he she we they it my your ' +
    'his her our their me him us them this that these those there here what which who when where why how not no yes do does did have has had ' +
    'will would can could should may might must please thanks thank hello hi up down out over under again more most some any all each every ' +
    'only just also very too than call order orders item items times minutes hours days weeks months years year day week month page pages ' +
    'version step steps chapter section number card gate terminal platform aisle seat إلى في من على'
  ).split(' '),
);

const CUE =
  /\b(?:address|addr|lives? at|living at|located at|location|moved|move to|ship|shipping|shipped|deliver|delivery|send|sent|mail|mailing|post|return to|taxi to|arrived at|office is at|is at|meet me at|corner of|billing|residence|reside|stay at|staying at|visit|zip)\b/;

/** A word or number token. What the street rules read of a word is worked out only when a window holds it. */
class Tok {
  private bareText: string | undefined;
  private streetWord: boolean | undefined;
  private numberedWord: boolean | undefined;
  constructor(
    readonly kind: 'word' | 'num',
    readonly text: string,
    readonly start: number,
    readonly end: number,
    /** Only spaces and tabs (at least one) since the previous token on the line. */
    readonly joined: boolean,
  ) {}
  get bare(): string {
    return (this.bareText ??= this.kind === 'word' ? bare(this.text) : this.text);
  }
  get street(): boolean {
    return (this.streetWord ??= this.kind === 'word' && isStreetWord(this.text, this.bare));
  }
  get numberedStreet(): boolean {
    return (this.numberedWord ??= this.kind === 'word' && NUMBERED_STREET_WORDS.has(this.bare) && (this.bare !== 'u' || this.text.endsWith('.')));
  }
  get capital(): boolean {
    return this.kind === 'word' && isUpper(this.text.codePointAt(0)!);
  }
  /** "5th", "1st": a word of a street's name that a lower-case word's rules do not apply to. */
  get ordinal(): boolean {
    return this.kind === 'word' && isDigit(this.text.charCodeAt(0));
  }
}

/** Lower case, a trailing dot dropped. */
function bare(w: string): string {
  return (w.charCodeAt(w.length - 1) === 0x2e ? w.slice(0, -1) : w).toLowerCase();
}
function isStreetWord(w: string, b = bare(w)): boolean {
  return STREET_WORDS.has(b) || (b.length > 4 && suffixEnd(w, b) && STREET_SUFFIX.test(w.toLowerCase()));
}
/**
 * Can the word end as a STREET_SUFFIX does? Its last character, lower-cased, must be the last of one ("e" of
 * "strasse", "." of "str."): most words fail this, and the suffix pattern is then not tried at every position.
 */
export function suffixEnd(w: string, b: string): boolean {
  if (w.charCodeAt(w.length - 1) === 0x2e) return true;
  const c = b.charCodeAt(b.length - 1);
  // e z g n t k j u a
  return c === 0x65 || c === 0x7a || c === 0x67 || c === 0x6e || c === 0x74 || c === 0x6b || c === 0x6a || c === 0x75 || c === 0x61;
}

// Letter classes by code point, cached for the BMP: 1 other, 2 letter or mark, 3 upper-case letter (\p{Lu}).
const CLASS = new Uint8Array(65536);
const LETTER = /^[\p{L}\p{M}]$/u;
const UPPER = /^\p{Lu}$/u;
function classOf(cp: number): number {
  let k = cp < 65536 ? CLASS[cp]! : 0;
  if (k === 0) {
    const ch = String.fromCodePoint(cp);
    k = UPPER.test(ch) ? 3 : LETTER.test(ch) ? 2 : 1;
    if (cp < 65536) CLASS[cp] = k;
  }
  return k;
}
const isUpper = (cp: number) => classOf(cp) === 3;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const ORDINAL = /^(?:st|nd|rd|th)(?![\p{L}\p{N}])/iu;
const isAsciiLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
/** Letters, marks and the punctuation a street word may hold ("O'Brien", "St.", "c/"). */
const inWord = (cp: number) => classOf(cp) !== 1 || cp === 0x27 || cp === 0x2019 || cp === 0x2e || cp === 0x2d || cp === 0x2f;

/** End of a "-12" or "/3b" after a house number, or -1: at most five digits, an optional letter not before a digit. */
function numberSuffix(text: string, q: number, end: number): number {
  const c = q < end ? text.charCodeAt(q) : 0;
  if (c !== 0x2d && c !== 0x2f) return -1;
  let r = q + 1;
  while (r < end && isDigit(text.charCodeAt(r))) r++;
  if (r === q + 1 || r - q - 1 > 5) return -1;
  if (r < end && isAsciiLetter(text.charCodeAt(r)) && !(r + 1 < end && isDigit(text.charCodeAt(r + 1)))) return r + 1;
  return r;
}

/**
 * Tokens of text[from, to) (one line): words (a letter or mark, then letters, marks and ' ’ . - /), house
 * numbers (up to five digits, an optional letter, an optional "-12" or "/3b") and other digit runs, which
 * a street never holds when they are six digits or more: those are dropped, and break the join.
 * Lines with no digit hold no street and are not read.
 */
function tokenize(text: string, from: number, to: number): Tok[] {
  const out: Tok[] = [];
  let prevEnd = -1;
  let i = from;
  while (i < to) {
    const cp = text.codePointAt(i)!;
    const start = i;
    let kind: 'word' | 'num';
    if (isDigit(cp)) {
      let p = i;
      while (p < to && isDigit(text.charCodeAt(p))) p++;
      // An ordinal ("5th", "184th", "1st") names a street ("5th Avenue"): a word, not a house number.
      if (p - i <= 3 && ORDINAL.test(text.slice(p, p + 3))) {
        kind = 'word';
        i = p + 2;
      } else if (p - i > 5) {
        prevEnd = -1;
        i = p;
        continue;
      } else if (p < to && isAsciiLetter(text.charCodeAt(p))) {
        kind = 'num';
        const g = numberSuffix(text, p + 1, to);
        i = g >= 0 ? g : p + 1 < to && isDigit(text.charCodeAt(p + 1)) ? p : p + 1;
      } else {
        kind = 'num';
        const g = numberSuffix(text, p, to);
        i = g >= 0 ? g : p;
      }
    } else if (classOf(cp) !== 1) {
      kind = 'word';
      i += cp > 0xffff ? 2 : 1;
      while (i < to) {
        const c = text.codePointAt(i)!;
        if (!inWord(c)) break;
        i += c > 0xffff ? 2 : 1;
      }
    } else {
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    let joined = prevEnd >= 0 && prevEnd < start;
    for (let j = prevEnd; joined && j < start; j++) {
      const c = text.charCodeAt(j);
      if (c !== 0x20 && c !== 0x09) joined = false;
    }
    out.push(new Tok(kind, text.slice(start, i), start, i, joined));
    prevEnd = i;
  }
  return out;
}

/** A word no street name holds (a stop word; a lower-case word in mixed-case text): a window with it scores 0. */
function blocks(w: Tok, lowerCaseText: boolean, next: Tok | undefined): boolean {
  if (w.kind !== 'word' || w.street || w.ordinal || (w.numberedStreet && !w.capital && next?.kind === 'num')) return false;
  const b = w.bare;
  if (STOP.has(b) && !CONNECTORS.has(b)) return true;
  return !w.capital && !lowerCaseText && !CONNECTORS.has(b);
}

/** Whether a window from a number inside tokens(i..j] to j scores at least `score`. */
function numberStartWithin(toks: Tok[], i: number, j: number, score: number, lowerCaseText: boolean): boolean {
  for (let k = i + 1; k <= j; k++) if (toks[k]!.kind === 'num' && scoreStreet(toks, k, j, lowerCaseText) >= score) return true;
  return false;
}

/** Scores the street part tokens[i..j]; 0 when it cannot be one. */
function scoreStreet(toks: Tok[], i: number, j: number, lowerCaseText: boolean): number {
  const first = toks[i]!;
  const last = toks[j]!;
  let nums = 0;
  for (let k = i; k <= j; k++) if (toks[k]!.kind === 'num') nums++;
  if (nums === 0 || nums === j - i + 1 || nums > 3) return 0;
  if (first.kind === 'word' && ((!first.capital && !lowerCaseText && !first.street) || UNIT.test(first.bare))) return 0;
  let street = false;
  let named = false;
  for (let k = i; k <= j; k++) {
    const w = toks[k]!;
    if (w.kind !== 'word') continue;
    if (blocks(w, lowerCaseText, toks[k + 1])) return 0;
    if (w.street || (w.numberedStreet && !w.capital && k > i && k < j && toks[k + 1]!.kind === 'num')) street = true;
    else if (w.capital || w.ordinal || lowerCaseText) named = true;
  }
  if (!street && !named) return 0;
  const numFirst = first.kind === 'num';
  const numLast = last.kind === 'num';
  if (!numFirst && !numLast) return street && nums > 0 ? 0.5 : 0;
  if (street) return 0.75;
  if (numFirst && numLast) return 0.6;
  return 0.3;
}

const UNIT_AFTER = /^[ \t]*,?[ \t]*(?:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm|bldg|#)\.?[ \t]*#?\d{1,5}[A-Za-z]?\b/iu;
// A place's word: a capital, then letters; a full stop goes on only inside it, before a letter ("U.S.A"), or
// after a short abbreviation before the next word ("St. Louis"): "Paris. Merci" is a city and the next
// sentence, and the full stop ending the text or its line is not part of the city.
const PLACE_WORD = String.raw`(?:[\p{Lu}][\p{L}\p{M}]{0,2}\.(?=[ \t]+\p{Lu})|[\p{Lu}](?:[\p{L}\p{M}'’\-]|\.(?=\p{L}))*|(?:de|del|la|le|el|am|an|der|di|da|do|sur|upon|on|u|y)\b)`;
const PLACE = String.raw`${PLACE_WORD}(?:[ \t]+${PLACE_WORD}){0,3}`;
// NL "1015 CJ" and CA "M5H 2S6" before the bare digits; IE Eircode "D02 DK18"; UK "NW1 6XE"; DE/FR five digits;
// US ZIP+4; BR "01304-001"; PL; SE.
const POSTCODE = String.raw`(?:\d{4}[ ]?[A-Z]{2}(?![\p{L}\p{N}])|[A-Z]\d[A-Z][ ]?\d[A-Z]\d|(?:[AC-FHKNPRTV-Y]\d{2}|D6W)[ ]?[0-9AC-FHKNPRTV-Y]{4}(?![\p{L}\p{N}])|\d{4,6}(?:-\d{3,4})?|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}|\d{2}-\d{3}|\d{3}[ ]\d{2})`;
// Same line after a comma or unit: city, optional postal district before a postcode ("Dublin 2, D02 DK18"),
// optional region code, optional postcode.
const PLACE_AFTER = new RegExp(
  String.raw`^(?:[ \t]*,[ \t]*|[ \t]+)(?:${PLACE}(?:[ \t]+\d{1,2}(?=,?[ \t]+${POSTCODE}))?(?:,?[ \t]+[A-Z]{2,3}\b)?(?:,?[ \t]+${POSTCODE})?|${POSTCODE})(?![\p{L}\p{N}])`,
  'u',
);
// In text with no capitals, a city after a comma ("221b baker street, london"): one word and a postcode at most.
const PLACE_AFTER_LOWER = new RegExp(String.raw`^[ \t]*,[ \t]*[\p{Ll}][\p{L}\p{M}'’.\-]{2,}(?:[ \t]+${POSTCODE})?(?![\p{L}\p{N}])`, 'u');
// Quoted or mangled blocks prefix each line ("> ", "??? ").
const LINE_PREFIX = String.raw`[ \t]*(?:>+|\?{2,})?[ \t]*`;
// A following line that is only a city, region, country and/or postcode ("Recife", ", SO", "Tuvalu 92910").
const PLACE_LINE = new RegExp(
  String.raw`^[ \t]*(?:\r?\n${LINE_PREFIX}){1,2}(?:,[ \t]*[\p{L}]{1,20}|${PLACE}(?:,?[ \t]+[A-Z]{2,3})?(?:,?[ \t]+${POSTCODE})?|${POSTCODE}|(?:apt|apartment|suite|ste|unit|flat)\.?[ \t]*\d{1,5})[ \t]*(?=\r?\n|$)`,
  'iu',
);
const PLACE_LINE_LOWER = new RegExp(
  String.raw`^[ \t]*(?:\r?\n${LINE_PREFIX}){1,2}(?:,[ \t]*[\p{L}]{1,20}|[\p{Ll}][\p{L}\p{M}'’.\-]*(?:[ \t]+[\p{Ll}][\p{L}\p{M}'’.\-]*){0,3}(?:[ \t]+\d{4,6})?|\d{4,6}|(?:apt|suite|unit)\.?[ \t]*\d{1,5})[ \t]*(?=\r?\n|$)`,
  'u',
);

// A last line that ends in a postcode, with text after it on the same line ("Gabon 66298 for post mail?",
// "Melo, CA 13241, and …"), but not digit groups that go on ("9885 1152" is a phone).
const POSTCODE_LINE = new RegExp(
  String.raw`^[ \t]*(?:\r?\n${LINE_PREFIX}){1,2}(?:[\p{L}][\p{L}\p{M}'’.\-]*,?[ \t]+){0,4}${POSTCODE}(?![\p{L}\p{N}]|[ \t.\-]*\d)`,
  'u',
);

// A unit and its number ("Apt. 548", "Suite 5B"), as it ends a street or stands before one.
const UNIT_NUMBER = String.raw`(?:apt|apartment|suite|ste|unit|flat)\.?[ \t]*#?\d{1,5}[A-Za-z]?`;
// A street read through its unit ("… 22 Apt. 548"): the city may follow on the same line, as after a unit.
const UNIT_END = new RegExp(`${UNIT_NUMBER}$`, 'i');
// A unit written before the street ("Apt. 338 32 216 Menzies Street") belongs to it.
const UNIT_BEFORE = new RegExp(String.raw`${UNIT_NUMBER}[ \t]*,?[ \t]*$`, 'i');

// What extend()'s patterns can go on with after spaces and tabs: a comma, a line break, a unit ("#5", "apt 5",
// "ſ" being an "s" to a case-insensitive pattern), a place (a capital or a particle: "de", "la", "upon", "y")
// or a postcode. At any other character none matches, and most streets are followed so ("… in", "… is").
const EXTEND_NEXT = new Uint8Array(128);
for (const c of ',\r\n#0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZasufrbdleoy') EXTEND_NEXT[c.charCodeAt(0)] = 1;
export function mayExtendAt(text: string, at: number): boolean {
  let j = at;
  while (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x09) j++;
  if (j >= text.length) return false;
  const c = text.codePointAt(j)!;
  return c < 128 ? EXTEND_NEXT[c] === 1 : c === 0x17f || isUpper(c);
}

/**
 * Can a unit and its number end right before `at` (UNIT_BEFORE)? Past spaces, tabs and commas there must be its
 * number, perhaps with a letter: a street after "at" or "to" is not tried against the pattern.
 */
function unitNumberBefore(text: string, at: number): boolean {
  let j = at - 1;
  while (j >= 0 && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x09 || text.charCodeAt(j) === 0x2c)) j--;
  return j >= 0 && (isDigit(text.charCodeAt(j)) || (isAsciiLetter(text.charCodeAt(j)) && j > 0 && isDigit(text.charCodeAt(j - 1))));
}

/** Every pattern extend() tries: none may match where mayExtendAt() says no (facts.test.ts checks it). */
export const EXTENSIONS = [UNIT_AFTER, PLACE_AFTER, PLACE_AFTER_LOWER, PLACE_LINE, PLACE_LINE_LOWER, POSTCODE_LINE] as const;

/** Grows a street match over unit, city, region, postcode and country, on the same line or the next ones. */
function extend(text: string, end: number, lowerCaseText: boolean): number {
  for (let steps = 0; steps < 8; steps++) {
    if (!mayExtendAt(text, end)) break;
    const rest = text.slice(end, end + 120);
    const m =
      UNIT_AFTER.exec(rest) ??
      (/^[ \t]*,/.test(rest) ||
      steps > 0 ||
      /^[ \t]+(?:apt|suite|unit)/i.test(text.slice(end - 12, end + 8)) ||
      UNIT_END.test(text.slice(end - 16, end))
        ? PLACE_AFTER.exec(rest)
        : null) ??
      (lowerCaseText ? PLACE_AFTER_LOWER.exec(rest) : null) ??
      PLACE_LINE.exec(rest) ??
      (lowerCaseText ? PLACE_LINE_LOWER.exec(rest) : null) ??
      POSTCODE_LINE.exec(rest);
    if (!m || m[0].trim() === '') break;
    if (STOP.has(bare(m[0].split(/[\s,]+/).find(Boolean) ?? ''))) break;
    end += m[0].length;
  }
  return end;
}

// Every PO_BOX match holds one of these words: a plain scan first, the word-bounded one only when it passes.
const PO_BOX_GATE = /box|psc|cmr|unit|bp|postfach|postbus|apartado|postal/iu;
// Post office boxes, also as the widget's other languages write them ("BP 123", "Postfach 1234"). A military
// box ("PSC 1234, Box 5678", "Unit 1783 Box 3210") has both numbers: "Unit 4" alone is a unit.
const PO_BOX =
  /\b(?:(?:P\.? ?O\.? ?Box|Post Office Box|BP|Postfach|Postbus|Apartado|Caixa Postal|Casella Postale)[ \t]+\d{1,5}(?:,?[ \t]+Box[ \t]+\d{1,5})?|(?:PSC|CMR|Unit)[ \t]+\d{1,5},?[ \t]+Box[ \t]+\d{1,5})/giu;
const SHIP = /\b(?:USNS|USNV|USS|USCGC)[ \t]+\p{Lu}[\p{L}\p{M}'-]+/gu;
// A street named without its number, after "on", "at", "along" or "off" ("the shows on Baker Street"): it still
// narrows where someone lives or goes. Only the plainest street words, capitalised.
const NAMED_STREET_WORD = '(?:Street|Road|Avenue|Lane|Drive|Boulevard)';
/** Any of those words: the address gate (pii/index.ts) and the rule below run only where one is. */
export const NAMED_STREET_WORDS = new RegExp(String.raw`\b${NAMED_STREET_WORD}\b`);
const NAMED_STREET = new RegExp(String.raw`(?<=\b(?:on|at|along|off)[ \t]+)(?:\p{Lu}[\p{L}\p{M}'’-]+[ \t]+){1,3}?${NAMED_STREET_WORD}\b`, 'gu');
const MILITARY = /\b[ADF]PO[ \t]+A[AEP][ \t]+\d{5}\b/gi;
const ZIP_CONTEXT = /\b(?:zip|postal|post)[ \t]*code\b[^\d\n]{0,12}?(\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b/gi;

const ARTICLE = /^(?:the|a|an)$/i;
const ARTICLE_BEFORE = /\b(?:the|a|an)[ \t]+$/i;

export function findAddresses(text: string, facts = factsOf(text)): Match[] {
  const out: Match[] = [];
  const lowerCaseText = !/\p{Lu}/u.test(text);
  for (let lineStart = 0; lineStart <= text.length; ) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    // The whole text on one line has a digit when the text has one.
    let digit = lineStart === 0 && lineEnd === text.length && facts.digits > 0;
    for (let k = lineStart; k < lineEnd && !digit; k++) digit = isDigit(text.charCodeAt(k));
    const toks = digit ? tokenize(text, lineStart, lineEnd) : [];
    lineStart = lineEnd + 1;
    // The window end reachable from each token (joined tokens, at most nine) and whether it holds a number:
    // a street needs one, and most windows have none.
    let nextNum = toks.length;
    const numAhead: number[] = new Array(toks.length);
    for (let k = toks.length - 1; k >= 0; k--) {
      if (toks[k]!.kind === 'num') nextNum = k;
      numAhead[k] = nextNum;
    }
    for (let i = 0; i < toks.length; i++) {
      // A unit's number ("Suite 680") starts no street: the window after it does, taking the unit in.
      if (i > 0 && toks[i]!.kind === 'num' && toks[i]!.joined && UNIT.test(toks[i - 1]!.bare)) continue;
      let reach = i;
      while (reach + 1 < Math.min(toks.length, i + 9) && toks[reach + 1]!.joined) reach++;
      if (numAhead[i]! > reach) continue;
      let best: { j: number; score: number } | undefined;
      let nums = 0;
      let unitEnd = reach;
      for (let j = i; j <= reach; j++) {
        // Every longer window holds this word too, or more than three numbers: all score 0.
        if (blocks(toks[j]!, lowerCaseText, toks[j + 1]) || (toks[j]!.kind === 'num' && ++nums > 3) || j > unitEnd) break;
        // A unit and its number may end a street ("70 Dora Creek Apt. 604"), never sit inside one: "Ann Lee
        // Suite 6 40 Oak Lane" is a name, then an address.
        if (j > i && UNIT.test(toks[j]!.bare)) unitEnd = j + 1;
        const s = scoreStreet(toks, i, j, lowerCaseText);
        if (s > 0 && (!best || s >= best.score)) best = { j, score: s };
      }
      if (!best) continue;
      const unitBefore = unitNumberBefore(text, toks[i]!.start)
        ? UNIT_BEFORE.exec(text.slice(Math.max(0, toks[i]!.start - 24), toks[i]!.start))
        : null;
      const start = toks[i]!.start - (unitBefore?.[0].length ?? 0);
      let end = toks[best.j]!.end;
      if (/\.$/.test(toks[best.j]!.text) && !isStreetWord(toks[best.j]!.text)) end -= 1;
      const grown = extend(text, end, lowerCaseText);
      // "the Summit Trail 2 tent", "The Ridgeline Way 2 is out of stock": after an article, words and then a
      // number name a product; a street is written without one, unless a city or postcode follows.
      // Nor is a street read from inside the product's name ("Trail 2").
      if (
        !lowerCaseText &&
        toks[i]!.kind === 'word' &&
        grown === end &&
        (ARTICLE.test(toks[i]!.text) || ARTICLE_BEFORE.test(text.slice(Math.max(0, start - 8), start)))
      ) {
        while (i + 1 < toks.length && toks[i + 1]!.start < end) i++;
        continue;
      }
      let score = best.score;
      // A number, then capitalised words and nothing an address goes on with, is as often a quantity and a
      // product ("send me 2 Graphic Tee shirts").
      if (best.score === 0.3 && toks[i]!.kind === 'num' && grown === end) score -= 0.15;
      if (hasContext(text, start, end, CUE, 50)) score += 0.3;
      if (grown > end) score += text.slice(end, grown).includes('\n') || /\d{4,}/.test(text.slice(end, grown)) ? 0.2 : 0.1;
      out.push(match('address', text, start, grown, Math.min(1, score)));
      // The words a window starts with may be a name ("Ship to Karen Holt 12 Main Street"), and the window
      // then lose to it: when a street from a number inside scores as well, that one is read too.
      if (toks[i]!.kind === 'word' && numberStartWithin(toks, i, best.j, best.score, lowerCaseText)) continue;
      while (i + 1 < toks.length && toks[i + 1]!.start < grown) i++;
    }
  }
  for (const [re, base] of [
    [PO_BOX_GATE.test(text) ? PO_BOX : null, 0.7],
    // A ship's prefix is in capitals: no "US", no ship.
    [text.includes('US') ? SHIP : null, 0.55],
    [NAMED_STREET_WORDS.test(text) ? NAMED_STREET : null, 0.5],
    // Five digits in a row: a military address's postcode.
    [facts.run >= 5 ? MILITARY : null, 0.8],
  ] as const) {
    if (!re) continue;
    for (const m of allMatches(re, text)) {
      const end = extend(text, m.index + m[0].length, lowerCaseText);
      const score = base + (hasContext(text, m.index, end, CUE, 50) ? 0.2 : 0) + (end > m.index + m[0].length ? 0.1 : 0);
      out.push(match('address', text, m.index, end, Math.min(1, score)));
    }
  }
  // A postcode is a number or holds digits.
  for (const m of facts.digits > 0 ? allMatches(ZIP_CONTEXT, text) : []) {
    const start = m.index + m[0].length - m[1]!.length;
    out.push(match('address', text, start, start + m[1]!.length, 0.8));
  }
  return out;
}
