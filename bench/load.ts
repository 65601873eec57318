// A closed-loop HTTP load generator: `connections` clients, each on its own keep-alive socket, send one request,
// read the whole answer, and send the next, until the time is up. Every point of a bench runs through this one
// client, so the ceiling (GET /healthz) and the path it is compared with pay the same client-side cost.
// (autocannon would do this, but its histogram library brings a Zlib-licensed dependency.)
import http from 'node:http';

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  method?: string;
  /** Request headers, the same for every client or client n's own. */
  headers?: Record<string, string> | ((client: number) => Record<string, string>);
  /** The body of each request; called per request, so each can differ (a fresh clientMessageId). */
  body?: (client: number) => string;
  /** The path of client n's requests (default: the url's own). */
  path?: (client: number) => string;
}

export interface LoadResult {
  /** 2xx answers. */
  ok: number;
  /** Other statuses, socket errors. */
  bad: number;
  seconds: number;
  /** Latency percentiles of every answer, in ms. */
  p50: number;
  p99: number;
  /** Every answer's latency in ms, sorted: for merging runs. */
  latencies: number[];
}

/** The percentile `q` of sorted latencies, in whole ms. */
export function percentile(sorted: readonly number[], q: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
}

export async function load(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const latencies: number[] = [];
  let ok = 0;
  let bad = 0;
  const started = performance.now();
  const end = started + o.seconds * 1000;

  const client = async (n: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (performance.now() < end) {
        const t = performance.now();
        const status = await send(agent, url, o, n).catch(() => 0);
        latencies.push(performance.now() - t);
        if (status >= 200 && status < 300) ok++;
        else bad++;
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: o.connections }, (_, n) => client(n)));

  latencies.sort((a, b) => a - b);
  return { ok, bad, seconds: (performance.now() - started) / 1000, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), latencies };
}

function send(agent: http.Agent, url: URL, o: LoadOptions, n: number): Promise<number> {
  const body = o.body?.(n);
  const headers = typeof o.headers === 'function' ? o.headers(n) : o.headers;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: o.method ?? 'GET',
        path: o.path?.(n) ?? url.pathname + url.search,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
