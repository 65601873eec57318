// Sign-In Pro as a host's backend does it in tests: a new shared secret from the admin API, and HS256
// identity tokens signed with it (five minutes, a fresh jti each).
import { SignJWT } from 'jose';
import { call } from './http.js';

export async function identitySigner(url: string, secretKey: string): Promise<(sub: string, claims?: Record<string, unknown>) => Promise<string>> {
  const created = await call(url, 'POST', '/v1/admin/identity/secrets', { key: secretKey });
  if (created.status !== 201) throw new Error(`identity secret: ${created.status} ${created.text}`);
  const key = Buffer.from(String(created.body.secret).split('_').slice(2).join('_'), 'base64url');
  return (sub, claims = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: created.body.kid })
      .setSubject(sub)
      .setAudience('parley:identity')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(crypto.randomUUID())
      .sign(key);
  };
}
