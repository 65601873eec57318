// The embedded database does the upkeep PostgreSQL's background processes would. PGlite runs PostgreSQL as
// one process, with neither the checkpointer nor autovacuum, so a timer looks every minute and does both:
// - A checkpoint, once enough WAL has been written since the last: left alone, the WAL grows by a segment
//   every 16 MB (about 2,500 chat turns) for as long as the process runs, and a crash replays all of it.
// - VACUUM and ANALYZE of the tables that autovacuum would pick, by its own settings and formula: left alone,
//   the space of deleted and updated rows is never reused (tables and their indexes grow with every turn),
//   and the planner never has statistics.
// Each pauses the event loop (bench/pglite-wal.ts, bench/pglite-upkeep.ts), hence not more often, and each
// table's VACUUM and ANALYZE run as statements of their own, with the driver's transactions in between.
import type { PGlite } from '@electric-sql/pglite';

export const CHECKPOINT_AFTER_BYTES = 64 * 1024 * 1024;
export const UPKEEP_LOOK_MS = 60_000;
// ANALYZE reads a sample of 300 × this many rows: at PostgreSQL's 100, a 20 MB table paused every request
// for up to 400 ms; at 10, up to 55 ms, with statistics still enough for this schema's plans.
const STATISTICS_TARGET = 10;

/** Bytes of WAL written since the last checkpoint began. */
export async function walSinceCheckpoint(pg: Pick<PGlite, 'query'>): Promise<number> {
  const { rows } = await pg.query<{ n: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn)::text AS n FROM pg_control_checkpoint()');
  return Number(rows[0]!.n);
}

/** Writes a checkpoint if at least `bytes` of WAL were written since the last one; true when it did. */
export function checkpointWhenDue(pg: PGlite, bytes = CHECKPOINT_AFTER_BYTES): Promise<boolean> {
  // In a transaction of its own, which PGlite runs between the driver's, never inside one.
  return pg.transaction(async (t) => {
    if ((await walSinceCheckpoint(t)) < bytes) return false;
    await t.exec('CHECKPOINT');
    return true;
  });
}

// autovacuum's choice (PostgreSQL's docs, "The Autovacuum Daemon"): a table's dead rows, or rows inserted
// since its last vacuum, past a threshold plus a share of its size; its transaction ids too old (before
// wraparound); for ANALYZE, the rows changed since the last past theirs. System catalogs included, as
// autovacuum does, but not pg_statistic's own statistics. reltuples is -1 before the first ANALYZE.
const DUE = `
  WITH t AS (
    SELECT c.oid::regclass::text AS name, greatest(c.reltuples, 0) AS n, age(c.relfrozenxid) AS age,
      s.n_dead_tup, s.n_ins_since_vacuum, s.n_mod_since_analyze, c.oid = 'pg_statistic'::regclass AS statistic
    FROM pg_stat_all_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE c.relkind IN ('r', 'm')
  )
  SELECT name,
    $1::bool
      OR n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
          + current_setting('autovacuum_vacuum_scale_factor')::float8 * n
      OR n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
          + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * n
      OR age > current_setting('autovacuum_freeze_max_age')::float8 AS vacuum,
    NOT statistic AND n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
        + current_setting('autovacuum_analyze_scale_factor')::float8 * n AS analyze
  FROM t ORDER BY n_dead_tup DESC`;

/** One step of upkeep, and how long it paused the database (so every request) for. */
export interface UpkeepStep {
  step: 'vacuum' | 'analyze' | 'checkpoint';
  /** The table vacuumed or analyzed; none for a vacuum step that failed to find what was due. */
  table?: string;
  ms: number;
  /**
   * Set when the step failed: the error's SQLSTATE (or its name, if not from the database). Never its
   * text, which may quote a row (an expression index's function refusing a value, say).
   */
  failed?: string;
}

/** Told of each step that failed; the look goes on with the next. */
export type UpkeepFailure = (step: UpkeepStep) => void;

