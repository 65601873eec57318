// Outgoing webhooks end to end: the real app over HTTP, a real receiver, real signatures.
import { ROLES } from '@parley/protocol';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook } from '@parley/node';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { WebhookReceiver } from '../test/webhook-receiver.js';
import { Visitor } from '../test/widget.js';
import type { WebhookWorker } from './worker.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
let rx: WebhookReceiver;
const ORIGIN = 'https://help.a.example';
const admin = (method: string, path: string, body?: unknown, key = a.secretKey) => call(t.url, method, `/v1/admin/webhooks${path}`, { key, body });

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Tenant A', ['help.a.example']);
  b = await t.tenant('Tenant B', ['b.example']);
  await (t.app.locals.webhooks as WebhookWorker).start();
  rx = await new WebhookReceiver().start();
});
afterEach(async () => {
  for (const k of [a.secretKey, b.secretKey]) {
    const list = await admin('GET', '/endpoints', undefined, k);
    for (const ep of list.body.endpoints ?? []) await admin('DELETE', `/endpoints/${ep.id}`, undefined, k);
  }
  await (t.app.locals.webhooks as WebhookWorker).idle();
});
afterAll(async () => {
  await (t.app.locals.webhooks as WebhookWorker).stop();
  await rx.close();
  await t.close();
});

async function endpoint(events: string[], url = rx.url, key = a.secretKey) {
  const res = await admin('POST', '/endpoints', { url, events, description: 'test receiver' }, key);
  expect(res.status, res.text).toBe(201);
  return res.body as { endpoint: { id: string }; secret: string };
}

