// report.html: the report as a self-contained page (no scripts, no external resources), so it opens
// offline as it was signed.
import { escapeHtml as esc } from '../http/html.js';
import type { Block, Report, Run } from './report.js';

const runs = (rs: Run[]) =>
  rs
    .map((r) => (r.style === 'code' ? `<code>${esc(r.text)}</code>` : r.style === 'strong' ? `<strong>${esc(r.text)}</strong>` : esc(r.text)))
    .join('');

function block(b: Block): string {
  switch (b.type) {
    case 'heading':
      return `<h2>${esc(b.text)}</h2>`;
    case 'paragraph':
      return `<p>${runs(b.runs)}</p>`;
    case 'list':
      return `<ul>\n${b.items.map((i) => `<li>${runs(i)}</li>`).join('\n')}\n</ul>`;
    case 'table': {
      const head = b.head.map((h) => `<th>${esc(h)}</th>`).join('');
      const rows = b.rows.map(
        (cells) =>
          `<tr>${cells.map((c) => `<td>${c.lines.map((l) => (c.code ? `<code>${esc(l)}</code>` : esc(l))).join('<br>')}</td>`).join('')}</tr>`,
      );
      return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
    }
  }
}

export function renderReportHtml(r: Report): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley evidence pack: ${esc(r.framework)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.4rem;vertical-align:top;text-align:left}code{font-size:13px}</style>
</head><body>
<h1>${esc(r.title)}</h1>
${r.blocks.map(block).join('\n')}
</body></html>
`;
}
