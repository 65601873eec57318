// The parts a conversation may never need: an action offered (actions.tsx), the rating once an agent
// resolves it (rating.tsx), the away card outside business hours (away.tsx). Each is its own
// content-hashed file, fetched the first time a conversation needs it, so a page view and an ordinary
// chat never download them. A part is a script like the widget itself (same origin, same nonce, cached
// for good); it hands itself over on its own script element (part.ts) and renders with this Preact.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Fragment, jsx } from 'preact/jsx-runtime';
import { fill, fillNodes } from './i18n.js';
import { PARTS, type Parts } from './parts.js';

/** What a part takes from the widget (part.ts stands in for these modules in a part's file). */
const DEPS = { jsx, Fragment, useState, useEffect, useRef, fill, fillNodes };
export type Deps = typeof DEPS;
type Part = Parts[keyof Parts];

let home: { api: string; nonce?: string | undefined; style(css: string): void } | undefined;
/** Where parts are fetched from, with the page's nonce, and where their styles go (widget.tsx). */
export const partsHome = (h: typeof home) => void (home = h);

const loaded: Partial<Parts> = {};
const loading: Partial<Record<keyof Parts, Promise<unknown>>> = {};
const styled = new Set<string>();

const script = (file: string) =>
  new Promise<Part>((resolve, reject) => {
    let part: Part | undefined;
    const s = document.createElement('script');
    s.src = `${home?.api}/${file}`;
    if (home?.nonce) s.nonce = home.nonce;
    // Dispatched by the part as it runs, before its load event: nothing is left on window or on the element.
    s.addEventListener('parley', (e) => void (part = (e as CustomEvent<(d: Deps) => Part>).detail(DEPS)));
    s.onload = s.onerror = () => {
      s.remove();
      part ? resolve(part) : reject(new Error(`Parley: ${file} did not load.`));
    };
    document.head.append(s);
  });

const load = (name: keyof Parts) =>
  (loading[name] ??= (() => {
    const p = PARTS[name] as string | (() => Promise<Part>);
    return typeof p === 'string' ? script(p) : p();
  })().then(
    (part) => {
      // Each stylesheet once (the cards' is in every part), in order, before the part first renders.
      for (const css of part.css) {
        if (styled.has(css)) continue;
        styled.add(css);
        home?.style(css);
      }
      (loaded as Record<string, Part>)[name] = part;
    },
    (err: unknown) => {
      // Unreachable now (offline, or a release replaced it): a later render tries again, not at once.
      setTimeout(() => delete loading[name], 5000);
      throw err;
    },
  ));

/** The part once loaded; `needed` starts loading it (and tries again on a later render after a failure). */
export function usePart<K extends keyof Parts>(name: K, needed: boolean): Parts[K] | undefined {
  const [, redraw] = useState(0);
  useEffect(() => {
    if (needed && !loaded[name])
      load(name).then(
        () => redraw((n) => n + 1),
        () => {},
      );
  });
  return loaded[name];
}
