// The widget fetches its other languages at run time; the tests have them all at hand.
import { addLocale } from '../i18n.js';
import { LOCALES } from '../locales.js';

for (const [lang, t] of Object.entries(LOCALES)) addLocale(lang, t);
