import { describe, expect, test } from 'vitest';
import { strings } from './i18n.js';

describe('locales', () => {
  test('an explicit locale wins, auto follows the browser, unknown falls back to English', () => {
    expect(strings('fr').t.send).toBe('Envoyer');
    expect(strings('de-CH').t.send).toBe('Senden');
    expect(strings('auto', ['xx', 'de-DE']).lang).toBe('de');
    expect(strings('auto', ['ja']).t.send).toBe('Send');
    expect(strings('auto', ['ja', 'en-GB'])).toMatchObject({ lang: 'en', tag: 'en-GB' });
    expect(strings('auto', ['ja'])).toMatchObject({ lang: 'en', tag: 'en' });
  });

  test('Arabic is right to left', () => {
    expect(strings('ar')).toMatchObject({ lang: 'ar', dir: 'rtl' });
    expect(strings('en').dir).toBe('ltr');
  });

  test('every locale has every string', () => {
    const keys = Object.keys(strings('en').t).sort();
    for (const l of ['fr', 'de', 'ar']) expect(Object.keys(strings(l).t).sort()).toEqual(keys);
  });
});
