import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { describe, expect, test } from 'vitest';
import { signUserSession } from './session.js';

const SECRET = `idsec_0123456789abcdef_${Buffer.alloc(32, 7).toString('base64url')}`;

describe('signUserSession', () => {
  test('a shared-secret token: HS256, kid, audience, at most 10 minutes, unique jti', async () => {
    const a = await signUserSession({ id: 'u-1', email: 'ada@example.com', name: 'Ada', traits: { plan: 'pro' } }, { secret: SECRET });
    const b = await signUserSession({ id: 'u-1' }, { secret: SECRET, expiresIn: '10m' });
    expect(decodeProtectedHeader(a)).toMatchObject({ alg: 'HS256', kid: '0123456789abcdef' });
    const { payload } = await jwtVerify(a, Buffer.alloc(32, 7), { audience: 'parley:identity', algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'u-1', email: 'ada@example.com', name: 'Ada', traits: { plan: 'pro' } });
    expect(payload.exp! - payload.iat!).toBe(300);
    const pb = (await jwtVerify(b, Buffer.alloc(32, 7), { audience: 'parley:identity' })).payload;
    expect(pb.exp! - pb.iat!).toBe(600);
    expect(pb.jti).not.toBe(payload.jti);
  });

  test.each([
    ['ed25519', 'EdDSA'],
    ['ec', 'ES256'],
    ['rsa', 'RS256'],
  ] as const)('%s private keys as KeyObject, PEM and JWK sign with %s', async (type, alg) => {
    const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
    const forms = [pair.privateKey, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { ...(await exportJWK(pair.privateKey)), kid: 'k1' }];
    for (const privateKey of forms) {
      const token = await signUserSession({ id: 'u-2' }, { privateKey });
      expect(decodeProtectedHeader(token).alg).toBe(alg);
      expect((await jwtVerify(token, pair.publicKey, { audience: 'parley:identity', algorithms: [alg] })).payload.sub).toBe('u-2');
    }
  });

  test('refuses long lifetimes and bad input', async () => {
    await expect(signUserSession({ id: 'u' }, { secret: SECRET, expiresIn: 601 })).rejects.toThrow(/10 minutes/);
    await expect(signUserSession({ id: 'u' }, { secret: SECRET, expiresIn: '1h' })).rejects.toThrow();
    await expect(signUserSession({ id: '' }, { secret: SECRET })).rejects.toThrow(/user.id/);
    await expect(signUserSession({ id: 'u', email: 'nope' }, { secret: SECRET })).rejects.toThrow(/email/);
    await expect(signUserSession({ id: 'u', traits: { big: 'x'.repeat(2000) } }, { secret: SECRET })).rejects.toThrow(/1 KB/);
    await expect(signUserSession({ id: 'u' }, { secret: 'hunter2' })).rejects.toThrow(/idsec_/);
  });
});
