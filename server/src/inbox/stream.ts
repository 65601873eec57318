// The tenant's live inbox: one room per tenant that reads the feed once per batch, in commit order
// ((xid, id) below the oldest running transaction, see store.feedAfter), and fans it out to every
// console stream of the tenant, each from its own cursor. A bus notification (an event committed in
// this process) wakes the room at once; a slow poll catches what other instances commit and what a
// long transaction held back.
import type { InboxCounts, InboxRow } from '@parley/protocol';
import type { Keyring } from '../crypto/keyring.js';
import type { Db } from '../db/index.js';
import type { ConversationBus } from '../conversations/bus.js';
import { wake } from '../conversations/room.js';
import { TYPING_LIVE_MS } from '../conversations/hub.js';
import { compareCursors, counts, formatCursor, rowsOf, type Cursor } from './service.js';
import { feedAfter, type FeedRow } from './store.js';

export interface InboxListener {
  /** The member whose `mine` count this stream shows (null for a key). */
  memberId: string | null;
  /** Whether this stream may see every conversation's proposed actions (approvals:decide), not only the inbox's. */
  decidesApprovals: boolean;
  cursor: Cursor;
  send(event: string, data: unknown, id?: string): void;
  /** The room could not read; the stream should end (the client resumes with Last-Event-ID). */
  close(): void;
}

const BATCH = 500;
/** How soon a room reads again while events wait behind an older transaction, doubling up to the poll. */
const HELD_RETRY_MS = 25;
/** Events that change a row of the inbox: the stream sends the row's new snapshot. */
const ROW_EVENTS = new Set(['message', 'handoff', 'status', 'assigned', 'resolved', 'reopened', 'contact', 'csat']);
/** Events passed on as they are, with their conversation. */
const PASSED_ON = new Set(['message', 'note', 'typing', 'action']);

interface Room {
  listeners: Set<InboxListener>;
  reading: boolean;
  dirty: boolean;
  stop: () => void;
  /** A read again, set while events wait behind an older transaction; and how long it waits. */
  retry: NodeJS.Timeout | null;
  retryMs: number;
}

export class InboxHub {
  private readonly rooms = new Map<string, Room>();

  /** `pollMs`: how often a room also reads the table, for events whose notification was lost (PARLEY_INBOX_POLL_MS). */
  constructor(private readonly deps: { db: Db; bus: ConversationBus; keyring: Keyring; pollMs: number }) {}

  /** Adds a stream; it receives every change after its cursor, then live ones, each once. Returns leave. */
  join(tenantId: string, listener: InboxListener): () => void {
    let room = this.rooms.get(tenantId);
    if (!room) {
      const created: Room = { listeners: new Set(), reading: false, dirty: false, stop: () => {}, retry: null, retryMs: HELD_RETRY_MS };
      const unsubscribe = this.deps.bus.subscribeTenant(tenantId, () => this.kick(tenantId, created));
      const timer = setInterval(() => this.kick(tenantId, created), this.deps.pollMs);
      timer.unref();
      created.stop = () => {
        unsubscribe();
        clearInterval(timer);
        if (created.retry) clearTimeout(created.retry);
      };
      this.rooms.set(tenantId, created);
      room = created;
    }
    const r = room;
    r.listeners.add(listener);
    this.kick(tenantId, r);
    return () => {
      if (!r.listeners.delete(listener)) return;
      if (r.listeners.size === 0 && !r.reading) this.drop(tenantId, r);
    };
  }

  /**
   * Events behind the horizon are announced by no notification when the older transaction ends: read again
   * soon, then less often (up to the poll) while a long transaction keeps them back.
   */
  private retryIfHeld(tenantId: string, room: Room, held: boolean): void {
    if (!held) {
      room.retryMs = HELD_RETRY_MS;
      return;
    }
    if (room.retry) return;
    room.retry = setTimeout(() => {
      room.retry = null;
      if (this.rooms.get(tenantId) === room) this.kick(tenantId, room);
    }, room.retryMs);
    room.retry.unref();
    room.retryMs = Math.min(room.retryMs * 2, this.deps.pollMs);
  }

