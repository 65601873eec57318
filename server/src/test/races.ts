// Races between a request made with a member's authority and that member's removal or demotion, over the
// real app (people/authority.test.ts, people/authority-routes.test.ts): pausing a request between its
// authentication and its write, and holding its transaction open while the change runs.
import type { Db, TxContext } from '../db/types.js';
import type { TestApp } from './app.js';
import { holdOpen } from './db.js';

/** A count of the rows of `sql`, as the database owner (no tenant, no row-level security). */
export const countRows = async (t: TestApp, sql: string, params: unknown[] = []): Promise<number> =>
  Number((await t.runtime.db.withOwner((tx) => tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) x`, params))).rows[0]!.n);

/** Until `check` holds (every 20 ms, for 10 s at most). */
export async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Backends of the test database waiting for a lock, whose statement matches `like`. */
export const waitingOn = (t: TestApp, waitEvents: string[], like: string): Promise<number> =>
  countRows(
    t,
    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = ANY($1) AND query LIKE $2",
    [waitEvents, like],
  );

/** Whether `p` has settled (after the promise jobs already queued). */
export const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

/** How many tenant transactions a request opens before its route's: a console session's authentication opens one; a key's opens none. */
export const SKIP = { session: 1, key: 0 } as const;

/** A tenant transaction's opener: withTenant, withTenantRead. */
type Opener = (this: unknown, id: string, ctx: TxContext, ...rest: unknown[]) => Promise<unknown>;

/**
 * Holds the next tenant transaction of one request in `tenantId` before it opens, until released: the
 * moment between a request's authentication and its write. The request is the first to open a tenant
 * transaction with a request id once this is called; its first `skip` transactions go on (a console
 * session's authentication opens one; a key's opens none). Known by its request id alone, so it holds the
 * same transaction whatever context the route gives it. With `reads`, its read transactions (withTenantRead)
 * count and are held too: the moment between a write's commit and the read of what it wrote.
 */
export function pauseRequest(t: TestApp, tenantId: string, skip: number, { reads = false }: { reads?: boolean } = {}) {
  const db = t.runtime.db as { withTenant: Db['withTenant']; withTenantRead: Db['withTenantRead'] };
  const original = { withTenant: db.withTenant, withTenantRead: db.withTenantRead };
  const put = () => Object.assign(db, original);
  let request: string | null = null;
  let seen = 0;
  let reached!: () => void;
  let release!: () => void;
  const atPause = new Promise<void>((r) => (reached = r));
  const released = new Promise<void>((r) => (release = r));
  const paused = (real: Opener): Opener =>
    function (this: unknown, id, ctx, ...rest) {
      if (id === tenantId && ctx.requestId && (request === null || ctx.requestId === request)) {
        request = ctx.requestId;
        if (seen++ === skip) {
          put();
          reached();
          return released.then(() => real.call(this, id, ctx, ...rest));
        }
      }
      return real.call(this, id, ctx, ...rest);
    };
  db.withTenant = paused(original.withTenant as Opener) as Db['withTenant'];
  if (reads) db.withTenantRead = paused(original.withTenantRead as Opener) as Db['withTenantRead'];
  return {
    atPause,
    release,
    restore: () => {
      put();
      release();
    },
  };
}

/**
 * Sends a request held at `pause` (pauseRequest, or a test's own pause) and, while it waits there, runs
 * `meanwhile` (a removal, a demotion); then lets it go on and answers its response.
 */
export async function whilePaused<T>(
  pause: { atPause: Promise<void>; release: () => void; restore: () => void },
  send: () => Promise<T>,
  meanwhile: () => Promise<unknown>,
): Promise<T> {
  try {
    const sent = send();
    await pause.atPause;
    await meanwhile();
    pause.release();
    return await sent;
  } finally {
    pause.restore();
  }
}

/** Where a write's transaction is held open: at its first write to `table` (or read of it to write, FOR UPDATE), by a lock of the test on it. */
export const writesTo = (table: string) => ({ lock: `LOCK TABLE ${table} IN EXCLUSIVE MODE`, statement: `%${table}%` });

/** At the webhook event a write enqueues (its last statement but the audit entry's, in most writes). */
const WEBHOOK_EVENT = { lock: 'LOCK TABLE webhook_deliveries IN EXCLUSIVE MODE', statement: '%INSERT INTO webhook_events%' };

/**
 * Runs `write` (a request whose transaction stores what it made, then enqueues its webhook event) and,
 * once that transaction is open and waiting at `at` (by default on the webhook tables, held by a lock of the
 * test), `change` (a removal or demotion of whoever sent `write`); then lets the write go on. Returns both
 * responses, and whether the change had finished while the write's transaction was still open (so whatever
 * the write made, it made after the change). PostgreSQL only: the embedded database runs one transaction at
 * a time.
 */
export async function midTransaction<W, C>(
  t: TestApp,
  write: () => Promise<W>,
  change: () => Promise<C>,
  at: { lock: string; statement: string } = WEBHOOK_EVENT,
): Promise<[W, C, boolean]> {
  const release = await holdOpen(t.runtime.db, at.lock);
  let w: Promise<W> | null = null;
  let c: Promise<C> | null = null;
  let changedFirst = false;
  try {
    w = write();
    await until(async () => (await waitingOn(t, ['relation'], at.statement)) > 0, 'the write to wait where the test holds it');
    c = change();
    const changing = c;
    // The change either goes through, or waits on a lock the write holds: its sender's row (the hold), or
    // further on the tenant's row, which the write's inserts share (how it waited before the hold, having
    // revoked what it saw).
    await until(
      async () => (await settled(changing)) || (await waitingOn(t, ['transactionid', 'tuple'], '%')) > 0,
      'the change to finish or to wait for the write',
    );
    changedFirst = await settled(changing);
  } finally {
    await release();
  }
  return [await w!, await c!, changedFirst];
}
