import type { Tx } from './types.js';

/** What a database driver provides: plain transactions on the app and owner connections. */
export interface Driver {
  kind: 'pglite' | 'postgres';
  app<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  owner<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
