// Typing indicators, both ways. They travel as feed events (so every instance's streams see them) but
// are throttled here first: one `active: true` per author per conversation every 2 s, and a stop only
// after a start. A visitor's typing is for agents only; an agent's is for everyone in the conversation.
import type { Tx } from '../db/types.js';
import type { ConversationEvent } from './bus.js';
import { recordEvent } from './service.js';

const ACTIVE_EVERY_MS = 2_000;
/** Forget authors idle this long, so the map stays the size of the conversations being typed in. */
const FORGET_AFTER_MS = 60_000;

export interface Typist {
  role: 'visitor' | 'agent';
  /** Who, within the conversation: the visitor's reference, or the agent's id. */
  key: string;
  /** An agent's display name (shown to the visitor and to other agents). */
  name?: string;
}

export class TypingThrottle {
  private readonly last = new Map<string, { at: number; active: boolean }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether this signal goes out now; records it when it does. */
  admit(conversationId: string, who: Typist, active: boolean): boolean {
    const t = this.now();
    const k = `${conversationId}\u0000${who.role}\u0000${who.key}`;
    const prev = this.last.get(k);
    if (active ? prev?.active && t - prev.at < ACTIVE_EVERY_MS : !prev?.active) return false;
    this.last.set(k, { at: t, active });
    if (this.last.size > 1000) for (const [key, v] of this.last) if (t - v.at > FORGET_AFTER_MS) this.last.delete(key);
    return true;
  }
}

/** Records a typing signal (already admitted) as a feed event. */
export function recordTyping(tx: Tx, tenantId: string, conversationId: string, who: Typist, active: boolean): Promise<ConversationEvent> {
  const payload = { role: who.role, ...(who.name ? { name: who.name } : {}), active };
  return recordEvent(tx, tenantId, conversationId, 'typing', payload, who.role === 'visitor' ? 'agents' : 'all');
}
