// An owner schedules the deletion of the tenant over the admin API (a grace period, cancellable), every
// owner is emailed through a real SMTP server, other roles and other tenants are refused, the tenant keeps
// working meanwhile, and the leased job deletes it once due (two instances racing delete it once).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { detect } from '../ai/pii/index.js';
import { pgVectorStore } from '../knowledge/vectors/pgvector.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { type ConsoleClient, signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { startTestSmtp, type TestSmtp } from '../test/smtp.js';
import { Visitor } from '../test/widget.js';
import type { CreatedTenant } from './service.js';
import { runDueDeletions } from './deletion.js';

let smtp: TestSmtp;
let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let ownerA: ConsoleClient;
let ownerB: ConsoleClient;
const ownerEmails: string[] = [];
const roles: Record<string, ConsoleClient> = {};

const owner = (sql: string, params: unknown[] = []) => t.testDb.db.withOwner((tx) => tx.query<any>(sql, params));
const mailsAbout = (subject: RegExp) => smtp.inbox.filter((m) => subject.test(m.raw));
const settle = () => new Promise((r) => setTimeout(r, 300));

beforeAll(async () => {
  smtp = await startTestSmtp();
  t = await startTestApp({ PARLEY_SMTP_URL: smtp.url, PARLEY_SMTP_FROM: 'Parley <notices@parley.example>' });
  a = await t.tenant('Doomed', ['doomed.example']);
  b = await t.tenant('Keeper', ['keeper.example']);
  const first = await signedInMember(t, a.tenant.id, 'owner');
  const second = await signedInMember(t, a.tenant.id, 'owner');
  ownerA = first.client;
  ownerEmails.push(first.email, second.email);
  for (const role of ['admin', 'agent', 'analyst'] as const) roles[role] = (await signedInMember(t, a.tenant.id, role)).client;
  ownerB = (await signedInMember(t, b.tenant.id, 'owner')).client;
}, 120_000);
afterAll(async () => {
  await t?.close();
  await smtp.close();
});

describe('scheduled tenant deletion', () => {
  test('only an owner of the tenant schedules, sees or cancels it; keys and other roles are refused', async () => {
    for (const role of ['admin', 'agent', 'analyst']) {
      expect((await roles[role]!.call('POST', '/v1/admin/tenant/deletion', {})).status, role).toBe(403);
      expect((await roles[role]!.call('GET', '/v1/admin/tenant/deletion')).status, role).toBe(403);
    }
    expect((await call(t.url, 'POST', '/v1/admin/tenant/deletion', { key: a.secretKey, body: {} })).status).toBe(403);
    expect((await ownerA.call('POST', '/v1/admin/tenant/deletion', { graceDays: 0 })).status).toBe(400);
    expect((await ownerA.call('POST', '/v1/admin/tenant/deletion', { graceDays: 31 })).status).toBe(400);
    expect(await owner('SELECT tenant FROM tenant_deletions')).toMatchObject({ rows: [] });
  });

  test('an owner schedules (7 days by default), every owner is emailed, the tenant keeps working; cancelling emails them again', async () => {
    const res = await ownerA.call('POST', '/v1/admin/tenant/deletion', {});
    expect(res.status).toBe(201);
    expect(res.body.state).toBe('scheduled');
    const days = (Date.parse(res.body.dueAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);
    expect((await ownerA.call('POST', '/v1/admin/tenant/deletion', {})).status).toBe(409);
    await settle();
    const scheduled = mailsAbout(/^Subject: Your Parley workspace is scheduled for deletion/m);
    expect(scheduled.flatMap((m) => m.to).sort()).toEqual([...ownerEmails].sort());

    // Another tenant's owner sees nothing of it and cannot cancel it.
    expect((await ownerB.call('GET', '/v1/admin/tenant/deletion')).body).toEqual({ state: 'none', requestedAt: null, dueAt: null });
    expect((await ownerB.call('DELETE', '/v1/admin/tenant/deletion')).status).toBe(404);
    expect((await ownerA.call('GET', '/v1/admin/tenant/deletion')).body.state).toBe('scheduled');

    // Still working: the widget starts, keys answer.
    expect((await new Visitor(t.url, a.publishableKey, 'https://doomed.example').start()).status).toBe(200);
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: a.secretKey })).status).toBe(200);

    expect((await roles.admin!.call('DELETE', '/v1/admin/tenant/deletion')).status).toBe(403);
    expect((await ownerA.call('DELETE', '/v1/admin/tenant/deletion')).status).toBe(204);
    expect((await ownerA.call('DELETE', '/v1/admin/tenant/deletion')).status).toBe(404);
    await settle();
    expect(
      mailsAbout(/^Subject: The deletion of your Parley workspace was cancelled/m)
        .flatMap((m) => m.to)
        .sort(),
    ).toEqual([...ownerEmails].sort());

    // Audited in the tenant's log, with no personal data.
    const entries = (
      await owner("SELECT action, metadata FROM audit_entries WHERE tenant_id = $1 AND action LIKE 'tenant.deletion.%' ORDER BY id", [a.tenant.id])
    ).rows;
    expect(entries.map((e) => e.action)).toEqual(['tenant.deletion.schedule', 'tenant.deletion.cancel']);
    expect(detect(JSON.stringify(entries))).toEqual([]);
  });

  test('the leased job deletes a tenant once due; two instances racing delete it once; the other tenant stays', async () => {
    expect((await ownerA.call('POST', '/v1/admin/tenant/deletion', { graceDays: 1 })).status).toBe(201);
    const deps = { db: t.runtime.db, audit: t.runtime.audit, keyring: t.runtime.keyring, vectors: pgVectorStore() };
    // Not due yet: nothing happens.
    const early = await runDueDeletions(deps, 'instance-1', { everyMs: 0 });
    expect(early).toEqual({ ran: true, result: [] });
    await owner("UPDATE tenant_deletions SET due_at = now() - interval '1 second' WHERE tenant = $1", [a.tenant.id]);
    const runs = await Promise.all([runDueDeletions(deps, 'instance-1', { everyMs: 0 }), runDueDeletions(deps, 'instance-2', { everyMs: 0 })]);
    const deleted = runs.flatMap((r) => (r.ran ? r.result : []));
    expect(deleted).toEqual([a.tenant.id]);
    expect((await owner('SELECT count(*)::int AS n FROM tenants WHERE id = $1', [a.tenant.id])).rows[0].n).toBe(0);
    expect((await owner('SELECT count(*)::int AS n FROM members WHERE tenant_id = $1', [a.tenant.id])).rows[0].n).toBe(0);
    expect((await owner('SELECT state FROM tenant_deletions WHERE tenant = $1', [a.tenant.id])).rows[0].state).toBe('done');
    expect(
      (await owner("SELECT count(*)::int AS n FROM audit_entries WHERE action = 'tenant.deleted' AND target_id = $1", [a.tenant.id])).rows[0].n,
    ).toBe(1);
    // The deleted tenant's key and session are gone; the other tenant works.
    expect((await call(t.url, 'GET', '/v1/admin/domains', { key: a.secretKey })).status).toBe(401);
    expect((await ownerB.call('GET', '/v1/admin/tenant/deletion')).status).toBe(200);
  });
});
