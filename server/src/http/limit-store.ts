// Where rate-limit counters live, so a limit holds across every instance: Redis when REDIS_URL is set
// (rate-limit-redis), else PostgreSQL (migration 082), else — the embedded database, one process — memory.
import { MemoryStore, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { Db } from '../db/index.js';
import { windowKey as hashKey } from '../db/rate-windows.js';

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

/** express-rate-limit's Store over PostgreSQL: one atomic upsert per hit, through SECURITY DEFINER functions. */
export class PostgresLimitStore implements Store {
  windowMs = 60_000;
  readonly localKeys = false;
  constructor(
    private readonly db: Db,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  private call<R>(sql: string, params: unknown[]): Promise<R[]> {
    return this.db.withoutTenant({ requestId: null }, async (tx) => (await tx.query<R>(sql, params)).rows);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const [row] = await this.call<Window>('SELECT hits, reset_at FROM parley_rate_limit_get($1)', [hashKey(this.prefix, key)]);
    return row ? info(row) : undefined;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const w = await this.db.countHit(hashKey(this.prefix, key), this.windowMs);
    return { totalHits: w.hits, resetTime: w.resetAt };
  }

  async decrement(key: string): Promise<void> {
    await this.call('SELECT parley_rate_limit_undo($1)', [hashKey(this.prefix, key)]);
  }

  async resetKey(key: string): Promise<void> {
    await this.call('SELECT parley_rate_limit_reset($1)', [hashKey(this.prefix, key)]);
  }
}

/** Counters in this process only: right for the embedded database, which is one process by design. */
export function memoryLimitStores(): LimitStores {
  const made: MemoryStore[] = [];
  return {
    kind: 'memory',
    create: () => {
      const s = new MemoryStore();
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
