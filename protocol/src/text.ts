// Strings and opaque JSON values that are safe to store and to pass on. Every request schema builds its
// strings with `text()` (and its free-form JSON with `jsonValue()`), so the rule lives here once:
// no NUL character (PostgreSQL text and jsonb refuse it) and no unpaired UTF-16 surrogate (not encodable
// as UTF-8, so it cannot be stored, hashed or signed faithfully). Bidi controls are allowed here and
// neutralised where text is shown.
import { z } from 'zod';
import { MAX_EMAIL_CHARS } from './constants.js';

const NUL = '\u0000';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The message of a refused string; the problem's `errors[].path` names the field. */
export const UNSAFE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/** True when the string holds no NUL character and no unpaired surrogate. */
export function isSafeText(s: string): boolean {
  return !s.includes(NUL) && !LONE_SURROGATE.test(s);
}

/** A string without NUL characters or unpaired surrogates; chain `.trim()`, `.min()`, `.max()`, `.regex()`. */
export const text = () => z.string().refine(isSafeText, { message: UNSAFE_TEXT_MESSAGE });

/** How deep free-form JSON may nest, here and in the server's body parser (checked before any recursion). */
export const MAX_JSON_DEPTH = 32;

/**
 * Free-form JSON (e.g. a public JWK's extra members, a PII policy) whose every key and string is
 * {@link isSafeText} and which nests at most {@link MAX_JSON_DEPTH} levels. Walked without recursion.
 */
export const jsonValue = () =>
  z.unknown().superRefine((value, ctx) => {
    const stack: { v: unknown; path: PropertyKey[] }[] = [{ v: value, path: [] }];
    while (stack.length) {
      const { v, path } = stack.pop()!;
      if (typeof v === 'string') {
        if (!isSafeText(v)) return ctx.addIssue({ code: 'custom', message: UNSAFE_TEXT_MESSAGE, path });
      } else if (v !== null && typeof v === 'object') {
        if (path.length >= MAX_JSON_DEPTH)
          return ctx.addIssue({ code: 'custom', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels`, path });
        for (const [k, child] of Object.entries(v)) {
          if (!isSafeText(k)) return ctx.addIssue({ code: 'custom', message: `keys ${UNSAFE_TEXT_MESSAGE}`, path: [...path, k] });
          stack.push({ v: child, path: [...path, Array.isArray(v) ? Number(k) : k] });
        }
      }
    }
  });

/** Email as stored and compared: trimmed and lower-cased. */
export const emailText = () =>
  text()
    .trim()
    .toLowerCase()
    .max(MAX_EMAIL_CHARS)
    .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address');
