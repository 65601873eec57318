// The text as recognisers read it. People (and keyboards) write the same digits and separators in many
// ways: fullwidth digits and the long-vowel dash are what Japanese and Chinese keyboards type, other
// scripts have their own digits, Unicode has circled, superscript and mathematical ones, and
// zero-width characters, variation selectors, fillers and soft hyphens are invisible. A recogniser that
// reads only ASCII lets all of them pass whole, so the text is folded first: invisible characters
// (Default_Ignorable_Code_Point) are dropped, and so are marks on a digit or sign (an accent, a keycap); every
// space (Zs) becomes " " and every line break "\n"; every decimal digit (Nd) its ASCII digit; dashes,
// the small @ and ideographic stops their ASCII; and what compatibility normalisation (NFKC) makes
// ASCII of (fullwidth letters, ①, ¹, 𝐃), that ASCII. Han, kana and Hangul next to ASCII letters or
// digits read as a space: those scripts put no space between words, and "電話は+1 415…" or
// "メールはjane@…" would otherwise glue a number or an address to the sentence around it. Each folded
// character keeps the span of the original it came from, so a match maps back to exactly what was typed.

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
const CJK = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}]/u;
const SPECIAL = new Map<number, string>([
  // Dashes, the long-vowel mark (ー) and the wave dashes Japanese text puts between digit groups.
  ...[0x058a, 0x05be, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2043, 0x2212, 0x2e3a, 0x301c, 0x30fc, 0xfe58, 0xfe63, 0xff5e].map(
    (c) => [c, '-'] as const,
  ),
  [0xfe6b, '@'],
  ...[0x3002, 0x30fb, 0xfe52, 0xff61].map((c) => [c, '.'] as const),
  ...[0x0085, 0x2028, 0x2029].map((c) => [c, '\n'] as const),
  [0x2800, ' '],
]);

/**
 * A decimal digit's value: Unicode puts every Nd character in a run of ten, 0 to 9 (a stability policy),
 * and adjacent runs are each ten long, so the count of Nd characters before it in its run, modulo ten.
 */
function digitValue(cp: number): string {
  let n = 0;
  while (n < 100 && DIGIT.test(String.fromCodePoint(cp - n - 1))) n++;
  return String(n % 10);
}

/** The ASCII a character folds to, '' to drop it, or null to keep it (decided once per character). */
const memo = new Map<number, string | null>();
function folded(ch: string, cp: number): string | null {
  if (cp < 0x80) return null;
  let f = memo.get(cp);
  if (f === undefined) {
    f = SPECIAL.get(cp) ?? null;
    if (f !== null) {
      // a separator or sign of its own
    } else if (IGNORABLE.test(ch)) f = '';
    else if (SPACE.test(ch)) f = ' ';
    else if (DIGIT.test(ch)) f = digitValue(cp);
    else if (!MARK.test(ch)) {
      const n = ch.normalize('NFKC');
      f = n !== ch && /^[\x21-\x7e]+$/.test(n) ? n : null;
    }
    if (memo.size < 10_000) memo.set(cp, f);
  }
  return f;
}

const ASCII_WORD = /[A-Za-z0-9]/;

export function fold(text: string): Folded {
  // Most messages are ASCII: read as they are.
  if (!/[^\x00-\x7f]/.test(text)) return { text, from: null, to: null };
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  let changed = false;
  let last = '';
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    let f = folded(ch, cp);
    if (f === null && cp >= 0x80) {
      if (MARK.test(ch)) {
        // A mark on a digit or a sign (an accent, a keycap) is no part of it.
        if (/[0-9@.+-]/.test(last)) f = '';
      } else if (CJK.test(ch)) {
        const next = i + ch.length < text.length ? text.codePointAt(i + ch.length)! : 0;
        const nextCh = next ? String.fromCodePoint(next) : '';
        const after = next ? (folded(nextCh, next) ?? nextCh) : '';
        if (ASCII_WORD.test(last) || /^[A-Za-z0-9+]/.test(after)) f = ' ';
      }
    }
    const keep = f ?? ch;
    if (f !== null) changed = true;
    for (let k = 0; k < keep.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    out += keep;
    if (keep) last = keep[keep.length - 1]!;
    i += ch.length;
  }
  return changed ? { text: out, from: Int32Array.from(from), to: Int32Array.from(to) } : { text, from: null, to: null };
}
