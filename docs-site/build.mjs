// Renders the Markdown guides into static pages with one layout. Raw HTML in the sources is escaped,
// and every problem type in the protocol gets a page at /docs/problems/<slug>, so each `type` resolves;
// the build fails if a slug has no section in problems.md. The roles table of the "Team and sign-in"
// guide is generated from the permission table in @parley/protocol (ROLE_CAPABILITIES), so the docs
// cannot drift from what the server enforces; the build fails if its placeholder is missing or a
// capability has no description here. Likewise the event catalog of the "Webhooks" guide is generated from
// WEBHOOK_EVENTS (each type, what it means, and the shape of its `data`, read from its zod schema).
// The references are generated too: one page per API operation from the OpenAPI document
// (reference/openapi.mjs) and one per SDK export from the API Extractor models (reference/sdk.mjs). Every
// page is indexed for the search box (search.mjs), and check-links.mjs proves every internal link resolves.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Marked } from 'marked';
import { esc, slugify } from './reference/html.mjs';
import { byTag, endpointPages, operationPage, operationsOf } from './reference/openapi.mjs';
import { SDKS, sdkPages } from './reference/sdk.mjs';
import { searchDocument, searchIndex, searchScript } from './search.mjs';

const here = new URL('./', import.meta.url).pathname;
const tableWrap = (html) => html.replace(/<table>/g, '<div class="table-wrap"><table>').replace(/<\/table>/g, '</table></div>');
// Headings get ids so sections can be linked, problem slugs included.
const heading = function ({ tokens, depth, text }) {
  return `<h${depth} id="${slugify(text)}">${this.parser.parseInline(tokens)}</h${depth}>\n`;
};
// Guides are written by hand: raw HTML in them is shown, not run.
const marked = new Marked({
  renderer: { html: ({ text }) => esc(text), heading },
  // Wide tables scroll inside their own box on narrow screens instead of widening the page.
  hooks: { postprocess: tableWrap },
});
// SDK pages are API Documenter's output, whose tables are HTML: kept as generated (the text inside comes
// from our own doc comments, and API Documenter escapes it).
const generated = new Marked({ renderer: { heading }, hooks: { postprocess: tableWrap } });

/** The line in team-and-sign-in.md that the generated roles tables replace. */
export const ROLES_PLACEHOLDER = '<!-- roles-table -->';
const ROLES_GUIDE = 'team-and-sign-in';

/** What each capability lets its holder do, in the docs' words. Every capability needs one (the build checks). */
export const CAPABILITY_TEXT = {
  'domains:read': 'See the allowed embedding domains',
  'domains:write': 'Allow and remove embedding domains',
  'keys:read': 'See admin API keys (prefix, capabilities, last use; never a secret)',
  'keys:write': 'Create, rotate and revoke admin API keys, never with more capabilities than the creator holds',
  'audit:read': 'Read the audit log, its signed checkpoints and proofs',
  'knowledge:read': 'See knowledge sources and test retrieval',
  'knowledge:write': 'Add, resync and delete knowledge sources; embed pending chunks',
  'conversations:read': 'Read transcripts, redacted (each read is audited)',
  'conversations:write': 'Reply to visitors',
  'handoffs:read': 'See conversations waiting for a person',
  'handoffs:write': 'Take, assign and resolve handoffs',
  'identity:write': 'Change Sign-In Pro: mode, public keys, shared secrets',
  'settings:read': 'See widget settings, the AI provider, Sign-In Pro and SSO connections',
  'settings:write': 'Change widget settings, the handoff threshold, sensitive topics, budgets and the PII policy',
  'providers:write': 'Set or remove the AI provider key',
  'pii:read': 'Test the redaction policy (PII test)',
  'pii:reveal': 'Reveal one redacted value, giving a reason (audited)',
  'answers:write': 'Ask questions through POST /v1/answers (meant for back-end keys)',
  'members:read': 'See the team and the sign-in policy',
  'members:write': 'Invite people, change roles, disable and remove members, end their sessions',
  'signin:write': 'Change the sign-in policy (MFA, SSO enforcement, session timeouts) and the SSO connections',
  'webhooks:read': 'See webhook endpoints (never their secrets) and their delivery log',
  'webhooks:write': 'Add, change, delete and test webhook endpoints, rotate their secrets, replay deliveries',
  'privacy:export':
    'Export everything stored about one person (a data-subject request), personal values included, giving a reason (audited: the reason and the conversations, never the person)',
  'privacy:erase': 'Erase one person: their conversations, vault entries and profile (audited with counts)',
  'evidence:export':
    'Build signed evidence packs for auditors: audit proofs, policies in force (secrets removed), key history, self-checks (audited)',
  'tenant:export':
    'Export the whole workspace as a signed archive, secrets never included; restricted values only for an owner, signed in, with a reason (audited, counts only)',
  'actions:write':
    'Define the actions the assistant can take: endpoint, input schema, risk level (audited); a key holding it counts as an admin when approving',
  'approvals:decide': 'See proposed actions and approve or reject them (never one you asked for; audited)',
};

