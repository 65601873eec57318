// Bidirectional formatting controls (embeddings, overrides, isolates, marks) let text reorder what is
// displayed around it: "invoice\u202Efdp.exe" shows as "invoiceexe.pdf". No text the widget shows needs
// them, so they are removed from every string Preact renders, in one place: a vnode hook sees each
// element's text children and each text node, whichever component made them.
import { options, type VNode } from 'preact';

const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** The text without bidi controls. */
export const noBidi = (s: string): string => s.replace(BIDI, '');

const clean = (c: unknown): unknown => (typeof c === 'string' ? noBidi(c) : Array.isArray(c) ? c.map(clean) : c);

const previous = options.vnode;
options.vnode = (v: VNode) => {
  const p = v.props as unknown;
  // A text node's props are its string; an element's text is in its children and title.
  if (typeof p === 'string') (v as { props: unknown }).props = noBidi(p);
  else if (typeof v.type === 'string' && p) {
    const props = p as Record<string, unknown>;
    if (props.children != null) props.children = clean(props.children);
    if (typeof props.title === 'string') props.title = noBidi(props.title);
  }
  previous?.(v);
};
