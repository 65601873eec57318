// GET /metrics: a bearer token guards it (attack first: no metrics without the token), routes are
// labelled by their template, and nothing a tenant or visitor owns shows up in the output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';
import type { CreatedTenant } from '../tenants/service.js';
import { routeTemplate } from './registry.js';
import { tokenMatches } from './routes.js';

const TOKEN = `mt_${'a1b2c3d4'.repeat(6)}`;
const scrape = (t: TestApp, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => call(t.url, 'GET', '/metrics', { headers });

describe('GET /metrics with PARLEY_METRICS_TOKEN set', () => {
  let t: TestApp;
  let tenant: CreatedTenant;
  beforeAll(async () => {
    t = await startTestApp({ PARLEY_METRICS_TOKEN: TOKEN });
    tenant = await t.tenant('Metrics Shop', ['metrics.example']);
  });
  afterAll(() => t.close());

  it('refuses a missing, wrong or differently-schemed token with a 401 problem that leaks no metric', async () => {
    // Warm the registry so there would be something to leak.
    await call(t.url, 'GET', '/healthz');
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { authorization: `Bearer ${tenant.secretKey}` },
    ]) {
      const res = await scrape(t, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
      expect(res.text).not.toMatch(/parley_|# HELP|# TYPE/);
    }
  });

  it('counts a request under its route template, method and status class', async () => {
    const other = await t.tenant('Other Shop', ['other.example']);
    await call(t.url, 'GET', `/v1/admin/webhooks/endpoints?secret=${other.secretKey}`, { key: other.secretKey });
    const res = await scrape(t);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.text).toMatch(/^parley_http_requests_total\{method="GET",route="\/v1\/admin\/webhooks\/endpoints",status_class="2xx"\} [1-9]/m);
    expect(res.text).toMatch(/^parley_http_request_duration_seconds_count\{method="GET",route="\/healthz",status_class="2xx"\} [1-9]/m);
    // Unknown paths share one label, whatever was asked.
    // (A word, not digits: a duration's sum such as 0.027012345 once held "12345".)
    await call(t.url, 'GET', '/no/such/path/quokka-lantern');
    const after = (await scrape(t)).text;
    expect(after).toMatch(/^parley_http_requests_total\{method="GET",route="unmatched",status_class="4xx"\} [1-9]/m);
    expect(after).not.toContain('quokka-lantern');
    expect(after).not.toContain(other.secretKey);
  });

  it('shows the gauges read on scrape: lags, open streams and answers by tenant', async () => {
    const v = new Visitor(t.url, tenant.publishableKey, 'https://metrics.example');
    expect((await v.start()).status).toBe(200);
    const conv = (await v.call('POST', '/conversations', {})).body.conversation;
    const secretText = 'my card is 4111 1111 1111 1111 and email jane.roe@example.com';
    await v.say(conv.id, secretText);
    const res = await scrape(t);
    expect(res.text).toMatch(/^parley_webhook_outbox_lag_seconds \d/m);
    expect(res.text).toMatch(/^parley_audit_integration_lag_seconds \d/m);
    expect(res.text).toMatch(/^parley_sse_streams_open 0$/m);
    expect(res.text).toMatch(new RegExp(`^parley_answers_total\\{tenant="${tenant.tenant.id}",outcome="(answered|handoff)"\\} 1$`, 'm'));
    expect(res.text).toMatch(new RegExp(`^parley_answer_confidence_count\\{tenant="${tenant.tenant.id}"\\} 1$`, 'm'));
    // No secrets or personal data: keys, the visitor's words, the tenant's name or domain. The card is looked for
    // whole, since its first four digits can occur by chance inside a duration's decimals.
    for (const leak of [
      tenant.secretKey,
      tenant.publishableKey,
      v.token,
      v.secret,
      '4111 1111',
      '4111111111111111',
      'jane.roe',
      'Metrics Shop',
      'metrics.example',
      conv.id,
    ]) {
      expect(res.text).not.toContain(leak);
    }
  });

  it('the audit checkpoint lag is the age of the oldest integrated entry no checkpoint covers', async () => {
    // Tenant creation appended entries that no checkpoint covers yet (the sweep runs on an interval).
    await t.runtime.audit.integrateNow();
    const text = (await scrape(t)).text;
    expect(Number(/^parley_audit_checkpoint_lag_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    // Integrated: nothing waits for an index (the integration lag itself is tested in audit/integrator.test.ts).
    expect(text).toMatch(/^parley_audit_pending_entries 0$/m);
    expect(text).toMatch(/^parley_audit_integration_lag_seconds 0$/m);
  });
});

describe('GET /metrics without a token configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('does not exist, with or without a token', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${TOKEN}` }]) {
      const res = await scrape(t, headers);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.text).not.toMatch(/parley_/);
    }
  });
});

describe('labels stay bounded', () => {
  it('route labels are contract templates, never concrete paths', () => {
    expect(routeTemplate('DELETE', '/v1/admin/knowledge/sources/0b9c4e5a-1111-4222-8333-944445555666')).toBe('/v1/admin/knowledge/sources/{id}');
    expect(routeTemplate('HEAD', '/healthz')).toBe('/healthz');
    expect(routeTemplate('GET', '/wp-admin/setup.php')).toBe('unmatched');
  });

  it('the token compare accepts only the exact token', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
  });
});
