// Wake-ups for the open event streams of this process. Events live in conversation_events; the bus only
// says "read again" to the rooms of a conversation and of its tenant's inbox. An event reaches it twice
// on PostgreSQL: from the route that recorded it (at once, after commit) and from the commit's
// notification (notify.ts, which also carries the other instances' events). Whichever comes first wakes
// the rooms; the other is dropped, so a room is woken once per event.
import { EventEmitter } from 'node:events';

export interface ConversationEvent {
  id: number;
  /** Set on events this process recorded: the tenant's inbox listens on it. */
  tenantId?: string;
  /** Null only for tenant-wide events (presence). */
  conversationId: string | null;
  type: string;
  payload: unknown;
  audience?: 'all' | 'agents';
  createdAt?: Date;
}

/** What a wake-up needs of an event: its id (to wake once) and where it belongs. */
export type EventRef = Pick<ConversationEvent, 'id' | 'tenantId' | 'conversationId'>;

/** Event ids remembered per generation; two generations bound the memory and outlast any notification delay. */
const GENERATION = 5_000;

export class ConversationBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private seen = new Set<number>();
  private older = new Set<number>();

  publish(e: EventRef): void {
    if (this.seen.has(e.id) || this.older.has(e.id)) return;
    this.seen.add(e.id);
    if (this.seen.size >= GENERATION) {
      this.older = this.seen;
      this.seen = new Set();
    }
    if (e.conversationId) this.emitter.emit(e.conversationId);
    if (e.tenantId) this.emitter.emit(tenantChannel(e.tenantId));
  }

  /** Wakes every room in this process: notifications may have been missed, so all read the table again. */
  wakeAll(): void {
    for (const name of this.emitter.eventNames()) this.emitter.emit(name);
  }

  /** Every event of a tenant (the inbox stream's wake-up). */
  subscribeTenant(tenantId: string, fn: () => void): () => void {
    return this.subscribe(tenantChannel(tenantId), fn);
  }

  subscribe(conversationId: string, fn: () => void): () => void {
    this.emitter.on(conversationId, fn);
    return () => this.emitter.off(conversationId, fn);
  }
}

const tenantChannel = (tenantId: string) => `tenant:${tenantId}`;
