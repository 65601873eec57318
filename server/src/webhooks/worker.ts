// The delivery worker. It claims due deliveries of any tenant under row leases (holder + lease_until,
// taken with FOR UPDATE SKIP LOCKED, so instances never claim the same row), reads each one's event and
// endpoint secrets in the tenant's transaction, POSTs it through outbound/ (public addresses only in
// production, 10 s, redirects refused) with Standard Webhooks headers, and records the attempt if it
// still holds the lease. A failure is tried again on the retry schedule (with ±10% jitter) until the
// schedule ends. When an endpoint does not answer at all, its deliveries not yet tried wait up to a
// minute (released at its first success), so a dead endpoint does not fill every slot. An endpoint that
// has failed for five days is disabled and the tenant's owners are emailed. A process that dies
// mid-delivery leaves its lease to lapse and another instance retries with the same webhook-id:
// delivery is at least once, and receivers deduplicate on that id.
import { inSpan } from '../telemetry/spans.js';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import { WEBHOOK_PREVIOUS_SECRET, WEBHOOK_SECRET } from '../crypto/sealed-columns.js';
import type { Db, Tx } from '../db/types.js';
import { asWorker } from '../jobs/lease.js';
import { OutboundError, type Outbound } from '../outbound/outbound.js';
import { mailFailure, type Mailer } from '../people/mailer.js';
import { webhookSignal } from './outbox.js';
import { signatureHeader } from './signing.js';
import * as store from './store.js';

/** How long, at most, an unanswering endpoint's untried deliveries wait before they are tried anyway. */
const HOLD_BACK_MS = 60_000;

/** Five days of nothing but failures disables an endpoint. */
export const DISABLE_AFTER_MS = 5 * 24 * 3600 * 1000;

export interface WebhookWorkerDeps {
  db: Db;
  keyring: Keyring;
  outbound: Outbound;
  audit: AuditLog;
  mailer: Mailer;
  logger: Logger;
  /** This instance's lease holder id. */
  holder: string;
  /** Seconds between attempts (config.webhookRetrySchedule). */
  schedule: readonly number[];
  /** The clock, in ms since the epoch; tests pass a fake one to live through days of retries. */
  now?: () => number;
  /** Per attempt; 10 s unless a test wants a shorter wait. */
  timeoutMs?: number;
  /** Deliveries in flight at once on this instance. */
  concurrency?: number;
}

interface Attempt {
  at: number;
  responseCode: number | null;
  latencyMs: number;
  error: string | null;
}

export class WebhookWorker {
  private running: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly post: typeof fetch;
  private readonly onSignal = () => this.kick();

  constructor(private readonly deps: WebhookWorkerDeps) {
    this.now = deps.now ?? Date.now;
    this.timeoutMs = deps.timeoutMs ?? 10_000;
    this.post = deps.outbound.fetcher({
      timeoutMs: this.timeoutMs,
      connectTimeoutMs: Math.min(5000, this.timeoutMs),
      redirect: 'error',
      maxRedirects: 0,
      maxBytes: 64 * 1024,
    });
  }

  /** Listens for commits that enqueued deliveries, frees leases a dead process left behind (embedded database only), and drains. */
  async start(): Promise<void> {
    // The embedded database serves one process (a lock file guards it): any lease in it is a dead process's.
    if (this.deps.db.kind === 'pglite') await asWorker(this.deps.db, (tx) => store.releaseAllLeases(tx));
    webhookSignal.on('enqueued', this.onSignal);
    this.kick();
  }

