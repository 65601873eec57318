// Retention windows per tenant: set through the admin settings API, applied by the leased retention
// sweep (jobs/retention.ts) to conversations, webhook bodies and verified profiles, one tenant's window
// never touching another's data, and one audit entry per run holding counts only.
import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_RETENTION, HANDOFF_RETENTION_HOLD_DAYS } from '@parley/protocol';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PLATFORM_TENANT } from '../db/index.js';
import { newHolderId } from '../jobs/lease.js';
import { runRetentionSweep } from '../jobs/retention.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';

let t: TestApp;
let a: CreatedTenant;
let b: CreatedTenant;
beforeAll(async () => {
  t = await startTestApp();
  a = await t.tenant('Short memory', ['a.example']);
  b = await t.tenant('Defaults', ['b.example']);
}, 120_000);
afterAll(() => t?.close());

const owner = (sql: string, params: unknown[] = []) => t.testDb.db.withOwner((tx) => tx.query<any>(sql, params));
const settings = (tenant: CreatedTenant, method: 'GET' | 'PATCH', body?: unknown) =>
  call(t.url, method, '/v1/admin/settings', { key: tenant.secretKey, body, contentType: 'application/merge-patch+json' });

/**
 * A visitor of `tenant` who chats once (with personal data in the message); the conversation's id. With no
 * knowledge to answer from, every turn is handed to a person: that handoff is closed here (as a person would
 * close it, without the events) unless `openHandoff`, so the conversation is left to retention alone.
 */
async function chat(tenant: CreatedTenant, domain: string, text: string, opts: { openHandoff?: boolean } = {}): Promise<string> {
  const v = new Visitor(t.url, tenant.publishableKey, `https://${domain}`);
  expect((await v.start()).status).toBe(200);
  const id = (await v.call('POST', '/conversations', {})).body.conversation.id as string;
  await v.say(id, text);
  if (!opts.openHandoff) {
    await owner("UPDATE handoffs SET status = 'resolved', resolved_at = now() WHERE conversation_id = $1 AND status <> 'resolved'", [id]);
    await owner("UPDATE conversations SET status = 'open' WHERE id = $1", [id]);
  }
  return id;
}

