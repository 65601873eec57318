// From what an admin sends to stored chunks: Markdown, HTML or text, inline or fetched from a URL or
// a sitemap (service.ts and jobs.ts fetch; this file never touches the network).
import { MAX_SOURCE_TITLE_CHARS } from '@parley/protocol';
import type { Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { chunkMarkdown } from './chunk.js';
import { htmlToText, stripMarkdownHtml } from './html.js';
import { contentHash, upsertSources, type SourceKind, type SourceInput, type UpsertResult } from './store.js';

export interface InlineSource {
  kind: 'markdown' | 'html' | 'text';
  content: string;
  title?: string | undefined;
  url?: string | undefined;
  externalId?: string | undefined;
}

/** A source to ingest; `storedAs` records that it was fetched ('url' or 'sitemap'). */
export interface IngestItem {
  input: InlineSource;
  storedAs?: SourceKind;
}

/**
 * A title read from the content (a page's <title>, a Markdown # heading) is held to the API's bound for a
 * title, as one given with the request is: every chunk carries it.
 */
function bounded(title: string): string {
  if (title.length <= MAX_SOURCE_TITLE_CHARS) return title;
  return title
    .slice(0, MAX_SOURCE_TITLE_CHARS)
    .replace(/[\uD800-\uDBFF]$/, '')
    .trimEnd();
}

export function prepare(input: InlineSource): { title: string; markdown: string } {
  const { title, markdown } = read(input);
  return { title: bounded(title), markdown };
}

function read(input: InlineSource): { title: string; markdown: string } {
  if (input.kind === 'html') {
    const { text, title } = htmlToText(input.content);
    return { title: input.title ?? title ?? input.url ?? 'Untitled', markdown: text };
  }
  if (input.kind === 'text') return { title: input.title ?? input.url ?? 'Untitled', markdown: input.content };
  const md = stripMarkdownHtml(input.content);
  const h1 = /^#\s+(.+)$/m.exec(md)?.[1]?.trim();
  return { title: input.title ?? h1 ?? input.url ?? 'Untitled', markdown: md };
}

/**
 * A fetched page's content was not sent in the request: a page that cannot be read is the fault of the
 * field that named it, `/url`, not of a `/content` the request never had.
 */
function prepareFetched(input: InlineSource): { title: string; markdown: string } {
  try {
    return prepare(input);
  } catch (err) {
    if (!(err instanceof DomainError && err.code === 'invalid_input' && err.details.errors)) throw err;
    const errors = err.details.errors.map((e) => (e.path === '/content' ? { ...e, path: '/url' } : e));
    throw new DomainError(err.code, err.message, { ...err.details, errors });
  }
}

function toSourceInput({ input, storedAs }: IngestItem): SourceInput {
  const kind = storedAs ?? input.kind;
  const { title, markdown } = kind === input.kind ? prepare(input) : prepareFetched(input);
  const url = input.url ?? null;
  return {
    kind,
    title,
    url,
    // A fetched page is identified by its URL unless the admin named it.
    externalId: input.externalId ?? (url && kind !== input.kind ? url : null),
    chunks: chunkMarkdown(markdown, { title, url, headings: input.kind !== 'text' }),
    contentHash: contentHash(`${kind}\n${title}\n${url ?? ''}\n${input.content}`),
  };
}

/** Ingests many sources in one pass (a few statements per batch); results are in input order. */
export async function ingestSources(tx: Tx, tenantId: string, items: IngestItem[], removed?: string[]): Promise<UpsertResult[]> {
  return upsertSources(tx, tenantId, items.map(toSourceInput), removed);
}

/** Creates a source or atomically replaces the one with the same externalId when its content changed. */
export async function ingestSource(tx: Tx, tenantId: string, input: InlineSource, storedAs?: SourceKind): Promise<UpsertResult> {
  return (await ingestSources(tx, tenantId, [{ input, ...(storedAs ? { storedAs } : {}) }]))[0]!;
}
