import { createRequire } from 'node:module';
import { windowText } from '../context.js';
import { CENSUS_FIRST_NAMES, CENSUS_SURNAMES } from '../data/census-names.js';
import { COMMON_NAME_WORDS } from '../data/common-words.js';
import type { Match } from '../types.js';
import { WordTable } from './word-table.js';

// Person names in one tokenising pass: a hand-written scanner splits the text into word tokens (no regex per
// word, no lookbehind), every token is looked up once in Sets, and the rules below read the token list.

// What the lexicon says of a word, as bits: one lookup per token.
const READ = 1;
const FIRST = 2;
const LAST = 4;
/** Known as something other than a name ("will", "may", "grant"). */
const OTHER = 8;
/** A name that is above all a common lower-case word ("song", "town"): a lower-case one needs an explicit cue. */
const COMMON = 16;
/** The lexicon's table also holds the word lists' roles (ROLE), in the bits above these. */
const ROLE_SHIFT = 5;
const LEXICON_BITS = (1 << ROLE_SHIFT) - 1;

let lexicon: WordTable | undefined;
/**
 * Words the lexicon knows as places ("albuquerque", "toledo"): many surnames are, and follow a first name as one
 * ("Maria Albuquerque"). Asked only there, so a Set apart from the table (whose value bits are all taken).
 */
const places = new Set<string>();

/**
 * First and last names from the 1990 US Census name files (public domain, data/census-names.ts) and from
 * compromise's lexicon, which also files ambiguous words ("Will", "May") under their common reading: that
 * reading is the precision guard for capitalised words; data/common-words.ts is the one for lower-case words.
 * Loaded once, on first use (~150 ms); the per-message cost is one lookup per word.
 */
function getLexicon(): WordTable {
  if (lexicon) return lexicon;
  const nlp = createRequire(import.meta.url)('compromise') as { model(): { one: { lexicon: Record<string, string | string[]> } } };
  const first = new Set<string>();
  const last = new Set<string>();
  const other = new Set<string>();
  for (const [word, tag] of Object.entries(nlp.model().one.lexicon)) {
    const tags = Array.isArray(tag) ? tag : [tag];
    if (word.includes(' ')) continue;
    if (tags.some((t) => t === 'MaleName' || t === 'FemaleName' || t === 'FirstName')) first.add(word);
    // 'Person': a name compromise knows one person by ("hamid", "inez", "keats"), as a surname is.
    else if (tags.includes('LastName') || tags.includes('Person')) last.add(word);
    else other.add(word);
    if (tags.some((t) => t === 'City' || t === 'Country' || t === 'Region' || t === 'Place')) places.add(word);
  }
  for (const w of CENSUS_FIRST_NAMES.split(' ')) first.add(w);
  for (const w of CENSUS_SURNAMES.split(' ')) if (!first.has(w)) last.add(w);
  for (const w of NOT_NAME) other.add(w);
  const flags = new Map<string, number>();
  const mark = (words: Iterable<string>, bit: number) => {
    for (const w of words) flags.set(w, (flags.get(w) ?? READ) | bit);
  };
  mark(first, FIRST);
  mark(last, LAST);
  mark(other, OTHER);
  mark(COMMON_NAME_WORDS.split(' '), COMMON);
  // The word lists' roles above the lexicon's bits: one lookup per token answers both.
  for (const [w, r] of ROLES) flags.set(w, (flags.get(w) ?? READ) | (r << ROLE_SHIFT));
  // Packed once built: a lookup then touches a few cache lines, not a Map's scattered entries (word-table.ts).
  lexicon = new WordTable(flags);
  return lexicon;
}

const NOT_NAME = (
  'street avenue road lane drive suite apt apartment unit box office company inc ltd llc gmbh bank card account order team support ' +
  'customer service manager monday tuesday wednesday thursday friday saturday sunday january february march april june july august ' +
  'september october november december god internet ok okay hi hello hey yes no please thanks tv my your our their his her ' +
  'christmas xmas easter halloween thanksgiving ' +
  // Greetings and thanks in the widget's other languages, often capitalised before a name ("Merci Chloé").
  'merci bonjour danke hallo gracias hola grazie ciao bedankt obrigado obrigada olá ' +
  // Shops, payments and carriers a support chat names ("pay with Apple Pay", "sent with Royal Mail").
  'apple amazon klarna afterpay clearpay mastercard paypal ebay etsy shopify stripe ' +
  'hermes evri yodel parcelforce dpd gls postnl bpost inpost postnord colissimo chronopost correos purolator aramex'
).split(' ');
const NOT_NAME_SET = new Set(NOT_NAME);

