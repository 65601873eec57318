// The script tag's target, kept tiny: a command queue, the launcher in a Shadow DOM, and the full
// widget loaded on first interaction or when the page is idle.
import { launcherText } from './launcher-text.js';
import { addStyles, onAccent, readOptions, type Boot, type WidgetOptions } from './options.js';

/** The content-hashed widget file, set at build time so the widget can be cached for a year. */
declare const __WIDGET_FILE__: string;

const w = window as unknown as { Parley?: Boot };
// Markup injected into the page (`<img name="currentScript" src="https://evil.example/">`) stands in
// for document.currentScript, and the widget would be fetched from its origin: only a script element is ours.
const script = document.currentScript;

if (script instanceof HTMLScriptElement && !w.Parley?.o) {
  // Keep a queue the host page may already have made (`window.Parley = window.Parley || …`).
  const queue: Boot = w.Parley ?? (((...args: unknown[]) => (queue.q = queue.q ?? []).push(args)) as Boot);
  const o: WidgetOptions = readOptions(script);
  const host = document.createElement('div');
  host.dataset.parley = '';
  const root = host.attachShadow({ mode: 'open' });
  const side = o.position === 'bottom-left' ? 'left' : 'right';
  const accent = o.accent ?? '#2f6feb';
  addStyles(
    root,
    `:host{all:initial!important;position:fixed!important;bottom:20px!important;${side}:20px!important;z-index:${o.zIndex ?? 2147483000}!important}` +
      `.l{all:unset;box-sizing:border-box;max-width:calc(100vw - 40px);overflow:hidden;white-space:nowrap;text-overflow:ellipsis;cursor:pointer;font:600 15px/1 system-ui,sans-serif;color:${onAccent(accent)};background:${accent};border-radius:24px;padding:14px 18px;box-shadow:0 4px 14px #0003}` +
      `.l:focus-visible{outline:3px solid #111;outline-offset:2px}`,
    o.nonce,
  );
  const b = document.createElement('button');
  b.className = 'l';
  // In the visitor's language until the widget knows whether the tenant set a text of its own.
  b.textContent = o.text ?? launcherText(o.locale, navigator.languages ?? [navigator.language]);
  b.setAttribute('aria-haspopup', 'dialog');
  b.setAttribute('aria-expanded', 'false');
  root.append(b);
  Object.assign(queue, { o, r: root, b });
  w.Parley = queue;
  (document.body ?? document.documentElement).append(host);

  let loaded = false;
  const load = () => {
    if (loaded) return;
    loaded = true;
    const s = document.createElement('script');
    // An inserted script runs async already.
    s.src = `${o.api}/${__WIDGET_FILE__}`;
    if (o.nonce) s.nonce = o.nonce;
    document.head.append(s);
  };
  // Always through the current window.Parley: the queue before the widget loads, the widget after.
  // Handler properties: the button is ours alone, and they are shorter than addEventListener.
  b.onclick = () => {
    w.Parley!('toggle');
    load();
  };
  b.onpointerenter = b.onfocus = load;
  if (o.open) {
    queue('open');
    load();
  }
  const idle = (window as { requestIdleCallback?: (cb: () => void, o: { timeout: number }) => void }).requestIdleCallback;
  if (idle) idle(load, { timeout: 4000 });
  else setTimeout(load, 2000);
}
