// Admin views and personal data, by the registry: under the default PII policy no admin read (every GET
// of the contract, with the owner's key) returns a verified visitor's name or email, or what the PII
// engine took out of their messages, in the clear. Only a reveal with a reason does, and it is audited.
import { SUBSCRIBABLE_EVENT_TYPES } from '@parley/protocol';
import { OPERATIONS } from '@parley/protocol/contract';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { identitySigner } from '../test/identity.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
const ORIGIN = 'https://help.views.example';
const NAME = 'Zenobia Quarrington';
const EMAIL = 'zenobia.q@views.example';
const PHONE = '+44 20 7946 0321';
const CLEAR = [/Quarrington/i, /zenobia\.q@/i, /7946 0321/];

const admin = (method: string, path: string, body?: unknown) => call(t.url, method, path, { key: a.secretKey, body });
let conversationId = '';

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Views A', ['help.views.example']);
  // Webhooks keep what was sent: one endpoint for every event (no such host; the stored events count).
  const hook = await admin('POST', '/v1/admin/webhooks/endpoints', {
    url: 'https://hooks.views.example/parley',
    events: [...SUBSCRIBABLE_EVENT_TYPES],
  });
  expect(hook.status, hook.text).toBe(201);
  const sign = await identitySigner(t.url, a.secretKey);
  const token = await sign('user-zq', { name: NAME, email: EMAIL, traits: { plan: 'Pro' } });
  const v = new Visitor(t.url, a.publishableKey, ORIGIN);
  await v.start();
  const identified = await v.call('POST', '/identify', { token });
  expect(identified.status, identified.text).toBe(200);
  v.adopt(identified.body.session);
  conversationId = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  await v.say(conversationId, `Hi, I am ${NAME}, write to ${EMAIL} or call ${PHONE} about my refund`);
  expect((await v.call('POST', `/conversations/${conversationId}/handoff`, {})).status).toBe(201);
  await v.call('POST', `/conversations/${conversationId}/csat`, { score: 2, comment: `Still waiting, ${NAME}` });
}, 120_000);
afterAll(() => t?.close());

test("no admin read shows a verified visitor's name, email or redacted values in the clear; a reveal with a reason does", async () => {
  const endpointId = (await admin('GET', '/v1/admin/webhooks/endpoints')).body.endpoints[0].id as string;
  const deliveries = (await admin('GET', `/v1/admin/webhooks/endpoints/${endpointId}/deliveries`)).body.deliveries;
  expect(deliveries.length).toBeGreaterThanOrEqual(3);
  // Each path parameter names the thing the visitor's data is in: the endpoint and a delivery of their
  // message for webhooks, the conversation everywhere else.
  const delivery = deliveries.find((d: any) => d.type === 'message.created') ?? deliveries[0];
  const day = new Date().toISOString().slice(0, 10);
  const fill = (op: (typeof OPERATIONS)[number]) =>
    op.path.startsWith('/v1/admin/webhooks/endpoints/')
      ? op.path.replace('{id}', endpointId).replace('{deliveryId}', delivery.id)
      : op.path.replace(/\{[^}]+\}/g, conversationId) + (op.operationId === 'getReport' ? `?from=${day}&to=${day}` : '');
  const read: string[] = [];
  for (const op of OPERATIONS) {
    if (op.method !== 'get' || !op.security.includes('admin')) continue;
    // Streams stay open and archives are checked by their own suites (export rules).
    const types = Object.values(op.responses).flatMap((r) => [r.contentType, ...(r.alternatives ?? []).map((x) => x.contentType)]);
    if (types.includes('text/event-stream') || types.includes('application/zip')) continue;
    const path = fill(op);
    const res = await admin('GET', path);
    for (const clear of CLEAR) expect(res.text, `${op.operationId} (${path})`).not.toMatch(clear);
    if (res.status === 200) read.push(op.operationId);
  }
  // The reads that hold this visitor's data answered, so the check above had something to look at.
  expect(read).toEqual(
    expect.arrayContaining([
      'getConversation',
      'getVisitorProfile',
      'listInbox',
      'listHandoffs',
      'listAuditEntries',
      'listWebhookDeliveries',
      'getWebhookDelivery',
      'getReport',
    ]),
  );
  // The values are there to be found: a reveal with a reason returns the name and email, audited.
  const revealed = await admin('POST', `/v1/admin/conversations/${conversationId}/visitor/reveal`, {
    reason: 'Customer asked which email is on file for the refund',
  });
  expect(revealed.status, revealed.text).toBe(200);
  expect(revealed.body.visitor).toMatchObject({ name: NAME, email: EMAIL });
});
