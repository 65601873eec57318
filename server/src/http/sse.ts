// Server-sent events over an Express response.
import type { ReconnectEventData } from '@parley/protocol';
import type { Request, Response } from 'express';

export interface SseStream {
  send(event: string, data: unknown, id?: number | string): void;
  comment(text: string): void;
  readonly closed: boolean;
  close(): void;
  /** Ends a live stream with `retry:` and a `reconnect` event first, so the client reconnects (with its
   * Last-Event-ID): soon and to another instance when this server is going away (`shutdown`), at once with
   * a refreshed token when the one that opened it expired (`session_expired`). */
  reconnect(retryMs: number, reason?: ReconnectEventData['reason']): void;
}

let open = 0;

/** Streams open in this process now (a metrics gauge). */
export const openSseStreams = (): number => open;

export function openSse(req: Request, res: Response): SseStream {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  let closed = false;
  open++;
  // Counted down once, when the client goes or the response ends, whichever comes first.
  res.once('close', () => open--);
  req.on('close', () => {
    closed = true;
  });
  return {
    send(event, data, id) {
      if (closed) return;
      res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    comment(text) {
      if (!closed) res.write(`: ${text.replace(/\n/g, ' ')}\n\n`);
    },
    get closed() {
      return closed;
    },
    close() {
      if (!closed) {
        closed = true;
        res.end();
      }
    },
    reconnect(retryMs, reason = 'shutdown') {
      if (closed) return;
      res.write(`retry: ${retryMs}\nevent: reconnect\ndata: ${JSON.stringify({ reason, retryMs })}\n\n`);
      this.close();
    },
  };
}

export const wantsSse = (req: Request) => (req.get('accept') ?? '').includes('text/event-stream');
