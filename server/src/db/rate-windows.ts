// Fixed-window counters in the database (migration 082), shared by every instance: the HTTP rate
// limits' PostgreSQL store and the AI budget's requests per minute. Keys are hashed: a counter never
// holds an address or a token in the clear.
import { createHash } from 'node:crypto';
import type { Tx } from './types.js';

export const windowKey = (scope: string, key: string): Buffer => createHash('sha256').update(`${scope}\0${key}`).digest();

export interface WindowCount {
  hits: number;
  resetAt: Date;
  /** Whole seconds until the window ends, by the database's clock (at least 1). */
  resetInSeconds: number;
}

/**
 * Counts one more hit in `key`'s window (a new window of `windowMs` once the last one has ended), in `tx`
 * or as a statement of its own (`Db.countHit`).
 */
export async function hitWindow(tx: Pick<Tx, 'query'>, key: Buffer, windowMs: number): Promise<WindowCount> {
  const { rows } = await tx.query<{ hits: number; reset_at: Date | string; wait: number }>(
    'SELECT hits, reset_at, greatest(1, ceil(extract(epoch FROM reset_at - clock_timestamp())))::int AS wait FROM parley_rate_limit_hit($1, $2)',
    [key, windowMs],
  );
  const row = rows[0]!;
  return { hits: row.hits, resetAt: new Date(row.reset_at), resetInSeconds: row.wait };
}
