// The Db: role switching and tenant scoping on top of a driver. Every request transaction runs as
// parley_app with app.tenant_id set transaction-locally (set_config(…, true)), never session-wide:
// a session-level SET would leak into the next user of a pooled connection.
import { join } from 'node:path';
import type { Driver, PoolUse, Runner, Scoped, TxOptions } from './driver.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { HitBatcher, type WindowCount } from './rate-windows.js';
import { ReadRouting, type ReplicaLog } from './replica.js';
import { isPostgresUrl } from './url.js';
import { inSpan } from '../telemetry/spans.js';
import { type CarriedReads, scopedTo, seedReads } from './tx-memo.js';
import type { UpkeepStep } from './pglite-upkeep.js';
import type { Db, HousekeepingContext, PlatformContext, Tx, TxContext } from './types.js';

export type { PoolUse } from './driver.js';
export type { Db, Tx, TxContext, PlatformContext, HousekeepingContext, ActorRef, QueryResult } from './types.js';
export { EmbeddedDbLockedError } from './pglite.js';

export const PLATFORM_TENANT = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Writes the platform audit entry of a withPlatform transaction (implemented by the audit log). */
export type PlatformAuditor = (tx: Tx, ctx: PlatformContext) => Promise<void>;

export interface DbOptions {
  /** postgres:// URL for a server; `memory://` or a folder path for the embedded database. */
  url: string;
  /** Owner URL for migrations and the platform path (postgres only); defaults to `url`. */
  ownerUrl?: string | null;
  /** A streaming replica of the same server for `withTenantRead` (postgres only). */
  readUrl?: string | null;
  /** A dump of an embedded database (`ParleyDb.dump`) to start an in-memory one from (tests: a migrated one). */
  from?: Blob;
  /** How often the embedded database looks for upkeep due (`Driver.upkeep`), in ms; 0: only when asked. */
  upkeepEveryMs?: number;
  /**
   * Where the database tells what happened on its own: the read routing, once, that the replica is down,
   * lagging or back; the embedded database, an upkeep step that failed.
   */
  logger?: ReplicaLog;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** `s` as a literal inside a LIKE pattern (the default escape is a backslash). */
export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

const commitHooks = new WeakMap<Tx, (() => void)[]>();

/** Where the database's own notices go when the caller gives no logger. */
const CONSOLE_LOG: ReplicaLog = { warn: (o, m) => console.warn(m, o), info: (o, m) => console.info(m, o) };

/**
 * Runs `fn` after the transaction `tx` belongs to has committed, never when it rolls back: for work
 * that must only see committed rows (e.g. waking the webhook worker for an outbox row).
 */
export function afterCommit(tx: Tx, fn: () => void): void {
  const hooks = commitHooks.get(tx);
  if (!hooks) throw new Error('afterCommit needs a transaction opened by the Db');
  hooks.push(fn);
}

type Scope = 'tenant' | 'tenant_read' | 'without_tenant' | 'platform' | 'owner';

/**
 * Runs a transaction through `runner`, then its after-commit hooks (a hook's failure is its own), inside
 * a `db.transaction` span naming its scope (ids only).
 */
function withHooks<T>(
  scope: Scope,
  ctx: { requestId: string | null; tenantId?: string },
  runner: Runner,
  opts: TxOptions,
  fn: (tx: Tx, scoped: Scoped) => Promise<T>,
): Promise<T> {
  const attributes = {
    'parley.db.scope': scope,
    ...(ctx.tenantId ? { 'parley.tenant_id': ctx.tenantId } : {}),
    ...(ctx.requestId ? { 'parley.request_id': ctx.requestId } : {}),
  };
  return inSpan('db.transaction', attributes, () => runHooked(runner, opts, fn));
}

async function runHooked<T>(runner: Runner, opts: TxOptions, fn: (tx: Tx, scoped: Scoped) => Promise<T>): Promise<T> {
  const hooks: (() => void)[] = [];
  const result = await runner((tx, scoped) => {
    commitHooks.set(tx, hooks);
    return fn(tx, scoped);
  }, opts);
  for (const h of hooks) {
    try {
      h();
    } catch {
      // Hooks are wake-ups; the committed work does not depend on them.
    }
  }
  return result;
}

/** The replica stepped aside for this read: it has not replayed the tenant's last write here, or it lags. */
const STALE = Symbol('stale replica');

/**
 * How a database error met while reading on the replica concerns the replica itself: `conflict`, a query
 * cancelled by recovery (the replica replaying over rows it read); `down`, a broken connection or a
 * shutting-down server; null, an error of the read, which would fail on the primary too.
 */
function replicaTrouble(err: unknown): 'conflict' | 'down' | null {
  const e = err as { code?: unknown; severity?: unknown };
  if (typeof e.severity !== 'string' || typeof e.code !== 'string') return 'down'; // not sent by the server
  if (e.code === '40001') return 'conflict';
  return e.code.startsWith('08') || e.code.startsWith('57P') ? 'down' : null;
}

class ScopedDb implements Db {
  private auditor: PlatformAuditor | null = null;
  /** Set when a read replica is configured. */
  private readonly routing: ReadRouting | null;
  private readonly hits: HitBatcher;

