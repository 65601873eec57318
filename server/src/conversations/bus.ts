// In-process fan-out of conversation events to open SSE streams. Events are also stored in
// conversation_events, so a listener that reconnects (or another process) catches up from the table.
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

export class ConversationBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(e: ConversationEvent): void {
    if (e.conversationId) this.emitter.emit(e.conversationId, e);
    if (e.tenantId) this.emitter.emit(tenantChannel(e.tenantId), e);
  }

  /** Every event recorded in this process for a tenant (the inbox stream's wake-up). */
  subscribeTenant(tenantId: string, fn: (e: ConversationEvent) => void): () => void {
    return this.subscribe(tenantChannel(tenantId), fn);
  }

  subscribe(conversationId: string, fn: (e: ConversationEvent) => void): () => void {
    this.emitter.on(conversationId, fn);
    return () => this.emitter.off(conversationId, fn);
  }
}

const tenantChannel = (tenantId: string) => `tenant:${tenantId}`;
