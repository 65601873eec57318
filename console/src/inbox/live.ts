// The live inbox: one EventSource on the tenant's inbox stream for the whole console, and the state it
// keeps (row snapshots, counts, teammates' presence, who is typing, what is unread). Views subscribe to
// it; nothing here renders.
//
// The stream is authenticated by the session cookie. When it fails for good (EventSource gives no status:
// an expired access cookie looks like any refusal), one cheap admin request tells which it is: the API
// client renews the session on a 401, or reports it signed out. Then the stream is opened again, naming
// the last event it had (`?after=`), since a new EventSource cannot send Last-Event-ID itself. A replay
// doubles nothing: rows are snapshots kept by conversation (an older one never replaces a newer), messages
// are kept by id, and a handoff alerts only when this console has not seen it pending before.
import type { PresenceListResponse } from '@parley/protocol';
import type { Api } from '../api.js';
import { ApiError } from '../api.js';
import type { Counts, InboxRow, PaneMessage, Presence, Typing } from './types.js';

export type ConnectionState = 'connecting' | 'live' | 'offline';

/** What a conversation pane is told about its conversation. */
export type ConversationEvent =
  | { type: 'message' | 'note'; message: PaneMessage }
  | { type: 'typing'; typing: Typing }
  | { type: 'conversation'; row: InboxRow };

/** What the alerts module is told: something an agent should notice. */
export type Attention = { kind: 'handoff'; row: InboxRow } | { kind: 'message'; row: InboxRow; conversationId: string; message: PaneMessage };

