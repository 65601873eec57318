// Bundled into each lazily loaded part in place of Preact and the string helpers (build.mjs): a part
// renders with the widget's own Preact, one instance, where hooks keep their state and the bidi vnode
// hook (bidi.ts) cleans the part's text too. The part dispatches itself on its own script element; the
// widget (lazy.ts), listening there, hands it these in return. Nothing goes through window.
import type { Deps } from './lazy.js';

export let jsx: Deps['jsx'];
export let Fragment: Deps['Fragment'];
export let useState: Deps['useState'];
export let useEffect: Deps['useEffect'];
export let useRef: Deps['useRef'];
export let fill: Deps['fill'];
export let fillNodes: Deps['fillNodes'];
export { jsx as jsxs };

export function register(part: object): void {
  const take = (d: Deps) => {
    ({ jsx, Fragment, useState, useEffect, useRef, fill, fillNodes } = d);
    return part;
  };
  document.currentScript!.dispatchEvent(new CustomEvent('parley', { detail: take }));
}
