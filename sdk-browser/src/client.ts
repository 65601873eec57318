// The public widget API as typed calls. Tokens refresh themselves once on expiry; everything the
// client keeps between page loads goes through a small storage interface.
import type {
  AnswerEvent,
  Citation,
  Conversation,
  ConversationResponse,
  Handoff,
  HandoffResponse,
  LiveEvent,
  OutsideHours,
  ReconnectEventData,
  Visitor,
  WidgetProposal,
  WidgetProposeRequest,
  WidgetConfigResponse,
  WidgetSession,
  WidgetSessionResponse,
  WidgetSettings,
} from '@parley/protocol';
import { ParleyError, type ProblemFieldError } from './errors.js';
import { readSse } from './sse.js';

/** Where the client keeps its session between page loads (localStorage by default). */
export interface SessionStorage {
  get(): StoredSession | null;
  set(value: StoredSession | null): void;
}

/** What survives a reload. The short-lived access token never does. */
export interface StoredSession {
  /**
   * The secret that resumes this visitor, sent back as `X-Parley-Visitor`. The server hands it out once,
   * when it creates the visitor, and keeps only its hash; nobody else (agents, admin keys) ever sees it.
   */
  visitorSecret?: string | undefined;
  refreshToken?: string | undefined;
  /** The verified visitor id (Sign-In Pro subject) the refresh token's session is bound to. */
  identity?: string | undefined;
  conversationId?: string | undefined;
}

/** Options for {@link createClient}. */
export interface ClientOptions {
  /** The Parley API origin, e.g. `https://api.parley.example`. */
  apiBase: string;
  publishableKey: string;
  /** Defaults to localStorage under `parley:<publishableKey>` (memory when storage is unavailable). */
  storage?: SessionStorage;
  fetch?: typeof fetch;
  /** Reconnect backoff of {@link ParleyClient.events}, in ms. Default 1 s doubling to 30 s. */
  reconnect?: { min: number; max: number };
  /**
   * Called when the session could not be refreshed and a new anonymous one replaced it: a verified
   * identity is gone and must be proven again (the widget asks the host page for a new token).
   */
  onSessionReset?: (hadIdentity: boolean) => void;
}

