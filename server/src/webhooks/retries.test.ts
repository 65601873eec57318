// Retries on a fake clock: a receiver down for an hour (500s and timeouts) still gets each event, once
// per webhook-id after its dedupe; the schedule, giving up, replays, disabling a dead endpoint, and the
// production rule that no delivery reaches an internal address.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testConfig, startTestApp, type TestApp } from '../test/app.js';
import { WEBHOOK_RETRY_SCHEDULE } from '../config.js';
import { signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { WebhookReceiver } from '../test/webhook-receiver.js';
import { Visitor } from '../test/widget.js';
import { DEVELOPMENT_ALLOW, Outbound, parseAllowList, type Resolve } from '../outbound/outbound.js';
import type { Mail } from '../people/mailer.js';
import type { CreatedTenant } from '../tenants/service.js';
import { WebhookWorker } from './worker.js';

let t: TestApp;
let a: CreatedTenant;
let clock = Date.now();
/** The fake clock only moves forward, and never behind the database's clock that stamps new deliveries due. */
const catchUp = () => (clock = Math.max(clock, Date.now()));
const sent: Mail[] = [];
const admin = (method: string, path: string, body?: unknown, app = t, key = a.secretKey) =>
  call(app.url, method, `/v1/admin/webhooks${path}`, { key, body });

/** A worker on the app's database that lives on the fake clock, with a short timeout so a hang costs 300 ms. */
function worker(app: TestApp, schedule: readonly number[], opts: { env?: 'development' | 'production'; resolve?: Resolve; timeoutMs?: number } = {}) {
  const env = opts.env ?? 'development';
  return new WebhookWorker({
    db: app.runtime.db,
    keyring: app.runtime.keyring,
    outbound: new Outbound({
      env,
      allow: parseAllowList(env === 'development' ? DEVELOPMENT_ALLOW : ''),
      ...(opts.resolve ? { resolve: opts.resolve } : {}),
    }),
    audit: app.runtime.audit,
    mailer: { delivery: 'smtp', send: async (m) => void sent.push(m) },
    logger: pino({ level: 'silent' }),
    holder: `test-${Math.random()}`,
    schedule,
    now: () => clock,
    timeoutMs: opts.timeoutMs ?? 300,
    concurrency: 4,
  });
}

beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Retries', ['help.retries.example']);
});
afterAll(() => t.close());

async function endpoint(rx: WebhookReceiver, events: string[]) {
  const res = await admin('POST', '/endpoints', { url: rx.url, events });
  expect(res.status, res.text).toBe(201);
  rx.secrets = [res.body.secret];
  rx.now = () => clock;
  return res.body.endpoint.id as string;
}
const deliveries = async (id: string) => (await admin('GET', `/endpoints/${id}/deliveries`)).body.deliveries;
/** Moves the fake clock to the endpoint's latest delivery's next attempt (the schedule has jitter). */
const untilNext = async (id: string) => {
  const next = Date.parse((await deliveries(id))[0].nextAttemptAt);
  expect(next).toBeGreaterThan(clock);
  clock = next;
};

