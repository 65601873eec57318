// The rules of a tenant's knowledge through the admin API: inline content is written at once; a `url` source,
// and a re-sync, fetch their page first (after a quota check, so a tenant at a limit causes no fetch); a sitemap
// is queued as a crawl job (jobs.ts) under the tenant's knowledge lock and quota. New chunks are embedded once
// their write has committed. Every change is audited (write.ts for writes). Refusals are domain errors, and a
// page that cannot be fetched is a SourceFetchFailed; routes.ts turns them into problems.
import type { AuditLog } from '../audit/log.js';
import type { KnowledgeQuota } from '../config.js';
import type { Db } from '../db/index.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import type { Outbound } from '../outbound/outbound.js';
import type { Env } from '../tenants/service.js';
import { CrawlError, fetchText } from './crawl.js';
import type { InlineSource } from './ingest.js';
import type { CrawlWorker } from './jobs.js';
import { knowledgeUsage, lockKnowledge, quotaExceeded, requireRoom, type KnowledgeTotals } from './quota.js';
import type { KnowledgeRetrieval, SearchOptions, SearchResult } from './retrieval.js';
import * as store from './store.js';
import type { VectorStore } from './vectors/store.js';
import { writeSources, type WriteItem } from './write.js';

export interface KnowledgeDeps {
  db: Db;
  audit: AuditLog;
  env: Env;
  retrieval: KnowledgeRetrieval;
  vectors: VectorStore;
  quota: KnowledgeQuota;
  /** The most bytes of one fetched page: a longer URL source is refused; crawl jobs cut their pages there. */
  maxPageBytes: number;
  crawler: CrawlWorker;
  /** Every crawl and sitemap request goes through it. */
  outbound: Outbound;
}

export type Ctx = RequestCtx & { tenantId: string };

/** Crawls a tenant may have queued or running at once: more is a quota problem, not a longer queue. */
export const MAX_ACTIVE_CRAWLS = 3;

const who = (ctx: Ctx): RequestCtx => ({ requestId: ctx.requestId, actor: ctx.actor });

/** A page that could not be fetched (refused by outbound/, timed out, too large, not a page): nothing was stored. */
export class SourceFetchFailed extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    /** Not reached at all (refused, timed out, no such host), rather than refused or unreadable. */
    readonly unreachable = false,
  ) {
    super(`Could not fetch ${url}: ${reason}`);
    this.name = 'SourceFetchFailed';
  }
}

/** A fetched page as an inline source of the right kind. */
async function fetched(
  deps: KnowledgeDeps,
  url: string,
  extra: { title?: string | undefined; externalId?: string | undefined } = {},
): Promise<InlineSource> {
  try {
    const page = await fetchText(url, deps.outbound, { maxBytes: deps.maxPageBytes });
    const kind = page.contentType.includes('html') ? 'html' : page.contentType === 'text/markdown' ? 'markdown' : 'text';
    return { kind, content: page.body, url: page.url, title: extra.title, externalId: extra.externalId ?? url };
  } catch (err) {
    if (err instanceof CrawlError || (err as Error).name === 'TimeoutError' || err instanceof TypeError) {
      throw new SourceFetchFailed(url, (err as Error).message, err instanceof CrawlError && !!err.unreachable);
    }
    throw err;
  }
}

/**
 * Writes the sources (write.ts: one transaction, quota and audit). New chunks are embedded once committed,
 * outside the transaction; a provider failure is audited and leaves them pending (BM25 finds them meanwhile)
 * for the next ingest or POST /knowledge/embeddings.
 */
async function write(deps: KnowledgeDeps, ctx: Ctx, items: WriteItem[]) {
  const results = await writeSources(deps, ctx.tenantId, ctx, items);
  if (results.some((x) => x.changed)) await deps.retrieval.embedPending(ctx.tenantId, ctx.requestId);
  return results;
}

/** Refuses before any fetch when the tenant's knowledge is already at a limit. */
const requireQuotaRoom = (deps: KnowledgeDeps, ctx: Ctx) =>
  deps.db.withTenant(ctx.tenantId, ctx, async (tx) => requireRoom(await knowledgeUsage(tx), deps.quota));

/** The first 1000 sources, from the read path (a replica, when configured, once it shows this instance's writes). */
export function listSources(deps: KnowledgeDeps, ctx: Ctx): Promise<store.SourceRow[]> {
  return deps.db.withTenantRead(ctx.tenantId, { requestId: ctx.requestId }, (tx) => store.listSources(tx, { limit: 1000 }));
}

/** Inline content, written as it is. */
export function addInline(deps: KnowledgeDeps, ctx: Ctx, inputs: InlineSource[]) {
  return write(
    deps,
    ctx,
    inputs.map((input) => ({ input, kind: input.kind })),
  );
}

