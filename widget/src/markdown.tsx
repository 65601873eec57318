// A small, safe Markdown renderer producing Preact nodes: never HTML strings, so nothing in an answer
// can become markup. Links only for http, https and mailto, opened with noopener noreferrer.
import type { ComponentChildren, VNode } from 'preact';
import type { Citation } from '@parley/protocol';

export function safeHref(href: string): string | null {
  try {
    const u = new URL(href);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'mailto:' ? u.href : null;
  } catch {
    return null;
  }
}

export const link = (href: string, children: ComponentChildren, className?: string) => (
  <a href={href} target="_blank" rel="noopener noreferrer" class={className}>
    {children}
  </a>
);

// Code spans, bold, italic, links, bare citation markers [n]. No `_italic_`: it would mangle snake_case.
// A link's address may hold one level of parentheses (`javascript:alert(1)`, a Wikipedia page): cut at
// its first `)`, a refused link left the rest of the address shown as text.
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s][^*]*?)\*|\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)|\[(\d{1,2})\]/g;

export function inline(text: string, citations: readonly Citation[] = []): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index! > last) out.push(text.slice(last, m.index));
    if (m[1] !== undefined) out.push(<code>{m[1]}</code>);
    else if (m[2] !== undefined || m[3] !== undefined) out.push(<strong>{inline(m[2] ?? m[3]!, citations)}</strong>);
    else if (m[4] !== undefined) out.push(<em>{inline(m[4], citations)}</em>);
    else if (m[5] !== undefined) {
      const href = safeHref(m[6]!);
      // Without citations, and with no `]` in the text, link text cannot hold an anchor of its own.
      out.push(href ? link(href, inline(m[5])) : m[5]);
    } else {
      const c = citations[Number(m[7]) - 1];
      const href = c?.url ? safeHref(c.url) : null;
      out.push(href ? link(href, `[${m[7]}]`, 'cite') : m[0]);
    }
    last = m.index! + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Markdown({ text, citations = [] }: { text: string; citations?: readonly Citation[] }): VNode {
  const blocks: VNode[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (/^```/.test(line)) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]!); i++) body.push(lines[i]!);
      i++;
      blocks.push(
        <pre>
          <code>{body.join('\n')}</code>
        </pre>,
      );
    } else if (/^\s*([-*•]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: string[] = [];
      for (; i < lines.length && /^\s*([-*•]|\d+[.)])\s+/.test(lines[i]!); i++) items.push(lines[i]!.replace(/^\s*([-*•]|\d+[.)])\s+/, ''));
      const lis = items.map((it) => <li>{inline(it, citations)}</li>);
      blocks.push(ordered ? <ol>{lis}</ol> : <ul>{lis}</ul>);
    } else if (!line.trim()) i++;
    else {
      const para: string[] = [];
      for (; i < lines.length && lines[i]!.trim() && !/^```/.test(lines[i]!) && !/^\s*([-*•]|\d+[.)])\s+/.test(lines[i]!); i++)
        para.push(lines[i]!.replace(/^#{1,6}\s+/, ''));
      blocks.push(<p>{inline(para.join(' '), citations)}</p>);
    }
  }
  // dir="auto": a message in another script than the page (English in an Arabic panel) keeps its own direction.
  return (
    <div class="md" dir="auto">
      {blocks}
    </div>
  );
}
