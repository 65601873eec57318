// Visitor ids issued before visitor secrets were bearer credentials shown to admin keys: after the
// migration none of them resumes anything, their conversations stay together under a new pseudonymous
// reference, and the browser still holding a live refresh token keeps its conversation (and gets a secret).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createApp } from '../app.js';
import { loadMigrations, migrate } from '../db/migrate.js';
import { wireRuntime } from '../runtime.js';
import { createTenant, type CreatedTenant } from '../tenants/service.js';
import { testConfig } from '../test/app.js';
import { createTestDb, type TestDb } from '../test/db.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';

const ORIGIN = 'https://help.a.example';
const legacyId = `v_${randomBytes(16).toString('base64url')}`;
const legacyRefresh = `rt_${randomBytes(32).toString('base64url')}`;
const convId = randomUUID();
const apiConvId = randomUUID();
let testDb: TestDb;
let server: Server;
let url: string;
let a: CreatedTenant;

beforeAll(async () => {
  testDb = await createTestDb({ migrate: false });
  const all = loadMigrations();
  // The schema before visitors (061), plus what today's code needs to write the tenant's first audit entries
  // (the log's stored identity, 067; pending entries, 084), the webhook outbox (079, with the event's
  // conversation, 099) that creating a key writes to, and members (077), whom a key's row names as its
  // maker; 067 and 084 touch only the audit tables, 079 and 099 only the outbox's own, 077 people's and
  // that column.
  const early = ['067_', '077_', '079_', '084_', '099_'];
  await testDb.db.withOwner((tx) =>
    migrate(
      tx,
      all.filter((m) => m.name < '061' || early.some((p) => m.name.startsWith(p))),
    ),
  );
  const config = testConfig();
  const runtime = wireRuntime(config, testDb.db);
  a = await createTenant(
    { db: runtime.db, audit: runtime.audit, env: config.env },
    { name: 'Tenant A', domains: ['help.a.example'] },
    { requestId: null, actor: { type: 'cli', id: 'test' } },
  );
  // A widget visitor as the code before secrets left it: its id in the conversation and the refresh token.
  await testDb.db.withOwner(async (tx) => {
    await tx.query("INSERT INTO conversations (id, tenant_id, visitor_id, channel, origin) VALUES ($1, $2, $3, 'widget', $4)", [
      convId,
      a.tenant.id,
      legacyId,
      ORIGIN,
    ]);
    await tx.query("INSERT INTO messages (id, tenant_id, conversation_id, seq, role, text) VALUES ($1, $2, $3, 1, 'visitor', 'hello from before')", [
      randomUUID(),
      a.tenant.id,
      convId,
    ]);
    await tx.query(
      "INSERT INTO widget_refresh_tokens (id, tenant_id, family_id, token_hash, visitor_id, origin, expires_at) VALUES ($1, $2, $3, $4, $5, $6, now() + interval '1 day')",
      [randomUUID(), a.tenant.id, randomUUID(), createHash('sha256').update(legacyRefresh).digest(), legacyId, ORIGIN],
    );
    await tx.query("INSERT INTO conversations (id, tenant_id, visitor_id, channel) VALUES ($1, $2, 'api:user-1', 'api')", [apiConvId, a.tenant.id]);
  });
  await testDb.db.withOwner((tx) => migrate(tx, all));
  const app = createApp({ config, db: runtime.db, audit: runtime.audit, logger: pino({ level: 'silent' }), keyring: runtime.keyring });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await testDb?.close();
});

test('an old visitor id resumes nothing; its conversation moves to a new reference its refresh token still reaches', async () => {
  const admin = await call(url, 'GET', `/v1/admin/conversations/${convId}`, { key: a.secretKey });
  expect(admin.status).toBe(200);
  const ref = admin.body.conversation.visitorRef as string;
  expect(ref).toMatch(/^v_[A-Za-z0-9_-]{16}$/);
  expect(ref).not.toBe(legacyId);

  // The old id, shown to admins before, is just an unknown header now: a new visitor, no conversation.
  const thief = new Visitor(url, a.publishableKey, ORIGIN);
  const cfg = await thief.call('POST', '/session', {}, { 'x-parley-visitor': legacyId });
  expect(cfg.status).toBe(200);
  expect(cfg.body.session.visitorRef).not.toBe(ref);
  thief.adopt(cfg.body.session);
  expect((await thief.call('GET', `/conversations/${convId}`)).status).toBe(404);
  const stored = await testDb.db.withOwner((tx) =>
    tx.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM conversations WHERE visitor_id = $1) + (SELECT count(*) FROM widget_refresh_tokens WHERE visitor_id = $1) + (SELECT count(*) FROM visitors WHERE id = $1) AS n',
      [legacyId],
    ),
  );
  expect(Number(stored.rows[0]!.n)).toBe(0);

  // The browser that holds the live refresh token keeps its conversation and claims a secret, once.
  const owner = new Visitor(url, a.publishableKey, ORIGIN);
  const refreshed = await owner.call('POST', '/session/refresh', { refreshToken: legacyRefresh });
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.session.visitorRef).toBe(ref);
  expect(refreshed.body.session.visitorSecret).toMatch(/^pvs_[A-Za-z0-9_-]{43}$/);
  owner.adopt(refreshed.body.session);
  const read = await owner.call('GET', `/conversations/${convId}`);
  expect(read.status).toBe(200);
  expect(read.body.messages[0].text).toBe('hello from before');
  const again = await owner.call('POST', '/session/refresh', { refreshToken: owner.refreshToken });
  expect(again.status).toBe(200);
  expect(again.body.session).not.toHaveProperty('visitorSecret');

  // From now on the secret resumes the visitor on a fresh page load.
  const reload = new Visitor(url, a.publishableKey, ORIGIN);
  reload.secret = owner.secret;
  expect((await reload.start()).body.session.visitorRef).toBe(ref);
  expect((await reload.call('GET', `/conversations/${convId}`)).status).toBe(200);
});

test('API-channel conversations keep their reference', async () => {
  const res = await call(url, 'GET', `/v1/admin/conversations/${apiConvId}`, { key: a.secretKey });
  expect(res.body.conversation.visitorRef).toBe('api:user-1');
});