  constructor(
    private readonly driver: Driver,
    logger: ReplicaLog = CONSOLE_LOG,
  ) {
    this.routing = driver.replica ? new ReadRouting(logger) : null;
    this.hits = new HitBatcher((sql, params) => driver.single(sql, params));
  }

  /** Options that record, with a replica configured, where a writing transaction ended in the WAL. */
  private tracked(tenantId: string | null): TxOptions {
    const routing = this.routing;
    return routing ? { onWrite: (lsn) => routing.wrote(tenantId, lsn) } : {};
  }

  get kind() {
    return this.driver.kind;
  }

  setPlatformAuditor(auditor: PlatformAuditor) {
    this.auditor = auditor;
  }

  withTenant<T>(tenantId: string, ctx: TxContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (!isUuid(tenantId)) return Promise.reject(new TypeError('tenant id must be a uuid'));
    const scope = { role: 'parley_app', tenantId, requestId: ctx.requestId ?? '' } as const;
    const { authority } = ctx;
    const run = withHooks('tenant', { requestId: ctx.requestId, tenantId }, this.driver.app, { ...this.tracked(tenantId), scope }, async (tx) => {
      scopedTo(tx, tenantId);
      // The person the request acts for, held before anything the transaction reads or writes (it goes
      // with the first statement): what they could do is decided under the hold, and stays so until COMMIT.
      authority?.hold(tx);
      return fn(tx);
    });
    return authority ? run.catch((err: unknown) => Promise.reject(authority.refusal(err) ?? err)) : run;
  }

  async withTenantRead<T>(tenantId: string, ctx: TxContext, fn: (tx: Tx) => Promise<T>, carried?: CarriedReads): Promise<T> {
    if (!isUuid(tenantId)) throw new TypeError('tenant id must be a uuid');
    const { routing, driver } = this;
    // Reads carried from a transaction on the primary go on from there: the primary, read-your-writes.
    if (driver.replica && routing?.usable() && !carried) {
      let reading = false;
      let dbError: unknown;
      try {
        // Same role and tenant as withTenant (a physical replica has the same roles and policies); the
        // statement that sets them also says how far the replica has replayed.
        const scope = { role: 'parley_app', tenantId, requestId: ctx.requestId ?? '', replayed: true } as const;
        return await withHooks('tenant_read', { requestId: ctx.requestId, tenantId }, driver.replica, { scope }, async (tx, scoped) => {
          // Read Committed: each later statement takes its snapshot after this replay position.
          if (!routing.mayServe(tenantId, scoped.replayed ?? null)) throw STALE;
          const seen = (e: unknown) => Promise.reject((dbError = e));
          const watched: Tx = {
            query: <R>(sql: string, params?: readonly unknown[]) => tx.query<R>(sql, params).catch(seen),
            exec: (sql) => tx.exec(sql).catch(seen),
            defer: (sql, params) => tx.defer(sql, params),
            last: <R>(sql: string, params?: readonly unknown[]) => tx.last<R>(sql, params),
          };
          scopedTo(watched, tenantId);
          reading = true;
          const result = await fn(watched);
          reading = false;
          return result;
        });
      } catch (err) {
        // The read's own errors are the caller's; the replica's troubles send the read to the primary.
        const trouble = err === STALE ? null : reading ? (err === dbError ? replicaTrouble(err) : null) : 'down';
        if (err !== STALE && !trouble) throw err;
        if (trouble === 'down') routing.failed(err);
      }
    }
    const scope = { role: 'parley_app', tenantId, requestId: ctx.requestId ?? '' } as const;
    return withHooks('tenant_read', { requestId: ctx.requestId, tenantId }, driver.app, { readOnly: true, scope }, async (tx) => {
      scopedTo(tx, tenantId);
      if (carried) seedReads(tx, tenantId, carried);
      return fn(tx);
    });
  }

