// Admin API for the tenant's knowledge: sources in, retrieval tested.
import { z } from 'zod';
import { MAX_SOURCE_TITLE_CHARS, MAX_URL_CHARS } from './constants.js';
import { isSafeText, text, UNSAFE_TEXT_MESSAGE } from './text.js';

const webUrl = z
  .url({ protocol: /^https?$/ })
  .max(MAX_URL_CHARS)
  .refine(isSafeText, { message: UNSAFE_TEXT_MESSAGE });

const common = {
  title: text().trim().min(1).max(MAX_SOURCE_TITLE_CHARS).optional(),
  /** The tenant's own id for the source; posting the same externalId again replaces it. */
  externalId: text().trim().min(1).max(300).optional(),
};

export const CreateSourceRequest = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.enum(['markdown', 'html', 'text']), content: text().min(1).max(900_000), url: webUrl.optional(), ...common }),
  z.strictObject({ kind: z.literal('url'), url: webUrl, ...common }),
  z.strictObject({ kind: z.literal('sitemap'), url: webUrl }),
]);
export type CreateSourceRequest = z.infer<typeof CreateSourceRequest>;

/**
 * Up to 1000 inline sources, written together or not at all. Each externalId at most once: a second one
 * would silently replace the first within the same request.
 */
export const BulkSourcesRequest = z.strictObject({
  sources: z
    .array(z.strictObject({ kind: z.enum(['markdown', 'html', 'text']), content: text().min(1).max(200_000), url: webUrl.optional(), ...common }))
    .min(1)
    .max(1000)
    .superRefine((sources, ctx) => {
      const seen = new Set<string>();
      sources.forEach((s, i) => {
        if (s.externalId === undefined) return;
        if (seen.has(s.externalId)) ctx.addIssue({ code: 'custom', path: [i, 'externalId'], message: 'is the externalId of an earlier source here' });
        seen.add(s.externalId);
      });
    }),
});

const iso = () => z.iso.datetime({ offset: true });

/** Inline content (`markdown`, `html`, `text`), a fetched page (`url`), or a page of a sitemap crawl (`sitemap`). */
export const SourceKindSchema = z.enum(['markdown', 'html', 'text', 'url', 'sitemap']);
export type SourceKind = z.infer<typeof SourceKindSchema>;

export const SourceSchema = z.object({
  id: z.string().uuid(),
  kind: SourceKindSchema,
  externalId: z.string().nullable(),
  title: z.string(),
  url: z.string().nullable(),
  status: z.enum(['ready', 'failed']),
  chunks: z.number().int(),
  createdAt: iso(),
  updatedAt: iso(),
});
export type KnowledgeSource = z.infer<typeof SourceSchema>;
/** `GET /v1/admin/knowledge/sources`: the first 1000, oldest first. */
export const SourceListResponse = z.object({ sources: z.array(SourceSchema) });
/** A source as a write left it: `changed` is false when the content was the same as stored (nothing re-indexed). */
export const WrittenSourceSchema = SourceSchema.extend({ changed: z.boolean() });
/** `POST /v1/admin/knowledge/sources` with inline content or a URL. */
export const CreateSourceResponse = z.object({ sources: z.array(WrittenSourceSchema) });
/** `POST /v1/admin/knowledge/sources/bulk`: how many sources were new, replaced (same externalId, new content) or unchanged. */
export const BulkSourcesResponse = z.object({ created: z.number().int(), replaced: z.number().int(), unchanged: z.number().int() });
/** `POST /v1/admin/knowledge/sources/:id/resync`. */
export const ResyncSourceResponse = z.object({ source: WrittenSourceSchema });

/** How knowledge is searched: `auto` is hybrid once an embedding model is configured, else BM25. */
export const RetrievalModeSchema = z.enum(['auto', 'bm25', 'dense', 'hybrid']);
export type RetrievalMode = z.infer<typeof RetrievalModeSchema>;

export const KnowledgeSearchRequest = z.strictObject({
  query: text().trim().min(1).max(1000),
  limit: z.number().int().min(1).max(50).default(5),
  /** Try another mode than the tenant's setting, to compare them. */
  mode: RetrievalModeSchema.optional(),
});
export const KnowledgeSearchResponse = z.object({
  /** The mode that answered: dense and hybrid fall back to BM25 without an embedding model. */
  mode: z.enum(['bm25', 'dense', 'hybrid']),
  results: z.array(
    z.object({
      chunkId: z.string(),
      sourceId: z.string(),
      externalId: z.string().nullable(),
      title: z.string(),
      url: z.string().nullable(),
      /** BM25 score, cosine similarity (dense) or fused reciprocal-rank score (hybrid). */
      score: z.number(),
      text: z.string(),
    }),
  ),
});
export type KnowledgeSearchResponse = z.infer<typeof KnowledgeSearchResponse>;

/** POST /knowledge/embeddings takes no fields. */
export const EmbeddingSyncRequest = z.strictObject({});

/** The result of embedding the chunks that have no vector from the tenant's current embedding model. */
export const EmbeddingSyncResponse = z.object({
  /** `provider:model`, or null when no provider has an embedding model. */
  model: z.string().nullable(),
  embedded: z.number().int(),
  pending: z.number().int(),
  /** Set when the provider failed; the pending chunks are tried again on the next sync. */
  error: z.string().optional(),
});
export type EmbeddingSyncResponse = z.infer<typeof EmbeddingSyncResponse>;

/** A crawl of many pages (a sitemap), run in the background: `POST /knowledge/sources` answers 202 with it. */
export const CrawlJobSchema = z.object({
  id: z.string().uuid(),
  kind: z.literal('sitemap'),
  url: z.string(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  /** Pages to crawl, once the sitemap is read (at most the per-crawl page bound). */
  pagesTotal: z.number().int().nullable(),
  /** Pages processed so far, stored or failed. */
  pagesDone: z.number().int(),
  pagesFailed: z.number().int(),
  /** Bytes of page content kept so far (each page is cut at the per-page byte bound). */
  bytes: z.number().int(),
  /** Per-page problems and notes (e.g. pages beyond the page bound); the job still finishes. */
  errors: z.array(z.object({ url: z.string().nullable(), message: z.string() })),
  /** Why a failed job stopped. */
  error: z.string().nullable(),
  createdAt: iso(),
  startedAt: iso().nullable(),
  finishedAt: iso().nullable(),
});
export type CrawlJob = z.infer<typeof CrawlJobSchema>;
export const CrawlJobResponse = z.object({ job: CrawlJobSchema });
export const CrawlJobsResponse = z.object({ jobs: z.array(CrawlJobSchema) });

const KnowledgeTotals = z.object({ sources: z.number().int(), bytes: z.number().int(), chunks: z.number().int() });
/** The tenant's knowledge totals and its quota; a write that would pass a limit is a `quota-exceeded` problem. */
export const KnowledgeUsageResponse = z.object({ usage: KnowledgeTotals, limits: KnowledgeTotals });
