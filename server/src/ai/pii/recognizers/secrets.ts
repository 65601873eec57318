import type { Match } from '../types.js';
import { allMatches } from './regex.js';
import { match } from './types.js';

interface Pattern {
  re: RegExp;
  score: number;
  /** Capture group holding the secret; the whole match when absent. */
  group?: number;
}

// Vendor formats with fixed prefixes are near-certain; the generic ones need a prefix and length.
const PATTERNS: Pattern[] = [
  { re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g, score: 0.99 },
  { re: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z2-7]{16}\b/g, score: 0.95 },
  {
    re: /\b(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)\b["']?\s*[:=]?\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    score: 0.95,
    group: 1,
  },
  { re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g, score: 0.95 },
  { re: /\bBearer\s+([A-Za-z0-9\-._~+/]{16,}=*)/g, score: 0.9, group: 1 },
  { re: /\b(?:sk|pk|rk|whsec)_(?:live|test)_[A-Za-z0-9]{10,}/g, score: 0.95 },
  { re: /\b(?:sk|pk)[-_](?=[A-Za-z0-9_-]*\d)[A-Za-z0-9][A-Za-z0-9_-]{19,}/g, score: 0.85 },
  { re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}/g, score: 0.95 },
  { re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, score: 0.95 },
  { re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, score: 0.95 },
  // user:password@host in a URL
  { re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:([^\s@/]+)@/gi, score: 0.9, group: 1 },
];

// The word for a password in the languages visitors write in, then a link ("is", "ist", "est", "は", ":")
// or a space, then the value.
const SECRET_WORD =
  /(?<![\p{L}\p{N}_])(?:password|passwd|pwd|passcode|passphrase|pin(?: code| number)?|secret|api[_\- ]?key|access[_\- ]?token|auth[_\- ]?token|client[_\- ]?secret|token|mot de passe|passwort|kennwort|contraseña|senha|wachtwoord|hasło|parola|lösenord|пароль|パスワード|密码|密碼|비밀번호)(?![\p{L}\p{N}_])(\s*(?:was|ist|war|est|era|är|jest|is|es|é|è|是|は|=|:|：|->)(?![\p{L}])\s*|\s+)["'`]?([^\s"'`]{3,})/giu;

/** A value right after a secret-naming word. After "is" or a bare space it must look like a secret, not a word. */
function scoreValue(sep: string, value: string): number {
  const lettersOnly = /^[\p{L}]+$/u.test(value);
  if (/[:=]|->/.test(sep)) return 0.85;
  if (/\p{L}/u.test(sep)) return lettersOnly ? 0 : 0.75;
  return !lettersOnly && /\d/.test(value) && /[\p{L}\W]/u.test(value) ? 0.6 : 0;
}

export function findSecrets(text: string): Match[] {
  const out: Match[] = [];
  for (const p of PATTERNS) {
    for (const m of allMatches(p.re, text)) {
      const g = p.group ? m[p.group]! : m[0];
      const start = m.index + (p.group ? m[0].lastIndexOf(g) : 0);
      out.push(match('credential', text, start, start + g.length, p.score));
    }
  }
  for (const m of allMatches(SECRET_WORD, text)) {
    // A sentence's full stop or comma is not part of the password.
    const value = m[2]!.replace(/[.,;!?)]+$/, '');
    const score = value.length >= 3 ? scoreValue(m[1]!, value) : 0;
    if (score === 0) continue;
    const start = m.index + m[0].length - m[2]!.length;
    out.push(match('credential', text, start, start + value.length, score));
  }
  return out;
}
