// The audit integrator: gives sequenced entries (committed by appends, without an index) their indexes,
// extends each log's Merkle tree and signs checkpoints, in batches. It runs under the `audit-integrate`
// lease, so of N instances one integrates at a time and a dead holder's work resumes elsewhere once its
// lease lapses. Correctness does not rest on the lease: pending rows are claimed with SKIP LOCKED and each
// log's head is locked (in tenant order, so two integrators cannot deadlock), so a second integrator only
// ever integrates other rows, after the first, with the next indexes.
//
// It is kicked after every commit that sequenced entries (low lag in a single process) and polled on an
// interval by `serve` (entries sequenced on instances that do not hold the lease).
import type { Logger } from 'pino';
import type { ParleyDb, Tx } from '../db/index.js';
import { newHolderId, runLeased, type LeasedRun } from '../jobs/lease.js';
import type { AuditLog, PendingRow } from './log.js';
import { AuditTampered } from './vouch.js';

export const INTEGRATE_JOB = 'audit-integrate';
const DEFAULT_BATCH = 500;
const DEFAULT_TTL_MS = 15_000;
/** A kick that found the lease held elsewhere tries again this soon (the holder may just be finishing). */
const RETRY_MS = 100;
const RETRIES = 5;
/** How long a run lets entries gather between batches that were not full: bounds the lag it adds. */
const LINGER_MS = 20;
/**
 * On the embedded database, kicks gather before a run starts: there a run (its lease, its batch, the
 * lease's release) costs about what the append that kicked it did, so a run per commit doubled a burst's
 * work. A run starts once this many kicks have come or this long after the first, whichever is sooner.
 * The count bounds a batch where busy writers make the timer fire late.
 */
const GATHER_KICKS = 16;
const GATHER_MS = 50;

const PENDING_COLUMNS =
  'e.id, e.tenant_id, e.ts, e.request_id, e.actor_type, e.actor_id, e.action, e.target_type, e.target_id, e.policy_version, e.source, e.reason, e.metadata';

export interface BatchResult {
  /** Entries integrated. */
  integrated: number;
  /** Seconds each waited between its append and its integration. */
  delays: number[];
  /** Logs not integrated because their head failed the signer's check (vouch.ts): held for a while. */
  held: AuditTampered[];
}

/**
 * Locks up to `limit` pending entries (of one log, or of all), oldest sequence first; with `skipLocked`,
 * passing over those another integrator holds, else waiting for them.
 */
export async function claimPending(
  tx: Tx,
  limit: number | null,
  tenantId: string | null,
  skipLocked: boolean,
  held: readonly string[] = [],
): Promise<PendingRow[]> {
  const { rows } = await tx.query<PendingRow>(
    `SELECT ${PENDING_COLUMNS} FROM audit_entries e
      WHERE e.seq IS NULL AND ($2::uuid IS NULL OR e.tenant_id = $2) AND NOT (e.tenant_id = ANY($3::uuid[]))
        AND EXISTS (SELECT 1 FROM audit_heads h WHERE h.tenant_id = e.tenant_id)
      ORDER BY e.id LIMIT $1 FOR UPDATE OF e${skipLocked ? ' SKIP LOCKED' : ''}`,
    [limit, tenantId, held],
  );
  return rows;
}

/**
 * One transaction: claims up to `limit` pending entries (oldest sequence first, skipping those another
 * integrator holds and those of logs held as tampered) and integrates them log by log. A log whose head fails
 * the signer's check is held and left pending: the others go on.
 */