const check = '<span aria-hidden="true">✓</span><span class="visually-hidden">allowed</span>';
const dash = '<span aria-hidden="true">—</span><span class="visually-hidden">not allowed</span>';

/**
 * The roles tables, as HTML: one row per capability, one column per role (✓ or —), then each role's
 * description. `protocol` is the @parley/protocol module (or anything with the same four exports).
 */
export function rolesTable({ ROLES, ROLE_CAPABILITIES, ROLE_DESCRIPTIONS, CAPABILITIES }) {
  const undescribed = CAPABILITIES.filter((c) => !CAPABILITY_TEXT[c]);
  const unknown = Object.keys(CAPABILITY_TEXT).filter((c) => !CAPABILITIES.includes(c));
  if (undescribed.length || unknown.length) {
    throw new Error(
      `docs-site/build.mjs CAPABILITY_TEXT is out of date: ${[...undescribed.map((c) => `no text for ${c}`), ...unknown.map((c) => `${c} is not a capability`)].join('; ')}`,
    );
  }
  const head = `<tr><th scope="col">Capability</th><th scope="col">What it allows</th>${ROLES.map((r) => `<th scope="col">${esc(r)}</th>`).join('')}</tr>`;
  const rows = CAPABILITIES.map(
    (c) =>
      `<tr><th scope="row"><code>${esc(c)}</code></th><td>${esc(CAPABILITY_TEXT[c])}</td>${ROLES.map(
        (r) => `<td class="cell">${ROLE_CAPABILITIES[r].includes(c) ? check : dash}</td>`,
      ).join('')}</tr>`,
  ).join('\n');
  const roles = ROLES.map((r) => `<tr><th scope="row"><code>${esc(r)}</code></th><td>${esc(ROLE_DESCRIPTIONS[r])}</td></tr>`).join('\n');
  return [
    `<div class="table-wrap"><table class="roles"><caption>What each role can do (generated from the permission table the server enforces)</caption>`,
    `<thead>${head}</thead><tbody>\n${rows}\n</tbody></table></div>`,
    `<div class="table-wrap"><table class="role-descriptions"><caption>The roles</caption><thead><tr><th scope="col">Role</th><th scope="col">Who it is for</th></tr></thead><tbody>\n${roles}\n</tbody></table></div>`,
  ].join('\n');
}

/** The line in webhooks.md that the generated event catalog replaces. */
export const EVENTS_PLACEHOLDER = '<!-- webhook-events -->';
const EVENTS_GUIDE = 'webhooks';

/** A zod schema as a short TypeScript-like type, e.g. `{ id: string; reason?: string }`. */
export function shapeOf(schema) {
  const type = schema.type;
  switch (type) {
    case 'optional':
      return shapeOf(schema.unwrap());
    case 'nullable':
      return `${shapeOf(schema.unwrap())} | null`;
    case 'object':
      return `{ ${Object.entries(schema.shape)
        .map(([k, v]) => `${k}${v.type === 'optional' ? '?' : ''}: ${shapeOf(v)}`)
        .join('; ')} }`;
    case 'array':
      return `${shapeOf(schema.element)}[]`;
    case 'enum':
      return schema.options.map((o) => JSON.stringify(o)).join(' | ');
    case 'pipe':
      return shapeOf(schema.in);
    default:
      return type; // string, number, boolean, unknown, …
  }
}

/** The event catalog, as HTML: one row per type with its meaning and the shape of its `data`. */
export function eventsTable({ WEBHOOK_EVENTS }) {
  const rows = Object.entries(WEBHOOK_EVENTS).map(
    ([type, e]) =>
      `<tr><th scope="row"><code>${esc(type)}</code></th><td>${esc(e.description)}</td><td><code>${esc(shapeOf(e.data))}</code></td></tr>`,
  );
  return [
    `<div class="table-wrap"><table class="webhook-events"><caption>Every event Parley sends (generated from the catalog in @parley/protocol)</caption>`,
    `<thead><tr><th scope="col">Type</th><th scope="col">When</th><th scope="col"><code>data</code></th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`,
  ].join('\n');
}

