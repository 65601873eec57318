// From what an admin sends to chunks: Markdown, HTML or text inline, or a URL / sitemap fetched with
// the same guard against internal hosts that provider URLs get.
import type { Tx } from '../db/types.js';
import { chunkMarkdown } from './chunk.js';
import { htmlToText } from './html.js';
import { contentHash, upsertSource, type SourceRow } from './store.js';

export interface InlineSource {
  kind: 'markdown' | 'html' | 'text';
  content: string;
  title?: string | undefined;
  url?: string | undefined;
  externalId?: string | undefined;
}

/** Plain text: paragraphs stay paragraphs, nothing is read as a heading. */
const textAsMarkdown = (s: string) => s.replace(/^(\s*)#/gm, '$1\\#');

export function prepare(input: InlineSource): { title: string; markdown: string } {
  if (input.kind === 'html') {
    const { text, title } = htmlToText(input.content);
    return { title: input.title ?? title ?? input.url ?? 'Untitled', markdown: text };
  }
  const md = input.kind === 'markdown' ? input.content : textAsMarkdown(input.content);
  const h1 = input.kind === 'markdown' ? /^#\s+(.+)$/m.exec(md)?.[1]?.trim() : undefined;
  return { title: input.title ?? h1 ?? input.url ?? 'Untitled', markdown: md };
}

export async function ingestInline(tx: Tx, tenantId: string, input: InlineSource, kind: SourceRow['kind'] = input.kind) {
  const { title, markdown } = prepare(input);
  const chunks = chunkMarkdown(markdown, { title, url: input.url ?? null });
  return upsertSource(tx, tenantId, {
    kind: kind as InlineSource['kind'],
    title,
    url: input.url ?? null,
    externalId: input.externalId ?? (input.url && kind !== input.kind ? input.url : null),
    chunks,
    contentHash: contentHash(`${kind}\n${title}\n${input.url ?? ''}\n${input.content}`),
  });
}