export async function integrateBatch(db: ParleyDb, audit: AuditLog, limit = DEFAULT_BATCH, tenantId: string | null = null): Promise<BatchResult> {
  return db.withPlatform(
    { requestId: null, audit: false, reason: 'audit integration: indexes, tree and checkpoints of entries already written' },
    async (tx) => {
      const rows = await claimPending(tx, limit, tenantId, true, audit.heldLogs());
      const byTenant = new Map<string, PendingRow[]>();
      for (const r of rows) {
        const list = byTenant.get(r.tenant_id);
        if (list) list.push(r);
        else byTenant.set(r.tenant_id, [r]);
      }
      const held: AuditTampered[] = [];
      for (const tenantId of [...byTenant.keys()].sort()) {
        try {
          // The check comes before the log's first write (vouch.ts), so a refusal leaves this transaction clean.
          await audit.integrate(tx, tenantId, byTenant.get(tenantId)!);
        } catch (err) {
          if (!(err instanceof AuditTampered)) throw err;
          audit.hold(err);
          held.push(err);
          byTenant.delete(tenantId);
        }
      }
      const done = [...byTenant.values()].flat();
      const now = Date.now();
      return { integrated: done.length, delays: done.map((r) => Math.max(0, (now - r.ts.getTime()) / 1000)), held };
    },
  );
}

/**
 * Committed entries not integrated yet (of logs that exist; with `upToId`, sequenced no later than it), the
 * age of the oldest, and the newest sequence id so far.
 */
export async function pendingEntries(
  db: ParleyDb,
  upToId: number | null = null,
  held: readonly string[] = [],
): Promise<{ count: number; oldestSeconds: number; lastId: number }> {
  return db.withPlatform({ requestId: null, audit: false, readOnly: true, reason: 'audit integration backlog: counts only' }, async (tx) => {
    const { rows } = await tx.query<{ n: number; age: number | null; last: number | null }>(
      `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM now() - min(e.ts))::float8 AS age,
              (SELECT max(id) FROM audit_entries) AS last
         FROM audit_entries e
        WHERE e.seq IS NULL AND ($1::bigint IS NULL OR e.id <= $1) AND NOT (e.tenant_id = ANY($2::uuid[]))
          AND EXISTS (SELECT 1 FROM audit_heads h WHERE h.tenant_id = e.tenant_id)`,
      [upToId, held],
    );
    const r = rows[0];
    return { count: r?.n ?? 0, oldestSeconds: Math.max(0, Number(r?.age ?? 0)), lastId: Number(r?.last ?? 0) };
  });
}

export interface IntegratorOptions {
  holder?: string;
  batch?: number;
  ttlMs?: number;
  logger?: Pick<Logger, 'warn'>;
}

/** How often `serve` looks for entries sequenced elsewhere: the bound on integration lag across instances. */
export const INTEGRATE_POLL_MS = 1000;

export class AuditIntegrator {
  readonly holder: string;
  private readonly batch: number;
  private readonly ttlMs: number;
  private running: Promise<unknown> | null = null;
  private again = false;
  private retry: NodeJS.Timeout | null = null;
  private gathered = 0;
  private gathering: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly observers: ((delays: number[]) => void)[] = [];
  /** Where failed runs are reported (serve sets its logger). */
  logger: Pick<Logger, 'warn'> | null;

  constructor(
    private readonly db: ParleyDb,
    private readonly audit: AuditLog,
    opts: IntegratorOptions = {},
  ) {
    this.holder = opts.holder ?? newHolderId();
    this.batch = opts.batch ?? DEFAULT_BATCH;
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.logger = opts.logger ?? null;
  }

  /** Called with the delays of every batch this process integrates (the metrics histogram). */
  observe(fn: (delays: number[]) => void): void {
    this.observers.push(fn);
  }

  private batchOnce = async (): Promise<number> => {
    const r = await integrateBatch(this.db, this.audit, this.batch);
    if (r.integrated) for (const o of this.observers) o(r.delays);
    for (const err of r.held) this.logger?.warn({ tenantId: err.tenantId, err: { message: err.message } }, 'audit log held: not integrated');
    return r.integrated;
  };

