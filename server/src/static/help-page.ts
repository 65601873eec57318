// The demo knowledge's Markdown as the demo shop's help page, so a citation in a demo answer leads to its
// section: headings get the anchors the knowledge chunker gives them, and the rest is paragraphs.
import { escapeHtml as esc } from '../http/html.js';
import { markdownHeading, slug } from '../knowledge/chunk.js';

export function helpPage(markdown: string): string {
  const blocks: string[] = [];
  let title = 'Help';
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push(`<p>${esc(para.join(' '))}</p>`);
    para = [];
  };
  for (const line of markdown.split(/\r?\n/)) {
    const h = markdownHeading(line);
    if (h) {
      flush();
      if (h.level === 1 && title === 'Help') title = h.text;
      blocks.push(`<h${h.level} id="${esc(slug(h.text))}">${esc(h.text)}</h${h.level}>`);
    } else if (line.trim()) para.push(line.trim());
    else flush();
  }
  flush();
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${esc(title)}</title><link rel="stylesheet" href="/demo/site.css"></head><body>` +
    '<header><strong>Northwind Outfitters</strong> · <a href="/demo/#help">Help centre</a></header>' +
    `<main>${blocks.join('\n')}</main></body></html>`
  );
}
