// The generated admin client against a real server: every operation the served OpenAPI document lets a
// secret key call has a method, the methods really call it, and failures arrive as typed problems.
import { DEFAULT_SETTINGS } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '@parley/server/testing';
import { Parley } from './client.js';
import { ParleyApiError, ParleyApprovalRequired } from './errors.js';
import { signedInMember } from '@parley/server/testing';

let t: TestApp;
let parley: Parley;

beforeAll(async () => {
  t = await startTestApp();
  const tenant = await t.tenant('Acme', ['app.acme.example']);
  parley = new Parley({ secretKey: tenant.secretKey, baseUrl: t.url });
});
afterAll(() => t.close());

describe('parley.api', () => {
  test('has a method for every operation of the spec a secret key may call', async () => {
    const spec = (await (await fetch(`${t.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string; security: Record<string, unknown>[] }>>;
    };
    const forKeys = Object.values(spec.paths)
      .flatMap((item) => Object.values(item))
      .filter((op) => op.security.some((s) => 'secretKey' in s))
      .map((op) => op.operationId);
    expect(forKeys.length).toBeGreaterThan(0);
    const api = parley.api as unknown as Record<string, unknown>;
    expect(forKeys.filter((id) => typeof api[id] !== 'function')).toEqual([]);
    // …and nothing more: a method without an operation would call a route that does not exist.
    expect(Object.keys(api).filter((id) => !forKeys.includes(id))).toEqual([]);
  });

  test('methods send the operation: add, list and remove a domain', async () => {
    const { domain } = await parley.api.addDomain({ body: { pattern: 'shop.acme.example' } });
    expect((await parley.api.listDomains()).domains.map((d) => d.pattern)).toContain('shop.acme.example');
    await expect(parley.api.removeDomain({ params: { id: domain.id } })).resolves.toBeUndefined();
    expect((await parley.api.listDomains()).domains.map((d) => d.pattern)).not.toContain('shop.acme.example');
  });

  test('a refusal is a typed problem naming the field, with the request id', async () => {
    const err = await parley.api.addDomain({ body: { pattern: 'https://' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyApiError);
    const problem = err as ParleyApiError;
    expect(problem.is('validation-failed')).toBe(true);
    expect(problem.errors.map((e) => e.path)).toContain('/pattern');
    expect(problem.requestId).toMatch(/^req_/);
  });

  test('a path parameter is encoded, never spliced into the path', async () => {
    const err = await parley.api.removeDomain({ params: { id: '../api-keys' } }).catch((e: unknown) => e);
    expect((err as ParleyApiError).status).toBe(404);
  });

  test('paginate follows the cursor to the last page: every audit entry once, in order', async () => {
    for (const pattern of ['a.acme.example', 'b.acme.example', 'c.acme.example']) await parley.api.addDomain({ body: { pattern } });
    const all = (await parley.api.listAuditEntries({ query: { limit: 1000 } })).entries.map((e) => e.seq);
    expect(all.length).toBeGreaterThan(4);
    const pages: number[][] = [];
    for await (const page of parley.paginate('listAuditEntries', { query: { limit: 2 } })) pages.push(page.entries.map((e) => e.seq));
    expect(pages.length).toBe(Math.ceil(all.length / 2));
    expect(pages.flat()).toEqual(all);
  });

  test('settings: patchSettings merges, replaceSettings replaces, typed from the contract', async () => {
    await parley.api.patchSettings({ body: { handoff: { threshold: 0.6 } } });
    await parley.api.patchSettings({ body: { widget: { accentColor: '#123456' } } });
    expect((await parley.api.getSettings()).settings).toMatchObject({ handoff: { threshold: 0.6 }, widget: { accentColor: '#123456' } });
    await parley.api.replaceSettings({ body: { budget: { requestsPerMinute: 10 } } });
    const after = await parley.api.getSettings();
    expect(after.settings).toEqual({ budget: { requestsPerMinute: 10 } });
    expect(after.effective.handoff.threshold).toBe(DEFAULT_SETTINGS.handoff.threshold);
  });
});

describe('operations held for approval', () => {
  test('throw ParleyApprovalRequired with the proposal; once approved, the same call with { approval } runs it once', async () => {
    const ten = await t.tenant('Gated', ['gated.example']);
    // A held operation is asked for with a key a person made (the tenant's first key is nobody's), here
    // made before the operation was held, and approved by another person.
    const owner = await signedInMember(t, ten.tenant.id, 'owner');
    const ownerKey = await owner.client.call('POST', '/v1/admin/api-keys', { name: 'owner bot', capabilities: ['keys:read', 'keys:write'] });
    const gated = new Parley({ secretKey: ownerKey.body.secret, baseUrl: t.url });
    const admin = await signedInMember(t, ten.tenant.id, 'admin');
    await new Parley({ secretKey: ten.secretKey, baseUrl: t.url }).api.patchSettings({ body: { approvals: { operations: ['keys.privileged'] } } });
    const input = { name: 'deploy', capabilities: ['keys:read', 'keys:write'] as const };
    const held = await gated.apiKeys.create({ ...input, capabilities: [...input.capabilities] }).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(ParleyApprovalRequired);
    const { proposal } = held as ParleyApprovalRequired;
    expect(proposal).toMatchObject({ operation: 'keys.privileged', status: 'pending' });
    // The generated method throws the same way (its type is the created key, never the proposal).
    await expect(gated.api.createApiKey({ body: { ...input, capabilities: [...input.capabilities] } })).rejects.toBeInstanceOf(
      ParleyApprovalRequired,
    );
    expect((await admin.client.call('POST', `/v1/admin/approvals/${proposal.id}/approve`, {})).status).toBe(200);
    const made = await gated.apiKeys.create({ ...input, capabilities: [...input.capabilities] }, { approval: proposal.id });
    expect(made.secret).toMatch(/^sk_test_/);
    const again = await gated.apiKeys.create({ ...input, capabilities: [...input.capabilities] }, { approval: proposal.id }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ParleyApiError);
  });
});
