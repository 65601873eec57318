// The text as recognisers read it. People (and keyboards) write the same digits and separators in many
// ways: fullwidth digits are what Japanese and Chinese keyboards type, other scripts have their own
// digits, Unicode has circled, superscript and mathematical ones, and zero-width characters, variation
// selectors, fillers and soft hyphens are invisible. A recogniser that reads only ASCII lets all of them
// pass whole, so the text is folded first:
// - invisible characters (Default_Ignorable_Code_Point) are dropped, and so are marks on a digit or sign
//   (an accent, a keycap);
// - every space (Zs) becomes " " and every line break "\n"; every decimal digit (Nd) its ASCII digit;
//   fullwidth letters, digits and the signs of numbers and addresses (+ - . @ ( )) their ASCII; dashes
//   and the small @ too; and what compatibility normalisation (NFKC) makes one ASCII letter or digits of
//   (𝐃, ①, ¹), that;
// - between two digits, the long-vowel mark and wave dashes (ー 〜 ～) are a dash, and an ideographic
//   stop between two ASCII letters or digits a dot; elsewhere a stop is a space (it ends a sentence);
// - Han, kana and Hangul read as a space next to ASCII letters, or next to a long number: those scripts
//   put no space between words, and "電話は09012345678です" or "名前はJohn Smithです" would otherwise glue
//   the number or name to the sentence around it. Next to a short number ("1日から3日") they stay, so
//   counts and dates are not read as house numbers or phones.
// Fullwidth punctuation other than those signs (： ／ ＃ ，) is left as it is: the recognisers' rules on
// ASCII ':' or '#' before a number ("10:30", "order #…") are not meant for "電話：03-…".
// Each folded character keeps the span of the original it came from, so a match maps back to exactly
// what was typed.

export interface Folded {
  text: string;
  /** Where each folded character's original starts and ends (UTF-16 offsets); null when nothing was folded. */
  from: Int32Array | null;
  to: Int32Array | null;
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const MARK = /\p{M}/u;
const SPACE = /\p{Zs}/u;
const DIGIT = /\p{Nd}/u;
const CJK = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\u30fc\u30fb]/u;
const SPECIAL = new Map<number, string>([
  ...[0x058a, 0x05be, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2043, 0x2212, 0x2e3a, 0xfe58, 0xfe63].map((c) => [c, '-'] as const),
  [0xfe6b, '@'],
  ...[0x0085, 0x2028, 0x2029].map((c) => [c, '\n'] as const),
  [0x2800, ' '],
]);
/** A dash only between two digits: elsewhere they lengthen a vowel (コーヒー) or mark a range. */
const DASH_BETWEEN_DIGITS = new Set([0x30fc, 0x301c, 0xff5e]);
/** A dot only between two ASCII letters or digits (example。com); elsewhere they end a sentence. */
const STOPS = new Set([0x3002, 0x30fb, 0xfe52, 0xff61]);
/** Fullwidth signs that fold: those of numbers and addresses. */
const FULLWIDTH_SIGNS = new Set(['+', '-', '.', '@', '(', ')', '_', '%']);

/**
 * A decimal digit's value: Unicode puts every Nd character in a run of ten, 0 to 9 (a stability policy),
 * and adjacent runs are each ten long, so the count of Nd characters before it in its run, modulo ten.
 */
function digitValue(cp: number): string {
  let n = 0;
  while (n < 100 && DIGIT.test(String.fromCodePoint(cp - n - 1))) n++;
  return String(n % 10);
}

/** The ASCII a character folds to whatever surrounds it, '' to drop it, or null (decided once per character). */
const memo = new Map<number, string | null>();
function folded(ch: string, cp: number): string | null {
  if (cp < 0x80) return null;
  let f = memo.get(cp);
  if (f === undefined) {
    f = SPECIAL.get(cp) ?? null;
    if (f !== null) {
      // a sign of its own
    } else if (cp >= 0xff01 && cp <= 0xff5e) {
      const a = String.fromCharCode(cp - 0xfee0);
      f = /[A-Za-z0-9]/.test(a) || FULLWIDTH_SIGNS.has(a) ? a : null;
    } else if (IGNORABLE.test(ch)) f = '';
    else if (SPACE.test(ch)) f = ' ';
    else if (DIGIT.test(ch)) f = digitValue(cp);
    else if (!MARK.test(ch) && !DASH_BETWEEN_DIGITS.has(cp) && !STOPS.has(cp)) {
      const n = ch.normalize('NFKC');
      f = n !== ch && /^(?:[A-Za-z0-9]|[0-9]+)$/.test(n) ? n : null;
    }
    if (memo.size < 10_000) memo.set(cp, f);
  }
  return f;
}

const isDigit = (c: string) => c >= '0' && c <= '9';
const isWord = (c: string) => /^[A-Za-z0-9]$/.test(c);
/** At least seven digits, perhaps grouped: a number long enough to be a phone, a card, an id. */
const LONG = 7;
const LONG_AFTER = /^[+(]?(?:\d[ \-()]?){6}\d/;

/** The folded text of the few characters after `i`, to look ahead of a contextual character. */
function ahead(text: string, i: number, n = 24): string {
  let s = '';
  for (let j = i; j < text.length && s.length < n; ) {
    const cp = text.codePointAt(j)!;
    const ch = String.fromCodePoint(cp);
    s += folded(ch, cp) ?? ch;
    j += ch.length;
  }
  return s;
}

export function fold(text: string): Folded {
  // Most messages are ASCII: read as they are.
  if (!/[^\x00-\x7f]/.test(text)) return { text, from: null, to: null };
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  let changed = false;
  let last = '';
  // The digits of the number the folded text ends in (grouped by single spaces, hyphens or brackets),
  // counted as it grows: reading back through the text at each character would be quadratic.
  let digits = 0;
  let gap = false;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    let f = folded(ch, cp);
    if (f === null && cp >= 0x80) {
      if (MARK.test(ch)) {
        // A mark on a digit or a sign (an accent, a keycap) is no part of it.
        if (/[0-9@.+-]/.test(last)) f = '';
      } else if (DASH_BETWEEN_DIGITS.has(cp) && isDigit(last) && isDigit(ahead(text, i + ch.length, 1))) {
        f = '-';
      } else if (STOPS.has(cp)) {
        f = isWord(last) && isWord(ahead(text, i + ch.length, 1)) ? '.' : ' ';
      } else if (CJK.test(ch)) {
        const next = ahead(text, i + ch.length);
        if (/[A-Za-z]/.test(last) || (digits >= LONG && !gap) || /^[A-Za-z]/.test(next) || LONG_AFTER.test(next)) f = ' ';
      }
    }
    const keep = f ?? ch;
    if (f !== null) changed = true;
    for (let k = 0; k < keep.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    out += keep;
    for (const c of keep) {
      if (isDigit(c)) {
        digits++;
        gap = false;
      } else if (digits && !gap && (c === ' ' || c === '-' || c === '(' || c === ')')) gap = true;
      else {
        digits = 0;
        gap = false;
      }
    }
    if (keep) last = keep[keep.length - 1]!;
    i += ch.length;
  }
  return changed ? { text: out, from: Int32Array.from(from), to: Int32Array.from(to) } : { text, from: null, to: null };
}
