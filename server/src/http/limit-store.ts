// Where rate-limit counters live, so a limit holds across every instance: Redis when REDIS_URL is set
// (rate-limit-redis), else PostgreSQL (migration 082), else — the embedded database, one process — memory.
import { MemoryStore, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { Db } from '../db/index.js';
import { windowKey as hashKey, type WindowCount } from '../db/rate-windows.js';

export interface LimitStores {
  readonly kind: 'memory' | 'postgres' | 'redis';
  /** A new store for one limiter; `prefix` keeps its counters apart from every other limiter's. */
  create(prefix: string): Store;
  close(): Promise<void>;
}

interface Window {
  hits: number;
  reset_at: Date | string;
}
const info = (row: Window | undefined): ClientRateLimitInfo => ({ totalHits: row?.hits ?? 0, resetTime: row ? new Date(row.reset_at) : undefined });

/**
 * A count known without waiting, answered in the check phase, as a batched hit is (rate-windows.ts): the
 * requests read in one poll phase then go on together. Answering each as it is read woke a busy instance
 * once per request (widget config at c=100: 57–59 % of /healthz against 69–73 % on PostgreSQL; on the
 * embedded database's memory store, 228 against 192 µs of CPU per page view at c=10).
 */
const inCheckPhase = (counted: ClientRateLimitInfo): Promise<ClientRateLimitInfo> => new Promise((done) => setImmediate(done, counted));

/**
 * Counting a hit without waiting for the database: only in windows with room for at least this many hits,
 * while this instance knows the window to be at most this share full.
 */
export const UNAWAITED = { minLimit: 100, maxShare: 0.5 };
/** Keys whose window this instance remembers (the oldest learnt is forgotten first). */
const KNOWN_KEYS = 10_000;
/** How long hits let through without waiting are added up before they are written, one addition per key. */
const UNAWAITED_FLUSH_MS = 100;

interface Known {
  hits: number;
  resetAt: Date;
}

/**
 * express-rate-limit's Store over PostgreSQL: one atomic upsert per hit, through SECURITY DEFINER functions,
 * batched with the hits asked for at the same moment (Db.countHit).
 *
 * A busy key (a tenant's widget traffic, a visitor's session, an office's address) would otherwise make
 * every request wait a round trip for a count that is nowhere near its limit. So this instance remembers
 * what the database last answered for a key; while that window is at most half full (and the limit is at
 * least 100), the request is let through at once on that count plus the hits let through since, and those
 * hits are added up and written every 100 ms, one addition per key, whose answer updates what is known. A
 * key not known here, an ended window, a fuller window or a small limit waits for the database as before,
 * so refusals stay exact where they are near. Other instances' hits since the last answer are not seen:
 * the window could be overrun only if they sent more than half the limit within about 100 ms. Hits let
 * through in the last 100 ms before an instance stops may go uncounted, as after a crash.
 */
export class PostgresLimitStore implements Store {
  windowMs = 60_000;
  readonly localKeys = false;
  private limit = 0;
  private readonly known = new Map<string, Known>();
  /** Hits let through without waiting, not written yet, per key. */
  private unsent = new Map<string, number>();
  private flushing: NodeJS.Timeout | null = null;
  constructor(
    private readonly db: Db,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
    // A limit worked out per request is not known here: such a limiter always waits.
    this.limit = typeof options.limit === 'number' ? options.limit : 0;
  }

  private call<R>(sql: string, params: unknown[]): Promise<R[]> {
    return this.db.withoutTenant({ requestId: null }, async (tx) => (await tx.query<R>(sql, params)).rows);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const [row] = await this.call<Window>('SELECT hits, reset_at FROM parley_rate_limit_get($1)', [hashKey(this.prefix, key)]);
    return row ? info(row) : undefined;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const k = this.known.get(key);
    if (k && k.resetAt.getTime() > Date.now() && this.limit >= UNAWAITED.minLimit && k.hits + 1 <= this.limit * UNAWAITED.maxShare) {
      k.hits += 1;
      this.unsent.set(key, (this.unsent.get(key) ?? 0) + 1);
      this.flushing ??= setTimeout(() => void this.flush(), UNAWAITED_FLUSH_MS).unref();
      return inCheckPhase({ totalHits: k.hits, resetTime: k.resetAt });
    }
    const w = this.learn(key, await this.db.countHit(hashKey(this.prefix, key), this.windowMs));
    return { totalHits: w.hits, resetTime: w.resetAt };
  }

  /** Writes the hits let through without waiting. */
  async flush(): Promise<void> {
    if (this.flushing) clearTimeout(this.flushing);
    this.flushing = null;
    const unsent = this.unsent;
    this.unsent = new Map();
    await Promise.all(
      [...unsent].map(([key, n]) =>
        this.db.countHit(hashKey(this.prefix, key), this.windowMs, n).then(
          (w) => this.learn(key, w),
          // Uncounted, as when a waiting hit fails: the limiters fail open (rate-limit.ts).
          () => {},
        ),
      ),
    );
  }

  /** Keeps the database's answer for `key`: a later window replaces an earlier one; within one, the higher count wins. */
  private learn(key: string, w: WindowCount): WindowCount {
    const k = this.known.get(key);
    const same = k && k.resetAt.getTime() === w.resetAt.getTime();
    this.known.delete(key);
    if (!k || same || w.resetAt > k.resetAt)
      this.known.set(key, { hits: same ? Math.max(k.hits, w.hits) : w.hits, resetAt: same ? k.resetAt : w.resetAt });
    else this.known.set(key, k);
    if (this.known.size > KNOWN_KEYS) this.known.delete(this.known.keys().next().value!);
    return w;
  }

  async decrement(key: string): Promise<void> {
    await this.call('SELECT parley_rate_limit_undo($1)', [hashKey(this.prefix, key)]);
  }

  async resetKey(key: string): Promise<void> {
    this.known.delete(key);
    await this.call('SELECT parley_rate_limit_reset($1)', [hashKey(this.prefix, key)]);
  }
}

/** express-rate-limit's MemoryStore, answering in the check phase (`inCheckPhase`). The count is taken at once. */
export class CheckPhaseMemoryStore extends MemoryStore {
  override async increment(key: string): Promise<ClientRateLimitInfo> {
    // A copy: the store's own record goes on counting the hits that come before this one is answered.
    const { totalHits, resetTime } = await super.increment(key);
    return inCheckPhase({ totalHits, resetTime });
  }
}

/** Counters in this process only: right for the embedded database, which is one process by design. */
export function memoryLimitStores(): LimitStores {
  const made: MemoryStore[] = [];
  return {
    kind: 'memory',
    create: () => {
      const s = new CheckPhaseMemoryStore();
      made.push(s);
      return s;
    },
    close: async () => {
      for (const s of made) s.shutdown();
    },
  };
}

export function postgresLimitStores(db: Db): LimitStores {
  return { kind: 'postgres', create: (prefix) => new PostgresLimitStore(db, prefix), close: async () => {} };
}

/** The stores a database gets when Redis is not configured. */
export const databaseLimitStores = (db: Db): LimitStores => (db.kind === 'postgres' ? postgresLimitStores(db) : memoryLimitStores());

/**
 * Redis through node-redis, connected before any limiter is built (rate-limit-redis loads its scripts
 * at that moment; a failed load would stay failed). The client does not queue commands while it is
 * disconnected: a counter that cannot be reached fails at once, and the limiters then let the request
 * through (fail open, see rate-limit.ts) instead of holding it until Redis is back.
 */
export async function redisLimitStores(url: string, keyPrefix: string, logger: Logger): Promise<LimitStores> {
  // Loaded only where Redis is configured: most deployments never need the client.
  const [{ createClient }, { RedisStore }] = await Promise.all([import('redis'), import('rate-limit-redis')]);
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5000) },
  });
  let reported = false;
  client.on('error', (err: Error) => {
    // One line per outage, not one per reconnect attempt; the URL may hold a password, so never log it.
    if (!reported) logger.error({ err: { message: err.message } }, 'redis (rate limits) unreachable; limits are not enforced until it is back');
    reported = true;
  });
  client.on('ready', () => {
    if (reported) logger.info('redis (rate limits) reachable again');
    reported = false;
  });
  // At start an unreachable Redis is a configuration error: the instance refuses to start rather than
  // serve with limits it cannot enforce (running instances, by contrast, ride out an outage: see above).
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('REDIS_URL is set but Redis did not answer within 10 seconds')), 10_000);
      }),
    ]);
  } catch (err) {
    client.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    kind: 'redis',
    create: (prefix) => new RedisStore({ prefix: `${keyPrefix}rl:${prefix}:`, sendCommand: (...args: string[]) => client.sendCommand(args) }),
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
}