/** The lines in data-lifecycle.md that the generated classification and retention tables replace. */
export const CLASSES_PLACEHOLDER = '<!-- classification-table -->';
export const RETENTION_PLACEHOLDER = '<!-- retention-table -->';
const LIFECYCLE_GUIDE = 'data-lifecycle';

/**
 * The classification tables, as HTML, from the registry in @parley/protocol (the one the server's catalog
 * test holds to the database): the classes with their protections, then every table's columns by class.
 */
export function classificationTable({ DATA_CLASSES, DATA_CLASS_TEXT, CLASSIFICATION, SHOWN_PERSONAL_FIELDS }) {
  const classes = DATA_CLASSES.map(
    (c) =>
      `<tr><th scope="row" id="class-${esc(c)}"><code>${esc(c)}</code></th><td>${esc(DATA_CLASS_TEXT[c].meaning)}</td><td>${esc(DATA_CLASS_TEXT[c].protection)}</td></tr>`,
  ).join('\n');
  const tables = Object.keys(CLASSIFICATION)
    .sort()
    .map(
      (t) =>
        `<tr><th scope="row"><code>${esc(t)}</code></th>${DATA_CLASSES.map(
          (c) => `<td>${(CLASSIFICATION[t][c] ?? []).map((col) => `<code>${esc(col)}</code>`).join(', ')}</td>`,
        ).join('')}</tr>`,
    )
    .join('\n');
  const shown = SHOWN_PERSONAL_FIELDS.map(
    (f) =>
      `<tr><th scope="row">${f.columns.map((c) => `<code>${esc(f.table)}.${esc(c)}</code>`).join(', ')}</th><td>${esc(f.to)}</td><td>${esc(f.why)}</td></tr>`,
  ).join('\n');
  return [
    `<div class="table-wrap"><table class="data-classes"><caption>The classes (generated from the classification registry)</caption>`,
    `<thead><tr><th scope="col">Class</th><th scope="col">What it holds</th><th scope="col">How it is protected</th></tr></thead><tbody>\n${classes}\n</tbody></table></div>`,
    `<div class="table-wrap"><table class="data-fields"><caption>Every stored field by class (generated from the registry; a server test fails when a column of the database is missing here)</caption>`,
    `<thead><tr><th scope="col">Table</th>${DATA_CLASSES.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead><tbody>\n${tables}\n</tbody></table></div>`,
    `<div class="table-wrap"><table class="shown-personal"><caption>The personal fields admin views show without a reveal (generated from the registry); every other personal value is withheld until revealed with a reason</caption>`,
    `<thead><tr><th scope="col">Field</th><th scope="col">Shown to</th><th scope="col">Why</th></tr></thead><tbody>\n${shown}\n</tbody></table></div>`,
  ].join('\n');
}

/** The retention tables, as HTML: the windows a tenant can set (with defaults and bounds), then the fixed ones. */
export function retentionTable({ RETENTION_WINDOWS, FIXED_RETENTION }) {
  const windows = RETENTION_WINDOWS.map(
    (w) =>
      `<tr><th scope="row"><code>retention.${esc(w.key)}</code></th><td>${esc(w.what)}</td><td><code>${esc(w.dataClass)}</code></td><td>${w.defaultDays} days</td><td>${w.minDays}–${w.maxDays} days</td></tr>`,
  ).join('\n');
  const fixed = FIXED_RETENTION.map((f) => `<tr><th scope="row">${esc(f.what)}</th><td>${esc(f.when)}</td></tr>`).join('\n');
  return [
    `<div class="table-wrap"><table class="retention"><caption>Retention windows a tenant can set (generated from @parley/protocol)</caption>`,
    `<thead><tr><th scope="col">Setting</th><th scope="col">What is deleted</th><th scope="col">Class</th><th scope="col">Default</th><th scope="col">Allowed</th></tr></thead><tbody>\n${windows}\n</tbody></table></div>`,
    `<div class="table-wrap"><table class="retention-fixed"><caption>Fixed retention</caption>`,
    `<thead><tr><th scope="col">Data</th><th scope="col">Deleted</th></tr></thead><tbody>\n${fixed}\n</tbody></table></div>`,
  ].join('\n');
}

/** Markdown with one generated block where its placeholder line stands (exactly once, or the build fails). */
function withGenerated(name, md, placeholder, html) {
  const parts = md.split(new RegExp(`^${placeholder}[ \\t]*$`, 'm'));
  if (parts.length !== 2) throw new Error(`guides/${name}.md must contain the line ${placeholder} exactly once (found ${parts.length - 1})`);
  return `${marked.parse(parts[0])}${html()}\n${marked.parse(parts[1])}`;
}

