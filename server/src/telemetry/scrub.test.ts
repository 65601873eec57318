// The span scrubbers on their own, with spans shaped as any instrumentation might make them (older
// semantic conventions, attributes set after the start, a path in the name); tracing.test.ts runs them
// end to end behind `parley serve`.
import { SpanKind, type Attributes } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { ScrubUrls, urlOrigin } from './scrub.js';

function ended(kind: SpanKind, name: string, atStart: Attributes, later: Attributes = {}): ReadableSpan {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new ScrubUrls(), new SimpleSpanProcessor(exporter)] });
  const span = provider.getTracer('test').startSpan(name, { kind, attributes: atStart });
  span.setAttributes(later);
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
