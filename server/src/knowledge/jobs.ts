// Sitemap crawls as background jobs. `POST /knowledge/sources` queues a crawl_jobs row and answers 202;
// a worker on some instance claims it under a lease (holder + lease_until on the row, taken with
// SKIP LOCKED so two instances never claim the same job), lists the pages (crawl.ts listSitemap: the
// submitted URL's site only, a sitemap index one level deep, robots.txt honoured), then stores one page per
// transaction together with the job's progress, checking in that same transaction that it still
// holds the lease. Memory stays at one page; a dead instance's lease lapses and another resumes at
// the next page, never storing a page twice. Bounds: pages per crawl, bytes kept per page (longer
// pages are cut), bytes per crawl, and the tenant's quota (a crawl that reaches it stops, failed,
// keeping the pages stored so far). Fair between tenants: one job per tenant at a time, the tenant served
// least recently first, and a job gives its worker back after PARLEY_CRAWL_SLICE_MS (see runOne).
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log.js';
import type { Config } from '../config.js';
import type { ActorRef, Db, Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import { asWorker } from '../jobs/lease.js';
import { vectorStoreFor } from '../runtime.js';
import { Outbound } from '../outbound/outbound.js';
import { fetchFailure, fetchText, listSitemap, robotsFor, type SitemapListing } from './crawl.js';
import type { RobotsRules } from './robots.js';
import type { InlineSource } from './ingest.js';
import type { VectorStore } from './vectors/store.js';
import { crawlFailed } from '../webhooks/events.js';
import { getCrawlJob, type CrawlJobRow } from './store.js';
import { writeSources } from './write.js';

const MAX_ATTEMPTS = 5;
const MAX_ERRORS = 50;

/** This instance no longer holds the job: another took it over after the lease lapsed. */
class LeaseLost extends Error {}

export interface CrawlWorkerDeps {
  db: Db;
  audit: AuditLog;
  config: Config;
  /** This instance's lease holder id. */
  holder: string;
  logger: Logger;
  vectors?: VectorStore;
  /** Embeds the new chunks once a crawl is done (when the tenant has an embedding model). */
  embedPending?: (tenantId: string, requestId: string | null) => Promise<unknown>;
  /** Every sitemap and page request goes through it; from the config unless given. */
  outbound?: Outbound;
}

export class CrawlWorker {
  private running: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private readonly vectors: VectorStore;
  private readonly outbound: Outbound;

  constructor(private readonly deps: CrawlWorkerDeps) {
    this.vectors = deps.vectors ?? vectorStoreFor(deps.config);
    this.outbound = deps.outbound ?? new Outbound({ env: deps.config.env, allow: deps.config.outboundAllow });
  }

  /** Starts draining the queue in the background (a no-op when already draining, which re-checks). */
  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.drain();
      } while (this.again);
    })()
      .catch((err) => this.deps.logger.warn({ err: { message: (err as Error).message } }, 'crawl worker failed'))
      .finally(() => {
        this.running = null;
      });
  }

  /**
   * Stops after the page in hand (shutting down): the job's lease is given back, so another instance
   * resumes it at once.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.idle();
  }

  /** Waits for a background drain started by kick(). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Runs claimable jobs until none is left; returns how many it ran. */
  async drain(): Promise<number> {
    let n = 0;
    while (!this.stopping && (await this.runOne())) n++;
    return n;
  }

  /**
   * Claims a job that is queued, or running under a lapsed lease (a dead holder's, or one given back after its
   * slice), and runs it. Fair between tenants: none of a tenant's jobs is claimed while another of its jobs is
   * held, and the tenant a worker took a job of least recently goes first (then, within a tenant, the job
   * already started, then the oldest). Claims are serialised by an advisory lock, so two instances never
   * take two jobs of one tenant at once.
   */
  async runOne(): Promise<boolean> {
    const claimed = await asWorker(this.deps.db, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['parley:crawl-claim']);
      const { rows } = await tx.query<{ id: string; tenant_id: string; attempts: number }>(
        `UPDATE crawl_jobs SET holder = $1, lease_until = clock_timestamp() + make_interval(secs => $2), status = 'running',
                attempts = attempts + 1, started_at = coalesce(started_at, now()), served_at = clock_timestamp(), updated_at = now()
          WHERE id = (
            SELECT j.id FROM crawl_jobs j
             WHERE j.status IN ('queued', 'running') AND (j.lease_until IS NULL OR j.lease_until < clock_timestamp())
               AND NOT EXISTS (SELECT 1 FROM crawl_jobs o WHERE o.tenant_id = j.tenant_id AND o.id <> j.id AND o.status = 'running'
                                  AND o.lease_until >= clock_timestamp())
             ORDER BY (SELECT max(s.served_at) FROM crawl_jobs s WHERE s.tenant_id = j.tenant_id) NULLS FIRST,
                      j.started_at NULLS LAST, j.created_at, j.id
             LIMIT 1 FOR UPDATE OF j SKIP LOCKED)
          RETURNING id, tenant_id, attempts`,
        [this.deps.holder, this.deps.config.crawl.leaseMs / 1000],
      );
      return rows[0] ?? null;
    });
    if (!claimed) return false;
    try {
      await this.run(claimed.id, claimed.tenant_id, claimed.attempts);
    } catch (err) {
      if (err instanceof LeaseLost) return true;
      this.deps.logger.warn({ jobId: claimed.id, err: { message: (err as Error).message } }, 'crawl job failed');
      await this.finish(claimed.tenant_id, claimed.id, 'failed', 'The crawl stopped on an internal error; see the server logs.').catch(
        () => undefined,
      );
    }
    return true;
  }

  private tx<T>(tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.deps.db.withTenant(tenantId, { requestId: null }, fn);
  }

  /** Updates the job if this instance still holds it (renewing the lease); else LeaseLost. */
  private async update(tx: Tx, id: string, set: string, params: unknown[] = [], extraWhere = ''): Promise<void> {
    const { rowCount } = await tx.query(
      `UPDATE crawl_jobs SET ${set}, lease_until = clock_timestamp() + make_interval(secs => $3), updated_at = now()
        WHERE id = $1 AND holder = $2 ${extraWhere}`,
      [id, this.deps.holder, this.deps.config.crawl.leaseMs / 1000, ...params],
    );
    if (rowCount !== 1) throw new LeaseLost();
  }

  private async finish(tenantId: string, id: string, status: 'done' | 'failed', error: string | null): Promise<void> {
    await this.tx(tenantId, async (tx) => {
      await this.update(tx, id, 'status = $4::text, error = $5::text, finished_at = now(), holder = NULL', [status, error]);
      const job = (await getCrawlJob(tx, id))!;
      if (status === 'failed') await crawlFailed(tx, tenantId, job, error);
      await this.deps.audit.append(tx, {
        tenantId,
        requestId: job.request_id,
        actor: this.actor(job),
        action: 'knowledge.crawl_finish',
        target: { type: 'crawl_job', id },
        metadata: { status, pages: job.pages_done, failed: job.pages_failed, bytes: Number(job.bytes) },
      });
    });
  }

  /** Who queued the job (`type:id`; jobs queued before people existed hold a bare key id). */
  private actor(job: CrawlJobRow): ActorRef {
    const [type, id] = job.requested_by?.includes(':') ? job.requested_by.split(':', 2) : ['api_key', job.requested_by];
    return { type: type === 'member' ? 'member' : 'api_key', id: id || null };
  }

  private note(tx: Tx, id: string, url: string | null, message: string): Promise<void> {
    return this.update(tx, id, `errors = CASE WHEN jsonb_array_length(errors) < ${MAX_ERRORS} THEN errors || $4::jsonb ELSE errors END`, [
      JSON.stringify([{ url, message: message.slice(0, 500) }]),
    ]);
  }

  private async run(id: string, tenantId: string, attempts: number): Promise<void> {
    const { config } = this.deps;
    let job = (await this.tx(tenantId, (tx) => getCrawlJob(tx, id)))!;
    if (attempts > MAX_ATTEMPTS) return this.finish(tenantId, id, 'failed', `Gave up after ${MAX_ATTEMPTS} attempts.`);
    let urls = job.urls;
    let robots: RobotsRules | undefined;
    if (!urls) {
      const renew = () => this.tx(tenantId, (tx) => this.update(tx, id, 'pages_done = pages_done'));
      let listing: SitemapListing;
      try {
        listing = await listSitemap(job.url, this.outbound, renew);
      } catch (err) {
        if (!fetchFailure(err)) throw err;
        return this.finish(tenantId, id, 'failed', (err as Error).message);
      }
      const { pages: listed, notes, failure } = listing;
      robots = listing.robots;
      const noteAll = async (tx: Tx) => {
        for (const n of notes) await this.note(tx, id, n.url, n.message);
      };
      if (failure) {
        if (notes.length) await this.tx(tenantId, noteAll);
        return this.finish(tenantId, id, 'failed', failure);
      }
      urls = listed.slice(0, config.crawl.maxPages);
      const chosen = urls;
      await this.tx(tenantId, async (tx) => {
        await this.update(tx, id, 'urls = $4::text[], pages_total = $5::int', [chosen, chosen.length]);
        await noteAll(tx);
        if (listed.length > chosen.length) {
          await this.note(
            tx,
            id,
            null,
            `The sitemap lists ${listed.length} pages; the first ${chosen.length} are crawled (the per-crawl page limit).`,
          );
        }
      });
    }
    // A crawl resumed (after its slice, or on another instance) reads robots.txt again, for its pages' redirects.
    if (!robots) {
      try {
        robots = await robotsFor(new URL(job.url).origin, this.outbound);
      } catch (err) {
        if (!fetchFailure(err)) throw err;
        return this.finish(tenantId, id, 'failed', (err as Error).message);
      }
    }
    const rules = robots;
    let bytes = Number(job.bytes);
    const ctx = { requestId: job.request_id, actor: this.actor(job) };
    const sliceEnds = Date.now() + config.crawl.sliceMs;
    for (let i = job.pages_done; i < urls.length; i++) {
      if (this.stopping || (i > job.pages_done && Date.now() >= sliceEnds)) {
        // Given back: on shutdown, to another instance at once; after its slice, to the next tenant's crawl
        // (this one resumes at page i when its turn comes again). Neither is a failed attempt.
        await this.tx(tenantId, (tx) =>
          tx.query('UPDATE crawl_jobs SET holder = NULL, lease_until = NULL, attempts = attempts - 1 WHERE id = $1 AND holder = $2', [
            id,
            this.deps.holder,
          ]),
        );
        throw new LeaseLost();
      }
      const url = urls[i]!;
      const room = Math.min(config.crawl.maxPageBytes, config.crawl.maxBytes - bytes);
      if (room <= 0) {
        await this.tx(tenantId, (tx) =>
          this.note(tx, id, null, `The crawl reached its limit of ${config.crawl.maxBytes} bytes; ${urls.length - i} pages were not crawled.`),
        );
        break;
      }
      await this.tx(tenantId, (tx) => this.update(tx, id, 'pages_done = pages_done', [], `AND pages_done = ${i}`));
      let input: InlineSource;
      let size: number;
      try {
        const page = await fetchText(url, this.outbound, { maxBytes: room, cut: true, sameOrigin: true, robots: rules });
        const kind = page.contentType.includes('html') ? 'html' : page.contentType === 'text/markdown' ? 'markdown' : 'text';
        input = { kind, content: page.body, url: page.url, externalId: url };
        size = Buffer.byteLength(page.body);
      } catch (err) {
        if (!fetchFailure(err)) throw err;
        await this.tx(tenantId, async (tx) => {
          await this.update(tx, id, 'pages_done = pages_done + 1, pages_failed = pages_failed + 1', [], `AND pages_done = ${i}`);
          await this.note(tx, id, url, (err as Error).message);
        });
        continue;
      }
      try {
        await writeSources(
          { db: this.deps.db, audit: this.deps.audit, vectors: this.vectors, quota: config.knowledgeQuota },
          tenantId,
          ctx,
          [{ input, kind: 'sitemap' }],
          (tx) => this.update(tx, id, 'pages_done = pages_done + 1, bytes = bytes + $4::bigint', [size], `AND pages_done = ${i}`),
        );
      } catch (err) {
        if (err instanceof DomainError && err.code === 'quota_exceeded') {
          return this.finish(tenantId, id, 'failed', `Stopped at ${url}: ${err.message}`);
        }
        // A page that cannot be read (HTML nested too deep) fails alone, like one that cannot be fetched.
        if (!(err instanceof DomainError && err.code === 'invalid_input')) throw err;
        await this.tx(tenantId, async (tx) => {
          await this.update(tx, id, 'pages_done = pages_done + 1, pages_failed = pages_failed + 1', [], `AND pages_done = ${i}`);
          await this.note(tx, id, url, err.message);
        });
        continue;
      }
      bytes += size;
    }
    await this.finish(tenantId, id, 'done', null);
    job = (await this.tx(tenantId, (tx) => getCrawlJob(tx, id)))!;
    if (job.pages_done > job.pages_failed) await this.deps.embedPending?.(tenantId, job.request_id);
  }
}
