// What a span may carry, enforced on every span whatever made it (the http, express and pg
// instrumentations, manual spans), just before it ends: the instrumentations keep adding attributes after
// a span starts (the response's, a hook's, an error's), so onStart sees too little, and once ended a span
// is read only. Processors run in order: these come before the exporting one.
import { SpanKind, type Context } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace-node';

abstract class Scrubber implements SpanProcessor {
  onStart(_span: Span, _ctx: Context): void {}
  abstract onEnding(span: Span): void;
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const drop = (span: Span, key: string) => {
  delete span.attributes[key];
};

/** Absolute URL attributes (stable and older semantic conventions). */
const ABSOLUTE_URLS = ['url.full', 'http.url'] as const;
/** A URL's path and query, or the query alone. */
const PATH_AND_QUERY = ['url.path', 'url.query', 'http.target'] as const;

/** `scheme://host[:port]`: no user info, path, query or fragment; null when not an absolute http(s) URL. */
export function urlOrigin(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * URLs in spans. Everywhere, no query string: publishable keys and search terms travel there. On an
 * outgoing (client) span, the destination by its origin only: the requests leave for URLs a tenant chose
 * (webhook endpoints, crawled pages, provider base URLs, JWKS), and a Slack, Discord or Zapier webhook
 * URL holds its token in the path. So url.full and http.url keep scheme, host and port; url.path,
 * url.query and http.target go; a span name with a path in it becomes the request's method.
 */
export class ScrubUrls extends Scrubber {
  onEnding(span: Span): void {
    const attrs = span.attributes;
    if (span.kind === SpanKind.CLIENT) {
      for (const key of ABSOLUTE_URLS) {
        const v = attrs[key];
        if (v === undefined) continue;
        const origin = typeof v === 'string' ? urlOrigin(v) : null;
        if (origin) span.setAttribute(key, origin);
        else drop(span, key);
      }
      for (const key of PATH_AND_QUERY) drop(span, key);
      if (/[/?]/.test(span.name)) {
        const method = attrs['http.request.method'] ?? attrs['http.method'];
        span.updateName(typeof method === 'string' && /^[A-Z_]{1,20}$/.test(method) ? method : 'HTTP');
      }
      return;
    }
    for (const key of ABSOLUTE_URLS) {
      const v = attrs[key];
      if (typeof v === 'string' && v.includes('?')) span.setAttribute(key, v.slice(0, v.indexOf('?')));
    }
    const target = attrs['http.target'];
    if (typeof target === 'string' && target.includes('?')) span.setAttribute('http.target', target.slice(0, target.indexOf('?')));
    drop(span, 'url.query');
  }
}

/** Who is asking: the visitor's address (also from Forwarded / X-Forwarded-For), port and user agent. */
const VISITOR_EXACT = new Set(['http.client_ip', 'http.user_agent']);
const VISITOR_PREFIXES = ['client.', 'network.peer.', 'net.peer.', 'net.sock.peer.', 'user_agent.', 'http.request.header.'];

/** An error's class name (or Node's error code): an identifier, nothing a message could quote. */
const CLASS_NAME = /^[A-Za-z_$][\w$]{0,99}$/;
const className = (v: unknown): string | null => (typeof v === 'string' && CLASS_NAME.test(v) ? v : null);

/**
 * Visitors and errors. No attribute naming who is asking: client.*, network.peer.*, user_agent.*,
 * captured request headers and their older names (on an outgoing span the peer is the destination's
 * resolved address, which outbound/ never reports either). A failed span carries the error's class name
 * only: a status message, and an exception event's message, become that name (from error.type, the
 * exception's type, or a status message that is already one; else `Error`), and the stack trace goes,
 * since error messages quote their input (V8's JSON.parse quotes the body it could not parse, PostgreSQL
 * a constraint's values).
 */
export class ScrubVisitorsAndErrors extends Scrubber {
  onEnding(span: Span): void {
    for (const key of Object.keys(span.attributes)) if (VISITOR_EXACT.has(key) || VISITOR_PREFIXES.some((p) => key.startsWith(p))) drop(span, key);

    const exceptions = span.events.filter((e) => e.name === 'exception');
    const name =
      className(span.attributes['error.type']) ??
      className(exceptions.at(-1)?.attributes?.['exception.type']) ??
      className(span.status.message) ??
      'Error';
    // Only an ERROR status keeps a message, and setStatus may replace an ERROR one.
    if (span.status.message !== undefined) span.setStatus({ code: span.status.code, message: name });
    for (const [i, e] of span.events.entries()) {
      if (e.name !== 'exception') continue;
      const type = className(e.attributes?.['exception.type']) ?? name;
      span.events[i] = { ...e, attributes: { 'exception.type': type, 'exception.message': type } };
    }
  }
}
