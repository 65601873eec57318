// The served contract: a valid OpenAPI 3.1 document (checked by an independent validator), describing the
// server it came from.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';

describe('GET /v1/openapi.json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('is a valid OpenAPI 3.1 document, public and cacheable, naming this server', async () => {
    const res = await call(t.url, 'GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('max-age');
    const result = await new Validator().validate(res.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.servers).toEqual([{ url: t.url }]);
  });

  it('lists every webhook Parley sends, and the problem response on every operation', async () => {
    const { body } = await call(t.url, 'GET', '/v1/openapi.json');
    expect(Object.keys(body.webhooks)).toContain('handoff.requested');
    for (const [path, item] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(body.paths)) {
      for (const [method, op] of Object.entries(item))
        expect(op.responses['4XX'], `${method} ${path}`).toEqual({ $ref: '#/components/responses/Problem' });
    }
  });
});
