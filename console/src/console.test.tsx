// The console in a DOM with a stand-in for the server (a fake fetch: from the components' point of view,
// the browser's fetch of another party). Every request is checked: relative URL, same-origin credentials,
// never an Authorization header, and the console never writes a credential to storage.
import { ROLE_CAPABILITIES, type AdminMe, type Capability, type Role } from '@parley/protocol';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { ApiError, createClient, type Api } from './api.js';
import { App } from './app.js';
import { formatted, showBidi } from './bidi.js';
import { Highlighted, ProblemView, SecretOnce } from './components.js';
import { verifyConsistency, verifyInclusion } from './merkle.js';
import { SSO_ERRORS } from './session.js';
import { OIDC_REFUSALS, SAML_REFUSALS } from '@parley/protocol';
import { qrMatrix } from './qr.js';
import { groupSecret, QrCode } from './signin.js';
import { AccountView } from './views/account.js';
import { AuditView, checkContinuity, rememberedKey } from './views/audit.js';
import { InboxView, RedactedText } from './views/inbox.js';
import { BusinessHoursSchema, renderCannedReply, type InboxRow } from '@parley/protocol';
import { alertAgent, soundOn, titleFor } from './inbox/alerts.js';
import { LiveInbox } from './inbox/context.js';
import { InboxLive } from './inbox/live.js';
import { CannedRepliesView } from './views/canned.js';
import { BusinessHoursView, scheduleErrors } from './views/hours.js';
import { IdentityView } from './views/identity.js';
import { KeysView } from './views/keys.js';
import { KnowledgeView } from './views/knowledge.js';
import { parseGroupRoles, SignInSettingsView, splitCertificates } from './views/signin-settings.js';
import { TeamView } from './views/team.js';
import { webauthn } from './webauthn.js';

const TENANT = { id: '00000000-0000-4000-8000-0000000000aa', name: 'Acme' };
const ME_ID = '00000000-0000-4000-8000-00000000a001';
const meFor = (role: Role, capabilities: readonly Capability[] = ROLE_CAPABILITIES[role]): AdminMe => ({
  tenant: TENANT,
  capabilities: [...capabilities],
  member: { id: ME_ID, email: 'ann@acme.example', displayName: 'Ann Example', role, sessionId: '00000000-0000-4000-8000-000000005e55' },
  apiKey: null,
});
const problem = (status: number, slug: string, extra: Record<string, unknown> = {}) =>
  json({ type: `/docs/problems/${slug}`, title: slug, status, request_id: 'req_p', ...extra }, status, 'application/problem+json');

function mount(node: preact.ComponentChild) {
  const el = document.createElement('div');
  document.body.append(el);
  act(() => render(node, el));
  return el;
}
// act() flushes Preact's renders, so the typed value is in state before the form is submitted.
const type = async (input: HTMLInputElement | HTMLTextAreaElement, value: string) =>
  act(() => {
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
const choose = (input: HTMLSelectElement | HTMLInputElement, value?: string) =>
  act(() => {
    if (input instanceof HTMLSelectElement) input.value = value!;
    else input.checked = value === undefined ? true : value === 'on';
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
// After what is pending has answered: a form whose request is still running ignores a second submit.
const submit = async (form: Element) => {
  await act(() => new Promise((r) => setTimeout(r, 0)));
  await act(() => void form.dispatchEvent(new Event('submit', { cancelable: true })));
};
const button = (el: Element, text: string | RegExp) => {
  const b = [...el.querySelectorAll<HTMLButtonElement>('button')].find((x) =>
    typeof text === 'string' ? x.textContent?.trim() === text : text.test(x.textContent ?? ''),
  );
  if (!b) throw new Error(`no button ${text}`);
  return b;
};
const click = (el: Element, text: string | RegExp) => act(() => button(el, text).click());
const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type, 'X-Request-Id': 'req_header' } });
const adminApi = (f: (url: string, init?: RequestInit) => Promise<Response>): Api => createClient({ fetchImpl: f as unknown as typeof fetch }).admin;

type Reply = unknown | ((body: any, n: number) => Response | unknown);
interface Call {
  method: string;
  path: string;
  body: any;
  init: RequestInit;
}
/** A stand-in server: `METHOD /path` → a JSON body, a Response, or a function of the request body and how many times it was called. */
function fakeServer(routes: Record<string, Reply | Reply[]>) {
  const calls: Call[] = [];
  const counts = new Map<string, number>();
  const fetchImpl = vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const key = `${method} ${url}`;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: url, body, init });
    const n = counts.get(key) ?? 0;
    counts.set(key, n + 1);
    let reply = routes[key];
    if (Array.isArray(reply)) reply = reply[Math.min(n, reply.length - 1)];
    if (reply === undefined) return problem(404, 'not-found');
    // A reply may be a promise (an answer that comes later); an aborted request rejects, as fetch does.
    const answered = Promise.resolve(typeof reply === 'function' ? (reply as (b: unknown, n: number) => unknown)(body, n) : reply);
    const out = await (init.signal
      ? Promise.race([
          answered,
          new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
        ])
      : answered);
    if (out instanceof Response) return out;
    return out === null ? new Response(null, { status: 204 }) : json(out);
  });
  const sent = () => calls.map((c) => `${c.method} ${c.path}`);
  const find = (key: string) => calls.filter((c) => `${c.method} ${c.path}` === key);
  return { fetchImpl: fetchImpl as unknown as typeof fetch, calls, sent, find };
}
/** What every request of the console must look like. */
function expectSameOriginCookiesOnly(calls: Call[]) {
  expect(calls.length).toBeGreaterThan(0);
  for (const c of calls) {
    expect(c.path.startsWith('/v1/')).toBe(true);
    expect(c.init.credentials).toBe('same-origin');
    const headers = new Headers(c.init.headers);
    expect(headers.has('Authorization')).toBe(false);
  }
}
const noStoredCredential = () => {
  expect(sessionStorage.length).toBe(0);
  expect(localStorage.length).toBe(0);
  expect(document.cookie).toBe('');
};

