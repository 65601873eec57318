// A read-only word → small-number table for the name lexicon (~50,000 words). A Map of that size spreads its
// entries and key strings over megabytes of heap, and between two lookups the other recognisers evict them
// from the CPU cache: profiled, a lookup cost ~400 ns in detect(), mostly cache misses. Here a lookup hashes
// the word's code units, reads one slot of a flat Int32Array (hash, where the word is, its value) and compares
// against one packed Uint16Array of every word: two or three cache lines in all.

const EMPTY = -1;
/** A value has 23 bits and a word at most 255 code units: both share one slot entry. */
const VALUE_BITS = 23;
const VALUE_MASK = (1 << VALUE_BITS) - 1;

const lowerAscii = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

/** Code unit `i` of the text, ASCII letters lower-cased where `lower`. */
const unitAt = (text: string, i: number, lower: boolean) => (lower ? lowerAscii(text.charCodeAt(i)) : text.charCodeAt(i));

/** FNV-1a over the code units of `text[start, end)`, folded to 31 bits. */
function hashOf(text: string, start = 0, end = text.length, lower = false): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ unitAt(text, i, lower), 0x01000193);
  return h & 0x7fffffff;
}

export class WordTable {
  /** Per slot: the word's hash, its offset in `chars`, and its length << 23 | value. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly chars: Uint16Array;

  constructor(entries: Map<string, number>) {
    let size = 1024;
    while (size < entries.size * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size * 3).fill(EMPTY);
    let total = 0;
    for (const w of entries.keys()) total += w.length;
    this.chars = new Uint16Array(total);
    let at = 0;
    for (const [w, v] of entries) {
      if (v < 0 || v > VALUE_MASK || w.length > 255) throw new RangeError(`word table: ${w} → ${v} does not fit`);
      for (let i = 0; i < w.length; i++) this.chars[at + i] = w.charCodeAt(i);
      const h = hashOf(w);
      let s = h & this.mask;
      while (this.slots[s * 3]! !== EMPTY) s = (s + 1) & this.mask;
      this.slots[s * 3] = h;
      this.slots[s * 3 + 1] = at;
      this.slots[s * 3 + 2] = (w.length << VALUE_BITS) | v;
      at += w.length;
    }
  }

  /** The word's value, or undefined: the same answer as the Map it was built from. */
  get(w: string): number | undefined {
    return this.probe(w, 0, w.length, false);
  }

  /**
   * The value of `text[start, end)` in lower case, for ASCII text only, where lower-casing goes character by
   * character: the same answer as `get(text.slice(start, end).toLowerCase())`, without building either string.
   */
  getAsciiLower(text: string, start: number, end: number): number | undefined {
    return this.probe(text, start, end, true);
  }

  private probe(text: string, start: number, end: number, lower: boolean): number | undefined {
    const h = hashOf(text, start, end, lower);
    const slots = this.slots;
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const stored = slots[s * 3]!;
      if (stored === EMPTY) return undefined;
      if (stored !== h) continue;
      const meta = slots[s * 3 + 2]!;
      if (meta >>> VALUE_BITS !== end - start) continue;
      const at = slots[s * 3 + 1]! - start;
      let i = start;
      while (i < end && this.chars[at + i] === unitAt(text, i, lower)) i++;
      if (i === end) return meta & VALUE_MASK;
    }
  }
}
