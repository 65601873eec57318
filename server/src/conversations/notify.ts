// Conversation events across instances (DESIGN "Many instances"): the statement that stores an event
// also calls pg_notify, so the notification leaves with the commit and never for a rollback. It carries
// ids only (tenant, conversation or empty, event id), never text: a room woken by it reads the event from
// the table like any other wake-up. Each instance on PostgreSQL keeps one LISTEN connection outside the
// pool and passes what it hears to its own bus. Notifications sent while that connection was down are
// lost, so every (re)connection wakes all local rooms to catch up from the table. The embedded database
// serves one process: there the bus is fed by the routes alone and nobody listens.
import pg from 'pg';
import type { Logger } from 'pino';
import type { ConversationBus } from './bus.js';

export const EVENTS_CHANNEL = 'parley_conversation_events';

/**
 * The select list entry that notifies for the row `e` of a CTE inserting into conversation_events
 * (`WITH e AS (INSERT … RETURNING id, tenant_id, conversation_id) SELECT …, ${notifyEvent} FROM e`).
 */
export const notifyEvent = `pg_notify('${EVENTS_CHANNEL}', e.tenant_id || ':' || coalesce(e.conversation_id::text, '') || ':' || e.id) AS notified`;

/** Reads a notification's payload; null for anything malformed. */
export function parseEventNotice(payload: string | undefined): { tenantId: string; conversationId: string | null; id: number } | null {
  const [tenantId, conversationId, id] = (payload ?? '').split(':');
  const n = Number(id);
  if (!tenantId || conversationId === undefined || !Number.isSafeInteger(n) || n <= 0) return null;
  return { tenantId, conversationId: conversationId || null, id: n };
}

/** Another channel heard on the same connection, told too whether the connection listens. */
export interface NoticeChannel {
  channel: string;
  heard(payload: string | undefined): void;
  listening(on: boolean): void;
}

export interface EventListenerOptions {
  /** The database URL (any role may LISTEN). */
  url: string;
  bus: ConversationBus;
  logger: Logger;
  /** Reconnect delays: the first, doubled per failure up to the last (with jitter). */
  backoffMs?: { first: number; max: number };
  /** A query this often proves the connection alive; one unanswered for as long again drops it. */
  pingMs?: number;
  /** Other channels to hear (key changes: tenants/key-cache.ts). */
  also?: NoticeChannel[];
}

export class EventListener {
  private client: pg.Client | null = null;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  private ping: NodeJS.Timeout | null = null;
  private stopped = false;
  /** (Re)connections that reached LISTEN, for tests and logs. */
  connections = 0;

  constructor(private readonly o: EventListenerOptions) {}

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
    const c = this.client;
    this.client = null;
    for (const a of this.o.also ?? []) a.listening(false);
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.retry = null;
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.o.url, keepAlive: true, application_name: 'parley-listen' });
    this.client = client;
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    const also = this.o.also ?? [];
    client.on('notification', (m) => {
      if (m.channel === EVENTS_CHANNEL) {
        const e = parseEventNotice(m.payload);
        if (e) this.o.bus.publish(e);
      } else also.find((a) => a.channel === m.channel)?.heard(m.payload);
    });
    try {
      await client.connect();
      await client.query([EVENTS_CHANNEL, ...also.map((a) => a.channel)].map((c) => `LISTEN ${c};`).join(' '));
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.client !== client) return;
    this.failures = 0;
    this.connections++;
    if (this.connections > 1) this.o.logger.info('conversation event listener reconnected');
    // Whatever was committed while nobody listened is in the table: every room reads it now.
    this.o.bus.wakeAll();
    for (const a of also) a.listening(true);
  }

  private lost(client: pg.Client, err?: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners('notification');
    for (const a of this.o.also ?? []) a.listening(false);
    client.end().catch(() => undefined);
    if (this.stopped) return;
    const { first, max } = this.o.backoffMs ?? { first: 250, max: 10_000 };
    const delay = Math.min(max, first * 2 ** this.failures++) * (0.5 + Math.random() / 2);
    this.o.logger.warn({ err: err ? { message: err.message } : undefined, retryInMs: Math.round(delay) }, 'conversation event listener lost');
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
