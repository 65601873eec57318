import { isIPv6 } from 'node:net';
import { applyContext, type ContextRule } from '../context.js';
import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
// Not part of a longer dotted run ("1.2.3.4.5" is a version or an OID).
const V4 = new RegExp(String.raw`(?<![\d.]|[\d]\.)${OCTET}(?:\.${OCTET}){3}(?![\d]|\.\d)`, 'g');
const V6 = /(?<![\p{L}\p{N}:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?![\p{L}\p{N}:])/gu;

const CONTEXT: ContextRule[] = [
  { words: /\b(?:ip|ipv4|ipv6|address|host|server|client|from|blocked|firewall|ping)\b/, delta: 0.1 },
  { words: /(?:\bv|\bversion|\bver|\brelease|\bbuild|\bfirmware|\bsdk)\s*\.?\s*\u0000/, delta: -0.5, after: 0 },
];

export function findIps(text: string): Match[] {
  const out: Match[] = [];
  for (const m of allMatches(V4, text)) {
    const score = applyContext(text, m.index, m.index + m[0].length, 0.8, CONTEXT);
    out.push(match('ip_address', text, m.index, m.index + m[0].length, score));
  }
  // An IPv6 address holds two colons at the least; most text with one ("Note:", "10:30") has no second.
  const colon = text.indexOf(':');
  if (colon < 0 || text.indexOf(':', colon + 1) < 0) return out;
  for (const m of allMatches(V6, text)) {
    const s = m[0];
    // Two or more hex groups keep "a::b"-like code out; isIPv6 does the real validation.
    if ((s.match(/[0-9A-Fa-f]+/g) ?? []).length < 2 || !isIPv6(s)) continue;
    out.push(match('ip_address', text, m.index, m.index + s.length, applyContext(text, m.index, m.index + s.length, 0.85, CONTEXT)));
  }
  return out;
}
