// Tenant export over the real app: the archive verifies offline with only the verifier key and a changed
// byte names its file; no secret (key, password and token hashes, sealed secrets, or their plaintexts) is in
// its bytes; restricted values only for an owner with a reason; a member without tenant:export is refused;
// another tenant's rows never appear; the audit entry holds counts and classes, never content; the audit
// section carries the latest checkpoint and proofs that verify.
import { verifyEvidencePack } from '@parley/node';
import { CLASSIFICATION, type DataClass } from '@parley/protocol';
import { createHash } from 'node:crypto';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { type ConsoleClient, signedInMember, STRONG_PASSWORD } from '../test/console.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let key: string;
let owner: ConsoleClient;
let admin: ConsoleClient;
let agent: ConsoleClient;
let analyst: ConsoleClient;
let webhookSecret: string;
let actionSecret: string;
let visitorSecret: string;
let plain: { bytes: Uint8Array; manifest: string };

const EMAIL_A = 'grace.hopper.export@example.com';
const EMAIL_B = 'other.tenant.person@example.com';
const PROVIDER_KEY = `sk-test-${'q'.repeat(40)}`;
const KNOWLEDGE_B = 'Zebra-striped refund policy of tenant B only';
const REASON = 'Migrating the workspace to our own archive, ticket OPS-42';

type Who = { key: string } | { client: ConsoleClient };
async function requestExport(who: Who, body: unknown) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...('key' in who ? { authorization: `Bearer ${who.key}` } : { ...who.client.pageHeaders, cookie: who.client.cookieHeader() }),
  };
  const res = await fetch(`${t.url}/v1/admin/tenant/export`, { method: 'POST', headers, body: JSON.stringify(body) });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: Buffer.from(bytes).toString('utf8') };
}

const unzip = (zip: Uint8Array) => unzipSync(zip);
const str = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const jsonl = (f: Record<string, Uint8Array>, path: string) =>
  str(f[path]!)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function chat(tenant: CreatedTenant, origin: string, text: string) {
  const v = new Visitor(t.url, tenant.publishableKey, origin);
  expect((await v.start()).status).toBe(200);
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  await v.say(id, text);
  return { v, id };
}

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Export A', ['a.example']);
  b = await t.tenant('Export B', ['b.example']);
  owner = (await signedInMember(t, a.tenant.id, 'owner')).client;
  admin = (await signedInMember(t, a.tenant.id, 'admin')).client;
  agent = (await signedInMember(t, a.tenant.id, 'agent')).client;
  analyst = (await signedInMember(t, a.tenant.id, 'analyst')).client;
  await signedInMember(t, b.tenant.id, 'owner', 'b-owner@b.example');
  const { v } = await chat(a, 'https://a.example', `Please write to ${EMAIL_A} about my order`);
  visitorSecret = v.secret;
  await chat(b, 'https://b.example', `Reach me at ${EMAIL_B}`);
  for (const [tenant, content] of [
    [a, '# Refunds\n\nRefunds take five days.'],
    [b, `# Refunds\n\n${KNOWLEDGE_B}.`],
  ] as const)
    expect(
      (
        await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
          key: tenant.secretKey,
          body: { kind: 'markdown', content, externalId: 'refunds' },
        })
      ).status,
    ).toBeLessThan(300);
  expect(
    (await call(t.url, 'PUT', '/v1/admin/providers/openai', { key: a.secretKey, body: { apiKey: PROVIDER_KEY, model: 'gpt-test' } })).status,
  ).toBeLessThan(300);
  const hook = await call(t.url, 'POST', '/v1/admin/webhooks/endpoints', {
    key: a.secretKey,
    body: { url: 'https://hooks.a.example/parley', events: ['handoff.requested'] },
  });
  expect(hook.status, hook.text).toBe(201);
  webhookSecret = hook.body.secret;
  const action = await call(t.url, 'POST', '/v1/admin/actions', {
    key: a.secretKey,
    body: {
      name: 'refund_order',
      description: 'Refund an order.',
      inputSchema: { type: 'object' },
      endpoint: 'https://shop.a.example/refund',
      risk: 'write',
    },
  });
  expect(action.status, action.text).toBe(201);
  actionSecret = action.body.secret;
  key = (await call(t.url, 'GET', '/v1/audit/verifier-key')).text.trim();
  const res = await requestExport({ key: a.secretKey }, {});
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/zip');
  plain = { bytes: res.bytes, manifest: res.headers.get('x-parley-evidence-manifest')! };
}, 180_000);
afterAll(() => t?.close());

