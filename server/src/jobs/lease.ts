// Leases for background work (DESIGN: "background work takes leases so each job runs once and a dead
// instance's work resumes elsewhere"). A lease is one row of job_leases, taken by an atomic upsert
// that only succeeds when the previous lease has lapsed; the database clock decides, so instances
// need no clock agreement. A holder renews while it works; one that dies stops renewing and, after
// `ttlMs`, another instance takes the job over. `everyMs` spaces scheduled runs across the fleet:
// once a run finishes, nobody runs the job again until `next_run_at`.
//
// Leases hold no tenant data; they are taken as parley_platform without a platform audit entry each
// time (like checkpoint signing), and the work done under them writes its own audit entries.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db, Tx } from '../db/types.js';

export interface LeaseRef {
  /** The job, e.g. `retention-sweep`. */
  name: string;
  /** Who holds it: one id per instance (see newHolderId). */
  holder: string;
}

export interface LeaseOptions extends LeaseRef {
  /** How long the lease lasts without renewal. */
  ttlMs: number;
}

/** An id for this instance's leases: host, process and a random part (two runtimes in one process differ). */
export function newHolderId(): string {
  return `${hostname().slice(0, 100)}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Housekeeping as the platform role: lease rows and job metadata only, never tenant content. */
export function asWorker<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.withPlatform({ requestId: null, audit: false, reason: 'job lease bookkeeping: no tenant content' }, fn);
}

const secs = (ms: number) => Math.max(ms, 1) / 1000;

/**
 * Takes the lease if it is free (never taken, released, or lapsed) and, unless `ignoreSchedule`, the
 * job is due. True when this holder now has it.
 */
export async function acquireLease(db: Db, o: LeaseOptions & { ignoreSchedule?: boolean }): Promise<boolean> {
  // Each of these is its transaction's one statement, sent with COMMIT: one round trip.
  return asWorker(db, async (tx) => {
    const { rows } = await tx.last(
      `INSERT INTO job_leases AS l (name, holder, lease_until) VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until
        WHERE l.lease_until < clock_timestamp() AND ($4 OR l.next_run_at IS NULL OR l.next_run_at <= clock_timestamp())
       RETURNING name`,
      [o.name, o.holder, secs(o.ttlMs), !!o.ignoreSchedule],
    );
    return rows.length === 1;
  });
}

/** Extends the lease; false when this holder lost it (it lapsed and someone else took it). */
export async function renewLease(db: Db, o: LeaseOptions): Promise<boolean> {
  return asWorker(db, async (tx) => {
    const { rows } = await tx.last(
      `UPDATE job_leases SET lease_until = clock_timestamp() + make_interval(secs => $3)
        WHERE name = $1 AND holder = $2 AND lease_until >= clock_timestamp() RETURNING name`,
      [o.name, o.holder, secs(o.ttlMs)],
    );
    return rows.length === 1;
  });
}

/** Gives the lease back, free at once (not at a clock reading a coarse clock may repeat); with `nextRunInMs`, the job is not due again before then. */
export async function releaseLease(db: Db, o: LeaseRef & { nextRunInMs?: number }): Promise<void> {
  await asWorker(db, async (tx) =>
    tx.defer(
      `UPDATE job_leases SET lease_until = '-infinity', finished_at = clock_timestamp(),
              next_run_at = CASE WHEN $3::float8 IS NULL THEN next_run_at ELSE clock_timestamp() + make_interval(secs => $3::float8) END
        WHERE name = $1 AND holder = $2`,
      [o.name, o.holder, o.nextRunInMs === undefined ? null : secs(o.nextRunInMs)],
    ),
  );
}

export interface LeaseHandle {
  /** Aborted when the lease was lost: stop between batches. */
  signal: AbortSignal;
}

export type LeasedRun<T> = { ran: true; result: T } | { ran: false };

/**
 * Runs `fn` if this holder gets the lease, renewing it every ttl/3 while `fn` runs, and releasing it
 * after (due again in `everyMs` when given). `{ ran: false }` when another holder has it or it is not due.
 * With `signal` aborted, nothing new is started and the lease is given back when `fn` returns.
 */
export async function runLeased<T>(
  db: Db,
  o: LeaseOptions & { everyMs?: number; ignoreSchedule?: boolean; signal?: AbortSignal },
  fn: (lease: LeaseHandle) => Promise<T>,
): Promise<LeasedRun<T>> {
  if (o.signal?.aborted || !(await acquireLease(db, o))) return { ran: false };
  const lost = new AbortController();
  let renewing: Promise<unknown> = Promise.resolve();
  const heartbeat = setInterval(
    () => {
      renewing = renewLease(db, o).then(
        (ok) => ok || lost.abort(new Error(`lease ${o.name} lost`)),
        () => undefined, // a failed renewal is retried at the next beat; the lease lapses if they keep failing
      );
    },
    Math.max(o.ttlMs / 3, 50),
  );
  heartbeat.unref();
  try {
    // The caller's signal (the server shutting down) stops the work the same way: between batches.
    return { ran: true, result: await fn({ signal: o.signal ? AbortSignal.any([lost.signal, o.signal]) : lost.signal }) };
  } finally {
    clearInterval(heartbeat);
    await renewing;
    if (!lost.signal.aborted)
      await releaseLease(db, { name: o.name, holder: o.holder, ...(o.everyMs !== undefined ? { nextRunInMs: o.everyMs } : {}) });
  }
}
