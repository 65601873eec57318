// Console cookies: always `__Host-` (so Secure, Path=/ and no Domain: only this exact origin gets them)
// and HttpOnly (no script on any page reads them).
import type { Request, Response } from 'express';

export const ACCESS_COOKIE = '__Host-parley_access';
export const REFRESH_COOKIE = '__Host-parley_refresh';
export const MFA_COOKIE = '__Host-parley_mfa';
export const SSO_COOKIE = '__Host-parley_sso';
/** An SSO identity waiting for its member's password to be linked (sign-in.ts). */
export const SSO_LINK_COOKIE = '__Host-parley_sso_link';

export interface CookieOptions {
  maxAgeSeconds: number;
  /** Strict unless a cross-site navigation must carry it back (an IdP's redirect: Lax; a SAML POST: None). */
  sameSite?: 'Strict' | 'Lax' | 'None';
}

export function setCookie(res: Response, name: string, value: string, opts: CookieOptions): void {
  const cookie = `${name}=${value}; Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}; Path=/; Secure; HttpOnly; SameSite=${opts.sameSite ?? 'Strict'}`;
  const prev = res.getHeader('Set-Cookie');
  const list = Array.isArray(prev) ? prev : prev === undefined ? [] : [String(prev)];
  res.setHeader('Set-Cookie', [...list.filter((c) => !c.startsWith(`${name}=`)), cookie]);
}

export const clearCookie = (res: Response, name: string): void => setCookie(res, name, '', { maxAgeSeconds: 0 });

/** A cookie's value; cookie values we set are base64url or JWTs, so anything else is ignored. */
export function readCookie(req: Request, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9._~-]{1,4096}$/.test(value) ? value : null;
  }
  return null;
}