/** A guide's Markdown to HTML; the roles and webhooks guides get their generated tables where the placeholder stands. */
export function renderGuide(name, md, protocol) {
  if (name === ROLES_GUIDE) return withGenerated(name, md, ROLES_PLACEHOLDER, () => rolesTable(protocol));
  if (name === EVENTS_GUIDE) return withGenerated(name, md, EVENTS_PLACEHOLDER, () => eventsTable(protocol));
  if (name === LIFECYCLE_GUIDE) {
    // Two blocks: the retention table sits inside the part after the classification table.
    const parts = md.split(new RegExp(`^${CLASSES_PLACEHOLDER}[ \\t]*$`, 'm'));
    if (parts.length !== 2)
      throw new Error(`guides/${name}.md must contain the line ${CLASSES_PLACEHOLDER} exactly once (found ${parts.length - 1})`);
    return `${marked.parse(parts[0])}${classificationTable(protocol)}\n${withGenerated(name, parts[1], RETENTION_PLACEHOLDER, () => retentionTable(protocol))}`;
  }
  return marked.parse(md);
}

const titleOf = (md) => /^#\s+(.+)$/m.exec(md)?.[1] ?? 'Parley';
const nav = [
  'index',
  'quick-start',
  'agent-inbox',
  'widget',
  'browser-sdk',
  'knowledge',
  'sign-in-pro',
  'webhooks',
  'actions',
  'admin-api',
  'team-and-sign-in',
  'security',
  'security-keys',
  'data-lifecycle',
  'evidence',
  'operating',
  'observability',
];
const href = (name) => `/docs/${name === 'index' ? '' : `${name}.html`}`;
const current = (on) => (on ? ' aria-current="page"' : '');

const SEARCH_BODY = `<h1 id="search">Search</h1>\n<div class="search-page"><p class="search-status" role="status"></p><ul class="search-results"></ul></div>\n<noscript><p>Search needs JavaScript. Every page is listed in the navigation, the <a href="api.html">API reference</a> and the <a href="sdk.html">SDK reference</a>.</p></noscript>`;

/**
 * Builds every page into `out` (a folder path ending in `/`). `guides` defaults to the ones in guides/;
 * `openapi` is the OpenAPI 3.1 document; `sdk` the SDK pages (reference/sdk.mjs, made from the built SDKs).
 */