describe('retention windows', () => {
  test('a tenant sets its windows through the settings API; defaults apply to the rest; bad windows are refused', async () => {
    expect((await settings(b, 'GET')).body.effective.retention).toEqual(DEFAULT_RETENTION);
    expect((await settings(a, 'PATCH', { retention: { messages: 30, webhookBodies: 2 } })).status).toBe(200);
    const got = await settings(a, 'GET');
    expect(got.body.settings.retention).toEqual({ messages: 30, webhookBodies: 2 });
    expect(got.body.effective.retention).toEqual({ messages: 30, webhookBodies: 2, verifiedProfiles: 365 });
    for (const bad of [{ messages: 0 }, { messages: 3651 }, { webhookBodies: 31 }, { messages: 1.5 }, { forever: 1 }, { messages: '30' }]) {
      const res = await settings(a, 'PATCH', { retention: bad });
      expect([JSON.stringify(bad), res.status]).toEqual([JSON.stringify(bad), 400]);
    }
    expect((await settings(a, 'GET')).body.effective.retention.messages).toBe(30);
  });

  test("the leased sweep deletes what is past each tenant's own windows and audits the run with counts only", async () => {
    const email = 'ada.lovelace@example.com';
    const convA = await chat(a, 'a.example', `Hello, I am Ada, write to ${email}`);
    const convB = await chat(b, 'b.example', `Hello, I am Bea, write to ${email}`);
    const freshA = await chat(a, 'a.example', 'A question asked today');
    // Its last message 40 days ago, but active since (a handoff, a contact left): kept, whatever the hour says.
    const activeA = await chat(a, 'a.example', 'A question asked long ago');
    await owner("UPDATE conversations SET active_hour = date_trunc('hour', now() - interval '40 days') WHERE id = $1", [activeA]);
    // Both conversations went quiet 40 days ago: past A's 30 days, within B's default 365.
    await owner(
      "UPDATE conversations SET updated_at = now() - interval '40 days', active_hour = date_trunc('hour', now() - interval '40 days') WHERE id = ANY($1)",
      [[convA, convB]],
    );
    expect((await owner('SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1', [convA])).rows[0].n).toBeGreaterThan(0);
    // Webhook bodies 3 days old (A keeps 2, B the default 7); profiles refreshed 400 and 100 days ago.
    for (const tenant of [a, b]) {
      await owner(
        "INSERT INTO webhook_events (tenant_id, id, type, body, created_at) VALUES ($1, $2, 'message.created', '{}', now() - interval '3 days')",
        [tenant.tenant.id, `evt_${randomUUID()}`],
      );
    }
    await owner(
      `INSERT INTO verified_visitors (tenant_id, subject, profile, updated_at)
       VALUES ($1, 'user-old', $3, now() - interval '400 days'), ($2, 'user-old', $3, now() - interval '400 days'), ($2, 'user-recent', $3, now() - interval '100 days')`,
      [a.tenant.id, b.tenant.id, randomBytes(16)],
    );
    const sweepEntries = async () => (await owner("SELECT count(*)::int AS n FROM audit_entries WHERE action = 'retention.sweep'")).rows[0].n;
    const auditsBefore = await sweepEntries();

    // Two instances at once: one runs it.
    const runs = await Promise.all([
      runRetentionSweep(t.runtime, newHolderId(), { now: true }),
      runRetentionSweep(t.runtime, newHolderId(), { now: true }),
    ]);
    const ran = runs.filter((r) => r.ran);
    expect(ran).toHaveLength(1);
    const counts = ran[0]!.ran ? ran[0]!.result : {};
    expect(counts).toMatchObject({ conversations: 1, webhook_events: 1, verified_visitors: 2 });

    const left = async (table: string, col = 'conversation_id') =>
      (await owner(`SELECT DISTINCT ${col} AS v FROM ${table} WHERE ${col} = ANY($1)`, [[convA, convB, freshA, activeA]])).rows
        .map((r) => r.v)
        .sort();
    // A's idle conversation went with everything in it; B's (default window) and A's fresh and active ones stay.
    expect(await left('conversations', 'id')).toEqual([convB, freshA, activeA].sort());
    for (const table of ['messages', 'conversation_events']) expect(await left(table)).toEqual([convB, freshA, activeA].sort());
    expect((await owner('SELECT count(*)::int AS n FROM pii_vault WHERE conversation_id = $1', [convA])).rows[0].n).toBe(0);
    expect((await owner('SELECT tenant_id FROM webhook_events')).rows.map((r) => r.tenant_id)).toEqual([b.tenant.id]);
    expect((await owner('SELECT subject FROM verified_visitors ORDER BY subject')).rows.map((r) => r.subject)).toEqual(['user-recent']);

    // One audit entry for the run in the platform log, and one in each tenant's log it deleted from: counts, nothing about anyone.
    const entries = (await owner("SELECT tenant_id, metadata FROM audit_entries WHERE action = 'retention.sweep' ORDER BY id")).rows.slice(
      auditsBefore,
    );
    expect(entries.map((e) => e.tenant_id).sort()).toEqual([PLATFORM_TENANT, a.tenant.id, b.tenant.id].sort());
    const ofTenant = (id: string) => entries.find((e) => e.tenant_id === id)!.metadata.deleted;
    expect(ofTenant(a.tenant.id)).toEqual({ conversations: 1, webhook_events: 1, verified_visitors: 1 });
    expect(ofTenant(b.tenant.id)).toEqual({ verified_visitors: 1 });
    for (const e of entries) for (const leaked of [email, 'Ada', 'Bea', 'user-old', convA, convB]) expect(JSON.stringify(e)).not.toContain(leaked);
    entries.splice(0, entries.length, ...entries.filter((e) => e.tenant_id === PLATFORM_TENANT));
    expect(entries[0].tenant_id).toBe(PLATFORM_TENANT);
    expect(entries[0].metadata.deleted).toMatchObject({ conversations: 1, webhook_events: 1, verified_visitors: 2 });
    const logged = JSON.stringify(entries[0]);
    for (const leaked of [email, 'Ada', 'user-old', convA]) expect(logged).not.toContain(leaked);

    // Nothing more is due: a second run deletes nothing and writes no entry.
    const again = await runRetentionSweep(t.runtime, newHolderId(), { now: true });
    expect(again.ran && Object.values(again.result).every((n) => n === 0)).toBe(true);
    expect(await sweepEntries()).toBe(auditsBefore + 3);
  });

  test('a conversation deleted for retention takes its webhook events and their deliveries with it, whatever the webhookBodies window', async () => {
    const c = await t.tenant('One day of messages', ['c.example']);
    expect((await settings(c, 'PATCH', { retention: { messages: 1, webhookBodies: 30 } })).status).toBe(200);
    // An endpoint that wants the messages; no worker runs here, so every delivery stays pending.
    await owner("INSERT INTO webhook_endpoints (tenant_id, id, url, events, secret_sealed) VALUES ($1, $2, 'https://hooks.c.example/in', $3, $4)", [
      c.tenant.id,
      randomUUID(),
      ['message.created', 'conversation.created'],
      randomBytes(32),
    ]);
    const old = await chat(c, 'c.example', 'My order 4471 never arrived, can someone check the parcel?');
    const fresh = await chat(c, 'c.example', 'A question asked today about parcels');
    // The old conversation went quiet two days ago (past its one day); its events are two days old (within 30).
    await owner(
      "UPDATE conversations SET updated_at = now() - interval '2 days', active_hour = date_trunc('hour', now() - interval '2 days') WHERE id = $1",
      [old],
    );
    await owner("UPDATE webhook_events SET created_at = now() - interval '2 days' WHERE conversation_id = $1", [old]);
    const events = async (conv: string) =>
      (
        await owner(
          `SELECT count(DISTINCT e.id)::int AS events, count(d.id)::int AS deliveries, coalesce(string_agg(e.body, ''), '') AS bodies
             FROM webhook_events e LEFT JOIN webhook_deliveries d ON d.tenant_id = e.tenant_id AND d.event_id = e.id
            WHERE e.conversation_id = $1`,
          [conv],
        )
      ).rows[0] as { events: number; deliveries: number; bodies: string };
    const before = await events(old);
    expect(before.events).toBeGreaterThanOrEqual(2);
    expect(before.deliveries).toBe(before.events);
    expect(before.bodies).toContain('never arrived');
    const keptBefore = await events(fresh);
    expect(keptBefore.events).toBeGreaterThanOrEqual(2);

    const run = await runRetentionSweep(t.runtime, newHolderId(), { now: true });
    expect(run.ran).toBe(true);
    const counts = run.ran ? run.result : {};
    expect(counts.conversations).toBe(1);
    expect(counts.webhook_events).toBeGreaterThanOrEqual(before.events);
    expect((await owner('SELECT count(*)::int AS n FROM conversations WHERE id = $1', [old])).rows[0].n).toBe(0);
    // The events about it and their deliveries are gone; the fresh conversation's stay.
    expect(await events(old)).toEqual({ events: 0, deliveries: 0, bodies: '' });
    expect(await events(fresh)).toEqual(keptBefore);
  });
});

