// HTML reduced to structured text without executing or keeping anything active: a streaming parser
// collects visible text and headings; scripts, styles, navigation and embedded content are dropped.
import { Parser } from 'htmlparser2';

const SKIP = new Set(['script', 'style', 'noscript', 'template', 'nav', 'footer', 'svg', 'iframe', 'object', 'embed', 'canvas', 'head', 'form', 'button', 'select']);
const BLOCK = new Set(['p', 'div', 'section', 'article', 'main', 'li', 'ul', 'ol', 'table', 'tr', 'br', 'blockquote', 'pre', 'dd', 'dt', 'header', 'aside', 'figure', 'figcaption']);
const HEADING = /^h([1-6])$/;

/** Returns Markdown-like text: headings as `#` lines, blocks separated by blank lines. */
export function htmlToText(html: string): { text: string; title: string | null } {
  const lines: string[] = [];
  let current = '';
  let skipDepth = 0;
  let heading = 0;
  let title: string | null = null;
  let inTitle = false;
  const flush = () => {
    const t = current.replace(/\s+/g, ' ').trim();
    if (t) lines.push(heading ? `${'#'.repeat(heading)} ${t}` : t);
    current = '';
  };
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'title') inTitle = true;
        if (SKIP.has(name)) skipDepth++;
        if (skipDepth) return;
        const h = HEADING.exec(name);
        if (h) {
          flush();
          heading = Number(h[1]);
        } else if (BLOCK.has(name)) flush();
      },
      ontext(text) {
        if (inTitle) title = (title ?? '') + text;
        if (!skipDepth) current += text;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (SKIP.has(name)) {
          skipDepth = Math.max(0, skipDepth - 1);
          return;
        }
        if (skipDepth) return;
        if (HEADING.test(name)) {
          flush();
          heading = 0;
        } else if (BLOCK.has(name)) flush();
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  flush();
  const t = title as string | null;
  return { text: lines.join('\n\n'), title: t ? t.replace(/\s+/g, ' ').trim() || null : null };
}
