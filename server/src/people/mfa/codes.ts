// TOTP (RFC 6238: SHA-1, 6 digits, 30 s, a window of ±1 step) and recovery codes.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD = 30;
export const TOTP_WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

const totpFor = (secretBase32: string, label = 'member') =>
  new TOTP({ issuer: 'Parley', label, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD, secret: Secret.fromBase32(secretBase32) });

export const otpauthUri = (secretBase32: string, email: string): string => totpFor(secretBase32, email).toString();

/** The time step a code belongs to, when it is valid now (±1 step); null when it is not. */
export function totpStep(secretBase32: string, code: string, now = Date.now()): number | null {
  const delta = totpFor(secretBase32).validate({ token: code, timestamp: now, window: TOTP_WINDOW });
  if (delta === null) return null;
  return TOTP.counter({ period: TOTP_PERIOD, timestamp: now }) + delta;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 80 random bits as 16 base32 characters, shown as `xxxx-xxxx-xxxx-xxxx`. */
function recoveryCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

/** What is compared: case, spaces and dashes do not matter. */
const normalise = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');

/** SHA-256 of the code, bound to its member (80-bit codes: a fast hash is enough). */
export const recoveryCodeHash = (memberId: string, code: string): Buffer =>
  createHash('sha256')
    .update(`parley/recovery-code/v1/${memberId}/${normalise(code)}`)
    .digest();

export function newRecoveryCodes(memberId: string): { codes: string[]; rows: { id: string; hash: Buffer }[] } {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, recoveryCode);
  return { codes, rows: codes.map((c) => ({ id: randomUUID(), hash: recoveryCodeHash(memberId, c) })) };
}
