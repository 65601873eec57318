// Many instances over one PostgreSQL (DESIGN "Many instances"), as a load balancer would spread one
// visitor's and one agent's requests: three servers in this process and a `parley serve` child, on one
// database. A reply posted through one instance reaches a visitor streaming from another at once, the
// inbox on a third sees the visitor's words, a refresh token spent on one is refused on another (and a
// secret key revoked through one on the others, and so is a page whose domain was removed through one), a crawl
// whose instance is killed mid-job is finished by another after its lease, and every audit log verifies.
// PostgreSQL only: the embedded database serves one process.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyLogs } from '../audit/verify.js';
import { loadConfig } from '../config.js';
import { PLATFORM_TENANT } from '../db/index.js';
import { startServer, type RunningServer } from '../server.js';
import { createTenant, type CreatedTenant } from '../tenants/service.js';
import { parleyOrigins } from '../test/contract.js';
import { createTestDb, holdOpen, serverUrl, type TestDb } from '../test/db.js';
import { call } from '../test/http.js';
import { serveChild as startServe } from '../test/serve.js';
import { openStream } from '../test/stream.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://help.acme.example';

describe.skipIf(!serverUrl)('three instances over one PostgreSQL', () => {
  let testDb: TestDb;
  let env: Record<string, string>;
  const instances: RunningServer[] = [];
  let acme: CreatedTenant;

  const admin = (i: number, method: string, path: string, body?: unknown) =>
    call(instances[i]!.url, method, `/v1/admin${path}`, { key: acme.secretKey, body });
  const visitorStream = (v: Visitor, conversationId: string) =>
    openStream(`${v.base}/v1/widget/conversations/${conversationId}/events`, {
      origin: v.origin,
      'x-parley-key': v.key,
      authorization: `Bearer ${v.token}`,
    });

  /** A visitor on instance `i` with a conversation handed to a person. */
  async function visitorWaiting(i: number, text: string): Promise<{ v: Visitor; id: string; handoffId: string }> {
    const v = new Visitor(instances[i]!.url, acme.publishableKey, ORIGIN);
    expect((await v.start()).status).toBe(200);
    const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
    await v.say(id, text);
    const h = await v.call('POST', `/conversations/${id}/handoff`, {});
    expect(h.status).toBe(201);
    return { v, id, handoffId: h.body.handoff.id };
  }

  beforeAll(async () => {
    testDb = await createTestDb();
    const app = new URL(testDb.url!);
    app.username = 'parley_app';
    // What a fleet shares: the database, the keys and the public URL behind the load balancer.
    env = {
      PARLEY_ENV: 'development',
      LOG_LEVEL: 'silent',
      DATABASE_URL: app.toString(),
      DATABASE_OWNER_URL: testDb.url!,
      PARLEY_MASTER_KEY: randomBytes(32).toString('base64'),
      PARLEY_SIGNING_KEY: randomBytes(32).toString('base64'),
      PARLEY_PUBLIC_URL: 'http://localhost:8787',
      PARLEY_RATE_LIMIT_PER_MINUTE: '100000',
      // Keys kept for a minute: what ends a revoked key's use on the other instances in (c2) is the notice.
      PARLEY_KEY_CACHE_SECONDS: '60',
      // The same for what page views read, in (c3).
      PARLEY_WIDGET_CACHE_SECONDS: '60',
      PARLEY_CRAWL_LEASE_MS: '2000',
      // The inbox's fallback read of the table, far apart: what reaches a stream in (b) came by notification.
      PARLEY_INBOX_POLL_MS: '600000',
      PORT: '0',
    };
    for (let i = 0; i < 3; i++) {
      const s = await startServer(loadConfig({ ...env, PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-instance-')) }));
      instances.push(s);
      parleyOrigins.add(s.url);
    }
    const rt = instances[0]!.runtime;
    acme = await createTenant(
      { db: rt.db, audit: rt.audit, env: rt.config.env },
      { name: 'Acme', domains: ['help.acme.example'] },
      { requestId: null, actor: { type: 'cli', id: 'test' } },
    );
  }, 60_000);
  afterAll(async () => {
    for (const s of instances) await s.close();
    await testDb?.close();
  });

  test('(a) an agent takes over and replies through instance 2; the visitor streaming from instance 1 has it within a second', async () => {
    const { v, id, handoffId } = await visitorWaiting(0, 'My order 1187 arrived broken');
    const s = await visitorStream(v, id);
    try {
      expect(s.status).toBe(200);
      await s.next((e) => e.event === 'handoff');
      expect((await admin(1, 'PATCH', `/handoffs/${handoffId}`, { status: 'assigned', assignedTo: 'Sam' })).status).toBe(204);
      await s.next((e) => e.event === 'assigned', 1000);
      const from = s.events.length;
      const started = Date.now();
      expect((await admin(1, 'POST', `/conversations/${id}/messages`, { text: 'Sorry about that, Sam here.', agent: 'Sam' })).status).toBe(201);
      const reply = await s.next((e) => e.event === 'message' && e.data.message.role === 'agent', 1000, from);
      console.log(`instances: agent reply through instance 2 to the visitor's stream on instance 1: ${Date.now() - started} ms (ceiling 1000 ms)`);
      expect(reply.data.message.text).toBe('Sorry about that, Sam here.');
      // Once: the stream is woken by the notification only, never twice for one event.
      await new Promise((r) => setTimeout(r, 200));
      const ids = s.events.map((e) => e.id).filter(Boolean);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      s.close();
    }
  });

  test("(b) the inbox streaming from instance 3 sees the visitor's new messages posted through instance 1", async () => {
    const { v, id } = await visitorWaiting(0, 'Where is my refund?');
    const inbox = await openStream(`${instances[2]!.url}/v1/admin/inbox/stream`, { authorization: `Bearer ${acme.secretKey}` });
    try {
      expect(inbox.status).toBe(200);
      await inbox.next((e) => e.event === 'counts');
      // Several, each pushed: the inbox's fallback read runs every ten minutes here, so only the notification
      // from instance 1 can bring them (the wait is 5 s so a loaded machine does not fail it; the latency is printed).
      for (const text of ['Hello? Anyone there?', 'It was 49.90', 'Paid by card']) {
        const from = inbox.events.length;
        const started = Date.now();
        await v.say(id, text);
        // By its text: the stream starts at the feed's horizon, so it may also carry the question asked just
        // before it opened, once no older transaction holds that back.
        const msg = await inbox.next((e) => e.event === 'message' && e.data.conversationId === id && e.data.message.text === text, 5000, from);
        console.log(`instances: a visitor's message (its turn included) through instance 1 to the inbox on instance 3: ${Date.now() - started} ms`);
        expect(msg.data.message.role).toBe('visitor');
      }
    } finally {
      inbox.close();
    }
  });

  test('(b2) a message committed while an older transaction still runs reaches the inbox once that one ends, without the poll', async () => {
    const { v, id } = await visitorWaiting(0, 'Is anyone there?');
    const inbox = await openStream(`${instances[2]!.url}/v1/admin/inbox/stream`, { authorization: `Bearer ${acme.secretKey}` });
    // An older transaction with an id, still running: the feed's horizon stays below the message's event.
    const release = await holdOpen(testDb.db, 'SELECT pg_current_xact_id()');
    try {
      await inbox.next((e) => e.event === 'counts');
      const from = inbox.events.length;
      await v.say(id, 'Held back a moment');
      // The notification's read finds the event behind the horizon; nothing but the (ten-minute) poll would read again.
      await new Promise((r) => setTimeout(r, 300));
      const held = (e: { event: string; data: any }) =>
        e.event === 'message' && e.data.conversationId === id && e.data.message.text === 'Held back a moment';
      expect(inbox.events.slice(from).some(held)).toBe(false);
      await release();
      const msg = await inbox.next(held, 3000, from);
      expect(msg.data.message.role).toBe('visitor');
    } finally {
      await release();
      inbox.close();
    }
  });

  test('(c) a widget refresh token spent on instance 1 is refused on instance 3, and the replay revokes its family', async () => {
    const v = new Visitor(instances[0]!.url, acme.publishableKey, ORIGIN);
    await v.start();
    const first = v.refreshToken;
    const spent = await v.call('POST', '/session/refresh', { refreshToken: first });
    expect(spent.status).toBe(200);
    const second = spent.body.session.refreshToken as string;
    const on = (i: number) => new Visitor(instances[i]!.url, acme.publishableKey, ORIGIN);
    const replay = await on(2).call('POST', '/session/refresh', { refreshToken: first });
    expect(replay.status).toBe(401);
    expect(replay.body.type).toBe('/docs/problems/token-replayed');
    // The family is gone everywhere: the token the legitimate refresh handed out no longer works either.
    expect((await on(1).call('POST', '/session/refresh', { refreshToken: second })).status).toBe(401);
    const actions = (await admin(1, 'GET', '/audit?limit=1000')).body.entries.map((e: { action: string }) => e.action);
    expect(actions).toContain('widget.refresh_reuse');
  });

  test('(c2) a secret key revoked through instance 2 is refused on instances 1 and 3 within a second, though they keep keys for a minute', async () => {
    const created = await admin(0, 'POST', '/api-keys', { name: 'fleet', capabilities: ['domains:read'] });
    expect(created.status).toBe(201);
    const use = async (i: number) => (await call(instances[i]!.url, 'GET', '/v1/admin/domains', { key: created.body.secret })).status;
    expect([await use(0), await use(2), await use(0), await use(2)]).toEqual([200, 200, 200, 200]);
    expect((await admin(1, 'DELETE', `/api-keys/${created.body.apiKey.id}`)).status).toBe(204);
    const end = Date.now() + 1000;
    let statuses = [await use(0), await use(2)];
    while (statuses.some((s) => s !== 401) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      statuses = [await use(0), await use(2)];
    }
    expect(statuses).toEqual([401, 401]);
  });

  test("(c3) a domain and the widget's settings changed through instance 2 show on instances 1 and 3 within a second, though they keep page views' reads for a minute", async () => {
    const shop = (i: number) => new Visitor(instances[i]!.url, acme.publishableKey, 'https://shop.acme.example');
    const views = async () => Promise.all([0, 2].map(async (i) => (await shop(i).config()).status));
    const accents = async () =>
      Promise.all([0, 2].map(async (i) => (await new Visitor(instances[i]!.url, acme.publishableKey, ORIGIN).config()).body.settings.accentColor));
    /** The answers of `ask` over up to 1 s, until they are `want`. */
    const within1s = async (ask: () => Promise<unknown[]>, want: unknown[]) => {
      const end = Date.now() + 1000;
      let got = await ask();
      while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
        got = await ask();
      }
      return got;
    };
    expect(await views()).toEqual([403, 403]);
    expect(await accents()).toEqual(['#2f6feb', '#2f6feb']);
    const added = await admin(1, 'POST', '/domains', { pattern: 'shop.acme.example' });
    expect(added.status).toBe(201);
    expect(await within1s(views, [200, 200])).toEqual([200, 200]);
    expect((await admin(1, 'DELETE', `/domains/${added.body.domain.id}`)).status).toBe(204);
    expect(await within1s(views, [403, 403])).toEqual([403, 403]);
    expect((await admin(1, 'PATCH', '/settings', { widget: { accentColor: '#aa3300' } })).status).toBe(200);
    expect(await within1s(accents, ['#aa3300', '#aa3300'])).toEqual(['#aa3300', '#aa3300']);
  });

  test('(d) a crawl leased by an instance killed mid-job is finished by another after the lease lapses', async () => {
    // A site whose second page does not answer the first time it is asked: the crawler is then mid-job.
    const held: ServerResponse[] = [];
    const asked = new Map<string, number>();
    let onHold: ((path: string) => void) | null = null;
    const site: Server = createServer((req, res) => {
      const url = req.url ?? '';
      asked.set(url, (asked.get(url) ?? 0) + 1);
      const m = /^\/(\d+)\/(sitemap\.xml|p[123])$/.exec(url);
      if (!m) return void res.writeHead(404).end();
      if (m[2] === 'sitemap.xml') {
        res.setHeader('content-type', 'application/xml');
        return void res.end(`<urlset>${[1, 2, 3].map((p) => `<url><loc>${siteUrl}/${m[1]}/p${p}</loc></url>`).join('')}</urlset>`);
      }
      if (m[2] === 'p2' && asked.get(url) === 1) {
        held.push(res);
        return onHold?.(url);
      }
      res.setHeader('content-type', 'text/html');
      res.end(`<h1>Crawl ${m[1]} page ${m[2]}</h1><p>Lighthouse ${m[1]}${m[2]} keeps ships off the rocks.</p>`);
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    const siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const child = await startServe({ ...env, PARLEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-serve-')) });
    parleyOrigins.add(child.url);
    const job = async (id: string) => (await admin(2, 'GET', `/knowledge/jobs/${id}`)).body.job;
    const finished = async (id: string) => {
      for (let i = 0; i < 300; i++) {
        const j = await job(id);
        if (j.status === 'done' || j.status === 'failed') return j;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the crawl did not finish');
    };
    const holderOf = async (id: string) =>
      (
        await testDb.db.withOwner((tx) =>
          tx.query<{ holder: string | null; attempts: number }>('SELECT holder, attempts FROM crawl_jobs WHERE id = $1', [id]),
        )
      ).rows[0]!;
    try {
      // The child claims the crawl it queued at once; the other instances look for work every 2 s and, rarely,
      // one of them takes the job first. Then that run is let through and the child gets another.
      let jobId = '';
      for (let k = 1; k <= 3 && !jobId; k++) {
        const holding = new Promise<string>((r) => (onHold = r));
        const queued = await call(child.url, 'POST', '/v1/admin/knowledge/sources', {
          key: acme.secretKey,
          body: { kind: 'sitemap', url: `${siteUrl}/${k}/sitemap.xml` },
        });
        expect(queued.status).toBe(202);
        await holding;
        const { holder } = await holderOf(queued.body.job.id);
        if (holder?.split(':')[1] === String(child.child.pid)) jobId = queued.body.job.id;
        else {
          const res = held.pop()!;
          res.setHeader('content-type', 'text/html');
          res.end(`<h1>Crawl ${k} page p2</h1>`);
          await finished(queued.body.job.id);
        }
      }
      expect(jobId, 'the child never held a crawl').not.toBe('');
      expect(await job(jobId)).toMatchObject({ status: 'running', pagesDone: 1 });
      const exited = new Promise((r) => child.child.once('exit', r));
      child.child.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      const done = await finished(jobId);
      console.log(`instances: crawl resumed and finished ${Date.now() - killedAt} ms after its holder was killed (lease 2000 ms)`);
      expect(done).toMatchObject({ status: 'done', pagesTotal: 3, pagesDone: 3, pagesFailed: 0 });
      const after = await holderOf(jobId);
      expect(after).toEqual({ holder: null, attempts: 2 });
      // Each page stored once: the page the dead instance stored is not fetched or stored again.
      const k = (await job(jobId)).url.split('/').at(-2);
      const sources = (await admin(0, 'GET', '/knowledge/sources')).body.sources.filter((s: { url: string }) => s.url.startsWith(`${siteUrl}/${k}/`));
      expect(sources.map((s: { url: string }) => s.url).sort()).toEqual([1, 2, 3].map((p) => `${siteUrl}/${k}/p${p}`));
      expect(asked.get(`/${k}/p1`)).toBe(1);
      expect(asked.get(`/${k}/p2`)).toBe(2);
    } finally {
      await child.stop();
      for (const res of held) res.destroy();
      site.closeAllConnections();
      await new Promise((r) => site.close(r));
    }
  }, 120_000);

  test('(e) every audit log verifies: the tenant, the platform, after all of the above', async () => {
    const rt = instances[0]!.runtime;
    const logs = await verifyLogs(rt.db, { anchor: rt.audit.publicKey, checkpointEvery: rt.config.auditCheckpointEvery });
    expect(logs.map((l) => l.tenantId)).toEqual(expect.arrayContaining([acme.tenant.id, PLATFORM_TENANT]));
    for (const l of logs) expect({ tenantId: l.tenantId, ok: l.ok, problems: l.problems }).toEqual({ tenantId: l.tenantId, ok: true, problems: [] });
    expect(logs.find((l) => l.tenantId === acme.tenant.id)!.entries).toBeGreaterThan(10);
  });
});