beforeEach(() => history.replaceState(null, '', '/console/'));
afterEach(() => {
  document.body.innerHTML = '';
  sessionStorage.clear();
  localStorage.clear();
  location.hash = '';
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

const COUNTS = { waiting: 0, mine: 0, unassigned: 0, open: 0 };
/** What the inbox asks for when it opens, with nothing in it. */
const EMPTY_INBOX = {
  'GET /v1/admin/inbox?view=waiting': { rows: [], nextCursor: null, counts: COUNTS, streamCursor: '0' },
  'GET /v1/admin/canned-replies': { cannedReplies: [] },
  'GET /v1/admin/presence': { members: [] },
};
const signedOut = { 'GET /v1/auth/session': { session: 'none' } };
/** Cookies the server no longer honours (the session was revoked, or ended while the page was closed). */
const ended = {
  'GET /v1/auth/session': { session: 'present' },
  'GET /v1/admin/me': () => problem(401, 'unauthenticated'),
  'POST /v1/auth/refresh': () => problem(401, 'unauthenticated'),
};
const SIGNED_IN = {
  status: 'signed_in',
  member: { id: ME_ID, email: 'ann@acme.example', displayName: 'Ann Example', role: 'owner', capabilities: [] },
  tenant: TENANT,
};

describe('session: no credential in the page', () => {
  test('without session cookies the console shows the sign-in page and asks nothing that fails', async () => {
    const s = fakeServer(signedOut);
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('#signin-email')).not.toBeNull());
    expect(s.sent()).toEqual(['GET /v1/auth/session']);
    expectSameOriginCookiesOnly(s.calls);
    expect(el.textContent).not.toMatch(/secret key|sk_/i);
    noStoredCredential();
  });

  test('with cookies of an ended session the console asks /me, tries one refresh, then shows the sign-in page', async () => {
    const s = fakeServer(ended);
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('#signin-email')).not.toBeNull());
    expect(s.sent()).toEqual(['GET /v1/auth/session', 'GET /v1/admin/me', 'POST /v1/auth/refresh']);
    expect(el.textContent).not.toContain('Your session has ended');
  });

  test('when the server cannot say whether there is a session, the console asks /me as before', async () => {
    const s = fakeServer({ 'GET /v1/auth/session': () => problem(503, 'unavailable'), 'GET /v1/admin/me': meFor('agent'), ...EMPTY_INBOX });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(s.sent().slice(0, 2)).toEqual(['GET /v1/auth/session', 'GET /v1/admin/me']);
  });

  test('an expired access token is refreshed once and the request retried', async () => {
    const s = fakeServer({
      'GET /v1/auth/session': { session: 'present' },
      'GET /v1/admin/me': [() => problem(401, 'token-expired'), meFor('agent')],
      'POST /v1/auth/refresh': null,
      ...EMPTY_INBOX,
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(s.sent().slice(0, 4)).toEqual(['GET /v1/auth/session', 'GET /v1/admin/me', 'POST /v1/auth/refresh', 'GET /v1/admin/me']);
    expect(s.find('POST /v1/auth/refresh')).toHaveLength(1);
    expectSameOriginCookiesOnly(s.calls);
    noStoredCredential();
  });

  test('concurrent 401s share one refresh (a refresh token is single-use); a failed refresh signs out once', async () => {
    let refreshed = false;
    const s = fakeServer({
      'GET /v1/admin/domains': () => (refreshed ? { domains: [] } : problem(401, 'token-expired')),
      'GET /v1/admin/members': () => (refreshed ? { members: [] } : problem(401, 'token-expired')),
      'POST /v1/auth/refresh': () => {
        refreshed = true;
        return null;
      },
    });
    const onSignedOut = vi.fn();
    const client = createClient({ fetchImpl: s.fetchImpl, onSignedOut });
    const results = await Promise.all([client.admin('GET', '/domains'), client.admin('GET', '/members'), client.admin('GET', '/domains')]);
    expect(results).toEqual([{ domains: [] }, { members: [] }, { domains: [] }]);
    expect(s.find('POST /v1/auth/refresh')).toHaveLength(1);
    expect(onSignedOut).not.toHaveBeenCalled();

    const gone = fakeServer({
      'GET /v1/admin/domains': () => problem(401, 'token-expired'),
      'POST /v1/auth/refresh': () => problem(401, 'unauthenticated'),
    });
    const c2 = createClient({ fetchImpl: gone.fetchImpl, onSignedOut });
    const err = await c2.admin('GET', '/domains').catch((e: unknown) => e);
    expect((err as ApiError).problem.status).toBe(401);
    expect(gone.sent()).toEqual(['GET /v1/admin/domains', 'POST /v1/auth/refresh']);
    expect(onSignedOut).toHaveBeenCalledTimes(1);
  });

  test('a 401 after a good refresh is the route’s own answer: shown, not a sign-out', async () => {
    const s = fakeServer({
      'DELETE /v1/admin/me/mfa/totp': () => problem(401, 'unauthenticated', { detail: 'Wrong code.' }),
      'POST /v1/auth/refresh': null,
    });
    const onSignedOut = vi.fn();
    const err = await createClient({ fetchImpl: s.fetchImpl, onSignedOut })
      .admin('DELETE', '/me/mfa/totp', { code: '000000' })
      .catch((e: unknown) => e);
    expect((err as ApiError).problem.detail).toBe('Wrong code.');
    expect(s.sent()).toEqual(['DELETE /v1/admin/me/mfa/totp', 'POST /v1/auth/refresh', 'DELETE /v1/admin/me/mfa/totp']);
    expect(s.find('DELETE /v1/admin/me/mfa/totp')[1]!.body).toEqual({ code: '000000' });
    expect(onSignedOut).not.toHaveBeenCalled();
  });

  test('a session that ends while the console is open (refresh refused) returns to the sign-in page, saying so', async () => {
    const s = fakeServer({
      'GET /v1/admin/me': meFor('agent'),
      'GET /v1/admin/inbox?view=waiting': () => problem(401, 'token-expired'),
      'POST /v1/auth/refresh': () => problem(401, 'unauthenticated'),
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('#signin-email')).not.toBeNull());
    expect(el.textContent).toContain('Your session has ended. Sign in again.');
    expect(s.find('POST /v1/auth/refresh')).toHaveLength(1);
  });

  test('sign-out asks the server to end the session, then shows the sign-in page', async () => {
    const s = fakeServer({ 'GET /v1/admin/me': meFor('analyst'), 'POST /v1/auth/sign-out': null, ...EMPTY_INBOX });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    await click(el, 'Sign out');
    await vi.waitFor(() => expect(el.querySelector('#signin-email')).not.toBeNull());
    expect(s.find('POST /v1/auth/sign-out')).toHaveLength(1);
    expect(el.textContent).toContain('You have signed out.');
    expectSameOriginCookiesOnly(s.calls);
    noStoredCredential();
  });

  test('signing out while a view is still loading ends its request first: no 401 for it, and no refresh', async () => {
    // The inbox's list answers only when the test says; by then the session would have ended.
    let answer: (r: Response) => void = () => {};
    const s = fakeServer({
      'GET /v1/admin/me': meFor('analyst'),
      'POST /v1/auth/sign-out': null,
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': () => new Promise<Response>((r) => (answer = r)),
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(s.find('GET /v1/admin/inbox?view=waiting')).toHaveLength(1));
    const list = s.find('GET /v1/admin/inbox?view=waiting')[0]!;
    await click(el, 'Sign out');
    await vi.waitFor(() => expect(el.querySelector('#signin-email')).not.toBeNull());
    expect(list.init.signal?.aborted).toBe(true);
    // The request ended before the one that ends the session was sent.
    expect(s.sent().indexOf('POST /v1/auth/sign-out')).toBeGreaterThan(s.sent().indexOf('GET /v1/admin/inbox?view=waiting'));
    answer(problem(401, 'unauthenticated'));
    await new Promise((r) => setTimeout(r, 20));
    expect(s.find('POST /v1/auth/refresh')).toHaveLength(0);
    expect(el.textContent).toContain('You have signed out.');
  });
});

describe('sign-in page', () => {
  const startAt = async (routes: Record<string, Reply | Reply[]>) => {
    const navigate = vi.fn();
    const s = fakeServer({ ...signedOut, ...routes });
    const el = mount(<App fetchImpl={s.fetchImpl} navigate={navigate} />);
    await vi.waitFor(() => expect(el.querySelector('#signin-email')).not.toBeNull());
    return { s, el, navigate };
  };
  const fillPassword = async (el: Element) => {
    await type(el.querySelector<HTMLInputElement>('#signin-email')!, ' Ann@Acme.example ');
    await type(el.querySelector<HTMLInputElement>('#signin-password')!, 'correct horse battery staple');
    await submit(el.querySelector('form')!);
  };
  const signedInRoutes = { 'GET /v1/admin/me': meFor('owner'), ...EMPTY_INBOX };

  test('signed_in: email and password, then the console with the person, role and tenant', async () => {
    const { s, el } = await startAt({ ...signedInRoutes, 'POST /v1/auth/password': SIGNED_IN });
    await fillPassword(el);
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(el.querySelector('header')!.textContent).toContain('owner');
    expect(el.querySelector('header')!.textContent).toContain('Acme');
    expect(s.find('POST /v1/auth/password')[0]!.body).toEqual({ email: 'Ann@Acme.example', password: 'correct horse battery staple' });
    expectSameOriginCookiesOnly(s.calls);
    noStoredCredential();
  });

  test('a refused password is shown as an alert that takes focus', async () => {
    const { el } = await startAt({
      'POST /v1/auth/password': () => problem(401, 'unauthenticated', { title: 'Sign-in failed', detail: 'The email or password is wrong.' }),
    });
    await fillPassword(el);
    await vi.waitFor(() => expect(el.querySelector('[role=alert]')?.textContent).toContain('The email or password is wrong.'));
    await vi.waitFor(() => expect(document.activeElement).toBe(el.querySelector('[role=alert]')));
  });

  test('choose_tenant: lists the teams and resubmits with the chosen one', async () => {
    const other = { id: '00000000-0000-4000-8000-0000000000bb', name: 'Globex' };
    const { s, el } = await startAt({
      ...signedInRoutes,
      'POST /v1/auth/password': (b: { tenantId?: string }) => (b.tenantId ? SIGNED_IN : { status: 'choose_tenant', tenants: [TENANT, other] }),
    });
    await fillPassword(el);
    await vi.waitFor(() => expect(el.querySelector('h1')?.textContent).toBe('Choose a team'));
    await vi.waitFor(() => expect(document.activeElement).toBe(el.querySelector('h1')));
    await click(el, 'Globex');
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(s.find('POST /v1/auth/password')[1]!.body).toEqual({
      email: 'Ann@Acme.example',
      password: 'correct horse battery staple',
      tenantId: other.id,
    });
  });

  test('mfa_required: a TOTP code, a recovery code, or a passkey', async () => {
    const options = { challenge: 'abc', rpId: 'localhost' };
    const assertion = { id: 'cred', rawId: 'cred', type: 'public-key', response: { clientDataJSON: 'x' } };
    const authenticate = vi.spyOn(webauthn, 'authenticate').mockResolvedValue(assertion);
    const { s, el } = await startAt({
      ...signedInRoutes,
      'POST /v1/auth/password': { status: 'mfa_required', methods: ['totp', 'recovery_code', 'passkey'] },
      'POST /v1/auth/mfa/totp': () => problem(400, 'validation-failed', { title: 'Wrong code', detail: 'That code is not valid.' }),
      'POST /v1/auth/mfa/recovery': () => problem(400, 'validation-failed', { title: 'Wrong code' }),
      'POST /v1/auth/mfa/passkey/options': { options },
      'POST /v1/auth/mfa/passkey': SIGNED_IN,
    });
    await fillPassword(el);
    await vi.waitFor(() => expect(el.querySelector('#mfa-code')).not.toBeNull());
    expect(el.querySelector('#signin-password')).toBeNull();
    await type(el.querySelector<HTMLInputElement>('#mfa-code')!, '123456');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector('[role=alert]')?.textContent).toContain('That code is not valid.'));
    expect(s.find('POST /v1/auth/mfa/totp')[0]!.body).toEqual({ code: '123456' });

    await choose(el.querySelector<HTMLInputElement>('input[value=recovery_code]')!);
    await type(el.querySelector<HTMLInputElement>('#mfa-code')!, ' abcd-efgh-ijkl ');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(s.find('POST /v1/auth/mfa/recovery')).toHaveLength(1));
    expect(s.find('POST /v1/auth/mfa/recovery')[0]!.body).toEqual({ code: 'abcd-efgh-ijkl' });

    await choose(el.querySelector<HTMLInputElement>('input[value=passkey]')!);
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(authenticate).toHaveBeenCalledWith(options);
    expect(s.find('POST /v1/auth/mfa/passkey')[0]!.body).toEqual({ response: assertion });
    expectSameOriginCookiesOnly(s.calls);
  });

  test('mfa_enrolment_required: enrol TOTP (secret in groups of four, otpauth link), confirm, recovery codes once, then in', async () => {
    const { s, el } = await startAt({
      ...signedInRoutes,
      'POST /v1/auth/password': { status: 'mfa_enrolment_required', methods: ['totp', 'passkey'] },
      'POST /v1/auth/mfa/enrol/totp': {
        secret: 'JBSWY3DPEHPK3PXPJBSW',
        otpauthUri: 'otpauth://totp/Parley:ann?secret=JBSWY3DPEHPK3PXPJBSW&issuer=Parley',
      },
      'POST /v1/auth/mfa/enrol/totp/confirm': { recoveryCodes: ['aaaa-bbbb', 'cccc-dddd'], ...SIGNED_IN },
    });
    await fillPassword(el);
    await vi.waitFor(() => expect(el.querySelector('h1')?.textContent).toBe('Set up a second factor'));
    await click(el, 'Use an authenticator app');
    await vi.waitFor(() => expect(el.querySelector('.totp-secret')?.textContent).toBe('JBSW Y3DP EHPK 3PXP JBSW'));
    expect(el.querySelector<HTMLAnchorElement>('.secret a')!.getAttribute('href')).toMatch(/^otpauth:\/\/totp\//);
    expect(el.querySelector('svg.qr[role=img] path')!.getAttribute('d')).toMatch(/^M\d+ \d+h1v1h-1z/);
    await type(el.querySelector<HTMLInputElement>('#enrol-code')!, '654321');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector('.codes')?.textContent).toContain('aaaa-bbbb'));
    expect(s.find('POST /v1/auth/mfa/enrol/totp/confirm')[0]!.body).toEqual({ code: '654321' });
    // The console does not open behind the codes: nothing asks for /me before they are acknowledged.
    expect(s.find('GET /v1/admin/me')).toHaveLength(0);
    await click(el, 'I have saved them');
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(el.textContent).not.toContain('aaaa-bbbb');
    expectSameOriginCookiesOnly(s.calls);
  });

  test('mfa_enrolment_required: or create a passkey', async () => {
    const attestation = { id: 'new', rawId: 'new', type: 'public-key', response: { attestationObject: 'x' } };
    const register = vi.spyOn(webauthn, 'register').mockResolvedValue(attestation);
    const { s, el } = await startAt({
      ...signedInRoutes,
      'POST /v1/auth/password': { status: 'mfa_enrolment_required', methods: ['totp', 'passkey'] },
      'POST /v1/auth/mfa/enrol/passkey/options': { challenge: 'c', rp: { name: 'Parley' } },
      'POST /v1/auth/mfa/enrol/passkey': SIGNED_IN,
    });
    await fillPassword(el);
    await vi.waitFor(() => expect(el.querySelector('h1')?.textContent).toBe('Set up a second factor'));
    await click(el, 'Create a passkey');
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(register).toHaveBeenCalledWith({ challenge: 'c', rp: { name: 'Parley' } });
    expect(s.find('POST /v1/auth/mfa/enrol/passkey')[0]!.body).toEqual({ response: attestation });
  });

  test('a cancelled passkey prompt is explained', async () => {
    vi.spyOn(webauthn, 'authenticate').mockRejectedValue(
      new ApiError({
        type: 'about:blank',
        title: 'The passkey was not used',
        status: 0,
        detail: 'The browser’s passkey prompt was cancelled or timed out. Try again.',
        request_id: '',
      }),
    );
    const { el } = await startAt({ 'POST /v1/auth/passkey/options': { challenge: 'c' } });
    await click(el, 'Sign in with a passkey');
    await vi.waitFor(() => expect(el.querySelector('[role=alert]')?.textContent).toContain('cancelled'));
  });

  test('passwordless passkey: options, the browser’s assertion, signed in', async () => {
    const assertion = { id: 'cred', type: 'public-key', response: {} };
    vi.spyOn(webauthn, 'authenticate').mockResolvedValue(assertion);
    const { s, el } = await startAt({ ...signedInRoutes, 'POST /v1/auth/passkey/options': { challenge: 'c' }, 'POST /v1/auth/passkey': SIGNED_IN });
    await click(el, 'Sign in with a passkey');
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(s.find('POST /v1/auth/passkey/options')[0]!.body).toEqual({});
    expect(s.find('POST /v1/auth/passkey')[0]!.body).toEqual({ response: assertion });
  });

  test('SSO: the work email starts the sign-in at the identity provider', async () => {
    const { s, el, navigate } = await startAt({ 'POST /v1/auth/sso/start': { redirectUrl: 'https://idp.example/authorize?state=s' } });
    await click(el, 'Sign in with SSO');
    await vi.waitFor(() => expect(el.querySelector('#sso-email')).not.toBeNull());
    await vi.waitFor(() => expect(document.activeElement).toBe(el.querySelector('h1')));
    await type(el.querySelector<HTMLInputElement>('#sso-email')!, 'ann@acme.example');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(navigate).toHaveBeenCalledWith('https://idp.example/authorize?state=s'));
    expect(s.find('POST /v1/auth/sso/start')[0]!.body).toEqual({ email: 'ann@acme.example' });
    expectSameOriginCookiesOnly(s.calls);
  });

  // Attack (tenth review): the server handed back whatever entry point was stored, javascript: included,
  // and the page passed it to location.assign().
  test('SSO: a redirect that is not http(s) is refused, not followed', async () => {
    for (const redirectUrl of ['javascript:alert(document.domain)//', 'data:text/html,<script>alert(1)</script>', 'JavaScript:void(0)']) {
      const { el, navigate } = await startAt({ 'POST /v1/auth/sso/start': { redirectUrl } });
      await click(el, 'Sign in with SSO');
      await vi.waitFor(() => expect(el.querySelector('#sso-email')).not.toBeNull());
      await type(el.querySelector<HTMLInputElement>('#sso-email')!, 'ann@acme.example');
      await submit(el.querySelector('form')!);
      await vi.waitFor(() => expect(el.querySelector('[role=alert]')?.textContent).toMatch(/not a web address/));
      expect(navigate).not.toHaveBeenCalled();
      document.body.innerHTML = '';
    }
  });

  test('?sso_error= shows a clear sentence for each code, and leaves the address bar', async () => {
    for (const [code, sentence] of Object.entries(SSO_ERRORS)) {
      history.replaceState(null, '', `/console/?sso_error=${code}`);
      const s = fakeServer({});
      const el = mount(<App fetchImpl={s.fetchImpl} />);
      expect(el.querySelector('[role=alert]')!.textContent).toContain(sentence);
      expect(location.search).toBe('');
      expect(s.calls).toHaveLength(0);
      document.body.innerHTML = '';
    }
    // Every code either protocol's sign-in can give (the protocol's lists) has its own sentence.
    expect(Object.keys(SSO_ERRORS).sort()).toEqual([...new Set([...OIDC_REFUSALS, ...SAML_REFUSALS])].sort());
  });

  // Attack (eighth review): a link put any sentence on the sign-in page, as the reason SSO failed.
  test('?sso_error= with text that is no code shows a generic sentence, never the text', async () => {
    const text = 'Your account is locked. Call IT on +1-555-0100 now';
    for (const code of [text, 'Locked', 'a'.repeat(41), 'call-it', 'x<b>y</b>']) {
      history.replaceState(null, '', `/console/?sso_error=${encodeURIComponent(code)}`);
      const s = fakeServer({});
      const el = mount(<App fetchImpl={s.fetchImpl} />);
      const alert = el.querySelector('[role=alert]')!.textContent!;
      expect(alert).toContain('Single sign-on failed');
      expect(alert).not.toContain(code);
      expect(alert).not.toContain('555');
      expect(alert).not.toContain('reason:');
      expect(location.search).toBe('');
      document.body.innerHTML = '';
    }
    // A name every object has is no code with a sentence either; and a made-up code, however code-like, puts
    // no words of its own on the page (a ninth review: 'your_account_is_locked_call_it_helpdesk').
    for (const code of ['constructor', 'to_string', '__proto__', 'weird_new_code', 'your_account_is_locked_call_it_helpdesk']) {
      history.replaceState(null, '', `/console/?sso_error=${code}`);
      const el = mount(<App fetchImpl={fakeServer({}).fetchImpl} />);
      const alert = el.querySelector('[role=alert]')!.textContent!;
      expect(alert).toContain('Single sign-on failed. Try again, or ask your administrator.');
      expect(alert).not.toContain(code);
      document.body.innerHTML = '';
    }
  });

  test('#mfa after SSO: straight to the second factor, all three methods offered', async () => {
    history.replaceState(null, '', '/console/#mfa');
    const s = fakeServer({ ...signedInRoutes, 'GET /v1/admin/me': meFor('owner'), 'POST /v1/auth/mfa/totp': SIGNED_IN });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    expect([...el.querySelectorAll<HTMLInputElement>('input[name=mfa-method]')].map((i) => i.value)).toEqual(['totp', 'passkey', 'recovery_code']);
    expect(location.hash).toBe('');
    await type(el.querySelector<HTMLInputElement>('#mfa-code')!, '111111');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(s.sent()[0]).toBe('POST /v1/auth/mfa/totp');
  });

  test('the authenticator link is drawn as a QR code in the page', async () => {
    const uri = 'otpauth://totp/Parley:ann%40acme.example?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Parley';
    const m = qrMatrix(uri)!;
    const n = m.length;
    expect(n).toBeGreaterThanOrEqual(21);
    expect((n - 17) % 4).toBe(0); // a QR version's size
    // Finder patterns in three corners, timing patterns between them.
    for (const [x0, y0] of [
      [0, 0],
      [n - 7, 0],
      [0, n - 7],
    ] as const) {
      expect(m[y0 + 3]!.slice(x0, x0 + 7).map(Number)).toEqual([1, 0, 1, 1, 1, 0, 1]);
      expect(m[y0]!.slice(x0, x0 + 7).every(Boolean)).toBe(true);
    }
    expect(m[6]!.slice(8, n - 8).map(Number)).toEqual(Array.from({ length: n - 16 }, (_, i) => (i % 2 === 0 ? 1 : 0)));
    const svg = mount(<QrCode text={uri} label="QR" />).querySelector('svg path')!;
    expect(svg.getAttribute('d')!.split('M').length - 1).toBe(m.flat().filter(Boolean).length);
    expect(qrMatrix('x'.repeat(5000))).toBeNull();
  });

  test('groupSecret groups a TOTP key in fours', () => {
    expect(groupSecret('ABCDEFGHIJ')).toBe('ABCD EFGH IJ');
  });
});

