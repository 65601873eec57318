// The widget on a page: the loader's queue replayed, focus management, locales and RTL, body
// replacement by a single-page app, refusal by the API, identity tokens asked for again.
import { ParleyError } from '@parley/browser';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Boot } from './options.js';
import { fakeClient, message, SETTINGS } from './test/fake-client.js';
import { start } from './widget.js';

const settle = () => new Promise((r) => setTimeout(r, 30));
const w = window as unknown as { Parley?: Boot & { ready?: boolean } };

afterEach(() => {
  w.Parley?.('shutdown');
  document.body.innerHTML = '';
  document.head.innerHTML = '';
  delete w.Parley;
  vi.resetModules();
  vi.unstubAllGlobals();
});

/** Runs the real loader for a script tag with these attributes, then the widget on what it left. */
async function page(attrs: Record<string, string> = {}, before?: (P: (...a: unknown[]) => void) => void, fake = fakeClient()) {
  // The host page's own snippet may queue calls before the loader runs.
  const q: unknown[][] = [];
  w.Parley = Object.assign((...a: unknown[]) => void q.push(a), { q }) as Boot;
  before?.(w.Parley);
  const s = document.createElement('script');
  s.src = 'https://api.parley.example/loader.js';
  for (const [k, v] of Object.entries({ 'data-key': 'pk_test_x', ...attrs })) s.setAttribute(k, v);
  document.head.append(s);
  Object.defineProperty(document, 'currentScript', { value: s, configurable: true });
  // The loader's fetch of widget.js when the page is idle is not wanted (the widget is started below), and
  // its fallback timer would run after this file's DOM is gone (an uncaught error that failed a CI run).
  vi.stubGlobal('requestIdleCallback', () => {});
  await import('./loader.js');
  const boot = w.Parley!;
  w.Parley = start(boot, fake.make);
  await settle();
  const root = boot.r!;
  const launcher = boot.b!;
  const dialog = () => root.querySelector<HTMLElement>('[role=dialog]');
  return { fake, root, launcher, dialog, P: w.Parley, host: root.host as HTMLElement };
}

const press = (el: Element, key: string, init: KeyboardEventInit = {}) =>
  el.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, composed: true, ...init }));

describe('command queue', () => {
  test('calls made before load are replayed in order; later calls go straight to the widget', async () => {
    const seen: string[] = [];
    const { fake, dialog, P } = await page({}, (P) => {
      P('on', 'open', () => seen.push('open'));
      P('identify', { token: 'signin_token_1' });
      P('open');
      P('no-such-command');
    });
    expect(dialog()).not.toBeNull();
    expect(seen).toEqual(['open']);
    await vi.waitFor(() => expect(fake.client.identify).toHaveBeenCalledWith('signin_token_1'));
    expect((P as { ready?: boolean }).ready).toBe(true);
    P('on', 'close', () => seen.push('close'));
    P('toggle');
    expect(dialog()).toBeNull();
    expect(seen).toEqual(['open', 'close']);
  });

  test("a click on the loader's launcher opens the widget", async () => {
    const { launcher, dialog } = await page();
    launcher.click();
    expect(dialog()).not.toBeNull();
    expect(launcher.getAttribute('aria-expanded')).toBe('true');
  });

  test('shutdown removes the widget and forgets the session; an open panel tells the page it closed', async () => {
    const { fake, host, P } = await page();
    const seen: string[] = [];
    P('on', 'close', () => seen.push('close'));
    P('open');
    P('shutdown');
    expect(host.isConnected).toBe(false);
    expect(fake.client.forget).toHaveBeenCalled();
    expect(seen).toEqual(['close']);
  });

  test('a command the widget does not know, or any after shutdown, is named in the console rather than dropped silently', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { P } = await page();
    P('opne');
    expect(warn).toHaveBeenLastCalledWith(expect.stringContaining('Parley: unknown command "opne"'));
    P('shutdown');
    P('open');
    expect(warn).toHaveBeenLastCalledWith(expect.stringContaining('Parley: the widget was shut down'));
    warn.mockRestore();
  });
});

