// An open server-sent event stream for tests: events parsed as they arrive, waits with a deadline.
import { parseSse, type SseEvent } from './widget.js';

export interface LiveStream {
  status: number;
  /** The body, when the answer was not a stream (a problem). */
  body: string;
  events: SseEvent[];
  /** Resolves with the first event (after `from`) matching, or rejects after `ms`. */
  next(match: (e: SseEvent) => boolean, ms?: number, from?: number): Promise<SseEvent>;
  close(): void;
}

export async function openStream(url: string, headers: Record<string, string>): Promise<LiveStream> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const s: LiveStream = {
    status: res.status,
    body: '',
    events: [],
    close: () => ac.abort(),
    async next(match, ms = 5000, from = 0) {
      const until = Date.now() + ms;
      for (;;) {
        const found = s.events.slice(from).find(match);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no matching event within ${ms} ms; got ${s.events.map((e) => e.event).join(', ')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    s.body = await res.text();
    return s;
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
        // Only whole events: a chunk may end inside one.
        s.events = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2));
      }
    } catch {
      /* aborted */
    }
  })();
  return s;
}