describe('invitation page', () => {
  const preview = {
    email: 'bo@acme.example',
    role: 'agent',
    tenant: TENANT,
    expiresAt: new Date(Date.now() + 86400e3).toISOString(),
    ssoOnly: false,
  };

  test('reads the token once, explains the password rules, shows field errors, then signs in', async () => {
    history.replaceState(null, '', '/console/#invite=inv_token_123456');
    const s = fakeServer({
      'POST /v1/auth/invites/preview': preview,
      'POST /v1/auth/invites/accept': [
        () =>
          problem(400, 'validation-failed', {
            title: 'Validation failed',
            errors: [{ path: '/password', message: 'is a common password', code: 'weak' }],
          }),
        () => json(SIGNED_IN, 201),
      ],
      'GET /v1/admin/me': meFor('agent'),
      ...EMPTY_INBOX,
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    expect(location.hash).toBe('');
    expect(location.href).not.toContain('inv_token');
    await vi.waitFor(() => expect(el.querySelector('h1')?.textContent).toBe('Join Acme'));
    expect(s.find('POST /v1/auth/invites/preview')[0]!.body).toEqual({ token: 'inv_token_123456' });
    expect(el.textContent).toContain('bo@acme.example');
    expect(el.querySelector('#invite-password-rules')!.textContent).toContain('At least 12 characters');
    await type(el.querySelector<HTMLInputElement>('#invite-name')!, ' Bo ');
    await type(el.querySelector<HTMLInputElement>('#invite-password')!, 'password1234');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector('#invite-password-error')?.textContent).toBe('is a common password'));
    expect(el.querySelector('#invite-password')!.getAttribute('aria-invalid')).toBe('true');
    // Said once, beside the field, which takes the focus (no second box repeating it with the request's path).
    expect(document.activeElement).toBe(el.querySelector('#invite-password'));
    expect(el.textContent!.split('is a common password').length).toBe(2);
    expect(el.textContent).not.toContain('/password');
    await type(el.querySelector<HTMLInputElement>('#invite-password')!, 'a much longer passphrase');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('Ann Example'));
    expect(s.find('POST /v1/auth/invites/accept')[1]!.body).toEqual({
      token: 'inv_token_123456',
      displayName: 'Bo',
      password: 'a much longer passphrase',
    });
    expectSameOriginCookiesOnly(s.calls);
    noStoredCredential();
  });

  test('an SSO-only team: no password; sso_required leads to SSO with the email filled in', async () => {
    history.replaceState(null, '', '/console/#invite=inv_token_abcdef');
    const s = fakeServer({
      'POST /v1/auth/invites/preview': { ...preview, ssoOnly: true },
      'POST /v1/auth/invites/accept': () => json({ status: 'sso_required', tenant: TENANT }, 201),
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('#invite-name')).not.toBeNull());
    expect(el.querySelector('#invite-password')).toBeNull();
    await type(el.querySelector<HTMLInputElement>('#invite-name')!, 'Bo');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('#sso-email')?.value).toBe('bo@acme.example'));
    expect(s.find('POST /v1/auth/invites/accept')[0]!.body).toEqual({ token: 'inv_token_abcdef', displayName: 'Bo' });
    expect(el.textContent).toContain('Acme signs in with single sign-on');
  });

  test('mfa_enrolment_required after accepting goes to enrolment', async () => {
    history.replaceState(null, '', '/console/#invite=inv_token_zzzzzz');
    const s = fakeServer({
      'POST /v1/auth/invites/preview': preview,
      'POST /v1/auth/invites/accept': () => json({ status: 'mfa_enrolment_required', methods: ['totp'] }, 201),
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('#invite-name')).not.toBeNull());
    await type(el.querySelector<HTMLInputElement>('#invite-name')!, 'Bo');
    await type(el.querySelector<HTMLInputElement>('#invite-password')!, 'a much longer passphrase');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector('h1')?.textContent).toBe('Set up a second factor'));
    expect(button(el, 'Use an authenticator app')).toBeDefined();
    expect(() => button(el, 'Create a passkey')).toThrow();
  });
});

describe('navigation by role', () => {
  const links = (el: HTMLElement) => [...el.querySelectorAll('nav a')].map((a) => a.textContent);
  const open = (role: Role) => {
    const s = fakeServer({
      'GET /v1/admin/me': meFor(role),
      ...EMPTY_INBOX,
      'GET /v1/admin/knowledge/sources': { sources: [] },
      'GET /v1/admin/knowledge/embeddings': { model: null, embedded: 0, pending: 0 },
      'GET /v1/admin/domains': { domains: [] },
    });
    return { el: mount(<App fetchImpl={s.fetchImpl} />), s };
  };

  test('the current view is brought into sight in the navigation (a phone scrolls it sideways)', async () => {
    const seen: string[] = [];
    const scroll = vi.spyOn(Element.prototype, 'scrollIntoView').mockImplementation(function (this: Element) {
      seen.push(this.textContent ?? '');
    });
    history.replaceState(null, '', '/console/#team');
    open('owner');
    await vi.waitFor(() => expect(seen).toContain('Team'));
    expect(scroll.mock.calls.at(-1)).toEqual([{ block: 'nearest', inline: 'nearest' }]);
    scroll.mockRestore();
    history.replaceState(null, '', '/console/');
  });

  test('an agent sees the inbox, approvals, knowledge, reports, PII test, the team (read-only) and their account', async () => {
    const { el } = open('agent');
    await vi.waitFor(() =>
      expect(links(el)).toEqual([
        'Inbox',
        'Conversations',
        'Approvals',
        'Canned replies',
        'Knowledge',
        'Reports',
        'PII test',
        'Team',
        'Sign-in & SSO',
        'My account',
      ]),
    );
    expect(el.querySelector('h1')!.textContent).toBe('Inbox');
    expect(el.querySelector('header')!.textContent).toContain('agent');
  });

  test('a platform operator sees the tenants and their account, lists tenants and invites an owner through /v1/platform', async () => {
    const tenant = { id: '00000000-0000-4000-8000-0000000000cc', name: 'Globex', createdAt: new Date().toISOString(), members: 0 };
    const s = fakeServer({
      'GET /v1/admin/me': {
        tenant: { id: '00000000-0000-0000-0000-000000000000', name: 'Platform operators' },
        capabilities: [],
        member: { id: ME_ID, email: 'ops@deploy.example', displayName: 'Ops', role: 'operator', sessionId: '00000000-0000-4000-8000-000000005e55' },
        apiKey: null,
      },
      'GET /v1/platform/tenants': { tenants: [tenant] },
      [`POST /v1/platform/tenants/${tenant.id}/invites`]: {
        invite: {
          id: '00000000-0000-4000-8000-0000000000dd',
          email: 'boss@globex.example',
          role: 'owner',
          createdAt: '',
          expiresAt: '',
          acceptedAt: null,
          revokedAt: null,
          delivery: 'log',
          inviteUrl: 'http://x/console/#invite=inv_abc',
        },
      },
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(links(el)).toEqual(['Tenants', 'My account']));
    await vi.waitFor(() => expect(el.querySelector('tbody')?.textContent).toContain('Globex'));
    await act(() => el.querySelector<HTMLButtonElement>('tbody button')!.click());
    await type(el.querySelector<HTMLInputElement>('#owner-email')!, 'boss@globex.example');
    await submit(el.querySelector<HTMLFormElement>('#owner-email')!.form!);
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('input[readonly]')?.value).toBe('http://x/console/#invite=inv_abc'));
    expect(s.find(`POST /v1/platform/tenants/${tenant.id}/invites`)[0]!.body).toEqual({ email: 'boss@globex.example', role: 'owner' });
    expectSameOriginCookiesOnly(s.calls);
  });

  test('an analyst sees read-only views; an owner and an admin see everything', async () => {
    const a = open('analyst');
    await vi.waitFor(() =>
      expect(links(a.el)).toEqual([
        'Inbox',
        'Conversations',
        'Canned replies',
        'Knowledge',
        'Reports',
        'Audit',
        'Team',
        'Sign-in & SSO',
        'My account',
      ]),
    );
    document.body.innerHTML = '';
    for (const role of ['owner', 'admin'] as const) {
      const o = open(role);
      await vi.waitFor(() => expect(links(o.el)).toHaveLength(20));
      document.body.innerHTML = '';
    }
  });

  test('an address naming a view the role cannot use opens one it can; no request for the other', async () => {
    location.hash = '#keys';
    const { el, s } = open('agent');
    await vi.waitFor(() => expect(el.querySelector('h1')?.textContent).toBe('Inbox'));
    expect(s.sent()).not.toContain('GET /v1/admin/api-keys');
  });
});

describe('team', () => {
  const member = (id: string, name: string, role: Role, extra: Record<string, unknown> = {}) => ({
    id,
    email: `${name.toLowerCase()}@acme.example`,
    displayName: name,
    role,
    status: 'active',
    mfa: { totp: false, passkeys: 0 },
    createdAt: new Date().toISOString(),
    lastSignInAt: null,
    sso: [],
    ...extra,
  });
  const BO = '00000000-0000-4000-8000-00000000b001';
  const CY = '00000000-0000-4000-8000-00000000c001';
  const INV = '00000000-0000-4000-8000-00000000d001';
  const members = {
    members: [
      member(ME_ID, 'Ann', 'owner', { mfa: { totp: true, passkeys: 2 } }),
      member(BO, 'Bo', 'agent'),
      member(CY, 'Cy', 'admin', { mfa: { totp: true, passkeys: 0 }, sso: ['oidc'] }),
    ],
  };
  const invite = {
    id: INV,
    email: 'dee@acme.example',
    role: 'analyst',
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 86400e3).toISOString(),
    acceptedAt: null,
    revokedAt: null,
    delivery: 'log',
    inviteUrl: 'http://localhost/console/#invite=inv_x',
  };

  test('members with MFA badges; invite, copy link, revoke; change role, disable, end sessions, remove', async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    vi.stubGlobal(
      'confirm',
      vi.fn(() => true),
    );
    const s = fakeServer({
      'GET /v1/admin/members': members,
      'GET /v1/admin/invites': { invites: [invite] },
      'POST /v1/admin/invites': () => json({ invite: { ...invite, id: '00000000-0000-4000-8000-00000000d002', email: 'eve@acme.example' } }, 201),
      [`DELETE /v1/admin/invites/${INV}`]: null,
      [`PATCH /v1/admin/members/${BO}`]: (b: unknown) => ({ member: { ...member(BO, 'Bo', 'agent'), ...(b as object) } }),
      [`DELETE /v1/admin/members/${BO}/sessions`]: { ended: 2 },
      [`DELETE /v1/admin/members/${BO}`]: null,
      [`DELETE /v1/admin/members/${CY}/mfa`]: null,
      [`DELETE /v1/admin/members/${CY}/sso-link`]: null,
      [`PATCH /v1/admin/members/${ME_ID}`]: () => problem(409, 'conflict', { title: 'Conflict', detail: 'A team keeps at least one owner.' }),
    });
    const api = createClient({ fetchImpl: s.fetchImpl }).admin;
    const el = mount(<TeamView api={api} me={meFor('owner')} />);
    await vi.waitFor(() => expect(el.querySelectorAll('tbody tr').length).toBeGreaterThanOrEqual(4));
    const rows = () => [...el.querySelectorAll('table')[0]!.querySelectorAll('tbody tr')];
    expect(rows()[0]!.textContent).toContain('TOTP');
    expect(rows()[0]!.textContent).toContain('2 passkeys');
    expect(rows()[1]!.textContent).toContain('no MFA');
    // An owner may invite an owner.
    expect([...el.querySelectorAll<HTMLOptionElement>('#invite-role option')].map((o) => o.value)).toEqual(['owner', 'admin', 'agent', 'analyst']);
    await type(el.querySelector<HTMLInputElement>('#invite-email')!, 'eve@acme.example');
    await choose(el.querySelector<HTMLSelectElement>('#invite-role')!, 'admin');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Invitation for eve@acme.example created'));
    expect(s.find('POST /v1/admin/invites')[0]!.body).toEqual({ email: 'eve@acme.example', role: 'admin' });

    await click(el, 'Copy link');
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledWith('http://localhost/console/#invite=inv_x'));
    await click(el, 'Revoke');
    await vi.waitFor(() => expect(s.find(`DELETE /v1/admin/invites/${INV}`)).toHaveLength(1));

    await choose(el.querySelector<HTMLSelectElement>('select[aria-label="Role of Bo"]')!, 'analyst');
    await vi.waitFor(() => expect(s.find(`PATCH /v1/admin/members/${BO}`)).toHaveLength(1));
    expect(s.find(`PATCH /v1/admin/members/${BO}`)[0]!.body).toEqual({ role: 'analyst' });
    const ready = (text: string) => vi.waitFor(() => expect(button(rows()[1]!, text).matches(":disabled, [aria-disabled='true']")).toBe(false));
    await ready('Disable');
    await act(() => button(rows()[1]!, 'Disable').click());
    await vi.waitFor(() => expect(s.find(`PATCH /v1/admin/members/${BO}`)).toHaveLength(2));
    expect(s.find(`PATCH /v1/admin/members/${BO}`)[1]!.body).toEqual({ status: 'disabled' });
    expect(confirm).toHaveBeenCalledWith(expect.stringContaining('Disable Bo (bo@acme.example)? Their sessions end at once'));
    await ready('End sessions');
    await act(() => button(rows()[1]!, 'End sessions').click());
    await vi.waitFor(() => expect(el.textContent).toContain('2 sessions ended.'));
    await ready('Remove');
    await act(() => button(rows()[1]!, 'Remove').click());
    await vi.waitFor(() => expect(s.find(`DELETE /v1/admin/members/${BO}`)).toHaveLength(1));
    expect(confirm).toHaveBeenCalledWith(expect.stringContaining('Remove Bo'));
    // Reset MFA is offered for a teammate with factors, never for oneself or someone without.
    expect(() => button(rows()[0]!, 'Reset MFA')).toThrow();
    expect(() => button(rows()[1]!, 'Reset MFA')).toThrow();
    const cy = rows().find((r) => r.querySelector('td')?.textContent === 'Cy')!;
    await act(() => button(cy, 'Reset MFA').click());
    await vi.waitFor(() => expect(s.find(`DELETE /v1/admin/members/${CY}/mfa`)).toHaveLength(1));
    // Reset SSO link: only for a teammate an IdP identity is linked to.
    expect(() => button(rows()[1]!, 'Reset SSO link')).toThrow();
    await vi.waitFor(() =>
      expect(
        button(rows().find((r) => r.querySelector('td')?.textContent === 'Cy')!, 'Reset SSO link').matches(":disabled, [aria-disabled='true']"),
      ).toBe(false),
    );
    await act(() => button(rows().find((r) => r.querySelector('td')?.textContent === 'Cy')!, 'Reset SSO link').click());
    await vi.waitFor(() => expect(s.find(`DELETE /v1/admin/members/${CY}/sso-link`)).toHaveLength(1));
    expect(confirm).toHaveBeenCalledWith(expect.stringContaining('Reset the single sign-on link of Cy?'));

    // The server's refusal (the last owner) is shown inline, next to the row.
    await choose(el.querySelector<HTMLSelectElement>('select[aria-label="Role of Ann"]')!, 'admin');
    await vi.waitFor(() => expect(el.querySelector('.row-problem [role=alert]')?.textContent).toContain('A team keeps at least one owner.'));
    expectSameOriginCookiesOnly(s.calls);
  });

  test('an admin is not offered the owner role; a reader gets no write controls and no invite list', async () => {
    const s = fakeServer({ 'GET /v1/admin/members': members, 'GET /v1/admin/invites': { invites: [] } });
    const api = createClient({ fetchImpl: s.fetchImpl }).admin;
    const el = mount(<TeamView api={api} me={meFor('admin')} />);
    await vi.waitFor(() => expect(el.querySelector('#invite-role')).not.toBeNull());
    expect([...el.querySelectorAll<HTMLOptionElement>('#invite-role option')].map((o) => o.value)).toEqual(['admin', 'agent', 'analyst']);
    await vi.waitFor(() => expect(el.querySelectorAll('tbody tr')).toHaveLength(3));
    expect(el.querySelector('select[aria-label="Role of Ann"]')).toBeNull();
    document.body.innerHTML = '';

    const r = fakeServer({ 'GET /v1/admin/members': members });
    const el2 = mount(<TeamView api={createClient({ fetchImpl: r.fetchImpl }).admin} me={meFor('agent')} />);
    await vi.waitFor(() => expect(el2.querySelectorAll('tbody tr')).toHaveLength(3));
    expect(el2.querySelector('select')).toBeNull();
    expect(el2.querySelector('#invite-email')).toBeNull();
    expect(() => button(el2, 'Remove')).toThrow();
    expect(r.sent()).toEqual(['GET /v1/admin/members']);
  });
});

