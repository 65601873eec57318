// Renders the Markdown guides into static pages with one layout. Raw HTML in the sources is escaped,
// and every problem type in the protocol gets a page at /docs/problems/<slug>, so each `type` resolves;
// the build fails if a slug has no section in problems.md. The roles table of the "Team and sign-in"
// guide is generated from the permission table in @parley/protocol (ROLE_CAPABILITIES), so the docs
// cannot drift from what the server enforces; the build fails if its placeholder is missing or a
// capability has no description here. Likewise the event catalog of the "Webhooks" guide is generated from
// WEBHOOK_EVENTS (each type, what it means, and the shape of its `data`, read from its zod schema).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Marked } from 'marked';

const here = new URL('./', import.meta.url).pathname;
const esc = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// Headings get ids so sections can be linked, problem slugs included.
const slugify = (s) => s.toLowerCase().replace(/<[^>]+>/g, '').replace(/[^a-z0-9\s-]/g, '').trim().replace(/\s+/g, '-');
const marked = new Marked({
  renderer: {
    html: ({ text }) => esc(text),
    heading({ tokens, depth, text }) {
      return `<h${depth} id="${slugify(text)}">${this.parser.parseInline(tokens)}</h${depth}>\n`;
    },
  },
  hooks: {
    // Wide tables scroll inside their own box on narrow screens instead of widening the page.
    postprocess: (html) => html.replace(/<table>/g, '<div class="table-wrap"><table>').replace(/<\/table>/g, '</table></div>'),
  },
});

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
    throw new Error(`docs-site/build.mjs CAPABILITY_TEXT is out of date: ${[...undescribed.map((c) => `no text for ${c}`), ...unknown.map((c) => `${c} is not a capability`)].join('; ')}`);
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
    ([type, e]) => `<tr><th scope="row"><code>${esc(type)}</code></th><td>${esc(e.description)}</td><td><code>${esc(shapeOf(e.data))}</code></td></tr>`,
  );
  return [
    `<div class="table-wrap"><table class="webhook-events"><caption>Every event Parley sends (generated from the catalog in @parley/protocol)</caption>`,
    `<thead><tr><th scope="col">Type</th><th scope="col">When</th><th scope="col"><code>data</code></th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`,
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
  return marked.parse(md);
}

const titleOf = (md) => /^#\s+(.+)$/m.exec(md)?.[1] ?? 'Parley';
const nav = ['index', 'quick-start', 'agent-inbox', 'widget', 'knowledge', 'sign-in-pro', 'webhooks', 'admin-api', 'team-and-sign-in', 'security', 'security-keys', 'problems'];

/** Builds every page into `out` (a folder path ending in `/`). `guides` defaults to the ones in guides/. */
export function buildSite({ protocol, out = `${here}dist/`, guides: given } = {}) {
  if (!protocol?.ROLE_CAPABILITIES) throw new Error('buildSite needs the @parley/protocol module');
  const guides =
    given ??
    readdirSync(`${here}guides`)
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((g) => [g.replace(/\.md$/, ''), readFileSync(`${here}guides/${g}`, 'utf8')]);
  if (!guides.some(([name]) => name === ROLES_GUIDE)) throw new Error(`guides/${ROLES_GUIDE}.md is missing`);

  const slugs = [...(protocol.PROBLEM_SLUGS ?? [])];
  const problems = readFileSync(`${here}problems.md`, 'utf8');
  const sections = Object.fromEntries(problems.split(/^## /m).slice(1).map((s) => [s.slice(0, s.indexOf('\n')).trim(), `## ${s}`]));
  const missing = slugs.filter((s) => !sections[s]);
  if (!slugs.length || missing.length) throw new Error(`problems.md has no section for: ${missing.join(', ') || 'any slug'}`);

  const pages = [...guides, ['problems', problems]];
  const titles = Object.fromEntries(pages.map(([name, md]) => [name, titleOf(md)]));

  const layout = (name, title, body) => {
    const links = nav
      .filter((n) => n !== 'index' && titles[n])
      .map((n) => `<a href="/docs/${n === 'index' ? '' : `${n}.html`}"${n === name ? ' aria-current="page"' : ''}>${esc(titles[n])}</a>`)
      .join('');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)} · Parley docs</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/docs/docs.css"></head><body><nav aria-label="Documentation"><a class="brand" href="/docs/"${name === 'index' ? ' aria-current="page"' : ''}>Parley docs</a>${links}<a class="console" href="/console/">Open the console</a></nav><main>${body}</main></body></html>`;
  };

  rmSync(out, { recursive: true, force: true });
  mkdirSync(`${out}problems`, { recursive: true });
  for (const [name, md] of pages) writeFileSync(`${out}${name}.html`, layout(name, titles[name], renderGuide(name, md, protocol)));
  for (const s of slugs) {
    const md = `# Problem: ${s}\n\n${sections[s].replace(/^## .+\n/, '')}\n\n[Every problem type](/docs/problems.html)\n`;
    writeFileSync(`${out}problems/${s}.html`, layout('problems', s, marked.parse(md)));
  }
  writeFileSync(`${out}docs.css`, readFileSync(`${here}docs.css`));
  return { pages: pages.length, problems: slugs.length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // The built protocol package (docs-site depends on it, so turbo builds protocol first).
  const protocol = await import('@parley/protocol');
  const { pages, problems } = buildSite({ protocol });
  console.log(`docs: ${pages} pages, ${problems} problem types, roles table from ${protocol.CAPABILITIES.length} capabilities × ${protocol.ROLES.length} roles`);
}