// Words that make the capitalised words before them a street, a place or a service ("Hansen Street", "Solomon
// Islands", "Royal Mail"),
// and words before a street's name ("rue Victor Hugo").
const PLACE_AFTER = new Set(
  (
    'street st road rd avenue ave lane ln drive dr boulevard blvd way place pl court ct square sq park plaza terrace crescent close highway ' +
    'hwy platz strasse straße str gasse weg allee islands island city county river lake mountains station airport terminal bay ' +
    'hotel mall centre center bridge tower market mail ' +
    // Where a visitor travels or shops: "the Jackson Hole trip", "the Lisbon tour", "the Kingston branch".
    'trip trips tour tours holiday holidays vacation cruise flight flights branch store shop office'
  ).split(' '),
);
// What a shop sells, after a capitalised run: a product's name, often a person's ("the Jackson hoodie", "Aurora jacket").
const PRODUCT_AFTER = new Set(
  (
    'jacket jackets hoodie hoodies tee tees shirt shirts sweater sweaters jumper jumpers fleece fleeces parka parkas coat coats ' +
    'raincoat vest gilet pants trousers jeans shorts leggings dress dresses skirt boots boot shoes shoe sneakers trainers sandals ' +
    'socks gloves hat hats cap beanie scarf backpack backpacks bag bags duffel tent tents'
  ).split(' '),
);
// A written or recorded work after a capitalised run names its author or artist: "the Nielsen novel", "the
// Adamska biography". Checked before "the" makes the run a thing ("the Hilton").
const WORK_AFTER = new Set('novel novels book books biography memoir memoirs poem poems poetry album albums essay essays trilogy lyrics'.split(' '));
const POSSESSIVES = new Set('my your our their his her its'.split(' '));
const PLACE_BEFORE = new Set('rue cours avenue via calle rua avenida chemin boulevard allée piazza viale plaza st saint santa san'.split(' '));
// "ship to Georgia", "flying to Sydney", "I live in Chelsea": after these, a place that is also a first name
// is the place ("ship to Anna" stays a person). Not "send to" or "deliver to", which as often name whoever
// receives.
const PLACE_VERBS = new Set(
  'ship ships shipping shipped fly flies flying flew travel travels travelling traveling travelled traveled move moves moving moved relocate relocating relocated live lives living based located'.split(
    ' ',
  ),
);
const PLACE_PREPS = new Set(['to', 'from', 'in']);
const PLACE_NAMES = new Set(
  (
    'georgia carolina virginia austin dallas houston denver phoenix savannah orlando charlotte madison lincoln jackson tyler ' +
    'paris sydney adelaide florence victoria chelsea kent devon chester jordan israel india china kenya chad sierra ' +
    'alexandria aurora regina salem lourdes valencia santiago sofia lima quebec'
  ).split(' '),
);
// Labels a line opens with that name no person: a transcript's roles, and abbreviations (common words such
// as "Note:" are out already).
const LABELS = new Set(
  (
    'bot chatbot user agent customer visitor assistant system support operator admin client staff rep guest host moderator ai cardholder ' +
    'tel fax ref re fwd fw ps pps nb attn cc bcc sku faq url id iban bic vat tva ust nr no ' +
    // A form's fields in the widget's other languages ("Adresse: …", "Telefon: …"), which the English lexicon does not know.
    'adresse anschrift telefon handy mobil strasse straße stadt ort plz land betreff datum bestellung kundennummer ' +
    'nom prénom téléphone portable ville rue pays objet commande ' +
    'dirección direccion teléfono telefono móvil movil ciudad calle país asunto fecha pedido ' +
    'indirizzo cellulare città via paese oggetto ordine ' +
    'adres telefoon straat stad woonplaats onderwerp bestelling ' +
    'endereço morada telemóvel celular cidade rua assunto'
  ).split(' '),
);
// German runs a field's words together ("Lieferadresse", "Rechnungsanschrift", "Telefonnummer").
const LABEL_ENDING = /(?:adresse|anschrift|nummer|datum|straße|strasse)$/;
const SUFFIXES = new Set('md dds phd dvm jr sr ii iii iv esq cpa rn'.split(' '));
const PARTICLES = new Set('van von der den de del della di da dos das du la le bin ibn al ter ten'.split(' '));
const HONORIFICS = new Set('mr mrs ms miss mx dr prof sir dame madam mme mlle herr frau sr sra srta'.split(' '));

// Cues, as token sequences ending right before the name ('*' is any word). Strong cues name someone outright:
// the words after them are a name unless they are common words. Weak cues only suggest a person: a capitalised
// word after one scores higher, and a lower-case one counts only if it is a listed name and not a common word.
const STRONG_CUES = [
  'my name is',
  'name is',
  "name's",
  'name',
  'names on the * is',
  'names on the *',
  'name on the * is',
  'name on the *',
  // "change the name on the account to …": the name after the word that links it to its cue.
  'name to',
  'names on the * to',
  'name on the * to',
  'dear',
  'regards',
  'sincerely',
  'cheers',
  'correct it to',
  // The widget's other languages: "my name is", "I am called".
  "je m'appelle",
  'je m’appelle',
  'mon nom est',
  'ich heiße',
  'ich heisse',
  'mein name ist',
  'me llamo',
  'mi nombre es',
  'mi chiamo',
  'il mio nome è',
  'mijn naam is',
  'ik heet',
  'meu nome é',
  'me chamo',
  'اسمي',
].map((s) => s.split(' '));
// Weak cues that may also introduce a lower-case name ("ask hernandez", "i'm priya").
const LOWER_CUES = [
  'i am',
  "i'm",
  'i’m',
  'this is',
  "it's",
  'hi',
  'hello',
  'hey',
  'thanks',
  'thank you',
  'ask',
  'asked',
  'contact',
  'tell',
  'told',
  'met',
  'cc',
  'spoke with',
  'spoke to',
  // Weak, not strong: a support chat "calls me back", "signs in", "talks to sales", "asks for a refund".
  'call me',
  'calls me',
  'called me',
  'signed',
  'ask for',
  'speak to',
  'speak with',
  'talk to',
  'follow up with',
  // Whom a visitor orders for or hands over to: "my colleague priya …", "my husband, Lars …".
  ...'colleague coworker wife husband partner fiancé fiancée son daughter mother mom mum father dad brother sister friend boss manager neighbour neighbor'
    .split(' ')
    .map((w) => `my ${w}`),
  // "I am", "thanks" in Arabic, which has no capitals to tell a name by.
  'أنا',
  'شكرا',
].map((s) => s.split(' '));
// Weak cues for capitalised words only: lower-case words after them are mostly places and things.
const CAPITAL_CUES = [
  'from',
  'with',
  'by',
  'said',
  'says',
  'to',
  'ex',
  'add',
  'email',
  'emailed',
  'call',
  'ping',
  'see',
  'starring',
  'featuring',
  'cc',
  // The staff a visitor names ("your agent Chidi said …", "the advisor Marta"): their words are personal data too.
  'agent',
  'rep',
  'representative',
  'advisor',
  'adviser',
  'colleague',
  'supervisor',
  'technician',
  // Whose account or card it is ("the account holder is Aoife …", "Cardholder: …"), but "the holder is responsible".
  'holder is',
  'holder',
  'cardholder is',
  'cardholder',
  // "I am", "thanks", "hello" in the widget's other languages: there the words after them in lower case are
  // mostly adjectives ("ich bin sauer", "ik ben boos"), some of them listed surnames.
  'je suis',
  'merci',
  'bonjour',
  'ich bin',
  'danke',
  'hallo',
  'soy',
  'gracias',
  'hola',
  'sono',
  'grazie',
  'ciao',
  'ik ben',
  'bedankt',
  'sou',
  'obrigado',
  'obrigada',
  'olá',
].map((s) => s.split(' '));

