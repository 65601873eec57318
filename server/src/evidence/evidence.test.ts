// Evidence packs over the real app: a pack verifies offline with only the deployment's verifier key;
// changing any file (re-zipped, or one byte of the archive itself), adding or removing one, or using
// another key fails naming the file; its reports (HTML and PDF) are rebuilt byte for byte from what the
// pack holds; only a caller with evidence:export gets one, and a tenant's pack holds nothing of another
// tenant.
import { randomBytes } from 'node:crypto';
import { Parley, verifyEvidencePack } from '@parley/node';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { detect } from '../ai/pii/index.js';
import { verifierKeyString } from '../audit/checkpoint.js';
import { newHolderId } from '../jobs/lease.js';
import { runEvidenceSweep } from '../jobs/evidence.js';
import type { CreatedTenant } from '../tenants/service.js';
import { pdfText } from '../test/pdf-text.js';
import { buildReport } from './report.js';
import { renderReportHtml } from './report-html.js';
import { renderReportPdf } from './report-pdf.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let key: string;
let pack: Uint8Array;
let manifestHeader: string;

const period = () => ({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });

async function requestPack(secret: string | undefined, body: unknown) {
  const res = await fetch(`${t.url}/v1/admin/evidence/packs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

const files = (zip: Uint8Array) => unzipSync(zip);
const rezip = (f: Record<string, Uint8Array>) => zipSync(Object.fromEntries(Object.entries(f).map(([k, v]) => [k, [v, { level: 0 }]])) as Zippable);
const text = (f: Record<string, Uint8Array>, name: string) => Buffer.from(f[name]!).toString('utf8');

beforeAll(async () => {
  t = await startTestApp();
  // Named partly in a script the PDF's standard fonts cannot show.
  a = await t.tenant('Évidence A, 証拠', ['a.example']);
  b = await t.tenant('Evidence B', ['b.example']);
  // A policy change in the period, so the pack has something to show under change management.
  expect((await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { handoff: { threshold: 0.4 } } })).status).toBe(200);
  key = (await call(t.url, 'GET', '/v1/audit/verifier-key')).text.trim();
  const res = await requestPack(a.secretKey, { framework: 'soc2', ...period() });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/zip');
  pack = res.bytes;
  manifestHeader = res.headers.get('x-parley-evidence-manifest')!;
}, 120_000);
afterAll(() => t?.close());

describe('an evidence pack', () => {
  test('verifies with the verifier key alone and carries the proved audit entries, policies, checks and report', async () => {
    const result = verifyEvidencePack(pack, key);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.manifestSha256).toBe(manifestHeader);
    const m = result.manifest!;
    expect(m.tenantId).toBe(a.tenant.id);
    expect(m.verifierKey).toBe(key);
    expect(m.audit.entries).toBeGreaterThan(0);
    const f = files(pack);
    const entries = text(f, 'audit/entries.jsonl')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(entries.length).toBe(m.audit.entries);
    expect(entries.map((e) => e.action)).toContain('settings.update');
    expect(JSON.parse(text(f, 'policies/changes.json')).changes.map((c: { action: string }) => c.action)).toContain('settings.update');
    expect(JSON.parse(text(f, 'policies/settings.json')).effective.handoff.threshold).toBe(0.4);
    const checks = JSON.parse(text(f, 'checks/self-checks.json')).checks as { name: string; passed: boolean }[];
    expect(checks.length).toBe(5);
    expect(checks.filter((c) => !c.passed)).toEqual([]);
    const report = text(f, 'report.html');
    for (const control of ['CC6.1', 'CC6.6', 'CC6.7', 'CC7.2', 'CC8.1']) expect(report).toContain(control);
    expect(report).toContain('does not cover');
    // report.pdf: the same report, listed and hashed in the manifest like every other file.
    expect(m.files.map((x) => x.path)).toContain('report.pdf');
    const pdf = f['report.pdf']!;
    expect(Buffer.from(pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const pdfLines = pdfText(pdf).split('\n');
    for (const control of ['CC6.1', 'CC6.6', 'CC6.7', 'CC7.2', 'CC8.1']) expect(pdfLines).toContain(control);
    expect(pdfLines).toContain('Controls this pack does not cover');
    expect(pdfLines).toContain('CC1–CC5');
    expect(pdfLines.join('')).toContain(`Tenant Évidence A, ?? (${a.tenant.id})`);
    expect(pdfLines.join('')).not.toContain(a.secretKey);
    // No secrets: the tenant's secret key and provider key material never appear.
    for (const name of Object.keys(f)) expect(text(f, name)).not.toContain(a.secretKey);

    // Timestamped: the manifest's hash is in the tenant's audit log, after the pack's checkpoint.
    await t.runtime.audit.integrateNow();
    const log = await call(t.url, 'GET', `/v1/admin/audit?after=${m.audit.checkpointSize - 1}&limit=200`, { key: a.secretKey });
    const entry = log.body.entries.find((e: { action: string }) => e.action === 'evidence.pack');
    expect(entry.metadata).toMatchObject({ framework: 'soc2', manifestSha256: manifestHeader });
    expect(entry.seq).toBeGreaterThanOrEqual(m.audit.checkpointSize);
  });

  test('its reports are what the pack holds, rendered: rebuilt from the manifest and the checks, the same bytes', async () => {
    const f = files(pack);
    expect(verifyEvidencePack(pack, key).ok).toBe(true);
    const m = JSON.parse(text(f, 'manifest.json'));
    const report = buildReport({
      tenantId: m.tenantId,
      tenantName: a.tenant.name,
      framework: m.framework,
      period: m.period,
      generatedAt: m.generatedAt,
      verifierKey: m.verifierKey,
      checkpointSize: m.audit.checkpointSize,
      entries: m.audit.entries,
      coverage: m.coverage,
      checks: JSON.parse(text(f, 'checks/self-checks.json')).checks,
    });
    expect(renderReportHtml(report)).toBe(text(f, 'report.html'));
    expect(Buffer.compare(await renderReportPdf(report), f['report.pdf']!)).toBe(0);
  });

  test('changing any file, re-zipped, fails naming that file', () => {
    const f = files(pack);
    expect(Object.keys(f)).toContain('report.pdf');
    for (const name of Object.keys(f)) {
      const changed = { ...f, [name]: Uint8Array.from(f[name]!) };
      changed[name]![Math.floor(changed[name]!.length / 2)]! ^= 0x01;
      const result = verifyEvidencePack(rezip(changed), key);
      expect(result.ok, name).toBe(false);
      expect(
        result.failures.map((x) => x.file),
        name,
      ).toContain(name);
    }
  });

  test('one byte flipped in the archive fails naming the file it falls in', () => {
    const f = files(pack);
    for (const name of ['policies/settings.json', 'audit/proofs.json', 'manifest.json', 'report.html', 'report.pdf']) {
      // Stored (not deflated): the file's bytes are in the archive as they are.
      const content = Buffer.from(f[name]!);
      const at = Buffer.from(pack).indexOf(content);
      expect(at, name).toBeGreaterThan(0);
      const bytes = Uint8Array.from(pack);
      bytes[at + Math.floor(content.length / 2)]! ^= 0x20;
      const result = verifyEvidencePack(bytes, key);
      expect(result.ok, name).toBe(false);
      expect(result.failures[0]!.file, name).toBe(name);
    }
  });

  test('an added or a removed file is named; another key, or a truncated archive, fails', () => {
    const f = files(pack);
    const added = verifyEvidencePack(rezip({ ...f, 'extra.txt': Buffer.from('hello') }), key);
    expect(added.failures).toEqual([{ file: 'extra.txt', reason: 'not listed in the manifest' }]);
    // Folder entries, as a re-zip with `zip -r` adds them, are not files: the pack still verifies.
    expect(verifyEvidencePack(rezip({ ...f, 'audit/': new Uint8Array(), 'policies/': new Uint8Array() }), key).ok).toBe(true);
    const { 'ai/calls.json': _gone, ...rest } = f;
    expect(verifyEvidencePack(rezip(rest), key).failures).toEqual([{ file: 'ai/calls.json', reason: 'missing' }]);

    const name = key.split('+')[0]!;
    const other = verifierKeyString(name, randomBytes(32));
    const wrong = verifyEvidencePack(pack, other);
    expect(wrong.ok).toBe(false);
    expect(wrong.failures[0]!.file).toBe('manifest.sig');
    expect(verifyEvidencePack(pack, 'not-a-key').failures[0]!.file).toBe('(verifier key)');
    expect(verifyEvidencePack(pack.subarray(0, pack.length - 30), key).ok).toBe(false);

    // A second entry of the same name (one file for this verifier, maybe another for an unzip tool).
    const raw = Buffer.from(rezip({ ...f, 'policies/settingz.json': Buffer.from('{}') }));
    const twice = Buffer.from(raw.toString('latin1').replaceAll('policies/settingz.json', 'policies/settings.json'), 'latin1');
    const dup = verifyEvidencePack(twice, key);
    expect(dup.ok).toBe(false);
    expect(dup.failures[0]).toEqual({ file: '(archive)', reason: expect.stringContaining('policies/settings.json appears twice') });
  });

  test('a self-check that does not hold is reported as failed, in the checks and the report', async () => {
    const owner = (sql: string) => t.testDb.db.withOwner((tx) => tx.query(sql));
    await owner('ALTER TABLE tenant_domains NO FORCE ROW LEVEL SECURITY');
    try {
      const res = await requestPack(a.secretKey, { framework: 'soc2', ...period() });
      expect(res.status).toBe(200);
      expect(verifyEvidencePack(res.bytes, key).ok).toBe(true);
      const f = files(res.bytes);
      const rls = JSON.parse(text(f, 'checks/self-checks.json')).checks[0];
      expect(rls).toMatchObject({ passed: false, detail: { unprotected: ['tenant_domains'] } });
      expect(text(f, 'report.html')).toContain('<strong>FAILED</strong>: Row-level security');
      expect(pdfText(f['report.pdf']!).replaceAll('\n', '')).toContain('FAILED: Row-level security');
    } finally {
      await owner('ALTER TABLE tenant_domains FORCE ROW LEVEL SECURITY');
    }
  });

  // Attack (eleventh review): a pack said "Approval rules: this deployment stores none" in its manifest and
  // report while its own policies/settings.json held seven operations for approval: an auditor was told
  // something false about the controls in force.
  test("the approval rules it states are the tenant's: the operations it holds, as its settings list them; none when none", async () => {
    const c = await t.tenant('Evidence C', ['c.example']);
    const held = ['export.restricted', 'tenant.delete'];
    expect((await call(t.url, 'PATCH', '/v1/admin/settings', { key: c.secretKey, body: { approvals: { operations: held } } })).status).toBe(200);
    const rule = (f: Record<string, Uint8Array>) =>
      (JSON.parse(text(f, 'manifest.json')).coverage as string[]).filter((line) => line.startsWith('Approval rules'));
    const f = files((await requestPack(c.secretKey, { framework: 'soc2', ...period() })).bytes);
    expect(JSON.parse(text(f, 'policies/settings.json')).effective.approvals.operations).toEqual(held);
    const [stated] = rule(f);
    expect(stated).not.toMatch(/stores none/);
    for (const op of held) expect(stated).toContain(op);
    expect(stated).not.toContain('keys.privileged');
    expect(text(f, 'report.html')).toContain('export.restricted');
    expect(pdfText(f['report.pdf']!).replaceAll('\n', '')).toContain('tenant.delete');
    // A tenant that holds none is told so, not that the deployment stores none.
    const [none] = rule(files((await requestPack(b.secretKey, { framework: 'soc2', ...period() })).bytes));
    expect(none).toMatch(/holds no admin operation/);
  });

  test("tenant B's pack verifies and holds nothing of tenant A; A's checkpoint swapped into it is named", async () => {
    // Tenant B's own, genuine pack: valid on its own, and holding nothing of tenant A.
    const res = await requestPack(b.secretKey, { framework: 'eu-ai-act', ...period() });
    expect(res.status).toBe(200);
    const ofB = verifyEvidencePack(res.bytes, key);
    expect(ofB.ok).toBe(true);
    expect(ofB.manifest!.tenantId).toBe(b.tenant.id);
    const fb = files(res.bytes);
    for (const name of Object.keys(fb)) expect(text(fb, name), name).not.toContain(a.tenant.id);
    expect(text(fb, 'report.html')).toContain('Art. 14');
    expect(pdfText(fb['report.pdf']!).split('\n')).toContain('Art. 14');
    // A's checkpoint in B's pack: the file no longer matches B's signed manifest.
    const swapped = verifyEvidencePack(rezip({ ...fb, 'audit/checkpoint.txt': files(pack)['audit/checkpoint.txt']! }), key);
    expect(swapped.failures.map((x) => x.file)).toEqual(['audit/checkpoint.txt']);
  });
});

describe('who may build one', () => {
  test('a key without evidence:export is refused, as is no key; a bad period is a 400 naming the field', async () => {
    const limited = await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'auditor', capabilities: ['audit:read'] } });
    expect(limited.status).toBe(201);
    expect((await requestPack(limited.body.secret, { framework: 'soc2', ...period() })).status).toBe(403);
    expect((await requestPack(undefined, { framework: 'soc2', ...period() })).status).toBe(401);
    const backwards = await call(t.url, 'POST', '/v1/admin/evidence/packs', {
      key: a.secretKey,
      body: { framework: 'soc2', from: new Date().toISOString(), to: new Date(Date.now() - 1000).toISOString() },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors[0].path).toBe('/to');
    expect((await call(t.url, 'POST', '/v1/admin/evidence/packs', { key: a.secretKey, body: { framework: 'gdpr', ...period() } })).status).toBe(400);
    const granted = await call(t.url, 'POST', '/v1/admin/api-keys', {
      key: a.secretKey,
      body: { name: 'evidence', capabilities: ['evidence:export'] },
    });
    // Through @parley/node's typed client: the zip comes back as the Response.
    const client = new Parley({ baseUrl: t.url, secretKey: granted.body.secret });
    const res = await client.api.createEvidencePack({ body: { framework: 'iso-42001', ...period() } });
    const fromClient = verifyEvidencePack(new Uint8Array(await res.arrayBuffer()), key);
    expect(fromClient.ok).toBe(true);
    expect(fromClient.manifest!.framework).toBe('iso-42001');
  });
});

describe('packs kept current', () => {
  // The sweep as the server runs it, under its lease (now, rather than on its schedule).
  const sweep = async () => {
    const run = await runEvidenceSweep(t.runtime, newHolderId(), { now: true });
    if (!run.ran) throw new Error('the evidence sweep did not take its lease');
    return run.result;
  };
  const list = (secret: string) => call(t.url, 'GET', '/v1/admin/evidence/packs', { key: secret });

  test('a subscribed tenant gets a new version when a policy changes, and the previous one is marked superseded', async () => {
    const sub = await call(t.url, 'PUT', '/v1/admin/evidence/subscription', { key: a.secretKey, body: { framework: 'soc2', periodDays: 30 } });
    expect(sub.status).toBe(200);
    expect(sub.body.subscription).toMatchObject({ framework: 'soc2', periodDays: 30 });
    expect(await sweep()).toEqual({ built: 1, failures: [] });
    // Nothing changed: no new version.
    expect(await sweep()).toEqual({ built: 0, failures: [] });
    const first = (await list(a.secretKey)).body.packs;
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ version: 1, framework: 'soc2', supersededAt: null });

    expect((await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { handoff: { threshold: 0.55 } } })).status).toBe(200);
    expect(await sweep()).toEqual({ built: 1, failures: [] });
    const [v2, v1] = (await list(a.secretKey)).body.packs;
    expect(v2).toMatchObject({ version: 2, supersededAt: null });
    expect(v1.version).toBe(1);
    expect(v1.supersededAt).not.toBeNull();

    // Each kept version downloads as it was signed and verifies offline; the newer one shows the new policy.
    for (const v of [v1, v2]) {
      const res = await fetch(`${t.url}/v1/admin/evidence/packs/${v.version}`, { headers: { authorization: `Bearer ${a.secretKey}` } });
      expect(res.status).toBe(200);
      const zip = new Uint8Array(await res.arrayBuffer());
      const result = verifyEvidencePack(zip, key);
      expect(result.failures).toEqual([]);
      expect(result.manifestSha256).toBe(v.manifestSha256);
      expect(JSON.parse(text(files(zip), 'policies/settings.json')).effective.handoff.threshold).toBe(v.version === 2 ? 0.55 : 0.4);
    }

    // Unsubscribed: versions stay, none is built.
    expect((await call(t.url, 'DELETE', '/v1/admin/evidence/subscription', { key: a.secretKey })).status).toBe(204);
    expect((await call(t.url, 'PATCH', '/v1/admin/settings', { key: a.secretKey, body: { handoff: { threshold: 0.6 } } })).status).toBe(200);
    expect(await sweep()).toEqual({ built: 0, failures: [] });
    expect((await list(a.secretKey)).body.packs).toHaveLength(2);
    expect((await call(t.url, 'GET', '/v1/admin/evidence/subscription', { key: a.secretKey })).body).toEqual({ subscription: null });

    // What the evidence actions wrote to the audit log holds nothing the PII engine finds.
    await t.runtime.audit.integrateNow();
    const all: { action: string; actor: unknown; metadata: { version?: number } }[] = [];
    for (let after = -1; after !== null; ) {
      const page = await call(t.url, 'GET', `/v1/admin/audit?after=${after}&limit=200`, { key: a.secretKey });
      all.push(...page.body.entries);
      after = page.body.next;
    }
    const ours = all.filter((e) => e.action.startsWith('evidence.'));
    expect(ours.map((e) => e.action)).toEqual(expect.arrayContaining(['evidence.pack', 'evidence.subscribe', 'evidence.unsubscribe']));
    expect(ours.find((e) => e.metadata.version === 2)?.actor).toEqual({ type: 'system', id: 'evidence-sweep' });
    for (const e of ours) expect(detect(JSON.stringify(e.metadata)), e.action).toEqual([]);
  });

  test('another tenant sees none of them; a key without evidence:export is refused; a bad version is a 400 or a 404', async () => {
    expect((await list(b.secretKey)).body).toEqual({ packs: [] });
    expect((await call(t.url, 'GET', '/v1/admin/evidence/packs/1', { key: b.secretKey })).status).toBe(404);
    const limited = await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'reader', capabilities: ['audit:read'] } });
    expect((await list(limited.body.secret)).status).toBe(403);
    expect((await call(t.url, 'GET', '/v1/admin/evidence/packs/1', { key: limited.body.secret })).status).toBe(403);
    expect(
      (await call(t.url, 'PUT', '/v1/admin/evidence/subscription', { key: limited.body.secret, body: { framework: 'soc2', periodDays: 30 } })).status,
    ).toBe(403);
    expect((await call(t.url, 'GET', '/v1/admin/evidence/packs/0', { key: a.secretKey })).status).toBe(400);
    expect((await call(t.url, 'GET', '/v1/admin/evidence/packs/99', { key: a.secretKey })).status).toBe(404);
    const bad = await call(t.url, 'PUT', '/v1/admin/evidence/subscription', { key: a.secretKey, body: { framework: 'soc2', periodDays: 400 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('/periodDays');
  });
});
