// `parley privacy export / erase` as an operator runs them: a real process on the deployment's database,
// after a real server took a visitor's conversation.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CliDeployment, cliDeployment, runCli, serveChild } from '../test/serve.js';
import { Visitor } from '../test/widget.js';

let d: CliDeployment;
let tenantId: string;
beforeAll(async () => {
  d = await cliDeployment('privacy');
  tenantId = (d.tenant as unknown as { tenant: { id: string } }).tenant.id;
}, 240_000);
afterAll(() => d?.close());

describe('parley privacy', () => {
  test('exports a visitor as JSON, erases them, and refuses a request naming no one or two', async () => {
    const served = await serveChild(d.env);
    const v = new Visitor(served.url, d.tenant.publishableKey, 'https://shop.example');
    let conversation: string;
    try {
      expect((await v.start()).status).toBe(200);
      conversation = (await v.call('POST', '/conversations', {})).body.conversation.id;
      await v.say(conversation, 'Please write to grace.hopper@example.com about my order');
    } finally {
      await served.stop();
    }
    // An export says why (it puts back every original value); the audit entry keeps it.
    const unexplained = await runCli(d.env, 'privacy', 'export', '--tenant', tenantId, '--visitor', v.visitorRef);
    expect(unexplained.code).not.toBe(0);
    expect(unexplained.stderr).toMatch(/--reason/);
    const exported = await runCli(
      d.env,
      'privacy',
      'export',
      '--tenant',
      tenantId,
      '--visitor',
      v.visitorRef,
      '--reason',
      'Access request, ticket DSR-3',
    );
    expect(exported.code).toBe(0);
    const doc = JSON.parse(exported.stdout);
    expect(doc.conversations.map((c: { id: string }) => c.id)).toEqual([conversation]);
    expect(doc.conversations[0].messages[0].text).toContain('grace.hopper@example.com');

    const erased = await runCli(d.env, 'privacy', 'erase', '--tenant', tenantId, '--visitor', v.visitorRef, '--json');
    expect(erased.code).toBe(0);
    expect(JSON.parse(erased.stdout).deleted).toMatchObject({ conversations: 1, visitors: 1 });
    const after = JSON.parse(
      (await runCli(d.env, 'privacy', 'export', '--tenant', tenantId, '--visitor', v.visitorRef, '--reason', 'Access request, ticket DSR-3')).stdout,
    );
    expect(after.conversations).toEqual([]);

    const neither = await runCli(d.env, 'privacy', 'erase', '--tenant', tenantId);
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toMatch(/--user/);
    expect((await runCli(d.env, 'privacy', 'erase', '--tenant', tenantId, '--user', 'u', '--visitor', 'v_x')).code).not.toBe(0);
  }, 240_000);
});