  /** Starts draining in the background (a no-op when already draining, which then checks again). */
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
      } while (this.again && !this.stopping);
    })()
      .catch((err) => this.deps.logger.warn({ err: { message: (err as Error).message } }, 'webhook worker failed'))
      .finally(() => {
        this.running = null;
      });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    webhookSignal.off('enqueued', this.onSignal);
    await this.idle();
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Delivers everything due until nothing is; returns how many attempts it made. Up to `concurrency`
   * deliveries are in flight; a free slot is filled at once, so an endpoint that hangs holds only its own
   * slots, not everyone's.
   */
  async drain(): Promise<number> {
    const limit = this.deps.concurrency ?? 16;
    const leaseSeconds = this.timeoutMs / 1000 + 20;
    const running = new Set<Promise<void>>();
    let inFlight = 0;
    let n = 0;
    while (!this.stopping) {
      const free = limit - inFlight;
      const claimed =
        free > 0 ? await asWorker(this.deps.db, (tx) => store.claimDue(tx, this.deps.holder, leaseSeconds, new Date(this.now()), free)) : [];
      if (!claimed.length) {
        if (!running.size) break;
        await Promise.race(running);
        continue;
      }
      n += claimed.length;
      // One transaction to read a group and one to record it, not two per delivery; grouped by endpoint,
      // so a slow endpoint delays the recording of its own deliveries only.
      const groups = new Map<string, { tenantId: string; ids: string[] }>();
      for (const c of claimed) {
        const g = groups.get(c.endpoint_id) ?? { tenantId: c.tenant_id, ids: [] };
        g.ids.push(c.id);
        groups.set(c.endpoint_id, g);
      }
      for (const { tenantId, ids } of groups.values()) {
        inFlight += ids.length;
        const p: Promise<void> = this.deliverBatch(tenantId, ids)
          .catch((err) => this.deps.logger.warn({ tenantId, err: { message: (err as Error).message } }, 'webhook deliveries failed'))
          .finally(() => {
            inFlight -= ids.length;
            running.delete(p);
          });
        running.add(p);
      }
    }
    await Promise.all(running);
    return n;
  }

  private async deliverBatch(tenantId: string, ids: string[]): Promise<void> {
    const { db, keyring, holder } = this.deps;
    const work = await db.withTenant(tenantId, { requestId: null }, async (tx) => {
      const secrets = new Map<string, string[]>();
      const out: (store.Work & { secrets: string[] })[] = [];
      for (const w of await store.workFor(tx, ids, holder)) {
        const ep = w.endpoint;
        if (!secrets.has(ep.id)) {
          const list = [await keyring.openString(tx, tenantId, ep.secret_sealed, WEBHOOK_SECRET.context({ id: ep.id }))];
          if (ep.previous_secret_sealed && ep.previous_secret_expires_at && ep.previous_secret_expires_at.getTime() > this.now()) {
            list.push(await keyring.openString(tx, tenantId, ep.previous_secret_sealed, WEBHOOK_PREVIOUS_SECRET.context({ id: ep.id })));
          }
          secrets.set(ep.id, list);
        }
        out.push({ ...w, secrets: secrets.get(ep.id)! });
      }
      return out;
    });
    if (!work.length) return;
    const outcomes = await Promise.all(
      work.map((w) =>
        // One span per delivery attempt: ids, status and time; never the URL (it may carry a token) or the body.
        // The HTTP client span below it names the endpoint by its origin only (telemetry/scrub.ts).
        inSpan(
          'webhook.delivery',
          {
            'parley.tenant_id': tenantId,
            'parley.webhook.delivery_id': w.id,
            'parley.webhook.event_id': w.event_id,
            'parley.webhook.endpoint_id': w.endpoint.id,
            'parley.webhook.attempt': w.attempts + 1,
          },
          async (span) => {
            const o = await this.attempt(w);
            span.setAttributes({
              'parley.webhook.outcome': o.error === null ? 'delivered' : 'failed',
              'parley.webhook.latency_ms': o.latencyMs,
              ...(o.responseCode !== null ? { 'http.response.status_code': o.responseCode } : {}),
            });
            return o;
          },
        ),
      ),
    );
    const notices = await db.withTenant(tenantId, { requestId: null }, async (tx) => {
      const out: { owners: string[]; host: string }[] = [];
      for (const [i, w] of work.entries()) {
        const notice = await this.record(tx, tenantId, w, outcomes[i]!);
        if (notice) out.push(notice);
      }
      return out;
    });
    // After the commit: a slow mail server holds no transaction.
    for (const notice of notices) await this.notifyOwners(notice);
  }

  /** One POST; never throws: a failure is an outcome. */
  private async attempt(work: store.Work & { secrets: string[] }): Promise<Attempt> {
    const at = this.now();
    let responseCode: number | null = null;
    let error: string | null = null;
    const started = performance.now();
    if (!work.endpoint.enabled) error = 'The endpoint is disabled.';
    else {
      const timestamp = Math.floor(at / 1000);
      try {
        const res = await this.post(work.endpoint.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Parley-Webhooks/1',
            'webhook-id': work.event_id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signatureHeader(work.secrets, work.event_id, timestamp, work.body),
          },
          body: work.body,
        });
        responseCode = res.status;
        await res.arrayBuffer().catch(() => undefined);
        if (res.status < 200 || res.status > 299) error = `The endpoint answered HTTP ${res.status}.`;
      } catch (err) {
        // outbound/ messages name the URL's problem, never a resolved address; other errors only by code.
        error = err instanceof OutboundError ? err.message : `The request failed (${(err as NodeJS.ErrnoException).code ?? 'network error'}).`;
      }
    }
    return { at, responseCode, latencyMs: Math.round(performance.now() - started), error };
  }

  /** Records the attempt (if this holder still holds the delivery); disables an endpoint failing for five days. */
  private async record(tx: Tx, tenantId: string, work: store.Work, o: Attempt): Promise<{ owners: string[]; host: string } | null> {
    const { schedule } = this.deps;
    const attempt = work.attempts + 1;
    const ok = o.error === null;
    const gaveUp = !ok && (attempt > schedule.length || !work.endpoint.enabled);
    const delay = ok || gaveUp ? null : schedule[attempt - 1]! * 1000 * (0.9 + Math.random() * 0.2);
    const recorded = await store.recordAttempt(tx, tenantId, work.id, this.deps.holder, {
      at: new Date(o.at),
      responseCode: o.responseCode,
      latencyMs: o.latencyMs,
      error: o.error,
      status: ok ? 'succeeded' : gaveUp ? 'failed' : 'pending',
      nextAttemptAt: delay === null ? null : new Date(o.at + delay),
    });
    if (!recorded || !work.endpoint.enabled) return null;
    if (ok && work.endpoint.failing_since) await store.release(tx, work.endpoint.id, new Date(o.at));
    // No answer at all (timeout, refused): the endpoint's untried deliveries wait a little rather than each
    // holding a slot for the full timeout. An HTTP error is an answer, maybe about this event only: the
    // others still go.
    if (delay !== null && o.responseCode === null) await store.holdBack(tx, work.endpoint.id, new Date(o.at + Math.min(delay, HOLD_BACK_MS)));
    const failingSince = await store.markEndpointHealth(tx, work.endpoint.id, ok, new Date(o.at));
    if (ok || !failingSince || o.at - failingSince.getTime() < DISABLE_AFTER_MS) return null;
    if (!(await store.disableEndpoint(tx, work.endpoint.id, 'Every delivery failed for five days.'))) return null;
    const stopped = await store.failPending(tx, work.endpoint.id, 'The endpoint was disabled after failing for five days.');
    await this.deps.audit.append(tx, {
      tenantId,
      requestId: null,
      actor: { type: 'system', id: null },
      action: 'webhook.endpoint_disable',
      target: { type: 'webhook_endpoint', id: work.endpoint.id },
      metadata: { failingSince: failingSince.toISOString(), pendingStopped: stopped },
    });
    return { owners: await store.ownerEmails(tx), host: new URL(work.endpoint.url).host };
  }

  private async notifyOwners(notice: { owners: string[]; host: string }): Promise<void> {
    for (const to of notice.owners) {
      await this.deps.mailer
        .send({
          to,
          subject: 'A Parley webhook endpoint was disabled',
          text: [
            `Every delivery to your webhook endpoint at ${notice.host} has failed for five days, so Parley stopped sending to it.`,
            '',
            'Fix the endpoint, enable it again in the console (Webhooks), then replay the failed deliveries.',
          ].join('\n'),
        })
        .catch((err: unknown) => this.deps.logger.warn({ mail: mailFailure(err) }, 'webhook disable email failed'));
    }
  }
}
