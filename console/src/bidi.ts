// Bidirectional formatting controls (embeddings, overrides, isolates, marks) let text reorder what is
// displayed around it: "invoice\u202Efdp.exe" shows as "invoiceexe.pdf". The console shows text written
// by visitors, crawled pages and other keys, so every string Preact renders shows each control as a
// visible escape such as ⟨U+202E⟩ instead: an agent sees that the text tried something. One place, a
// vnode hook, covers each element's text children and title and each text node, whatever view made them.
// Form values are left alone: editing a setting must not rewrite it. What the browser formats itself (a
// date or a size in the viewer's language) carries Intl's own marks, placed so that it reads right in an
// Arabic locale: `formatted` vouches for such a string, and it is shown as is.
import { options, type VNode } from 'preact';

const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** The text with each bidi control replaced by a visible escape, e.g. ⟨U+202E⟩. */
export const showBidi = (s: string): string => s.replace(BIDI, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);

const own = new Set<string>();
const HAS_BIDI = new RegExp(BIDI.source);

/** Marks s as the browser's own formatting (Intl's output, never text a person wrote), and returns it. */
export function formatted(s: string): string {
  if (HAS_BIDI.test(s)) {
    if (own.size >= 10_000) own.clear(); // a long session formats many dates
    own.add(s);
  }
  return s;
}

const shown = (s: string): string => (own.has(s) ? s : showBidi(s));
const clean = (c: unknown): unknown => (typeof c === 'string' ? shown(c) : Array.isArray(c) ? c.map(clean) : c);

const previous = options.vnode;
options.vnode = (v: VNode) => {
  const p = v.props as unknown;
  // A text node's props are its string; an element's text is in its children and title.
  if (typeof p === 'string') (v as { props: unknown }).props = shown(p);
  else if (typeof v.type === 'string' && p) {
    const props = p as Record<string, unknown>;
    if (props.children != null) props.children = clean(props.children);
    if (typeof props.title === 'string') props.title = shown(props.title);
    if (typeof props['aria-label'] === 'string') props['aria-label'] = shown(props['aria-label']);
  }
  previous?.(v);
};
