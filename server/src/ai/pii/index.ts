import { createHmac, randomBytes } from 'node:crypto';
import { PLACEHOLDER, placeholder, type PlaceholderLabel } from '@parley/protocol/placeholder';
import { factsOf } from './facts.js';
import { fold } from './fold.js';
import { RECOGNIZERS } from './gates.js';
import { defaultPolicy, modeFor, PII_CLASSES, type Channel, type Match, type Mode, type PiiClass, type PiiPolicy } from './types.js';

export * from './types.js';

const TOKEN_LABEL: Record<PiiClass, PlaceholderLabel> = {
  person: 'PERSON',
  email: 'EMAIL',
  phone: 'PHONE',
  address: 'ADDRESS',
  government_id: 'GOV_ID',
  payment_card: 'CARD',
  bank_account: 'BANK_ACCOUNT',
  ip_address: 'IP',
  date_of_birth: 'DOB',
  credential: 'SECRET',
  health: 'HEALTH',
  minor: 'MINOR',
};

const CLASS_ORDER = new Map(PII_CLASSES.map((c, i) => [c, i]));
const EXTENDS = /^(?:\p{M}|\u200d)$/u; // marks include the variation selectors

/**
 * Every candidate of the given classes scoring at least its class's `minScore`, in recogniser order,
 * read on the folded text (fold.ts) and mapped back to the characters of `text` that make each one.
 */
function candidates(text: string, classes: readonly PiiClass[], policy: PiiPolicy): Match[] {
  const { text: read, from, to } = fold(text);
  const found = recognised(read, classes, policy);
  if (!from || !to) return found;
  return found.map((m) => {
    const start = from[m.start]!;
    // What extends its last character (an accent, a keycap, a variation selector) goes with it.
    let end = to[m.end - 1]!;
    while (end < text.length && EXTENDS.test(String.fromCodePoint(text.codePointAt(end)!))) end += text.codePointAt(end)! > 0xffff ? 2 : 1;
    const back: Match = { ...m, start, end, text: text.slice(start, end) };
    if (m.maskStart !== undefined) back.maskStart = from[m.maskStart]!;
    return back;
  });
}

function recognised(text: string, classes: readonly PiiClass[], policy: PiiPolicy): Match[] {
  const out: Match[] = [];
  const facts = factsOf(text);
  const ids = text.includes('-') ? [...text.matchAll(UUID)] : [];
  const inId = (m: Match) => ids.some((u) => u.index <= m.start && m.end <= u.index + u[0].length);
  for (const c of classes)
    for (const { gate, recognize } of RECOGNIZERS[c]) {
      if (!gate(text, facts)) continue;
      for (const m of recognize(text, facts)) if (m.score >= policy.classes[m.class].minScore && !inId(m)) out.push(m);
    }
  return joinAddresses(text, out);
}

/**
 * A UUID (an order's, a conversation's, a request's) names a record, not a person: its hex groups read as a
 * card that passes Luhn ("cbe69929-0150-407e…") or an account number in about one of 3,000 random ones
 * (in JSON, beside others), and redacting that breaks the id. A match inside one is not kept.
 */
const UUID = /(?<![0-9A-Za-z])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z])/g;

/**
 * One address, one span: address rules read the same address from different ends ("PSC 7004, Box 8380"
 * grown over its "APO AP 11949" line, and that line alone), and of overlapping matches the overlap
 * resolution would keep one, perhaps the shorter. So the union of overlapping address matches (each past
 * the threshold) joins them as a candidate with their best score: being longer, it wins their tie, and
 * where it loses to another class's match, the parts still compete on their own.
 */
function joinAddresses(text: string, found: Match[]): Match[] {
  const addresses = found.filter((m) => m.class === 'address').sort(byStart);
  for (let i = 0; i < addresses.length; ) {
    const { start } = addresses[i]!;
    let { end, score } = addresses[i]!;
    let j = i + 1;
    for (; j < addresses.length && addresses[j]!.start < end; j++) {
      end = Math.max(end, addresses[j]!.end);
      score = Math.max(score, addresses[j]!.score);
    }
    if (j - i > 1) found.push({ class: 'address', start, end, score, text: text.slice(start, end) });
    i = j;
  }
  return found;
}

const rank = (a: Match, b: Match) =>
  b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start || CLASS_ORDER.get(a.class)! - CLASS_ORDER.get(b.class)!;
const byStart = (a: Match, b: Match) => a.start - b.start;

/**
 * Keeps non-overlapping matches: higher score first, then the longer span, then the earlier start, then
 * the class order, so the outcome never depends on recogniser order. Returned in text order.
 */
export function resolveOverlaps(matches: readonly Match[]): Match[] {
  const ranked = [...matches].sort(rank);
  const kept: Match[] = [];
  next: for (const m of ranked) {
    if (m.end <= m.start) continue;
    const from = m.maskStart ?? m.start;
    for (const k of kept) if (from < k.end && (k.maskStart ?? k.start) < m.end) continue next;
    kept.push(m);
  }
  return kept.sort(byStart);
}

/** Finds personal data in `text`, scored against the default per-class thresholds. */
export function detect(text: string, opts: { classes?: PiiClass[] } = {}): Match[] {
  return resolveOverlaps(candidates(text, opts.classes ?? PII_CLASSES, defaultPolicy));
}

/**
 * Token numbering carried across the turns of one conversation so the same value keeps its token.
 * A value is remembered only by a keyed fingerprint: HMAC-SHA-256 under the conversation's token key
 * (see `redact`), truncated to 128 bits. The key is never stored next to the state (the conversation
 * keeps it sealed with the tenant's data key), so the state holds nothing a dump can test guesses
 * against: without the key a fingerprint says nothing about the value, however small its space (a card
 * with a known BIN and last four, a birth date). Strict values need this too: "the same card as before"
 * and "another card" must stay distinguishable for the assistant and the agent.
 */