describe('delivery', () => {
  test('a receiver gets handoff.requested within 1 s, verified by @parley/node and by the standardwebhooks package', async () => {
    const { endpoint: ep, secret } = await endpoint(['handoff.requested']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    rx.secrets = [secret];
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
    const before = rx.requests.length;
    const asked = Date.now();
    const res = await v.call('POST', `/conversations/${conv}/handoff`, {});
    expect(res.status).toBeLessThan(300);
    await rx.waitFor(before + 1, 1000);
    const got = rx.requests[before]!;
    expect(got.at - asked).toBeLessThan(1000);

    const event = verifyWebhook(got.body, got.headers, secret) as any;
    expect(event).toMatchObject({
      type: 'handoff.requested',
      tenantId: a.tenant.id,
      data: { handoff: { conversationId: conv, status: 'pending', reason: 'visitor_request' } },
    });
    expect(event.id).toBe(got.headers['webhook-id']);
    const theirs = new Webhook(secret).verify(got.body, got.headers as Record<string, string>);
    expect(theirs).toEqual(event);
    expect(got.headers['content-type']).toBe('application/json');

    // Recorded in the delivery log (the worker records the answer just after the receiver sent it):
    // succeeded, one attempt, its code and latency.
    const deliveries = async () => (await admin('GET', `/endpoints/${ep.id}/deliveries`)).body.deliveries;
    await expect.poll(async () => (await deliveries())[0]?.status).toBe('succeeded');
    const log = { body: { deliveries: await deliveries() } };
    expect(log.body.deliveries[0]).toMatchObject({
      eventId: event.id,
      eventType: 'handoff.requested',
      status: 'succeeded',
      attempts: 1,
      responseCode: 204,
      nextAttemptAt: null,
    });
    const one = await admin('GET', `/endpoints/${ep.id}/deliveries/${log.body.deliveries[0].id}`);
    expect(one.body.delivery.payload).toEqual(event);
    expect(one.body.delivery.attemptLog).toEqual([expect.objectContaining({ responseCode: 204, error: null })]);
    await admin('DELETE', `/endpoints/${ep.id}`);
  });

  test('message.created carries the redacted text, and an endpoint only gets the types it subscribed to', async () => {
    const { endpoint: ep, secret } = await endpoint(['message.created', 'conversation.created']);
    rx.secrets = [secret];
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const before = rx.requests.length;
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
    await v.say(conv, 'My email is sam.jones@example.org, where is my order?');
    await rx.waitFor(before + 3);
    const events = rx.requests.slice(before).map((r) => JSON.parse(r.body));
    // Ordering is not promised: deliveries run in parallel.
    expect(events.find((e) => e.type === 'conversation.created')).toMatchObject({ data: { conversation: { id: conv } } });
    const messages = events.filter((e) => e.type === 'message.created');
    expect(messages.find((m) => m.data.message.role === 'visitor').data).toMatchObject({
      conversationId: conv,
      message: { text: expect.stringContaining('where is my order?') },
    });
    expect(JSON.stringify(messages)).not.toContain('sam.jones@example.org');
    expect(events.every((e) => ['message.created', 'conversation.created'].includes(e.type))).toBe(true);
    await admin('DELETE', `/endpoints/${ep.id}`);
  });

  test('handoff.assigned names the member (or the agent a key named), handoff.resolved follows', async () => {
    const { endpoint: ep, secret } = await endpoint(['handoff.assigned', 'handoff.resolved']);
    rx.secrets = [secret];
    const sam = await signedInMember(t, a.tenant.id, 'agent');
    const open = async () => {
      const v = new Visitor(t.url, a.publishableKey, ORIGIN);
      await v.start();
      const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
      return (await v.call('POST', `/conversations/${conv}/handoff`, {})).body.handoff.id as string;
    };
    const first = await open();
    const second = await open();
    const n = rx.requests.length;
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${first}`, { status: 'assigned' })).status).toBe(204);
    expect(
      (await call(t.url, 'PATCH', `/v1/admin/handoffs/${second}`, { key: a.secretKey, body: { status: 'assigned', assignedTo: 'Kim' } })).status,
    ).toBe(204);
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${first}`, { status: 'resolved' })).status).toBe(204);
    await rx.waitFor(n + 3);
    const events = rx.requests.slice(n).map((r) => verifyWebhook(r.body, r.headers, secret) as any);
    const of = (type: string, id: string) => events.find((e) => e.type === type && e.data.handoff.id === id);
    expect(of('handoff.assigned', first).data).toMatchObject({
      handoff: { status: 'assigned' },
      assignee: { id: sam.memberId, displayName: 'agent person' },
    });
    expect(of('handoff.assigned', second).data.assignee).toEqual({ id: 'Kim' });
    expect(of('handoff.resolved', first).data).toMatchObject({ handoff: { status: 'resolved' } });
    await admin('DELETE', `/endpoints/${ep.id}`);
  });

  test('knowledge.source.synced, knowledge.source.failed (a crawl that failed) and member.invited (never the link)', async () => {
    const { endpoint: ep, secret } = await endpoint(['knowledge.source.synced', 'knowledge.source.failed', 'member.invited']);
    rx.secrets = [secret];
    const n = rx.requests.length;
    const source = await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
      key: a.secretKey,
      body: { kind: 'markdown', title: 'Returns', content: '# Returns\n\nReturns are free within 30 days.' },
    });
    expect(source.status, source.text).toBe(201);
    const invite = await call(t.url, 'POST', '/v1/admin/invites', { key: a.secretKey, body: { email: 'kim@acme.example', role: 'agent' } });
    expect(invite.status).toBe(201);
    // The sitemap is the receiver itself, answering 401 to a request it cannot verify: the crawl fails.
    const crawl = await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
      key: a.secretKey,
      body: { kind: 'sitemap', url: rx.url.replace('/hooks', '/sitemap.xml') },
    });
    expect(crawl.status, crawl.text).toBe(202);
    await rx.waitFor(n + 4, 10_000); // three events, and the crawl's own request for the sitemap
    const events = rx.requests
      .slice(n)
      .filter((r) => r.headers['webhook-id'])
      .map((r) => verifyWebhook(r.body, r.headers, secret) as any);
    const of = (type: string) => events.find((e) => e.type === type);
    expect(of('knowledge.source.synced').data).toMatchObject({
      source: { id: source.body.sources[0].id, kind: 'markdown', title: 'Returns' },
      chunks: expect.any(Number),
    });
    expect(of('member.invited').data).toEqual({ invite: { id: invite.body.invite.id, role: 'agent', expiresAt: expect.any(String) } });
    expect(JSON.stringify(events)).not.toContain('inv_');
    expect(of('knowledge.source.failed').data).toMatchObject({
      source: { kind: 'sitemap', url: rx.url.replace('/hooks', '/sitemap.xml') },
      error: expect.stringMatching(/sitemap/),
    });
    await admin('DELETE', `/endpoints/${ep.id}`);
  });

  test('rotation: during the grace period each delivery carries both signatures, each verifies alone; without grace only the new one', async () => {
    const { endpoint: ep, secret: old } = await endpoint(['key.created']);
    const rotated = await admin('POST', `/endpoints/${ep.id}/rotate`, { graceSeconds: 3600 });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(old);
    expect(rotated.body.endpoint.previousSecretExpiresAt).toBeTruthy();
    rx.secrets = [fresh];
    let n = rx.requests.length;
    const made = await call(t.url, 'POST', '/v1/admin/api-keys', { key: a.secretKey, body: { name: 'ci', capabilities: ['domains:read'] } });
    expect(made.status).toBe(201);
    await rx.waitFor(n + 1);
    const got = rx.requests[n]!;
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyWebhook(got.body, got.headers, old)).toMatchObject({ type: 'key.created' });
    expect(verifyWebhook(got.body, got.headers, fresh)).toMatchObject({ type: 'key.created' });
    expect(new Webhook(old).verify(got.body, got.headers as Record<string, string>)).toMatchObject({ type: 'key.created' });
    expect(new Webhook(fresh).verify(got.body, got.headers as Record<string, string>)).toMatchObject({ type: 'key.created' });
    // The key's name, prefix and capabilities; never its secret.
    expect(JSON.parse(got.body).data.apiKey).toMatchObject({ name: 'ci', capabilities: ['domains:read'] });
    expect(got.body).not.toContain(made.body.secret);

    const again = (await admin('POST', `/endpoints/${ep.id}/rotate`, { graceSeconds: 0 })).body.secret as string;
    n = rx.requests.length;
    await admin('POST', `/endpoints/${ep.id}/test`);
    await rx.waitFor(n + 1);
    const single = rx.requests[n]!;
    expect(String(single.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifyWebhook(single.body, single.headers, again)).toMatchObject({ type: 'webhook.test', data: { endpointId: ep.id } });
    expect(() => verifyWebhook(single.body, single.headers, fresh)).toThrow(/no signature matches/);
    await admin('DELETE', `/endpoints/${ep.id}`);
  });
});

