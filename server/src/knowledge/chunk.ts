// Chunking that follows headings: each chunk keeps its heading path as title, an anchor to its
// section, and its position. Long sections split on paragraph boundaries with a little overlap; a long
// paragraph on sentence ends, and where those are too far apart on words, or on characters.
import { createHash } from 'node:crypto';

export interface Chunk {
  position: number;
  title: string;
  anchor: string | null;
  text: string;
  contentHash: Buffer;
}

const TARGET_WORDS = 300;
export const MAX_WORDS = 400;
export const OVERLAP_WORDS = 40;
/**
 * The most characters in a chunk. Prose of MAX_WORDS words is well under it; text of longer "words" (a blob
 * without spaces, long tokens) is cut here, so no search hit or prompt carries more.
 */
export const MAX_CHUNK_CHARS = 4000;
/** The most characters of overlap carried into the next chunk. */
const OVERLAP_CHARS = 400;

/** GitHub-style heading slug, the anchor most documentation sites generate. */
export function slug(heading: string): string {
  return heading
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .trim()
    .replace(/\s+/g, '-');
}

/**
 * A Markdown ATX heading line ("## Refund timing"): its level and its text without emphasis marks (the
 * section's title, and what its anchor is made of), or null for any other line.
 */
export function markdownHeading(line: string): { level: number; text: string } | null {
  // Read by hand, not by one regex: a lazy middle before optional trailing runs backtracked in cubic time
  // (a 2 KB line of spaces held the event loop for 3 s).
  const open = /^#{1,6}(?=\s)/.exec(line);
  if (!open) return null;
  let text = line.slice(open[0].length).trim();
  // A closing run of #s, when a space (or nothing) stands before it, is not part of the title.
  let end = text.length;
  while (end > 0 && text[end - 1] === '#') end--;
  if (end < text.length && (end === 0 || /\s/.test(text[end - 1]!))) text = text.slice(0, end).trimEnd();
  text = text.replace(/[*_`]/g, '').trim();
  return text ? { level: open[0].length, text } : null;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
export const hashText = (s: string) => createHash('sha256').update(s.replace(/\s+/g, ' ').trim()).digest();

interface Section {
  path: string[];
  anchor: string | null;
  paragraphs: string[];
}

function sections(markdown: string, docTitle: string, headings: boolean): Section[] {
  const out: Section[] = [{ path: [docTitle], anchor: null, paragraphs: [] }];
  const path: string[] = [];
  let fence = false;
  let para: string[] = [];
  const push = () => {
    const p = para.join('\n').trim();
    if (p) out[out.length - 1]!.paragraphs.push(p);
    para = [];
  };
  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    const h = fence || !headings ? null : markdownHeading(line);
    if (h) {
      push();
      const { level, text } = h;
      path.length = level - 1;
      path[level - 1] = text;
      out.push({ path: [docTitle, ...path.filter(Boolean)], anchor: slug(text), paragraphs: [] });
    } else if (!line.trim() && !fence) push();
    else para.push(line);
  }
  push();
  return out.filter((s) => s.paragraphs.length);
}

export interface ChunkOptions {
  title: string;
  url: string | null;
  /** False for plain text: a line starting with `#` is text, not a heading. */
  headings?: boolean;
}

/** A run of characters cut into pieces of at most `max` UTF-16 units; a surrogate pair is never split. */
function byChars(s: string, max: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let end = Math.min(i + max, s.length);
    if (end < s.length && /[\uD800-\uDBFF]/.test(s[end - 1]!)) end--;
    out.push(s.slice(i, end));
    i = end;
  }
  return out;
}

/**
 * A paragraph too long for one chunk, in pieces of at most TARGET_WORDS words and MAX_CHUNK_CHARS
 * characters: whole sentences where they fit, else runs of words, else runs of characters.
 */
function pieces(paragraph: string): string[] {
  const out: string[] = [];
  for (const sentence of paragraph.split(/(?<=[.!?])\s+/)) {
    if (words(sentence) <= TARGET_WORDS && sentence.length <= MAX_CHUNK_CHARS) {
      out.push(sentence);
      continue;
    }
    let run: string[] = [];
    let runChars = 0;
    for (const word of sentence.split(/\s+/)) {
      if (!word) continue;
      for (const part of word.length > MAX_CHUNK_CHARS ? byChars(word, MAX_CHUNK_CHARS) : [word]) {
        if (run.length && (run.length >= TARGET_WORDS || runChars + 1 + part.length > MAX_CHUNK_CHARS)) {
          out.push(run.join(' '));
          run = [];
          runChars = 0;
        }
        runChars += (run.length ? 1 : 0) + part.length;
        run.push(part);
      }
    }
    if (run.length) out.push(run.join(' '));
  }
  return out;
}

export function chunkMarkdown(markdown: string, opts: ChunkOptions): Chunk[] {
  const chunks: Chunk[] = [];
  for (const s of sections(markdown, opts.title, opts.headings ?? true)) {
    const title = [...new Set(s.path)].join(' › ');
    const anchor = opts.url ? (s.anchor ? `${opts.url.split('#')[0]}#${s.anchor}` : opts.url) : null;
    let buf: string[] = [];
    let bufWords = 0;
    let bufChars = 0;
    const add = (p: string, w = words(p)) => {
      bufChars += (buf.length ? 2 : 0) + p.length;
      bufWords += w;
      buf.push(p);
    };
    const reset = () => {
      buf = [];
      bufWords = 0;
      bufChars = 0;
    };
    const emit = () => {
      const text = buf.join('\n\n').trim();
      if (text) chunks.push({ position: chunks.length, title, anchor, text, contentHash: hashText(`${title}\n${text}`) });
    };
    for (const p of s.paragraphs) {
      const w = words(p);
      if (buf.length && (bufWords + w > MAX_WORDS || bufChars + 2 + p.length > MAX_CHUNK_CHARS)) {
        emit();
        const tail = buf.join(' ').split(/\s+/).slice(-OVERLAP_WORDS).join(' ');
        reset();
        // The overlap is carried where the paragraph still fits beside it.
        if (tail.length <= OVERLAP_CHARS && tail.length + 2 + p.length <= MAX_CHUNK_CHARS) add(tail);
      }
      // A paragraph longer than a chunk is cut on sentence ends (and, where those are too far apart, on words).
      if (w > MAX_WORDS || p.length > MAX_CHUNK_CHARS) {
        for (const piece of pieces(p)) {
          const pw = words(piece);
          if (buf.length && (bufWords + pw > TARGET_WORDS || bufChars + 2 + piece.length > MAX_CHUNK_CHARS)) {
            emit();
            reset();
          }
          add(piece, pw);
        }
      } else add(p, w);
    }
    emit();
  }
  // Identical chunks within one source are stored once.
  const seen = new Set<string>();
  return chunks
    .filter((c) => {
      const k = c.contentHash.toString('hex');
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .map((c, i) => ({ ...c, position: i }));
}
