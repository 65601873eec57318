// Key material: secret keys are shown once and stored only as SHA-256; publishable keys are public ids.
import { createHash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Unbiased base62 from random bytes (rejection sampling). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

const mode = (env: string) => (env === 'production' ? 'live' : 'test');

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** `sk_live_…` with 190 bits of entropy; the first 12 characters are the visible prefix. */
export function newSecretKey(env: string): { secret: string; prefix: string; hash: Buffer } {
  const secret = `sk_${mode(env)}_${randomBase62(32)}`;
  return { secret, prefix: secret.slice(0, 12), hash: hashSecret(secret) };
}

export function newPublishableKey(env: string): string {
  return `pk_${mode(env)}_${randomBase62(24)}`;
}

export const SECRET_KEY_SHAPE = /^sk_(live|test)_[0-9A-Za-z]{32}$/;
export const PUBLISHABLE_KEY_SHAPE = /^pk_(live|test)_[0-9A-Za-z]{24}$/;
