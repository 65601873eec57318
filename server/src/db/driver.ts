import type { Tx } from './types.js';

/** What a database driver provides: plain transactions on the app and owner connections. */
export interface Driver {
  kind: 'pglite' | 'postgres';
  app<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  owner<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Connection pool use, for metrics (a server's pools; the embedded database has none). */
  pools?(): PoolUse[];
}

export interface PoolUse {
  pool: 'app' | 'owner';
  total: number;
  idle: number;
  waiting: number;
}
