// Renders the Markdown guides into static pages with one layout. Raw HTML in the sources is escaped,
// and the problem types page is generated from the protocol so every `type` URI resolves.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Marked } from 'marked';

const here = new URL('./', import.meta.url).pathname;
const out = `${here}dist/`;
const esc = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const marked = new Marked({ renderer: { html: ({ text }) => esc(text) } });

const guides = readdirSync(`${here}guides`).filter((f) => f.endsWith('.md')).sort();
const titleOf = (md) => /^#\s+(.+)$/m.exec(md)?.[1] ?? 'Parley';
const nav = ['index', 'quick-start', 'widget', 'sign-in-pro', 'webhooks', 'admin-api', 'security', 'security-keys', 'problems'];

const problemSource = readFileSync(`${here}../protocol/src/problem.ts`, 'utf8');
const slugs = [...problemSource.matchAll(/^\s+'([a-z-]+)',$/gm)].map((m) => m[1]);
const problems = `# Problems\n\nEvery error is \`application/problem+json\` (RFC 7807) with \`type\`, \`title\`, \`status\`, \`detail\`, \`instance\`, \`request_id\` and, for validation, \`errors[]\` with JSON Pointer paths. Quote the \`request_id\` to support.\n\n${slugs.map((s) => `## ${s}\n\n\`type\`: \`/docs/problems/${s}\``).join('\n\n')}\n`;

const pages = [...guides.map((g) => [g.replace(/\.md$/, ''), readFileSync(`${here}guides/${g}`, 'utf8')]), ['problems', problems]];
const titles = Object.fromEntries(pages.map(([name, md]) => [name, titleOf(md)]));

function layout(name, md) {
  const links = nav.filter((n) => titles[n]).map((n) => `<a href="/docs/${n === 'index' ? '' : `${n}.html`}"${n === name ? ' aria-current="page"' : ''}>${esc(titles[n])}</a>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(titles[name])} · Parley docs</title><link rel="stylesheet" href="/docs/docs.css"></head><body><nav aria-label="Documentation">${links}</nav><main>${marked.parse(md)}</main></body></html>`;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}problems`, { recursive: true });
for (const [name, md] of pages) writeFileSync(`${out}${name}.html`, layout(name, md));
// /docs/problems/<slug> resolves to the problems page at that section.
for (const s of slugs) writeFileSync(`${out}problems/${s}.html`, `<!doctype html><meta charset="utf-8"><title>${s}</title><a href="/docs/problems.html#${s}">${s}</a>`);
writeFileSync(`${out}docs.css`, readFileSync(`${here}docs.css`));
console.log(`docs: ${pages.length} pages`);