describe('my account', () => {
  const S1 = '00000000-0000-4000-8000-00000000e001';
  const S2 = '00000000-0000-4000-8000-00000000e002';
  const session = (id: string, current: boolean, ua: string) => ({
    id,
    memberId: ME_ID,
    createdAt: new Date().toISOString(),
    lastSeenAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600e3).toISOString(),
    method: 'password',
    userAgent: ua,
    current,
  });
  const mfa = {
    totp: false,
    passkeys: [{ id: '00000000-0000-4000-8000-00000000f001', name: 'Laptop', createdAt: new Date().toISOString(), lastUsedAt: null }],
    recoveryCodesLeft: 7,
    required: false,
  };

  test('password: the current one and a new one; a refusal names the field; success says how many sessions ended', async () => {
    const s = fakeServer({
      'GET /v1/admin/me/sessions': { sessions: [session(S1, true, 'x')] },
      'GET /v1/admin/me/mfa': mfa,
      'POST /v1/admin/me/password': [
        problem(400, 'validation-failed', {
          detail: 'The password must be at least 12 characters.',
          errors: [{ path: '/newPassword', message: 'must be at least 12 characters', code: 'weak_password' }],
        }),
        { otherSessionsEnded: 2 },
      ],
    });
    const el = mount(<AccountView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={meFor('agent')} />);
    await vi.waitFor(() => expect(el.querySelector('#new-password')).not.toBeNull());
    const form = el.querySelector<HTMLInputElement>('#new-password')!.form!;
    await type(el.querySelector<HTMLInputElement>('#current-password')!, 'old secret words');
    await type(el.querySelector<HTMLInputElement>('#new-password')!, 'short');
    await submit(form);
    await vi.waitFor(() => expect(el.querySelector('[role=alert]')?.textContent).toContain('at least 12 characters'));
    await type(el.querySelector<HTMLInputElement>('#new-password')!, 'a much longer passphrase');
    await submit(form);
    await vi.waitFor(() => expect(el.querySelector('[role=status]')?.textContent).toContain('2 other sessions were signed out'));
    expect(s.find('POST /v1/admin/me/password')[1]!.body).toEqual({ currentPassword: 'old secret words', newPassword: 'a much longer passphrase' });
    expectSameOriginCookiesOnly(s.calls);
  });

  test('sessions: the current one is marked and kept; another is signed out', async () => {
    const s = fakeServer({
      'GET /v1/admin/me/sessions': [
        {
          sessions: [
            session(S1, true, 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0'),
            session(S2, false, 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/133.0'),
          ],
        },
        { sessions: [session(S1, true, 'x')] },
      ],
      [`DELETE /v1/admin/me/sessions/${S2}`]: null,
      'GET /v1/admin/me/mfa': mfa,
    });
    const el = mount(<AccountView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={meFor('agent')} />);
    await vi.waitFor(() => expect(el.querySelectorAll('tbody tr')).toHaveLength(2));
    const rows = [...el.querySelectorAll('tbody tr')];
    expect(rows[0]!.textContent).toContain('Chrome on Linux');
    expect(rows[0]!.textContent).toContain('this session');
    expect(rows[0]!.getAttribute('aria-current')).toBe('true');
    expect(rows[0]!.querySelector('button')).toBeNull();
    expect(rows[1]!.textContent).toContain('Firefox on macOS');
    await act(() => button(rows[1]!, 'Sign out').click());
    await vi.waitFor(() => expect(el.querySelectorAll('tbody tr')).toHaveLength(1));
    expect(s.find(`DELETE /v1/admin/me/sessions/${S2}`)).toHaveLength(1);
    expectSameOriginCookiesOnly(s.calls);
  });

  test('with no second factor yet, recovery codes are explained, not counted', async () => {
    const s = fakeServer({
      'GET /v1/admin/me/sessions': { sessions: [] },
      'GET /v1/admin/me/mfa': { ...mfa, passkeys: [], recoveryCodesLeft: 0 },
    });
    const el = mount(<AccountView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={meFor('agent')} />);
    await vi.waitFor(() => expect(el.textContent).toContain('You get recovery codes when you add an authenticator app or a passkey'));
    expect(el.textContent).not.toContain('unused code');
  });

  test('MFA: set up TOTP (recovery codes shown once), add a passkey, regenerate codes', async () => {
    vi.stubGlobal(
      'confirm',
      vi.fn(() => true),
    );
    const attestation = { id: 'n', type: 'public-key', response: {} };
    vi.spyOn(webauthn, 'register').mockResolvedValue(attestation);
    const s = fakeServer({
      'GET /v1/admin/me/sessions': { sessions: [] },
      'GET /v1/admin/me/mfa': [mfa, { ...mfa, totp: true }],
      'POST /v1/admin/me/mfa/totp': { secret: 'ABCDEFGHIJKLMNOP', otpauthUri: 'otpauth://totp/x?secret=ABCDEFGHIJKLMNOP' },
      'POST /v1/admin/me/mfa/totp/confirm': { recoveryCodes: ['r1-aaaa', 'r2-bbbb'] },
      'POST /v1/admin/me/mfa/passkeys/options': { options: { challenge: 'c' } },
      'POST /v1/admin/me/mfa/passkeys': () => json({ passkey: { id: 'p2' } }, 201),
      'POST /v1/admin/me/mfa/recovery-codes': { recoveryCodes: ['n1-cccc'] },
    });
    const el = mount(<AccountView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={meFor('agent')} />);
    await vi.waitFor(() => expect(el.textContent).toContain('7 unused codes left.'));
    expect(el.textContent).toContain('Laptop');
    await click(el, 'Set up an authenticator app');
    await vi.waitFor(() => expect(el.querySelector('.totp-secret')?.textContent).toBe('ABCD EFGH IJKL MNOP'));
    await type(el.querySelector<HTMLInputElement>('#totp-confirm-code')!, '222333');
    await submit(el.querySelector('#totp-confirm-code')!.closest('form')!);
    await vi.waitFor(() => expect(el.querySelector('.codes')?.textContent).toContain('r1-aaaa'));
    expect(s.find('POST /v1/admin/me/mfa/totp/confirm')[0]!.body).toEqual({ code: '222333' });
    await click(el, 'I have saved them');
    await vi.waitFor(() => expect(el.textContent).toContain('Codes from your authenticator app are accepted.'));

    await type(el.querySelector<HTMLInputElement>('#passkey-name')!, 'Phone');
    await submit(el.querySelector('#passkey-name')!.closest('form')!);
    await vi.waitFor(() => expect(s.find('POST /v1/admin/me/mfa/passkeys')).toHaveLength(1));
    expect(s.find('POST /v1/admin/me/mfa/passkeys')[0]!.body).toEqual({ response: attestation, name: 'Phone' });

    await click(el, 'Generate new recovery codes');
    await vi.waitFor(() => expect(el.querySelector('.codes')?.textContent).toContain('n1-cccc'));
    expectSameOriginCookiesOnly(s.calls);
  });
});

describe('sign-in & SSO settings', () => {
  const policy = { requireMfa: 'off', enforceSso: false, breakGlassMemberId: null, idleTimeoutMinutes: 480, absoluteTimeoutHours: 168 };
  const owner = {
    id: ME_ID,
    email: 'ann@acme.example',
    displayName: 'Ann',
    role: 'owner',
    status: 'active',
    mfa: { totp: true, passkeys: 0 },
    createdAt: '',
    lastSignInAt: null,
    sso: [],
  };
  const oidc = {
    issuer: 'https://idp.example',
    clientId: 'parley',
    hasClientSecret: true,
    allowedDomains: ['acme.example'],
    defaultRole: 'agent',
    groupsClaim: 'groups',
    groupRoles: [{ group: 'admins', role: 'admin' }],
    redirectUri: 'https://parley.example/v1/auth/sso/oidc/callback',
  };

  const saml = {
    entryPoint: 'https://idp.example/sso',
    idpIssuer: 'https://idp.example',
    idpCertificates: ['MIIBfake'],
    allowedDomains: ['acme.example'],
    defaultRole: 'agent',
    groupsClaim: 'groups',
    groupRoles: [],
    spEntityId: 'https://parley.example/v1/auth/sso/saml/t',
    acsUrl: 'https://parley.example/v1/auth/sso/saml/t/acs',
    metadataUrl: 'https://parley.example/v1/auth/sso/saml/t/metadata',
  };

  test('the policy form saves MFA, enforced SSO with a break-glass owner, and timeouts', async () => {
    const s = fakeServer({
      'GET /v1/admin/sign-in-policy': { policy, connections: ['oidc'] },
      'PUT /v1/admin/sign-in-policy': (b: unknown) => ({ policy: b }),
      'GET /v1/admin/members': { members: [owner] },
      'GET /v1/admin/sso/oidc': { connection: oidc },
      'PUT /v1/admin/sso/oidc': { connection: oidc },
      'PUT /v1/admin/sso/saml': { connection: saml },
      'GET /v1/admin/sso/saml': { connection: saml },
      'DELETE /v1/admin/sso/saml': null,
    });
    const el = mount(<SignInSettingsView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={meFor('owner')} />);
    await vi.waitFor(() => expect(el.querySelector('#idle-minutes')).not.toBeNull());
    await choose(el.querySelector<HTMLInputElement>('input[name=require-mfa][value=everyone]')!);
    await choose(el.querySelector<HTMLInputElement>('#enforce-sso')!, 'on');
    await choose(el.querySelector<HTMLSelectElement>('#break-glass')!, ME_ID);
    await type(el.querySelector<HTMLInputElement>('#idle-minutes')!, '60');
    await type(el.querySelector<HTMLInputElement>('#absolute-hours')!, '24');
    await submit(el.querySelector('#idle-minutes')!.closest('form')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Policy saved.'));
    expect(s.find('PUT /v1/admin/sign-in-policy')[0]!.body).toEqual({
      requireMfa: 'everyone',
      enforceSso: true,
      breakGlassMemberId: ME_ID,
      idleTimeoutMinutes: 60,
      absoluteTimeoutHours: 24,
    });

    // OIDC: the redirect URI to register; the secret is write-only and kept when left empty.
    await vi.waitFor(() => expect(el.textContent).toContain(oidc.redirectUri));
    expect(el.querySelector<HTMLInputElement>('#oidc-client-secret')!.placeholder).toBe('stored — leave empty to keep');
    expect(el.querySelector<HTMLInputElement>('#oidc-client-secret')!.value).toBe('');
    await type(el.querySelector<HTMLInputElement>('#oidc-domains')!, 'acme.example, acme.org');
    await submit(el.querySelector('#oidc-issuer')!.closest('form')!);
    await vi.waitFor(() => expect(s.find('PUT /v1/admin/sso/oidc')).toHaveLength(1));
    expect(s.find('PUT /v1/admin/sso/oidc')[0]!.body).toEqual({
      issuer: 'https://idp.example',
      clientId: 'parley',
      allowedDomains: ['acme.example', 'acme.org'],
      defaultRole: 'agent',
      groupsClaim: 'groups',
      groupRoles: [{ group: 'admins', role: 'admin' }],
    });
    // No SAML connection yet: what to register at the IdP is shown all the same, and nothing asked for it.
    expect(el.textContent).toContain('Not configured yet. Register this service provider');
    expect(el.textContent).toContain(`${location.origin}/v1/auth/sso/saml/${TENANT.id}/acs`);
    expect(s.find('GET /v1/admin/sso/saml')).toHaveLength(0);
    // Saved, it is read back; removed, it is not asked for again (that would be a 404).
    await type(el.querySelector<HTMLInputElement>('#saml-entry-point')!, saml.entryPoint);
    await type(el.querySelector<HTMLInputElement>('#saml-issuer')!, saml.idpIssuer);
    await type(el.querySelector<HTMLTextAreaElement>('#saml-certs')!, saml.idpCertificates[0]!);
    await type(el.querySelector<HTMLInputElement>('#saml-domains')!, 'acme.example');
    await submit(el.querySelector('#saml-issuer')!.closest('form')!);
    await vi.waitFor(() => expect(s.find('GET /v1/admin/sso/saml')).toHaveLength(1));
    const samlSection = () => el.querySelector('section[aria-labelledby=saml-title]')!;
    await vi.waitFor(() => expect(samlSection().textContent).toContain('Remove connection'));
    vi.stubGlobal('confirm', () => true);
    await click(samlSection(), 'Remove connection');
    await vi.waitFor(() => expect(samlSection().textContent).toContain('Not configured yet'));
    expect(s.find('DELETE /v1/admin/sso/saml')).toHaveLength(1);
    expect(s.find('GET /v1/admin/sso/saml')).toHaveLength(1);
    expectSameOriginCookiesOnly(s.calls);
  });

  test('read-only for a member without signin:write', async () => {
    const s = fakeServer({
      'GET /v1/admin/sign-in-policy': { policy, connections: ['oidc', 'saml'] },
      'GET /v1/admin/members': { members: [owner] },
    });
    const el = mount(<SignInSettingsView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={meFor('agent')} />);
    await vi.waitFor(() => expect(el.querySelector('#idle-minutes')).not.toBeNull());
    expect([...el.querySelectorAll('fieldset')].every((f) => (f as HTMLFieldSetElement).disabled)).toBe(true);
    expect(el.textContent).toContain('Only owners and admins can change the policy.');
    expect([...el.querySelectorAll('button[type=submit]')]).toHaveLength(0);
    await vi.waitFor(() => expect(el.textContent).toContain('Your role cannot see this connection.'));
    expect(el.querySelector('[role=alert]')).toBeNull();
    // An agent may not read connections (settings:read): the console does not ask, to be refused.
    expect(s.sent().filter((r) => r.includes('/sso/'))).toEqual([]);
  });

  test('group mappings and certificates are parsed from text', () => {
    expect(parseGroupRoles('admins = admin\n\n support=agent ')).toEqual([
      { group: 'admins', role: 'admin' },
      { group: 'support', role: 'agent' },
    ]);
    const pem = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----`;
    expect(splitCertificates(`${pem('AAA')}\n${pem('BBB')}`)).toEqual([pem('AAA'), pem('BBB')]);
    expect(splitCertificates('MIIAAA\n\nMIIBBB')).toEqual(['MIIAAA', 'MIIBBB']);
  });
});

const CONV = '00000000-0000-4000-8000-00000000c0de';
const HANDOFF = '00000000-0000-4000-8000-0000000000a1';
const BO = '00000000-0000-4000-8000-00000000b001';
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const rowOf = (over: Partial<InboxRow> = {}): InboxRow => ({
  conversationId: CONV,
  handoffId: HANDOFF,
  status: 'pending',
  reason: 'visitor_request',
  visitor: { ref: 'v_AbCdEfGhIjKlMnOp', verified: false },
  lastMessage: { role: 'visitor', text: 'Can I talk to a person?', at: minutesAgo(5) },
  waitingSince: minutesAgo(5),
  assignee: null,
  contactLeft: false,
  handoffAt: minutesAgo(5),
  resolvedAt: null,
  updatedAt: minutesAgo(5),
  ...over,
});
const listOf = (rows: InboxRow[], counts = { waiting: rows.length, mine: 0, unassigned: rows.length, open: rows.length }) => ({
  rows,
  nextCursor: null,
  counts,
  streamCursor: '7',
});
const transcriptOf = (messages: unknown[], over: Record<string, unknown> = {}) => ({
  conversation: {
    id: CONV,
    status: 'handoff',
    verified: false,
    createdAt: minutesAgo(9),
    visitorRef: 'v_AbCdEfGhIjKlMnOp',
    identitySubject: null,
    ...over,
  },
  messages,
});
const visitorMsg = (id: string, text: string) => ({
  id,
  role: 'visitor',
  text,
  redactions: [],
  citations: [],
  confidence: null,
  author: null,
  createdAt: new Date().toISOString(),
});

/** A stand-in for the browser's EventSource: the test opens, feeds and fails it. */
class FakeStream {
  readyState = 0;
  onopen: ((e: Event) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  private fns = new Map<string, ((e: MessageEvent) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    this.fns.set(type, [...(this.fns.get(type) ?? []), fn]);
  }
  close() {
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  send(type: string, data: unknown, id?: string) {
    for (const fn of this.fns.get(type) ?? []) fn({ data: JSON.stringify(data), lastEventId: id ?? '' } as MessageEvent);
  }
  /** The server refused or dropped it for good (EventSource then stops reconnecting). */
  fail() {
    this.readyState = 2;
    this.onerror?.(new Event('error'));
  }
}
function fakeStreams() {
  const all: FakeStream[] = [];
  return { all, open: (url: string) => (all.push(new FakeStream(url)), all.at(-1)!), last: () => all.at(-1)! };
}

/** The inbox as the console shows it: inside the live provider, with a stand-in stream. */
function mountInbox(s: ReturnType<typeof fakeServer>, me: AdminMe = meFor('agent')) {
  const streams = fakeStreams();
  const api = createClient({ fetchImpl: s.fetchImpl }).admin;
  const el = mount(
    <LiveInbox api={api} me={me} label="Inbox" openStream={streams.open}>
      <InboxView api={api} me={me} />
    </LiveInbox>,
  );
  return { el, streams };
}
const rowButtons = (el: Element) => [...el.querySelectorAll<HTMLButtonElement>('button.conversation-row')];

describe('inbox as the signed-in person', () => {
  test('rows say who, why in words, how long and who has it; replies and “Take” name nobody; authors show by name', async () => {
    const taken = rowOf({
      conversationId: '00000000-0000-4000-8000-00000000c0df',
      handoffId: '00000000-0000-4000-8000-0000000000a2',
      status: 'assigned',
      reason: 'low_confidence',
      assignee: { id: BO, displayName: 'Bo' },
      visitor: { ref: 'v_x', verified: true, name: 'Dana Verified' },
    });
    const agentMsg = (id: string, author: string, authorName: string | null) => ({
      id,
      role: 'agent',
      text: 'hi',
      redactions: [],
      citations: [],
      confidence: null,
      author,
      authorName,
      createdAt: new Date().toISOString(),
    });
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=open': listOf([rowOf(), taken]),
      'GET /v1/admin/presence': {
        members: [
          { memberId: ME_ID, displayName: 'Ann Example', availability: 'available', online: true, lastSeenAt: null },
          { memberId: BO, displayName: 'Bo', availability: 'away', online: true, lastSeenAt: null },
        ],
      },
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([
        agentMsg('m1', ME_ID, 'Ann Example'),
        agentMsg('m2', BO, 'Bo'),
        agentMsg('m3', 'Zendesk bridge', null),
      ]),
      [`POST /v1/admin/conversations/${CONV}/messages`]: () =>
        json(
          {
            message: {
              id: 'm4',
              role: 'agent',
              text: 'Hello',
              author: { id: ME_ID, name: 'Ann Example', initial: 'A' },
              createdAt: new Date().toISOString(),
            },
          },
          201,
        ),
      [`POST /v1/admin/conversations/${CONV}/typing`]: null,
      [`PATCH /v1/admin/handoffs/${HANDOFF}`]: null,
    });
    const { el } = mountInbox(s);
    await act(() => el.querySelector<HTMLButtonElement>('#tab-open')!.click());
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(2));
    const [first, second] = rowButtons(el).map((b) => b.textContent);
    // Waiting longest first is the `waiting` view; `open` shows the latest activity first (same here).
    expect(first).toContain('v_AbCdEfGhIjKlMnOp');
    expect(first).toContain('Asked for a person');
    expect(first).toContain('5 min');
    expect(first).toContain('Unassigned');
    expect(first).toContain('Can I talk to a person?');
    expect(first).not.toContain('visitor_request');
    expect(second).toContain('Dana Verified');
    expect(second).toContain('The assistant was not sure of the answer');
    expect(second).toContain('Bo');
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(el.querySelectorAll('.msg')).toHaveLength(3));
    expect([...el.querySelectorAll('.msg .who')].map((w) => w.textContent!.split(' · ')[0])).toEqual([
      'Agent Ann Example (you)',
      'Agent Bo',
      // An integration's label is marked as a key's: it may read like a teammate's name.
      'Agent Zendesk bridge (API key)',
    ]);
    expect(el.textContent).toContain('You reply as Ann Example');
    await type(el.querySelector<HTMLTextAreaElement>('#reply-text')!, 'Hello');
    await submit(el.querySelector('.transcript form')!);
    await vi.waitFor(() => expect(s.find(`POST /v1/admin/conversations/${CONV}/messages`)).toHaveLength(1));
    expect(s.find(`POST /v1/admin/conversations/${CONV}/messages`)[0]!.body).toEqual({ text: 'Hello' });
    // The reply shows once, from the answer (the stream's copy of it is dropped as already seen).
    await vi.waitFor(() => expect(el.querySelectorAll('.msg')).toHaveLength(4));
    await click(el, 'Take');
    await vi.waitFor(() => expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)).toHaveLength(1));
    expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)[0]!.body).toEqual({ status: 'assigned', expectedAssignee: null });
    // Teammates in the assign menu carry their presence.
    expect([...el.querySelectorAll('#assign-to option')].map((o) => o.textContent)).toEqual([
      'Choose a teammate',
      '● Ann Example (you) — available',
      '○ Bo — away',
    ]);
    choose(el.querySelector<HTMLSelectElement>('#assign-to')!, BO);
    await vi.waitFor(() => expect(button(el, 'Assign').matches(":disabled, [aria-disabled='true']")).toBe(false));
    await click(el, 'Assign');
    await vi.waitFor(() => expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)).toHaveLength(2));
    expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)[1]!.body).toEqual({ status: 'assigned', assignedTo: BO });
  });

  test('“Take” expects whom it takes from; when a teammate took it first, the 409 shows who has it', async () => {
    const taken = rowOf({ assignee: { id: BO, displayName: 'Bo' }, status: 'assigned' });
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=open': listOf([rowOf()]),
      'GET /v1/admin/presence': {
        members: [{ memberId: BO, displayName: 'Bo', availability: 'available', online: true, lastSeenAt: null }],
      },
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([]),
      [`PATCH /v1/admin/handoffs/${HANDOFF}`]: () =>
        problem(409, 'conflict', { title: 'Conflict', detail: 'Someone else holds this handoff now.', assignedTo: BO }),
    });
    const { el, streams } = mountInbox(s);
    await act(() => el.querySelector<HTMLButtonElement>('#tab-open')!.click());
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await act(() => rowButtons(el)[0]!.click());
    await click(el, 'Take');
    await vi.waitFor(() => expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)).toHaveLength(1));
    expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)[0]!.body).toEqual({ status: 'assigned', expectedAssignee: null });
    await vi.waitFor(() => expect(el.querySelector('.problem')?.textContent).toContain('Bo has taken this conversation'));
    // Taking over from the one it shows as the holder names them.
    await act(() => {
      streams.last().open();
      streams.last().send('conversation', { row: taken }, '9');
    });
    await vi.waitFor(() => expect(button(el, 'Take over')).toBeTruthy());
    await click(el, 'Take over');
    await vi.waitFor(() => expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)).toHaveLength(2));
    expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)[1]!.body).toEqual({ status: 'assigned', expectedAssignee: BO });
  });

  test('an anonymous visitor is shown by its pseudonymous reference', async () => {
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': listOf([rowOf()]),
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([]),
    });
    const { el } = mountInbox(s);
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(el.querySelector('.profile')?.textContent).toContain('Anonymous visitorv_AbCdEfGhIjKlMnOp'));
    // No profile to read for an anonymous visitor who left no email: no audited read for nothing.
    expect(s.find(`GET /v1/admin/conversations/${CONV}/visitor`)).toHaveLength(0);
  });
});

describe('live inbox', () => {
  test('a new handoff appears without reload, with counts; a duplicate event changes nothing; it notifies and counts in the title', async () => {
    const shown: { title: string; body?: string }[] = [];
    vi.stubGlobal(
      'Notification',
      Object.assign(
        function (this: unknown, title: string, opts: { body?: string }) {
          shown.push({ title, body: opts.body });
        },
        { permission: 'granted', requestPermission: async () => 'granted' },
      ),
    );
    const s = fakeServer({ ...EMPTY_INBOX });
    const { el, streams } = mountInbox(s);
    await vi.waitFor(() => expect(streams.all).toHaveLength(1));
    expect(streams.last().url).toBe('/v1/admin/inbox/stream');
    await act(() => streams.last().open());
    await vi.waitFor(() => expect(el.textContent).toContain('No conversation is waiting'));
    await act(() => {
      streams.last().send('conversation', { row: rowOf() }, 'e1');
      streams.last().send('counts', { waiting: 1, mine: 0, unassigned: 1, open: 1 });
    });
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    expect(el.querySelector('#tab-waiting')!.textContent).toBe('Waiting, 1');
    expect(shown).toEqual([{ title: 'New handoff: v_AbCdEfGhIjKlMnOp', body: 'Asked for a person — Can I talk to a person?' }]);
    expect(document.title).toBe('(1) Inbox — Parley');
    // The same event again (a replay after a reconnect): nothing doubles, nobody is notified twice.
    await act(() => streams.last().send('conversation', { row: rowOf() }, 'e1'));
    expect(rowButtons(el)).toHaveLength(1);
    expect(shown).toHaveLength(1);
    // Opening it clears the unread mark.
    s.calls.length = 0;
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(document.title).toBe('Inbox — Parley'));
  });

  test('the open transcript follows the stream: a visitor message once, a note marked as internal, the visitor typing', async () => {
    const mine = rowOf({ status: 'assigned', assignee: { id: ME_ID, displayName: 'Ann Example' } });
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': listOf([]),
      'GET /v1/admin/inbox?view=mine': listOf([mine]),
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([visitorMsg('m1', 'Hello?')]),
    });
    const { el, streams } = mountInbox(s);
    await act(() => streams.last().open());
    await act(() => el.querySelector<HTMLButtonElement>('#tab-mine')!.click());
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(el.querySelectorAll('.msg')).toHaveLength(1));
    expect(el.querySelector('.messages')!.getAttribute('role')).toBe('log');
    await act(() => streams.last().send('typing', { conversationId: CONV, role: 'visitor', active: true }, 'e2'));
    expect(el.querySelector('.typing')!.textContent).toBe('Visitor is typing…');
    const follow = {
      conversationId: CONV,
      message: { id: 'm2', role: 'visitor', text: 'Still there? [EMAIL_1]', citations: [], createdAt: new Date().toISOString() },
    };
    // The same message under two event ids (a replay): shown once.
    await act(() => {
      streams.last().send('message', follow, 'e3');
      streams.last().send('message', follow, 'e4');
    });
    expect(el.querySelectorAll('.msg')).toHaveLength(2);
    expect(el.querySelector('.msg:last-child')!.textContent).toContain('Still there?');
    expect(el.querySelector('.msg:last-child .token')!.textContent).toBe('[EMAIL_1]');
    // An agent may not reveal (pii:reveal): the token is marked, not a button.
    expect(el.querySelector('.msg:last-child button.token')).toBeNull();
    expect(el.querySelector('.typing')!.textContent).toBe('');
    // The row's last message follows too.
    expect(rowButtons(el)[0]!.textContent).toContain('Still there?');
    await act(() =>
      streams.last().send(
        'note',
        {
          conversationId: CONV,
          message: {
            id: 'n1',
            role: 'note',
            text: 'Refund approved by Bo',
            citations: [],
            author: { id: BO, name: 'Bo', initial: 'B' },
            createdAt: new Date().toISOString(),
          },
        },
        'e5',
      ),
    );
    const note = el.querySelector('.msg.note')!;
    expect(note.textContent).toContain('Internal note — not sent to the visitor');
    expect(note.textContent).toContain('Bo');
  });

  test('a refused stream renews the session and reopens where it stopped (?after=); a signed-out session does not reopen', async () => {
    vi.useFakeTimers();
    try {
      let session = true;
      const s = fakeServer({
        'GET /v1/admin/me': [() => problem(401, 'token-expired'), () => (session ? json(meFor('agent')) : problem(401, 'unauthenticated'))],
        'POST /v1/auth/refresh': () => (session ? null : problem(401, 'unauthenticated')),
        'GET /v1/admin/presence': { members: [] },
      });
      const signedOut = vi.fn();
      const streams = fakeStreams();
      const live = new InboxLive({
        api: createClient({ fetchImpl: s.fetchImpl, onSignedOut: signedOut }).admin,
        me: { id: ME_ID, displayName: 'Ann Example' },
        openStream: streams.open,
      });
      live.start();
      streams.last().open();
      streams.last().send('conversation', { row: rowOf() }, 'e41');
      expect(live.state).toBe('live');
      streams.last().fail();
      expect(live.state).toBe('offline');
      await vi.advanceTimersByTimeAsync(1_100);
      expect(s.sent()).toContain('POST /v1/auth/refresh');
      expect(streams.all).toHaveLength(2);
      expect(streams.last().url).toBe('/v1/admin/inbox/stream?after=e41');
      // A browser-side reconnect (still CONNECTING) is left to the browser.
      streams.last().readyState = 0;
      streams.last().onerror?.(new Event('error'));
      expect(live.state).toBe('connecting');
      // The session is gone: the client reports it, and the inbox stops trying.
      session = false;
      streams.last().fail();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(signedOut).toHaveBeenCalled();
      expect(streams.all).toHaveLength(2);
      live.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  test('a visitor message in a conversation assigned to me notifies; one in a teammate’s does not; my own typing echoed back is not shown', async () => {
    const shown: string[] = [];
    vi.stubGlobal(
      'Notification',
      Object.assign(
        function (this: unknown, title: string) {
          shown.push(title);
        },
        { permission: 'granted', requestPermission: async () => 'granted' },
      ),
    );
    const OTHER = '00000000-0000-4000-8000-00000000c0d1';
    const mine = rowOf({ status: 'assigned', assignee: { id: ME_ID, displayName: 'Ann Example' }, waitingSince: null });
    const bos = rowOf({
      conversationId: OTHER,
      handoffId: '00000000-0000-4000-8000-0000000000a9',
      status: 'assigned',
      assignee: { id: BO, displayName: 'Bo' },
      waitingSince: null,
    });
    const s = fakeServer({ ...EMPTY_INBOX, 'GET /v1/admin/inbox?view=open': listOf([mine, bos]) });
    const streams = fakeStreams();
    const live = new InboxLive({
      api: createClient({ fetchImpl: s.fetchImpl }).admin,
      me: { id: ME_ID, displayName: 'Ann Example' },
      openStream: streams.open,
      onAttention: (a) => alertAgent(a, () => {}),
    });
    live.start();
    streams.last().open();
    live.upsert(mine);
    live.upsert(bos);
    const msg = (conversationId: string, id: string) => ({
      conversationId,
      message: { id, role: 'visitor', text: 'Hello again', citations: [], createdAt: new Date().toISOString() },
    });
    streams.last().send('message', msg(OTHER, 'x1'), 'e1');
    expect(shown).toEqual([]);
    streams.last().send('message', msg(CONV, 'x2'), 'e2');
    expect(shown).toEqual(['v_AbCdEfGhIjKlMnOp wrote']);
    expect([...live.unread]).toEqual([CONV]);
    streams.last().send('typing', { conversationId: CONV, role: 'agent', name: 'Ann Example', active: true }, 'e3');
    expect(live.typingIn(CONV)).toBeNull();
    streams.last().send('typing', { conversationId: CONV, role: 'agent', name: 'Bo', active: true }, 'e4');
    expect(live.typingIn(CONV)?.name).toBe('Bo');
    live.stop();
  });

  test('search asks the server (live rows do not join a search); more pages on request; arrow keys move between views', async () => {
    const more = rowOf({
      conversationId: '00000000-0000-4000-8000-00000000c0d2',
      handoffId: '00000000-0000-4000-8000-0000000000b2',
      waitingSince: minutesAgo(1),
    });
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': { ...listOf([rowOf()]), nextCursor: 'page2' },
      'GET /v1/admin/inbox?view=waiting&cursor=page2': listOf([more]),
      'GET /v1/admin/inbox?view=waiting&q=refund%20order': listOf([]),
      'GET /v1/admin/inbox?view=mine': listOf([]),
    });
    const { el, streams } = mountInbox(s);
    await act(() => streams.last().open());
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await click(el, 'Show more');
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(2));
    expect(el.textContent).not.toContain('Show more');
    await type(el.querySelector<HTMLInputElement>('#inbox-search')!, ' refund order ');
    await submit(el.querySelector('form[role=search]')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Nothing matches “refund order”.'));
    await act(() =>
      streams
        .last()
        .send(
          'conversation',
          { row: rowOf({ conversationId: '00000000-0000-4000-8000-00000000c0d3', handoffId: '00000000-0000-4000-8000-0000000000b3' }) },
          'e7',
        ),
    );
    expect(rowButtons(el)).toHaveLength(0);
    const waiting = el.querySelector<HTMLButtonElement>('#tab-waiting')!;
    waiting.focus();
    await act(() => void waiting.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true })));
    expect(el.querySelector('#tab-mine')!.getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(el.querySelector('#tab-mine'));
    await vi.waitFor(() => expect(s.sent()).toContain('GET /v1/admin/inbox?view=mine&q=refund%20order'));
  });

  test('the sound can be turned off and stays off in this browser; notifications are asked from a click, not on load', async () => {
    const requestPermission = vi.fn(async () => 'granted');
    vi.stubGlobal(
      'Notification',
      // biome-ignore lint/complexity/useArrowFunction: the console constructs it with new, as it does Notification
      Object.assign(function () {}, { permission: 'default', requestPermission }),
    );
    const s = fakeServer({ ...EMPTY_INBOX });
    const { el } = mountInbox(s);
    await vi.waitFor(() => expect(el.querySelector('.live-status')).not.toBeNull());
    expect(requestPermission).not.toHaveBeenCalled();
    expect(localStorage.length).toBe(0);
    const sound = [...el.querySelectorAll<HTMLInputElement>('.live-status input[type=checkbox]')][0]!;
    expect(sound.checked).toBe(true);
    choose(sound, 'off');
    expect(soundOn()).toBe(false);
    expect(localStorage.getItem('parley.inbox.sound')).toBe('off');
    await click(el, 'Turn on notifications');
    expect(requestPermission).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(el.textContent).not.toContain('Turn on notifications'));
  });

  test('the tab title counts what is unread', () => {
    expect(titleFor('Inbox', 3)).toBe('(3) Inbox — Parley');
    expect(titleFor('Knowledge', 0)).toBe('Knowledge — Parley');
  });
});

describe('working a conversation', () => {
  test('internal notes go to /notes; canned replies fill their variables (as the protocol does), also from a / shortcut; typing is sent throttled', async () => {
    const canned = [
      { id: 'c1', title: 'Greeting', body: 'Hi {{visitor.name}}, this is {{agent.name}}.', shortcut: 'hi', createdAt: '', updatedAt: '' },
      { id: 'c2', title: 'Refunds', body: 'Refunds take 5 days.', shortcut: null, createdAt: '', updatedAt: '' },
    ];
    const verified = rowOf({ visitor: { ref: 'v_x', verified: true, name: 'Dana' } });
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': listOf([verified]),
      'GET /v1/admin/canned-replies': { cannedReplies: canned },
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([], { verified: true, identitySubject: 'user_42' }),
      [`GET /v1/admin/conversations/${CONV}/visitor`]: {
        visitor: { ref: 'v_x', verified: true, id: 'user_42', name: 'Dana', email: 'dana@example.com', plan: 'Pro', redacted: [], revealable: [] },
        contact: { email: 'dana.home@example.com', at: new Date().toISOString() },
      },
      [`POST /v1/admin/conversations/${CONV}/typing`]: null,
      [`POST /v1/admin/conversations/${CONV}/notes`]: () =>
        json(
          {
            message: {
              id: 'n9',
              role: 'note',
              text: 'VIP',
              citations: [],
              author: { id: ME_ID, name: 'Ann Example', initial: 'A' },
              createdAt: new Date().toISOString(),
            },
          },
          201,
        ),
    });
    const { el } = mountInbox(s);
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(el.querySelector('.profile')?.textContent).toContain('dana@example.com'));
    const profile = el.querySelector('.profile')!.textContent!;
    for (const x of ['Dana', 'Pro', 'user_42', 'Left an email to be answered', 'dana.home@example.com']) expect(profile).toContain(x);
    const text = el.querySelector<HTMLTextAreaElement>('#reply-text')!;
    choose(el.querySelector<HTMLSelectElement>('#canned-pick')!, 'c1');
    await vi.waitFor(() => expect(text.value).toBe('Hi Dana, this is Ann Example.'));
    expect(text.value).toBe(renderCannedReply(canned[0]!.body, { visitorName: 'Dana', agentName: 'Ann Example' }));
    await type(text, '/h');
    await click(el, /Greeting/);
    expect(text.value).toBe('Hi Dana, this is Ann Example.');
    // Typing: many key presses, one signal (and one more only after the throttle interval).
    await type(text, 'a');
    await type(text, 'ab');
    await type(text, 'abc');
    expect(s.find(`POST /v1/admin/conversations/${CONV}/typing`).map((c) => c.body)).toEqual([{ active: true }]);
    // A note: another look, another route, nothing typed to the visitor.
    await act(() => el.querySelectorAll<HTMLInputElement>('input[name=compose-mode]')[1]!.click());
    expect(el.querySelector('.composer')!.classList.contains('note')).toBe(true);
    expect(el.querySelector('label[for=reply-text]')!.textContent).toBe('Internal note — not sent to the visitor');
    await type(text, 'VIP');
    await submit(el.querySelector('.composer')!);
    await vi.waitFor(() => expect(s.find(`POST /v1/admin/conversations/${CONV}/notes`)).toHaveLength(1));
    expect(s.find(`POST /v1/admin/conversations/${CONV}/notes`)[0]!.body).toEqual({ text: 'VIP' });
    expect(s.find(`POST /v1/admin/conversations/${CONV}/messages`)).toHaveLength(0);
    await vi.waitFor(() => expect(el.querySelector('.msg.note')?.textContent).toContain('Ann Example (you)'));
  });

  test("a verified visitor's withheld name and email are revealed with a reason, and hidden again", async () => {
    const withheld = { ref: 'v_x', verified: true, id: 'user_42', plan: 'Pro', redacted: ['name', 'email'], revealable: ['name', 'email'] };
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': listOf([rowOf({ visitor: { ref: 'v_x', verified: true } })]),
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([], { verified: true, identitySubject: 'user_42' }),
      [`GET /v1/admin/conversations/${CONV}/visitor`]: { visitor: withheld, contact: null },
      [`POST /v1/admin/conversations/${CONV}/visitor/reveal`]: {
        visitor: { ...withheld, name: 'Dana', email: 'dana@example.com', redacted: [], revealable: [] },
        contact: null,
      },
    });
    // An agent, who may not reveal (pii:reveal), is offered no Reveal: the server would refuse it.
    const agent = mountInbox(s);
    await vi.waitFor(() => expect(rowButtons(agent.el)).toHaveLength(1));
    await act(() => rowButtons(agent.el)[0]!.click());
    await vi.waitFor(() => expect(agent.el.querySelector('.profile')?.textContent).toContain('Withheld (PII policy)name, email'));
    expect(() => button(agent.el, 'Reveal name, email')).toThrow();
    agent.el.remove();
    const { el } = mountInbox(s, meFor('admin'));
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(el.querySelector('.profile')?.textContent).toContain('Withheld (PII policy)name, email'));
    expect(el.querySelector('.profile')!.textContent).not.toContain('Dana');
    await click(el, 'Reveal name, email');
    const form = el.querySelector<HTMLFormElement>('.profile .reveal form')!;
    const reveal = [...form.querySelectorAll('button')].find((b) => b.textContent === 'Reveal')!;
    await type(form.querySelector('textarea')!, 'short');
    expect(reveal.disabled).toBe(true);
    await type(form.querySelector('textarea')!, 'Customer asked which email is on file');
    await submit(form);
    await vi.waitFor(() => expect(el.querySelector('.profile')?.textContent).toContain('dana@example.com'));
    expect(s.find(`POST /v1/admin/conversations/${CONV}/visitor/reveal`)[0]!.body).toEqual({ reason: 'Customer asked which email is on file' });
    await click(el, 'Hide');
    expect(el.querySelector('.profile')!.textContent).not.toContain('Dana');
    expect(el.querySelector('.profile')!.textContent).toContain('Withheld (PII policy)');
  });

  test('resolve, then reopen, a handoff', async () => {
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': listOf([rowOf()]),
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([]),
      [`PATCH /v1/admin/handoffs/${HANDOFF}`]: null,
      [`POST /v1/admin/handoffs/${HANDOFF}/reopen`]: { handoff: {} },
    });
    const { el, streams } = mountInbox(s);
    await act(() => streams.last().open());
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(el.querySelector('.transcript')).not.toBeNull());
    await click(el, 'Resolve');
    await vi.waitFor(() => expect(s.find(`PATCH /v1/admin/handoffs/${HANDOFF}`)[0]?.body).toEqual({ status: 'resolved' }));
    // The stream says it is resolved: it leaves the waiting list, the open pane offers Reopen.
    await act(() =>
      streams.last().send('conversation', { row: rowOf({ status: 'resolved', waitingSince: null, resolvedAt: new Date().toISOString() }) }, 'e9'),
    );
    expect(rowButtons(el)).toHaveLength(0);
    await vi.waitFor(() => expect(button(el, 'Reopen').matches(":disabled, [aria-disabled='true']")).toBe(false));
    await click(el, 'Reopen');
    await vi.waitFor(() => expect(s.find(`POST /v1/admin/handoffs/${HANDOFF}/reopen`)).toHaveLength(1));
  });
});

describe('the focus after Take and Resolve', () => {
  // The stream's update of the row removes the button that had the focus; it may come before the request's
  // answer, after it, or not at all (the stream is reconnecting): the focus lands in the same place each time.
  for (const order of ['the stream first', 'the answer first', 'no stream update'] as const)
    test(`Take lands on the reply box, Resolve on the conversation's heading: ${order}`, async () => {
      const pending: { answer?: () => void } = {};
      const s = fakeServer({
        ...EMPTY_INBOX,
        'GET /v1/admin/inbox?view=waiting': listOf([rowOf()]),
        [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([]),
        [`PATCH /v1/admin/handoffs/${HANDOFF}`]: () => new Promise((r) => void (pending.answer = () => r(null))),
      });
      const { el, streams } = mountInbox(s);
      await act(() => streams.last().open());
      await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
      await act(() => rowButtons(el)[0]!.click());
      await vi.waitFor(() => expect(el.querySelector('.transcript')).not.toBeNull());
      const tick = () => act(() => new Promise((r) => setTimeout(r, 10)));
      const run = async (label: string, row: InboxRow, eventId: string) => {
        button(el, label).focus();
        await click(el, label);
        await vi.waitFor(() => expect(pending.answer).toBeDefined());
        const update = () => act(() => streams.last().send('conversation', { row }, eventId));
        if (order === 'the stream first') await update();
        await act(() => {
          pending.answer!();
          delete pending.answer;
        });
        await tick();
        if (order === 'the answer first') await update();
        await tick();
      };
      const me = { id: ME_ID, displayName: 'Ann Example' };
      await run('Take', rowOf({ status: 'assigned', assignee: me }), 'e8');
      expect(document.activeElement?.id).toBe('reply-text');
      await run('Resolve', rowOf({ status: 'resolved', assignee: me, waitingSince: null, resolvedAt: new Date().toISOString() }), 'e9');
      expect(document.activeElement?.id).toBe('transcript-title');
      expect(el.querySelector('.transcript [role=status]')!.textContent).toBe('Resolved. The visitor is asked to rate the conversation.');
    });

  test('a focus moved on while Take runs stays where it went', async () => {
    const pending: { answer?: () => void } = {};
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': listOf([rowOf()]),
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([]),
      [`PATCH /v1/admin/handoffs/${HANDOFF}`]: () => new Promise((r) => void (pending.answer = () => r(null))),
    });
    const { el, streams } = mountInbox(s);
    await act(() => streams.last().open());
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(el.querySelector('.transcript')).not.toBeNull());
    button(el, 'Take').focus();
    await click(el, 'Take');
    await vi.waitFor(() => expect(pending.answer).toBeDefined());
    const search = el.querySelector<HTMLInputElement>('#inbox-search')!;
    search.focus();
    await act(() => pending.answer!());
    await act(() => new Promise((r) => setTimeout(r, 10)));
    expect(document.activeElement).toBe(search);
  });
});

