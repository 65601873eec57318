// The chat panel mounted with a scripted client, and the few ways a test drives it.
import { render } from 'preact';
import { App, type Controller } from '../app.js';
import { strings } from '../i18n.js';
import { SETTINGS, type fakeClient } from './fake-client.js';

// Effects run after paint: let them.
export const settle = () => new Promise((r) => setTimeout(r, 30));

export async function mountApp(fake: ReturnType<typeof fakeClient>, over: Partial<Controller> = {}, locale = 'en') {
  const el = document.createElement('div');
  document.body.append(el);
  const emitted: [string, unknown][] = [];
  const ctl: Controller = {
    open: true,
    identity: 0,
    verified: false,
    settings: SETTINGS,
    setOpen(open) {
      ctl.open = open;
      draw();
    },
    emit: (event, data) => void emitted.push([event, data]),
    unread: () => {},
    ...over,
  };
  const { t, lang, tag, dir } = strings(locale);
  const draw = () => render(<App client={fake.client} t={t} lang={lang} tag={tag} dir={dir} ctl={{ ...ctl }} />, el);
  draw();
  await settle();
  const $ = <E extends Element = HTMLElement>(sel: string) => el.querySelector<E>(sel);
  const textarea = () => $<HTMLTextAreaElement>('textarea')!;
  const type = (text: string) => {
    textarea().value = text;
    textarea().dispatchEvent(new Event('input', { bubbles: true }));
  };
  const key = (k: string, init: KeyboardEventInit = {}) =>
    textarea().dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true, ...init }));
  return { el, ctl, emitted, $, textarea, type, key };
}
