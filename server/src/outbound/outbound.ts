// Every request the server makes to a URL a tenant chose (knowledge crawls, sitemaps, provider base URLs,
// Sign-In Pro JWKS, webhooks) goes through here, and nowhere else:
// - http(s) only, https only outside development, no credentials in the URL;
// - public destinations only (see address.ts), unless the operator listed them in PARLEY_OUTBOUND_ALLOW;
// - the host is resolved once, every address it resolves to is checked, and the connection goes to the
//   checked address (the socket's lookup returns only that address), so DNS rebinding cannot swap it;
// - every redirect hop is checked the same way, and the number of hops is bounded;
// - the response body is bounded in size (counted after decompression) and the whole exchange in time.
import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { inCidr, ipLiteral, nonPublicAddress, nonPublicName, normaliseHost, parseCidr, type Cidr } from './address.js';

export type OutboundEnv = 'development' | 'staging' | 'production';

/** Destinations the operator allows although they are not public. */
export interface AllowList {
  cidrs: Cidr[];
  /** Host names (lower case, no trailing dot), allowed whatever they resolve to. */
  hosts: string[];
}

/** What development allows when PARLEY_OUTBOUND_ALLOW is not set: this machine only. */
export const DEVELOPMENT_ALLOW = '127.0.0.0/8,::1,localhost';

const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

/** Parses `10.0.0.0/8, fd00::/8, llm.corp.example`; throws with the offending entry. */
export function parseAllowList(raw: string): AllowList {
  const out: AllowList = { cidrs: [], hosts: [] };
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const cidr = parseCidr(entry);
    if (cidr) out.cidrs.push(cidr);
    else if (HOST_NAME.test(entry)) out.hosts.push(normaliseHost(entry));
    else throw new Error(`"${entry}" is neither a CIDR, an IP address nor a host name`);
  }
  return out;
}

export type OutboundErrorCode =
  | 'invalid_url'
  | 'scheme'
  | 'credentials'
  | 'not_public'
  | 'unresolved'
  | 'redirect'
  | 'too_large'
  | 'timeout'
  | 'network';

/** A refused or failed outbound request. The message names the URL's problem, never a resolved address. */
/** A failed connection's system code in words (the code itself for one not listed): these reach people. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EPIPE: 'the connection was closed',
  EPROTO: 'the secure connection failed',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate could not be verified',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate could not be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another name',
};
const networkReason = (err: NodeJS.ErrnoException) => (err.code ? (NETWORK_REASONS[err.code] ?? err.code) : err.message);

export class OutboundError extends Error {
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Resolves a host name to all its addresses (tests inject their own). */
export type Resolve = (host: string) => Promise<ResolvedAddress[]>;

const systemResolve: Resolve = (host) => dnsLookup(host, { all: true, verbatim: true });

export interface Limits {
  /** Largest response body, in bytes after decompression. */
  maxBytes: number;
  /** The whole exchange, redirects and body included. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** `follow` (each hop checked), `error` (a redirect fails the request) or `manual` (returned as is). */
  redirect: 'follow' | 'error' | 'manual';
  maxRedirects: number;
  /** Follow redirects within the first URL's origin only: a redirect elsewhere fails, before any request to it. */
  sameOrigin: boolean;
  /** Why a redirect's target may not be requested (a crawl's robots.txt), or null; checked before the request. */
  refuseHop?: (next: URL) => string | null;
}

export const DEFAULT_LIMITS: Limits = {
  maxBytes: 1024 * 1024,
  timeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  redirect: 'follow',
  maxRedirects: 5,
  sameOrigin: false,
};

export interface OutboundOptions {
  env: OutboundEnv;
  allow: AllowList;
  resolve?: Resolve;
  /** Trusted certificate authorities instead of the system's (tests with a local https server). */
  ca?: string | Buffer;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 204, 205, 304]);
const CROSS_ORIGIN_DROPPED = ['authorization', 'cookie', 'proxy-authorization'];

const size = (n: number) => (n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);

export class Outbound {
  readonly env: OutboundEnv;
  private readonly allow: AllowList;
  private readonly resolve: Resolve;
  private readonly ca: string | Buffer | undefined;

  constructor(opts: OutboundOptions) {
    this.env = opts.env;
    this.allow = opts.allow;
    this.resolve = opts.resolve ?? systemResolve;
    this.ca = opts.ca;
  }

  /** Is this address public, or allowed by the operator? */
  private addressProblem(address: string): string | null {
    const reason = nonPublicAddress(address);
    return reason && !this.allow.cidrs.some((c) => inCidr(address, c)) ? reason : null;
  }

