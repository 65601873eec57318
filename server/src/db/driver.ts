import type { Tx } from './types.js';

/** Who a transaction runs as: its role, tenant ('' for none) and request id ('' for none). */
export interface TxScope {
  role: 'parley_app' | 'parley_platform';
  tenantId: string;
  requestId: string;
  /** Also read how far this server (a replica) has replayed the WAL, as `replayed`. */
  replayed?: boolean;
}

/**
 * The statement that scopes a transaction, its three values as parameters: set_config(…, true) is SET
 * LOCAL, so role and tenant end with the transaction.
 */
export function scopeStatement(s: TxScope): { sql: string; params: string[] } {
  return {
    sql: `SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true), set_config('app.request_id', $3, true)${
      s.replayed ? ', pg_last_wal_replay_lsn()::text AS replayed' : ''
    }`,
    params: [s.role, s.tenantId, s.requestId],
  };
}

export interface TxOptions {
  /** Set first thing in the transaction; its row goes to the transaction's function. */
  scope?: TxScope;
  /** BEGIN … READ ONLY: any write in the transaction fails. */
  readOnly?: boolean;
  /**
   * Called after COMMIT, only if the transaction wrote, with the primary's WAL insert position (postgres
   * only): the point a replica must have replayed to show this transaction's writes.
   */
  onWrite?: (lsn: string) => void;
}

/** What the scope statement read: `replayed` when asked for. */
export interface Scoped {
  replayed?: string | null;
}

/** Runs `fn` in one transaction on a connection of a pool. */
export type Runner = <T>(fn: (tx: Tx, scoped: Scoped) => Promise<T>, opts?: TxOptions) => Promise<T>;

/** What a database driver provides: plain transactions on the app and owner connections. */
export interface Driver {
  kind: 'pglite' | 'postgres';
  app: Runner;
  owner: Runner;
  /** One statement on the app connection outside any transaction (its own implicit one): a single round trip. */
  single: <R>(sql: string, params?: readonly unknown[]) => Promise<R[]>;
  /** Read-only transactions on the read replica (postgres with a read URL only); null: there is none. */
  replica: Runner | null;
  close(): Promise<void>;
  /** The embedded database's data folder as a tarball, which `openPglite` can start from (pglite only). */
  dump?(): Promise<Blob>;
  /** Connection pool use, for metrics (a server's pools; the embedded database has none). */
  pools?(): PoolUse[];
}

export interface PoolUse {
  pool: 'app' | 'owner' | 'replica';
  total: number;
  idle: number;
  waiting: number;
}