describe('availability, canned replies and business hours', () => {
  test('the header switch sets the agent available or away', async () => {
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/me': meFor('agent'),
      'GET /v1/admin/presence': { members: [{ memberId: ME_ID, displayName: 'Ann Example', availability: 'away', online: true, lastSeenAt: null }] },
      'PATCH /v1/admin/me/availability': (b: { availability: string }) => ({
        presence: { memberId: ME_ID, displayName: 'Ann Example', availability: b.availability, online: true, lastSeenAt: null },
      }),
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('header [role=switch]')?.getAttribute('aria-checked')).toBe('false'));
    await act(() => el.querySelector<HTMLButtonElement>('header [role=switch]')!.click());
    await vi.waitFor(() => expect(el.querySelector('header [role=switch]')?.getAttribute('aria-checked')).toBe('true'));
    expect(s.find('PATCH /v1/admin/me/availability')[0]!.body).toEqual({ availability: 'available' });
    expect(el.querySelector('header [role=switch]')!.textContent).toContain('Available');
  });

  test("a presence list answered late cannot undo the agent's own switch", async () => {
    const away = { members: [{ memberId: ME_ID, displayName: 'Ann Example', availability: 'away', online: true, lastSeenAt: null }] };
    let release!: () => void;
    const later = new Promise((resolve) => {
      release = () => resolve(away);
    });
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/me': meFor('agent'),
      'GET /v1/admin/presence': () => later,
      'PATCH /v1/admin/me/availability': (b: { availability: string }) => ({
        presence: { memberId: ME_ID, displayName: 'Ann Example', availability: b.availability, online: true, lastSeenAt: null },
      }),
    });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    const sw = () => el.querySelector<HTMLButtonElement>('header [role=switch]');
    await vi.waitFor(() => expect(sw()?.matches(":disabled, [aria-disabled='true']")).toBe(false));
    // Set before the presence list is answered; the list, asked before the change, says "away".
    await act(() => sw()!.click());
    await vi.waitFor(() => expect(sw()!.getAttribute('aria-checked')).toBe('true'));
    expect(s.sent()).toContain('GET /v1/admin/presence');
    // The late answer is read, rendered and its effects run (all in this process: well within 50 ms).
    await act(async () => {
      release();
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(sw()!.getAttribute('aria-checked')).toBe('true');
    expect(sw()!.textContent).toContain('Available');
  });

  test('an analyst, who takes no handoffs, has no availability switch', async () => {
    const s = fakeServer({ ...EMPTY_INBOX, 'GET /v1/admin/me': meFor('analyst') });
    const el = mount(<App fetchImpl={s.fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('header')?.textContent).toContain('analyst'));
    await vi.waitFor(() => expect(s.sent()).toContain('GET /v1/admin/presence'));
    expect(el.querySelector('header [role=switch]')).toBeNull();
  });

  test('canned replies are listed, added with a shortcut, edited and deleted', async () => {
    const c = { id: 'c1', title: 'Greeting', body: 'Hi {{visitor.name}}', shortcut: 'hi', createdAt: '', updatedAt: '' };
    const s = fakeServer({
      'GET /v1/admin/canned-replies': { cannedReplies: [c] },
      'POST /v1/admin/canned-replies': () => json({ cannedReply: c }, 201),
      'PATCH /v1/admin/canned-replies/c1': { cannedReply: c },
      'DELETE /v1/admin/canned-replies/c1': null,
    });
    vi.stubGlobal('confirm', () => true);
    const el = mount(<CannedRepliesView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={meFor('agent')} />);
    await vi.waitFor(() => expect(el.querySelector('.canned')?.textContent).toContain('/hi'));
    await type(el.querySelector<HTMLInputElement>('#canned-new-title')!, 'Refunds');
    await type(el.querySelector<HTMLTextAreaElement>('#canned-new-body')!, 'Thanks {{visitor.name}}, {{agent.name}} here.');
    expect(el.querySelector('.preview')!.textContent).toBe('Preview: Thanks Alex, Ann Example here.');
    await type(el.querySelector<HTMLInputElement>('#canned-new-shortcut')!, 'refund');
    await submit(el.querySelector<HTMLFormElement>('#canned-new-title')!.form!);
    await vi.waitFor(() => expect(s.find('POST /v1/admin/canned-replies')).toHaveLength(1));
    expect(s.find('POST /v1/admin/canned-replies')[0]!.body).toEqual({
      title: 'Refunds',
      body: 'Thanks {{visitor.name}}, {{agent.name}} here.',
      shortcut: 'refund',
    });
    await click(el, 'Edit');
    await type(el.querySelector<HTMLInputElement>('#canned-c1-shortcut')!, '');
    await submit(el.querySelector<HTMLFormElement>('#canned-c1-title')!.form!);
    await vi.waitFor(() =>
      expect(s.find('PATCH /v1/admin/canned-replies/c1')[0]?.body).toEqual({ title: 'Greeting', body: 'Hi {{visitor.name}}', shortcut: null }),
    );
    // Saved, the row leaves its form and shows its buttons again.
    await vi.waitFor(() => expect(button(el, 'Delete').getAttribute('aria-disabled')).toBe('false'));
    await click(el, 'Delete');
    await vi.waitFor(() => expect(s.find('DELETE /v1/admin/canned-replies/c1')).toHaveLength(1));
  });

  test('business hours: a time zone and a weekly schedule, checked per day; saved as the protocol reads it; removed with null', async () => {
    const s = fakeServer({ 'GET /v1/admin/settings': { settings: {}, policyVersion: 1 }, 'PATCH /v1/admin/settings': { policyVersion: 2 } });
    const el = mount(<BusinessHoursView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={meFor('owner')} />);
    await vi.waitFor(() => expect(s.find('GET /v1/admin/settings')).toHaveLength(1));
    // The settings arrive (and fill the form) before the person edits it.
    await act(() => new Promise((r) => setTimeout(r, 20)));
    const enabled = el.querySelector<HTMLInputElement>('input[type=checkbox]')!;
    choose(enabled, 'on');
    const opens = (day: string) => el.querySelector<HTMLInputElement>(`input[aria-label="${day}, range 1, opens"]`)!;
    const closes = (day: string) => el.querySelector<HTMLInputElement>(`input[aria-label="${day}, range 1, closes"]`)!;
    await type(opens('Monday'), '18:00');
    expect(el.querySelector('.field-error')!.textContent).toContain('Monday: a range must end after it starts.');
    expect(button(el, 'Save business hours').disabled).toBe(true);
    await type(opens('Monday'), '08:00');
    await type(closes('Friday'), '00:00');
    await act(() => el.querySelector<HTMLButtonElement>('button[aria-label="Add hours on Saturday"]')!.click());
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(s.find('PATCH /v1/admin/settings')).toHaveLength(1));
    const sent = s.find('PATCH /v1/admin/settings')[0]!.body;
    expect(BusinessHoursSchema.safeParse(sent.businessHours).error?.issues ?? []).toEqual([]);
    expect(sent.businessHours.schedule).toMatchObject({ mon: [['08:00', '17:00']], fri: [['09:00', '24:00']], sat: [['09:00', '17:00']], sun: [] });
    expect(Object.keys(sent)).toEqual(['businessHours']);
    choose(enabled, 'off');
    await submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(s.find('PATCH /v1/admin/settings')).toHaveLength(2));
    expect(s.find('PATCH /v1/admin/settings')[1]!.body).toEqual({ businessHours: null });
  });

  test('the schedule check agrees with the protocol on overlaps', () => {
    const schedule = {
      mon: [
        ['09:00', '12:00'],
        ['11:00', '17:00'],
      ] as [string, string][],
    };
    expect(scheduleErrors(schedule)).toEqual(['Monday: ranges overlap.']);
    expect(BusinessHoursSchema.safeParse({ timeZone: 'UTC', schedule }).success).toBe(false);
    expect(
      scheduleErrors({
        tue: [
          ['09:00', '12:00'],
          ['12:00', '17:00'],
        ],
      }),
    ).toEqual([]);
  });
});