async function timed(
  step: UpkeepStep['step'],
  table: string | undefined,
  work: () => Promise<unknown>,
  onFailure: UpkeepFailure,
): Promise<UpkeepStep> {
  const start = performance.now();
  const done: UpkeepStep = { step, ...(table ? { table } : {}), ms: 0 };
  try {
    await work();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    done.failed = typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown';
  }
  done.ms = performance.now() - start;
  if (done.failed) onFailure(done);
  return done;
}

const ignore: UpkeepFailure = () => {};

/**
 * Vacuums and analyzes the tables autovacuum would now (`everyTable`: vacuums them all); one table's failure
 * does not stop the others'.
 */
export async function vacuumWhereDue(pg: PGlite, onFailure = ignore, everyTable = false): Promise<UpkeepStep[]> {
  let rows: { name: string; vacuum: boolean; analyze: boolean }[] = [];
  const looked = await timed(
    'vacuum',
    undefined,
    async () => {
      // Statistics of the last second's statements are flushed at the next statement's end: so they count too.
      await pg.exec('SELECT pg_stat_force_next_flush()');
      rows = (await pg.query<{ name: string; vacuum: boolean; analyze: boolean }>(DUE, [everyTable])).rows;
    },
    onFailure,
  );
  if (looked.failed) return [looked];
  const done = [];
  for (const { name, vacuum, analyze } of rows) {
    // Outside any transaction, as VACUUM must be.
    if (vacuum) done.push(await timed('vacuum', name, () => pg.exec(`VACUUM ${name}`), onFailure));
    if (analyze)
      done.push(
        await timed(
          'analyze',
          name,
          () => pg.transaction((t) => t.exec(`SET LOCAL default_statistics_target = ${STATISTICS_TARGET}; ANALYZE ${name}`)),
          onFailure,
        ),
      );
  }
  return done;
}

export interface UpkeepOptions {
  /** Checkpoint once this much WAL has been written since the last. */
  bytes?: number | undefined;
  onFailure?: UpkeepFailure | undefined;
  /** Vacuum every table, due or not. */
  everyTable?: boolean;
}

/**
 * One look: the vacuums and analyzes due, then a checkpoint if due (their WAL counts towards it). A step
 * that fails is returned with `failed` set and told to `onFailure`; the look goes on, so a table whose
 * ANALYZE always fails does not keep every checkpoint from being written.
 */
export async function upkeep(
  pg: PGlite,
  { bytes = CHECKPOINT_AFTER_BYTES, onFailure = ignore, everyTable = false }: UpkeepOptions = {},
): Promise<UpkeepStep[]> {
  const steps = await vacuumWhereDue(pg, onFailure, everyTable);
  let wrote = false;
  const checkpoint = await timed('checkpoint', undefined, async () => void (wrote = await checkpointWhenDue(pg, bytes)), onFailure);
  if (wrote || checkpoint.failed) steps.push(checkpoint);
  return steps;
}

/**
 * The looks of one open database: when asked (`look`), and every `everyMs` (0: only when asked) until
 * `stop`, which waits for a look in progress. The first vacuums every table: PGlite keeps no activity
 * statistics across a restart, so the dead rows counted before it are forgotten, and a table would wait
 * for as many to die again before its space is reused.
 */
export function upkeepLooks(
  pg: PGlite,
  { everyMs = UPKEEP_LOOK_MS, bytes, onFailure = ignore }: Omit<UpkeepOptions, 'everyTable'> & { everyMs?: number | undefined } = {},
): { look: () => Promise<UpkeepStep[]>; stop: () => Promise<void> } {
  let first = true;
  let stopped = false;
  let looking: Promise<unknown> = Promise.resolve();
  const look = () => {
    const everyTable = first;
    first = false;
    // A failure after stopping is the database closing under the look: not worth telling.
    const p = upkeep(pg, { bytes, everyTable, onFailure: (s) => stopped || onFailure(s) });
    looking = p;
    return p;
  };
  const timer = everyMs ? setInterval(look, everyMs) : null;
  timer?.unref();
  return {
    look,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await looking;
    },
  };
}
