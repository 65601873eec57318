// What an instance hears of writes committed elsewhere (DESIGN "Many instances"): one LISTEN connection
// outside the pool, on PostgreSQL, for every channel (conversation events, key changes, page-view changes).
// Notices sent while it is down are lost, so each channel is told whether it is heard, and catches up its
// own way once it is again. A ping proves the connection alive; a lost one reconnects with backoff.
import pg from 'pg';
import type { Logger } from 'pino';

/** A channel and what hears it: each notice's payload, and whether the connection listens at all. */
export interface NoticeChannel {
  channel: string;
  heard(payload: string | undefined): void;
  /** Told on every (re)connection and loss: what was sent meanwhile is gone, so each catches up its own way. */
  listening(on: boolean): void;
}

export interface NoticeListenerOptions {
  /** The database URL (any role may LISTEN). */
  url: string;
  channels: NoticeChannel[];
  logger: Logger;
  /** Reconnect delays: the first, doubled per failure up to the last (with jitter). */
  backoffMs?: { first: number; max: number };
  /** A query this often proves the connection alive; one unanswered for as long again drops it. */
  pingMs?: number;
}

export class NoticeListener {
  private client: pg.Client | null = null;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  private ping: NodeJS.Timeout | null = null;
  private stopped = false;
  /** (Re)connections that reached LISTEN, for tests and logs. */
  connections = 0;

  constructor(private readonly o: NoticeListenerOptions) {}

  /** Connects and listens; resolves after the first attempt (a failed one keeps retrying in the background). */
  start(): Promise<void> {
    const pingMs = this.o.pingMs ?? 30_000;
    this.ping = setInterval(() => this.check(pingMs), pingMs);
    this.ping.unref();
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.ping) clearInterval(this.ping);
    const client = this.client;
    this.client = null;
    for (const c of this.o.channels) c.listening(false);
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.retry = null;
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.o.url, keepAlive: true, application_name: 'parley-listen' });
    this.client = client;
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    const { channels } = this.o;
    client.on('notification', (m) => channels.find((c) => c.channel === m.channel)?.heard(m.payload));
    try {
      await client.connect();
      await client.query(channels.map((c) => `LISTEN ${c.channel};`).join(' '));
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.client !== client) return;
    this.failures = 0;
    this.connections++;
    if (this.connections > 1) this.o.logger.info('database notice listener reconnected');
    for (const c of channels) c.listening(true);
  }

  private lost(client: pg.Client, err?: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners('notification');
    for (const c of this.o.channels) c.listening(false);
    client.end().catch(() => undefined);
    if (this.stopped) return;
    const { first, max } = this.o.backoffMs ?? { first: 250, max: 10_000 };
    const delay = Math.min(max, first * 2 ** this.failures++) * (0.5 + Math.random() / 2);
    this.o.logger.warn({ err: err ? { message: err.message } : undefined, retryInMs: Math.round(delay) }, 'database notice listener lost');
    this.retry = setTimeout(() => void this.connect(), delay);
    this.retry.unref();
  }

  /** A connection that died without a word (a dropped route) would otherwise stay silent for good. */
  private check(timeoutMs: number): void {
    const client = this.client;
    if (!client) return;
    const timer = setTimeout(() => this.lost(client, new Error('ping unanswered')), timeoutMs);
    timer.unref();
    client.query('SELECT 1').then(
      () => clearTimeout(timer),
      (err: Error) => {
        clearTimeout(timer);
        this.lost(client, err);
      },
    );
  }
}
