// `parley tenants delete <id> --now` as an operator runs it: a real process on the deployment's database.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CliDeployment, cliDeployment, runCli } from '../test/serve.js';

let d: CliDeployment;
let tenantId: string;
beforeAll(async () => {
  d = await cliDeployment('tenant-delete');
  tenantId = (d.tenant as unknown as { tenant: { id: string } }).tenant.id;
}, 240_000);
afterAll(() => d?.close());

describe('parley tenants delete', () => {
  test('deletes at once and prints the tombstone; a second run reports it done; the logs still verify', async () => {
    expect((await runCli(d.env, 'tenants', 'delete', tenantId)).code).not.toBe(0); // --now is required
    const res = await runCli(d.env, 'tenants', 'delete', tenantId, '--now', '--json');
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.alreadyDeleted).toBe(false);
    expect(out.tombstone).toMatchObject({ tenantId, counts: { tenants: 1, api_keys: 1, publishable_keys: 1, tenant_domains: 1 } });
    expect(out.tombstone.finalCheckpoint.note).toContain(tenantId);

    const again = await runCli(d.env, 'tenants', 'delete', tenantId, '--now', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ ...out, alreadyDeleted: true });

    const verified = await runCli(d.env, 'audit', 'verify', '--integrate', '--json');
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout).logs.map((l: { tenantId: string }) => l.tenantId)).not.toContain(tenantId);
  }, 240_000);

  test('an unknown tenant fails with exit 1, a malformed id with exit 2', async () => {
    const unknown = await runCli(d.env, 'tenants', 'delete', crypto.randomUUID(), '--now', '--json');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no such tenant/i);
    expect((await runCli(d.env, 'tenants', 'delete', 'not-a-uuid', '--now')).code).toBe(2);
  }, 120_000);
});