describe('problems', () => {
  test('the API client turns problem+json into an ApiError with the request id', async () => {
    const api = adminApi(async () =>
      json(
        {
          type: '/docs/problems/missing-capability',
          title: 'Missing capability',
          status: 403,
          detail: 'This key lacks the capability keys:write.',
          request_id: 'req_1',
        },
        403,
        'application/problem+json',
      ),
    );
    const err = await api('POST', '/api-keys', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).problem).toMatchObject({ title: 'Missing capability', status: 403, request_id: 'req_1' });
  });

  test('a response that is not a problem still carries the status and the request id header', async () => {
    const api = adminApi(async () => new Response('bad gateway', { status: 502, headers: { 'X-Request-Id': 'req_2' } }));
    const err = (await api('GET', '/domains').catch((e: unknown) => e)) as ApiError;
    expect(err.problem).toMatchObject({ title: 'HTTP 502', status: 502, request_id: 'req_2' });
  });

  test('ProblemView shows a heading in plain words, detail, field errors and request id as an alert, and takes focus', async () => {
    const el = mount(
      <ProblemView
        problem={{
          type: '/docs/problems/validation-failed',
          title: 'Validation failed',
          status: 400,
          detail: 'Nope.',
          request_id: 'req_9',
          errors: [{ path: '/name', message: 'Required', code: 'invalid_type' }],
        }}
      />,
    );
    const alert = el.querySelector('[role=alert]')!;
    expect(alert.querySelector('strong')!.textContent).toBe('Check what you entered');
    expect(alert.textContent).toContain('Nope.');
    expect(alert.textContent).toContain('/name Required');
    expect(alert.textContent).toContain('req_9');
    await vi.waitFor(() => expect(document.activeElement).toBe(alert));
  });

  test('ProblemView heads the protocol titles in words a person reads, keeping the detail; a view may say more', () => {
    const of = (slug: string, title: string, detail: string) => ({ type: `/docs/problems/${slug}`, title, status: 400, detail, request_id: 'req_1' });
    const heading = (node: preact.ComponentChild) => {
      const el = mount(node);
      return [el.querySelector('[role=alert] strong')!.textContent, el.querySelector('[role=alert] p')!.textContent];
    };
    expect(
      heading(<ProblemView problem={of('missing-capability', 'Missing capability', 'This key or role lacks the capability knowledge:write.')} />),
    ).toEqual(['You don’t have permission to do this', 'This key or role lacks the capability knowledge:write.']);
    expect(heading(<ProblemView problem={of('conflict', 'Conflict', 'A tenant keeps at least one owner.')} />)[0]).toBe('That change wasn’t made');
    const wrong = of('unauthenticated', 'Authentication required', 'Wrong email or password.');
    expect(heading(<ProblemView problem={wrong} />)[0]).toBe('Please sign in again');
    expect(heading(<ProblemView problem={wrong} headings={{ unauthenticated: 'Sign-in failed' }} />)[0]).toBe('Sign-in failed');
    // A type the console has no words for keeps the server's title.
    expect(heading(<ProblemView problem={{ ...of('x', 'Something odd', 'Odd.'), type: 'about:blank' }} />)[0]).toBe('Something odd');
  });

  test('ProblemView takes focus as it renders, before the error can be seen: never later, from a field being typed in', () => {
    // A person (or a browser test) sees the error, then clicks into the field and types: focus moved a
    // frame after the error showed took the field from under them, and the keys went nowhere.
    const host = document.body.appendChild(document.createElement('div'));
    try {
      render(<ProblemView problem={{ type: 'about:blank', title: 'Wrong code', status: 401, request_id: 'req_1' }} />, host);
      expect(document.activeElement).toBe(host.querySelector('[role=alert]'));
    } finally {
      render(null, host);
      host.remove();
    }
  });
  test('ProblemView leaves a field being typed in alone: only focus on the page or on a button moves to the error', () => {
    // Keys typed while a request was in flight followed focus to its error when it arrived, and went nowhere.
    const host = document.body.appendChild(document.createElement('div'));
    const field = document.body.appendChild(document.createElement('input'));
    const button = document.body.appendChild(document.createElement('button'));
    const problem = (title: string) => ({ type: 'about:blank', title, status: 401, request_id: 'req_1' });
    try {
      field.focus();
      render(<ProblemView problem={problem('Wrong code')} />, host);
      expect(document.activeElement).toBe(field);
      expect(host.querySelector('[role=alert]')!.textContent).toContain('Wrong code');
      button.focus();
      render(<ProblemView problem={problem('Wrong code again')} />, host);
      expect(document.activeElement).toBe(host.querySelector('[role=alert]'));
    } finally {
      render(null, host);
      host.remove();
      field.remove();
      button.remove();
    }
  });
});

