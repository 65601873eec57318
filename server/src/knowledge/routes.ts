// Admin API for knowledge: add (inline, URL or sitemap), list, re-sync, delete, and test retrieval.
import { BulkSourcesRequest, CreateSourceRequest, EmbeddingSyncRequest, KnowledgeSearchRequest } from '@parley/protocol';
import { Router, type Request } from 'express';
import type { AuditLog } from '../audit/log.js';
import { isUuid, type Db } from '../db/index.js';
import type { Tx } from '../db/types.js';
import { adminCtx } from '../http/context.js';
import { HttpProblem, problems } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import type { Env } from '../tenants/service.js';
import { CrawlError, fetchText, sitemapUrls } from './crawl.js';
import { ingestSources, type InlineSource } from './ingest.js';
import type { KnowledgeRetrieval } from './retrieval.js';
import { deleteSource, getSource, listSources, sourceView, type SourceRow } from './store.js';
import type { VectorStore } from './vectors/store.js';

export interface KnowledgeDeps {
  db: Db;
  audit: AuditLog;
  env: Env;
  retrieval: KnowledgeRetrieval;
  vectors: VectorStore;
}

const by = (req: Request) => ({ requestId: req.id, actor: { type: 'api_key' as const, id: adminCtx(req).admin.keyId } });

/** A fetched page as an inline source of the right kind. */
async function fetched(url: string, env: Env, extra: { title?: string | undefined; externalId?: string | undefined } = {}): Promise<InlineSource> {
  try {
    const page = await fetchText(url, env);
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
    const results = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx: Tx) => {
      const removed: string[] = [];
      const results = await ingestSources(tx, tenantId, inputs.map(({ input, kind }) => ({ input, storedAs: kind })), removed);
      await deps.vectors.remove(tx, tenantId, removed);
      for (const [i, res] of results.entries()) {
        if (!res.changed) continue;
        await deps.audit.append(tx, {
          tenantId,
          ...by(req),
          action: res.replaced ? 'knowledge.source_replace' : 'knowledge.source_create',
          target: { type: 'knowledge_source', id: res.source.id },
          metadata: { kind: inputs[i]!.kind, chunks: res.source.chunk_count },
        });
      }
      return results;
    });
    // New chunks are embedded once committed, outside the transaction; a provider failure is audited and
    // leaves them pending (BM25 finds them meanwhile) for the next ingest or POST /knowledge/embeddings.
    if (results.some((x) => x.changed)) await deps.retrieval.embedPending(tenantId, req.id);
    return results;
  }

  route(r, '/knowledge/sources', {
    get: [read, async (req, res) => {
      const { tenantId } = adminCtx(req);
      const rows = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => listSources(tx, { limit: 1000 }));
      res.json({ sources: rows.map(sourceView) });
    }],
    post: [write, async (req, res) => {
      const body = parse(CreateSourceRequest, req.body);
      let inputs: { input: InlineSource; kind: SourceRow['kind'] }[];
      if (body.kind === 'url') inputs = [{ input: await fetched(body.url, deps.env, body), kind: 'url' }];
      else if (body.kind === 'sitemap') {
        const map = await fetched(body.url, deps.env);
        const urls = sitemapUrls(map.content, map.url ?? body.url);
        if (!urls.length) throw problems.validation([{ path: '/url', message: 'the sitemap lists no page of its own site', code: 'empty_sitemap' }]);
        inputs = [];
        for (const u of urls) inputs.push({ input: await fetched(u, deps.env), kind: 'sitemap' });
      } else inputs = [{ input: body, kind: body.kind }];
      const results = await store(req, inputs);
      res.status(results.some((x) => x.changed && !x.replaced) ? 201 : 200).json({
        sources: results.map((x) => ({ ...sourceView(x.source), changed: x.changed })),
      });
    }],
  });

  route(r, '/knowledge/sources/bulk', {
    post: [write, async (req, res) => {
      const body = parse(BulkSourcesRequest, req.body);
      const results = await store(req, body.sources.map((s) => ({ input: s, kind: s.kind })));
      res.status(201).json({ created: results.filter((x) => x.changed && !x.replaced).length, replaced: results.filter((x) => x.replaced).length, unchanged: results.filter((x) => !x.changed).length });
    }],
  });

  route(r, '/knowledge/sources/:id', {
    delete: [write, async (req, res) => {
      const id = String(req.params.id);
      if (!isUuid(id)) throw problems.notFound();
      const { tenantId } = adminCtx(req);
      await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const removed: string[] = [];
        const gone = await deleteSource(tx, id, removed);
        if (!gone) throw problems.notFound('No such source.');
        await deps.vectors.remove(tx, tenantId, removed);
        await deps.audit.append(tx, { tenantId, ...by(req), action: 'knowledge.source_delete', target: { type: 'knowledge_source', id }, metadata: { chunks: gone.chunk_count } });
      });
      res.status(204).end();
    }],
  });

  route(r, '/knowledge/sources/:id/resync', {
    post: [write, async (req, res) => {
      const id = String(req.params.id);
      if (!isUuid(id)) throw problems.notFound();
      const { tenantId } = adminCtx(req);
      const src = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) => getSource(tx, id));
      if (!src) throw problems.notFound('No such source.');
      if (src.kind !== 'url' && src.kind !== 'sitemap') throw problems.conflict('Only URL sources re-sync; post inline content again with the same externalId to replace it.');
      const [result] = await store(req, [{ input: await fetched(src.url!, deps.env, { title: src.title, externalId: src.external_id ?? undefined }), kind: src.kind }]);
      res.json({ source: { ...sourceView(result!.source), changed: result!.changed } });
    }],
  });

  route(r, '/knowledge/search', {
    post: [read, async (req, res) => {
      const body = parse(KnowledgeSearchRequest, req.body);
      const { tenantId } = adminCtx(req);
      const { mode, results } = await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
        deps.retrieval.search(tx, body.query, body.limit, { requestId: req.id, ...(body.mode ? { mode: body.mode } : {}) }),
      );
      res.json({ mode, results: results.map(({ strength: _strength, ...r }) => r) });
    }],
  });

  route(r, '/knowledge/embeddings', {
    post: [write, async (req, res) => {
      parse(EmbeddingSyncRequest, req.body ?? {});
      res.json(await deps.retrieval.embedPending(adminCtx(req).tenantId, req.id));
    }],
  });
  return r;
}
