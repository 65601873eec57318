// The Db: role switching and tenant scoping on top of a driver. Every request transaction runs as
// parley_app with app.tenant_id set transaction-locally (set_config(…, true)), never session-wide:
// a session-level SET would leak into the next user of a pooled connection.
import { join } from 'node:path';
import type { Driver, PoolUse } from './driver.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { inSpan } from '../telemetry/spans.js';
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
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

const commitHooks = new WeakMap<Tx, (() => void)[]>();

/**
 * Runs `fn` after the transaction `tx` belongs to has committed, never when it rolls back: for work
 * that must only see committed rows (e.g. waking the webhook worker for an outbox row).
 */
export function afterCommit(tx: Tx, fn: () => void): void {
  const hooks = commitHooks.get(tx);
  if (!hooks) throw new Error('afterCommit needs a transaction opened by the Db');
  hooks.push(fn);
}

type Scope = 'tenant' | 'without_tenant' | 'platform' | 'owner';

/**
 * Runs a transaction through `runner`, then its after-commit hooks (a hook's failure is its own), inside
 * a `db.transaction` span naming its scope (ids only).
 */
function withHooks<T>(
  scope: Scope,
  ctx: { requestId: string | null; tenantId?: string },
  runner: <R>(fn: (tx: Tx) => Promise<R>) => Promise<R>,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  const attributes = {
    'parley.db.scope': scope,
    ...(ctx.tenantId ? { 'parley.tenant_id': ctx.tenantId } : {}),
    ...(ctx.requestId ? { 'parley.request_id': ctx.requestId } : {}),
  };
  return inSpan('db.transaction', attributes, () => runHooked(runner, fn));
}

async function runHooked<T>(runner: <R>(fn: (tx: Tx) => Promise<R>) => Promise<R>, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const hooks: (() => void)[] = [];
  const result = await runner((tx) => {
    commitHooks.set(tx, hooks);
    return fn(tx);
  });
  for (const h of hooks) {
    try {
      h();
    } catch {
      // Hooks are wake-ups; the committed work does not depend on them.
    }
  }
  return result;
}

class ScopedDb implements Db {
  private auditor: PlatformAuditor | null = null;
  constructor(private readonly driver: Driver) {}

  get kind() {
    return this.driver.kind;
  }

  setPlatformAuditor(auditor: PlatformAuditor) {
    this.auditor = auditor;
  }

  withTenant<T>(tenantId: string, ctx: TxContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (!isUuid(tenantId)) return Promise.reject(new TypeError('tenant id must be a uuid'));
    return withHooks('tenant', { requestId: ctx.requestId, tenantId }, this.driver.app, async (tx) => {
      await tx.query('SET LOCAL ROLE parley_app');
      await tx.query("SELECT set_config('app.tenant_id', $1, true), set_config('app.request_id', $2, true)", [tenantId, ctx.requestId ?? '']);
      return fn(tx);
    });
  }

  withoutTenant<T>(ctx: TxContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withHooks('without_tenant', ctx, this.driver.app, async (tx) => {
      await tx.query('SET LOCAL ROLE parley_app');
      await tx.query("SELECT set_config('app.tenant_id', '', true), set_config('app.request_id', $1, true)", [ctx.requestId ?? '']);
      return fn(tx);
    });
  }

  withPlatform<T>(ctx: PlatformContext | HousekeepingContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const auditor = this.auditor;
    const audited = !('audit' in ctx && ctx.audit === false);
    if (audited && !auditor) return Promise.reject(new Error('platform path used before the audit log was attached'));
    if (!ctx.reason.trim()) return Promise.reject(new TypeError('platform work needs a reason'));
    return withHooks('platform', ctx, this.driver.owner, async (tx) => {
      if ('readOnly' in ctx && ctx.readOnly) await tx.query('SET TRANSACTION READ ONLY');
      await tx.query('SET LOCAL ROLE parley_platform');
      await tx.query("SELECT set_config('app.tenant_id', '', true), set_config('app.request_id', $1, true)", [ctx.requestId ?? '']);
      const result = await fn(tx);
      if (audited) await auditor!(tx, ctx as PlatformContext);
      return result;
    });
  }

  /** Connection pool use (empty for the embedded database). */
  pools(): PoolUse[] {
    return this.driver.pools?.() ?? [];
  }

  withOwner<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withHooks('owner', { requestId: null }, this.driver.owner, fn);
  }

  close() {
    return this.driver.close();
  }
}

export type ParleyDb = ScopedDb;

export async function openDb(opts: DbOptions): Promise<ParleyDb> {
  const driver = /^postgres(ql)?:\/\//.test(opts.url) ? await openPostgres(opts.url, opts.ownerUrl ?? opts.url) : await openPglite(opts.url);
  return new ScopedDb(driver);
}

/** The database a config points at: a server when DATABASE_URL is set, else PGlite in the data folder. */
export function databaseUrlFor(cfg: { databaseUrl: string | null; dataDir: string }): string {
  return cfg.databaseUrl ?? join(cfg.dataDir, 'db');
}

export async function runMigrations(db: Db): Promise<string[]> {
  return db.withOwner((tx) => migrate(tx));
}
