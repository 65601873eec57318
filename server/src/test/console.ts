// A browser-like client for console tests: keeps the cookies the server sets (as a browser would for
// this origin) and sends what a same-origin page's fetch sends (Origin, Sec-Fetch-Site).
import { randomUUID } from 'node:crypto';
import type { Role } from '@parley/protocol';
import type { PeopleRouteDeps } from '../people/routes.js';
import { createInvite } from '../people/service.js';
import type { TestApp } from './app.js';
import { call, type Res } from './http.js';

export interface SetCookie {
  name: string;
  value: string;
  attributes: string[];
}

export function parseSetCookies(headers: Headers): SetCookie[] {
  return headers.getSetCookie().map((c) => {
    const [pair, ...attributes] = c.split(';').map((p) => p.trim());
    const eq = pair!.indexOf('=');
    return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
  });
}

export class ConsoleClient {
  readonly jar = new Map<string, string>();

  constructor(
    readonly base: string,
    /** Headers a same-origin page sends; tests override them to play a cross-site page. */
    readonly pageHeaders: Record<string, string> = { origin: base, 'sec-fetch-site': 'same-origin' },
  ) {}

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    const res = await call<T>(this.base, method, path, {
      ...(body === undefined ? {} : { body }),
      headers: { ...this.pageHeaders, ...(this.jar.size ? { cookie: this.cookieHeader() } : {}), ...headers },
    });
    for (const c of parseSetCookies(res.headers)) {
      const maxAge = c.attributes.find((a) => a.toLowerCase().startsWith('max-age='));
      if (maxAge && Number(maxAge.split('=')[1]) <= 0) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    return res;
  }

  /** A copy holding the same cookies (a second tab, or a thief's copy). */
  clone(): ConsoleClient {
    const c = new ConsoleClient(this.base, this.pageHeaders);
    for (const [k, v] of this.jar) c.jar.set(k, v);
    return c;
  }
}

export const STRONG_PASSWORD = 'correct horse battery staple 42';

/** Invites `email` as `role` through the service (as the CLI does) and accepts through HTTP; returns a signed-in client. */
export async function signedInMember(
  t: TestApp,
  tenantId: string,
  role: Role,
  email = `${role}-${randomUUID().slice(0, 8)}@acme.example`,
  displayName = `${role} person`,
  /** The console's origin when it is not the test server's own (PARLEY_PUBLIC_URL set). */
  origin = t.url,
): Promise<{ client: ConsoleClient; memberId: string; email: string }> {
  const { url } = await createInvite(peopleDeps(t), { requestId: null, actor: { type: 'cli', id: 'test' }, tenantId, role: null }, { email, role });
  const token = new URL(url).hash.replace('#invite=', '');
  const client = new ConsoleClient(t.url, { origin, 'sec-fetch-site': 'same-origin' });
  const res = await client.call('POST', '/v1/auth/invites/accept', { token, displayName, password: STRONG_PASSWORD });
  if (res.status !== 201 || res.body.status !== 'signed_in') throw new Error(`accepting the invite: ${res.status} ${res.text}`);
  return { client, memberId: res.body.member.id, email };
}

/** The app's people dependencies (mailer, sessions, keyring) as the running app holds them. */
export const peopleDeps = (t: TestApp): PeopleRouteDeps => t.app.locals.people as PeopleRouteDeps;
