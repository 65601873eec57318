// `parley evidence export` and `parley evidence verify` as an operator and an auditor run them: the demo
// tenant's pack is built by the running server (admin API) and by the CLI on the deployment's database,
// then checked by a fresh process that has nothing but the pack and the verifier key the server publishes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CliDeployment, cliDeployment, runCli, serveChild } from '../test/serve.js';

let d: CliDeployment;
let dir: string;
beforeAll(async () => {
  d = await cliDeployment('evidence');
  dir = mkdtempSync(join(tmpdir(), 'parley-evidence-'));
}, 240_000);
afterAll(async () => {
  await d?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('parley evidence', () => {
  test("the demo tenant's pack, from the API and from the CLI, verifies in a fresh process with only the key; a changed file or another key exits 1 naming it", async () => {
    const served = await serveChild(d.env, [], ['--seed-demo']);
    let key: string;
    const fromApi = join(dir, 'api.zip');
    let tenantId: string;
    try {
      key = (await (await fetch(`${served.url}/v1/audit/verifier-key`)).text()).trim();
      const demo = JSON.parse(readFileSync(join(d.env.PARLEY_DATA_DIR!, 'demo.json'), 'utf8')) as { tenantId: string; secretKey: string };
      tenantId = demo.tenantId;
      const now = Date.now();
      const res = await fetch(`${served.url}/v1/admin/evidence/packs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${demo.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ framework: 'eu-ai-act', from: new Date(now - 86_400_000).toISOString(), to: new Date(now + 60_000).toISOString() }),
      });
      expect(res.status).toBe(200);
      writeFileSync(fromApi, new Uint8Array(await res.arrayBuffer()));
    } finally {
      await served.stop();
    }
    const viaApi = await runCli({}, 'evidence', 'verify', fromApi, '--key', key);
    expect(viaApi.stdout).toMatch(/^ok /);
    expect(viaApi.code).toBe(0);
    expect(viaApi.stdout).toContain(tenantId);

    const out = join(dir, 'pack.zip');
    const exported = await runCli(d.env, 'evidence', 'export', '--tenant', tenantId, '--framework', 'soc2', '--out', out);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/manifest sha256 [0-9a-f]{64}/);

    // The auditor's process: no database, no deployment environment.
    const verified = await runCli({}, 'evidence', 'verify', out, '--key', key);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^ok /);
    expect(verified.stdout).toContain(tenantId);

    const files = unzipSync(readFileSync(out));
    expect(Buffer.from(files['report.pdf']!.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const changed = Uint8Array.from(files['policies/providers.json']!);
    changed[2]! ^= 0x01;
    const tampered = join(dir, 'tampered.zip');
    writeFileSync(
      tampered,
      zipSync(
        Object.fromEntries(Object.entries({ ...files, 'policies/providers.json': changed }).map(([k, v]) => [k, [v, { level: 0 }]])) as Zippable,
      ),
    );
    const failed = await runCli({}, 'evidence', 'verify', tampered, '--key', key, '--json');
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout).failures).toEqual([{ file: 'policies/providers.json', reason: 'SHA-256 does not match the manifest' }]);

    const otherKey = await runCli({}, 'evidence', 'verify', out, '--key', key.replace(/\+[0-9a-f]{8}\+/, '+00000000+'));
    expect(otherKey.code).toBe(1);
    expect(otherKey.stdout).toMatch(/^FAIL \(verifier key\)/);

    const badFramework = await runCli(d.env, 'evidence', 'export', '--tenant', tenantId, '--framework', 'gdpr', '--out', out);
    expect(badFramework.code).not.toBe(0);
    expect(badFramework.stderr).toMatch(/--framework/);
  }, 240_000);
});
