// A visitor's browser, reduced to HTTP: the Origin header, the publishable key, the session token.
import type { Res } from './http.js';
import { call } from './http.js';

export interface SseEvent {
  event: string;
  data: any;
  id?: string;
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.split('\n').some((l) => l.startsWith('data:')))
    .map((block) => {
      const e: SseEvent = { event: 'message', data: null };
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
        else if (line.startsWith('id: ')) e.id = line.slice(4);
      }
      return e;
    });
}

export class Visitor {
  token = '';
  refreshToken = '';
  /** The visitor's pseudonymous reference (not a credential). */
  visitorRef = '';
  /** The secret the browser keeps to resume this visitor (sent as X-Parley-Visitor). */
  secret = '';
  /** Sent with every call (e.g. X-Forwarded-For: the visitor's address behind a trusted proxy). */
  headers: Record<string, string> = {};
  constructor(
    readonly base: string,
    readonly key: string,
    readonly origin: string,
  ) {}

  call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    return call<T>(this.base, method, `/v1/widget${path}`, {
      body,
      headers: {
        origin: this.origin,
        'x-parley-key': this.key,
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...this.headers,
        ...headers,
      },
    });
  }

  /** What every page view does: the settings, no session. */
  config(query = ''): Promise<Res> {
    return this.call('GET', `/config${query}`);
  }

  /** What opening the widget does: a session (resuming this visitor when it has a secret). */
  async start(): Promise<Res> {
    const res = await this.call('POST', '/session', {}, this.secret ? { 'x-parley-visitor': this.secret } : {});
    if (res.status === 200) this.adopt(res.body.session);
    return res;
  }

  adopt(session: { token: string; refreshToken: string; visitorRef: string; visitorSecret?: string }) {
    this.token = session.token;
    this.refreshToken = session.refreshToken;
    if (session.visitorRef) this.visitorRef = session.visitorRef;
    if (session.visitorSecret) this.secret = session.visitorSecret;
  }

  /** Reads the conversation's live events (from its start) until `enough` holds of them, then closes the stream. */
  async events(conversationId: string, enough: (events: SseEvent[]) => boolean): Promise<{ text: string; events: SseEvent[] }> {
    const ac = new AbortController();
    const res = await fetch(`${this.base}/v1/widget/conversations/${conversationId}/events`, {
      headers: { origin: this.origin, 'x-parley-key': this.key, authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!enough(parseSse(text))) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    return { text, events: parseSse(text) };
  }

  /** Sends a message and reads the whole answer stream. */
  async say(conversationId: string, text: string, extra: { pick?: string } = {}): Promise<SseEvent[]> {
    const res = await fetch(`${this.base}/v1/widget/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: {
        origin: this.origin,
        'x-parley-key': this.key,
        authorization: `Bearer ${this.token}`,
        accept: 'text/event-stream',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ text, clientMessageId: `c-${Math.random().toString(36).slice(2)}`, ...extra }),
    });
    if (!res.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error(`no stream: ${res.status} ${await res.text()}`);
    return parseSse(await res.text());
  }
}
