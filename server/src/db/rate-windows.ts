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
 * (the AI budget), or in a batch of its own (`Db.countHit`, below).
 */
export async function hitWindow(tx: Pick<Tx, 'query'>, key: Buffer, windowMs: number): Promise<WindowCount> {
  const { rows } = await tx.query<WindowRow>(`SELECT ${COUNTED} FROM parley_rate_limit_hit($1, $2) AS h`, [key, windowMs]);
  return windowCount(rows[0]!);
}

// What a hit returns, by the database's clock.
const COUNTED = 'h.hits, h.reset_at, greatest(1, ceil(extract(epoch FROM h.reset_at - clock_timestamp())))::int AS wait';
interface WindowRow {
  hits: number;
  reset_at: Date | string;
  wait: number;
}
const windowCount = (r: WindowRow): WindowCount => ({ hits: r.hits, resetAt: new Date(r.reset_at), resetInSeconds: r.wait });

// The hits of one batch, counted one after another in the order given (WITH ORDINALITY numbers them).
const BATCH = `SELECT k.i::int AS i, ${COUNTED}
  FROM unnest($1::bytea[], $2::int[], $3::int[]) WITH ORDINALITY AS k(key, ms, n, i), LATERAL parley_rate_limit_add(k.key, k.ms, k.n) AS h`;

interface Waiting {
  key: Buffer;
  windowMs: number;
  hits: number;
  done: (w: WindowCount) => void;
  fail: (err: unknown) => void;
}

/**
 * Hits counted as statements of their own (`Db.countHit`), gathered while the event loop turns: every
 * hit asked for before the next check phase goes to the database in one statement, since requests
 * arriving together ask together. Each hit still gets its own exact count. Keys are counted in byte
 * order, so two batches (two instances) lock the keys they share in one order and never deadlock.
 */
export class HitBatcher {
  private queue: Waiting[] = [];

  constructor(private readonly single: <R>(sql: string, params: readonly unknown[]) => Promise<R[]>) {}

  /** Counts `hits` more (one, unless a caller adds up hits it let through: http/limit-store.ts). */
  count(key: Buffer, windowMs: number, hits = 1): Promise<WindowCount> {
    return new Promise((done, fail) => {
      if (!this.queue.length) setImmediate(() => void this.flush());
      this.queue.push({ key, windowMs, hits, done, fail });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.sort((a, b) => Buffer.compare(a.key, b.key));
    this.queue = [];
    try {
      const rows = await this.single<WindowRow & { i: number }>(BATCH, [
        batch.map((h) => h.key),
        batch.map((h) => h.windowMs),
        batch.map((h) => h.hits),
      ]);
      for (const r of rows) batch[r.i - 1]!.done(windowCount(r));
      if (rows.length !== batch.length) throw new Error('a rate-limit batch came back incomplete');
    } catch (err) {
      // Those already counted keep their count (a promise settles once).
      for (const h of batch) h.fail(err);
    }
  }
}