export interface RedactionState {
  counters: Partial<Record<PiiClass, number>>;
  /** Keyed fingerprint → token. */
  tokens: Record<string, string>;
}

export function newRedactionState(): RedactionState {
  return { counters: {}, tokens: {} };
}

/** A fresh token key for a conversation (32 random bytes); the caller seals it, never stores it in clear. */
export function newTokenKey(): Buffer {
  return randomBytes(32);
}

/**
 * A stored state, read defensively. A legacy one (with an unkeyed `salt`, written before placeholder keys)
 * keeps its counters, so new tokens never reuse a number already in the transcript or the vault, and
 * loses its fingerprints, which no key can match.
 */
export function loadRedactionState(v: unknown): RedactionState {
  if (typeof v !== 'object' || v === null) return newRedactionState();
  const o = v as Record<string, unknown>;
  const obj = (x: unknown) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : {});
  const counters = Object.fromEntries(
    Object.entries(obj(o.counters)).filter(([c, n]) => (PII_CLASSES as readonly string[]).includes(c) && Number.isSafeInteger(n)),
  );
  const tokens = 'salt' in o ? {} : Object.fromEntries(Object.entries(obj(o.tokens)).filter(([, t]) => typeof t === 'string'));
  return { counters, tokens } as RedactionState;
}

/** A match with what the policy did to it; `replacedFrom` is where its token starts (an honorific included), or `start` when only flagged. */
export type RedactedMatch = Match & { action: Mode; replacedFrom: number };
export interface VaultEntry {
  token: string;
  class: PiiClass;
  value: string;
}
export interface RedactionResult {
  redacted: string;
  matches: RedactedMatch[];
  vault: VaultEntry[];
  state: RedactionState;
}

/** The same person writes the same value differently: case, spacing, separators. */
function normalise(cls: PiiClass, value: string): string {
  switch (cls) {
    case 'phone':
    case 'payment_card':
    case 'government_id':
    case 'bank_account':
      return fold(value)
        .text.replace(/[^\p{L}\p{N}]/gu, '')
        .toUpperCase();
    default:
      return value.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  }
}

/** Keyed, class-bound fingerprint of a value: the same value written differently maps to the same one. */
function fingerprint(key: Uint8Array, cls: PiiClass, value: string): string {
  return createHmac('sha256', key)
    .update(`parley/pii-token/v1\0${cls}\0${normalise(cls, value)}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/**
 * Replaces personal data in `text` per the tenant's policy on `channel`. strict and reversible both
 * substitute tokens like `[EMAIL_1]`; only reversible ones are returned in `vault`, for the caller to
 * seal. `state` is not mutated; the returned one carries the numbering forward, and must be used again
 * with the same `key`. Without a key (one-off redaction) a random one is used and forgotten.
 */
export function redact(text: string, policy: PiiPolicy, channel: Channel, state?: RedactionState, key?: Uint8Array): RedactionResult {
  if (state && !key && Object.keys(state.tokens).length) throw new TypeError('a carried redaction state needs its token key');
  const tokenKey = key ?? newTokenKey();
  const next: RedactionState = state ? { counters: { ...state.counters }, tokens: { ...state.tokens } } : newRedactionState();
  const found = resolveOverlaps(candidates(text, PII_CLASSES, policy));
  const matches: RedactedMatch[] = [];
  const vault = new Map<string, VaultEntry>();
  let out = '';
  let cursor = 0;
  for (const m of found) {
    const action = modeFor(policy, m.class, channel);
    if (action === 'flag') {
      matches.push({ ...m, action, replacedFrom: m.start });
      continue;
    }
    const key = fingerprint(tokenKey, m.class, m.text);
    let token = next.tokens[key];
    if (!token) {
      const n = (next.counters[m.class] ?? 0) + 1;
      next.counters[m.class] = n;
      token = placeholder(TOKEN_LABEL[m.class], n);
      next.tokens[key] = token;
    }
    // The vault keeps what was masked (with an honorific), so restoring gives back what the visitor wrote.
    const maskStart = Math.max(cursor, m.maskStart ?? m.start);
    matches.push({ ...m, action, replacedFrom: maskStart });
    if (action === 'reversible' && !vault.has(token)) vault.set(token, { token, class: m.class, value: text.slice(maskStart, m.end) });
    out += text.slice(cursor, maskStart) + token;
    cursor = m.end;
  }
  out += text.slice(cursor);
  return { redacted: out, matches, vault: [...vault.values()], state: next };
}

export const TOKEN_RE = PLACEHOLDER;

/** A placeholder at `at` stands in an address: a link's target, or a URL up to the space before it. */
function inAddress(text: string, at: number): boolean {
  const word = text.slice(Math.max(0, text.lastIndexOf(' ', at) + 1, text.lastIndexOf('\n', at) + 1), at);
  return /\]\(|:\/\/|mailto:/i.test(word);
}

/**
 * Puts reversible values back. One pass, so a restored value is never itself rewritten. A placeholder inside
 * an address stays as it is: a link planted in an answer must not carry the visitor's own data away.
 */
export function restore(text: string, vault: readonly Pick<VaultEntry, 'token' | 'value'>[]): string {
  const byToken = new Map(vault.map((v) => [v.token, v.value]));
  return text.replace(TOKEN_RE, (t, at: number) => (inAddress(text, at) ? t : (byToken.get(t) ?? t)));
}
