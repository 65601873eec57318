// Chunking that follows headings: each chunk keeps its heading path as title, an anchor to its
// section, and its position. Long sections split on paragraph boundaries with a little overlap.
import { createHash } from 'node:crypto';

export interface Chunk {
  position: number;
  title: string;
  anchor: string | null;
  text: string;
  contentHash: Buffer;
}

const TARGET_WORDS = 300;
const MAX_WORDS = 400;
const OVERLAP_WORDS = 40;

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

export function chunkMarkdown(markdown: string, opts: ChunkOptions): Chunk[] {
  const chunks: Chunk[] = [];
  for (const s of sections(markdown, opts.title, opts.headings ?? true)) {
    const title = [...new Set(s.path)].join(' › ');
    const anchor = opts.url ? (s.anchor ? `${opts.url.split('#')[0]}#${s.anchor}` : opts.url) : null;
    let buf: string[] = [];
    const emit = () => {
      const text = buf.join('\n\n').trim();
      if (text) chunks.push({ position: chunks.length, title, anchor, text, contentHash: hashText(`${title}\n${text}`) });
    };
    for (const p of s.paragraphs) {
      if (buf.length && words(buf.join(' ')) + words(p) > MAX_WORDS) {
        emit();
        const tail = buf.join(' ').split(/\s+/).slice(-OVERLAP_WORDS).join(' ');
        buf = [tail];
      }
      // A single paragraph longer than the limit is cut on sentence boundaries.
      if (words(p) > MAX_WORDS) {
        for (const sentence of p.split(/(?<=[.!?])\s+/)) {
          if (words(buf.join(' ')) + words(sentence) > TARGET_WORDS && buf.length) {
            emit();
            buf = [];
          }
          buf.push(sentence);
        }
      } else buf.push(p);
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
