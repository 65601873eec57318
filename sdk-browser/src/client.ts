// The public widget API as typed calls. Tokens refresh themselves once on expiry; everything the
// client keeps between page loads goes through a small storage interface.
import type { AnswerEvent, Conversation, Handoff, LiveEvent, Message, Visitor, WidgetConfigResponse, WidgetSession, WidgetSettings } from '@parley/protocol';
import { ParleyError } from './errors.js';
import { readSse } from './sse.js';

/** Where the client keeps its session between page loads (localStorage by default). */
export interface SessionStore {
  get(): StoredSession | null;
  set(value: StoredSession | null): void;
}

/** What survives a reload. */
export interface StoredSession {
  visitorId: string;
  refreshToken?: string | undefined;
  conversationId?: string | undefined;
}

/** Options for {@link createClient}. */
export interface ClientOptions {
  /** The Parley API origin, e.g. `https://api.parley.example`. */
  apiBase: string;
  publishableKey: string;
  store?: SessionStore;
  fetch?: typeof fetch;
}

export function localStore(key: string): SessionStore {
  const name = `parley:${key}`;
  return {
    get() {
      try {
        return JSON.parse(localStorage.getItem(name) ?? 'null') as StoredSession | null;
      } catch {
        return null;
      }
    },
    set(value) {
      try {
        if (value) localStorage.setItem(name, JSON.stringify(value));
        else localStorage.removeItem(name);
      } catch {
        /* storage disabled: the session lasts for this page only */
      }
    },
  };
}

function memoryStore(): SessionStore {
  let v: StoredSession | null = null;
  return { get: () => v, set: (x) => void (v = x) };
}

async function problem(res: Response): Promise<ParleyError> {
  try {
    const p = (await res.json()) as { type?: string; title?: string; detail?: string; request_id?: string; errors?: ParleyError['errors'] };
    return new ParleyError(res.status, p.type ?? 'about:blank', p.title ?? res.statusText, p.detail, p.request_id ?? res.headers.get('x-request-id'), p.errors ?? []);
  } catch {
    return new ParleyError(res.status, 'about:blank', res.statusText || 'Error', undefined, res.headers.get('x-request-id'));
  }
}

const EXPIRED = /token-(expired|invalid)$/;

/** A client of the widget API. */
export interface ParleyClient {
  /** Settings and a session (reusing the stored visitor). */
  config(): Promise<WidgetSettings>;
  identify(token: string): Promise<Visitor>;
  createConversation(): Promise<Conversation>;
  getConversation(id: string): Promise<{ conversation: Conversation; messages: Message[] }>;
  /** Sends a message and yields the answer as it streams. */
  sendMessage(conversationId: string, text: string, clientMessageId?: string): AsyncGenerator<AnswerEvent>;
  /** Live events (agent messages, handoff status); reconnects with Last-Event-ID until aborted. */
  events(conversationId: string, opts: { signal: AbortSignal }): AsyncGenerator<LiveEvent>;
  requestHandoff(conversationId: string, reason?: string): Promise<Handoff>;
  readonly stored: StoredSession | null;
  remember(patch: Partial<StoredSession>): void;
  forget(): void;
}

export function createClient(opts: ClientOptions): ParleyClient {
  const base = opts.apiBase.replace(/\/+$/, '');
  const store = opts.store ?? (typeof localStorage === 'undefined' ? memoryStore() : localStore(opts.publishableKey));
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  let session: WidgetSession | null = null;
  // The key rides in the query so CORS preflights can be answered for this tenant's origins.
  const url = (path: string) => `${base}/v1/widget${path}${path.includes('?') ? '&' : '?'}key=${encodeURIComponent(opts.publishableKey)}`;

  const remember = (patch: Partial<StoredSession>) => {
    const cur = store.get();
    store.set({ visitorId: patch.visitorId ?? cur?.visitorId ?? '', ...cur, ...patch });
  };
  const adopt = (s: WidgetSession) => {
    session = s;
    remember({ visitorId: s.visitorId, refreshToken: s.refreshToken });
  };

  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await doFetch(url(path), {
        method,
        signal,
        headers: {
          'x-parley-key': opts.publishableKey,
          ...(session ? { authorization: `Bearer ${session.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ParleyError(0, 'network', 'Network error', (err as Error).message, null);
    }
    return res;
  }

  async function refresh(): Promise<void> {
    const rt = store.get()?.refreshToken;
    if (rt) {
      const res = await request('POST', '/session/refresh', { refreshToken: rt });
      if (res.ok) return adopt(((await res.json()) as { session: WidgetSession }).session);
    }
    await config();
  }

  /** Calls with the session, refreshing it once if it expired. */
  async function authed(method: string, path: string, body?: unknown, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    if (!session || Date.parse(session.expiresAt) - Date.now() < 15_000) await refresh();
    let res = await request(method, path, body, headers, signal);
    if (res.status === 401) {
      const p = await problem(res.clone());
      if (EXPIRED.test(p.type)) {
        await refresh();
        res = await request(method, path, body, headers, signal);
      }
    }
    if (!res.ok) throw await problem(res);
    return res;
  }

  async function config(): Promise<WidgetSettings> {
    const visitor = store.get()?.visitorId;
    const res = await request('GET', '/config', undefined, visitor ? { 'x-parley-visitor': visitor } : {});
    if (!res.ok) throw await problem(res);
    const out = (await res.json()) as WidgetConfigResponse;
    adopt(out.session);
    return out.settings;
  }

  return {
    config,
    get stored() {
      return store.get();
    },
    remember,
    forget: () => store.set(null),
    async identify(token) {
      const res = await authed('POST', '/identify', { token });
      const out = (await res.json()) as { visitor: Visitor; session: WidgetSession };
      adopt(out.session);
      return out.visitor;
    },
    async createConversation() {
      const res = await authed('POST', '/conversations', {});
      const { conversation } = (await res.json()) as { conversation: Conversation };
      remember({ conversationId: conversation.id });
      return conversation;
    },
    async getConversation(id) {
      return (await (await authed('GET', `/conversations/${encodeURIComponent(id)}`)).json()) as { conversation: Conversation; messages: Message[] };
    },
    async *sendMessage(conversationId, text, clientMessageId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`) {
      const res = await authed('POST', `/conversations/${encodeURIComponent(conversationId)}/messages`, { text, clientMessageId }, { accept: 'text/event-stream' });
      for await (const m of readSse(res.body!)) yield { event: m.event, data: JSON.parse(m.data) } as AnswerEvent;
    },
    async *events(conversationId, { signal }) {
      let last: string | undefined;
      let delay = 1000;
      while (!signal.aborted) {
        try {
          // Aborting the fetch also ends the body stream the reader is waiting on.
          const res = await authed(
            'GET',
            `/conversations/${encodeURIComponent(conversationId)}/events`,
            undefined,
            { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
            signal,
          );
          delay = 1000;
          for await (const m of readSse(res.body!)) {
            if (m.id) last = m.id;
            yield { event: m.event, data: JSON.parse(m.data), id: m.id ?? '' } as LiveEvent;
          }
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof ParleyError && !err.retryable) throw err;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 30_000);
      }
    },
    async requestHandoff(conversationId, reason) {
      const res = await authed('POST', `/conversations/${encodeURIComponent(conversationId)}/handoff`, reason ? { reason } : {});
      return ((await res.json()) as { handoff: Handoff }).handoff;
    },
  };
}
