// Interface strings: English here, in the widget, but for the lazily loaded parts (actions, rating,
// away), whose English comes with the part; French, German, Spanish, Italian, Dutch, Portuguese,
// Japanese and Arabic (right to left) in locales.ts, each built into a content-hashed JSON file the
// widget fetches from the API origin when the visitor's language first wants it (carrying them all
// would not fit the widget's size budget). Every language has every key (the type says so, and a test
// checks it).
import type { en as actions } from './actions.js';
import type { en as away } from './away.js';
import { LAUNCHER } from './launcher-text.js';
import type { en as rating } from './rating.js';

const en = {
  title: 'Support',
  placeholder: 'Type your message…',
  send: 'Send',
  close: 'Close chat',
  human: 'Talk to a person',
  typing: 'The assistant is typing…',
  offline: "You're offline. We'll try again when you're back.",
  error: 'Something went wrong.',
  retry: 'Retry',
  handoff: 'A member of our team will reply here.',
  sources: 'Sources',
  verified: 'Signed in',
  you: 'You',
  assistant: 'Assistant',
  agent: 'Support team',
  launcher: LAUNCHER.en!,
  signIn: 'Please sign in to chat with us.',
  agentTyping: '{name} is typing…',
  greeting: 'Hi! Ask us anything about {name}.',
  notice: "I've passed your question to a member of our team. They'll reply here.",
  suggest: 'Did you mean:',
  unread: '{text} (new messages: {n})',
  unsent: 'Not sent yet',
  limit: 'Messages are cut off at {n} characters.',
};
/** The strings the widget itself shows; a language's table has the parts' too (`Strings`). */
export type CoreStrings = typeof en;
export type Strings = CoreStrings & typeof actions & typeof rating & typeof away;

/** A string with its `{name}` slots filled. */
export const fill = (s: string, values: Record<string, string | number>): string => s.replace(/\{(\w+)\}/g, (m, k: string) => String(values[k] ?? m));

/** The same with nodes in the slots: a name or address in its own `<bdi>` keeps its direction and
 * leaves the sentence's punctuation where the sentence's language puts it. */
export const fillNodes = <T>(s: string, values: Record<string, T>): (string | T)[] =>
  s.split(/(\{\w+\})/).map((p) => (/^\{\w+\}$/.test(p) && p.slice(1, -1) in values ? values[p.slice(1, -1)]! : p));

/** The other languages' files by language, set at build time. */
declare const __LOCALES__: Record<string, string>;
const FILES: Record<string, string> = { ...__LOCALES__ };
const TABLE: Record<string, CoreStrings> = { en };
const loading: Record<string, Promise<void>> = {};

/** Makes a language's strings available: `loadLocale` fetches them; tests give them directly. */
export const addLocale = (lang: string, t: Strings) => void (TABLE[lang] = t);

/** Fetches a language's strings, once; when they cannot be had, the language is dropped (English serves). */
export const loadLocale = (api: string, lang: string): Promise<void> =>
  (loading[lang] ??= fetch(`${api}/${FILES[lang]}`, { credentials: 'omit' })
    .then((res) => (res.ok ? res.json() : Promise.reject()))
    .then(
      (t: Strings) => addLocale(lang, t),
      () => void delete FILES[lang],
    ));

const RTL = new Set(['ar', 'he', 'fa', 'ur']);

/**
 * Picks the strings for a locale option ('auto' follows the browser), falling back to English. `tag` is
 * the whole tag that matched (en-GB, fr-CA), so dates read the way the visitor's region writes them.
 * `ready` is false while the language's strings are still to be fetched (`t` is English until then).
 */
export function strings(
  locale: string | undefined,
  browser: readonly string[] = typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]),
): { lang: string; tag: string; dir: 'ltr' | 'rtl'; t: CoreStrings; ready: boolean } {
  const wanted = locale && locale !== 'auto' ? [locale] : browser;
  for (const l of wanted) {
    const lang = l.toLowerCase().split('-')[0]!;
    if (TABLE[lang] || FILES[lang]) return { lang, tag: l, dir: RTL.has(lang) ? 'rtl' : 'ltr', t: TABLE[lang] ?? en, ready: !!TABLE[lang] };
  }
  return { lang: 'en', tag: 'en', dir: 'ltr', t: en, ready: true };
}
