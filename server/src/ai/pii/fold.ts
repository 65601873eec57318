// The text as recognisers read it. People (and keyboards) write the same digits and separators in many
// ways: fullwidth digits are what Japanese and Chinese keyboards type, other scripts have their own
// digits, and zero-width characters, soft hyphens and no-break spaces are invisible. A recogniser that
// reads only ASCII lets all of them pass whole, so the text is folded first: invisible format characters
// (Unicode Cf) are dropped, every space (Zs) becomes " ", every decimal digit (Nd) its ASCII digit,
// fullwidth ASCII its ASCII, dashes "-" and the small or fullwidth @ "@". Each folded character keeps
// the span of the original it came from, so a match maps back to exactly what the person wrote.

export interface Folded {
  text: string;
  /** Where each folded character's original starts and ends (UTF-16 offsets); null when nothing was folded. */
  from: Int32Array | null;
  to: Int32Array | null;
}

const FORMAT = /\p{Cf}/u;
const SPACE = /\p{Zs}/u;
const DIGIT = /\p{Nd}/u;
const DASHES = new Set([0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xfe58, 0xfe63]);
const AT = new Set([0xfe6b]);
const STOPS = new Set([0x3002, 0xfe52, 0xff61]);

/**
 * A decimal digit's value: Unicode puts every Nd character in a run of ten, 0 to 9 (a stability policy),
 * and adjacent runs are each ten long, so the count of Nd characters before it in its run, modulo ten.
 */
const digitValues = new Map<number, string>();
function digitValue(cp: number): string {
  let v = digitValues.get(cp);
  if (v === undefined) {
    let n = 0;
    while (n < 100 && DIGIT.test(String.fromCodePoint(cp - n - 1))) n++;
    v = String(n % 10);
    digitValues.set(cp, v);
  }
  return v;
}

/** The ASCII a character folds to, '' to drop it, or null to keep it as it is. */
function folded(ch: string, cp: number): string | null {
  if (cp < 0x80) return null;
  if (cp >= 0xff01 && cp <= 0xff5e) return String.fromCharCode(cp - 0xfee0);
  if (FORMAT.test(ch)) return '';
  if (SPACE.test(ch)) return ' ';
  if (DIGIT.test(ch)) return digitValue(cp);
  if (DASHES.has(cp)) return '-';
  if (AT.has(cp)) return '@';
  if (STOPS.has(cp)) return '.';
  return null;
}

export function fold(text: string): Folded {
  // Most messages are ASCII: read as they are.
  if (!/[^\x00-\x7f]/.test(text)) return { text, from: null, to: null };
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  let changed = false;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const f = folded(ch, cp);
    const keep = f ?? ch;
    if (f !== null) changed = true;
    for (let k = 0; k < keep.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    out += keep;
    i += ch.length;
  }
  return changed ? { text: out, from: Int32Array.from(from), to: Int32Array.from(to) } : { text, from: null, to: null };
}
