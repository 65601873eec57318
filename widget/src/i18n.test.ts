import { describe, expect, test } from 'vitest';
import { en as actions } from './actions.js';
import { en as away } from './away.js';
import { strings } from './i18n.js';
import { en as rating } from './rating.js';

// English of the widget and of its lazily loaded parts, each in its own module.
const english = () => ({ ...strings('en').t, ...actions, ...rating, ...away });

describe('locales', () => {
  test('an explicit locale wins, auto follows the browser, unknown falls back to English', () => {
    expect(strings('fr').t.send).toBe('Envoyer');
    expect(strings('de-CH').t.send).toBe('Senden');
    expect(strings('auto', ['xx', 'de-DE']).lang).toBe('de');
    expect(strings('auto', ['ko']).t.send).toBe('Send');
    expect(strings('auto', ['ko', 'en-GB'])).toMatchObject({ lang: 'en', tag: 'en-GB' });
    expect(strings('auto', ['ko'])).toMatchObject({ lang: 'en', tag: 'en' });
    expect(strings('auto', ['ja-JP']).t.send).toBe('送信');
    expect(strings('pt-BR').t.send).toBe('Enviar');
  });

  test('Arabic is right to left', () => {
    expect(strings('ar')).toMatchObject({ lang: 'ar', dir: 'rtl' });
    expect(strings('en').dir).toBe('ltr');
  });

  const LOCALES = ['fr', 'de', 'es', 'it', 'nl', 'pt', 'ja', 'ar'];

  test('every locale has every string, none empty, with the same {slots} as English', () => {
    const en = english();
    const slots = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const l of LOCALES) {
      const t = strings(l);
      expect(t.lang).toBe(l);
      expect(Object.keys(t.t).sort()).toEqual(Object.keys(en).sort());
      for (const [k, v] of Object.entries(t.t)) {
        expect(v.trim(), `${l}.${k}`).not.toBe('');
        expect(slots(v), `${l}.${k}`).toEqual(slots(en[k as keyof typeof en]));
      }
    }
  });

  test('each translation is its own: no language leaves English in a sentence', () => {
    const en = english();
    // Words that read the same in some languages (Support, Assistant, Email) are fine; sentences are not.
    for (const l of LOCALES)
      for (const [k, v] of Object.entries(strings(l).t)) if (v.length > 20) expect(v, `${l}.${k}`).not.toBe(en[k as keyof typeof en]);
  });
});
