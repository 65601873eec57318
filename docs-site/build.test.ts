// The docs build: the roles table in "Team and sign-in" is generated from the permission table the
// server enforces (every cell checked here), and the build refuses to run without its placeholder.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as protocol from '@parley/protocol';
import { openApiDocument } from '@parley/protocol/contract';
import MiniSearch from 'minisearch';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import * as build from './build.mjs';
// @ts-expect-error: plain .mjs modules without type declarations
import { checkLinks } from './check-links.mjs';
// @ts-expect-error: plain .mjs modules without type declarations
import { curlExample, endpointPages, operationPage, operationsOf } from './reference/openapi.mjs';
// @ts-expect-error: plain .mjs modules without type declarations
import { sdkPages } from './reference/sdk.mjs';
// @ts-expect-error: plain .mjs modules without type declarations
import { boostGuides, QUERY_OPTIONS, queryTerm, SEARCH_OPTIONS } from './search.mjs';

const {
  buildSite,
  CAPABILITY_TEXT,
  CLASSES_PLACEHOLDER,
  classificationTable,
  EVENTS_PLACEHOLDER,
  eventsTable,
  RETENTION_PLACEHOLDER,
  ROLES_PLACEHOLDER,
  rolesTable,
} = build;
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

// The SDK pages come from the built SDKs' declarations (API Extractor); made once for every build here.
const sdk = sdkPages({ protocol });
const openapi = openApiDocument();
const site = (more: Record<string, unknown> = {}) => buildSite({ protocol, openapi, sdk, ...more });

