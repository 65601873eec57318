// Live event streams in one process: a cap on open streams per visitor and per tenant, and one room
// per conversation that reads each batch of new events once and fans it out to every open stream of
// that conversation, each filtered by its own Last-Event-ID. Reads do not grow with the number of
// streams: a bus notification (or a new stream) marks the room dirty, one read runs at a time, and
// a read started while another runs is folded into the next. Visitor streams get only events meant for
// everyone (never a note, the visitor's own typing or a left email), with reversible values restored
// (once per batch: the room is one conversation, and every visitor stream in it passed the access
// check) and no member ids; agent streams get the stored, redacted form. Typing is live only: a stream
// resuming later does not replay it.
import type { Db } from '../db/index.js';
import { DomainError } from '../errors.js';
import type { ConversationBus, ConversationEvent } from './bus.js';
import { wake } from './room.js';
import { eventsAfter, resolutionRated, visitorMessage, type ConversationRow, type MessageView } from './service.js';
import type { Redactor } from './turn.js';

export type StreamView = 'visitor' | 'agent';

export interface StreamListener {
  view: StreamView;
  /** The id of the last event this stream has (Last-Event-ID), 0 for none. */
  last: number;
  send(e: ConversationEvent): void;
  /** The room could not read; the stream should end (the client resumes with Last-Event-ID). */
  close(): void;
}

export interface StreamLimits {
  perVisitor: number;
  perTenant: number;
  /** Of a tenant's places, what one network address may hold: visitors cost a request each to mint. */
  perAddress?: number;
}

/** Seconds a client is asked to wait when over a cap. */
const RETRY_AFTER_SECONDS = 15;
/** eventsAfter reads at most this many per query; a full batch means more are waiting. */
const BATCH = 500;
/** A typing event older than this is not delivered (a resumed stream would show a stale indicator). */
export const TYPING_LIVE_MS = 10_000;

interface Room {
  tenantId: string;
  listeners: Set<StreamListener>;
  reading: boolean;
  dirty: boolean;
  unsubscribe: () => void;
}

export class ConversationHub {
  private readonly rooms = new Map<string, Room>();
  private readonly tenants = new Map<string, number>();
  private readonly visitors = new Map<string, number>();
  private readonly addresses = new Map<string, number>();

  constructor(private readonly deps: { db: Db; bus: ConversationBus; redactor: Pick<Redactor, 'restoreForVisitor'>; limits: StreamLimits }) {}

  /**
   * Takes a place for one stream of this visitor (or agent) in this tenant, from this address when a
   * visitor's, or throws a 429 problem when a cap is reached. Call before opening the stream; the returned
   * release is idempotent.
   */
  reserve(tenantId: string, holder: string, address?: string): () => void {
    const { perVisitor, perTenant, perAddress } = this.deps.limits;
    const holderKey = `${tenantId}\u0000${holder}`;
    const addressKey = address && perAddress ? `${tenantId}\u0000${address}` : null;
    const retry = { retryAfterSeconds: RETRY_AFTER_SECONDS };
    if ((this.visitors.get(holderKey) ?? 0) >= perVisitor) {
      throw new DomainError('too_many_streams', `Too many open event streams for this visitor (at most ${perVisitor}); close one and retry.`, retry);
    }
    if (addressKey && (this.addresses.get(addressKey) ?? 0) >= perAddress!) {
      throw new DomainError(
        'too_many_streams',
        `Too many open event streams from this network address for this site (at most ${perAddress}); retry shortly.`,
        retry,
      );
    }
    if ((this.tenants.get(tenantId) ?? 0) >= perTenant) {
      throw new DomainError(
        'too_many_streams',
        `This site has too many open event streams right now (at most ${perTenant} per server); retry shortly.`,
        retry,
      );
    }
    bump(this.visitors, holderKey, 1);
    bump(this.tenants, tenantId, 1);
    if (addressKey) bump(this.addresses, addressKey, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bump(this.visitors, holderKey, -1);
      bump(this.tenants, tenantId, -1);
      if (addressKey) bump(this.addresses, addressKey, -1);
    };
  }

  /** Open streams, for tests and metrics. */
  openStreams(tenantId: string): number {
    return this.tenants.get(tenantId) ?? 0;
  }