describe('secrets', () => {
  test('a new secret is shown once with a copy button, and gone after Done', async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const done = vi.fn();
    const el = mount(<SecretOnce label="New key" secret="sk_test_secret" onDone={done} />);
    expect(el.textContent).toContain('only time it is shown');
    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Copy')!.click();
    await vi.waitFor(() => expect(el.textContent).toContain('Copied'));
    expect(writeText).toHaveBeenCalledWith('sk_test_secret');
  });

  test('creating a key shows its secret once; the list never holds it', async () => {
    const key = {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'Agents',
      prefix: 'sk_test_Zzzz',
      capabilities: ['handoffs:read'],
      createdAt: new Date().toISOString(),
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      rotatedFrom: null,
      madeBy: null,
      heldBack: [],
    };
    const calls: [string, string | undefined][] = [];
    const api = adminApi(async (url, init) => {
      calls.push([`${init?.method} ${String(url)}`, init?.body as string | undefined]);
      return init?.method === 'POST' ? json({ apiKey: key, secret: 'sk_test_NEWSECRET' }, 201) : json({ apiKeys: calls.length > 1 ? [key] : [] });
    });
    const el = mount(<KeysView api={api} />);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await type(el.querySelector<HTMLInputElement>('#key-name')!, 'Agents');
    submit(el.querySelector('form')!);
    await vi.waitFor(() => expect(el.querySelector('.secret input')).not.toBeNull());
    await vi.waitFor(() => expect(el.querySelector('tbody')?.textContent).toContain('sk_test_Zzzz…'));
    expect(calls[1]![0]).toBe('POST /v1/admin/api-keys');
    expect(JSON.parse(calls[1]![1]!)).toMatchObject({ name: 'Agents' });
    expect(el.querySelector<HTMLInputElement>('.secret input')!.value).toBe('sk_test_NEWSECRET');
    expect(el.querySelector('tbody')!.textContent).toContain('sk_test_Zzzz…');
    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Done')!.click();
    await vi.waitFor(() => expect(el.textContent).not.toContain('sk_test_NEWSECRET'));
  });
});

describe('Sign-In Pro', () => {
  test('the page shows the tenant id and the audience a token is signed for, beside the keys', async () => {
    const identity = {
      tenantId: TENANT.id,
      audience: `parley:identity:${TENANT.id}`,
      mode: 'optional',
      publicKeys: [],
      jwksUrl: null,
      secrets: [],
    };
    const el = mount(<IdentityView api={adminApi(async () => json(identity))} />);
    await vi.waitFor(() => expect(el.querySelector('[aria-labelledby="sign-for-title"]')).not.toBeNull());
    const shown = [...el.querySelectorAll('.registered div')].map((d) => [d.querySelector('dt')!.textContent, d.querySelector('dd')!.textContent]);
    expect(shown).toEqual([
      ['Tenant id', TENANT.id],
      ['Token audience (aud)', `parley:identity:${TENANT.id}`],
    ]);
    // Beside its label in a right-to-left page too: the value, not its row, is left to right.
    for (const dd of el.querySelectorAll('.registered dd')) {
      expect(dd.hasAttribute('dir')).toBe(false);
      expect(dd.querySelector('code')!.getAttribute('dir')).toBe('ltr');
    }
    expect(el.textContent).toContain('signUserSession');
  });
});

