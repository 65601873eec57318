// Secret API keys: shown once, hashed at rest, capability-bound, rotatable with grace, revocable.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AdminMeResponse } from '@parley/protocol';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import type { CreatedTenant } from './service.js';

let t: TestApp;
let ten: CreatedTenant;
beforeAll(async () => {
  t = await startTestApp();
  ten = await t.tenant();
});
afterAll(() => t.close());

const create = (key: string, body: unknown) => call(t.url, 'POST', '/v1/admin/api-keys', { key, body });

describe('secret keys', () => {
  test('the secret is shown once and only its SHA-256 is stored', async () => {
    const res = await create(ten.secretKey, { name: 'ci', capabilities: ['audit:read'] });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.secret).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
    expect(res.body.apiKey.prefix).toBe(res.body.secret.slice(0, 12));
    const listed = await call(t.url, 'GET', '/v1/admin/api-keys', { key: ten.secretKey });
    expect(listed.text).not.toContain(res.body.secret);
    const stored = await t.runtime.db.withOwner((tx) =>
      tx.query<{ hash: Uint8Array }>('SELECT hash FROM api_keys WHERE id = $1', [res.body.apiKey.id]),
    );
    expect(Buffer.from(stored.rows[0]!.hash).equals(createHash('sha256').update(res.body.secret).digest())).toBe(true);
    const dump = await t.runtime.db.withOwner((tx) => tx.query('SELECT row_to_json(k)::text AS j FROM api_keys k'));
    expect(JSON.stringify(dump.rows)).not.toContain(res.body.secret.slice(12));
  });

  test('a key cannot create, rotate or revoke a key with more capabilities than it has', async () => {
    const manager = (await create(ten.secretKey, { name: 'manager', capabilities: ['keys:read', 'keys:write', 'audit:read'] })).body.secret;
    const escalate = await create(manager, { name: 'escalated', capabilities: ['keys:write', 'domains:write'] });
    expect(escalate.status).toBe(403);
    expect(escalate.body.capability).toBe('domains:write');
    const ok = await create(manager, { name: 'reader', capabilities: ['audit:read'] });
    expect(ok.status).toBe(201);
    const adminId = (await call(t.url, 'GET', '/v1/admin/api-keys', { key: ten.secretKey })).body.apiKeys[0].id;
    expect((await call(t.url, 'POST', `/v1/admin/api-keys/${adminId}/rotate`, { key: manager, body: {} })).status).toBe(403);
    expect((await call(t.url, 'DELETE', `/v1/admin/api-keys/${adminId}`, { key: manager })).status).toBe(403);
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: ten.secretKey })).status).toBe(200);
  });

  test('rotation: the new key works at once, the old one until its grace ends', async () => {
    const old = (await create(ten.secretKey, { name: 'rotating', capabilities: ['domains:read'] })).body;
    const rotated = await call(t.url, 'POST', `/v1/admin/api-keys/${old.apiKey.id}/rotate`, { key: ten.secretKey, body: { graceSeconds: 3600 } });
    expect(rotated.status).toBe(201);
    expect(rotated.body.apiKey).toMatchObject({ rotatedFrom: old.apiKey.id, capabilities: ['domains:read'], name: 'rotating' });
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: rotated.body.secret })).status).toBe(200);
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: old.secret })).status).toBe(200);
    const listed = (await call(t.url, 'GET', '/v1/admin/api-keys', { key: ten.secretKey })).body.apiKeys;
    const expiry = new Date(listed.find((k: any) => k.id === old.apiKey.id).expiresAt).getTime();
    expect(expiry).toBeGreaterThan(Date.now() + 3500_000);
    expect(expiry).toBeLessThan(Date.now() + 3700_000);

    const immediate = await call(t.url, 'POST', `/v1/admin/api-keys/${rotated.body.apiKey.id}/rotate`, {
      key: ten.secretKey,
      body: { graceSeconds: 0 },
    });
    expect(immediate.status).toBe(201);
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: rotated.body.secret })).status).toBe(401);
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: immediate.body.secret })).status).toBe(200);
  });

  test('a key made to expire keeps its expiry through rotation: rotating after a leak makes no key permanent', async () => {
    const made = await create(ten.secretKey, { name: 'contractor', capabilities: ['domains:read'], expiresInSeconds: 2 * 86_400 });
    expect(made.status, made.text).toBe(201);
    const old = made.body;
    const expiresAt = old.apiKey.expiresAt as string;
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now() + 86_400_000);
    const rotated = await call(t.url, 'POST', `/v1/admin/api-keys/${old.apiKey.id}/rotate`, { key: ten.secretKey, body: { graceSeconds: 60 } });
    expect(rotated.status, rotated.text).toBe(201);
    expect(rotated.body.apiKey.expiresAt).toBe(expiresAt);
    const listed = (await call(t.url, 'GET', '/v1/admin/api-keys', { key: ten.secretKey })).body.apiKeys;
    expect(listed.find((k: any) => k.id === rotated.body.apiKey.id).expiresAt).toBe(expiresAt);
  });

  test('a revoked key is refused at once; last use is tracked', async () => {
    const k = (await create(ten.secretKey, { name: 'temp', capabilities: ['domains:read'] })).body;
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: k.secret })).status).toBe(200);
    const listed = (await call(t.url, 'GET', '/v1/admin/api-keys', { key: ten.secretKey })).body.apiKeys;
    expect(listed.find((x: any) => x.id === k.apiKey.id).lastUsedAt).not.toBeNull();
    expect((await call(t.url, 'DELETE', `/v1/admin/api-keys/${k.apiKey.id}`, { key: ten.secretKey })).status).toBe(204);
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: k.secret })).status).toBe(401);
    expect((await call(t.url, 'DELETE', `/v1/admin/api-keys/${k.apiKey.id}`, { key: ten.secretKey })).status).toBe(404);
  });

  test('an expired key is refused', async () => {
    const k = (await create(ten.secretKey, { name: 'short', capabilities: ['domains:read'], expiresInSeconds: 60 })).body;
    await t.runtime.db.withOwner((tx) => tx.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [k.apiKey.id]));
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: k.secret })).status).toBe(401);
  });

  test('every key change is in the audit log, without the secret', async () => {
    const audit = await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: ten.secretKey });
    const actions = audit.body.entries.map((e: any) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['api_key.create', 'api_key.rotate', 'api_key.revoke']));
    expect(audit.text).not.toMatch(/sk_test_[0-9A-Za-z]{32}/);
  });
});