describe('the retry schedule', () => {
  test('the default retries for more than three days; PARLEY_WEBHOOK_RETRY_SCHEDULE overrides it, and nonsense is refused', () => {
    expect(WEBHOOK_RETRY_SCHEDULE.reduce((s, x) => s + x, 0)).toBeGreaterThan(3 * 86400);
    expect(testConfig().webhookRetrySchedule).toEqual([...WEBHOOK_RETRY_SCHEDULE]);
    expect(testConfig({ PARLEY_WEBHOOK_RETRY_SCHEDULE: '1, 2,3' }).webhookRetrySchedule).toEqual([1, 2, 3]);
    expect(() => testConfig({ PARLEY_WEBHOOK_RETRY_SCHEDULE: '1,-2' })).toThrow(/PARLEY_WEBHOOK_RETRY_SCHEDULE/);
  });

  test('a receiver down for an hour (500s and timeouts) gets the event after, once per webhook-id at its dedupe', async () => {
    const rx = await new WebhookReceiver().start();
    const w = worker(t, WEBHOOK_RETRY_SCHEDULE);
    try {
      const ep = await endpoint(rx, ['handoff.requested']);
      rx.mode = 'fail';
      const v = new Visitor(t.url, a.publishableKey, 'https://help.retries.example');
      await v.start();
      const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
      await v.call('POST', `/conversations/${conv}/handoff`, {});
      const down = catchUp();
      await w.drain();
      // Down for an hour, alternating answers of 500 and no answer at all.
      let n = 1;
      for (;;) {
        const [d] = await deliveries(ep);
        expect(d).toMatchObject({ status: 'pending', attempts: n });
        const next = Date.parse(d.nextAttemptAt);
        expect(next).toBeGreaterThan(clock);
        if (next - down > 3600_000) break;
        clock = next;
        rx.mode = n % 2 ? 'hang' : 'fail';
        expect(await w.drain()).toBe(1);
        n++;
      }
      expect(n).toBeGreaterThanOrEqual(4); // 0 s, ~5 s, ~5 min, ~35 min
      rx.mode = 'ok';
      clock = Date.parse((await deliveries(ep))[0].nextAttemptAt);
      expect(await w.drain()).toBe(1);

      const [d] = await deliveries(ep);
      expect(d).toMatchObject({ status: 'succeeded', attempts: n + 1, responseCode: 204, nextAttemptAt: null });
      const ids = new Set(rx.requests.map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(1); // the same webhook-id on every attempt
      expect(rx.requests).toHaveLength(n + 1);
      expect([...rx.processed.keys()]).toEqual([d.eventId]); // processed once
      expect(rx.processed.get(d.eventId)).toMatchObject({ type: 'handoff.requested' });
      const log = (await admin('GET', `/endpoints/${ep}/deliveries/${d.id}`)).body.delivery.attemptLog;
      expect(log.map((x: any) => x.responseCode)).toEqual([...Array.from({ length: n }, (_, i) => (i % 2 ? null : 500)), 204]);
      expect(log[1].error).toMatch(/no complete answer within 300 ms/);

      // Delivered: nothing more, however long we wait.
      clock += 4 * 86400_000;
      expect(await w.drain()).toBe(0);
      expect(rx.requests).toHaveLength(n + 1);
    } finally {
      await rx.close();
    }
  });

  test('a delivery waiting for its next retry is sent at once when replayed (its receiver was just mended)', async () => {
    const rx = await new WebhookReceiver().start();
    const w = worker(t, [3600]);
    try {
      const ep = await endpoint(rx, ['key.created']);
      rx.mode = 'fail';
      await admin('POST', `/endpoints/${ep}/test`);
      catchUp();
      await w.drain();
      const [waiting] = await deliveries(ep);
      expect(waiting).toMatchObject({ status: 'pending', attempts: 1 });
      expect(Date.parse(waiting.nextAttemptAt)).toBeGreaterThan(clock + 3000_000);
      rx.mode = 'ok';
      expect((await admin('POST', `/endpoints/${ep}/replay`, { deliveryId: waiting.id })).body).toEqual({ replayed: 1 });
      catchUp();
      expect(await w.drain()).toBe(1);
      expect((await deliveries(ep))[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
      // Delivered, a replay sends it again; one the worker holds right now is left to it.
      expect((await admin('POST', `/endpoints/${ep}/replay`, { deliveryId: waiting.id })).body).toEqual({ replayed: 1 });
    } finally {
      await rx.close();
    }
  });

  test('after the last retry a delivery has failed; a replay (all failed since a time, or one) sends the same event id again', async () => {
    const rx = await new WebhookReceiver().start();
    const w = worker(t, [60]);
    try {
      const ep = await endpoint(rx, ['key.created']);
      rx.mode = 'fail';
      await admin('POST', `/endpoints/${ep}/test`);
      catchUp();
      await w.drain();
      await untilNext(ep);
      await w.drain();
      const [failed] = await deliveries(ep);
      expect(failed).toMatchObject({ status: 'failed', attempts: 2, nextAttemptAt: null, responseCode: 500 });

      rx.mode = 'ok';
      const since = await admin('POST', `/endpoints/${ep}/replay`, { since: new Date(Date.now() - 3600_000).toISOString() });
      expect(since.body).toEqual({ replayed: 1 });
      catchUp();
      await w.drain();
      expect((await deliveries(ep))[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
      const one = await admin('POST', `/endpoints/${ep}/replay`, { deliveryId: failed.id });
      expect(one.body).toEqual({ replayed: 1 });
      catchUp();
      await w.drain();
      expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual(Array(4).fill(failed.eventId));
      expect(rx.processed.size).toBe(1);
      expect((await admin('POST', `/endpoints/${ep}/replay`, { deliveryId: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
      const audit = await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: a.secretKey });
      expect(audit.body.entries.filter((e: any) => e.action === 'webhook.replay' && e.target?.id === ep)).toHaveLength(2);
    } finally {
      await rx.close();
    }
  });

  test('an endpoint failing for five days is disabled, its owners are emailed, and enabling it again starts over', async () => {
    const rx = await new WebhookReceiver().start();
    const w = worker(t, [6 * 86400]);
    try {
      const owner = await signedInMember(t, a.tenant.id, 'owner');
      const ep = await endpoint(rx, ['key.created']);
      rx.mode = 'fail';
      await admin('POST', `/endpoints/${ep}/test`);
      catchUp();
      await w.drain();
      expect((await admin('GET', `/endpoints/${ep}`)).body.endpoint).toMatchObject({ enabled: true, failingSince: expect.any(String) });
      await untilNext(ep);
      expect(clock - Date.now()).toBeGreaterThan(5 * 86400_000); // the retry comes more than five days later
      await w.drain();
      const disabled = (await admin('GET', `/endpoints/${ep}`)).body.endpoint;
      expect(disabled).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/five days/) });
      expect(sent.map((m) => m.to)).toContain(owner.email);
      expect(sent.at(-1)!.text).toContain(new URL(rx.url).host);
      expect(sent.at(-1)!.text).not.toContain('whsec_');
      // A disabled endpoint gets nothing, not even a test event.
      expect((await admin('POST', `/endpoints/${ep}/test`)).status).toBe(409);
      const audit = await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: a.secretKey });
      expect(audit.body.entries.map((e: any) => e.action)).toContain('webhook.endpoint_disable');
      const again = await admin('PATCH', `/endpoints/${ep}`, { enabled: true });
      expect(again.body.endpoint).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    } finally {
      await rx.close();
    }
  });
});

test('an endpoint that hangs holds only its own slots: the others keep being delivered meanwhile', async () => {
  const slow = await new WebhookReceiver().start();
  const fast = await new WebhookReceiver().start();
  const w = worker(t, [60], { timeoutMs: 3000 });
  try {
    const s = await endpoint(slow, ['key.created']);
    slow.mode = 'hang';
    await admin('POST', `/endpoints/${s}/test`);
    const f = await endpoint(fast, ['key.created']);
    for (let i = 0; i < 12; i++) await admin('POST', `/endpoints/${f}/test`);
    catchUp();
    const started = Date.now();
    const drained = w.drain();
    await fast.waitFor(12, 2500);
    expect(Date.now() - started).toBeLessThan(2500); // all twelve before the hanging one times out
    expect(await drained).toBe(13);
  } finally {
    await slow.close();
    await fast.close();
  }
});

test("an unanswering endpoint's backlog waits instead of taking every slot, and goes once it answers", async () => {
  const rx = await new WebhookReceiver().start();
  const w = worker(t, WEBHOOK_RETRY_SCHEDULE);
  try {
    const ep = await endpoint(rx, ['key.created']);
    rx.mode = 'hang';
    for (let i = 0; i < 10; i++) await admin('POST', `/endpoints/${ep}/test`);
    catchUp();
    await w.drain();
    // The first claim (4 slots) times out; the six not yet tried wait (up to a minute), untried.
    expect(rx.requests).toHaveLength(4);
    const held = await deliveries(ep);
    expect(held.filter((d: any) => d.attempts === 0)).toHaveLength(6);
    expect(held.every((d: any) => d.status === 'pending' && Date.parse(d.nextAttemptAt) > clock)).toBe(true);
    expect(Math.max(...held.map((d: any) => Date.parse(d.nextAttemptAt))) - clock).toBeLessThanOrEqual(60_000);
    rx.mode = 'ok';
    clock = Math.max(...held.map((d: any) => Date.parse(d.nextAttemptAt)));
    await w.drain();
    expect((await deliveries(ep)).map((d: any) => d.status)).toEqual(Array(10).fill('succeeded'));
    expect(rx.processed.size).toBe(10);
  } finally {
    await rx.close();
  }
});

test('an endpoint answering 500 to one event still gets the others at once (an HTTP error holds nothing back)', async () => {
  const rx = await new WebhookReceiver().start();
  const w = worker(t, WEBHOOK_RETRY_SCHEDULE);
  try {
    const ep = await endpoint(rx, ['key.created']);
    rx.mode = 'fail';
    await admin('POST', `/endpoints/${ep}/test`);
    catchUp();
    await w.drain();
    rx.mode = 'ok';
    for (let i = 0; i < 3; i++) await admin('POST', `/endpoints/${ep}/test`);
    await w.drain();
    expect((await deliveries(ep)).map((d: any) => d.status).sort()).toEqual(['pending', 'succeeded', 'succeeded', 'succeeded']);
  } finally {
    await rx.close();
  }
});

describe('production: no delivery reaches an internal address', () => {
  let prod: TestApp;
  let p: CreatedTenant;
  beforeAll(async () => {
    prod = await startTestApp({
      PARLEY_ENV: 'production',
      PARLEY_PUBLIC_URL: 'https://api.example.com',
      DATABASE_URL: 'postgres://unused.invalid/parley',
    });
    p = await prod.tenant('Prod', ['prod.example']);
  });
  afterAll(() => prod.close());

  test('an endpoint at 127.0.0.1 (or any private address, or plain http) is refused when saved', async () => {
    for (const url of [
      'https://127.0.0.1:8443/hooks',
      'https://10.0.0.7/hooks',
      'https://[::1]/hooks',
      'https://localhost/hooks',
      'http://hooks.example.com/x',
    ]) {
      const res = await admin('POST', '/endpoints', { url, events: ['handoff.requested'] }, prod, p.secretKey);
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ path: '/url' });
    }
    const ok = await admin('POST', '/endpoints', { url: 'https://hooks.example.com/parley', events: ['handoff.requested'] }, prod, p.secretKey);
    expect(ok.status).toBe(201);
    const patched = await admin('PATCH', `/endpoints/${ok.body.endpoint.id}`, { url: 'https://192.168.1.10/x' }, prod, p.secretKey);
    expect(patched.status).toBe(400);
  });

  test('a public name that resolves to 127.0.0.1 at delivery time is refused then, and nothing reaches the address', async () => {
    const rx = await new WebhookReceiver().start();
    const port = new URL(rx.url).port;
    try {
      const made = await admin('POST', '/endpoints', { url: `https://rebind.example.com:${port}/hooks`, events: ['key.created'] }, prod, p.secretKey);
      expect(made.status).toBe(201);
      const w = worker(prod, [60], { env: 'production', resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
      await admin('POST', `/endpoints/${made.body.endpoint.id}/test`, undefined, prod, p.secretKey);
      catchUp();
      await w.drain();
      const [d] = (await admin('GET', `/endpoints/${made.body.endpoint.id}/deliveries`, undefined, prod, p.secretKey)).body.deliveries;
      expect(d).toMatchObject({ status: 'pending', attempts: 1, responseCode: null });
      expect(d.error).toMatch(/must be a public host: rebind\.example\.com resolves to/);
      expect(d.error).not.toContain('127.0.0.1');
      expect(rx.requests).toHaveLength(0);
    } finally {
      await rx.close();
    }
  });
});
