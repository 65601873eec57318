// The one database interface the server codes against, implemented over PGlite (embedded) and pg.

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** A connection inside an open transaction. Parameters are positional: $1, $2, … */
export interface Tx {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations, maintenance). */
  exec(sql: string): Promise<void>;
  /**
   * A write whose result nobody reads (an audit entry): held, then sent with the transaction's next
   * statement or its COMMIT, so it costs no round trip of its own. Statements still run in the order they
   * were asked for; an error in a held one fails the statement (or COMMIT) it went with, and so the
   * transaction. Its values are checked when it is held (checkParams) and sent as parameters, never in
   * the statement's text.
   */
  defer(sql: string, params?: readonly unknown[]): void;
  /**
   * The transaction's last statement, for one that ends with a write whose result it reads (an insert's
   * returned row): sent with what is held and COMMIT in one write, so its answer and the COMMIT's share a
   * round trip. Nothing may be asked after it. Should it fail, nothing is committed; once it has succeeded,
   * the transaction commits whatever the function does next, an error it throws included (which the caller
   * still gets). For read-write transactions only.
   */
  last<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** Who is acting, for the DB session and the audit log. */
export interface ActorRef {
  type: 'api_key' | 'member' | 'platform' | 'cli' | 'system' | 'visitor' | 'agent' | 'admin';
  id: string | null;
}

export interface TxContext {
  requestId: string | null;
  /**
   * The authority the request acts with (a member's session, or a key a member made: tenants/authority.ts),
   * held first thing in each of its read-write tenant transactions (withTenant).
   */
  authority?: TxAuthority | undefined;
}

/**
 * A person's authority behind a request, as a withTenant transaction holds it: first in the transaction,
 * their row is locked until it ends and checked (still a member, active, in a role allowing what the request
 * holds), so a removal or demotion either waits for the transaction and then sees what it made, or comes
 * first and the transaction is refused.
 */
export interface TxAuthority {
  /** Asks for the hold first in `tx` (held with Tx.defer: no round trip of its own); a failure fails the transaction. */
  hold(tx: Tx): void;
  /** The refusal a failed hold stands for, given the error the transaction failed with; null for any other error. */
  refusal(err: unknown): Error | null;
}

export interface PlatformContext extends TxContext {
  actor: ActorRef;
  /** Why cross-tenant work is being done; stored in the platform audit log. */
  reason: string;
  /** The audit action recorded for this platform transaction, e.g. `tenant.create`. */
  action: string;
  target?: { type: string; id: string | null };
  metadata?: Record<string, unknown>;
}

/**
 * Platform work that writes no platform audit entry: housekeeping that touches no tenant content itself
 * (lease rows, checkpoint signatures, refusal windows whose summaries land in the tenants' own logs, key
 * metadata) or must never write at all (the log verifier, with `readOnly`). Auditing each tick would grow
 * the platform log on every sweep.
 */
export interface HousekeepingContext extends TxContext {
  audit: false;
  /** Why this path is not audited; kept next to the call for review. */
  reason: string;
  /** Runs the transaction READ ONLY. */
  readOnly?: boolean;
}

export interface Db {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` in one transaction as the `parley_app` role with `app.tenant_id` (and `app.request_id`)
   * set by `set_config(…, true)`, so row-level security scopes every statement to this tenant.
   */
  withTenant<T>(tenantId: string, ctx: TxContext, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in a READ ONLY transaction set up as by withTenant: on the read replica when one is configured
   * and has replayed this instance's latest writes for the tenant, else on the primary. For reads that may
   * be a moment behind writes made through other instances (retrieval, admin lists); never for a read that
   * decides a write. With `carried`, reads the tenant's transaction just made on the primary (tx-memo.ts)
   * are not asked again, and it reads the primary.
   */
  withTenantRead<T>(tenantId: string, ctx: TxContext, fn: (tx: Tx) => Promise<T>, carried?: import('./tx-memo.js').CarriedReads): Promise<T>;
  /** Runs `fn` as `parley_app` with no tenant set: row-level security shows zero tenant rows. */
  withoutTenant<T>(ctx: TxContext, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Counts a hit (or `hits`) in a shared rate window (db/rate-windows.ts) outside any transaction, batched with the
   * hits asked for at the same moment: the counter function is SECURITY DEFINER and touches only the
   * counters, so it needs no role or tenant.
   */
  countHit(key: Buffer, windowMs: number, hits?: number): Promise<import('./rate-windows.js').WindowCount>;
  /**
   * Calls one of Parley's SECURITY DEFINER functions (`parley_…`) as a statement of its own, outside any
   * transaction: one round trip. Such a function checks what it needs itself and runs as its owner, so
   * the caller needs no role or tenant (key resolution, before the tenant is known).
   */
  callDefiner<R>(fn: `parley_${string}`, args: readonly unknown[]): Promise<R[]>;
  /**
   * The explicit cross-tenant path (CLI, workers), and the only way to `parley_platform` (BYPASSRLS):
   * appends an entry to the platform audit log in the same transaction, unless `ctx` is a
   * HousekeepingContext (`audit: false`).
   */
  withPlatform<T>(ctx: PlatformContext | HousekeepingContext, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Connection pool use, for metrics (empty for the embedded database). */
  pools(): import('./driver.js').PoolUse[];
  /** Owner connection for migrations and maintenance only. */
  withOwner<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