/** A session kept in localStorage under `parley:<key>`; falls back to nothing when storage is blocked. */
export function localStorageSession(publishableKey: string): SessionStorage {
  const name = `parley:${publishableKey}`;
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

/** A session that lasts as long as the page. */
export function memorySession(): SessionStorage {
  let v: StoredSession | null = null;
  return { get: () => v, set: (x) => void (v = x) };
}

/** A random id for a message, so a retried send is stored once (works outside secure contexts too). */
export function newClientMessageId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

async function problem(res: Response): Promise<ParleyError> {
  const rid = res.headers.get('x-request-id');
  try {
    const p = (await res.json()) as {
      type?: string;
      title?: string;
      detail?: string;
      instance?: string;
      request_id?: string;
      errors?: ProblemFieldError[];
    };
    return new ParleyError(res.status, p.type ?? 'about:blank', p.title ?? res.statusText, p.detail, p.request_id ?? rid, p.errors ?? [], p.instance);
  } catch {
    return new ParleyError(res.status, 'about:blank', res.statusText || 'Error', undefined, rid);
  }
}

const network = (err: unknown) => (err instanceof ParleyError ? err : new ParleyError(0, 'network', 'Network error', (err as Error)?.message, null));

// A refresh is worth trying for these; anything else (a revoked origin, a missing capability) is final.
const RENEWABLE = /\/(token-expired|token-invalid|unauthenticated)$/;
// Refresh this long before the access token expires, so a request never races its expiry.
const EARLY_MS = 15_000;

/** A client of the widget API. */
export interface ParleyClient {
  /**
   * The widget's settings: a pure read, no visitor or session is created. The session starts on the first
   * call that needs one (resuming the stored visitor through its secret).
   */
  config(): Promise<WidgetSettings>;
  /**
   * Exchanges the stored one-time refresh token for a new session; without one, or if it is refused, starts
   * a new session (resuming the stored visitor through its secret, anonymous).
   */
  refresh(): Promise<WidgetSession>;
  /** Proves the visitor's identity with a Sign-In Pro token from the host backend. */
  identify(token: string): Promise<Visitor>;
  createConversation(): Promise<Conversation>;
  getConversation(id: string): Promise<ConversationResponse>;
  /** Sends a message and yields the answer as it streams. */
  sendMessage(conversationId: string, text: string, clientMessageId?: string): AsyncGenerator<AnswerEvent>;
  /**
   * Picks a "Did you mean" offer (a citation marked `suggested` on an assistant message): sends its heading
   * as the visitor's message and yields the answer, which is that passage.
   */
  pick(conversationId: string, suggestion: Citation, clientMessageId?: string): AsyncGenerator<AnswerEvent>;
  /** Live events (agent messages, handoff status); reconnects with Last-Event-ID until aborted. */
  events(conversationId: string, opts: { signal: AbortSignal }): AsyncGenerator<LiveEvent>;
  /** The handoff; outside the site's business hours also `outsideHours: true` and when people are back (`nextOpenAt`). */
  requestHandoff(conversationId: string, reason?: string): Promise<Handoff & OutsideHours>;
  /** Tells the agent the visitor is typing, or has stopped. The caller throttles (every few seconds at most). */
  sendTyping(conversationId: string, active: boolean): Promise<void>;
  /** Rates the conversation the agent resolved: a score of 1 to 5 and an optional comment, once per resolution
   * (a second rating, or one before the resolution, is refused with a 409 `conflict` problem). */
  rate(conversationId: string, score: number, comment?: string): Promise<void>;
  /** Leaves an email for the team's reply, when the handoff came outside business hours. */
  leaveContact(conversationId: string, email: string): Promise<void>;
  /**
   * Asks for an action (a verified visitor only, about themself): a proposal on the approval rail. Its later
   * statuses arrive as `action` events of {@link ParleyClient.events}.
   */
  propose(conversationId: string, request: WidgetProposeRequest): Promise<WidgetProposal>;
  /** What is kept between page loads. */
  readonly stored: StoredSession | null;
  remember(patch: Partial<StoredSession>): void;
  /** Drops the session, here and in storage. */
  forget(): void;
}

interface Locks {
  request<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** Creates a client of the widget API. */
export function createClient(opts: ClientOptions): ParleyClient {
  const base = opts.apiBase.replace(/\/+$/, '');
  const store = opts.storage ?? (typeof localStorage === 'undefined' ? memorySession() : localStorageSession(opts.publishableKey));
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const backoff = opts.reconnect ?? { min: 1000, max: 30_000 };
  let session: WidgetSession | null = null;
  let refreshing: Promise<WidgetSession> | null = null;
  // The key also rides in the query so CORS preflights (which carry no custom headers) name the tenant.
  const url = (path: string) => `${base}/v1/widget${path}?key=${encodeURIComponent(opts.publishableKey)}`;
  // Tabs of one site share the stored refresh token, which is one-time: refresh under a cross-tab lock.
  const locks = (globalThis.navigator as { locks?: Locks } | undefined)?.locks;
  const exclusive = <T>(fn: () => Promise<T>) => (locks ? locks.request(`parley:refresh:${opts.publishableKey}`, fn) : fn());

  const remember = (patch: Partial<StoredSession>) => {
    // `visitorId` is what older versions kept: a dead credential now, so it is dropped on the next write.
    const { visitorId: _old, ...cur } = (store.get() ?? {}) as StoredSession & { visitorId?: unknown };
    store.set({ ...cur, ...patch });
  };
  const adopt = (s: WidgetSession, identity: string | undefined) => {
    session = s;
    // The secret comes only with a visitor created (or first given one) by this call; keep it.
    remember({ ...(s.visitorSecret ? { visitorSecret: s.visitorSecret } : {}), refreshToken: s.refreshToken, identity });
    return s;
  };

  async function request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    try {
      return await doFetch(url(path), {
        method,
        signal: signal ?? null,
        credentials: 'omit',
        headers: {
          'x-parley-key': opts.publishableKey,
          ...(session ? { authorization: `Bearer ${session.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw network(err);
    }
  }

  // Every page view reads settings, and nothing is written for it: the visitor and its session are
  // started (or resumed through the stored secret) only when a call first needs them.
  async function config(): Promise<WidgetSettings> {
    const res = await request('GET', '/config');
    if (!res.ok) throw await problem(res);
    return ((await res.json()) as WidgetConfigResponse).settings;
  }

  async function start(): Promise<WidgetSession> {
    const visitor = store.get()?.visitorSecret;
    const res = await request('POST', '/session', {}, visitor ? { 'x-parley-visitor': visitor } : {});
    if (!res.ok) throw await problem(res);
    return adopt(((await res.json()) as WidgetSessionResponse).session, undefined);
  }

  async function renew(): Promise<WidgetSession> {
    const rt = store.get()?.refreshToken;
    if (rt) {
      const res = await request('POST', '/session/refresh', { refreshToken: rt });
      if (res.ok) return adopt(((await res.json()) as { session: WidgetSession }).session, store.get()?.identity);
      // A 5xx or 429 says nothing about the token: keep it and let the caller retry later.
      if (res.status !== 401) throw await problem(res);
    }
    const hadIdentity = !!store.get()?.identity;
    await start();
    // A first session replaces nothing; a refused one is a reset.
    if (rt || hadIdentity) opts.onSessionReset?.(hadIdentity);
    return session!;
  }

  // One refresh at a time: concurrent callers share it, since the refresh token works only once.
  const refresh = () => (refreshing ??= exclusive(renew).finally(() => (refreshing = null)));

  /** Calls with the session, refreshing it first when about to expire and once more on a 401. */
  async function authed(method: string, path: string, body?: unknown, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    if (!session || Date.parse(session.expiresAt) - Date.now() < EARLY_MS) await refresh();
    const sent = session;
    let res = await request(method, path, body, headers, signal);
    if (res.status === 401) {
      const p = await problem(res);
      if (!RENEWABLE.test(p.type)) throw p;
      // Someone else may have refreshed while this request was in flight.
      if (session === sent) await refresh();
      res = await request(method, path, body, headers, signal);
    }
    if (!res.ok) throw await problem(res);
    return res;
  }

  const path = (id: string, tail = '') => `/conversations/${encodeURIComponent(id)}${tail}`;

  /** Sends a visitor message and yields the answer as it streams. */
  async function* send(conversationId: string, body: { text: string; clientMessageId: string; pick?: string }): AsyncGenerator<AnswerEvent> {
    const res = await authed('POST', path(conversationId, '/messages'), body, { accept: 'text/event-stream' });
    if (!res.body) throw network(new Error('The answer stream is empty.'));
    try {
      for await (const m of readSse(res.body)) yield { event: m.event, data: JSON.parse(m.data) } as AnswerEvent;
    } catch (err) {
      throw network(err);
    }
  }
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });

  return {
    config,
    refresh,
    get stored() {
      return store.get();
    },
    remember,
    forget() {
      session = null;
      store.set(null);
    },
    async identify(token) {
      const res = await authed('POST', '/identify', { token });
      const out = (await res.json()) as { visitor: Visitor; session: WidgetSession };
      adopt(out.session, out.visitor.id);
      return out.visitor;
    },
    async createConversation() {
      const res = await authed('POST', '/conversations', {});
      const { conversation } = (await res.json()) as { conversation: Conversation };
      remember({ conversationId: conversation.id });
      return conversation;
    },
    async getConversation(id) {
      return (await (await authed('GET', path(id))).json()) as ConversationResponse;
    },
    sendMessage(conversationId, text, clientMessageId = newClientMessageId()) {
      return send(conversationId, { text, clientMessageId });
    },
    pick(conversationId, suggestion, clientMessageId = newClientMessageId()) {
      const heading = suggestion.title.split('›').pop()!.trim();
      return send(conversationId, { text: heading || suggestion.title, clientMessageId, pick: suggestion.chunkId });
    },
    async *events(conversationId, { signal }) {
      let last: string | undefined;
      let delay = backoff.min;
      while (!signal.aborted) {
        try {
          // Aborting the fetch also ends the body stream the reader is waiting on.
          const res = await authed(
            'GET',
            path(conversationId, '/events'),
            undefined,
            { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
            signal,
          );
          for await (const m of readSse(res.body!)) {
            delay = backoff.min;
            // The server is shutting down: reconnect when it says (another instance takes the stream).
            if (m.event === 'reconnect') {
              const { retryMs } = JSON.parse(m.data) as ReconnectEventData;
              delay = Math.min(Math.max(retryMs, 0), backoff.max);
              continue;
            }
            if (m.id) last = m.id;
            yield { event: m.event, data: JSON.parse(m.data), id: m.id ?? '' } as LiveEvent;
          }
        } catch (err) {
          if (signal.aborted) return;
          const e = network(err);
          if (!e.retryable) throw e;
        }
        // Jitter spreads the reconnects of many visitors after a server restart.
        await sleep(delay * (0.75 + Math.random() / 2), signal);
        delay = Math.min(delay * 2, backoff.max);
      }
    },
    async requestHandoff(conversationId, reason) {
      const res = await authed('POST', path(conversationId, '/handoff'), reason ? { reason } : {});
      const { handoff, ...hours } = (await res.json()) as HandoffResponse;
      return { ...handoff, ...hours };
    },
    async sendTyping(conversationId, active) {
      await authed('POST', path(conversationId, '/typing'), { active });
    },
    async rate(conversationId, score, comment) {
      await authed('POST', path(conversationId, '/csat'), comment ? { score, comment } : { score });
    },
    async leaveContact(conversationId, email) {
      await authed('POST', path(conversationId, '/contact'), { email });
    },
    async propose(conversationId, request) {
      return ((await (await authed('POST', path(conversationId, '/actions'), request)).json()) as { proposal: WidgetProposal }).proposal;
    },
  };
}
