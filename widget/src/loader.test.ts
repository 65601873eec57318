// The loader in a DOM: a launcher in a shadow root, a command queue for calls made before the widget.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { addStyles, onAccent } from './options.js';

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = '';
  document.head.innerHTML = '';
  delete (window as { Parley?: unknown }).Parley;
  vi.resetModules();
});

async function runLoader(attrs: Record<string, string>) {
  const s = document.createElement('script');
  s.src = 'https://api.parley.example/loader.js';
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  document.head.append(s);
  Object.defineProperty(document, 'currentScript', { value: s, configurable: true });
  // No fetch of widget.js when the page is idle: its fallback timer would run after this file's DOM is gone.
  vi.stubGlobal('requestIdleCallback', () => {});
  await import('./loader.js');
  return (window as unknown as { Parley: ((...a: unknown[]) => void) & { q?: unknown[][]; o?: Record<string, unknown>; r?: ShadowRoot } }).Parley;
}

describe('loader', () => {
  test('draws the launcher in a shadow root and reads its options', async () => {
    const p = await runLoader({
      'data-key': 'pk_test_x',
      'data-position': 'bottom-left',
      'data-accent': '#ff0000',
      'data-text': 'Help?',
      'data-z-index': '99',
    });
    const host = document.querySelector('[data-parley]')!;
    expect(host.shadowRoot?.querySelector('button')?.textContent).toBe('Help?');
    expect(p.o).toMatchObject({ key: 'pk_test_x', api: 'https://api.parley.example', position: 'bottom-left', accent: '#ff0000', zIndex: 99 });
  });

  test("with no text of its own the launcher speaks the visitor's language from the start", async () => {
    const text = () => document.querySelector('[data-parley]')!.shadowRoot!.querySelector('button')!.textContent;
    await runLoader({ 'data-key': 'pk_test_x', 'data-locale': 'ja' });
    expect(text()).toBe('チャットで質問');
    document.body.innerHTML = '';
    delete (window as { Parley?: unknown }).Parley;
    vi.resetModules();
    vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['xx', 'nl-BE']);
    await runLoader({ 'data-key': 'pk_test_x' });
    expect(text()).toBe('Chat met ons');
  });

  test('calls made before the widget loads are queued in order; a click queues a toggle', async () => {
    (window as unknown as { Parley: unknown }).Parley = Object.assign((...a: unknown[]) => ((window as any).Parley.q ??= []).push(a), {});
    (window as any).Parley('identify', { token: 't1' });
    const p = await runLoader({ 'data-key': 'pk_test_x' });
    p('on', 'open', () => {});
    (document.querySelector('[data-parley]')!.shadowRoot!.querySelector('button') as HTMLButtonElement).click();
    expect(p.q!.map((a) => a[0])).toEqual(['identify', 'on', 'toggle']);
    expect(document.head.querySelector('script[src="https://api.parley.example/widget.js"]')).not.toBeNull();
  });

  test("the launcher's text is dark on a light accent and white on a dark one (readable on a yellow)", async () => {
    const css = async (accent: string) => {
      vi.resetModules();
      document.body.innerHTML = '';
      delete (window as { Parley?: unknown }).Parley;
      const p = await runLoader({ 'data-key': 'pk', 'data-accent': accent });
      const root = p.r!;
      return [
        ...root.adoptedStyleSheets.flatMap((s) => [...s.cssRules].map((r) => r.cssText)),
        ...[...root.querySelectorAll('style')].map((e) => e.textContent),
      ].join('\n');
    };
    expect(await css('#ffdd00')).toMatch(/\.l\s*\{[^}]*color:\s*#111/);
    expect(await css('#2f6feb')).toMatch(/\.l\s*\{[^}]*color:\s*#fff/);
    expect([onAccent('#ffffff'), onAccent('#ffdd00'), onAccent('#7fdbff'), onAccent('#2f6feb'), onAccent('#000000'), onAccent('#d0021b')]).toEqual([
      '#111',
      '#111',
      '#111',
      '#fff',
      '#fff',
      '#fff',
    ]);
  });

  test('hostile option values never reach the stylesheet', async () => {
    const p = await runLoader({ 'data-key': 'pk', 'data-accent': 'red;}*{display:none', 'data-z-index': '1;x' });
    expect(p.o!.accent).toBeUndefined();
    expect(p.o!.zIndex).toBeUndefined();
  });

  test('the nonce (property or data-nonce) reaches the widget script; data-open loads at once', async () => {
    await runLoader({ 'data-key': 'pk', 'data-nonce': 'n0nce', 'data-open': 'true' });
    const p = (window as unknown as { Parley: { q?: unknown[][] } }).Parley;
    expect(p.q).toEqual([['open']]);
    const s = document.head.querySelector<HTMLScriptElement>('script[src$="/widget.js"]')!;
    expect(s.nonce).toBe('n0nce');
  });

  test('the launcher is a labelled button that says it opens a dialog, with no style attributes', async () => {
    await runLoader({ 'data-key': 'pk' });
    const b = document.querySelector('[data-parley]')!.shadowRoot!.querySelector('button')!;
    expect(b.getAttribute('aria-haspopup')).toBe('dialog');
    expect(b.getAttribute('aria-expanded')).toBe('false');
    expect(document.querySelectorAll('[style]')).toHaveLength(0);
  });
});

describe('styles under CSP', () => {
  test('without constructable stylesheets, a <style> carrying the nonce', () => {
    const root = document.createElement('div').attachShadow({ mode: 'open' });
    // A browser before them: no adoptedStyleSheets anywhere up the shadow root's prototypes.
    const owner = (function find(o: object): object {
      return Object.hasOwn(o, 'adoptedStyleSheets') ? o : find(Object.getPrototypeOf(o));
    })(root);
    const had = Object.getOwnPropertyDescriptor(owner, 'adoptedStyleSheets')!;
    delete (owner as { adoptedStyleSheets?: unknown }).adoptedStyleSheets;
    try {
      const update = addStyles(root, ':host{color:red}', 'n0nce');
      const el = root.querySelector('style')!;
      expect(el.nonce).toBe('n0nce');
      update(':host{color:blue}');
      expect(el.textContent).toBe(':host{color:blue}');
    } finally {
      Object.defineProperty(owner, 'adoptedStyleSheets', had);
    }
  });

  test('with them, an adopted sheet and no element', () => {
    const root = document.createElement('div').attachShadow({ mode: 'open' });
    addStyles(root, ':host{color:red}');
    expect(root.adoptedStyleSheets).toHaveLength(1);
    expect(root.querySelector('style')).toBeNull();
  });
});
