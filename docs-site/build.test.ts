// The docs build: the roles table in "Team and sign-in" is generated from the permission table the
// server enforces (every cell checked here), and the build refuses to run without its placeholder.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as protocol from '@parley/protocol';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildSite, CAPABILITY_TEXT, EVENTS_PLACEHOLDER, eventsTable, ROLES_PLACEHOLDER, rolesTable } from './build.mjs';

const { CAPABILITIES, ROLES, ROLE_CAPABILITIES, ROLE_DESCRIPTIONS } = protocol;
const here = new URL('./', import.meta.url).pathname;
const dirs: string[] = [];
const tmp = () => {
  const d = `${mkdtempSync(join(tmpdir(), 'parley-docs-'))}/`;
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const decodeEntities = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
const text = (html: string) => decodeEntities(html.replace(/<[^>]+>/g, '')).trim();

/** The roles table of a built page: column headers, and per row its capability and cells as written. */
function parseRolesTable(html: string) {
  const table = /<table class="roles">([\s\S]*?)<\/table>/.exec(html)?.[1];
  if (!table) throw new Error('no roles table in the page');
  const head = /<thead>([\s\S]*?)<\/thead>/.exec(table)![1]!;
  const columns = [...head.matchAll(/<th scope="col">([\s\S]*?)<\/th>/g)].map((m) => text(m[1]!));
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)![1]!;
  const rows = [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => {
    const capability = text(/<th scope="row">([\s\S]*?)<\/th>/.exec(m[1]!)![1]!);
    const cells = [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!);
    return { capability, cells };
  });
  return { columns, rows };
}

/** A cell's meaning, from both what is shown and what a screen reader says; they must agree. */
function cellValue(cell: string): boolean {
  const shown = /<span aria-hidden="true">(.*?)<\/span>/.exec(cell)?.[1];
  const spoken = /<span class="visually-hidden">(.*?)<\/span>/.exec(cell)?.[1];
  if (shown === '✓' && spoken === 'allowed') return true;
  if (shown === '—' && spoken === 'not allowed') return false;
  throw new Error(`unexpected cell ${cell}`);
}

