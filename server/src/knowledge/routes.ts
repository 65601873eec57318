// Admin API for knowledge: add (inline, URL or sitemap), list, re-sync, delete, and test retrieval.
// A sitemap is crawled by a background job (202 + Location); every write is bounded by the tenant's quota
// (the rules: service.ts).
import { BulkSourcesRequest, CreateSourceRequest, EmbeddingSyncRequest, KnowledgeSearchRequest } from '@parley/protocol';
import { Router } from 'express';
import { adminCtx } from '../http/context.js';
import { HttpProblem } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse, uuidParam } from '../http/validate.js';
import { requireCapability as can } from '../tenants/auth.js';
import * as svc from './service.js';
import { crawlJobView, sourceView } from './store.js';

/** Why a page could not be fetched, as a sentence for the person who gave its address. */
const fetchSentence = (err: svc.SourceFetchFailed) =>
  `${err.reason.charAt(0).toUpperCase()}${err.reason.slice(1)}${/[.!?]$/.test(err.reason) ? '' : '.'}` +
  (err.unreachable ? ' Check that the address is right and the page is public, then try again.' : '');

/** A page that could not be fetched is a 422 naming `/url`, its message a sentence a person reads. */
async function orFetchProblem<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (!(err instanceof svc.SourceFetchFailed)) throw err;
    throw new HttpProblem(422, 'validation-failed', err.message, {
      errors: [{ path: '/url', message: fetchSentence(err), code: 'fetch_failed' }],
    });
  }
}

export function knowledgeRoutes(deps: svc.KnowledgeDeps): Router {
  const r = Router();
  const write = can('knowledge:write');
  const read = can('knowledge:read');

  route(r, '/knowledge/sources', {
    get: [read, async (req, res) => void res.json({ sources: (await svc.listSources(deps, adminCtx(req))).map(sourceView) })],
    post: [
      write,
      async (req, res) => {
        const body = parse(CreateSourceRequest, req.body);
        const ctx = adminCtx(req);
        if (body.kind === 'sitemap') {
          const job = await svc.queueSitemap(deps, ctx, body.url);
          res
            .status(202)
            .location(`/v1/admin/knowledge/jobs/${job.id}`)
            .json({ job: crawlJobView(job) });
          return;
        }
        const results = body.kind === 'url' ? await orFetchProblem(svc.addUrl(deps, ctx, body)) : await svc.addInline(deps, ctx, [body]);
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
        const results = await svc.addInline(deps, adminCtx(req), body.sources);
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
        const id = uuidParam(req, 'id');
        await svc.deleteSource(deps, adminCtx(req), id);
        res.status(204).end();
      },
    ],
  });

  route(r, '/knowledge/sources/:id/resync', {
    post: [
      write,
      async (req, res) => {
        const id = uuidParam(req, 'id');
        const result = await orFetchProblem(svc.resyncSource(deps, adminCtx(req), id));
        res.json({ source: { ...sourceView(result.source), changed: result.changed } });
      },
    ],
  });

  route(r, '/knowledge/usage', {
    get: [read, async (req, res) => void res.json(await svc.usage(deps, adminCtx(req)))],
  });

  route(r, '/knowledge/jobs', {
    get: [read, async (req, res) => void res.json({ jobs: (await svc.listJobs(deps, adminCtx(req))).map(crawlJobView) })],
  });

  route(r, '/knowledge/jobs/:id', {
    get: [
      read,
      async (req, res) => {
        const id = uuidParam(req, 'id');
        res.json({ job: crawlJobView(await svc.getJob(deps, adminCtx(req), id)) });
      },
    ],
  });

  route(r, '/knowledge/search', {
    post: [
      read,
      async (req, res) => {
        const body = parse(KnowledgeSearchRequest, req.body);
        const { mode, results } = await svc.search(deps, adminCtx(req), body);
        res.json({ mode, results: results.map(({ strength: _strength, ...r }) => r) });
      },
    ],
  });

  route(r, '/knowledge/embeddings', {
    post: [
      write,
      async (req, res) => {
        parse(EmbeddingSyncRequest, req.body ?? {});
        res.json(await svc.embedPending(deps, adminCtx(req)));
      },
    ],
  });
  return r;
}
