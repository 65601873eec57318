// HTML reduced to structured text without executing or keeping anything active: a streaming parser
// collects visible text and headings; scripts, styles, navigation, embedded content, form controls
// and hidden elements (a common place for injected instructions) are dropped.
import { Parser } from 'htmlparser2';
import { DomainError } from '../errors.js';

/**
 * The deepest nesting read. The parser's work grows with the square of the depth (its stack of open
 * elements grows at the front: 80,000 unclosed <div>s took 1.3 s of the event loop, every tenant's requests
 * waiting), and no browser builds deeper than 512 (Chromium), so a deeper document is refused before that work.
 */
export const MAX_HTML_DEPTH = 1000;

const SKIP = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'nav',
  'footer',
  'svg',
  'math',
  'iframe',
  'frame',
  'object',
  'embed',
  'canvas',
  'head',
  'button',
  'select',
  'textarea',
  'option',
  'datalist',
  'dialog',
]);
const BLOCK = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'li',
  'ul',
  'ol',
  'table',
  'tr',
  'td',
  'th',
  'br',
  'hr',
  'blockquote',
  'pre',
  'dl',
  'dd',
  'dt',
  'header',
  'aside',
  'figure',
  'figcaption',
  'details',
  'summary',
  'form',
  'fieldset',
  'address',
]);
const HEADING = /^h([1-6])$/;

function hidden(attrs: Record<string, string>): boolean {
  if ('hidden' in attrs || attrs['aria-hidden'] === 'true') return true;
  const style = (attrs.style ?? '').toLowerCase().replace(/\s+/g, '');
  return /(^|;)(display:none|visibility:hidden)/.test(style);
}

/** Returns Markdown-like text: headings as `#` lines, blocks separated by blank lines. */
export function htmlToText(html: string): { text: string; title: string | null } {
  const lines: string[] = [];
  // One entry per open element, true when it starts a dropped subtree.
  const open: boolean[] = [];
  let skipDepth = 0;
  let current = '';
  let heading = 0;
  let title: string | null = null;
  let inTitle = false;
  let svgDepth = 0;
  const flush = () => {
    const t = current.replace(/\s+/g, ' ').trim();
    if (t) lines.push(heading ? `${'#'.repeat(heading)} ${t}` : t);
    current = '';
  };
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'svg' || name === 'math') svgDepth++;
        // The document title is the first <title> outside inline SVG/MathML.
        if (name === 'title' && !svgDepth && title === null) inTitle = true;
        const skip = SKIP.has(name) || hidden(attrs);
        open.push(skip);
        if (open.length > MAX_HTML_DEPTH) {
          throw new DomainError('invalid_input', `The HTML nests elements more than ${MAX_HTML_DEPTH} deep; no page a browser shows does.`, {
            errors: [{ path: '/content', message: `nests elements more than ${MAX_HTML_DEPTH} deep`, code: 'too_deep' }],
          });
        }
        if (skip) skipDepth++;
        if (skipDepth) return;
        const h = HEADING.exec(name);
        if (h) {
          flush();
          heading = Number(h[1]);
        } else if (BLOCK.has(name)) flush();
      },
      ontext(text) {
        if (inTitle) title = (title ?? '') + text;
        else if (!skipDepth) current += text;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (name === 'svg' || name === 'math') svgDepth = Math.max(0, svgDepth - 1);
        const skip = open.pop() ?? false;
        if (skip) {
          skipDepth--;
          return;
        }
        if (skipDepth) return;
        if (HEADING.test(name)) {
          flush();
          heading = 0;
        } else if (BLOCK.has(name)) flush();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  flush();
  const t = title as string | null;
  return { text: lines.join('\n\n'), title: t ? t.replace(/\s+/g, ' ').trim() || null : null };
}

const RAW_HTML = /<!--[\s\S]*?(?:-->|$)|<(script|style|noscript|template|iframe|svg|math|object|embed|textarea)\b[\s\S]*?(?:<\/\1\s*>|$)/gi;

const FENCE_OPEN = /^(?:```|~~~)/;
const FENCE_CLOSE = /^(?:```|~~~)[ \t]*$/;

/**
 * Markdown may embed raw HTML; its active and hidden parts are dropped outside code blocks. Read line by
 * line: one regex for "a fence and its close" rescanned the rest of the text from every fence that never
 * closed (quadratic). A fence that never closes is prose.
 */
export function stripMarkdownHtml(markdown: string): string {
  const out: string[] = [];
  let prose: string[] = [];
  let fence: string[] | null = null;
  const endProse = () => {
    if (prose.length) out.push(prose.join('\n').replace(RAW_HTML, ''));
    prose = [];
  };
  for (const line of markdown.split('\n')) {
    if (fence) {
      fence.push(line);
      if (FENCE_CLOSE.test(line)) {
        endProse();
        out.push(fence.join('\n'));
        fence = null;
      }
    } else if (FENCE_OPEN.test(line)) fence = [line];
    else prose.push(line);
  }
  if (fence) prose.push(...fence);
  endProse();
  return out.join('\n');
}
