// Widget session tokens as a verifier sees them: signature, audience, issuer and expiry, whether or not
// this process has verified the same token before.
import { describe, expect, test } from 'vitest';
import { ed25519FromSeed } from '../crypto/ed25519.js';
import { SESSION_TTL_S, VERIFIED_TOKENS, WidgetTokens } from './tokens.js';

const ISSUER = 'https://parley.example';
const claims = { tenantId: '11111111-1111-4111-8111-111111111111', visitorRef: 'v_one', origin: 'https://shop.example', subject: null };

function tokens(now: () => number = Date.now) {
  return new WidgetTokens(ed25519FromSeed(Buffer.alloc(32, 1)), ISSUER, now);
}

describe('WidgetTokens.verify', () => {
  test('a token verified before is refused once it expires', async () => {
    let now = Date.now();
    const t = tokens(() => now);
    const { token, expiresAt } = await t.sign(claims);
    expect(await t.verify(token)).toEqual(claims);
    expect(await t.verify(token)).toEqual(claims);
    // The last moment of its 5 s of clock tolerance, then the first after it: the same verdicts as a
    // token never verified before would get.
    now = Date.parse(expiresAt) + 4999;
    expect(await t.verify(token)).toEqual(claims);
    now += 1;
    await expect(t.verify(token)).rejects.toMatchObject({ code: 'token_expired' });
    now += SESSION_TTL_S * 1000;
    await expect(t.verify(token)).rejects.toMatchObject({ code: 'token_expired' });
  });

  test('a tampered copy of a token verified before is refused', async () => {
    const t = tokens();
    const { token } = await t.sign(claims);
    await t.verify(token);
    const [header, payload, signature] = token.split('.');
    const flipped = signature!.startsWith('A') ? `B${signature!.slice(1)}` : `A${signature!.slice(1)}`;
    await expect(t.verify(`${header}.${payload}.${flipped}`)).rejects.toMatchObject({ code: 'token_invalid' });
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), tid: 'other' })).toString('base64url');
    await expect(t.verify(`${header}.${forged}.${signature}`)).rejects.toMatchObject({ code: 'token_invalid' });
    const other = await new WidgetTokens(ed25519FromSeed(Buffer.alloc(32, 2)), ISSUER).sign(claims);
    await expect(t.verify(other.token)).rejects.toMatchObject({ code: 'token_invalid' });
  });

  test('what it remembers is bounded, and a caller cannot change what the next one is given', async () => {
    const t = tokens();
    const signed = await Promise.all(Array.from({ length: VERIFIED_TOKENS + 50 }, (_, i) => t.sign({ ...claims, visitorRef: `v_${i}` })));
    for (const { token } of signed) await t.verify(token);
    expect((t as unknown as { verified: Map<string, unknown> }).verified.size).toBe(VERIFIED_TOKENS);
    const first = await t.verify(signed.at(-1)!.token);
    expect(() => Object.assign(first, { tenantId: 'other' })).toThrow(TypeError);
    expect((await t.verify(signed.at(-1)!.token)).tenantId).toBe(claims.tenantId);
  });
});