export function buildSite({ protocol, openapi, sdk = sdkPages({ protocol }), out = `${here}dist/`, guides: given } = {}) {
  if (!protocol?.ROLE_CAPABILITIES) throw new Error('buildSite needs the @parley/protocol module');
  if (!openapi) throw new Error('buildSite needs the OpenAPI document');
  const guides =
    given ??
    readdirSync(`${here}guides`)
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((g) => [g.replace(/\.md$/, ''), readFileSync(`${here}guides/${g}`, 'utf8')]);
  if (!guides.some(([name]) => name === ROLES_GUIDE)) throw new Error(`guides/${ROLES_GUIDE}.md is missing`);

  const slugs = [...(protocol.PROBLEM_SLUGS ?? [])];
  const problems = readFileSync(`${here}problems.md`, 'utf8');
  const sections = Object.fromEntries(
    problems
      .split(/^## /m)
      .slice(1)
      .map((s) => [s.slice(0, s.indexOf('\n')).trim(), `## ${s}`]),
  );
  const missing = slugs.filter((s) => !sections[s]);
  if (!slugs.length || missing.length) throw new Error(`problems.md has no section for: ${missing.join(', ') || 'any slug'}`);

  const pages = [...guides, ['problems', problems]];
  const titles = Object.fromEntries(pages.map(([name, md]) => [name, titleOf(md)]));
  const endpoints = endpointPages(openapi);
  const operations = operationsOf(openapi);
  const groups = byTag(openapi, operations);

  /** The navigation: guides, then the references; inside a reference, its own pages one level deeper. */
  const navigation = (name, page) => {
    const link = (n, text, cls = '') => `<a href="${href(n)}"${cls ? ` class="${cls}"` : ''}${current(n === name)}>${esc(text)}</a>`;
    const guideLinks = nav
      .filter((n) => n !== 'index' && titles[n])
      .map((n) => link(n, titles[n]))
      .join('');
    let apiSub = '';
    if (page?.section === 'API') {
      apiSub = groups
        .map(({ tag, ops }) => {
          const open = ops.some((o) => operationPage(o) === name);
          const opLinks = open ? ops.map((o) => link(operationPage(o), o.summary ?? o.operationId, 'sub2')).join('') : '';
          return `<a class="sub" href="/docs/api.html#${slugify(tag)}">${esc(tag)}</a>${opLinks}`;
        })
        .join('');
    }
    const sdkLinks = SDKS.map((s) => {
      const pkgPage = `sdk-${s.name}`;
      const inside = page?.section === 'SDK' && (name === pkgPage || name.startsWith(`${pkgPage}-`));
      // Inside a package: its exports (API Documenter's pages one dot below the package).
      const exports = inside
        ? sdk
            .filter((p) => p.file.split('.').length === 3 && p.file.startsWith(`${s.name}.`))
            .map((p) => link(p.name, p.title.replace(/ (class|interface|function|type|variable|enum|namespace)$/, ''), 'sub'))
            .join('')
        : '';
      return `${link(pkgPage, s.pkg)}${exports}`;
    }).join('');
    return [
      `<nav aria-label="Documentation"><a class="brand" href="/docs/"${current(name === 'index')}>Parley docs</a>`,
      `<form class="search" role="search" action="/docs/search.html"><label for="search-q" class="visually-hidden">Search the docs</label><input id="search-q" type="search" name="q" placeholder="Search the docs" autocomplete="off"><p class="search-status visually-hidden" role="status"></p><ul class="search-results" hidden></ul></form>`,
      // On a phone the links fold under "Contents" (nav.js, run before the page paints), so the article is
      // on the first screen; open where the script does not run, and always open beside a wide article.
      `<details class="contents" open><summary>Contents</summary>`,
      `<p class="nav-heading">Guides</p>${guideLinks}`,
      `<p class="nav-heading">Reference</p>${link('api', 'API reference')}${apiSub}${link('sdk', 'SDK reference')}${sdkLinks}${link('problems', titles.problems)}`,
      `<a class="console" href="/console/">Open the console</a></details><script src="/docs/nav.js"></script></nav>`,
    ].join('');
  };

  const layout = (name, title, body, page) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)} · Parley docs</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/docs/docs.css"><script src="/docs/search.js" defer></script></head><body>${navigation(name, page)}<main>${body}</main></body></html>`;

  rmSync(out, { recursive: true, force: true });
  mkdirSync(`${out}problems`, { recursive: true });
  const documents = [];
  const write = (file, name, title, body, page = { section: 'Guide' }) => {
    writeFileSync(`${out}${file}`, layout(name, title, body, page));
    if (name !== 'search')
      documents.push(searchDocument(href(name === 'index' && file !== 'index.html' ? file.replace(/\.html$/, '') : name), title, page.section, body));
  };
  for (const [name, md] of pages)
    write(`${name}.html`, name, titles[name], renderGuide(name, md, protocol), { section: name === 'problems' ? 'Problems' : 'Guide' });
  for (const s of slugs) {
    const md = `# Problem: ${s}\n\n${sections[s].replace(/^## .+\n/, '')}\n\n[Every problem type](/docs/problems.html)\n`;
    writeFileSync(`${out}problems/${s}.html`, layout('problems', s, marked.parse(md), { section: 'Problems' }));
  }
  for (const p of endpoints) write(`${p.name}.html`, p.name, p.title, p.body, p);
  for (const p of sdk) write(`${p.name}.html`, p.name, p.title, generated.parse(p.md), p);
  writeFileSync(`${out}search.html`, layout('search', 'Search', SEARCH_BODY, { section: 'Search' }));
  writeFileSync(`${out}search-index.json`, searchIndex(documents));
  writeFileSync(`${out}search.js`, searchScript());
  writeFileSync(`${out}docs.css`, readFileSync(`${here}docs.css`));
  writeFileSync(`${out}nav.js`, readFileSync(`${here}nav.js`));
  return { pages: pages.length, problems: slugs.length, endpoints: endpoints.length - 1, sdk: sdk.length - 1, indexed: documents.length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // The built protocol and SDK packages (docs-site depends on them, so turbo builds them first).
  const protocol = await import('@parley/protocol');
  const { openApiDocument } = await import('@parley/protocol/contract');
  const { pages, problems, endpoints, sdk, indexed } = buildSite({ protocol, openapi: openApiDocument() });
  console.log(
    `docs: ${pages} pages, ${problems} problem types, ${endpoints} endpoint pages, ${sdk} SDK pages (${indexed} indexed for search); roles table from ${protocol.CAPABILITIES.length} capabilities × ${protocol.ROLES.length} roles`,
  );
}