/** Cues indexed by their last word, so a token is tested only against cues that can end on the word before it. */
function byLastWord(cues: string[][]): Map<string, string[][]> {
  const m = new Map<string, string[][]>();
  for (const c of cues) m.set(c.at(-1)!, [...(m.get(c.at(-1)!) ?? []), c]);
  return m;
}
const STRONG = byLastWord(STRONG_CUES);
const LOWER = byLastWord(LOWER_CUES);
/** After either kind of weak cue a capitalised word is a name: one lookup for both. */
const WEAK = byLastWord([...LOWER_CUES, ...CAPITAL_CUES]);

// What the word lists above say of a word, as bits: the rules ask a token several of them, and the one lookup
// per token that reads its lexicon bits (cached) is far cheaper than a Set lookup per rule.
const ROLE_WORDS = {
  honorific: HONORIFICS,
  particle: PARTICLES,
  suffix: SUFFIXES,
  placeAfter: PLACE_AFTER,
  placeBefore: PLACE_BEFORE,
  productAfter: PRODUCT_AFTER,
  workAfter: WORK_AFTER,
  possessive: POSSESSIVES,
  label: LABELS,
  placeName: PLACE_NAMES,
  placePrep: PLACE_PREPS,
  placeVerb: PLACE_VERBS,
  notName: NOT_NAME_SET,
  the: ['the'],
  conj: ['and', 'or'],
  // The last word of a cue of that kind.
  strongEnd: STRONG.keys(),
  lowerEnd: LOWER.keys(),
  weakEnd: WEAK.keys(),
} as const;
type Role = keyof typeof ROLE_WORDS;
/** Each role's bit. */
const ROLE = {} as Record<Role, number>;
const ROLES = new Map<string, number>();
Object.entries(ROLE_WORDS).forEach(([role, words], i) => {
  ROLE[role as Role] = 1 << i;
  for (const w of words) ROLES.set(w, (ROLES.get(w) ?? 0) | (1 << i));
});
/** A cue list with the role bit its last words carry. */
interface Cues {
  byLast: Map<string, string[][]>;
  end: number;
}
const STRONG_CUE: Cues = { byLast: STRONG, end: ROLE.strongEnd };
const LOWER_CUE: Cues = { byLast: LOWER, end: ROLE.lowerEnd };
const WEAK_CUE: Cues = { byLast: WEAK, end: ROLE.weakEnd };

