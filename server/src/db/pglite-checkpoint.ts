// The embedded database checkpoints itself. PGlite runs PostgreSQL as one process, without the checkpointer
// that would write a checkpoint every checkpoint_timeout or max_wal_size: left alone, its WAL grows by a
// segment every 16 MB (about 2,500 chat turns) for as long as the process runs, on disk or, in memory, in the
// heap, and a crash replays all of it at the next start. So a timer looks every minute and, once enough WAL
// has been written since the last checkpoint, writes one: the segments before it are then recycled, and a
// recovery replays at most that much. A checkpoint pauses the event loop too (some 5-80 ms, bench/pglite-wal.ts),
// hence not more often.
import type { PGlite } from '@electric-sql/pglite';

export const CHECKPOINT_AFTER_BYTES = 64 * 1024 * 1024;
export const CHECKPOINT_LOOK_MS = 60_000;

/** Writes a checkpoint if at least `bytes` of WAL were written since the last one; true when it did. */
export function checkpointWhenDue(pg: PGlite, bytes = CHECKPOINT_AFTER_BYTES): Promise<boolean> {
  // In a transaction of its own, which PGlite runs between the driver's, never inside one.
  return pg.transaction(async (t) => {
    const { rows } = await t.query<{ due: boolean }>(
      'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn) >= $1 AS due FROM pg_control_checkpoint()',
      [bytes],
    );
    if (!rows[0]?.due) return false;
    await t.exec('CHECKPOINT');
    return true;
  });
}

/** Looks every `everyMs`; the function returned stops looking, once a look in progress has ended. */
export function checkpointPeriodically(pg: PGlite, everyMs = CHECKPOINT_LOOK_MS, bytes = CHECKPOINT_AFTER_BYTES): () => Promise<void> {
  // A look that fails (the database closing) is not retried: the next one comes.
  let looking: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    looking = checkpointWhenDue(pg, bytes).catch(() => false);
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await looking;
  };
}