  /**
   * Under the lease: integrates batches until none is pending (kicks while it runs extend the run).
   * `{ ran: false }` when another holder has the lease.
   */
  runOnce(signal?: AbortSignal): Promise<LeasedRun<number>> {
    return runLeased(
      this.db,
      { name: INTEGRATE_JOB, holder: this.holder, ttlMs: this.ttlMs, ignoreSchedule: true, ...(signal ? { signal } : {}) },
      async (lease) => {
        let total = 0;
        for (;;) {
          this.again = false;
          const n = await this.batchOnce();
          total += n;
          // Stopping does not cut a run short: what this process sequenced before it stopped is integrated.
          if (lease.signal.aborted) break;
          if (n < this.batch && !this.again) break;
          // More is coming but this batch was not full: on a server, let it gather for a moment (group
          // commit) rather than spend a transaction, its round trips and the server's CPU on every entry or
          // two while writers are busy. The embedded database gathers its kicks instead (kick), so a run there
          // goes round again only once they have gathered.
          if (n < this.batch && this.db.kind === 'postgres') await new Promise((r) => setTimeout(r, LINGER_MS));
        }
        return total;
      },
    );
  }

  /**
   * Starts a leased run unless one is running in this process (which then goes round once more); on the
   * embedded database, once kicks have gathered (GATHER_KICKS, GATHER_MS).
   */
  kick = (): void => {
    if (this.db.kind === 'postgres') this.start(0);
    else if (++this.gathered >= GATHER_KICKS) this.flush();
    else if (!this.gathering) {
      this.gathering = setTimeout(this.flush, GATHER_MS);
      this.gathering.unref();
    }
  };

  /** Starts a run for the kicks gathered so far. */
  private flush = (): void => {
    if (this.gathering) clearTimeout(this.gathering);
    this.gathering = null;
    this.gathered = 0;
    this.start(0);
  };

  private start(attempt: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const run = this.runOnce()
      .then((r) => {
        // Held elsewhere: that holder may have read its last batch before our entries committed, so look
        // again shortly, a few times; past that, the poll (or the next kick) picks them up.
        if (!r.ran && !this.stopped && !this.retry && attempt < RETRIES) {
          this.retry = setTimeout(() => {
            this.retry = null;
            this.start(attempt + 1);
          }, RETRY_MS);
          this.retry.unref();
        }
      })
      .catch((err) => this.logger?.warn({ err: { message: (err as Error).message } }, 'audit integration failed'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) this.start(0);
      });
    this.running = run;
  }

  /**
   * Integrates everything sequenced so far, now, lease or not (tests, `audit verify --integrate`): returns
   * once no entry committed before the call is pending, waiting for another integrator's claimed rows.
   */
  async integrateNow(timeoutMs = 30_000): Promise<number> {
    const until = Date.now() + timeoutMs;
    const { lastId } = await pendingEntries(this.db);
    let total = 0;
    for (;;) {
      const n = await this.batchOnce();
      total += n;
      if (n === this.batch) continue;
      // A log held as tampered stays pending until it is mended: the rest is what this waits for.
      if ((await pendingEntries(this.db, lastId, this.audit.heldLogs())).count === 0) return total;
      if (Date.now() > until) throw new Error('audit entries are still pending: an integrator holds them');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Read-your-writes for a log's readers (its entries, checkpoint and proofs): integrates what the tenant
   * has pending now, waiting up to `timeoutMs` for entries another integrator holds; past that, readers
   * see the log as integrated so far.
   */
  async catchUp(tenantId: string, timeoutMs = 3000): Promise<void> {
    if (this.audit.heldLogs().includes(tenantId)) return;
    const until = Date.now() + timeoutMs;
    for (;;) {
      const pending = await this.db.withPlatform(
        { requestId: null, audit: false, readOnly: true, reason: 'audit integration backlog of one log: counts only' },
        async (tx) =>
          (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND seq IS NULL', [tenantId])).rows[0]!.n,
      );
      if (pending === 0) return;
      const r = await integrateBatch(this.db, this.audit, this.batch, tenantId);
      if (r.integrated) for (const o of this.observers) o(r.delays);
      if (r.integrated >= pending || Date.now() >= until) return;
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  /** Stops kicks and waits for the run in flight to integrate what it can see (its lease is given back). */
  async stop(): Promise<void> {
    // What has gathered is integrated before stopping, as a run in flight finishes.
    if (this.gathered && !this.stopped) this.flush();
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    while (this.running) await this.running;
  }
}