describe("the tenant's own audit log shows that retention ran", () => {
  const auditOf = async (tenant: CreatedTenant) => {
    await t.runtime.audit.integrateNow();
    return (await call(t.url, 'GET', '/v1/admin/audit?limit=500', { key: tenant.secretKey })).body.entries as {
      action: string;
      actor: { type: string; id: string | null };
      target: unknown;
      reason: string | null;
      metadata: Record<string, any>;
    }[];
  };

  test("each sweep that deletes a tenant's personal data writes counts and the windows applied to that tenant's log, and its evidence pack shows it", async () => {
    const d = await t.tenant('Evidence of retention', ['d.example']);
    const quiet = await t.tenant('Nothing due', ['e.example']);
    expect((await settings(d, 'PATCH', { retention: { messages: 3, webhookBodies: 2 } })).status).toBe(200);
    const email = 'grace.hopper@example.com';
    const old = await chat(d, 'd.example', `I am Grace, reach me at ${email}`);
    const fresh = await chat(d, 'd.example', 'A question asked today');
    await chat(quiet, 'e.example', 'A question asked today');
    await owner(
      "UPDATE conversations SET updated_at = now() - interval '5 days', active_hour = date_trunc('hour', now() - interval '5 days') WHERE id = $1",
      [old],
    );
    await owner(
      "INSERT INTO verified_visitors (tenant_id, subject, profile, updated_at) VALUES ($1, 'user-stale', $2, now() - interval '400 days')",
      [d.tenant.id, randomBytes(16)],
    );

    const run = await runRetentionSweep(t.runtime, newHolderId(), { now: true });
    expect(run.ran).toBe(true);

    const mine = (await auditOf(d)).filter((e) => e.action === 'retention.sweep');
    expect(mine).toHaveLength(1);
    const [entry] = mine;
    expect(entry!.actor).toEqual({ type: 'system', id: 'retention-sweep' });
    // Counts per kind, and the periods that applied (the tenant's own windows and the deployment's event retention).
    expect(entry!.metadata.deleted).toMatchObject({ conversations: 1, verified_visitors: 1 });
    expect(entry!.metadata.deleted.messages).toBeUndefined();
    expect(entry!.metadata.windows).toEqual({
      messages: 3,
      webhookBodies: 2,
      verifiedProfiles: DEFAULT_RETENTION.verifiedProfiles,
      events: t.runtime.config.eventRetentionDays,
    });
    // Nothing about anyone: no words, no email, no subject, no conversation id.
    const logged = JSON.stringify(entry);
    for (const leaked of [email, 'Grace', 'user-stale', old, fresh]) expect(logged).not.toContain(leaked);
    // A tenant with nothing due gets no entry.
    expect((await auditOf(quiet)).filter((e) => e.action === 'retention.sweep')).toEqual([]);

    // The tenant's evidence pack carries the entry, proved, and lists the runs of its period on their own.
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const res = await fetch(`${t.url}/v1/admin/evidence/packs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${d.secretKey}` },
      body: JSON.stringify({ framework: 'soc2', from, to }),
    });
    expect(res.status).toBe(200);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const text = (name: string) => Buffer.from(files[name] ?? new Uint8Array()).toString('utf8');
    const audited = text('audit/entries.jsonl')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(audited.filter((e) => e.action === 'retention.sweep')).toHaveLength(1);
    const runs = JSON.parse(text('lifecycle/retention.json'));
    expect(runs.runs).toHaveLength(1);
    expect(runs.runs[0].metadata.deleted).toMatchObject({ conversations: 1, verified_visitors: 1 });
    expect(runs.windows).toEqual({ messages: 3, webhookBodies: 2, verifiedProfiles: DEFAULT_RETENTION.verifiedProfiles });
    expect(text('lifecycle/retention.json')).not.toContain(email);
  });
});