/** A page fetched from `url`, if the tenant has room for more before the fetch. */
export async function addUrl(deps: KnowledgeDeps, ctx: Ctx, body: { url: string; title?: string | undefined; externalId?: string | undefined }) {
  await requireQuotaRoom(deps, ctx);
  return write(deps, ctx, [{ input: await fetched(deps, body.url, body), kind: 'url' }]);
}

/** Many pages: a background job, queued only if the tenant has room and fewer than MAX_ACTIVE_CRAWLS (both checked under its knowledge lock). */
export async function queueSitemap(deps: KnowledgeDeps, ctx: Ctx, url: string): Promise<store.CrawlJobRow> {
  const job = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await lockKnowledge(tx, ctx.tenantId);
    requireRoom(await knowledgeUsage(tx), deps.quota);
    const active = await store.countActiveCrawls(tx);
    if (active >= MAX_ACTIVE_CRAWLS) throw quotaExceeded('crawls', MAX_ACTIVE_CRAWLS, active, 1);
    const job = await store.insertCrawlJob(tx, {
      tenantId: ctx.tenantId,
      url,
      requestedBy: `${ctx.actor.type}:${ctx.actor.id ?? ''}`,
      requestId: ctx.requestId,
    });
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      ...who(ctx),
      action: 'knowledge.crawl_queue',
      target: { type: 'crawl_job', id: job.id },
      metadata: { kind: 'sitemap' },
    });
    return job;
  });
  deps.crawler.kick();
  return job;
}

/** Deletes a source, its chunks and their vectors. */
export async function deleteSource(deps: KnowledgeDeps, ctx: Ctx, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    // The statistics first, then the source, in the order writes take them: the other way round, a delete
    // meeting a rewrite of the same source deadlocks.
    await lockKnowledge(tx, ctx.tenantId);
    const removed: string[] = [];
    const gone = await store.deleteSource(tx, id, removed);
    if (!gone) throw new DomainError('not_found', 'No such source.');
    await deps.vectors.remove(tx, ctx.tenantId, removed);
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      ...who(ctx),
      action: 'knowledge.source_delete',
      target: { type: 'knowledge_source', id },
      metadata: { chunks: gone.chunk_count },
    });
  });
}

/** Fetches a URL or sitemap page source again; inline content is replaced by posting it again instead. */
export async function resyncSource(deps: KnowledgeDeps, ctx: Ctx, id: string) {
  const src = await deps.db.withTenant(ctx.tenantId, ctx, (tx) => store.getSource(tx, id));
  if (!src) throw new DomainError('not_found', 'No such source.');
  if (src.kind !== 'url' && src.kind !== 'sitemap')
    throw new DomainError('conflict', 'Only URL sources re-sync; post inline content again with the same externalId to replace it.');
  const [result] = await write(deps, ctx, [
    {
      input: await fetched(deps, src.url!, { title: src.title, externalId: src.external_id ?? undefined }),
      kind: src.kind,
    },
  ]);
  return result!;
}

/** The tenant's totals and its limits. */
export async function usage(deps: KnowledgeDeps, ctx: Ctx): Promise<{ usage: KnowledgeTotals; limits: KnowledgeQuota }> {
  const usage = await deps.db.withTenant(ctx.tenantId, ctx, (tx) => knowledgeUsage(tx));
  return { usage, limits: deps.quota };
}

export function listJobs(deps: KnowledgeDeps, ctx: Ctx): Promise<store.CrawlJobRow[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, (tx) => store.listCrawlJobs(tx));
}

export async function getJob(deps: KnowledgeDeps, ctx: Ctx, id: string): Promise<store.CrawlJobRow> {
  const job = await deps.db.withTenant(ctx.tenantId, ctx, (tx) => store.getCrawlJob(tx, id));
  if (!job) throw new DomainError('not_found', 'No such crawl job.');
  return job;
}

/** Retrieval as a visitor's question would get it, in the tenant's mode or the one asked for. */
export function search(
  deps: KnowledgeDeps,
  ctx: Ctx,
  q: { query: string; limit: number; mode?: SearchOptions['mode'] | undefined },
): Promise<SearchResult> {
  return deps.retrieval.searchTenant(ctx.tenantId, q.query, q.limit, {
    requestId: ctx.requestId,
    ...(q.mode ? { mode: q.mode } : {}),
  });
}

/** Embeds every chunk not yet embedded with the tenant's model. */
export const embedPending = (deps: KnowledgeDeps, ctx: Ctx) => deps.retrieval.embedPending(ctx.tenantId, ctx.requestId);
