// What a stolen database dump yields: no reversible personal data and no verified profile in clear text.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../../test/app.js';
import { call } from '../../test/http.js';
import { identityToken, secretBytes } from '../../test/identity.js';
import { Visitor } from '../../test/widget.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** Every row of every table in the public schema, as text, bytea also decoded as latin1. */
async function dump(): Promise<string> {
  return t.runtime.db.withOwner(async (tx) => {
    const tables = await tx.query<{ relname: string }>(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'",
    );
    let out = '';
    for (const { relname } of tables.rows) {
      const rows = await tx.query<Record<string, unknown>>(`SELECT * FROM ${relname}`);
      for (const row of rows.rows) {
        for (const v of Object.values(row))
          out += `${v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`;
      }
    }
    return out;
  });
}

describe('a database dump', () => {
  test('holds no reversible PII nor a verified profile in clear text', async () => {
    const tenant = await t.tenant('Dump', ['dump.example']);
    const secret = (await call(t.url, 'POST', '/v1/admin/identity/secrets', { key: tenant.secretKey })).body;
    const v = new Visitor(t.url, tenant.publishableKey, 'https://dump.example');
    await v.start();
    const idToken = await identityToken({ alg: 'HS256', kid: secret.kid, key: secretBytes(secret.secret) }, 'mh-1969', {
      name: 'Margaret Hamilton',
      email: 'margaret.hamilton@apollo.example',
    });
    v.adopt((await v.call('POST', '/identify', { token: idToken })).body.session);
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
    const values = ['grace.hopper@navy.example', '+1 415 555 0199', 'Grace Hopper', '221B Baker Street', '192.168.77.12'];
    await v.say(
      conv,
      `I am Grace Hopper, write to grace.hopper@navy.example or call +1 415 555 0199. I live at 221B Baker Street, my IP is 192.168.77.12.`,
    );
    expect((await v.call('GET', `/conversations/${conv}`)).text).toContain('grace.hopper@navy.example');
    const text = await dump();
    expect(text.length).toBeGreaterThan(1000);
    for (const value of [...values, 'Margaret Hamilton', 'margaret.hamilton@apollo.example']) expect(text, value).not.toContain(value);
    expect(text).toContain('[EMAIL_1]');
  });
});