describe('the endpoints API', () => {
  test('create validates its body (problem with field paths) and the secret appears only in the create answer', async () => {
    const bad = await admin('POST', '/endpoints', { url: 'ftp://x.example', events: ['nope'] });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    expect(bad.body.request_id).toBeTruthy();
    expect(bad.body.errors.map((e: any) => e.path)).toContain('/events/0');
    const scheme = await admin('POST', '/endpoints', { url: 'ftp://x.example/hook', events: ['handoff.requested'] });
    expect(scheme.status).toBe(400);
    expect(scheme.body.errors[0].path).toBe('/url');
    expect((await admin('POST', '/endpoints', { url: rx.url, events: ['handoff.requested'], extra: 1 })).status).toBe(400);
    expect((await admin('POST', '/endpoints', { url: rx.url, events: ['webhook.test'] })).status).toBe(400);

    const { endpoint: ep, secret } = await endpoint(['handoff.assigned']);
    const list = await admin('GET', '/endpoints');
    const one = await admin('GET', `/endpoints/${ep.id}`);
    const patched = await admin('PATCH', `/endpoints/${ep.id}`, { events: ['handoff.assigned', 'handoff.resolved'], description: null });
    expect(patched.body.endpoint).toMatchObject({ events: ['handoff.assigned', 'handoff.resolved'], description: null });
    const audit = await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: a.secretKey });
    for (const text of [list.text, one.text, patched.text, audit.text]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('whsec_');
    }
    expect(audit.body.entries.map((e: any) => e.action)).toEqual(expect.arrayContaining(['webhook.endpoint_create', 'webhook.endpoint_update']));
    // At rest the secret is sealed, not stored as is.
    const raw = await t.runtime.db.withOwner((tx) =>
      tx.query<{ s: Uint8Array }>('SELECT secret_sealed AS s FROM webhook_endpoints WHERE id = $1', [ep.id]),
    );
    expect(Buffer.from(raw.rows[0]!.s).toString('latin1')).not.toContain(secret.slice(6));
    expect((await admin('DELETE', `/endpoints/${ep.id}`)).status).toBe(204);
    expect((await admin('GET', `/endpoints/${ep.id}`)).status).toBe(404);
  });

  test("another tenant can neither read nor change A's endpoint or its deliveries (404, nothing changed)", async () => {
    const { endpoint: ep } = await endpoint(['handoff.requested']);
    const n = rx.requests.length;
    await admin('POST', `/endpoints/${ep.id}/test`);
    await rx.waitFor(n + 1);
    const delivery = (await admin('GET', `/endpoints/${ep.id}/deliveries`)).body.deliveries[0].id;
    const attacks: [string, string, unknown?][] = [
      ['GET', `/endpoints/${ep.id}`],
      ['PATCH', `/endpoints/${ep.id}`, { url: 'https://evil.example/x' }],
      ['DELETE', `/endpoints/${ep.id}`],
      ['POST', `/endpoints/${ep.id}/rotate`, {}],
      ['POST', `/endpoints/${ep.id}/test`],
      ['POST', `/endpoints/${ep.id}/replay`, { deliveryId: delivery }],
      ['GET', `/endpoints/${ep.id}/deliveries`],
      ['GET', `/endpoints/${ep.id}/deliveries/${delivery}`],
    ];
    for (const [method, path, body] of attacks) {
      const res = await admin(method, path, body, b.secretKey);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await admin('GET', '/endpoints', undefined, b.secretKey)).body.endpoints).toEqual([]);
    const still = await admin('GET', `/endpoints/${ep.id}`);
    expect(still.body.endpoint).toMatchObject({ url: rx.url, enabled: true });
    await admin('DELETE', `/endpoints/${ep.id}`);
  });

  test('only roles holding webhooks:read / webhooks:write get in: an agent and an analyst get 403', async () => {
    for (const role of ROLES) {
      const { client } = await signedInMember(t, a.tenant.id, role);
      const list = await client.call('GET', '/v1/admin/webhooks/endpoints');
      const made = await client.call('POST', '/v1/admin/webhooks/endpoints', { url: rx.url, events: ['handoff.requested'] });
      if (role === 'agent' || role === 'analyst') {
        expect(list.status, role).toBe(403);
        expect(made.status, role).toBe(403);
        expect(made.headers.get('content-type')).toMatch(/problem\+json/);
      } else {
        expect(list.status, role).toBe(200);
        expect(made.status, role).toBe(201);
        await admin('DELETE', `/endpoints/${made.body.endpoint.id}`);
      }
    }
  });

  test('bodies and delivery logs are swept after 7 days, never while a delivery is still being retried', async () => {
    const { sweepExpired } = await import('../jobs/retention.js');
    const { endpoint: ep, secret } = await endpoint(['key.created']);
    rx.secrets = [secret];
    const n = rx.requests.length;
    rx.mode = 'fail';
    await admin('POST', `/endpoints/${ep.id}/test`);
    await rx.waitFor(n + 1);
    rx.mode = 'ok';
    await admin('POST', `/endpoints/${ep.id}/test`);
    await rx.waitFor(n + 2);
    let rows: any[] = [];
    for (let i = 0; i < 50 && rows.filter((d) => d.status === 'succeeded').length !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = (await admin('GET', `/endpoints/${ep.id}/deliveries`)).body.deliveries;
    }
    expect(rows.map((d: any) => d.status).sort()).toEqual(['pending', 'succeeded']);
    await t.runtime.db.withOwner((tx) =>
      tx.query("UPDATE webhook_events SET created_at = now() - interval '8 days' WHERE id = ANY ($1)", [rows.map((d: any) => d.eventId)]),
    );
    const swept = await sweepExpired(t.runtime);
    expect(swept.webhook_events).toBeGreaterThanOrEqual(1);
    const left = (await admin('GET', `/endpoints/${ep.id}/deliveries`)).body.deliveries;
    expect(left.map((d: any) => d.status)).toEqual(['pending']);
    await admin('DELETE', `/endpoints/${ep.id}`);
  });

  test('the workspace raises its events: a reply that takes a handoff is handoff.assigned, a note is never sent, a rating is csat.submitted with its comment redacted', async () => {
    const { endpoint: ep, secret } = await endpoint(['message.created', 'handoff.assigned', 'handoff.resolved', 'csat.submitted']);
    const sam = await signedInMember(t, a.tenant.id, 'agent', undefined, 'Sam Lee');
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    const handoff = (await v.call('POST', `/conversations/${conv}/handoff`, {})).body.handoff.id as string;
    const n = rx.requests.length;
    expect((await sam.client.call('POST', `/v1/admin/conversations/${conv}/notes`, { text: 'Internal: refund approved by finance' })).status).toBe(
      201,
    );
    expect((await sam.client.call('POST', `/v1/admin/conversations/${conv}/messages`, { text: 'Hi, this is Sam from Acme' })).status).toBe(201);
    expect((await sam.client.call('PATCH', `/v1/admin/handoffs/${handoff}`, { status: 'resolved' })).status).toBe(204);
    expect((await v.call('POST', `/conversations/${conv}/csat`, { score: 4, comment: 'Write to me at ana.souza@example.com' })).status).toBe(201);
    await rx.waitFor(n + 4);
    await new Promise((r) => setTimeout(r, 300));
    const events = rx.requests.slice(n).map((r) => verifyWebhook(r.body, r.headers, secret) as any);
    expect(events.map((e) => e.type).sort()).toEqual(['csat.submitted', 'handoff.assigned', 'handoff.resolved', 'message.created']);
    const of = (type: string) => events.find((e) => e.type === type).data;
    // The reply goes out redacted by the visitor's rule: a name is personal data whoever types it.
    expect(of('message.created').message).toMatchObject({ role: 'agent', text: expect.stringMatching(/^Hi, this is \[PERSON_\d+\] from /) });
    expect(of('handoff.assigned')).toMatchObject({
      handoff: { id: handoff, status: 'assigned' },
      assignee: { id: sam.memberId, displayName: 'Sam Lee' },
    });
    expect(of('csat.submitted')).toMatchObject({ conversationId: conv, handoffId: handoff, score: 4, comment: expect.stringContaining('[EMAIL_') });
    const sent = rx.requests
      .slice(n)
      .map((r) => r.body)
      .join('');
    expect(sent).not.toContain('refund approved');
    expect(sent).not.toContain('ana.souza@example.com');
    await admin('DELETE', `/endpoints/${ep.id}`);
  });

  test("an agent's reply goes out redacted per the PII policy, like the visitor's words; the visitor still reads it as typed", async () => {
    const { endpoint: ep, secret } = await endpoint(['message.created']);
    const sam = await signedInMember(t, a.tenant.id, 'agent', undefined, 'Sam Lee');
    const v = new Visitor(t.url, a.publishableKey, ORIGIN);
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    await v.call('POST', `/conversations/${conv}/handoff`, {});
    const n = rx.requests.length;
    const typed = 'Please write to john.smith@example.org or call +1 415 555 0199 for the refund.';
    const reply = await sam.client.call('POST', `/v1/admin/conversations/${conv}/messages`, { text: typed });
    expect(reply.status).toBe(201);
    await rx.waitFor(n + 1);
    const event = verifyWebhook(rx.requests[n]!.body, rx.requests[n]!.headers, secret) as any;
    expect(event).toMatchObject({ type: 'message.created', data: { conversationId: conv, message: { role: 'agent', id: reply.body.message.id } } });
    expect(event.data.message.text).toMatch(/^Please write to \[EMAIL_\d+\] or call \[PHONE_\d+\] for the refund\.$/);
    expect(rx.requests[n]!.body).not.toContain('john.smith');
    expect(rx.requests[n]!.body).not.toContain('555 0199');
    // The stored event (replays, the delivery log) holds no more than was sent.
    const stored = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ body: string }>("SELECT body FROM webhook_events WHERE conversation_id = $1 AND type = 'message.created'", [conv]),
    );
    expect(stored.rows.map((r) => r.body).join('')).not.toContain('john.smith');
    // The visitor and the agents read the reply as typed.
    expect((await v.call('GET', `/conversations/${conv}`)).body.messages.find((m: any) => m.role === 'agent').text).toBe(typed);
    expect(reply.body.message.text).toBe(typed);
    await admin('DELETE', `/endpoints/${ep.id}`);
  });
});