// Words around a lone unknown capitalised word that make it a person rather than a place or product.
const PERSON_WORDS = String.raw`\b(?:says|said|told|asked|ask|shouted|wrote|replied|met|by|ex-|founders?|given|dear|with|contact)`;
const PERSON_BEFORE = new RegExp(String.raw`${PERSON_WORDS}\W*\u0000`);
// The same words in the same sentence name whoever follows even where it opens a clause ("our founders: Kovalev, …").
const PERSON_BEFORE_SAME_SENTENCE = new RegExp(String.raw`${PERSON_WORDS}[^\p{L}\p{N}.!?]*\u0000`, 'u');
// A personal pronoun soon after a word opening a sentence refers back to it ("Oline is very reliable. You can always depend on him.").
const PRONOUN_AFTER = /\b(?:he|she|him|her|his|hers|himself|herself)\b/;
const PERSON_AFTER = /\u0000(?:['’]s\b|\s+(?:says|said|told|asked|shouted|wrote|replied|was|is a|is from|has|had|his|her|and (?:his|her)|were)\b)/;
// "… from your team", "… from support": a member of the company's staff (see staffOf).
const STAFF_AFTER = /^\s+from (?:your |the )?(?:team|support|staff|help ?desk)\b/;
// Where someone comes from, after a word opening a sentence: a person, as a product or a title rarely "is from".
const COMES_FROM = /^\s+(?:is|was|comes) from\b/;

// ---- the scanner ---------------------------------------------------------------------------------------------

// Per UTF-16 unit: 0 not known yet, 1 not a letter, 2 lower-case letter (or mark), 3 upper-case letter.
const KIND = new Uint8Array(65536);
for (let c = 0; c < 128; c++) KIND[c] = c >= 65 && c <= 90 ? 3 : c >= 97 && c <= 122 ? 2 : 1;
const IS_LETTER = /[\p{L}\p{M}]/u;
const IS_UPPER = /[\p{Lu}\p{Lt}]/u;
function kind(c: number): number {
  let k = KIND[c]!;
  if (k === 0) {
    const ch = String.fromCharCode(c);
    k = IS_UPPER.test(ch) ? 3 : IS_LETTER.test(ch) ? 2 : 1;
    KIND[c] = k;
  }
  return k;
}

const APOS = 0x27;
const RSQUO = 0x2019;
const HYPHEN = 0x2d;

/**
 * Word tokens of the text: [start, end) pairs in one reused array, plus flags for a capital first letter and
 * for a token all ASCII (looked up without building its lower-case string).
 */
interface Tokens {
  n: number;
  start: Int32Array;
  end: Int32Array;
  cap: Uint8Array;
  ascii: Uint8Array;
}
const tokens = (size: number): Tokens => ({
  n: 0,
  start: new Int32Array(size),
  end: new Int32Array(size),
  cap: new Uint8Array(size),
  ascii: new Uint8Array(size),
});
let tok = tokens(256);

function grown(t: Tokens): Tokens {
  const g = tokens(t.start.length * 2);
  g.n = t.n;
  g.start.set(t.start);
  g.end.set(t.end);
  g.cap.set(t.cap);
  g.ascii.set(t.ascii);
  return g;
}

function tokenise(text: string): boolean {
  const len = text.length;
  let n = 0;
  let hasUpper = false;
  let i = 0;
  while (i < len) {
    const k = kind(text.charCodeAt(i));
    if (k === 1) {
      i++;
      continue;
    }
    const start = i;
    // Every code unit of the word OR-ed: below 128 when it is all ASCII.
    let units = text.charCodeAt(i);
    i++;
    // A word: letters, with inner apostrophes and hyphens ("O'Brien", "Jean-Luc", "name's").
    while (i < len) {
      const c = text.charCodeAt(i);
      if (kind(c) !== 1) {
        units |= c;
        i++;
      } else if ((c === APOS || c === RSQUO || c === HYPHEN) && i + 1 < len && kind(text.charCodeAt(i + 1)) !== 1) {
        units |= c | text.charCodeAt(i + 1);
        i += 2;
      } else break;
    }
    if (n === tok.start.length) tok = grown(tok);
    tok.start[n] = start;
    tok.end[n] = i;
    const isCap = k === 3 ? 1 : 0;
    if (isCap) hasUpper = true;
    tok.cap[n] = isCap;
    tok.ascii[n] = units < 0x80 ? 1 : 0;
    n++;
  }
  tok.n = n;
  return hasUpper;
}

// ---- the recogniser ------------------------------------------------------------------------------------------
// The state of the message being read lives in module variables and the helpers are plain functions: no
// closures per message, and the token arrays are reused from one message to the next.

interface Candidate {
  /** First and last token of the name. */
  from: number;
  to: number;
  start: number;
  end: number;
  score: number;
  /** The honorific before the name: masked with it, not part of the name's span. */
  maskStart?: number;
}

let text = '';
let n = 0;
let hasUpper = false;
let lex: WordTable;
let lowered: (string | undefined)[] = [];
let taken = new Uint8Array(256);
let out: Candidate[] = [];

/** The token in lower case, a possessive "'s" dropped. */
function low(i: number): string {
  let w = lowered[i];
  if (w === undefined) {
    w = text.slice(tok.start[i]!, tok.end[i]!).toLowerCase();
    const l = w.length;
    if (l > 2 && w.charCodeAt(l - 1) === 0x73 && (w.charCodeAt(l - 2) === APOS || w.charCodeAt(l - 2) === RSQUO)) w = w.slice(0, -2);
    lowered[i] = w;
  }
  return w;
}
/** Does the token end in a possessive "'s"? (A token lower-casing to another length counts too, as in low().) */
function possessive(i: number): boolean {
  if (!tok.ascii[i]) return tok.end[i]! - tok.start[i]! !== low(i).length;
  const e = tok.end[i]!;
  return e - tok.start[i]! > 2 && (text.charCodeAt(e - 1) | 0x20) === 0x73 && text.charCodeAt(e - 2) === APOS;
}
/** Where the name in token i ends: before a possessive "'s". */
const nameEnd = (i: number) => (possessive(i) ? tok.end[i]! - 2 : tok.end[i]!);
// What the lexicon and the word lists say of a token, looked up once per token: its bits, -1 while not looked up
// yet. An ASCII token is looked up in place, its possessive "'s" left out as low() drops it.
let info = new Int32Array(256);
function infoOf(i: number): number {
  let f = info[i]!;
  if (f < 0) {
    f = (tok.ascii[i] ? lex.getAsciiLower(text, tok.start[i]!, possessive(i) ? tok.end[i]! - 2 : tok.end[i]!) : lex.get(low(i))) ?? READ;
    info[i] = f;
  }
  return f;
}
const feat = (i: number) => infoOf(i) & LEXICON_BITS;
/** Does token i carry any of the role bits? */
const is = (i: number, bits: number) => ((infoOf(i) >>> ROLE_SHIFT) & bits) !== 0;
const isFirst = (i: number) => (feat(i) & FIRST) !== 0;
const isLast = (i: number) => (feat(i) & LAST) !== 0;
const isName = (i: number) => (feat(i) & (FIRST | LAST)) !== 0;
const isOther = (i: number) => (feat(i) & OTHER) !== 0;
/** Known only as something other than a name. */
const commonOnly = (i: number) => (feat(i) & (OTHER | FIRST | LAST)) === OTHER;
const commonLower = (i: number) => !tok.cap[i] && (feat(i) & COMMON) !== 0;
/**
 * A capitalised place right after a capitalised first name is the surname ("Maria Albuquerque", "Carlos Toledo"),
 * unless that first name is a place too ("Sydney Australia", "Florence Italy").
 */
const placeSurname = (i: number) =>
  i > 0 && tok.cap[i] && tok.cap[i - 1] && isFirst(i - 1) && joined(i) && places.has(low(i)) && !places.has(low(i - 1)) && !is(i - 1, ROLE.placeName);

/** Only spaces and tabs (at least one) between token i-1 and token i. */
function joined(i: number): boolean {
  if (i <= 0) return false;
  const a = tok.end[i - 1]!;
  const b = tok.start[i]!;
  if (a === b) return false;
  for (let j = a; j < b; j++) {
    const c = text.charCodeAt(j);
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}
/** Between a cue and the name: spaces, at most one of , : - and then line breaks ("Regards,\nAnna"). */
function cueGap(i: number): boolean {
  const a = tok.end[i - 1]!;
  const b = tok.start[i]!;
  if (a === b) return false;
  let punct = false;
  for (let j = a; j < b; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if ((c === 0x2c || c === 0x3a || c === HYPHEN) && !punct) punct = true;
    else return false;
  }
  return true;
}
/** Not part of an e-mail address, a domain or an identifier ("anna.smith@", "Anna_1"). */
function freeStanding(i: number): boolean {
  const s = tok.start[i]!;
  const e = tok.end[i]!;
  const b = s > 0 ? text.charCodeAt(s - 1) : 0x20;
  const a = e < text.length ? text.charCodeAt(e) : 0x20;
  if (b === 0x40 || b === 0x2e || b === 0x5f || b === HYPHEN || (b >= 0x30 && b <= 0x39)) return false;
  if (a === 0x40 || a === 0x5f || a === HYPHEN || (a >= 0x30 && a <= 0x39)) return false;
  if (a === 0x2e && e + 1 < text.length && kind(text.charCodeAt(e + 1)) !== 1) return false;
  return true;
}
function atSentenceStart(i: number): boolean {
  for (let j = tok.start[i]! - 1; j >= (i > 0 ? tok.end[i - 1]! : 0); j--) {
    const c = text.charCodeAt(j);
    if (c === 0x2e || c === 0x21 || c === 0x3f || c === 0x3a || c === 0x0a) return true;
    if (!(c === 0x20 || c === 0x09 || c === 0x22 || c === 0x27 || c === 0x201c || c === 0x2018 || c === 0x28 || c === 0x5b || c === 0x5c))
      return false;
  }
  return i === 0;
}
/** Does a cue from `cues` end right before token i, as whole words? */
function cueBefore(i: number, cues: Cues): boolean {
  // Most words end no cue: the role bits say so before the gap is read or a cue list looked up.
  if (i === 0 || (!is(i - 1, cues.end) && !(i >= 4 && is(i - 2, ROLE.the))) || !cueGap(i)) return false;
  const list = cues.byLast.get(low(i - 1)) ?? (i >= 4 && low(i - 2) === 'the' ? cues.byLast.get('*') : undefined);
  if (!list) return false;
  outer: for (const cue of list) {
    if (cue.length > i) continue;
    for (let k = 0; k < cue.length - 1; k++) {
      const t = i - cue.length + k;
      if ((cue[k] !== '*' && cue[k] !== low(t)) || (k > 0 && !joined(t))) continue outer;
    }
    if (cue.length > 1 && !joined(i - 1)) continue;
    // "ask" in "task" is no cue (the scanner makes whole words), nor "name" in "user.name".
    const first = i - cue.length;
    const before = tok.start[first]! > 0 ? text.charCodeAt(tok.start[first]! - 1) : 0x20;
    if (before === 0x2e || before === 0x40 || before === 0x5f) continue;
    return true;
  }
  return false;
}
function personContext(start: number, end: number): boolean {
  const win = windowText(text, start, end, 24, 24);
  return PERSON_BEFORE.test(win) || PERSON_AFTER.test(win);
}
/** Token a, ending at `end`, names one of the company's staff: "Oluwaseun from your team", not "an Email from your team". */
function staffOf(a: number, end: number): boolean {
  if (a > 0 && joined(a) && (is(a - 1, ROLE.the) || is(a - 1, ROLE.possessive) || low(a - 1) === 'a' || low(a - 1) === 'an')) return false;
  return STAFF_AFTER.test(text.slice(end, end + 24).toLowerCase());
}
/** A personal pronoun within the next 60 characters. */
function referredTo(end: number): boolean {
  return PRONOUN_AFTER.test(text.slice(end, end + 60).toLowerCase());
}
function nameShaped(i: number): boolean {
  // "Anna", "McCathie", "O'Brien": a capital, then a lower-case letter (or an apostrophe and a capital).
  const s = tok.start[i]!;
  const len = tok.end[i]! - s;
  if (len < 2) return false;
  const c1 = text.charCodeAt(s + 1);
  if (kind(c1) === 2) return true;
  return (c1 === APOS || c1 === RSQUO) && len > 3 && kind(text.charCodeAt(s + 2)) === 3 && kind(text.charCodeAt(s + 3)) === 2;
}
function push(from: number, to: number, score: number, maskStart?: number): void {
  // A suffix after the name is part of it ("Ann Lee PhD", "Keith Bult Jr."): it narrows who is meant.
  let end = nameEnd(to);
  const s = to + 1;
  if (s < n && !possessive(to) && joined(s) && is(s, ROLE.suffix) && (tok.cap[s] || !hasUpper)) {
    to = s;
    end = text.charCodeAt(tok.end[s]!) === 0x2e && (low(s) === 'jr' || low(s) === 'sr') ? tok.end[s]! + 1 : nameEnd(s);
  }
  const c: Candidate = { from, to, start: tok.start[from]!, end, score };
  if (maskStart !== undefined) c.maskStart = maskStart;
  out.push(c);
  for (let k = from; k <= to; k++) taken[k] = 1;
}

export function findNames(input: string): Match[] {
  lex = getLexicon();
  text = input;
  hasUpper = tokenise(input);
  n = tok.n;
  if (n === 0) return [];
  if (lowered.length < n) lowered = new Array(tok.start.length);
  else lowered.fill(undefined, 0, n);
  if (taken.length < n) taken = new Uint8Array(tok.start.length);
  else taken.fill(0, 0, n);
  if (info.length < n) info = new Int32Array(tok.start.length);
  info.fill(-1, 0, n);
  out = [];

  for (let i = 0; i < n; i++) {
    if (taken[i]) continue;
    const h = honorific(i);
    if (h >= 0) {
      i = h;
      continue;
    }
    // A strong cue: the next words are a name unless they are common words.
    if (cueBefore(i, STRONG_CUE)) {
      // Up to three words, and up to two particles between them ("Donald van der Voet"), not last.
      let last = -1;
      let particles = 0;
      for (let j = i; j < n && j <= i + 2 + particles && (j === i || joined(j)); j++) {
        const particle = j > i && particles < 2 && is(j, ROLE.particle);
        if (!particle && !isName(j) && !placeSurname(j) && (isOther(j) || commonLower(j) || !freeStanding(j))) break;
        // In text with capitals a name in capitals does not open with a lower-case word ("… to Mehmet Yılmaz").
        if (j === i && hasUpper && !tok.cap[i] && i + 1 < n && tok.cap[i + 1] && joined(i + 1)) break;
        if (!particle && commonOnly(j) && !placeSurname(j)) break;
        // A capitalised name goes on in capitals ("Amélie Poulain et …": "et" is no part of it).
        if (!particle && j > i && tok.cap[i] && !tok.cap[j]) break;
        if (particle) particles++;
        last = j;
        if (possessive(j)) break;
      }
      while (last > i && is(last, ROLE.particle)) last--;
      if (last >= 0) {
        push(i, last, 0.85);
        i = last;
        continue;
      }
    }
    if (tok.cap[i]) {
      i = Math.max(i, capitalSequence(i));
      continue;
    }
    // A lower-case word: a name only with a cue, or in text with no capitals at all (where capitals say
    // nothing) as a listed first name; never a common word. The cue is looked for first: in text with
    // capitals it decides alone, and most words are not after one.
    const cued = cueBefore(i, LOWER_CUE);
    if (hasUpper && !cued) continue;
    if (!isName(i) || isOther(i) || commonLower(i) || !freeStanding(i)) continue;
    const next = i + 1 < n && joined(i + 1) && !possessive(i) && !isOther(i + 1) && !commonLower(i + 1) && freeStanding(i + 1) ? i + 1 : -1;
    if (isFirst(i) && next >= 0 && (!hasUpper || cued)) {
      push(i, next, cued ? 0.8 : 0.65);
      i = next;
    } else if (cued) push(i, i, 0.6);
    else if (!hasUpper && isFirst(i)) push(i, i, 0.55);
  }
  listNeighbours();
  repeats();
  const matches: Match[] = [];
  for (const c of out) {
    const m: Match = { class: 'person', start: c.start, end: c.end, score: c.score, text: input.slice(c.start, c.end) };
    if (c.maskStart !== undefined) m.maskStart = c.maskStart;
    matches.push(m);
  }
  text = '';
  return matches;
}

/**
 * Honorific + name: "Mr. Grimes", "mrs jones". The honorific is masked with the name (it gives away gender
 * or profession) but is not part of the name's span. Returns the last token used, or -1.
 */
function honorific(i: number): number {
  // Honorifics are at most five letters, seven with a possessive "'s".
  if (i + 1 >= n || tok.end[i]! - tok.start[i]! > 7 || !is(i, ROLE.honorific)) return -1;
  // "Mr Smith", "Mr. Smith": nothing but an optional dot and spaces between.
  let j = tok.end[i]!;
  if (text.charCodeAt(j) === 0x2e) j++;
  if (j === tok.start[i + 1]!) return -1;
  for (; j < tok.start[i + 1]!; j++) if (text.charCodeAt(j) !== 0x20 && text.charCodeAt(j) !== 0x09) return -1;
  // "Sir bot": after a capitalised honorific the name is capitalised too.
  const capitalsOnly = tok.cap[i] === 1;
  let last = -1;
  for (let k = i + 1; k < n && k <= i + 3 && (k === i + 1 || joined(k)); k++) {
    if (capitalsOnly && !tok.cap[k] && !is(k, ROLE.particle)) break;
    if (commonOnly(k) || (commonLower(k) && !isName(k))) break;
    last = k;
    if (possessive(k)) break;
  }
  if (last < 0 || is(last, ROLE.particle)) return -1;
  push(i + 1, last, 0.85, tok.start[i]);
  return last;
}

/** A run of capitalised words from token i; returns the last token it covers. */
function capitalSequence(i: number): number {
  if (!freeStanding(i) || !nameShaped(i)) return i;
  // Up to four capitalised words, up to two particles between them ("Charles van Beers").
  let a = i;
  let b = i;
  let count = 1;
  while (count < 4 && !possessive(b)) {
    let k = b + 1;
    let particles = 0;
    while (k < n && particles < 2 && !tok.cap[k] && is(k, ROLE.particle) && joined(k)) {
      k++;
      particles++;
    }
    // An honorific starts a name of its own ("Contact Dr. Lena Park"): honorific() reads it.
    if (k >= n || !joined(k) || !tok.cap[k] || !nameShaped(k) || !freeStanding(k) || is(k, ROLE.honorific)) break;
    b = k;
    count++;
  }
  const seqEnd = b;
  // A capitalised sentence opener ("Please Anna") is not part of the name, nor a trailing common word.
  // A possessive opening a sentence ("My Summit backpack") is no name either, whatever a name list says of it.
  while (b > a && ((commonOnly(a) && !isFirst(a)) || is(a, ROLE.possessive))) a = nextCapital(a);
  while (b > a && commonOnly(b) && !isLast(b) && !placeSurname(b)) b = prevCapital(b);
  const after = seqEnd + 1;
  // A street or a place ("Hansen Street", "rue Victor Hugo"), or an organisation ("Fuse TV"), not a person.
  // The run's own last word counts too, before a common word is trimmed off it ("Royal Mail").
  if ((is(b, ROLE.placeAfter) || is(seqEnd, ROLE.placeAfter)) && !namedDespitePlace(a, b)) return seqEnd;
  if (after < n && joined(after) && (is(after, ROLE.placeAfter) || (tok.cap[after] && !nameShaped(after) && !is(after, ROLE.suffix)))) return seqEnd;
  if (a > 0 && joined(a) && is(a - 1, ROLE.placeBefore)) return seqEnd;
  // A product ("the Jackson hoodie", "the Aurora Borealis jacket", "my Northwind Classic Tee").
  if (is(seqEnd, ROLE.productAfter) || (after < n && joined(after) && is(after, ROLE.productAfter))) return seqEnd;
  if (after < n && joined(after) && is(after, ROLE.workAfter) && authorShaped(i, b)) {
    push(a, b, 0.55);
    return seqEnd;
  }
  // "the Hilton", "the Amber Bay jacket": after a lower-case "the", a capitalised run names a thing or a place.
  if (a > 0 && joined(a) && !tok.cap[a - 1] && is(a - 1, ROLE.the) && !cueBefore(a, STRONG_CUE)) return seqEnd;
  const start = tok.start[a]!;
  const end = nameEnd(b);
  let score = 0;
  const place = b === a && placeAfterVerb(a);
  if (b > a) {
    let anyOther = false;
    for (let k = a; k <= b; k++) if (tok.cap[k] && isOther(k)) anyOther = true;
    if (isFirst(a)) score = isLast(b) ? 0.85 : 0.75;
    else if (isLast(b) && !isOther(a)) score = 0.6;
    else if (!anyOther) score = personContext(start, end) ? 0.55 : 0.35;
  } else if (place) {
    score = 0.35;
  } else if (isFirst(a) && !isOther(a)) {
    score = atSentenceStart(a) ? 0.55 : 0.65;
  } else if (isLast(a) && !isOther(a)) {
    // A surname opening a sentence is a person where the words around say so ("Perkins had given …").
    score = personContext(start, end) ? (atSentenceStart(a) ? 0.55 : 0.6) : atSentenceStart(a) ? (referredTo(end) ? 0.55 : 0.35) : 0.45;
  } else if (!isName(a) && !isOther(a) && end - start > 2) {
    // An unknown word opening a sentence is as often a title or a product ("Zoolander is a 2001 film"), but
    // not after a word that names a person in the same sentence.
    const cued = atSentenceStart(a)
      ? PERSON_BEFORE_SAME_SENTENCE.test(windowText(text, start, end, 24, 0)) ||
        referredTo(end) ||
        COMES_FROM.test(text.slice(end, end + 16)) ||
        staffOf(a, end)
      : personContext(start, end) || staffOf(a, end);
    score = cued ? 0.55 : 0.4;
  }
  // A transcript's speaker ("Brodie: Who are you?"): a lone capitalised word opening a line, then a colon.
  if (b === a && !commonOnly(a) && !isOther(a) && speakerLabel(a)) score = Math.max(score, 0.6);
  // After a weak cue ("thanks Anna", "ask Hernandez") a capitalised name-like word is a person.
  // Not a word known as something else and as a surname only ("from Monday", "from Canada").
  if (!commonOnly(a) && !(isOther(a) && !isFirst(a)) && cueBefore(a, WEAK_CUE) && !place && !employerOf(a))
    score = Math.max(score, isFirst(a) ? 0.8 : isLast(a) ? 0.65 : 0.55);
  if (score > 0) push(a, b, score);
  return seqEnd;
}
/** "Sam from Acme": after a person and "from", a word no name list knows is where they work, not a second person. */
function employerOf(a: number): boolean {
  return a > 1 && !isFirst(a) && !isLast(a) && low(a - 1) === 'from' && joined(a - 1) && taken[a - 2] === 1;
}
/** Every word of the run a name or unknown, none known as anything else ("the Lonely Planet book" is no author). */
function authorShaped(a: number, b: number): boolean {
  for (let k = a; k <= b; k++) if (isOther(k) || !nameShaped(k)) return false;
  return true;
}
/** Token a opens a line (or the text) and a colon follows it: "Brodie: …", not "Tel: …" or "Re: …". */
function speakerLabel(a: number): boolean {
  if (text.charCodeAt(tok.end[a]!) !== 0x3a || is(a, ROLE.label) || LABEL_ENDING.test(low(a))) return false;
  for (let j = tok.start[a]! - 1; j >= 0; j--) {
    const c = text.charCodeAt(j);
    if (c === 0x0a) return true;
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}
/** A lone place that is also a first name, after "ship to", "flying to", "live in" (a full name there is still a person). */
function placeAfterVerb(a: number): boolean {
  return a > 1 && is(a, ROLE.placeName) && joined(a) && joined(a - 1) && is(a - 1, ROLE.placePrep) && is(a - 2, ROLE.placeVerb);
}
/**
 * "Lena Park", "Lois Lane": a first name and a surname that is also a place word are a person where words
 * before say so ("I met …", "thanks …"); without them, "Grant Park" stays a place.
 */
function namedDespitePlace(a: number, b: number): boolean {
  if (b === a || !isFirst(a) || !isLast(b)) return false;
  return cueBefore(a, WEAK_CUE) || cueBefore(a, STRONG_CUE) || PERSON_BEFORE.test(windowText(text, tok.start[a]!, nameEnd(b), 24, 0));
}
function nextCapital(k: number): number {
  k++;
  while (!tok.cap[k]) k++;
  return k;
}
function prevCapital(k: number): number {
  k--;
  while (!tok.cap[k]) k--;
  return k;
}

const conj = (k: number) => is(k, ROLE.conj);
/** ", " or " & " between token a and token b. */
function commaGap(a: number, b: number): boolean {
  let sep = false;
  for (let j = tok.end[a]!; j < tok.start[b]!; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x20 || c === 0x09) continue;
    if ((c === 0x2c || c === 0x26) && !sep) sep = true;
    else return false;
  }
  return sep;
}
/** Can token k be a name in a list? Capitalised in mixed text; in lower-case text, anything but a common word. */
function listable(k: number, evenTaken = false): boolean {
  if (k < 0 || k >= n || (taken[k] && !evenTaken) || !freeStanding(k) || tok.end[k]! - tok.start[k]! < 2) return false;
  // A cue is no neighbour in a list: "Signed, John Carter", "Thanks, Anna".
  if (is(k, ROLE.notName | ROLE.strongEnd | ROLE.weakEnd) || /['’](?:m|re|ve|ll|d)$/.test(low(k))) return false;
  // "… and Hansen Street" is a street.
  if (k + 1 < n && joined(k + 1) && is(k + 1, ROLE.placeAfter)) return false;
  if (hasUpper) return tok.cap[k] === 1 && nameShaped(k);
  return !isOther(k) && !commonLower(k);
}
/** The token after token l in a list (", X", " & X", ", and X", " and X"), or -1. */
function nextInList(l: number): number {
  if (l + 1 >= n) return -1;
  if (commaGap(l, l + 1)) return conj(l + 1) && l + 2 < n && joined(l + 2) ? l + 2 : l + 1;
  return joined(l + 1) && conj(l + 1) && l + 2 < n && joined(l + 2) ? l + 2 : -1;
}
function addNeighbour(k: number, next: Candidate[], forward: boolean): void {
  let to = k;
  if (forward && hasUpper && k + 1 < n && joined(k + 1) && tok.cap[k + 1] && nameShaped(k + 1) && !possessive(k)) to = k + 1;
  const c: Candidate = { from: k, to, start: tok.start[k]!, end: nameEnd(to), score: 0.6 };
  next.push(c);
  for (let t = k; t <= to; t++) taken[t] = 1;
}
/**
 * Names next to a confident name in a list ("Sean, John and Dawn", "norberg and smith") are names as well,
 * whether no rule found them or one found them too weakly on their own ("Sousa and Ball").
 */
function listNeighbours(): void {
  if (out.length === 0) return;
  let frontier = out.filter((m) => m.score >= 0.5);
  const weak = new Map<number, Candidate>();
  const lifted = new Set<Candidate>();
  for (const c of out) if (c.score < 0.5) for (let k = c.from; k <= c.to; k++) weak.set(k, c);
  // Two weakly read surnames side by side in a list ("Leehy, Perkins and Copeland") vouch for each other.
  for (const c of out) {
    if (c.score >= 0.5 || c.from !== c.to || !isLast(c.from) || isOther(c.from)) continue;
    const k = nextInList(c.to);
    const d = weak.get(k);
    if (!d || d.from !== k || d.to !== k || d.score >= 0.5 || !isLast(k) || isOther(k)) continue;
    frontier.push(c, d);
    c.score = d.score = 0.6;
  }
  for (const c of frontier) for (let k = c.from; k <= c.to; k++) weak.delete(k);
  /** Lifts the weak candidate that begins (or ends) at token k; whether there was one. */
  const lift = (k: number, next: Candidate[], forward: boolean): boolean => {
    const w = weak.get(k);
    if (!w || (forward ? w.from : w.to) !== k || !listable(k, true)) return false;
    w.score = 0.6;
    for (let t = w.from; t <= w.to; t++) weak.delete(t);
    lifted.add(w);
    next.push(w);
    return true;
  };
  for (let round = 0; round < 12 && frontier.length > 0; round++) {
    const next: Candidate[] = [];
    for (const f of frontier) {
      const l = f.to;
      if (l + 1 < n && !possessive(l)) {
        const k = nextInList(l);
        if (!lift(k, next, true) && listable(k)) addNeighbour(k, next, true);
      }
      const s = f.from;
      if (s > 0) {
        // Before: "X, ", "X & ", "X and ", "X, and ".
        let k = -1;
        if (commaGap(s - 1, s)) k = s - 1;
        else if (s > 1 && conj(s - 1) && joined(s) && (joined(s - 1) || commaGap(s - 2, s - 1))) k = s - 2;
        if (!possessive(k) && !lift(k, next, false) && listable(k)) addNeighbour(k, next, false);
      }
    }
    // A lifted candidate is in `out` already.
    out.push(...next.filter((c) => !lifted.has(c)));
    frontier = next;
  }
}

/** A word of a confident name is a name wherever else it stands capitalised ("Mrs. Voronov called. Voronov …"). */
function repeats(): void {
  let names: Set<string> | undefined;
  for (const c of out) {
    if (c.score < 0.6) continue;
    names ??= new Set();
    for (let k = c.from; k <= c.to; k++) if (tok.cap[k] && !is(k, ROLE.particle)) names.add(low(k));
  }
  if (!names) return;
  for (const c of out) if (c.score < 0.6 && tok.cap[c.from] && names.has(low(c.from)) && names.has(low(c.to))) c.score = 0.6;
  for (let k = 0; k < n; k++) {
    if (taken[k] || !tok.cap[k] || !names.has(low(k)) || !freeStanding(k) || commonOnly(k)) continue;
    push(k, k, 0.6);
  }
}
