// The full widget: takes over the loader's shadow root and queue, replays early commands, applies the
// tenant's settings, and keeps itself attached when a single-page app replaces the page's body.
import { createClient, ParleyError, type ClientOptions, type ParleyClient, type WidgetSettings } from '@parley/browser';
import { render } from 'preact';
import { App, type Controller } from './app.js';
import { noBidi } from './bidi.js';
import { fill, loadLocale, strings } from './i18n.js';
import { partsHome } from './lazy.js';
import { addStyles, onAccent, type Boot, type WidgetOptions } from './options.js';
import { CSS } from './styles.js';

type Handler = (data?: unknown) => void;
interface IdentifyArg {
  token?: string;
  getToken?: () => Promise<string>;
}

const HEX = /^#[0-9a-f]{6}$/i;

/** Starts the widget on the loader's boot object; returns the `window.Parley` that replaces the queue. */
export function start(boot: Boot, makeClient: (opts: ClientOptions) => ParleyClient = createClient): Boot {
  const o = boot.o!;
  const root = boot.r!;
  const launcher = boot.b!;
  const host = root.host as HTMLElement;
  const handlers = new Map<string, Set<Handler>>();
  let getToken: (() => Promise<string>) | undefined;
  const client = makeClient({
    apiBase: o.api,
    publishableKey: o.key,
    // A lost verified session is proven again with a fresh token from the host page.
    onSessionReset: (hadIdentity) => void (hadIdentity && getToken && commands.identify!({ getToken })),
  });

  // The loader's launcher styles stay: the widget's, added after them, win where they differ.
  addStyles(root, CSS, o.nonce);
  const setVars = addStyles(root, '', o.nonce);
  // The parts come from where the widget did, and style this root (their sheets after these).
  partsHome({ api: o.api, nonce: o.nonce, style: (css) => void addStyles(root, css, o.nonce) });
  const mount = document.createElement('div');
  // A reply that comes while the panel is closed is said (politely) wherever the focus is: the launcher's
  // name says it too, but only to who is on the launcher. Hidden from sight; its text changes only with the count.
  const said = document.createElement('span');
  said.className = 'sr';
  said.setAttribute('role', 'status');
  root.append(mount, said);

  let settings: WidgetSettings | null = null;
  // Script-tag options win over the tenant's settings, which win over the defaults.
  const effective = (): WidgetOptions & { accent: string } => ({
    ...o,
    position: o.position ?? settings?.position,
    theme: o.theme ?? settings?.theme,
    locale: o.locale ?? settings?.locale,
    text: o.text ?? settings?.launcherText,
    accent: o.accent ?? (settings && HEX.test(settings.accentColor) ? settings.accentColor : '#2f6feb'),
  });

  // Messages since the panel was last open: a count on the launcher and in its name.
  let unread = 0;
  const ctl: Controller = {
    open: false,
    verified: !!client.stored?.identity,
    identity: 0,
    settings: null,
    setOpen(open) {
      if (ctl.open === open) return;
      const hadFocus = root.activeElement !== null && root.activeElement !== launcher;
      ctl.open = open;
      draw();
      // Focus goes back to the launcher when the dialog closes with focus inside it.
      if (!open && hadFocus) launcher.focus();
      ctl.emit(open ? 'open' : 'close');
    },
    unread(n) {
      if (n === unread) return;
      unread = n;
      draw();
    },
    emit(event, data) {
      for (const h of handlers.get(event) ?? []) {
        try {
          h(data);
        } catch {
          /* a host handler's error is the host's */
        }
      }
    },
  };

  const viewport = () => {
    const vv = window.visualViewport;
    const e = effective();
    // On a light accent the text turns dark, and links (the accent mixed with black) need more black.
    const on = onAccent(e.accent);
    setVars(
      `:host{--accent:${e.accent};--on:${on};--lk:${on === '#fff' ? 72 : 40}%;--z:${o.zIndex ?? 2147483000};--vh:${vv?.height ?? innerHeight}px;--vt:${vv?.offsetTop ?? 0}px}`,
    );
  };
  // The on-screen keyboard shrinks (and on some phones scrolls) the visual viewport: follow it.
  window.visualViewport?.addEventListener('resize', viewport);
  window.visualViewport?.addEventListener('scroll', viewport);

  function draw() {
    const e = effective();
    const { lang, tag, dir, t, ready } = strings(e.locale);
    host.dataset.side = e.position === 'bottom-left' ? 'left' : 'right';
    host.dataset.theme = e.theme ?? 'auto';
    viewport();
    // Until another language's strings arrive, the launcher keeps the loader's translation.
    if (!ready) return void loadLocale(o.api, lang).then(draw);
    host.lang = lang;
    const text = noBidi(e.text ?? t.launcher);
    launcher.textContent = text;
    const name = unread ? fill(t.unread, { text, n: unread }) : text;
    launcher.setAttribute('aria-label', name);
    // Written only when it changes (draw runs for other reasons too): each write would be said again.
    if (said.textContent !== (unread ? name : '')) said.textContent = unread ? name : '';
    if (unread) launcher.dataset.n = `${unread}`;
    else delete launcher.dataset.n;
    // A tenant's own text keeps its own direction; the translation takes the visitor's.
    launcher.dir = e.text ? 'auto' : dir;
    launcher.setAttribute('aria-expanded', String(ctl.open));
    render(<App client={client} t={t} lang={lang} tag={tag} dir={dir} ctl={{ ...ctl }} />, mount);
  }

  let identifying: Promise<void> = Promise.resolve();
  async function identify(arg: IdentifyArg, retried = false): Promise<void> {
    if (arg.getToken) getToken = arg.getToken;
    try {
      const token = arg.token ?? (await getToken?.());
      if (!token) return;
      const before = client.stored?.identity;
      const visitor = await client.identify(token);
      // A different person means a different conversation.
      if (before !== visitor.id) {
        client.remember({ conversationId: undefined });
        ctl.identity++;
      }
      ctl.verified = true;
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
      if (typeof event === 'string' && typeof fn === 'function')
        (handlers.get(event) ?? handlers.set(event, new Set()).get(event)!).add(fn as Handler);
    },
    shutdown: () => {
      // The page hears the panel close before its handlers go.
      if (ctl.open) {
        ctl.open = false;
        ctl.emit('close');
      }
      stopped = true;
      render(null, mount);
      observer.disconnect();
      window.visualViewport?.removeEventListener('resize', viewport);
      window.visualViewport?.removeEventListener('scroll', viewport);
      removeEventListener('online', check);
      clearTimeout(timer);
      host.remove();
      client.forget();
      handlers.clear();
    },
  };
  const run = (...args: unknown[]) => {
    const [name, ...rest] = args;
    // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is newer than the widget's Safari 14 target
    const fn = typeof name === 'string' && Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
    if (stopped && name !== 'shutdown') console.warn(`Parley: the widget was shut down; "${String(name)}" is ignored until the page loads it again.`);
    else if (fn) fn(...rest);
    else console.warn(`Parley: unknown command "${String(name)}" (${Object.keys(commands).join(', ')}).`);
  };

  // A page whose origin is not allowed gets no widget. The browser hides the refusal itself (CORS
  // answers allowed origins only), so any failed first contact takes the launcher away until the
  // service answers, and the console says which origin to allow; an explicit 401/403 removes the
  // widget for good.
  let stopped = false;
  let warned = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  function check() {
    clearTimeout(timer);
    client
      .config()
      .then((s) => {
        if (stopped) return;
        attempt = 0;
        settings = s;
        ctl.settings = s;
        if (!launcher.isConnected) root.prepend(launcher);
        draw();
      })
      .catch((err: unknown) => {
        if (stopped) return;
        const status = err instanceof ParleyError ? err.status : 0;
        // A refusal reaches this script as a bare network error (the browser keeps the reason), right
        // after the widget itself loaded from the same server: tell the developer what to allow, once.
        if (!warned && !settings && (status === 0 || status === 403)) {
          warned = true;
          console.warn(
            `Parley: ${o.api} refused this page or could not be reached. To show the chat here, add ${location.origin} to the allowed domains of the key ${o.key} (Parley console, Domains).`,
          );
        }
        if (status === 401) console.warn(`Parley: the key ${o.key} is unknown or revoked.`);
        // The host page hears it too, once until the service answers again.
        if (!settings && attempt === 0) ctl.emit('error', err);
        if (status === 401 || status === 403) return commands.shutdown!();
        if (settings) return;
        launcher.remove();
        if (ctl.open) ctl.setOpen(false);
        timer = setTimeout(check, Math.min(60_000, 5000 * 2 ** attempt++));
      });
  }
  addEventListener('online', check);

  // A single-page app may replace <body>: put the widget back.
  const observer = new MutationObserver(() => {
    if (!stopped && !host.isConnected) (document.body ?? document.documentElement).append(host);
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });

  const api = Object.assign((...args: unknown[]) => run(...args), { o, r: root, b: launcher, ready: true }) as Boot;
  draw();
  check();
  // The launcher's clicks reach us through the loader as 'toggle' commands; replay the early ones.
  for (const args of boot.q ?? []) run(...args);
  return api;
}
