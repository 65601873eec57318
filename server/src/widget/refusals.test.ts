// Refusals by the widget gate are audited, but whoever holds the public key (it sits in page HTML)
// must not be able to grow the undeletable audit log: what a refusal stores is bounded, and repeats
// are counted in one entry per tenant × origin × window, with the count shown when the window closes.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
const A_ORIGIN = 'https://shop.a.example';

beforeAll(async () => {
  t = await startTestApp({ PARLEY_REFUSAL_AUDIT_SUBJECTS: '10' });
  a = await t.tenant('Tenant A', ['*.a.example']);
  b = await t.tenant('Tenant B', ['b.example']);
});
afterAll(() => t.close());

/** Entries and bytes in a tenant's audit log, read as the database owner. */
async function logSize(tenantId: string): Promise<{ entries: number; bytes: number }> {
  const { rows } = await t.runtime.db.withOwner((tx) =>
    tx.query<{ n: string; bytes: string | null }>(
      `SELECT count(*) AS n, sum(octet_length(metadata::text) + octet_length(action) + coalesce(octet_length(actor_id), 0)) AS bytes
         FROM audit_entries WHERE tenant_id = $1`,
      [tenantId],
    ),
  );
  return { entries: Number(rows[0]!.n), bytes: Number(rows[0]!.bytes ?? 0) };
}

const entries = async (key: string) => (await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key })).body.entries as any[];

async function refuse(origin: string, path = '/config', key = a.publishableKey) {
  const res = await call(t.url, 'GET', `/v1/widget${path}`, { headers: { origin, 'x-parley-key': key } });
  expect(res.status).toBe(403);
  expect(res.body.type).toBe('/docs/problems/origin-not-allowed');
}

/** Closes every open refusal window (as if an hour passed) and runs the summary sweep. */
async function rollWindows() {
  await t.runtime.db.withOwner((tx) =>
    tx.query("UPDATE audit_refusals SET window_start = window_start - interval '2 days', window_end = window_end - interval '2 days'"),
  );
  const { refusalSummarySweep } = await import('../audit/refusals.js');
  return refusalSummarySweep(t.runtime.db, t.runtime.audit);
}