describe('the docs build', () => {
  const out = tmp();
  buildSite({ protocol, out });
  const page = readFileSync(`${out}team-and-sign-in.html`, 'utf8');

  it('generates the roles table from ROLE_CAPABILITIES: every capability × every role', () => {
    const { columns, rows } = parseRolesTable(page);
    expect(columns).toEqual(['Capability', 'What it allows', ...ROLES]);
    expect(rows.map((r) => r.capability)).toEqual([...CAPABILITIES]);
    let cells = 0;
    for (const { capability, cells: [what, ...byRole] } of rows) {
      expect(text(what!)).toBe(CAPABILITY_TEXT[capability]);
      expect(byRole).toHaveLength(ROLES.length);
      ROLES.forEach((role, i) => {
        expect(cellValue(byRole[i]!), `${role} × ${capability}`).toBe(ROLE_CAPABILITIES[role].includes(capability as protocol.Capability));
        cells++;
      });
    }
    expect(cells).toBe(CAPABILITIES.length * ROLES.length);
  });

  it('describes each role in the words of ROLE_DESCRIPTIONS', () => {
    const table = /<table class="role-descriptions">([\s\S]*?)<\/table>/.exec(page)![1]!;
    const rows = [...table.matchAll(/<tr><th scope="row">([\s\S]*?)<\/th><td>([\s\S]*?)<\/td><\/tr>/g)].map((m) => [text(m[1]!), text(m[2]!)]);
    expect(rows).toEqual(ROLES.map((r) => [r, ROLE_DESCRIPTIONS[r]]));
  });

  it('puts the table where the placeholder was, and leaves no placeholder behind', () => {
    const md = readFileSync(`${here}guides/team-and-sign-in.md`, 'utf8');
    expect(md.split('\n').filter((l) => l.trim() === ROLES_PLACEHOLDER)).toHaveLength(1);
    expect(page).not.toContain('roles-table');
    expect(page.indexOf('<table class="roles">')).toBeGreaterThan(page.indexOf('id="roles"'));
  });

  it('follows a change in the permission table (nothing in the docs is hard-coded)', () => {
    const changed = { ...protocol, ROLE_CAPABILITIES: { ...ROLE_CAPABILITIES, analyst: [...ROLE_CAPABILITIES.analyst, 'keys:write'] } };
    const { rows } = parseRolesTable(rolesTable(changed));
    const keysWrite = rows.find((r) => r.capability === 'keys:write')!;
    expect(cellValue(keysWrite.cells[1 + ROLES.indexOf('analyst')]!)).toBe(true);
    expect(cellValue(parseRolesTable(page).rows.find((r) => r.capability === 'keys:write')!.cells[1 + ROLES.indexOf('analyst')]!)).toBe(false);
  });

  it('fails when the placeholder is missing or doubled', () => {
    const md = readFileSync(`${here}guides/team-and-sign-in.md`, 'utf8');
    const without = md.replace(ROLES_PLACEHOLDER, '');
    expect(() => buildSite({ protocol, out: tmp(), guides: [['team-and-sign-in', without]] })).toThrow(/must contain the line <!-- roles-table --> exactly once \(found 0\)/);
    const twice = `${md}\n${ROLES_PLACEHOLDER}\n`;
    expect(() => buildSite({ protocol, out: tmp(), guides: [['team-and-sign-in', twice]] })).toThrow(/found 2/);
    expect(() => buildSite({ protocol, out: tmp(), guides: [['index', '# Parley documentation\n']] })).toThrow(/team-and-sign-in\.md is missing/);
  });

  it('fails when a capability has no description', () => {
    expect(() => rolesTable({ ...protocol, CAPABILITIES: [...CAPABILITIES, 'reports:read'] })).toThrow(/no text for reports:read/);
  });

  it('generates the webhook event catalog from WEBHOOK_EVENTS: every type, its meaning and its data shape', () => {
    const html = readFileSync(`${out}webhooks.html`, 'utf8');
    expect(html).not.toContain('webhook-events -->');
    const table = /<table class="webhook-events">([\s\S]*?)<\/table>/.exec(html)![1]!;
    const rows = [...table.matchAll(/<tr><th scope="row">([\s\S]*?)<\/th><td>([\s\S]*?)<\/td><td>([\s\S]*?)<\/td><\/tr>/g)].map((m) => [text(m[1]!), text(m[2]!), text(m[3]!)]);
    expect(rows.map((r) => r[0])).toEqual(Object.keys(protocol.WEBHOOK_EVENTS));
    for (const [type, what] of rows) expect(what).toBe(protocol.WEBHOOK_EVENTS[type as protocol.WebhookEventType].description);
    const requested = rows.find((r) => r[0] === 'handoff.requested')![2];
    expect(requested).toMatch(/^\{ handoff: \{ id: string; conversationId: string; status: "pending" \| "assigned" \| "resolved"; reason\?: string/);
    // A change in the catalog shows in the docs: nothing is hard-coded.
    const more = { WEBHOOK_EVENTS: { ...protocol.WEBHOOK_EVENTS, 'invoice.paid': { description: 'Paid.', data: protocol.CsatSubmittedData } } };
    expect(eventsTable(more)).toContain('<code>invoice.paid</code>');
    const md = readFileSync(`${here}guides/webhooks.md`, 'utf8');
    expect(() => buildSite({ protocol, out: tmp(), guides: [['team-and-sign-in', readFileSync(`${here}guides/team-and-sign-in.md`, 'utf8')], ['webhooks', md.replace(EVENTS_PLACEHOLDER, '')]] })).toThrow(
      /webhooks\.md must contain the line <!-- webhook-events --> exactly once \(found 0\)/,
    );
  });

  it('links every guide from the navigation and from the index page', () => {
    const guides = readdirSync(`${here}guides`).filter((f) => f.endsWith('.md') && f !== 'index.md').map((f) => f.replace(/\.md$/, ''));
    const index = readFileSync(`${out}index.html`, 'utf8');
    const nav = /<nav[\s\S]*?<\/nav>/.exec(index)![0];
    const main = /<main>([\s\S]*?)<\/main>/.exec(index)![1]!;
    for (const g of guides) {
      expect(nav, `nav links ${g}`).toContain(`href="/docs/${g}.html"`);
      expect(main, `index.md links ${g}`).toContain(`href="${g}.html"`);
    }
  });
});
