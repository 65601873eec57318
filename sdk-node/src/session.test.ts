import { generateKeyPairSync, createSecretKey, webcrypto } from 'node:crypto';
import { IdentityClaims } from '@parley/protocol';
import { decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { describe, expect, test } from 'vitest';
import { identityAudience, signUserSession, type SessionUser } from './session.js';

const RAW = Buffer.alloc(32, 7);
const SECRET = `idsec_0123456789abcdef_${RAW.toString('base64url')}`;
const verifyHs = (token: string) => jwtVerify(token, RAW, { audience: 'parley:identity', algorithms: ['HS256'] });
const TENANT = '3f2b8c1e-6a4d-4e0f-9b7a-2c5d8e1f0a93';
const TENANT_AUDIENCE = `parley:identity:${TENANT}`;

describe('signUserSession', () => {
  test('a shared-secret token: HS256, kid, audience, claims that satisfy the protocol schema', async () => {
    const token = await signUserSession(
      { id: 'u-1', email: 'ada@example.com', name: 'Ada', traits: { plan: 'pro', seats: 3, trial: false, ref: null } },
      { secret: SECRET, issuer: 'https://app.example' },
    );
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: '0123456789abcdef' });
    const { payload } = await verifyHs(token);
    expect(payload).toMatchObject({
      sub: 'u-1',
      aud: 'parley:identity',
      iss: 'https://app.example',
      email: 'ada@example.com',
      name: 'Ada',
      traits: { plan: 'pro', seats: 3, trial: false, ref: null },
    });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
    expect(IdentityClaims.parse(payload)).toMatchObject({ sub: 'u-1' });
  });

  test('lifetimes up to 10 minutes; every jti is random and at least 128 bits', async () => {
    for (const [expiresIn, seconds] of [
      [1, 1],
      [600, 600],
      ['90s', 90],
      ['10m', 600],
      ['7', 7],
    ] as const) {
      // A second's tolerance: a 1 s token signed just before a second ticks over has expired a moment later.
      const token = await signUserSession({ id: 'u' }, { secret: SECRET, expiresIn });
      const { payload } = await jwtVerify(token, RAW, { audience: 'parley:identity', algorithms: ['HS256'], clockTolerance: 1 });
      expect(payload.exp! - payload.iat!).toBe(seconds);
    }
    const jtis = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { payload } = await verifyHs(await signUserSession({ id: 'u' }, { secret: SECRET }));
      expect(Buffer.from(payload.jti!, 'base64url').length).toBeGreaterThanOrEqual(16);
      jtis.add(payload.jti!);
    }
    expect(jtis.size).toBe(200);
  });

  test.each([601, 3600, '11m', '1h', 0, -5, 1.5, Number.NaN, '5 minutes'])('refuses expiresIn %s', async (expiresIn) => {
    await expect(signUserSession({ id: 'u' }, { secret: SECRET, expiresIn })).rejects.toThrow(TypeError);
  });

  test.each([
    ['ed25519', 'EdDSA'],
    ['ec', 'ES256'],
    ['rsa', 'RS256'],
  ] as const)('%s private keys as KeyObject, PEM and JWK sign with %s', async (type, alg) => {
    const pair =
      type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ed25519');
    const forms = [
      [pair.privateKey, 'k0'],
      [pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'k0'],
      [{ ...(await exportJWK(pair.privateKey)), kid: 'from-jwk' }, 'from-jwk'],
    ] as const;
    for (const [privateKey, kid] of forms) {
      const token = await signUserSession(
        { id: 'u-2', traits: { tier: 'gold' } },
        { privateKey, tenant: TENANT, ...(kid === 'k0' ? { kid } : {}), alg },
      );
      expect(decodeProtectedHeader(token)).toEqual({ alg, typ: 'JWT', kid });
      const { payload } = await jwtVerify(token, pair.publicKey, { audience: TENANT_AUDIENCE, algorithms: [alg] });
      expect(payload.sub).toBe('u-2');
      expect(payload.aud).toBe(TENANT_AUDIENCE);
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(600);
      expect(IdentityClaims.safeParse(payload).success).toBe(true);
    }
  });

  test('a Web Crypto CryptoKey signs too; an explicit kid wins over the JWK kid', async () => {
    const pair = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const token = await signUserSession({ id: 'u-3' }, { privateKey: pair.privateKey, tenant: TENANT });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'JWT' });
    expect((await jwtVerify(token, pair.publicKey, { audience: TENANT_AUDIENCE })).payload.sub).toBe('u-3');
    const jwk = { ...(await exportJWK(pair.privateKey)), kid: 'old' };
    expect(decodeProtectedHeader(await signUserSession({ id: 'u' }, { privateKey: jwk, kid: 'new', tenant: TENANT })).kid).toBe('new');
  });

  test('refuses keys that would sign weakly or not at all', async () => {
    const ed = generateKeyPairSync('ed25519');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const refused: [unknown, RegExp][] = [
      [ed.publicKey, /public key/],
      [ed.publicKey.export({ format: 'pem', type: 'spki' }).toString(), /PEM private key/],
      [await exportJWK(ed.publicKey), /public JWK/],
      [createSecretKey(RAW), /private key/],
      [{ kty: 'oct', k: RAW.toString('base64url') }, /oct/],
      [p384.privateKey, /P-256/],
      [rsa1024.privateKey, /2048/],
      ['not a key', /PEM/],
      [42, /privateKey must be/],
    ];
    for (const [privateKey, message] of refused) {
      await expect(signUserSession({ id: 'u' }, { privateKey: privateKey as never, tenant: TENANT })).rejects.toThrow(message);
    }
    await expect(signUserSession({ id: 'u' }, { privateKey: ed.privateKey, tenant: TENANT, alg: 'RS256' })).rejects.toThrow(/signs EdDSA/);
    await expect(signUserSession({ id: 'u' }, { privateKey: ed.privateKey, tenant: TENANT, alg: 'none' as never })).rejects.toThrow(TypeError);
    await expect(signUserSession({ id: 'u' }, { secret: SECRET, privateKey: ed.privateKey } as never)).rejects.toThrow(/exactly one/);
    await expect(signUserSession({ id: 'u' }, {} as never)).rejects.toThrow(/exactly one/);
  });

  test('a private key signs for one tenant: the tenant is required, and the token names it alone in aud', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    // Without a tenant, a token from this key would be good at every tenant that registered its public half.
    await expect(signUserSession({ id: 'u' }, { privateKey } as never)).rejects.toThrow(/tenant is required/);
    for (const tenant of ['', 'acme', 'pk_test_abc', `${TENANT}x`, 42 as never]) {
      await expect(signUserSession({ id: 'u' }, { privateKey, tenant })).rejects.toThrow(/tenant id \(a UUID/);
    }
    // As the console shows it, in any case or with stray blanks around it.
    const token = await signUserSession({ id: 'u-4' }, { privateKey, tenant: ` ${TENANT.toUpperCase()} ` });
    const { payload } = await jwtVerify(token, publicKey, { audience: TENANT_AUDIENCE, algorithms: ['EdDSA'] });
    expect(payload.aud).toBe(identityAudience(TENANT));
    expect(IdentityClaims.parse(payload)).toMatchObject({ aud: TENANT_AUDIENCE });
  });

  test('a shared secret may name its tenant too: then the token names it in aud', async () => {
    const { payload } = await jwtVerify(await signUserSession({ id: 'u-5' }, { secret: SECRET, tenant: TENANT }), RAW, {
      audience: TENANT_AUDIENCE,
      algorithms: ['HS256'],
    });
    expect(payload.aud).toBe(TENANT_AUDIENCE);
    await expect(signUserSession({ id: 'u' }, { secret: SECRET, tenant: 'staging' })).rejects.toThrow(/tenant id/);
  });

  test('the claims contract: aud names Parley identity, and at most one tenant', () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'u', iat: now, exp: now + 60, jti: 'j'.repeat(22) };
    const other = 'parley:identity:00000000-0000-4000-8000-000000000001';
    for (const aud of ['parley:identity', TENANT_AUDIENCE, ['parley:identity', TENANT_AUDIENCE], ['https://app.example', TENANT_AUDIENCE]])
      expect(IdentityClaims.safeParse({ ...claims, aud }).success).toBe(true);
    for (const aud of ['someone-else', 'parley:identity:staging', `${TENANT_AUDIENCE}x`, [TENANT_AUDIENCE, other], ['someone-else']])
      expect(IdentityClaims.safeParse({ ...claims, aud }).success).toBe(false);
  });

  test.each([
    ['an empty id', { id: '' }, /user.id/],
    ['a long id', { id: 'x'.repeat(257) }, /user.id/],
    ['a numeric id', { id: 42 }, /user.id/],
    ['a bad email', { id: 'u', email: 'nope' }, /email/],
    ['a long name', { id: 'u', name: 'n'.repeat(201) }, /name/],
    ['51 traits', { id: 'u', traits: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, i])) }, /50 keys/],
    ['a trait over 1 KB', { id: 'u', traits: { big: 'x'.repeat(1025) } }, /1 KB/],
    ['a trait over 1 KB in bytes', { id: 'u', traits: { big: 'é'.repeat(600) } }, /1 KB/],
    ['a nested trait', { id: 'u', traits: { o: { a: 1 } } }, /traits.o/],
    ['a NaN trait', { id: 'u', traits: { n: Number.NaN } }, /traits.n/],
    ['traits as an array', { id: 'u', traits: ['a'] }, /traits must be an object/],
    // What the server would refuse after signing ("profile claims are not valid"), refused before.
    ['a lone surrogate in the name', { id: 'u', name: 'A\ud800B' }, /user.name must not contain/],
    ['a NUL in the id', { id: 'u\u0000v' }, /user.id must not contain/],
    ['a lone surrogate in a trait', { id: 'u', traits: { plan: 'pro\udc00' } }, /traits.plan must not contain/],
    ['a NUL in a trait key', { id: 'u', traits: { 'a\u0000b': 1 } }, /traits keys/],
  ])('refuses %s with a TypeError', async (_name, user, message) => {
    const err = await signUserSession(user as unknown as SessionUser, { secret: SECRET }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(String(err)).toMatch(message);
  });

  test('refuses secrets that are not idsec_ secrets', async () => {
    for (const secret of [
      'hunter2',
      `idsec_ABC_${RAW.toString('base64url')}`,
      `idsec_01_${RAW.subarray(0, 16).toString('base64url')}`,
      `whsec_${RAW.toString('base64')}`,
    ]) {
      await expect(signUserSession({ id: 'u' }, { secret })).rejects.toThrow(/idsec_/);
    }
  });
});
