// `parley tenants export` as an operator runs it (a real process on the deployment's database, after a real
// server took a visitor's conversation), and `parley evidence verify` checking the archive in a process
// that has nothing but the file and the verifier key.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CliDeployment, cliDeployment, runCli, serveChild } from '../test/serve.js';
import { Visitor } from '../test/widget.js';

let d: CliDeployment;
let dir: string;
let tenantId: string;
beforeAll(async () => {
  d = await cliDeployment('tenant-export');
  tenantId = (d.tenant as unknown as { tenant: { id: string } }).tenant.id;
  dir = mkdtempSync(join(tmpdir(), 'parley-export-'));
}, 240_000);
afterAll(async () => {
  await d?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const EMAIL = 'ada.export@example.com';

describe('parley tenants export', () => {
  test('writes a signed archive that `evidence verify` accepts with only the key; restricted values need a reason', async () => {
    const served = await serveChild(d.env);
    let key: string;
    try {
      key = (await (await fetch(`${served.url}/v1/audit/verifier-key`)).text()).trim();
      const v = new Visitor(served.url, d.tenant.publishableKey, 'https://shop.example');
      expect((await v.start()).status).toBe(200);
      const conversation = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
      await v.say(conversation, `Please write to ${EMAIL} about my order`);
    } finally {
      await served.stop();
    }

    const out = join(dir, 'export.zip');
    const exported = await runCli(d.env, 'tenants', 'export', tenantId, '--out', out, '--json');
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ out, tenantId, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(readFileSync(out).includes(Buffer.from(EMAIL))).toBe(false);

    const verified = await runCli({}, 'evidence', 'verify', out, '--key', key);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^ok .*tenant export, tenant /);
    expect(verified.stdout).toContain('tenant.export');
    const json = JSON.parse((await runCli({}, 'evidence', 'verify', out, '--key', key, '--json')).stdout);
    expect(json).toMatchObject({ ok: true, kind: 'tenant-export', tenantId });

    const noReason = await runCli(d.env, 'tenants', 'export', tenantId, '--out', join(dir, 'r.zip'), '--include-restricted');
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toMatch(/--reason/);

    const withRestricted = join(dir, 'restricted.zip');
    const restricted = await runCli(
      d.env,
      'tenants',
      'export',
      tenantId,
      '--out',
      withRestricted,
      '--include-restricted',
      '--reason',
      'Moving to another deployment, change ticket 1234',
    );
    expect(restricted.code).toBe(0);
    const files = unzipSync(readFileSync(withRestricted));
    expect(Buffer.from(files['data/conversations/pii_vault.jsonl']!).toString('utf8')).toContain(EMAIL);
    expect((await runCli({}, 'evidence', 'verify', withRestricted, '--key', key)).code).toBe(0);
  }, 240_000);
});
