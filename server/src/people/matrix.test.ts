// The whole route × role matrix, derived from the one permission table (protocol ROLE_CAPABILITIES) and
// from the guard each admin route carries: every cell allowed → not 401/403; denied → a 403 problem and
// nothing changed. The same cells for a key holding exactly the role's capabilities: one check for both.
import { CAPABILITIES, ROLE_CAPABILITIES, ROLES, type Capability, type Role } from '@parley/protocol';
import type { Router } from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { type ConsoleClient, signedInMember } from '../test/console.js';
import { call } from '../test/http.js';
import type { CreatedTenant } from '../tenants/service.js';

type Guard = { capability: Capability } | { member: true } | { owner: true } | { any: true };
interface Cell {
  method: string;
  path: string;
  guard: Guard;
}

/** Every admin route and method with its guard, read from the running app's router. */
function routeTable(router: Router): Cell[] {
  const cells: Cell[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const h of layer.route.stack as { method?: string; handle: { capability?: Capability; member?: true; owner?: true } }[]) {
          if (!h.method || h.method === '_all') continue;
          const mine = cells.find((c) => c.path === layer.route.path && c.method === h.method!.toUpperCase());
          const guard: Guard | null = h.handle.capability
            ? { capability: h.handle.capability }
            : h.handle.member
              ? { member: true }
              : h.handle.owner
                ? { owner: true }
                : null;
          if (mine) {
            // A route guarded by a capability and by ownership (SSO connections) is the owner's.
            if (guard && ('any' in mine.guard || 'owner' in guard)) mine.guard = guard;
          } else cells.push({ method: h.method.toUpperCase(), path: layer.route.path, guard: guard ?? { any: true } });
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((router as unknown as { stack: unknown[] }).stack);
  return cells;
}

const concrete = (path: string) => path.replace(':provider', 'openai').replace(/:[a-z]+/gi, '00000000-0000-4000-8000-00000000abcd');
const allowed = (guard: Guard, role: Role, viaKey: boolean) =>
  'capability' in guard
    ? ROLE_CAPABILITIES[role].includes(guard.capability)
    : 'member' in guard
      ? !viaKey
      : 'owner' in guard
        ? role === 'owner' && !viaKey
        : true;

let t: TestApp;
let ten: CreatedTenant;
let cells: Cell[];
const people = new Map<Role, ConsoleClient>();
const keys = new Map<Role, string>();

/** Everything a request could change, in one row: counts of every table and the tenant's settings. */
async function fingerprint(): Promise<string> {
  return t.runtime.db.withOwner(async (tx) => {
    // Rate-limit counters count every request, refused or not, and the audit integrator extends the Merkle
    // tree (nodes, heads, checkpoints) for entries appended earlier whenever it runs: neither is data a denied
    // request changed. Appended entries themselves are counted (audit_entries).
    const tables = (
      await tx.query<{ t: string }>(
        "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('rate_limit_windows', 'audit_nodes', 'audit_heads', 'audit_checkpoints') ORDER BY 1",
      )
    ).rows.map((r) => r.t);
    const counts = await tx.query<Record<string, number>>(`SELECT ${tables.map((x) => `(SELECT count(*) FROM ${x})::int AS "${x}"`).join(', ')}`);
    const tenant = await tx.query('SELECT settings, policy_version FROM tenants WHERE id = $1', [ten.tenant.id]);
    return JSON.stringify([counts.rows[0], tenant.rows[0]]);
  });
}

beforeAll(async () => {
  t = await startTestApp();
  ten = await t.tenant('Matrix', ['matrix.example']);
  cells = routeTable(t.app.locals.adminRouter as Router);
  for (const role of ROLES) {
    people.set(role, (await signedInMember(t, ten.tenant.id, role)).client);
    const made = await call(t.url, 'POST', '/v1/admin/api-keys', {
      key: ten.secretKey,
      body: { name: `as ${role}`, capabilities: ROLE_CAPABILITIES[role] },
    });
    expect(made.status).toBe(201);
    keys.set(role, made.body.secret);
  }
});
afterAll(() => t.close());

const send = (role: Role, viaKey: boolean, cell: Cell) => {
  const body = ['GET', 'DELETE'].includes(cell.method) ? undefined : {};
  return viaKey
    ? call(t.url, cell.method, `/v1/admin${concrete(cell.path)}`, { key: keys.get(role)!, ...(body ? { body } : {}) })
    : people.get(role)!.call(cell.method, `/v1/admin${concrete(cell.path)}`, body);
};

describe('route × role matrix', () => {
  test('the route table is read from the app, and every admin route is guarded (a capability, or a person’s own account)', () => {
    expect(cells.length).toBeGreaterThan(40);
    expect(cells.filter((c) => 'any' in c.guard).map((c) => `${c.method} ${c.path}`)).toEqual(['GET /me']);
    // Every capability in the table guards at least one route, so the table and the routes agree.
    const used = new Set(cells.flatMap((c) => ('capability' in c.guard ? [c.guard.capability] : [])));
    expect(CAPABILITIES.filter((c) => !used.has(c) && c !== 'answers:write')).toEqual([]);
  });

  for (const viaKey of [false, true]) {
    const who = viaKey ? 'a key with the role’s capabilities' : 'a person';
    test(`denied cells for ${who}: 403 problem, nothing changed`, async () => {
      const before = await fingerprint();
      const denied = [];
      for (const role of ROLES) {
        for (const cell of cells.filter((c) => !allowed(c.guard, role, viaKey))) {
          const res = await send(role, viaKey, cell);
          denied.push(`${role} ${cell.method} ${cell.path} → ${res.status}`);
          expect(res.status, `${role} ${cell.method} ${cell.path}`).toBe(403);
          expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
          expect(res.body.request_id).toBeTruthy();
        }
      }
      expect(denied.length).toBeGreaterThan(viaKey ? 40 : 30);
      expect(await fingerprint()).toBe(before);
    });

    test(`allowed cells for ${who}: never 401 or 403`, async () => {
      let n = 0;
      for (const role of ROLES) {
        for (const cell of cells.filter((c) => allowed(c.guard, role, viaKey))) {
          const res = await send(role, viaKey, cell);
          expect([401, 403], `${role} ${cell.method} ${cell.path}: ${res.text.slice(0, 200)}`).not.toContain(res.status);
          expect(res.status, `${role} ${cell.method} ${cell.path}`).toBeLessThan(500);
          n++;
        }
      }
      expect(n).toBeGreaterThan(100);
    });
  }
});