interface EventSourceLike {
  readonly readyState: number;
  onopen: ((e: Event) => void) | null;
  onerror: ((e: Event) => void) | null;
  addEventListener(type: string, fn: (e: MessageEvent) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

const STREAM = '/v1/admin/inbox/stream';
const CLOSED = 2;
/** The protocol's rule: an indicator clears itself 6 s after the last `active: true`. */
const TYPING_TTL_MS = 6_000;
const SEEN_MAX = 5_000;

export interface LiveOptions {
  api: Api;
  /** The signed-in member (their conversations raise alerts, their own typing is not shown); null for a key. */
  me: { id: string; displayName: string } | null;
  openStream?: EventSourceFactory;
  onAttention?: (a: Attention) => void;
}

export class InboxLive {
  state: ConnectionState = 'connecting';
  counts: Counts | null = null;
  readonly rows = new Map<string, InboxRow>();
  readonly presence = new Map<string, Presence>();
  /** Per conversation, who is typing there (visitor or a teammate) and until when it counts. */
  readonly typing = new Map<string, Typing & { until: number }>();
  /** Conversations with something new for me that I have not looked at. */
  readonly unread = new Set<string>();
  /** The conversation on screen: its news is seen as it arrives. */
  focused: string | null = null;
  private lastId: string | null = null;
  private seenMessages = new Set<string>();
  private es: EventSourceLike | null = null;
  private listeners = new Set<() => void>();
  private paneListeners = new Map<string, Set<(e: ConversationEvent) => void>>();
  private actionListeners = new Set<() => void>();
  private retry = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  constructor(private readonly opts: LiveOptions) {}

  start(): void {
    this.stopped = false;
    this.open();
    void this.loadPresence();
  }

  /** Everyone's presence now; the stream keeps it current. */
  private async loadPresence(): Promise<void> {
    try {
      const { members } = await this.opts.api<PresenceListResponse>('GET', '/presence');
      for (const p of members) if (!this.presence.has(p.memberId)) this.presence.set(p.memberId, p);
      this.changed();
    } catch {
      // Presence is a nicety: the inbox works without it.
    }
  }

  /**
   * A presence the server just answered with (the agent's own switch): kept as the stream's would be, so the
   * list asked for at start, if it is answered later, does not put back what it said before.
   */
  setPresence(p: Presence): void {
    this.presence.set(p.memberId, p);
    this.changed();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.es?.close();
    this.es = null;
  }

  /** Re-renders on any change. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called when a proposal of the approval rail changes status (the `action` event). */
  onAction(fn: () => void): () => void {
    this.actionListeners.add(fn);
    return () => this.actionListeners.delete(fn);
  }

  /** Events of one conversation, for its open pane. */
  watch(conversationId: string, fn: (e: ConversationEvent) => void): () => void {
    const set = this.paneListeners.get(conversationId) ?? new Set();
    set.add(fn);
    this.paneListeners.set(conversationId, set);
    return () => {
      set.delete(fn);
      if (!set.size) this.paneListeners.delete(conversationId);
    };
  }

  /** Marks a message as already shown (e.g. loaded with the transcript, or sent from this page). */
  knowMessage(id: string): boolean {
    if (this.seenMessages.has(id)) return false;
    remember(this.seenMessages, id);
    return true;
  }

  /** The conversation now on screen; its unread mark goes. */
  focus(conversationId: string | null): void {
    this.focused = conversationId;
    if (conversationId && this.unread.delete(conversationId)) this.changed();
  }

  /** Someone typing in a conversation now (expired entries are ignored). */
  typingIn(conversationId: string): (Typing & { until: number }) | null {
    const t = this.typing.get(conversationId);
    return t && t.active && t.until > Date.now() ? t : null;
  }

  /** Keeps a row a view fetched, unless the stream already brought a newer snapshot of it. */
  upsert(row: InboxRow): void {
    const known = this.rows.get(row.conversationId);
    if (!known || Date.parse(row.updatedAt) >= Date.parse(known.updatedAt)) this.rows.set(row.conversationId, row);
  }

  private open(): void {
    if (this.stopped) return;
    const factory = this.opts.openStream ?? (typeof EventSource === 'undefined' ? null : (url: string) => new EventSource(url));
    // Without server-sent events (a very old browser), the inbox still works by its lists.
    if (!factory) {
      this.setState('offline');
      return;
    }
    this.setState('connecting');
    // A reopened stream names where it stopped; the browser's own reconnects send the header instead.
    const url = this.lastId ? `${STREAM}?after=${encodeURIComponent(this.lastId)}` : STREAM;
    const es = factory(url);
    this.es = es;
    es.onopen = () => {
      this.retry = 0;
      this.setState('live');
    };
    es.onerror = () => {
      if (es !== this.es) return;
      if (es.readyState !== CLOSED) {
        // The browser reconnects by itself (with Last-Event-ID).
        this.setState('connecting');
        return;
      }
      es.close();
      this.es = null;
      this.setState('offline');
      void this.recover();
    };
    for (const type of ['conversation', 'message', 'note', 'typing', 'presence', 'counts', 'action'] as const) {
      es.addEventListener(type, (e) => {
        if (es !== this.es) return;
        this.receive(type, e);
      });
    }
  }

  /** The stream was refused or lost: renew the session if that is why, then open it again after a pause. */
  private async recover(): Promise<void> {
    try {
      await this.opts.api('GET', '/me');
    } catch (err) {
      // Signed out: the API client has shown the sign-in page; nothing to reconnect.
      if (err instanceof ApiError && err.problem.status === 401) return;
    }
    if (this.stopped) return;
    // Refused again and again with the same position (one the server no longer accepts): start afresh;
    // the views read their lists again when the stream opens, so nothing is lost.
    if (this.retry >= 3) this.lastId = null;
    const delay = Math.min(30_000, 1_000 * 2 ** this.retry) * (0.5 + Math.random() / 2);
    this.retry = Math.min(this.retry + 1, 5);
    this.timer = setTimeout(() => this.open(), delay);
  }

  private receive(type: string, e: MessageEvent): void {
    // Where to resume. An event sent without an id carries the previous one here (the EventSource keeps
    // it), so ids cannot tell repeats apart: each event is applied idempotently instead.
    if (e.lastEventId) this.lastId = e.lastEventId;
    let data: unknown;
    try {
      data = JSON.parse(String(e.data));
    } catch {
      return;
    }
    this.apply(type, data);
  }

  /** One event's effect on the state. */
  private apply(type: string, data: unknown): void {
    const d = data as Record<string, unknown>;
    switch (type) {
      case 'conversation': {
        const row = d.row as InboxRow;
        if (!row?.conversationId) return;
        const before = this.rows.get(row.conversationId);
        if (before && Date.parse(row.updatedAt) < Date.parse(before.updatedAt)) return;
        this.rows.set(row.conversationId, row);
        // A handoff this console has not seen before; a reopened one counts again.
        const isNewHandoff = row.status === 'pending' && (before?.handoffId !== row.handoffId || before.status === 'resolved');
        if (isNewHandoff) this.attention(row.conversationId, { kind: 'handoff', row });
        this.emit(row.conversationId, { type: 'conversation', row });
        break;
      }
      case 'message':
      case 'note': {
        const message = d.message as PaneMessage;
        const conversationId = d.conversationId as string;
        if (!conversationId || !message?.id || !this.knowMessage(message.id)) return;
        const row = this.rows.get(conversationId);
        // A row shows a person's latest words (as the server's list does): the assistant's do not replace them.
        if (row && type === 'message' && (message.role === 'visitor' || message.role === 'agent' || !row.lastMessage)) {
          this.rows.set(conversationId, {
            ...row,
            lastMessage: { role: message.role as NonNullable<InboxRow['lastMessage']>['role'], text: message.text, at: message.createdAt },
          });
        }
        // The visitor sent something: they are no longer typing.
        if (message.role === 'visitor') this.typing.delete(conversationId);
        if (message.role === 'visitor' && row?.assignee && row.assignee.id === this.opts.me?.id)
          this.attention(conversationId, { kind: 'message', row, conversationId, message });
        this.emit(conversationId, { type, message });
        break;
      }
      case 'typing': {
        const t = d as unknown as Typing & { conversationId: string };
        if (!t.conversationId) return;
        // My own typing, echoed back, is not news (the event names an agent by display name only).
        if (t.role === 'agent' && t.name === this.opts.me?.displayName) return;
        this.typing.set(t.conversationId, { ...t, until: Date.now() + TYPING_TTL_MS });
        this.emit(t.conversationId, { type: 'typing', typing: t });
        break;
      }
      case 'presence': {
        const p = d as unknown as Presence;
        if (p.memberId) this.presence.set(p.memberId, p);
        break;
      }
      case 'counts':
        this.counts = (d.counts ?? d) as Counts;
        break;
      case 'action':
        // The event carries the visitor's view of the proposal; the approvals page reads the full one.
        for (const fn of this.actionListeners) fn();
        return;
      default:
        return;
    }
    this.changed();
  }

  private attention(conversationId: string, a: Attention): void {
    const onScreen = this.focused === conversationId && typeof document !== 'undefined' && document.visibilityState === 'visible';
    if (!onScreen) this.unread.add(conversationId);
    this.opts.onAttention?.(a);
  }

  private emit(conversationId: string, e: ConversationEvent): void {
    for (const fn of this.paneListeners.get(conversationId) ?? []) fn(e);
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    this.changed();
  }

  /** Tells every subscriber to look again. */
  changed(): void {
    for (const fn of this.listeners) fn();
  }
}

/** Adds to a bounded set: the oldest entries go first (a Set iterates in insertion order). */
function remember(set: Set<string>, id: string): void {
  set.add(id);
  if (set.size > SEEN_MAX)
    for (const old of set) {
      set.delete(old);
      if (set.size <= SEEN_MAX) break;
    }
}