  private drop(tenantId: string, room: Room) {
    if (this.rooms.get(tenantId) === room) this.rooms.delete(tenantId);
    room.stop();
  }

  private kick(tenantId: string, room: Room): void {
    wake(
      room,
      () => this.readOnce(tenantId, room),
      () => this.drop(tenantId, room),
    );
  }

  /** One read for every stream of the tenant; returns whether the batch was full. */
  private async readOnce(tenantId: string, room: Room): Promise<boolean> {
    const listeners = [...room.listeners];
    const from = listeners.map((l) => l.cursor).reduce((a, b) => (compareCursors(a, b) <= 0 ? a : b));
    const members = [...new Set(listeners.map((l) => l.memberId))];
    const batch = await this.deps.db.withTenant(tenantId, { requestId: null }, async (tx) => {
      const { events, held } = await feedAfter(tx, from, BATCH);
      const changed = [
        ...new Set(events.filter((e) => e.conversation_id && (ROW_EVENTS.has(e.type) || PASSED_ON.has(e.type))).map((e) => e.conversation_id!)),
      ];
      const rows = await rowsOf(tx, this.deps.keyring, tenantId, changed);
      const tally = new Map<string | null, InboxCounts>();
      if (events.some((e) => ROW_EVENTS.has(e.type))) for (const m of members) tally.set(m, await counts(tx, m));
      // A full batch is read again at once anyway.
      return { events, rows, tally, held: held && events.length < BATCH };
    });
    this.retryIfHeld(tenantId, room, batch.held);
    const stale = Date.now() - TYPING_LIVE_MS;
    // The last event of each conversation in the batch carries its row's snapshot.
    const lastOf = new Map<string, number>();
    batch.events.forEach((e, i) => {
      if (e.conversation_id && ROW_EVENTS.has(e.type)) lastOf.set(e.conversation_id, i);
    });
    for (const l of room.listeners) {
      // A stream that joined during the read (with an older cursor) waits for the next read.
      if (compareCursors(l.cursor, from) < 0) continue;
      let sent = false;
      batch.events.forEach((e, i) => {
        const at = { xid: e.xid, id: e.id };
        if (compareCursors(at, l.cursor) <= 0) return;
        l.cursor = at;
        sent = deliver(l, e, i, formatCursor(at), batch.rows, lastOf, stale) || sent;
      });
      const tally = batch.tally.get(l.memberId);
      if (sent && tally) l.send('counts', tally);
    }
    return batch.events.length >= BATCH;
  }
}

/** Sends what one feed event means to the inbox; returns whether anything was sent. */
function deliver(
  l: InboxListener,
  e: FeedRow,
  index: number,
  id: string,
  rows: Map<string, InboxRow>,
  lastOf: Map<string, number>,
  stale: number,
): boolean {
  if (e.type === 'presence') {
    l.send('presence', e.payload, id);
    return true;
  }
  const conversationId = e.conversation_id;
  // Only conversations with a handoff are in the inbox; a proposal waits for whoever decides, wherever it is.
  const row = conversationId ? rows.get(conversationId) : undefined;
  if (conversationId && !row && e.type === 'action' && l.decidesApprovals) {
    l.send('action', { conversationId, ...(e.payload as object) }, id);
    return true;
  }
  if (!conversationId || !row) return false;
  const snapshot = lastOf.get(conversationId) === index;
  const passed = PASSED_ON.has(e.type) && !(e.type === 'typing' && e.created_at.getTime() < stale);
  if (snapshot) l.send('conversation', { row }, passed ? undefined : id);
  if (passed) l.send(e.type, { conversationId, ...(e.payload as object) }, id);
  return snapshot || passed;
}