describe('focus and keyboard', () => {
  test('focus moves into the labelled modal dialog; Tab stays inside; Escape closes and focus returns', async () => {
    const { root, launcher, dialog } = await page();
    launcher.focus();
    launcher.click();
    await settle();
    const d = dialog()!;
    expect(d.getAttribute('aria-modal')).toBe('true');
    expect(root.getElementById(d.getAttribute('aria-labelledby')!)!.textContent).toBe('Shop · Support');
    // Focus moves in an effect, after the dialog renders: on a loaded machine later than one settle.
    await vi.waitFor(() => expect(root.activeElement?.tagName).toBe('TEXTAREA'));
    // Tab from the last control wraps to the first, Shift+Tab from the first to the last.
    const controls = [...d.querySelectorAll<HTMLElement>('button:not([disabled]),textarea')];
    controls.at(-1)!.focus();
    press(controls.at(-1)!, 'Tab');
    expect(root.activeElement).toBe(controls[0]);
    press(controls[0]!, 'Tab', { shiftKey: true });
    expect(root.activeElement).toBe(controls.at(-1));
    press(root.activeElement!, 'Escape');
    expect(dialog()).toBeNull();
    expect(root.activeElement).toBe(launcher);
  });
});

describe('replies while the panel is closed', () => {
  test("the launcher shows how many came and says so in its name, in the visitor's language; opening clears it", async () => {
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1' } });
    const { launcher, P } = await page({}, undefined, fake);
    // The panel has been open (the conversation and its feed are loaded), then closed.
    P('open');
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'Seen while open') }, id: '1' });
    await settle();
    P('close');
    await settle();
    expect(launcher.dataset.n).toBeUndefined();
    expect(launcher.getAttribute('aria-label')).toBe('Questions?');
    fake.live.push({ event: 'message', data: { message: message('m2', 'agent', 'Hi, Sam here') }, id: '2' });
    await vi.waitFor(() => expect(launcher.dataset.n).toBe('1'));
    expect(launcher.getAttribute('aria-label')).toBe('Questions? (new messages: 1)');
    // The launcher's text stays as it was; the count is drawn beside it.
    expect(launcher.textContent).toBe('Questions?');
    fake.live.push({ event: 'message', data: { message: message('m3', 'visitor', 'typed in another tab') }, id: '3' });
    fake.live.push({ event: 'message', data: { message: message('m4', 'agent', 'Are you there?') }, id: '4' });
    await vi.waitFor(() => expect(launcher.dataset.n).toBe('2'));
    const scrolled: string[] = [];
    vi.spyOn(HTMLElement.prototype, 'scrollIntoView').mockImplementation(function (this: Element) {
      scrolled.push(this.textContent!);
    });
    P('open');
    await vi.waitFor(() => expect(launcher.dataset.n).toBeUndefined());
    expect(launcher.getAttribute('aria-label')).toBe('Questions?');
    // The panel opens on the latest message, not on the greeting.
    await vi.waitFor(() => expect(scrolled.at(-1)).toContain('Are you there?'));
  });

  test("a reply to a closed panel is said politely wherever the focus is, once for each new count, in the visitor's language", async () => {
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1', identity: 'user-1' } });
    const { root, P } = await page({ 'data-locale': 'fr' }, undefined, fake);
    // A status (polite) outside the panel, there from the start, so that a change of its text is heard.
    const said = root.querySelector<HTMLElement>('[role=status]')!;
    expect(said.closest('[role=dialog]')).toBeNull();
    expect(said.className).toBe('sr');
    expect(said.textContent).toBe('');
    const writes: string[] = [];
    new MutationObserver(() => writes.push(said.textContent!)).observe(said, { childList: true, characterData: true, subtree: true });
    P('open');
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'Vu panneau ouvert') }, id: '1' });
    await settle();
    P('close');
    await settle();
    expect(said.textContent).toBe('');
    fake.live.push({ event: 'message', data: { message: message('m2', 'agent', 'Bonjour') }, id: '2' });
    await vi.waitFor(() => expect(said.textContent).toBe('Questions? (nouveaux messages : 1)'));
    // Drawn again for other reasons (a sign-in, the visitor's own message from another tab): not said again.
    P('identify', { token: 'tok' });
    fake.live.push({ event: 'message', data: { message: message('m3', 'visitor', 'autre onglet') }, id: '3' });
    await settle();
    await vi.waitFor(() => expect(fake.client.identify).toHaveBeenCalled());
    await settle();
    expect(writes).toEqual(['Questions? (nouveaux messages : 1)']);
    fake.live.push({ event: 'message', data: { message: message('m4', 'agent', 'Vous êtes là ?') }, id: '4' });
    await vi.waitFor(() => expect(said.textContent).toBe('Questions? (nouveaux messages : 2)'));
    // Opened: nothing left to say (emptied, which is not read out).
    P('open');
    await vi.waitFor(() => expect(said.textContent).toBe(''));
    expect(writes).toEqual(['Questions? (nouveaux messages : 1)', 'Questions? (nouveaux messages : 2)', '']);
  });

  test('in French, the name says it in French', async () => {
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1' } });
    const { launcher, P } = await page({ 'data-locale': 'fr' }, undefined, fake);
    P('open');
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    P('close');
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'Bonjour') }, id: '1' });
    await vi.waitFor(() => expect(launcher.getAttribute('aria-label')).toBe('Questions? (nouveaux messages : 1)'));
  });
});

