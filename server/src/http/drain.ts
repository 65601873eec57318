// Draining before a shutdown (SIGTERM): readiness turns 503 so the load balancer sends no more, every
// response asks its client to close the connection, and each open live stream (which would otherwise
// never end) is told to reconnect, to another instance, and ended cleanly. Requests in flight, streamed
// answers included, run to their end.
import type { RequestHandler } from 'express';

/** What a live stream is told before it ends: reconnect after about this long (SSE `retry:`). */
export const RECONNECT_MS = 1000;

export class Drain {
  private on = false;
  private readonly streams = new Set<() => void>();

  get draining(): boolean {
    return this.on;
  }

  /** Starts draining: every open live stream ends now, and any opened from here on ends at once. */
  start(): void {
    if (this.on) return;
    this.on = true;
    for (const end of [...this.streams]) end();
    this.streams.clear();
  }

  /** Registers a live stream's clean end; returns the unregister (call when the stream closes). */
  stream(end: () => void): () => void {
    if (this.on) {
      end();
      return () => {};
    }
    this.streams.add(end);
    return () => this.streams.delete(end);
  }

  /** Live streams still open (for the shutdown log). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** While draining, responses close their connection instead of keeping it for the next request. */
  closeConnections(): RequestHandler {
    return (_req, res, next) => {
      if (this.on) res.setHeader('Connection', 'close');
      next();
    };
  }
}
