// A webhook receiver as a tenant would run one: a real HTTP server that verifies each request with
// @parley/node, deduplicates on webhook-id, and can be told to fail (500) or to hang (no answer).
import { verifyWebhook } from '@parley/node';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export class WebhookReceiver {
  /** ok: 204; fail: 500; hang: processes the event but never answers (the sender times out). */
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Every request, in arrival order. */
  readonly requests: Received[] = [];
  /** Events processed once each, by webhook-id: what a receiver's dedupe keeps. */
  readonly processed = new Map<string, unknown>();
  /** The secrets verifying requests, and the clock they are verified at. */
  secrets: string[] = [];
  now: () => number = Date.now;
  private waiters: (() => void)[] = [];
  private server!: Server;
  private hanging = new Set<import('node:http').ServerResponse>();
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ headers: req.headers, body, at: Date.now() });
        for (const w of this.waiters.splice(0)) w();
        if (this.mode === 'fail') return void res.writeHead(500).end('down');
        let event: unknown;
        try {
          event = verifyWebhook(body, req.headers, this.secrets, { now: this.now });
        } catch {
          return void res.writeHead(401).end();
        }
        const id = String(req.headers['webhook-id']);
        if (!this.processed.has(id)) this.processed.set(id, event);
        if (this.mode === 'hang') return void this.hanging.add(res);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  /** Resolves once `n` requests have arrived (or rejects after `ms`). */
  waitFor(n: number, ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.requests.length} of ${n} webhook requests arrived within ${ms} ms`)), ms);
      const check = () => {
        if (this.requests.length >= n) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
