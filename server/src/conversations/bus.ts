// In-process fan-out of conversation events to open SSE streams. Events are also stored in
// conversation_events, so a listener that reconnects (or another process) catches up from the table.
import { EventEmitter } from 'node:events';

export interface ConversationEvent {
  id: number;
  conversationId: string;
  type: string;
  payload: unknown;
}

export class ConversationBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(e: ConversationEvent): void {
    this.emitter.emit(e.conversationId, e);
  }

  subscribe(conversationId: string, fn: (e: ConversationEvent) => void): () => void {
    this.emitter.on(conversationId, fn);
    return () => this.emitter.off(conversationId, fn);
  }
}