describe('a tenant export', () => {
  test('verifies offline with the verifier key alone, as a tenant-export; the audit section is the latest checkpoint with proofs', () => {
    const result = verifyEvidencePack(plain.bytes, key);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.kind).toBe('tenant-export');
    expect(result.manifestSha256).toBe(plain.manifest);
    const m = result.manifest!;
    expect(m.tenantId).toBe(a.tenant.id);
    const f = unzip(plain.bytes);
    const entries = str(f['audit/entries.jsonl']!).trim().split('\n');
    expect(entries.length).toBe(m.audit.entries);
    expect(m.audit.entries).toBeGreaterThan(5);
    // Every integrated entry of the tenant's log up to the checkpoint: the whole log, seq 0 onwards.
    expect(entries.map((l) => JSON.parse(l).seq)).toEqual([...Array(m.audit.entries).keys()]);
    expect(str(f['audit/checkpoint.txt']!).split('\n')[1]).toBe(String(m.audit.checkpointSize));
    for (const path of [
      'data/conversations/messages.jsonl',
      'data/knowledge/knowledge_chunks.jsonl',
      'data/settings/tenants.jsonl',
      'data/settings/actions.jsonl',
      'data/members/members.jsonl',
    ])
      expect(jsonl(f, path).length, path).toBeGreaterThan(0);
    // Personal data is the tenant's own: members' emails are in it.
    expect(jsonl(f, 'data/members/members.jsonl').every((r) => typeof r.email === 'string')).toBe(true);
  });

  test('a changed byte in the archive names the file it falls in', () => {
    const f = unzip(plain.bytes);
    for (const name of ['data/conversations/messages.jsonl', 'data/settings/tenants.jsonl', 'audit/entries.jsonl', 'manifest.json']) {
      const content = Buffer.from(f[name]!);
      const at = Buffer.from(plain.bytes).indexOf(content);
      expect(at, name).toBeGreaterThan(0);
      const bytes = Uint8Array.from(plain.bytes);
      bytes[at + Math.floor(content.length / 2)]! ^= 0x20;
      const result = verifyEvidencePack(bytes, key);
      expect(result.ok, name).toBe(false);
      expect(result.failures[0]!.file, name).toBe(name);
    }
  });

  test('the verifier reads a manifest without `kind` (packs made before it existed) as an evidence pack, and refuses an unknown kind', async () => {
    const f = unzip(plain.bytes);
    const resign = async (manifest: Record<string, unknown>) => {
      const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
      const hash = createHash('sha256').update(bytes).digest('hex');
      const sig = await t.testDb.db.withOwner((tx) => t.runtime.audit.signStatement(tx, `parley evidence pack\n${a.tenant.id}\n${hash}\n`));
      const files = { ...f, 'manifest.json': bytes, 'manifest.sig': Buffer.from(sig) };
      return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, [v, { level: 0 }]])) as Zippable);
    };
    const { kind: _kind, ...old } = JSON.parse(str(f['manifest.json']!));
    const legacy = verifyEvidencePack(await resign(old), key);
    expect(legacy.failures).toEqual([]);
    expect(legacy.kind).toBe('evidence');
    const unknown = verifyEvidencePack(await resign({ ...old, kind: 'backup' }), key);
    expect(unknown.ok).toBe(false);
    expect(unknown.failures.map((x) => x.file)).toEqual(['manifest.json']);
  });

  test('no secret is in the archive: every secret column of the tenant, in any encoding, and the plaintext secrets', async () => {
    const values: Buffer[] = [];
    for (const [table, classes] of Object.entries(CLASSIFICATION) as [string, Partial<Record<DataClass, readonly string[]>>][]) {
      const cols = classes.secret ?? [];
      const where =
        table === 'tenants'
          ? 'id'
          : (CLASSIFICATION as Record<string, Record<string, readonly string[]>>)[table]!.internal?.includes('tenant_id')
            ? 'tenant_id'
            : null;
      if (!cols.length || !where) continue;
      const { rows } = await t.testDb.db.withOwner((tx) =>
        tx.query<Record<string, unknown>>(`SELECT ${cols.join(', ')} FROM ${table} WHERE ${where} = $1`, [a.tenant.id]),
      );
      for (const r of rows)
        for (const v of Object.values(r)) {
          if (v instanceof Uint8Array)
            values.push(Buffer.from(v), Buffer.from(Buffer.from(v).toString('hex')), Buffer.from(Buffer.from(v).toString('base64')));
          else if (typeof v === 'string' && v.length >= 8) values.push(Buffer.from(v));
        }
    }
    // Hashed or sealed at rest, so there must be plenty: key hash, password hashes, token hashes, sealed secrets.
    expect(values.length).toBeGreaterThan(20);
    for (const s of [a.secretKey, webhookSecret, actionSecret, PROVIDER_KEY, STRONG_PASSWORD, visitorSecret]) {
      expect(s.length).toBeGreaterThan(8);
      values.push(Buffer.from(s));
    }
    const f = unzip(plain.bytes);
    for (const [name, bytes] of Object.entries(f))
      for (const v of values) expect(Buffer.from(bytes).includes(v), `${name} holds a secret`).toBe(false);
    // And the column names themselves are left out, named in the manifest as omitted secrets.
    const members = jsonl(f, 'data/members/members.jsonl');
    expect(members.some((m) => 'password_hash' in m)).toBe(false);
    const manifest = JSON.parse(str(f['manifest.json']!));
    const m = manifest.contents.tables.find((x: { table: string }) => x.table === 'members');
    expect(m.omitted.secret).toEqual(['password_hash']);
  });

  test("another tenant's rows never appear", () => {
    const all = Buffer.from(plain.bytes);
    for (const s of [b.tenant.id, EMAIL_B, KNOWLEDGE_B, 'b-owner@b.example', b.publishableKey]) expect(all.includes(Buffer.from(s)), s).toBe(false);
  });

  test('restricted values are absent without an owner and a reason; an owner with one gets them', async () => {
    const f = unzip(plain.bytes);
    const vault = jsonl(f, 'data/conversations/pii_vault.jsonl');
    expect(vault.length).toBeGreaterThan(0);
    expect(vault.every((r) => !('sealed' in r))).toBe(true);
    expect(Buffer.from(plain.bytes).includes(Buffer.from(EMAIL_A))).toBe(false);
    const manifest = JSON.parse(str(f['manifest.json']!));
    expect(manifest.contents.classes).toEqual({ included: ['public', 'internal', 'confidential', 'personal'], omitted: ['restricted', 'secret'] });
    expect(manifest.contents.tables.find((x: { table: string }) => x.table === 'pii_vault').omitted.restricted).toEqual(['sealed']);

    // An admin, or a key (no person, no role), may not; an owner must give a reason.
    const byAdmin = await requestExport({ client: admin }, { includeRestricted: true, reason: REASON });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await requestExport({ key: a.secretKey }, { includeRestricted: true, reason: REASON })).status).toBe(403);
    const noReason = await requestExport({ client: owner }, { includeRestricted: true });
    expect(noReason.status).toBe(400);
    expect(JSON.parse(noReason.text).errors.map((e: { path: string }) => e.path)).toContain('/reason');

    const res = await requestExport({ client: owner }, { includeRestricted: true, reason: REASON });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(verifyEvidencePack(res.bytes, key).ok).toBe(true);
    const g = unzip(res.bytes);
    const opened = jsonl(g, 'data/conversations/pii_vault.jsonl');
    expect(opened.map((r) => r.sealed)).toContain(EMAIL_A);
    expect(JSON.parse(str(g['manifest.json']!)).contents.classes.included).toContain('restricted');
    // The owner's plain export (no restricted) is still without them.
    const ownerPlain = await requestExport({ client: owner }, {});
    expect(ownerPlain.status).toBe(200);
    expect(Buffer.from(ownerPlain.bytes).includes(Buffer.from(EMAIL_A))).toBe(false);
  });

  test('a member without tenant:export (agent, analyst) is refused with a 403 problem', async () => {
    for (const client of [agent, analyst]) {
      const res = await requestExport({ client }, {});
      expect(res.status).toBe(403);
      expect(JSON.parse(res.text).type).toMatch(/missing-capability|forbidden/);
    }
  });

  test('each export is audited with counts per table and the classes, never content', async () => {
    await t.runtime.audit.integrateNow();
    const log = await call(t.url, 'GET', '/v1/admin/audit?limit=500', { key: a.secretKey });
    expect(log.status).toBe(200);
    const exports = log.body.entries.filter((e: { action: string }) => e.action === 'tenant.export');
    expect(exports.length).toBe(3);
    const first = exports.find((e: { metadata: { manifestSha256: string } }) => e.metadata.manifestSha256 === plain.manifest);
    expect(first.metadata).toMatchObject({
      includeRestricted: false,
      classes: ['public', 'internal', 'confidential', 'personal'],
      counts: { members: 4, messages: expect.any(Number), pii_vault: expect.any(Number), knowledge_sources: 1 },
    });
    const restricted = exports.find((e: { metadata: { includeRestricted: boolean } }) => e.metadata.includeRestricted);
    expect(restricted.metadata.classes).toContain('restricted');
    expect(restricted.reason).toBe(REASON);
    const dump = JSON.stringify(exports);
    for (const s of [EMAIL_A, 'Refunds take five days', 'correct horse']) expect(dump).not.toContain(s);
    // Refused requests export nothing and append no tenant.export entry (3 = key, owner with reason, owner plain).
  });
});