describe('keys and their makers', () => {
  test('a key shows who made it, and what their role now holds back or their disabling pauses', async () => {
    const base = {
      prefix: 'sk_test_Mmmm',
      createdAt: new Date().toISOString(),
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      rotatedFrom: null,
    };
    const keys = [
      {
        ...base,
        id: '00000000-0000-4000-8000-000000000011',
        name: 'Demoted',
        capabilities: ['knowledge:read', 'audit:read'],
        madeBy: { id: '00000000-0000-4000-8000-00000000c001', displayName: 'Cy', role: 'agent', status: 'active' },
        heldBack: ['audit:read'],
      },
      {
        ...base,
        id: '00000000-0000-4000-8000-000000000012',
        name: 'Paused',
        capabilities: ['knowledge:read'],
        madeBy: { id: '00000000-0000-4000-8000-00000000c001', displayName: 'Cy', role: 'agent', status: 'disabled' },
        heldBack: ['knowledge:read'],
      },
      { ...base, id: '00000000-0000-4000-8000-000000000013', name: 'Bootstrap', capabilities: ['knowledge:read'], madeBy: null, heldBack: [] },
    ];
    const el = mount(<KeysView api={adminApi(async () => json({ apiKeys: keys }))} />);
    await vi.waitFor(() => expect(el.querySelectorAll('tbody tr')).toHaveLength(3));
    const [demoted, paused, bootstrap] = [...el.querySelectorAll('tbody tr')].map((r) => [...r.querySelectorAll('td')].map((d) => d.textContent));
    expect(demoted!.slice(2, 4)).toEqual(['knowledge:readHeld back while Cy is an agent: audit:read', 'Cy (agent)']);
    expect(el.querySelector('tbody tr del')!.textContent).toBe('audit:read');
    expect(paused!.slice(2, 4)).toEqual(['Paused while Cy is disabled: knowledge:read', 'Cy (agent)']);
    expect(bootstrap!.slice(2, 4)).toEqual(['knowledge:read', 'command line']);
  });
});

describe('knowledge', () => {
  test('lists sources, adds Markdown, searches in a chosen mode and shows text as text', async () => {
    const source = {
      id: '00000000-0000-4000-8000-000000000002',
      kind: 'markdown',
      externalId: 'returns',
      title: 'Returns',
      url: null,
      status: 'ready',
      chunks: 3,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    const calls: [string, string | undefined][] = [];
    const api = adminApi(async (url, init) => {
      const call = `${init?.method} ${String(url)}`;
      calls.push([call, init?.body as string | undefined]);
      if (call.endsWith('/knowledge/search')) {
        return json({
          mode: 'bm25',
          results: [
            {
              chunkId: 'c1',
              sourceId: source.id,
              externalId: 'returns',
              title: 'Returns › Refund timing',
              url: 'https://help.example/returns#refund-timing',
              score: 7.5,
              text: '<img src=x onerror=alert(1)> Refunds take 5 days.',
            },
          ],
        });
      }
      if (call.endsWith('/knowledge/embeddings')) return json({ model: null, embedded: 0, pending: 0 });
      if (call.endsWith('/knowledge/jobs')) return json({ jobs: [] });
      return init?.method === 'POST' ? json({ sources: [{ ...source, changed: true }] }, 201) : json({ sources: [source] });
    });
    const el = mount(<KnowledgeView api={api} me={meFor('admin')} />);
    await vi.waitFor(() => expect(el.querySelector('tbody')?.textContent).toContain('returns'));
    await type(el.querySelector<HTMLTextAreaElement>('#knowledge-content')!, '# Returns\n\n## Refund timing\n\nFive days.');
    await type(el.querySelector<HTMLInputElement>('#knowledge-external-id')!, 'returns');
    submit(el.querySelectorAll('form')[0]!);
    await vi.waitFor(() => expect(calls.find(([c]) => c === 'POST /v1/admin/knowledge/sources')).toBeDefined());
    expect(JSON.parse(calls.find(([c]) => c === 'POST /v1/admin/knowledge/sources')![1]!)).toEqual({
      kind: 'markdown',
      content: '# Returns\n\n## Refund timing\n\nFive days.',
      externalId: 'returns',
    });
    await type(el.querySelector<HTMLInputElement>('#knowledge-query')!, 'refund');
    choose(el.querySelector<HTMLSelectElement>('#knowledge-mode')!, 'dense');
    submit(el.querySelector('#knowledge-query')!.closest('form')!);
    await vi.waitFor(() => expect(el.querySelector('.search-mode')?.textContent).toBe('keywords (bm25)'));
    expect(JSON.parse(calls.find(([c]) => c.endsWith('/knowledge/search'))![1]!)).toEqual({ query: 'refund', limit: 5, mode: 'dense' });
    expect(el.querySelector('.search-mode')!.textContent).toBe('keywords (bm25)');
    expect(el.textContent).toContain('no embedding model');
    expect(el.querySelector('.results img')).toBeNull();
    expect(el.querySelector('.results')!.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(el.querySelector<HTMLAnchorElement>('.results a')!.rel).toBe('noopener noreferrer');
    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Embed waiting passages')!.click();
    await vi.waitFor(() => expect(el.querySelector('.sync-status')?.textContent).toMatch(/No embedding model/));
  });
});

describe('bidi controls', () => {
  test('a transcript with a right-to-left override shows the controls as visible escapes, never raw', async () => {
    const RLO = '\u202E';
    const CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
    const s = fakeServer({
      ...EMPTY_INBOX,
      'GET /v1/admin/inbox?view=waiting': listOf([
        rowOf({ reason: `visitor_request${RLO}`, lastMessage: { role: 'visitor', text: `invoice${RLO}fdp.exe`, at: minutesAgo(1) } }),
      ]),
      [`GET /v1/admin/conversations/${CONV}`]: transcriptOf([
        {
          id: 'm1',
          role: 'visitor',
          text: `Please open invoice${RLO}fdp.exe [EMAIL_1]\u2066x\u2069\u200E\u061C`,
          redactions: [],
          author: null,
          createdAt: new Date().toISOString(),
        },
        { id: 'm2', role: 'agent', text: 'ok', redactions: [], author: `Sam${RLO}`, authorName: null, createdAt: new Date().toISOString() },
      ]),
    });
    const { el } = mountInbox(s);
    await vi.waitFor(() => expect(rowButtons(el)).toHaveLength(1));
    await act(() => rowButtons(el)[0]!.click());
    await vi.waitFor(() => expect(el.querySelectorAll('.msg')).toHaveLength(2));
    expect(el.innerHTML).not.toMatch(CONTROLS);
    expect(el.textContent).toContain('Please open invoice⟨U+202E⟩fdp.exe [EMAIL_1]⟨U+2066⟩x⟨U+2069⟩⟨U+200E⟩⟨U+061C⟩');
    expect(el.textContent).toContain('Agent Sam⟨U+202E⟩');
    expect(rowButtons(el)[0]!.textContent).toContain('invoice⟨U+202E⟩fdp.exe');
    expect(el.querySelector('.msg .token')!.textContent).toBe('[EMAIL_1]');
  });

  test("the browser's own formatting keeps its marks; the same marks in anyone's text are still escaped", () => {
    // In Arabic, Intl puts a right-to-left mark after the day and the month.
    const date = formatted(new Date('2026-12-05T12:00:00Z').toLocaleString('ar'));
    expect(date).toMatch(/\u200F/);
    const el = mount(
      <p>
        <span class="own" title={date}>
          {date}
        </span>
        <span class="theirs">{`due ${date}`}</span>
        <span class="alone">{'\u200F'}</span>
      </p>,
    );
    expect(el.querySelector('.own')!.textContent).toBe(date);
    expect(el.querySelector('.own')!.getAttribute('title')).toBe(date);
    expect(el.querySelector('.theirs')!.textContent).toBe(`due ${showBidi(date)}`);
    expect(el.querySelector('.theirs')!.textContent).toContain('5⟨U+200F⟩/12⟨U+200F⟩');
    expect(el.querySelector('.alone')!.textContent).toBe('⟨U+200F⟩');
  });
});

describe('redaction display', () => {
  test('redaction tokens in a transcript are buttons that ask to reveal', () => {
    const onToken = vi.fn();
    const el = mount(<RedactedText text="Mail me at [EMAIL_1] or call [PHONE_2]." onToken={onToken} />);
    const buttons = el.querySelectorAll('button.token');
    expect([...buttons].map((b) => b.textContent)).toEqual(['[EMAIL_1]', '[PHONE_2]']);
    // Isolated left-to-right: in right-to-left text a token's brackets stay with it.
    expect([...buttons].map((b) => b.getAttribute('dir'))).toEqual(['ltr', 'ltr']);
    (buttons[1] as HTMLButtonElement).click();
    expect(onToken).toHaveBeenCalledWith('[PHONE_2]');
    expect(el.textContent).toBe('Mail me at [EMAIL_1] or call [PHONE_2].');
  });

  test('PII matches are highlighted by their offsets, as text (never HTML)', () => {
    const text = 'Hi <b>, I am Ann, ann@example.com';
    const start = text.indexOf('ann@');
    const el = mount(<Highlighted text={text} spans={[{ start, end: text.length, label: 'email · reversible' }]} />);
    expect(el.querySelector('mark')!.textContent).toBe('ann@example.comemail · reversible');
    // Each match isolated: "18 Mill Lane" reads in its own direction inside Arabic text.
    expect(el.querySelector('mark')!.getAttribute('dir')).toBe('auto');
    expect(el.querySelector('b')).toBeNull();
  });
});

describe('audit inclusion proofs', () => {
  const sha = async (...parts: number[][]) => new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(parts.flat())));
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

  test('checks RFC 9162 proofs in the browser, and refuses a wrong leaf, index or root', async () => {
    const [l0, l1, l2] = await Promise.all(
      [
        [0, 97],
        [0, 98],
        [0, 99],
      ].map((leaf) => sha(leaf)),
    );
    const n01 = await sha([1], [...l0!], [...l1!]);
    const root = hex(await sha([1], [...n01], [...l2!]));
    expect(await verifyInclusion(hex(l2!), 2, 3, [hex(n01)], root)).toBe(true);
    expect(await verifyInclusion(hex(l0!), 0, 3, [hex(l1!), hex(l2!)], root)).toBe(true);
    expect(await verifyInclusion(hex(l1!), 0, 3, [hex(l1!), hex(l2!)], root)).toBe(false);
    expect(await verifyInclusion(hex(l0!), 1, 3, [hex(l1!), hex(l2!)], root)).toBe(false);
    expect(await verifyInclusion(hex(l0!), 0, 3, [hex(l1!), hex(l2!)], hex(l0!))).toBe(false);
    expect(await verifyInclusion(hex(l2!), 3, 3, [hex(n01)], root)).toBe(false);
  });
});

describe('the audit log as this browser last saw it', () => {
  const sha = async (...parts: number[][]) => new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(parts.flat())));
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const origin = 'parley.example/audit/7c2b2d8e-0000-4000-8000-000000000001';

  async function tree() {
    const [l0, l1, l2] = await Promise.all(
      [
        [0, 97],
        [0, 98],
        [0, 99],
      ].map((leaf) => sha(leaf)),
    );
    const n01 = await sha([1], [...l0!], [...l1!]);
    return { l2: hex(l2!), root2: hex(n01), root3: hex(await sha([1], [...n01], [...l2!])) };
  }
  const cp = (size: number, root: string) => ({ origin, size, root, checkpoint: `${origin}\n${size}\n…\n`, verifierKey: 'k', verifierKeys: ['k'] });
  const apiFor = (routes: Record<string, unknown>) =>
    (async (_m: string, path: string) => {
      const key = Object.keys(routes).find((p) => path.startsWith(p));
      if (!key) throw new Error(`unexpected ${path}`);
      return routes[key];
    }) as unknown as Api;

  test('checks RFC 9162 consistency proofs in the browser', async () => {
    const t3 = await tree();
    expect(await verifyConsistency(2, 3, [t3.l2], t3.root2, t3.root3)).toBe(true);
    expect(await verifyConsistency(2, 3, [t3.l2], t3.root3, t3.root3)).toBe(false);
    expect(await verifyConsistency(2, 3, [t3.root2], t3.root2, t3.root3)).toBe(false);
    expect(await verifyConsistency(3, 2, [t3.l2], t3.root2, t3.root3)).toBe(false);
  });

  test('remembers the first checkpoint, then accepts only a proven extension of it', async () => {
    const t3 = await tree();
    expect(await checkContinuity(apiFor({}), cp(2, t3.root2))).toMatchObject({ kind: 'first' });
    expect(JSON.parse(localStorage.getItem(rememberedKey(origin))!)).toEqual({ size: 2, root: t3.root2 });
    const proofs = apiFor({ '/audit/proof/consistency?from=2&to=3': { proof: [t3.l2] } });
    expect(await checkContinuity(proofs, cp(3, t3.root3))).toMatchObject({ kind: 'extended', previous: { size: 2 } });
    expect(JSON.parse(localStorage.getItem(rememberedKey(origin))!)).toEqual({ size: 3, root: t3.root3 });
    expect(await checkContinuity(apiFor({}), cp(3, t3.root3))).toMatchObject({ kind: 'same' });
  });

  test('a log that shrank or forked is reported and the remembered checkpoint is kept', async () => {
    const t3 = await tree();
    localStorage.setItem(rememberedKey(origin), JSON.stringify({ size: 3, root: t3.root3 }));
    expect(await checkContinuity(apiFor({}), cp(2, t3.root2))).toMatchObject({ kind: 'shrank', previous: { size: 3 } });
    expect(await checkContinuity(apiFor({}), cp(3, t3.root2))).toMatchObject({ kind: 'forked' });
    localStorage.setItem(rememberedKey(origin), JSON.stringify({ size: 2, root: t3.root3 }));
    // A proof that does not link the remembered root to the new one: a rewritten history.
    expect(await checkContinuity(apiFor({ '/audit/proof/consistency': { proof: [t3.l2] } }), cp(3, t3.root3))).toMatchObject({ kind: 'forked' });
    expect(JSON.parse(localStorage.getItem(rememberedKey(origin))!)).toEqual({ size: 2, root: t3.root3 });
  });

  test('the audit view warns loudly when the log shrank since the last visit', async () => {
    const t3 = await tree();
    localStorage.setItem(rememberedKey(origin), JSON.stringify({ size: 3, root: t3.root3 }));
    const el = mount(<AuditView api={apiFor({ '/audit/checkpoint': cp(2, t3.root2), '/audit?': { entries: [], next: null } })} />);
    await vi.waitFor(() =>
      expect(el.querySelector('[role=alert]')?.textContent).toMatch(/shrank: this browser verified 3 entries before, the server now signs 2/),
    );
  });
});
