// Passwords: argon2id with OWASP's parameters, and NIST SP 800-63B rules for choosing one (length, no
// composition rules, Unicode normalised, refused when it is a known common/breached password or built
// from the account's own context).
import { dictionary } from '@zxcvbn-ts/language-common';
import argon2 from 'argon2';
import { DomainError } from '../errors.js';

/** OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane. */
const ARGON2 = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;
export const MIN_LENGTH = 12;
export const MAX_LENGTH = 256;

const COMMON = new Set<string>(dictionary['passwords-common'] as string[]);

/** NFKC, as 800-63B asks, so the same password typed on two keyboards is the same password. */
export const normalise = (password: string): string => password.normalize('NFKC');

/** Why a new password is refused, or null. `context`: the email and names the password must not be built from. */
export function passwordProblem(password: string, context: string[] = []): string | null {
  const p = normalise(password);
  const length = [...p].length;
  if (length < MIN_LENGTH) return `must be at least ${MIN_LENGTH} characters`;
  if (length > MAX_LENGTH) return `must be at most ${MAX_LENGTH} characters`;
  const lower = p.toLowerCase();
  if (COMMON.has(lower) || COMMON.has(lower.replace(/[\d!?.]+$/, '')))
    return 'is a commonly used password that appears in breach lists; choose another';
  if (/^(.)\1+$/u.test(p)) return 'is one repeated character';
  if (/^(?:0123456789|1234567890|abcdefghij|qwertyuiop)/.test(lower)) return 'is a keyboard or number sequence';
  const words = new Set(['parley', ...context.flatMap((c) => c.toLowerCase().split(/[@.\s_+-]+/)).filter((w) => w.length >= 4)]);
  for (const w of words)
    if (lower.replace(/[^a-z]/g, '') === w || (lower.includes(w) && length - w.length < 6))
      return 'is too close to your email or name, or to the service name';
  return null;
}

export function assertPassword(password: string, context: string[] = [], path = '/password'): void {
  const problem = passwordProblem(password, context);
  if (problem) throw new DomainError('invalid_input', `The password ${problem}.`, { errors: [{ path, message: problem, code: 'weak_password' }] });
}

export const hashPassword = (password: string): Promise<string> => argon2.hash(normalise(password), ARGON2);

/** A hash to compare against when there is no account, so an unknown email costs as much time as a known one. */
let decoy: Promise<string> | null = null;
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  const h = hash ?? (await (decoy ??= hashPassword('decoy password that matches nothing')));
  try {
    const ok = await argon2.verify(h, normalise(password));
    return ok && hash !== null;
  } catch {
    return false;
  }
}

/** True when a stored hash was made with weaker parameters than today's: it is re-hashed at the next sign-in. */
export const needsRehash = (hash: string): boolean => argon2.needsRehash(hash, ARGON2);
