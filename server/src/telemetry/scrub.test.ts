// The span scrubbers on their own, with spans shaped as any instrumentation might make them (older
// semantic conventions, attributes set after the start, a path in the name); tracing.test.ts runs them
// end to end behind `parley serve`.
import { SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { ScrubUrls, ScrubVisitorsAndErrors, urlOrigin } from './scrub.js';

function ended(kind: SpanKind, name: string, atStart: Attributes, later: Attributes | ((span: Span) => void) = {}): ReadableSpan {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new ScrubUrls(), new ScrubVisitorsAndErrors(), new SimpleSpanProcessor(exporter)],
  });
  const span = provider.getTracer('test').startSpan(name, { kind, attributes: atStart });
  if (typeof later === 'function') later(span);
  else span.setAttributes(later);
  span.end();
  return exporter.getFinishedSpans()[0]!;
}

const HOOK = 'https://user:pass@hooks.slack.example:8443/services/T0001/B0002/SECRETPATH?token=QS#frag';

describe('ScrubUrls', () => {
  it('an outgoing span keeps scheme, host and port of its destination, and nothing of its path, query or user info', () => {
    const s = ended(
      SpanKind.CLIENT,
      'POST /services/T0001/B0002/SECRETPATH',
      { 'url.full': HOOK, 'http.request.method': 'POST', 'server.address': 'hooks.slack.example' },
      { 'http.url': HOOK, 'http.target': '/services/T0001/B0002/SECRETPATH?token=QS', 'url.path': '/services/T0001', 'url.query': 'token=QS' },
    );
    expect(s.attributes['url.full']).toBe('https://hooks.slack.example:8443');
    expect(s.attributes['http.url']).toBe('https://hooks.slack.example:8443');
    for (const key of ['http.target', 'url.path', 'url.query']) expect(s.attributes[key], key).toBeUndefined();
    expect(s.attributes['server.address']).toBe('hooks.slack.example');
    expect(s.name).toBe('POST');
    expect(JSON.stringify({ a: s.attributes, n: s.name })).not.toMatch(/SECRETPATH|T0001|token|user|pass|frag/);
  });

  it('an outgoing URL that does not parse is dropped, not kept', () => {
    const s = ended(SpanKind.CLIENT, 'GET', { 'url.full': '/relative/SECRETPATH', 'http.url': 42 });
    expect(s.attributes['url.full']).toBeUndefined();
    expect(s.attributes['http.url']).toBeUndefined();
  });

  it('an incoming span keeps its path but loses its query string', () => {
    const s = ended(
      SpanKind.SERVER,
      'GET /v1/widget/config',
      { 'url.path': '/v1/widget/config', 'url.query': 'key=pk_live_x', 'http.target': '/v1/widget/config?key=pk_live_x' },
      { 'http.url': 'http://parley.example/v1/widget/config?key=pk_live_x' },
    );
    expect(s.attributes['url.path']).toBe('/v1/widget/config');
    expect(s.attributes['http.target']).toBe('/v1/widget/config');
    expect(s.attributes['http.url']).toBe('http://parley.example/v1/widget/config');
    expect(s.attributes['url.query']).toBeUndefined();
  });

  it('urlOrigin: http(s) URLs only', () => {
    expect(urlOrigin('http://127.0.0.1:8080/a/b?c')).toBe('http://127.0.0.1:8080');
    expect(urlOrigin('https://x.example:443/p')).toBe('https://x.example');
    expect(urlOrigin('file:///etc/passwd')).toBeNull();
    expect(urlOrigin('not a url')).toBeNull();
  });
});

describe('ScrubVisitorsAndErrors', () => {
  it('no attribute names who is asking, in the stable or the older conventions', () => {
    const visitor = {
      'client.address': '203.0.113.77',
      'client.port': 51234,
      'network.peer.address': '203.0.113.77',
      'network.peer.port': 51234,
      'user_agent.original': 'ProbeBrowser/9.9',
      'user_agent.synthetic.type': 'bot',
      'http.client_ip': '203.0.113.77',
      'http.user_agent': 'ProbeBrowser/9.9',
      'net.sock.peer.addr': '203.0.113.77',
      'net.sock.peer.port': 51234,
      'net.peer.ip': '203.0.113.77',
      'http.request.header.x_forwarded_for': ['203.0.113.77'],
    };
    const s = ended(
      SpanKind.SERVER,
      'POST /v1/widget/conversations',
      { ...visitor, 'http.request.method': 'POST', 'server.address': 'parley.example' },
      { 'http.response.status_code': 201, ...visitor },
    );
    for (const key of Object.keys(visitor)) expect(s.attributes[key], key).toBeUndefined();
    expect(s.attributes).toMatchObject({ 'http.request.method': 'POST', 'server.address': 'parley.example', 'http.response.status_code': 201 });
  });

  it('a failed span carries the class name only: in its status, its exception event, no stack trace', () => {
    let error: Error;
    try {
      JSON.parse('{"email": j.probe@example.com}');
    } catch (err) {
      error = err as Error;
    }
    expect(error!.message).toContain('j.probe');
    const s = ended(SpanKind.INTERNAL, 'middleware - jsonParser', {}, (span) => {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    });
    expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'SyntaxError' });
    expect(s.events).toHaveLength(1);
    expect(s.events[0]!.attributes).toEqual({ 'exception.type': 'SyntaxError', 'exception.message': 'SyntaxError' });
    expect(JSON.stringify({ n: s.name, a: s.attributes, s: s.status, e: s.events })).not.toContain('j.probe');
  });

  it('the name comes from error.type, else the exception, else a status message that is one, else Error', () => {
    const pg = ended(SpanKind.CLIENT, 'INSERT', { 'error.type': 'DatabaseError' }, (span) =>
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'duplicate key value violates unique constraint: Key (email)=(j.probe@example.com)' }),
    );
    expect(pg.status.message).toBe('DatabaseError');
    const manual = ended(SpanKind.INTERNAL, 'ai.answer', {}, (span) => span.setStatus({ code: SpanStatusCode.ERROR, message: 'TimeoutError' }));
    expect(manual.status.message).toBe('TimeoutError');
    const quoted = ended(SpanKind.INTERNAL, 'x', {}, (span) =>
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'no such user j.probe@example.com' }),
    );
    expect(quoted.status.message).toBe('Error');
    const string = ended(SpanKind.INTERNAL, 'x', {}, (span) => span.recordException('failed for j.probe@example.com'));
    expect(string.events[0]!.attributes).toEqual({ 'exception.type': 'Error', 'exception.message': 'Error' });
    const fine = ended(SpanKind.INTERNAL, 'x', {}, (span) => span.setStatus({ code: SpanStatusCode.OK }));
    expect(fine.status).toEqual({ code: SpanStatusCode.OK });
  });
});
