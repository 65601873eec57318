// Renders the Markdown guides into static pages with one layout. Raw HTML in the sources is escaped,
// and every problem type in the protocol gets a page at /docs/problems/<slug>, so each `type` resolves;
// the build fails if a slug has no section in problems.md.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Marked } from 'marked';

const here = new URL('./', import.meta.url).pathname;
const out = `${here}dist/`;
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
});

const guides = readdirSync(`${here}guides`).filter((f) => f.endsWith('.md')).sort();
const titleOf = (md) => /^#\s+(.+)$/m.exec(md)?.[1] ?? 'Parley';
const nav = ['index', 'quick-start', 'widget', 'sign-in-pro', 'webhooks', 'admin-api', 'security', 'security-keys', 'problems'];

const problemSource = readFileSync(`${here}../protocol/src/problem.ts`, 'utf8');
const slugs = [...problemSource.matchAll(/^\s+'([a-z-]+)',$/gm)].map((m) => m[1]);
const problems = readFileSync(`${here}problems.md`, 'utf8');
const sections = Object.fromEntries(problems.split(/^## /m).slice(1).map((s) => [s.slice(0, s.indexOf('\n')).trim(), `## ${s}`]));
const missing = slugs.filter((s) => !sections[s]);
if (!slugs.length || missing.length) throw new Error(`problems.md has no section for: ${missing.join(', ') || 'any slug'}`);

const pages = [...guides.map((g) => [g.replace(/\.md$/, ''), readFileSync(`${here}guides/${g}`, 'utf8')]), ['problems', problems]];
const titles = Object.fromEntries(pages.map(([name, md]) => [name, titleOf(md)]));

function layout(name, title, md) {
  const links = nav
    .filter((n) => n !== 'index' && titles[n])
    .map((n) => `<a href="/docs/${n === 'index' ? '' : `${n}.html`}"${n === name ? ' aria-current="page"' : ''}>${esc(titles[n])}</a>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)} · Parley docs</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/docs/docs.css"></head><body><nav aria-label="Documentation"><a class="brand" href="/docs/"${name === 'index' ? ' aria-current="page"' : ''}>Parley docs</a>${links}<a class="console" href="/console/">Open the console</a></nav><main>${marked.parse(md)}</main></body></html>`;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}problems`, { recursive: true });
for (const [name, md] of pages) writeFileSync(`${out}${name}.html`, layout(name, titles[name], md));
for (const s of slugs) {
  writeFileSync(`${out}problems/${s}.html`, layout('problems', s, `# Problem: ${s}\n\n${sections[s].replace(/^## .+\n/, '')}\n\n[Every problem type](/docs/problems.html)\n`));
}
writeFileSync(`${out}docs.css`, readFileSync(`${here}docs.css`));
console.log(`docs: ${pages.length} pages, ${slugs.length} problem types`);