describe('options, settings and locales', () => {
  test("the tenant's settings fill in what the script tag leaves out", async () => {
    const { launcher, host } = await page({ 'data-position': 'bottom-left' });
    expect(launcher.textContent).toBe('Questions?');
    expect(host.dataset.side).toBe('left');
    expect(host.dataset.theme).toBe('auto');
  });

  test('a launcher text from the settings shows without bidi controls', async () => {
    const fake = fakeClient();
    fake.client.config.mockResolvedValue({ ...SETTINGS, launcherText: 'Chat\u202Etxt.exe' });
    const { launcher } = await page({}, undefined, fake);
    expect(launcher.textContent).toBe('Chattxt.exe');
  });

  test("a tenant that set no launcher text gets the visitor's language; a text it set wins, in its own direction", async () => {
    const { launcherText: _, ...unset } = SETTINGS;
    const fake = fakeClient();
    fake.client.config.mockResolvedValue(unset);
    const ja = await page({ 'data-locale': 'ja' }, undefined, fake);
    expect(ja.launcher.textContent).toBe('チャットで質問');
    ja.P('shutdown');
    vi.resetModules();
    const ar = await page({ 'data-locale': 'ar' }, undefined, fake);
    expect(ar.launcher.textContent).toBe('تحدث معنا');
    expect(ar.launcher.dir).toBe('rtl');
    ar.P('shutdown');
    vi.resetModules();
    const set = await page({ 'data-locale': 'ar' });
    expect(set.launcher.textContent).toBe('Questions?');
    expect(set.launcher.dir).toBe('auto');
  });

  test('Arabic is right to left, French follows the browser', async () => {
    const ar = await page({ 'data-locale': 'ar', 'data-text': 'مساعدة' });
    ar.P('open');
    expect(ar.dialog()!.getAttribute('dir')).toBe('rtl');
    expect(ar.host.lang).toBe('ar');
    expect(ar.dialog()!.querySelector('[aria-label="إغلاق المحادثة"]')).not.toBeNull();
    ar.P('shutdown');
    vi.resetModules();
    vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['fr-CA', 'en']);
    const fr = await page({ 'data-locale': 'auto' });
    fr.P('open');
    expect(fr.dialog()!.getAttribute('dir')).toBe('ltr');
    expect(fr.root.querySelector('button[type=submit]')!.textContent).toBe('Envoyer');
  });
});

