// Admin API for knowledge: add (inline, URL or sitemap), list, re-sync, delete, and test retrieval.
// A sitemap is crawled by a background job (202 + Location); every write is bounded by the tenant's quota.
import { BulkSourcesRequest, CreateSourceRequest, EmbeddingSyncRequest, KnowledgeSearchRequest } from '@parley/protocol';
import { Router, type Request } from 'express';
import type { AuditLog } from '../audit/log.js';
import { isUuid, type Db } from '../db/index.js';
import { adminCtx, by } from '../http/context.js';
import { HttpProblem, problems } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import type { Outbound } from '../outbound/outbound.js';
import { requireCapability as can } from '../tenants/auth.js';
import type { KnowledgeQuota } from '../config.js';
import type { Env } from '../tenants/service.js';
import { CrawlError, fetchText } from './crawl.js';
import type { InlineSource } from './ingest.js';
import { crawlJobView, getCrawlJob, listCrawlJobs, queueCrawl, type CrawlWorker } from './jobs.js';
import { knowledgeUsage, lockKnowledge, requireRoom } from './quota.js';
import type { KnowledgeRetrieval } from './retrieval.js';
import { deleteSource, getSource, listSources, sourceView, type SourceRow } from './store.js';
import type { VectorStore } from './vectors/store.js';
import { writeSources } from './write.js';

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

/** A fetched page as an inline source of the right kind. */
async function fetched(
  url: string,
  outbound: Outbound,
  maxBytes: number,
  extra: { title?: string | undefined; externalId?: string | undefined } = {},
): Promise<InlineSource> {
  try {
    const page = await fetchText(url, outbound, { maxBytes });
    const kind = page.contentType.includes('html') ? 'html' : page.contentType === 'text/markdown' ? 'markdown' : 'text';
    return { kind, content: page.body, url: page.url, title: extra.title, externalId: extra.externalId ?? url };
  } catch (err) {
    if (err instanceof CrawlError || (err as Error).name === 'TimeoutError' || err instanceof TypeError) {
      throw new HttpProblem(422, 'validation-failed', `Could not fetch ${url}: ${(err as Error).message}`, {
        errors: [{ path: '/url', message: (err as Error).message, code: 'fetch_failed' }],
      });
    }
    throw err;
  }
}