  /**
   * Adds a stream to its conversation's room; it receives every event after `listener.last`, first
   * those already stored, then live ones, each once and in order. Returns leave (idempotent).
   */
  join(tenantId: string, conversationId: string, listener: StreamListener): () => void {
    let room = this.rooms.get(conversationId);
    if (!room) {
      const created: Room = { tenantId, listeners: new Set(), reading: false, dirty: false, unsubscribe: () => {} };
      created.unsubscribe = this.deps.bus.subscribe(conversationId, () => this.kick(conversationId, created));
      this.rooms.set(conversationId, created);
      room = created;
    }
    if (room.tenantId !== tenantId) throw new Error('conversation joined under another tenant');
    const r = room;
    r.listeners.add(listener);
    this.kick(conversationId, r);
    return () => {
      if (!r.listeners.delete(listener)) return;
      if (r.listeners.size === 0 && !r.reading) this.drop(conversationId, r);
    };
  }

  private drop(conversationId: string, room: Room) {
    if (this.rooms.get(conversationId) === room) this.rooms.delete(conversationId);
    room.unsubscribe();
  }

  private kick(conversationId: string, room: Room): void {
    wake(
      room,
      () => this.readOnce(conversationId, room),
      () => this.drop(conversationId, room),
    );
  }

  /** One transaction for every stream of the room; returns whether the batch was full. */
  private async readOnce(conversationId: string, room: Room): Promise<boolean> {
    const listeners = [...room.listeners];
    const from = Math.min(...listeners.map((l) => l.last));
    const wantVisitor = listeners.some((l) => l.view === 'visitor');
    const batch = await this.deps.db.withTenant(room.tenantId, { requestId: null }, async (tx) => {
      const events = await eventsAfter(tx, conversationId, from);
      const forVisitor = new Map<number, unknown>();
      if (wantVisitor) {
        let c: ConversationRow | undefined;
        for (const e of events) {
          if (e.audience === 'agents') continue;
          if (hasMessage(e)) {
            c ??= (await tx.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [conversationId])).rows[0];
            if (!c) throw new Error('conversation is gone');
            const message = visitorMessage((e.payload as { message: MessageView }).message);
            forVisitor.set(e.id, {
              ...(e.payload as object),
              message: { ...message, text: await this.deps.redactor.restoreForVisitor(tx, c, message.text) },
            });
          } else if (e.type === 'resolved') {
            // What the visitor already did is not asked again when the feed is replayed.
            const p = e.payload as { handoff: { id: string }; resolution?: number; csat: boolean };
            if (p.csat && p.resolution && (await resolutionRated(tx, p.handoff.id, p.resolution))) forVisitor.set(e.id, { ...p, csat: false });
          } else if (e.type === 'handoff') {
            c ??= (await tx.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [conversationId])).rows[0];
            if (c?.contact_left_at) forVisitor.set(e.id, { ...(e.payload as object), contactLeft: true });
          } else if (e.type === 'assigned') {
            const p = e.payload as { assignee: { displayName: string } | null };
            forVisitor.set(e.id, { ...p, assignee: p.assignee ? { displayName: p.assignee.displayName } : null });
          }
        }
      }
      return { events, forVisitor };
    });
    const stale = Date.now() - TYPING_LIVE_MS;
    // A stream that joined during the read (with an older cursor) is not covered by this batch: it
    // waits for the next read, which its join already asked for.
    for (const l of room.listeners) {
      if (l.last < from) continue;
      for (const e of batch.events) {
        if (e.id <= l.last) continue;
        l.last = e.id;
        if (l.view === 'visitor' && e.audience === 'agents') continue;
        if (e.type === 'typing' && (e.createdAt?.getTime() ?? 0) < stale) continue;
        const payload = l.view === 'visitor' && batch.forVisitor.has(e.id) ? batch.forVisitor.get(e.id) : e.payload;
        l.send({ ...e, payload });
      }
    }
    return batch.events.length >= BATCH;
  }
}

const hasMessage = (e: ConversationEvent) => typeof (e.payload as { message?: { text?: unknown } } | null)?.message?.text === 'string';

function bump(map: Map<string, number>, key: string, by: number) {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