describe('the calling key', () => {
  test('GET /v1/admin/me names the tenant and the key with its capabilities, and nothing secret', async () => {
    const created = (await create(ten.secretKey, { name: 'agents', capabilities: ['handoffs:read', 'handoffs:write'] })).body;
    const me = await call(t.url, 'GET', '/v1/admin/me', { key: created.secret });
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    expect(AdminMeResponse.strict().parse(me.body)).toEqual({
      tenant: { id: ten.tenant.id, name: ten.tenant.name },
      capabilities: ['handoffs:read', 'handoffs:write'],
      member: null,
      apiKey: {
        id: created.apiKey.id,
        name: 'agents',
        prefix: created.secret.slice(0, 12),
        capabilities: ['handoffs:read', 'handoffs:write'],
        expiresAt: null,
      },
    });
    expect(me.text).not.toContain(created.secret.slice(12));
    expect((await call(t.url, 'GET', '/v1/admin/me', {})).status).toBe(401);
  });
});

describe('domains', () => {
  test('add, list, duplicate, delete — each audited', async () => {
    const add = await call(t.url, 'POST', '/v1/admin/domains', { key: ten.secretKey, body: { pattern: '*.Shop.Example' } });
    expect(add.status).toBe(201);
    expect(add.body.domain.pattern).toBe('*.shop.example');
    expect((await call(t.url, 'POST', '/v1/admin/domains', { key: ten.secretKey, body: { pattern: '*.shop.example' } })).status).toBe(409);
    expect((await call(t.url, 'DELETE', `/v1/admin/domains/${add.body.domain.id}`, { key: ten.secretKey })).status).toBe(204);
    expect((await call(t.url, 'DELETE', `/v1/admin/domains/${add.body.domain.id}`, { key: ten.secretKey })).status).toBe(404);
    expect((await call(t.url, 'DELETE', '/v1/admin/domains/not-a-uuid', { key: ten.secretKey })).status).toBe(404);
    const actions = (await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: ten.secretKey })).body.entries.map((e: any) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['domain.add', 'domain.remove']));
  });
});