  /**
   * The checks that need no DNS: scheme, credentials, an IP literal's range, an internal host name. Used
   * when a URL is saved (a 400 naming the field) and again before every request and redirect hop.
   */
  check(raw: string | URL): URL {
    let url: URL;
    try {
      url = new URL(String(raw));
    } catch {
      throw new OutboundError('invalid_url', 'must be an absolute http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OutboundError('scheme', 'must be an http(s) URL');
    if (this.env !== 'development' && url.protocol !== 'https:') throw new OutboundError('scheme', 'must use https');
    if (url.username || url.password) throw new OutboundError('credentials', 'must not contain credentials');
    const host = normaliseHost(url.hostname);
    const ip = ipLiteral(host);
    const reason = ip ? this.addressProblem(ip.address) : this.allow.hosts.includes(host) ? null : nonPublicName(host);
    if (reason) throw new OutboundError('not_public', `must be a public host: ${url.hostname} is ${reason}`);
    return url;
  }

  /** Resolves once and checks every address; the connection goes to the one returned. */
  private async destination(url: URL): Promise<ResolvedAddress> {
    const host = normaliseHost(url.hostname);
    const ip = ipLiteral(host);
    if (ip) return ip;
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolve(host);
    } catch {
      throw new OutboundError('unresolved', `${host} does not resolve`);
    }
    if (!addresses.length) throw new OutboundError('unresolved', `${host} does not resolve`);
    if (!this.allow.hosts.includes(host)) {
      for (const a of addresses) {
        const reason = this.addressProblem(a.address);
        if (reason) throw new OutboundError('not_public', `must be a public host: ${host} resolves to ${reason}`);
      }
    }
    const first = addresses[0]!;
    const literal = ipLiteral(first.address);
    if (!literal) throw new OutboundError('unresolved', `${host} does not resolve to an IP address`);
    return literal;
  }

  /** A `fetch` with these limits, for code that wants one (the ai SDK providers, JWKS, crawls). */
  fetcher(limits: Partial<Limits> = {}): typeof fetch {
    const l = { ...DEFAULT_LIMITS, ...limits };
    return ((input: string | URL | Request, init?: RequestInit) => this.request(input, init ?? {}, l)) as typeof fetch;
  }

  /** `fetch` semantics; the limits' redirect policy wins over `init.redirect`. `response.url` is the final URL. */
  async request(input: string | URL | Request, init: RequestInit, limits: Limits): Promise<Response> {
    const src = input instanceof Request ? input : null;
    let url = this.check(src ? src.url : (input as string | URL));
    const origin = url.origin;
    let method = (init.method ?? src?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers ?? src?.headers);
    let body: Buffer | null = null;
    if (init.body != null) {
      const r = new Response(init.body);
      body = Buffer.from(await r.arrayBuffer());
      if (!headers.has('content-type') && r.headers.get('content-type')) headers.set('content-type', r.headers.get('content-type')!);
    } else if (src?.body) body = Buffer.from(await src.arrayBuffer());

    const deadline = AbortSignal.timeout(limits.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    const stopped = () => (deadline.aborted ? new OutboundError('timeout', `no complete answer within ${limits.timeoutMs} ms`) : signal.reason);
    for (let hop = 0; ; hop++) {
      const dest = await within(this.destination(url), signal, stopped);
      const res = await this.exchange(url, dest, method, headers, body, limits, signal, stopped);
      const location = res.headers.get('location');
      if (!REDIRECTS.has(res.status) || !location || limits.redirect === 'manual') return res;
      await res.body?.cancel();
      if (limits.redirect === 'error') throw new OutboundError('redirect', 'the server answered with a redirect, which is not followed here');
      if (hop >= limits.maxRedirects) throw new OutboundError('redirect', `more than ${limits.maxRedirects} redirects`);
      let next: URL;
      try {
        next = this.check(new URL(location, url));
      } catch (err) {
        if (err instanceof OutboundError) throw new OutboundError(err.code, `a redirect was refused: the target ${err.message}`);
        throw new OutboundError('redirect', 'a redirect pointed to an invalid URL');
      }
      if (limits.sameOrigin && next.origin !== origin) throw new OutboundError('redirect', `a redirect led to another site (${next.origin})`);
      const refused = limits.refuseHop?.(next);
      if (refused) throw new OutboundError('redirect', `a redirect was refused: ${refused}`);
      if (next.origin !== url.origin) for (const h of CROSS_ORIGIN_DROPPED) headers.delete(h);
      if (res.status === 303 ? method !== 'GET' && method !== 'HEAD' : (res.status === 301 || res.status === 302) && method === 'POST') {
        method = 'GET';
        body = null;
        headers.delete('content-type');
      }
      url = next;
    }
  }

  private exchange(
    url: URL,
    dest: ResolvedAddress,
    method: string,
    headers: Headers,
    body: Buffer | null,
    limits: Limits,
    signal: AbortSignal,
    stopped: () => unknown,
  ): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const outgoing: Record<string, string> = Object.fromEntries(headers);
      outgoing['accept-encoding'] ??= 'gzip, deflate, br';
      outgoing['user-agent'] ??= 'Parley/1';
      delete outgoing['content-length'];
      delete outgoing.host;
      if (body) outgoing['content-length'] = String(body.length);
      // The only address this socket may use: the one just checked.
      const pinned = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
        if (options?.all) cb(null, [{ address: dest.address, family: dest.family }]);
        else cb(null, dest.address, dest.family);
      }) as unknown as LookupFunction;
      const req = (url.protocol === 'https:' ? https : http).request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: url.pathname + url.search,
        method,
        headers: outgoing,
        lookup: pinned,
        agent: false,
        ...(this.ca ? { ca: this.ca } : {}),
      });

      let settled = false;
      let fail: (err: unknown) => void = (err) => {
        if (settled) return;
        settled = true;
        cleanup();
        req.destroy();
        reject(err);
      };
      const onAbort = () => fail(stopped());
      const connectTimer = setTimeout(
        () => fail(new OutboundError('timeout', `could not connect within ${limits.connectTimeoutMs} ms`)),
        limits.connectTimeoutMs,
      );
      const cleanup = () => {
        clearTimeout(connectTimer);
        signal.removeEventListener('abort', onAbort);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.once('socket', (socket) => socket.once('connect', () => clearTimeout(connectTimer)));
      req.on('error', (err) =>
        fail(
          err instanceof OutboundError
            ? err
            : new OutboundError('network', `could not reach the address (${networkReason(err as NodeJS.ErrnoException)})`),
        ),
      );

      req.once('response', (res: IncomingMessage) => {
        clearTimeout(connectTimer);
        const responseHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) responseHeaders.append(k, x);
        const status = res.statusCode ?? 502;
        const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
        const decoder =
          encoding === 'gzip' || encoding === 'x-gzip'
            ? zlib.createGunzip()
            : encoding === 'deflate'
              ? zlib.createInflate()
              : encoding === 'br'
                ? zlib.createBrotliDecompress()
                : null;
        if (decoder) {
          responseHeaders.delete('content-encoding');
          responseHeaders.delete('content-length');
        } else if (Number(res.headers['content-length']) > limits.maxBytes) {
          return fail(new OutboundError('too_large', `the response is larger than ${size(limits.maxBytes)}`));
        }
        if (method === 'HEAD' || NULL_BODY.has(status) || status < 200 || status > 599) {
          settled = true;
          cleanup();
          res.resume();
          if (status < 200 || status > 599) return reject(new OutboundError('network', `unexpected status ${status}`));
          return resolve(finalUrl(new Response(null, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }), url));
        }
        let stream: Readable = res;
        if (decoder) stream = pipeline(res, decoder, () => undefined);
        let received = 0;
        let done = false;
        const webBody = new ReadableStream<Uint8Array>(
          {
            start(controller) {
              // From here on a failure (time, size, network) errors the body the caller is reading.
              fail = (err) => {
                if (done) return;
                done = settled = true;
                cleanup();
                req.destroy();
                controller.error(err);
              };
              stream.on('data', (chunk: Buffer) => {
                if (done) return;
                received += chunk.length;
                if (received > limits.maxBytes) return fail(new OutboundError('too_large', `the response is larger than ${size(limits.maxBytes)}`));
                controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
                if ((controller.desiredSize ?? 0) <= 0) stream.pause();
              });
              stream.once('end', () => {
                if (done) return;
                done = settled = true;
                cleanup();
                controller.close();
              });
              stream.once('error', (err) =>
                fail(err instanceof OutboundError ? err : new OutboundError('network', 'the response was cut short or could not be decoded')),
              );
              stream.once('close', () => fail(new OutboundError('network', 'the connection closed before the response was complete')));
            },
            pull() {
              stream.resume();
            },
            cancel() {
              done = settled = true;
              cleanup();
              req.destroy();
            },
          },
          { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
        );
        resolve(finalUrl(new Response(webBody, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }), url));
      });
      req.end(body ?? undefined);
    });
  }
}

/** `p`, unless the signal aborts first (a slow DNS answer counts against the deadline too). */
function within<T>(p: Promise<T>, signal: AbortSignal, stopped: () => unknown): Promise<T> {
  if (signal.aborted) return Promise.reject(stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function finalUrl(res: Response, url: URL): Response {
  Object.defineProperty(res, 'url', { value: url.href });
  return res;
}