describe('an open handoff and retention', () => {
  test('a conversation waiting for or worked by a person outlives its window until the handoff is resolved; the tenant log counts each one held; resolved, it keeps its window from then', async () => {
    const h = await t.tenant('Slow support', ['h.example']);
    expect((await settings(h, 'PATCH', { retention: { messages: 1 } })).status).toBe(200);
    const admin = (method: string, path: string, body?: unknown) => call(t.url, method, `/v1/admin${path}`, { key: h.secretKey, body });
    const waiting = await chat(h, 'h.example', 'My parcel is lost, I want to talk to a human', { openHandoff: true });
    const worked = await chat(h, 'h.example', 'Still no parcel, I want to talk to a human', { openHandoff: true });
    const idle = await chat(h, 'h.example', 'What are your opening hours?');
    // Waiting since long before: past its window and the longest hold for a handoff too.
    const abandoned = await chat(h, 'h.example', 'Anyone there? I want to talk to a human', { openHandoff: true });
    const handoffOf = async (conversationId: string) =>
      ((await admin('GET', '/handoffs')).body.handoffs as { id: string; conversationId: string; status: string }[]).find(
        (x) => x.conversationId === conversationId,
      );
    expect((await handoffOf(waiting))?.status).toBe('pending');
    const workedHandoff = (await handoffOf(worked))!;
    expect((await admin('PATCH', `/handoffs/${workedHandoff.id}`, { status: 'assigned' })).status).toBe(204);
    // All three went quiet three days ago: past the one-day window.
    const age = (ids: string[]) =>
      owner(
        "UPDATE conversations SET updated_at = now() - interval '3 days', active_hour = date_trunc('hour', now() - interval '3 days') WHERE id = ANY($1)",
        [ids],
      );
    await age([waiting, worked, idle]);
    await owner(
      "UPDATE conversations SET updated_at = now() - make_interval(days => $2), active_hour = date_trunc('hour', now() - make_interval(days => $2)) WHERE id = $1",
      [abandoned, 1 + HANDOFF_RETENTION_HOLD_DAYS + 1],
    );
    const left = async () =>
      (await owner('SELECT id FROM conversations WHERE id = ANY($1)', [[waiting, worked, idle, abandoned]])).rows.map((r) => r.id as string).sort();
    const sweeps = async () => {
      await t.runtime.audit.integrateNow();
      return ((await call(t.url, 'GET', '/v1/admin/audit?limit=500', { key: h.secretKey })).body.entries as { action: string; metadata: any }[])
        .filter((e) => e.action === 'retention.sweep')
        .map((e) => e.metadata);
    };

    expect((await runRetentionSweep(t.runtime, newHolderId(), { now: true })).ran).toBe(true);
    // The idle one went, and the abandoned one; the two with an open handoff stay, in the inbox as the agents left them.
    expect(await left()).toEqual([waiting, worked].sort());
    expect((await handoffOf(waiting))?.status).toBe('pending');
    expect((await handoffOf(worked))?.status).toBe('assigned');
    // Not kept silently: the tenant's log counts the conversations held past their window, by reason.
    let logged = await sweeps();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ deleted: { conversations: 2 }, held: { openHandoff: 2 } });
    expect(JSON.stringify(logged)).not.toContain(waiting);

    // A later run holds them still, and does not count them again.
    expect((await runRetentionSweep(t.runtime, newHolderId(), { now: true })).ran).toBe(true);
    expect(await left()).toEqual([waiting, worked].sort());
    expect(await sweeps()).toHaveLength(1);

    // Resolved, the conversation keeps its window from the resolution (the agent can still reopen it)...
    expect((await admin('PATCH', `/handoffs/${workedHandoff.id}`, { status: 'resolved' })).status).toBe(204);
    await runRetentionSweep(t.runtime, newHolderId(), { now: true });
    expect(await left()).toEqual([waiting, worked].sort());
    // ...and goes once that has passed, like any other.
    await age([worked]);
    await runRetentionSweep(t.runtime, newHolderId(), { now: true });
    expect(await left()).toEqual([waiting]);
    logged = await sweeps();
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatchObject({ deleted: { conversations: 1 } });
    expect(logged[1].held).toBeUndefined();
  });
});