describe('the page around it', () => {
  test('a single-page app replacing <body> gets the widget back, state intact', async () => {
    const { host, P, dialog } = await page();
    P('open');
    const body = document.createElement('body');
    body.innerHTML = '<h1>New route</h1>';
    document.documentElement.replaceChild(body, document.body);
    await settle();
    expect(host.isConnected).toBe(true);
    expect(document.querySelectorAll('[data-parley]')).toHaveLength(1);
    expect(dialog()).not.toBeNull();
  });

  test('an origin the API refuses gets no widget', async () => {
    const fake = fakeClient();
    fake.client.config.mockRejectedValue(new ParleyError(403, '/docs/problems/origin-not-allowed', 'Forbidden', undefined, 'req_1'));
    const { host } = await page({}, undefined, fake);
    expect(host.isConnected).toBe(false);
  });

  test('a refused origin is told, in the console, which origin to allow for which key (once)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const refused = fakeClient();
    refused.client.config.mockRejectedValue(new ParleyError(403, '/docs/problems/origin-not-allowed', 'Forbidden', undefined, 'req_1'));
    await page({}, undefined, refused);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain(`add ${location.origin} to the allowed domains of the key pk_test_x`);
    w.Parley?.('shutdown');
    delete w.Parley;
    vi.resetModules();
    // In a browser the refusal is a CORS failure the script cannot read: the same hint, once however
    // often the widget tries again.
    warn.mockClear();
    const hidden = fakeClient();
    hidden.client.config.mockRejectedValue(new ParleyError(0, 'network', 'Network error', undefined, null));
    await page({}, undefined, hidden);
    dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(hidden.client.config).toHaveBeenCalledTimes(2));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain(`add ${location.origin} to the allowed domains of the key pk_test_x`);
    expect(String(warn.mock.calls[0]![0])).toContain('https://api.parley.example');
  });

  test("the host page's error handler hears a refusal once per outage, and an open panel closes after it", async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const events: string[] = [];
    const errors: unknown[] = [];
    const refused = fakeClient();
    const err = new ParleyError(0, 'network', 'Network error', undefined, null);
    refused.client.config.mockRejectedValue(err);
    await page(
      {},
      (P) => {
        for (const e of ['open', 'close']) P('on', e, () => events.push(e));
        P('on', 'error', (x: unknown) => (events.push('error'), errors.push(x)));
        P('open');
      },
      refused,
    );
    expect(events).toEqual(['open', 'error', 'close']);
    expect(errors).toEqual([err]);
    dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(refused.client.config).toHaveBeenCalledTimes(2));
    await settle();
    expect(errors).toHaveLength(1);
    w.Parley?.('shutdown');
    delete w.Parley;
    vi.resetModules();
    // A key the API does not know: the widget stops, and says so first.
    const unknown = fakeClient();
    const gone = new ParleyError(401, '/docs/problems/invalid-key', 'Unauthorized', undefined, 'req_1');
    unknown.client.config.mockRejectedValue(gone);
    const heard: unknown[] = [];
    await page({}, (P) => P('on', 'error', (x: unknown) => heard.push(x)), unknown);
    expect(heard).toEqual([gone]);
  });

  test('an unreachable API hides the launcher until it answers', async () => {
    const fake = fakeClient();
    fake.client.config.mockRejectedValueOnce(new ParleyError(0, 'network', 'Network error', undefined, null));
    const { launcher } = await page({}, undefined, fake);
    expect(launcher.isConnected).toBe(false);
    dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(launcher.isConnected).toBe(true));
  });
});

describe('identity', () => {
  test('getToken is asked again when a token is refused, and when the verified session is lost', async () => {
    const fake = fakeClient();
    fake.client.identify.mockRejectedValueOnce(new ParleyError(401, '/docs/problems/token-expired', 'expired', undefined, 'req_1'));
    const getToken = vi.fn(async () => `signin_token_${getToken.mock.calls.length}`);
    const identified: unknown[] = [];
    const { P } = await page({}, undefined, fake);
    P('on', 'identify', (v: unknown) => identified.push(v));
    P('identify', { getToken });
    await vi.waitFor(() => expect(identified).toHaveLength(1));
    expect(fake.client.identify.mock.calls.map((c) => c[0])).toEqual(['signin_token_1', 'signin_token_2']);
    fake.options.onSessionReset!(true);
    await vi.waitFor(() => expect(identified).toHaveLength(2));
    expect(getToken).toHaveBeenCalledTimes(3);
  });

  test('the same person again keeps the conversation; a different one starts a new one', async () => {
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', identity: 'user-1', conversationId: 'c1' } });
    const { P } = await page({}, undefined, fake);
    P('identify', { token: 'signin_token_a' });
    await vi.waitFor(() => expect(fake.client.identify).toHaveBeenCalledTimes(1));
    await settle();
    expect(fake.client.stored?.conversationId).toBe('c1');
    fake.client.identify.mockResolvedValueOnce({ verified: true, id: 'user-2' });
    P('identify', { token: 'signin_token_b' });
    await vi.waitFor(() => expect(fake.client.stored?.conversationId).toBeUndefined());
  });
});
