// The settings document over HTTP: PUT replaces it whole, PATCH merges an RFC 7396 merge patch, a wrong
// shape is refused naming the field with nothing stored, and every reader sees the same defaults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { tenantSettings } from './settings.js';

let t: TestApp;
let key: string;
let tenantId: string;
const admin = (method: string, body?: unknown, contentType?: string) =>
  call(t.url, method, '/v1/admin/settings', { key, ...(body === undefined ? {} : { body }), ...(contentType ? { contentType } : {}) });

beforeAll(async () => {
  t = await startTestApp();
  const created = await t.tenant('Settings');
  key = created.secretKey;
  tenantId = created.tenant.id;
});
afterAll(() => t.close());

describe('/v1/admin/settings', () => {
  it('GET shows what applies: every default, before anything is set', async () => {
    const res = await admin('GET');
    expect(res.status).toBe(200);
    expect(res.body.settings).toEqual({});
    expect(res.body.effective).toMatchObject({
      widget: { locale: 'auto', theme: 'auto', accentColor: '#2f6feb', position: 'bottom-right' },
      handoff: { threshold: 0.7, suggestThreshold: 0.4, sensitiveTopics: [] },
      budget: { requestsPerMinute: 30, tokensPerDay: 200_000 },
      retrieval: { mode: 'auto', synonyms: [], supportVocabulary: true },
      businessHours: null,
      signIn: { requireMfa: 'off' },
    });
    expect(res.body.effective.widget.greeting).toBeUndefined();
    expect(res.body.effective.pii.classes.email.mode).toBe('reversible');
  });

  it('PATCH merges (RFC 7396): other members and sections are kept, null removes one', async () => {
    expect((await admin('PATCH', { widget: { greeting: 'Hello', accentColor: '#112233' } }, 'application/merge-patch+json')).status).toBe(200);
    expect((await admin('PATCH', { handoff: { threshold: 0.8 } })).status).toBe(200);
    expect((await admin('PATCH', { widget: { greeting: null } })).status).toBe(200);
    const { body } = await admin('GET');
    expect(body.settings).toEqual({ widget: { accentColor: '#112233' }, handoff: { threshold: 0.8 } });
    expect(body.effective.handoff).toEqual({ threshold: 0.8, suggestThreshold: 0.4, sensitiveTopics: [] });
    expect(body.effective.widget.accentColor).toBe('#112233');
  });

  it('PUT replaces the document: sections left out take their defaults again, the sign-in policy is kept', async () => {
    expect((await call(t.url, 'PUT', '/v1/admin/sign-in-policy', { key, body: { requireMfa: 'admins' } })).status).toBe(200);
    const before = (await admin('GET')).body.policyVersion;
    const put = await admin('PUT', { budget: { requestsPerMinute: 5 } });
    expect(put.status).toBe(200);
    expect(put.body.policyVersion).toBe(before + 1);
    const { body } = await admin('GET');
    expect(body.settings).toEqual({ budget: { requestsPerMinute: 5 } });
    expect(body.effective.budget).toEqual({ requestsPerMinute: 5, tokensPerDay: 200_000 });
    expect(body.effective.handoff.threshold).toBe(0.7);
    expect(body.effective.signIn.requireMfa).toBe('admins');
  });

  it('a wrong shape, by PUT or by the document a PATCH would make, is a 400 naming the field; nothing is stored', async () => {
    const before = (await admin('GET')).body;
    for (const [method, body, path] of [
      ['PATCH', { budget: { requestsPerMinute: 'lots' } }, '/budget/requestsPerMinute'],
      ['PATCH', { widget: { colour: '#000000' } }, '/widget/colour'],
      ['PATCH', { handoff: { threshold: 2 } }, '/handoff/threshold'],
      ['PATCH', { handoff: { suggestThreshold: -0.1 } }, '/handoff/suggestThreshold'],
      ['PATCH', { retrieval: { synonyms: ['parcel'] } }, '/retrieval/synonyms/0'],
      ['PATCH', { retrieval: { supportVocabulary: 'yes' } }, '/retrieval/supportVocabulary'],
      ['PATCH', { signIn: { requireMfa: 'off' } }, '/signIn'],
      ['PUT', { widget: { theme: 'neon' } }, '/widget/theme'],
      ['PUT', { budget: 5 }, '/budget'],
    ] as const) {
      const res = await admin(method, body);
      expect(res.status, `${method} ${JSON.stringify(body)}`).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await admin('GET')).body).toEqual(before);
  });

  it('a tenant synonym list is stored whole and applies to its knowledge search', async () => {
    const src = await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
      key,
      body: { kind: 'markdown', content: '# Help\n\n## Tracking\nEvery package gets a tracking link by email.', externalId: 'syn-help' },
    });
    expect(src.status).toBeLessThan(300);
    const search = async () =>
      (await call(t.url, 'POST', '/v1/admin/knowledge/search', { key, body: { query: 'where is my consignment', limit: 3, mode: 'bm25' } })).body
        .results as { externalId: string }[];
    // "consignment" is nowhere in the knowledge, and WordNet does not link it to "package" in its first senses.
    expect((await search()).some((r) => r.externalId === 'syn-help')).toBe(false);
    expect((await admin('PATCH', { retrieval: { synonyms: ['consignment = package = parcel'] } })).status).toBe(200);
    expect((await admin('GET')).body.effective.retrieval.synonyms).toEqual(['consignment = package = parcel']);
    expect((await search())[0]?.externalId).toBe('syn-help');
    expect((await admin('PATCH', { retrieval: { synonyms: null } })).status).toBe(200);
  });

  it('the built-in support vocabulary applies to knowledge search until the tenant turns it off', async () => {
    const src = await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
      key,
      body: { kind: 'markdown', content: '# Cards\n\n## Gift card validity\nGift cards are valid for three years.', externalId: 'vocab-help' },
    });
    expect(src.status).toBeLessThan(300);
    const search = async () =>
      (await call(t.url, 'POST', '/v1/admin/knowledge/search', { key, body: { query: 'does my voucher run out', limit: 3, mode: 'bm25' } })).body
        .results as { externalId: string }[];
    // "voucher" is nowhere in the knowledge: only the vocabulary takes it to "gift card".
    expect((await search())[0]?.externalId).toBe('vocab-help');
    expect((await admin('PATCH', { retrieval: { supportVocabulary: false } })).status).toBe(200);
    expect((await admin('GET')).body.effective.retrieval.supportVocabulary).toBe(false);
    expect((await search()).some((r) => r.externalId === 'vocab-help')).toBe(false);
    expect((await admin('PATCH', { retrieval: { supportVocabulary: null } })).status).toBe(200);
    expect((await search())[0]?.externalId).toBe('vocab-help');
  });

  it('a PATCH that is not an object is refused, and every change is audited with how and which sections', async () => {
    expect((await admin('PATCH', [1, 2])).status).toBe(400);
    await admin('PATCH', { retrieval: { mode: 'bm25' } });
    const audit = await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key });
    const last = audit.body.entries.filter((e: { action: string }) => e.action === 'settings.update').at(-1);
    expect(last.metadata).toMatchObject({ how: 'merge', sections: ['retrieval'] });
  });

  it('what applies follows every write of the tenant row, even one made outside this API; callers cannot change it', async () => {
    expect((await admin('PATCH', { handoff: { threshold: 0.6 } })).status).toBe(200);
    expect((await admin('GET')).body.effective.handoff.threshold).toBe(0.6);
    // Written as an operator would in SQL: the policy version stays as it was.
    await t.runtime.db.withOwner((tx) =>
      tx.query(`UPDATE tenants SET settings = jsonb_set(settings, '{handoff,threshold}', '0.55') WHERE id = $1`, [tenantId]),
    );
    const { body } = await admin('GET');
    expect(body.effective.handoff.threshold).toBe(0.55);
    const read = await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => tenantSettings(tx));
    expect(read.handoff.threshold).toBe(0.55);
    expect(() => {
      (read.handoff as { threshold: number }).threshold = 0;
    }).toThrow(TypeError);
    expect(() => (read.handoff.sensitiveTopics as string[]).push('x')).toThrow(TypeError);
  });
});