describe('approval proposals and retention', () => {
  test("a decided or expired proposal's arguments (an invitee's email) are redacted after the event retention; the decision, who, when and the operation stay", async () => {
    const p = await t.tenant('Held invitations', ['p.example']);
    const admin = (method: string, path: string) => call(t.url, method, `/v1/admin${path}`, { key: p.secretKey });
    expect((await settings(p, 'PATCH', { approvals: { operations: ['keys.privileged'] } })).status).toBe(200);
    const asker = (await signedInMember(t, p.tenant.id, 'owner')).client;
    const decider = (await signedInMember(t, p.tenant.id, 'owner')).client;
    const email = 'new.admin@p.example';
    const pendingEmail = 'later.admin@p.example';
    const held = await asker.call('POST', '/v1/admin/invites', { email, role: 'admin' });
    expect(held.status).toBe(202);
    const id = held.body.proposal.id as string;
    const waiting = (await asker.call('POST', '/v1/admin/invites', { email: pendingEmail, role: 'admin' })).body.proposal.id as string;
    expect((await decider.call('POST', `/v1/admin/approvals/${id}/reject`, { reason: 'Not this quarter' })).status).toBe(200);
    const row = async (pid: string) =>
      (
        await owner(
          'SELECT status, operation, arguments, reason, requested_by_kind, requested_by_id, arguments_hash, created_at, updated_at FROM approval_proposals WHERE id = $1',
          [pid],
        )
      ).rows[0];
    const before = await row(id);
    expect(JSON.stringify(before.arguments)).toContain(email);
    // Both were made 40 days ago (past the deployment's 30-day event retention); only the rejected one is decided.
    await t.testDb.db.withOwner(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica'); // the rail's triggers would refuse a changed date
      await tx.query(
        "UPDATE approval_proposals SET created_at = created_at - interval '40 days', updated_at = updated_at - interval '40 days' WHERE id = ANY($1)",
        [[id, waiting]],
      );
    });
    const aged = await row(id);

    expect((await runRetentionSweep(t.runtime, newHolderId(), { now: true })).ran).toBe(true);
    const after = await row(id);
    // The personal part is gone: the arguments as shown to the approver, and the free-text reasons.
    expect(after.arguments).toEqual({});
    expect(after.reason).toBeNull();
    expect(JSON.stringify(await owner('SELECT * FROM approval_proposals WHERE id = $1', [id]))).not.toContain(email);
    // What the audit needs stays: the operation, its state, who asked, when, the hash of the exact request, the decision.
    for (const k of ['status', 'operation', 'requested_by_kind', 'requested_by_id', 'arguments_hash', 'created_at', 'updated_at'] as const)
      expect(after[k]).toEqual(aged[k]);
    const shown = (await decider.call('GET', `/v1/admin/approvals/${id}`)).body.proposal;
    expect(shown).toMatchObject({ id, status: 'rejected', arguments: {} });
    expect((await owner('SELECT decision, decided_by_kind FROM approval_decisions WHERE proposal_id = $1', [id])).rows).toEqual([
      { decision: 'reject', decided_by_kind: 'member' },
    ]);
    // A proposal still waiting is left whole.
    expect(JSON.stringify((await row(waiting)).arguments)).toContain(pendingEmail);

    // Recorded in the tenant's log as a redaction, with nothing of what went.
    await t.runtime.audit.integrateNow();
    const entries = (await admin('GET', '/audit?limit=500')).body.entries as { action: string; metadata: any }[];
    const sweeps = entries.filter((e) => e.action === 'retention.sweep');
    expect(sweeps).toHaveLength(1);
    expect(sweeps[0]!.metadata).toMatchObject({ redacted: { approval_proposals: 1 } });
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['approval.propose', 'approval.reject']));
    expect(JSON.stringify(entries)).not.toContain(email);
    // Done once: a later run redacts nothing more and writes nothing.
    await runRetentionSweep(t.runtime, newHolderId(), { now: true });
    await t.runtime.audit.integrateNow();
    expect(
      ((await admin('GET', '/audit?limit=500')).body.entries as { action: string }[]).filter((e) => e.action === 'retention.sweep'),
    ).toHaveLength(1);
  });
});
