import type { Tx } from './types.js';

export interface TxOptions {
  /** BEGIN … READ ONLY: any write in the transaction fails. */
  readOnly?: boolean;
  /**
   * Called after COMMIT, only if the transaction wrote, with the primary's WAL insert position (postgres
   * only): the point a replica must have replayed to show this transaction's writes.
   */
  onWrite?: (lsn: string) => void;
}

/** Runs `fn` in one transaction on a connection of a pool. */
export type Runner = <T>(fn: (tx: Tx) => Promise<T>, opts?: TxOptions) => Promise<T>;

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