describe('origin refusals do not grow the audit log without bound', () => {
  test('100 refusals with a 14 KB Origin add a bounded number of small entries', async () => {
    const before = await logSize(a.tenant.id);
    const huge = `https://${'x'.repeat(60)}.${'evil.'.repeat(2800)}example`; // ~14 KB, one host
    expect(huge.length).toBeGreaterThan(14_000);
    for (let i = 0; i < 100; i++) await refuse(i % 2 ? huge : `${huge}/path-${i}`);
    const after = await logSize(a.tenant.id);
    expect(after.entries - before.entries).toBeLessThanOrEqual(2);
    expect(after.bytes - before.bytes).toBeLessThan(2_000);
    const stored = (await entries(a.secretKey)).filter((e) => e.action === 'widget.origin_refused');
    for (const e of stored) expect(JSON.stringify(e).length).toBeLessThan(1_500);
  });

  test('100 refusals on distinct paths from one origin are one entry; origins are stored normalised', async () => {
    const before = await logSize(a.tenant.id);
    for (let i = 0; i < 100; i++) await refuse('HTTPS://Evil.Example:443', `/${'p'.repeat(200)}-${i}`);
    const after = await logSize(a.tenant.id);
    expect(after.entries - before.entries).toBe(1);
    const last = (await entries(a.secretKey)).at(-1);
    expect(last.action).toBe('widget.origin_refused');
    expect(last.metadata.origin).toBe('https://evil.example');
    expect(last.metadata.path.length).toBeLessThanOrEqual(80);
    expect(last.metadata.count).toBe(1);
  });

  test('an international host is stored in punycode; an unparsable Origin as a marker and a short hash', async () => {
    await refuse('https://bücher.example');
    await refuse(`not a url ${'z'.repeat(10_000)}`);
    const stored = (await entries(a.secretKey)).filter((e) => e.action === 'widget.origin_refused').map((e) => e.metadata.origin);
    expect(stored).toContain('https://xn--bcher-kva.example');
    expect(stored.some((o: string) => /^\(unparsable\) [0-9a-f]{16}$/.test(o))).toBe(true);
    for (const o of stored) if (o !== null) expect(o.length).toBeLessThanOrEqual(300);
  });

  test('many distinct origins are bounded too: past the per-window limit they share one "other" entry', async () => {
    const before = await logSize(b.tenant.id);
    for (let i = 0; i < 60; i++) await refuse(`https://site-${i}.attacker.example`, '/config', b.publishableKey);
    const after = await logSize(b.tenant.id);
    expect(after.entries - before.entries).toBeLessThanOrEqual(11); // 10 origins + one overflow bucket
    const stored = (await entries(b.secretKey)).filter((e) => e.action === 'widget.origin_refused');
    expect(stored.some((e) => e.metadata.origin === '(other origins)')).toBe(true);
  });

  test('concurrent refusals (on a server: concurrent transactions) still give one entry per origin and respect the limit', async () => {
    const c = await t.tenant('Tenant C', ['c.example']);
    const before = await logSize(c.tenant.id);
    await Promise.all(Array.from({ length: 30 }, () => refuse('https://burst.example', '/config', c.publishableKey)));
    expect((await logSize(c.tenant.id)).entries - before.entries).toBe(1);
    await Promise.all(Array.from({ length: 30 }, (_, i) => refuse(`https://burst-${i}.example`, '/config', c.publishableKey)));
    // 9 more origins fit under the limit of 10; the other 21 share one entry.
    expect((await logSize(c.tenant.id)).entries - before.entries).toBe(11);
    const { rows } = await t.runtime.db.withOwner((tx) =>
      tx.query<{ n: string; total: string }>('SELECT count(*) AS n, sum(count) AS total FROM audit_refusals WHERE tenant_id = $1', [c.tenant.id]),
    );
    expect(Number(rows[0]!.n)).toBe(11);
    expect(Number(rows[0]!.total)).toBe(60);
  });

  test('when the window rolls, one summary entry per origin carries the count the admin can see', async () => {
    const swept = await rollWindows();
    expect(swept).toBeGreaterThan(0);
    const all = await entries(a.secretKey);
    const summaries = all.filter((e) => e.action === 'widget.origin_refused.summary');
    const evil = summaries.find((e) => e.metadata.origin === 'https://evil.example');
    expect(evil?.metadata.count).toBe(100);
    expect(evil?.metadata.window).toMatchObject({ start: expect.any(String), end: expect.any(String) });
    const huge = summaries.find((e) => String(e.metadata.origin).startsWith('https://xxxx'));
    expect(huge?.metadata.count).toBe(100);
    // A single refusal needs no summary: its first entry already says count 1.
    expect(summaries.find((e) => e.metadata.origin === 'https://xn--bcher-kva.example')).toBeUndefined();
    const other = (await entries(b.secretKey)).find((e) => e.action === 'widget.origin_refused.summary' && e.metadata.origin === '(other origins)');
    expect(other?.metadata.count).toBe(50);
    // Swept once: running again writes nothing, and the counters are gone.
    expect(await rollWindows()).toBe(0);
    const left = await t.runtime.db.withOwner((tx) => tx.query('SELECT count(*)::int AS n FROM audit_refusals'));
    expect(left.rows[0]!.n).toBe(0);
  });

  test('after the window, the same origin is audited afresh', async () => {
    const before = await logSize(a.tenant.id);
    await refuse('https://evil.example');
    await refuse('https://evil.example');
    expect((await logSize(a.tenant.id)).entries - before.entries).toBe(1);
  });
});

describe('token refusals are aggregated the same way', () => {
  test("100 presentations of another tenant's token add one entry", async () => {
    const va = new Visitor(t.url, a.publishableKey, A_ORIGIN);
    await va.start();
    const thief = new Visitor(t.url, b.publishableKey, 'https://b.example');
    thief.token = va.token;
    const before = await logSize(b.tenant.id);
    for (let i = 0; i < 100; i++) expect((await thief.call('POST', '/conversations', {})).status).toBe(401);
    expect((await logSize(b.tenant.id)).entries - before.entries).toBe(1);
  });
});
