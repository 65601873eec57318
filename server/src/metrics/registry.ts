// Prometheus metrics of one app (its own registry, so apps in one process do not mix). Labels are
// bounded: methods from a fixed list, routes as the contract's path templates (never raw URLs), status
// classes, and at most `tenantLabels` tenant ids before the rest count as `other`.
import { OPERATIONS, findOperation } from '@parley/protocol/contract';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Answer } from '../conversations/turn.js';
import type { Db } from '../db/index.js';
import { openSseStreams } from '../http/sse.js';
import { readLags } from './store.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

// Finding a request's template tries the contract's paths of its method in turn: the busiest paths repeat, so
// their templates are kept (short paths only, a bounded number of them).
const TEMPLATES_KEPT = 1_000;
const TEMPLATE_KEPT_PATH = 200;
const templates = new Map<string, string>();

/** The contract's path template of a request, or `unmatched` (unknown paths and methods). */
export function routeTemplate(method: string, path: string): string {
  if (path.length > TEMPLATE_KEPT_PATH) return findOperation(OPERATIONS, method, path)?.path ?? 'unmatched';
  const key = `${method} ${path}`;
  let template = templates.get(key);
  if (template === undefined) {
    template = findOperation(OPERATIONS, method, path)?.path ?? 'unmatched';
    // Bounded like the analysers' memos (knowledge/memo.ts): forgotten all at once when full.
    if (templates.size >= TEMPLATES_KEPT) templates.clear();
    templates.set(key, template);
  }
  return template;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly tenants = new Set<string>();
  private readonly requests: Counter<'method' | 'route' | 'status_class'>;
  private readonly errors: Counter<'method' | 'route' | 'status_class'>;
  private readonly duration: Histogram<'method' | 'route' | 'status_class'>;
  private readonly confidence: Histogram<'tenant'>;
  private readonly answers: Counter<'tenant' | 'outcome'>;
  private readonly integrationDelay: Histogram;

  constructor(
    private readonly db: Db,
    private readonly tenantLabels: number,
  ) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'parley_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status class.',
      labelNames: ['method', 'route', 'status_class'],
      registers,
    });
    this.errors = new Counter({
      name: 'parley_http_request_errors_total',
      help: 'HTTP requests answered with a 5xx status.',
      labelNames: ['method', 'route', 'status_class'],
      registers,
    });
    this.duration = new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (to the end of the response; streams last as long as they stay open).',
      labelNames: ['method', 'route', 'status_class'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    new Gauge({
      name: 'parley_sse_streams_open',
      help: 'Server-sent event streams open in this process.',
      registers,
      collect() {
        this.set(openSseStreams());
      },
    });
    new Gauge({
      name: 'parley_db_pool_connections',
      help: 'PostgreSQL pool connections by pool and state (total, idle, waiting clients); absent on the embedded database.',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        this.reset();
        for (const p of db.pools()) {
          this.set({ pool: p.pool, state: 'total' }, p.total);
          this.set({ pool: p.pool, state: 'idle' }, p.idle);
          this.set({ pool: p.pool, state: 'waiting' }, p.waiting);
        }
      },
    });
    // One query serves both lag gauges; whichever collects first in a scrape starts it.
    let lags: ReturnType<typeof readLags> | null = null;
    const scrapeLags = () => {
      lags ??= readLags(this.db).finally(() => setImmediate(() => (lags = null)));
      return lags;
    };
    new Gauge({
      name: 'parley_webhook_outbox_lag_seconds',
      help: 'Age of the oldest pending webhook delivery (0 when none is pending).',
      registers,
      async collect() {
        this.set((await scrapeLags()).outboxSeconds);
      },
    });
    new Gauge({
      name: 'parley_audit_integration_lag_seconds',
      help: 'Age of the oldest audit entry sequenced but not yet integrated, i.e. without an index or proofs (0 when none).',
      registers,
      async collect() {
        this.set((await scrapeLags()).auditSeconds);
      },
    });
    new Gauge({
      name: 'parley_audit_pending_entries',
      help: 'Audit entries sequenced (committed with their action) and waiting for the integrator.',
      registers,
      async collect() {
        this.set((await scrapeLags()).auditPending);
      },
    });
    new Gauge({
      name: 'parley_audit_checkpoint_lag_seconds',
      help: 'Age of the oldest integrated audit entry not yet covered by a signed checkpoint (0 when all are).',
      registers,
      async collect() {
        this.set((await scrapeLags()).checkpointSeconds);
      },
    });
    this.integrationDelay = new Histogram({
      name: 'parley_audit_integration_delay_seconds',
      help: 'Time from an audit entry being appended to its integration, for entries this process integrated.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.confidence = new Histogram({
      name: 'parley_answer_confidence',
      help: "The assistant's confidence in its answers, by tenant (the first tenants seen; the rest as `other`).",
      labelNames: ['tenant'],
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      registers,
    });
    this.answers = new Counter({
      name: 'parley_answers_total',
      help: 'Assistant answers by tenant and outcome (answered or handoff): the handoff rate is handoff / all.',
      labelNames: ['tenant', 'outcome'],
      registers,
    });
  }

  /** Express middleware counting each request when its response ends. */
  readonly http = (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const method = METHODS.has(req.method) ? req.method : 'OTHER';
      const labels = { method, route: routeTemplate(req.method, pathOf(req)), status_class: `${Math.floor(res.statusCode / 100)}xx` };
      this.requests.inc(labels);
      if (res.statusCode >= 500) this.errors.inc(labels);
      this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };

  /** Records an answer's confidence and whether it was handed to a person. */
  readonly answered = (tenantId: string, answer: Answer): void => {
    const tenant = this.tenantLabel(tenantId);
    this.confidence.observe({ tenant }, answer.confidence);
    this.answers.inc({ tenant, outcome: answer.handoff ? 'handoff' : 'answered' });
  };

  /** Seconds each entry of an integrated batch waited (AuditIntegrator.observe). */
  readonly auditIntegrated = (delays: number[]): void => {
    for (const d of delays) this.integrationDelay.observe(d);
  };

  private tenantLabel(tenantId: string): string {
    if (this.tenants.has(tenantId)) return tenantId;
    if (this.tenants.size >= this.tenantLabels) return 'other';
    this.tenants.add(tenantId);
    return tenantId;
  }
}

/** The path as the client sent it, without the query (routers rewrite req.path to their own mount). */
function pathOf(req: Request): string {
  const url = req.originalUrl;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