describe('the docs build', () => {
  const out = tmp();
  site({ out });
  const page = readFileSync(`${out}team-and-sign-in.html`, 'utf8');

  it('generates the roles table from ROLE_CAPABILITIES: every capability × every role', () => {
    const { columns, rows } = parseRolesTable(page);
    expect(columns).toEqual(['Capability', 'What it allows', ...ROLES]);
    expect(rows.map((r) => r.capability)).toEqual([...CAPABILITIES]);
    let cells = 0;
    for (const {
      capability,
      cells: [what, ...byRole],
    } of rows) {
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
    expect(() => site({ out: tmp(), guides: [['team-and-sign-in', without]] })).toThrow(
      /must contain the line <!-- roles-table --> exactly once \(found 0\)/,
    );
    const twice = `${md}\n${ROLES_PLACEHOLDER}\n`;
    expect(() => site({ out: tmp(), guides: [['team-and-sign-in', twice]] })).toThrow(/found 2/);
    expect(() => site({ out: tmp(), guides: [['index', '# Parley documentation\n']] })).toThrow(/team-and-sign-in\.md is missing/);
  });

  it('fails when a capability has no description', () => {
    expect(() => rolesTable({ ...protocol, CAPABILITIES: [...CAPABILITIES, 'reports:read'] })).toThrow(/no text for reports:read/);
  });

  it('generates the webhook event catalog from WEBHOOK_EVENTS: every type, its meaning and its data shape', () => {
    const html = readFileSync(`${out}webhooks.html`, 'utf8');
    expect(html).not.toContain('webhook-events -->');
    const table = /<table class="webhook-events">([\s\S]*?)<\/table>/.exec(html)![1]!;
    const rows = [...table.matchAll(/<tr><th scope="row">([\s\S]*?)<\/th><td>([\s\S]*?)<\/td><td>([\s\S]*?)<\/td><\/tr>/g)].map((m) => [
      text(m[1]!),
      text(m[2]!),
      text(m[3]!),
    ]);
    expect(rows.map((r) => r[0])).toEqual(Object.keys(protocol.WEBHOOK_EVENTS));
    for (const [type, what] of rows) expect(what).toBe(protocol.WEBHOOK_EVENTS[type as protocol.WebhookEventType].description);
    const requested = rows.find((r) => r[0] === 'handoff.requested')![2];
    expect(requested).toMatch(/^\{ handoff: \{ id: string; conversationId: string; status: "pending" \| "assigned" \| "resolved"; reason\?: string/);
    // A change in the catalog shows in the docs: nothing is hard-coded.
    const more = { WEBHOOK_EVENTS: { ...protocol.WEBHOOK_EVENTS, 'invoice.paid': { description: 'Paid.', data: protocol.CsatSubmittedData } } };
    expect(eventsTable(more)).toContain('<code>invoice.paid</code>');
    const md = readFileSync(`${here}guides/webhooks.md`, 'utf8');
    expect(() =>
      site({
        out: tmp(),
        guides: [
          ['team-and-sign-in', readFileSync(`${here}guides/team-and-sign-in.md`, 'utf8')],
          ['webhooks', md.replace(EVENTS_PLACEHOLDER, '')],
        ],
      }),
    ).toThrow(/webhooks\.md must contain the line <!-- webhook-events --> exactly once \(found 0\)/);
  });

  it('generates the data classification and retention tables from the registry in @parley/protocol', () => {
    const html = readFileSync(`${out}data-lifecycle.html`, 'utf8');
    expect(html).not.toContain('classification-table -->');
    expect(html).not.toContain('retention-table -->');
    const fields = /<table class="data-fields">([\s\S]*?)<\/table>/.exec(html)![1]!;
    const rows = [...fields.matchAll(/<tr><th scope="row"><code>([a-z_]+)<\/code><\/th>([\s\S]*?)<\/tr>/g)];
    expect(rows.map((r) => r[1])).toEqual(Object.keys(protocol.CLASSIFICATION).sort());
    // Each cell lists the table's columns of that class, in the registry's order.
    const messages = rows.find((r) => r[1] === 'messages')![2]!;
    const cells = [...messages.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => text(m[1]!));
    expect(cells[protocol.DATA_CLASSES.indexOf('personal')]).toBe('text, pii');
    // The personal fields admin views show, each with whom to and why.
    const shown = /<table class="shown-personal">([\s\S]*?)<\/table>/.exec(html)![1]!;
    for (const f of protocol.SHOWN_PERSONAL_FIELDS) expect(shown).toContain(`<code>${f.table}.${f.columns[0]}</code>`);
    expect(shown).not.toContain('verified_visitors.profile');
    for (const w of protocol.RETENTION_WINDOWS) expect(html).toContain(`<code>retention.${w.key}</code>`);
    expect(html).toContain('365 days');
    // A change in the registry shows in the docs.
    const more = { ...protocol, CLASSIFICATION: { ...protocol.CLASSIFICATION, shoes: { personal: ['size'] } } };
    expect(classificationTable(more)).toContain('<code>shoes</code>');
    const md = readFileSync(`${here}guides/data-lifecycle.md`, 'utf8');
    const guides = (lifecycle: string) => [
      ['team-and-sign-in', readFileSync(`${here}guides/team-and-sign-in.md`, 'utf8')],
      ['data-lifecycle', lifecycle],
    ];
    expect(() => site({ out: tmp(), guides: guides(md.replace(CLASSES_PLACEHOLDER, '')) })).toThrow(/<!-- classification-table --> exactly once/);
    expect(() => site({ out: tmp(), guides: guides(md.replace(RETENTION_PLACEHOLDER, '')) })).toThrow(/<!-- retention-table --> exactly once/);
  });

  it('links every guide from the navigation and from the index page', () => {
    const guides = readdirSync(`${here}guides`)
      .filter((f) => f.endsWith('.md') && f !== 'index.md')
      .map((f) => f.replace(/\.md$/, ''));
    const index = readFileSync(`${out}index.html`, 'utf8');
    const nav = /<nav[\s\S]*?<\/nav>/.exec(index)![0];
    const main = /<main>([\s\S]*?)<\/main>/.exec(index)![1]!;
    for (const g of guides) {
      expect(nav, `nav links ${g}`).toContain(`href="/docs/${g}.html"`);
      expect(main, `index.md links ${g}`).toContain(`href="${g}.html"`);
    }
  });
});

describe('the endpoint reference', () => {
  const out = tmp();
  site({ out });
  const ops = operationsOf(openapi);
  const index = readFileSync(`${out}api.html`, 'utf8');

  it('has a page per operation of the OpenAPI document (paths and webhooks), each listed on the index under its tag', () => {
    const count = Object.values(openapi.paths as Record<string, object>).reduce(
      (n, item) => n + Object.keys(item).filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k)).length,
      0,
    );
    expect(ops.filter((o: { webhook: boolean }) => !o.webhook)).toHaveLength(count);
    expect(ops.filter((o: { webhook: boolean }) => o.webhook)).toHaveLength(Object.keys(openapi.webhooks as object).length);
    for (const op of ops) {
      const html = readFileSync(`${out}${operationPage(op)}.html`, 'utf8');
      expect(html, op.operationId).toContain(`<code>${op.path.replace(/&/g, '&#38;')}</code>`);
      expect(html).toContain(`method-${op.method}`);
      const section = index.slice(
        index.indexOf(
          `<h2 id="${op.tag
            .toLowerCase()
            .replace(/[^a-z0-9\s-]/g, '')
            .trim()
            .replace(/\s+/g, '-')}">`,
        ),
      );
      expect(section.slice(0, section.indexOf('</table>')), `${op.operationId} under ${op.tag}`).toContain(`href="${operationPage(op)}.html"`);
    }
  });

  it('shows auth, capability, parameters, body fields, every response status and a curl example', () => {
    const html = readFileSync(`${out}api-add-domain.html`, 'utf8');
    const op = (openapi.paths as any)['/v1/admin/domains'].post;
    expect(html).toContain('<code>secretKey</code>');
    expect(html).toContain(`<code>${op['x-parley-capability']}</code>`);
    for (const field of Object.keys(op.requestBody.content['application/json'].schema.properties)) expect(html).toContain(`<code>${field}</code>`);
    for (const status of Object.keys(op.responses)) expect(html).toMatch(new RegExp(`<h3 id="response-${status}">|<th scope="row">${status}</th>`));
    expect(html).toContain('curl -X POST \\\n  &#34;$PARLEY_URL/v1/admin/domains&#34;');
    const remove = readFileSync(`${out}api-remove-domain.html`, 'utf8');
    expect(remove).toMatch(/<th scope="row"><code>id<\/code><\/th><td>path<\/td>/);
  });

  it('builds curl examples from the spec: credentials by security scheme, path parameters, headers and body', () => {
    const sample = JSON.parse(readFileSync(`${here}reference/sample-openapi.json`, 'utf8'));
    const [list, add, remove, conversations] = operationsOf(sample);
    expect(curlExample(sample, list)).toBe('curl \\\n  "$PARLEY_URL/v1/admin/domains" \\\n  -H "Authorization: Bearer $PARLEY_SECRET_KEY"');
    expect(curlExample(sample, add)).toBe(
      'curl -X POST \\\n  "$PARLEY_URL/v1/admin/domains" \\\n  -H "Authorization: Bearer $PARLEY_SECRET_KEY" \\\n  -H "Content-Type: application/json" \\\n  -d \'{"pattern":"string"}\'',
    );
    expect(curlExample(sample, remove)).toContain('"$PARLEY_URL/v1/admin/domains/00000000-0000-4000-8000-000000000000"');
    expect(curlExample(sample, conversations)).toBe(
      'curl \\\n  "$PARLEY_URL/v1/widget/conversations" \\\n  -H "Authorization: Bearer $PARLEY_WIDGET_TOKEN" \\\n  -H "X-Parley-Key: string"',
    );
    // $ref'd schemas are followed into their fields; problems are listed apart from answers.
    const page = endpointPages(sample).find((p: { name: string }) => p.name === 'api-list-domains');
    expect(page.body).toContain('<code>domains[].createdAt</code></th><td><code>string (date-time)</code>');
    expect(page.body).toMatch(/<h3 id="problems">[\s\S]*<th scope="row">401<\/th>/);
    expect(() => endpointPages({ ...sample, openapi: '3.0.3' })).toThrow(/needs an OpenAPI 3.1 document/);
  });
});

describe('the SDK reference', () => {
  const out = tmp();
  site({ out });
  const sdks = [
    { name: 'node', dir: 'sdk-node', module: () => import('@parley/node') },
    { name: 'browser', dir: 'sdk-browser', module: () => import('@parley/browser') },
  ];

  it('has a page per export of @parley/node and @parley/browser (their API reports and their runtime exports), linked from the package page', async () => {
    for (const s of sdks) {
      const report = readFileSync(`${here}../${s.dir}/etc/${s.name}.api.md`, 'utf8');
      const declared = [
        ...report.matchAll(/^export (?:declare )?(?:abstract )?(?:class|function|interface|type|const|enum|namespace) (\w+)/gm),
        ...report.matchAll(/^export \{ (\w+) \}$/gm),
      ].map((m) => m[1]!);
      const runtime = Object.keys(await s.module());
      const names = [...new Set([...declared, ...runtime])];
      expect(names.length).toBeGreaterThan(5);
      const pkgPage = readFileSync(`${out}sdk-${s.name}.html`, 'utf8');
      for (const n of names) {
        const page = `sdk-${s.name}-${n.toLowerCase().replace(/_/g, '-')}`;
        expect(readdirSync(out), `${s.name}: ${n}`).toContain(`${page}.html`);
        expect(pkgPage, `${s.name} links ${n}`).toContain(`href="${page}.html"`);
      }
    }
    const index = readFileSync(`${out}sdk.html`, 'utf8');
    for (const s of sdks) expect(index).toContain(`href="sdk-${s.name}.html"`);
  });

  it('documents members on their own pages with the signature, and re-exported protocol types with their fields', () => {
    const verify = readFileSync(`${out}sdk-node-verifywebhook.html`, 'utf8');
    expect(verify).toContain('verifyWebhook');
    expect(verify).toMatch(/<pre><code[^>]*>export declare function verifyWebhook/);
    // Long types are cut in summary tables (their page has them whole); descriptions never are.
    const parley = readFileSync(`${out}sdk-node-parley.html`, 'utf8');
    expect(parley).toMatch(/<p>\{ list: [^<]{100,170} …<\/p>/);
    expect(readFileSync(`${out}sdk-node-parley-apikeys.html`, 'utf8')).toContain('revoke: (id: string) =&gt; Promise&lt;unknown&gt;;');
    expect(readFileSync(`${out}sdk-node.html`, 'utf8')).toContain('RSA of at least 2048 bits signs RS256.');
    const message = readFileSync(`${out}sdk-browser-message.html`, 'utf8');
    expect(message).toContain('Re-exported from <code>@parley/protocol</code>');
    for (const field of Object.keys(protocol.MessageSchema.shape)) expect(message).toContain(`<code>${field}</code>`);
  });
});

describe('links and search', () => {
  const out = tmp();
  const built = site({ out });

  it('has no broken internal link or anchor in the built site (guides, problems, API and SDK pages)', () => {
    const { pages, checked, broken, external } = checkLinks(out);
    expect(broken).toEqual([]);
    expect(pages).toBeGreaterThan(built.endpoints + built.sdk);
    expect(checked).toBeGreaterThan(pages * 20);
    expect(external.map((e: { href: string }) => e.href)).toContain('https://www.standardwebhooks.com/');
  });

  it('finds a missing page and a missing anchor', () => {
    const broken = tmp();
    site({ out: broken });
    writeFileSync(
      `${broken}extra.html`,
      '<main><a href="no-such-page.html">x</a><a href="api.html#no-such-tag">y</a><a href="/docs/api.html#domains-and-keys">ok</a><a href="https://example.com/">out</a>' +
        // A problem's page is served at its type URI only, though its file ends in .html.
        '<a href="problems/forbidden">ok</a><a href="problems/forbidden.html">z</a></main>',
    );
    const result = checkLinks(broken);
    expect(result.broken).toEqual([
      { page: 'extra.html', href: 'no-such-page.html', reason: 'no such page' },
      { page: 'extra.html', href: 'api.html#no-such-tag', reason: 'no id="no-such-tag" on api.html' },
      { page: 'extra.html', href: 'problems/forbidden.html', reason: 'no such page' },
    ]);
    expect(result.external).toContainEqual({ page: 'extra.html', href: 'https://example.com/' });
  });

  it('links guides to the reference pages', () => {
    const links = (page: string) => [...readFileSync(`${out}${page}.html`, 'utf8').matchAll(/<main>[\s\S]*<\/main>/g)][0]![0];
    expect(links('admin-api')).toContain('href="api.html"');
    expect(links('sign-in-pro')).toContain('href="sdk-node-signusersession.html"');
    expect(links('webhooks')).toContain('href="sdk-node-verifywebhook.html"');
    expect(links('widget')).toContain('href="sdk-browser.html"');
  });

  it('ships a search index of every page that finds guides, endpoints and SDK exports', () => {
    const mini = MiniSearch.loadJSON(readFileSync(`${out}search-index.json`, 'utf8'), SEARCH_OPTIONS);
    expect(mini.documentCount).toBe(built.indexed);
    const top = (q: string, n = 3) =>
      mini
        .search(q, { ...(QUERY_OPTIONS as object), processTerm: queryTerm, boostDocument: boostGuides })
        .slice(0, n)
        .map((r) => r.id);
    expect(top('verifyWebhook', 1)).toEqual(['/docs/sdk-node-verifywebhook.html']);
    expect(top('allow a domain')).toContain('/docs/api-add-domain.html');
    expect(top('passkeys MFA')).toContain('/docs/team-and-sign-in.html');
    // A guide is found by words far into it: "signature" first comes some 5,000 characters into Webhooks.
    expect(top('webhook signature')).toContain('/docs/webhooks.html');
    expect(readFileSync(`${out}search.js`, 'utf8')).toContain('MiniSearch.loadJSON');
    for (const page of ['index', 'api-add-domain', 'sdk-node-parley'])
      expect(readFileSync(`${out}${page}.html`, 'utf8')).toContain('<script src="/docs/search.js" defer></script>');
  });
});
