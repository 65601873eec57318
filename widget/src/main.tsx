// The full widget: takes over the loader's shadow root and queue, replays early commands, and keeps
// itself attached when a single-page app replaces the page's body.
import { createClient, ParleyError } from '@parley/browser';
import { render } from 'preact';
import { App, type Controller } from './app.js';
import { strings } from './i18n.js';
import type { Boot } from './options.js';
import { CSS } from './styles.js';

type Handler = (data?: unknown) => void;
interface IdentifyArg {
  token?: string;
  getToken?: () => Promise<string>;
}

const w = window as unknown as { Parley?: Boot };
const boot = w.Parley;

if (boot?.o && boot.r && !(boot as { ready?: boolean }).ready) {
  const o = boot.o;
  const root = boot.r;
  const host = root.host as HTMLElement;
  const launcher = boot.b!;
  const { lang, dir, t } = strings(o.locale);
  const client = createClient({ apiBase: o.api, publishableKey: o.key });
  const handlers = new Map<string, Set<Handler>>();

  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  const vars = new CSSStyleSheet();
  const setVars = (vh: number) =>
    vars.replaceSync(`:host{--accent:${o.accent ?? '#2f6feb'};--z:${o.zIndex ?? 2147483000};--vh:${vh}px}`);
  setVars(window.visualViewport?.height ?? innerHeight);
  root.adoptedStyleSheets = [sheet, vars];
  host.dataset.side = o.position === 'bottom-left' ? 'left' : 'right';
  host.dataset.theme = o.theme ?? 'auto';
  host.lang = lang;
  launcher.className = 'l';
  launcher.textContent = o.text ?? t.launcher;
  launcher.dir = dir;
  // The on-screen keyboard shrinks the visual viewport: keep the composer above it.
  window.visualViewport?.addEventListener('resize', () => setVars(window.visualViewport!.height));

  const mount = document.createElement('div');
  root.append(mount);
  const ctl: Controller = {
    open: false,
    verified: false,
    identity: 0,
    setOpen(open) {
      if (ctl.open === open) return;
      ctl.open = open;
      launcher.setAttribute('aria-expanded', String(open));
      ctl.emit(open ? 'open' : 'close');
      draw();
    },
    emit(event, data) {
      for (const h of handlers.get(event) ?? []) h(data);
    },
  };
  const draw = () => render(<App client={client} t={t} dir={dir} ctl={{ ...ctl }} launcher={launcher} />, mount);

  let getToken: (() => Promise<string>) | undefined;
  let identifying: Promise<void> = Promise.resolve();
  async function identify(arg: IdentifyArg, retried = false): Promise<void> {
    if (arg.getToken) getToken = arg.getToken;
    const token = arg.token ?? (await getToken?.());
    if (!token) return;
    try {
      const visitor = await client.identify(token);
      if (client.stored?.conversationId) client.remember({ conversationId: undefined });
      ctl.verified = visitor.verified;
      ctl.identity++;
      ctl.emit('identify', visitor);
      draw();
    } catch (err) {
      // An expired or spent token: ask the host for a fresh one, once.
      if (!retried && getToken && err instanceof ParleyError && err.status === 401) return identify({ getToken }, true);
      ctl.emit('error', err);
    }
  }

  const commands: Record<string, (...a: unknown[]) => void> = {
    open: () => ctl.setOpen(true),
    close: () => ctl.setOpen(false),
    toggle: () => ctl.setOpen(!ctl.open),
    // One at a time, in the order the host called them.
    identify: (arg) => void (identifying = identifying.then(() => identify((arg ?? {}) as IdentifyArg))),
    on: (event, fn) => {
      if (typeof event === 'string' && typeof fn === 'function') (handlers.get(event) ?? handlers.set(event, new Set()).get(event)!).add(fn as Handler);
    },
    shutdown: () => {
      render(null, mount);
      observer.disconnect();
      host.remove();
      client.forget();
    },
  };
  const run = (...args: unknown[]) => {
    const [name, ...rest] = args;
    const fn = typeof name === 'string' ? commands[name] : undefined;
    if (fn) fn(...rest);
  };

  const queued = boot.q ?? [];
  const api = Object.assign((...args: unknown[]) => run(...args), { o, r: root, b: launcher, ready: true }) as Boot;
  w.Parley = api;
  // The launcher's clicks reach us through the loader as 'toggle' commands; replay the early ones.
  for (const args of queued) run(...args);
  draw();

  // A page whose origin is not allowed gets no widget. The browser hides the refusal itself (CORS
  // answers allowed origins only), so any failed first contact takes the launcher away until the
  // service answers; an explicit 401/403 removes the widget for good.
  let attempt = 0;
  const check = () =>
    client
      .config()
      .then(() => {
        if (!launcher.isConnected) root.prepend(launcher);
      })
      .catch((err: unknown) => {
        if (err instanceof ParleyError && (err.status === 401 || err.status === 403)) return commands.shutdown!();
        launcher.remove();
        if (ctl.open) ctl.setOpen(false);
        setTimeout(check, Math.min(60_000, 5000 * 2 ** attempt++));
      });
  check();
  addEventListener('online', () => void check());

  // A single-page app may replace <body>: put the widget back.
  const observer = new MutationObserver(() => {
    if (!host.isConnected) (document.body ?? document.documentElement).append(host);
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
}