export function knowledgeRoutes(deps: KnowledgeDeps): Router {
  const r = Router();
  const write = can('knowledge:write');
  const read = can('knowledge:read');

  async function store(req: Request, inputs: { input: InlineSource; kind: SourceRow['kind'] }[]) {
    const { tenantId } = adminCtx(req);
    const results = await writeSources(deps, tenantId, by(req), inputs);
    // New chunks are embedded once committed, outside the transaction; a provider failure is audited and
    // leaves them pending (BM25 finds them meanwhile) for the next ingest or POST /knowledge/embeddings.
    if (results.some((x) => x.changed)) await deps.retrieval.embedPending(tenantId, req.id);
    return results;
  }

  /** Refuses before any fetch when the tenant's knowledge is already at a limit. */
  const requireQuotaRoom = (tenantId: string, requestId: string) =>
    deps.db.withTenant(tenantId, { requestId }, async (tx) => requireRoom(await knowledgeUsage(tx), deps.quota));

  route(r, '/knowledge/sources', {
    get: [
      read,
      async (req, res) => {
        const { tenantId } = adminCtx(req);
        // A list: the read path (a replica, when configured, once it shows this instance's writes).
        const rows = await deps.db.withTenantRead(tenantId, { requestId: req.id }, (tx) => listSources(tx, { limit: 1000 }));
        res.json({ sources: rows.map(sourceView) });
      },
    ],
    post: [
      write,
      async (req, res) => {
        const body = parse(CreateSourceRequest, req.body);
        const { tenantId } = adminCtx(req);
        if (body.kind === 'sitemap') {
          // Many pages: a background job, queued only if the tenant has room (checked under its knowledge lock).
          const job = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
            await lockKnowledge(tx, tenantId);
            requireRoom(await knowledgeUsage(tx), deps.quota);
            const job = await queueCrawl(tx, tenantId, body.url, by(req));
            await deps.audit.append(tx, {
              tenantId,
              ...by(req),
              action: 'knowledge.crawl_queue',
              target: { type: 'crawl_job', id: job.id },
              metadata: { kind: 'sitemap' },
            });
            return job;
          });
          deps.crawler.kick();
          res
            .status(202)
            .location(`/v1/admin/knowledge/jobs/${job.id}`)
            .json({ job: crawlJobView(job) });
          return;
        }
        let inputs: { input: InlineSource; kind: SourceRow['kind'] }[];
        if (body.kind === 'url') {
          await requireQuotaRoom(tenantId, req.id);
          inputs = [{ input: await fetched(body.url, deps.outbound, deps.maxPageBytes, body), kind: 'url' }];
        } else inputs = [{ input: body, kind: body.kind }];
        const results = await store(req, inputs);
        res.status(results.some((x) => x.changed && !x.replaced) ? 201 : 200).json({
          sources: results.map((x) => ({ ...sourceView(x.source), changed: x.changed })),
        });
      },
    ],
  });

  route(r, '/knowledge/sources/bulk', {
    post: [
      write,
      async (req, res) => {
        const body = parse(BulkSourcesRequest, req.body);
        const results = await store(
          req,
          body.sources.map((s) => ({ input: s, kind: s.kind })),
        );
        res.status(201).json({
          created: results.filter((x) => x.changed && !x.replaced).length,
          replaced: results.filter((x) => x.replaced).length,
          unchanged: results.filter((x) => !x.changed).length,
        });
      },
    ],
  });

  route(r, '/knowledge/sources/:id', {
    delete: [
      write,
      async (req, res) => {
        const id = String(req.params.id);
        if (!isUuid(id)) throw problems.notFound();
        const { tenantId } = adminCtx(req);
        await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
          const removed: string[] = [];
          const gone = await deleteSource(tx, id, removed);
          if (!gone) throw problems.notFound('No such source.');
          await deps.vectors.remove(tx, tenantId, removed);
          await deps.audit.append(tx, {
            tenantId,
            ...by(req),
            action: 'knowledge.source_delete',
            target: { type: 'knowledge_source', id },
            metadata: { chunks: gone.chunk_count },
          });
        });
        res.status(204).end();
      },
    ],
  });

  route(r, '/knowledge/sources/:id/resync', {
    post: [
      write,
      async (req, res) => {
        const id = String(req.params.id);
        if (!isUuid(id)) throw problems.notFound();
        const { tenantId } = adminCtx(req);
        const src = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => getSource(tx, id));
        if (!src) throw problems.notFound('No such source.');
        if (src.kind !== 'url' && src.kind !== 'sitemap')
          throw problems.conflict('Only URL sources re-sync; post inline content again with the same externalId to replace it.');
        const [result] = await store(req, [
          {
            input: await fetched(src.url!, deps.outbound, deps.maxPageBytes, { title: src.title, externalId: src.external_id ?? undefined }),
            kind: src.kind,
          },
        ]);
        res.json({ source: { ...sourceView(result!.source), changed: result!.changed } });
      },
    ],
  });

  route(r, '/knowledge/usage', {
    get: [
      read,
      async (req, res) => {
        const usage = await deps.db.withTenant(adminCtx(req).tenantId, { requestId: req.id }, (tx) => knowledgeUsage(tx));
        res.json({ usage, limits: deps.quota });
      },
    ],
  });

  route(r, '/knowledge/jobs', {
    get: [
      read,
      async (req, res) => {
        const rows = await deps.db.withTenant(adminCtx(req).tenantId, { requestId: req.id }, (tx) => listCrawlJobs(tx));
        res.json({ jobs: rows.map(crawlJobView) });
      },
    ],
  });

  route(r, '/knowledge/jobs/:id', {
    get: [
      read,
      async (req, res) => {
        const id = String(req.params.id);
        if (!isUuid(id)) throw problems.notFound();
        const job = await deps.db.withTenant(adminCtx(req).tenantId, { requestId: req.id }, (tx) => getCrawlJob(tx, id));
        if (!job) throw problems.notFound('No such crawl job.');
        res.json({ job: crawlJobView(job) });
      },
    ],
  });

  route(r, '/knowledge/search', {
    post: [
      read,
      async (req, res) => {
        const body = parse(KnowledgeSearchRequest, req.body);
        const { tenantId } = adminCtx(req);
        const { mode, results } = await deps.retrieval.searchTenant(tenantId, body.query, body.limit, {
          requestId: req.id,
          ...(body.mode ? { mode: body.mode } : {}),
        });
        res.json({ mode, results: results.map(({ strength: _strength, ...r }) => r) });
      },
    ],
  });

  route(r, '/knowledge/embeddings', {
    post: [
      write,
      async (req, res) => {
        parse(EmbeddingSyncRequest, req.body ?? {});
        res.json(await deps.retrieval.embedPending(adminCtx(req).tenantId, req.id));
      },
    ],
  });
  return r;
}