  withoutTenant<T>(ctx: TxContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
    // Not tracked: with no tenant set, row-level security lets it write no tenant's rows.
    const scope = { role: 'parley_app', tenantId: '', requestId: ctx.requestId ?? '' } as const;
    return withHooks('without_tenant', ctx, this.driver.app, { scope }, (tx) => fn(tx));
  }

  countHit(key: Buffer, windowMs: number, hits = 1): Promise<WindowCount> {
    return this.hits.count(key, windowMs, hits);
  }

  callDefiner<R>(fn: `parley_${string}`, args: readonly unknown[]): Promise<R[]> {
    // The name is written into the statement: only a plain identifier of ours gets there.
    if (!/^parley_[a-z_]+$/.test(fn)) return Promise.reject(new TypeError(`not a Parley function: ${fn}`));
    return this.driver.single<R>(`SELECT * FROM ${fn}(${args.map((_, i) => `$${i + 1}`).join(', ')})`, args);
  }

  withPlatform<T>(ctx: PlatformContext | HousekeepingContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const auditor = this.auditor;
    const audited = !('audit' in ctx && ctx.audit === false);
    if (audited && !auditor) return Promise.reject(new Error('platform path used before the audit log was attached'));
    if (!ctx.reason.trim()) return Promise.reject(new TypeError('platform work needs a reason'));
    const scope = { role: 'parley_platform', tenantId: '', requestId: ctx.requestId ?? '' } as const;
    const readOnly = 'readOnly' in ctx && ctx.readOnly === true;
    return withHooks('platform', ctx, this.driver.owner, { ...this.tracked(null), readOnly, scope }, async (tx) => {
      const result = await fn(tx);
      if (audited) await auditor!(tx, ctx as PlatformContext);
      return result;
    });
  }

  /** Connection pool use (empty for the embedded database). */
  pools(): PoolUse[] {
    return this.driver.pools?.() ?? [];
  }

  /** The embedded database as a tarball `openDb({ url: 'memory://', from })` starts from. */
  dump(): Promise<Blob> {
    if (!this.driver.dump) return Promise.reject(new TypeError('only the embedded database can be dumped'));
    return this.driver.dump();
  }

  /** The embedded database's upkeep, now (db/pglite-upkeep.ts): what it did, and each step's pause. */
  upkeep(): Promise<UpkeepStep[]> {
    if (!this.driver.upkeep) return Promise.reject(new TypeError('only the embedded database does its own upkeep'));
    return this.driver.upkeep();
  }

  /**
   * Hears NOTIFY on `channel` (the embedded database only: PostgreSQL's notices need a listening
   * connection of their own, conversations/notify.ts); resolves to the way to stop.
   */
  listenInProcess(channel: string, heard: (payload: string) => void): Promise<() => Promise<void>> {
    if (!this.driver.listen) return Promise.reject(new TypeError('only the embedded database hears notices in process'));
    return this.driver.listen(channel, heard);
  }

  withOwner<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withHooks('owner', { requestId: null }, this.driver.owner, this.tracked(null), fn);
  }

  close() {
    return this.driver.close();
  }
}

export type ParleyDb = ScopedDb;

export async function openDb(opts: DbOptions): Promise<ParleyDb> {
  const log = opts.logger ?? CONSOLE_LOG;
  const server = isPostgresUrl(opts.url);
  if (opts.readUrl && !server) throw new TypeError('a read replica needs a PostgreSQL server, not the embedded database');
  if (opts.from && server) throw new TypeError('only the embedded database starts from a dump');
  const driver = server
    ? await openPostgres(opts.url, opts.ownerUrl ?? opts.url, opts.readUrl ?? null)
    : await openPglite(opts.url, {
        from: opts.from,
        upkeepEveryMs: opts.upkeepEveryMs,
        onUpkeepFailure: (upkeep) => log.warn({ upkeep }, 'embedded database upkeep: a step failed; the rest went on, and the next look tries again'),
      });
  return new ScopedDb(driver, log);
}

/** The database a config points at: a server when DATABASE_URL is set, else PGlite in the data folder. */
export function databaseUrlFor(cfg: { databaseUrl: string | null; dataDir: string }): string {
  return cfg.databaseUrl ?? join(cfg.dataDir, 'db');
}

export async function runMigrations(db: Db): Promise<string[]> {
  return db.withOwner((tx) => migrate(tx));
}
