// SAML 2.0 sign-in against a local IdP that this test signs for with a throwaway key (xml-crypto).
import { inflateRawSync } from 'node:zlib';
import { parseXml2JsFromString } from '@node-saml/node-saml/lib/xml.js';
import { ADMIN_OPERATIONS, SAML_REFUSALS } from '@parley/protocol';
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/app.js';
import { signedInMember } from '../../test/console.js';
import { call } from '../../test/http.js';
import { TestIdp, makeKeyPair, postBinding, type AssertionInput } from '../../test/saml-idp.js';
import { newBinding, normaliseCertificates, samlAuthorizeUrl, samlUrls, SamlRefused, validateSamlResponse, type SamlUrls } from './saml.js';
import { putSamlConnection, type SamlConnectionRow } from './saml-store.js';
import { putSamlAdmin } from './saml-service.js';

const IDP_ENTITY = 'https://idp.test/saml/metadata';

/** The AuthnRequest inside a redirect URL (HTTP-Redirect binding: deflate + base64). */
export function authnRequestOf(url: string): { id: string; xml: string } {
  const u = new URL(url);
  const xml = inflateRawSync(Buffer.from(u.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
  const id = /\sID="([^"]+)"/.exec(xml)![1]!;
  return { id, xml };
}

const ASSERTION_RE = /<saml:Assertion\b[\s\S]*<\/saml:Assertion>/;
const SIGNATURE_RE = /<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*?<\/Signature>/;
const signedAssertionOf = (response: string) => ASSERTION_RE.exec(response)![0];

/** What a naive verifier does: check the one signature in the document against the IdP's certificate. */
function naiveSignatureCheck(xml: string, certPem: string): boolean {
  const sig = new SignedXml({ publicCert: certPem });
  sig.loadSignature(SIGNATURE_RE.exec(xml)![0]);
  return sig.checkSignature(xml);
}

/** What a naive reader takes: the NameID of the Response's (first) Assertion. */
async function naiveNameId(xml: string): Promise<string> {
  const doc = (await parseXml2JsFromString(xml)) as any;
  return doc.Response.Assertion[0].Subject[0].NameID[0]._;
}

type Wrap = (genuineResponse: string, evilAssertion: string, envelope: (inner: string) => string) => string;
export const xswVariants: [string, Wrap][] = [
  // The evil assertion first, the signed one after it, both children of the Response.
  ['a second, unsigned assertion before the signed one', (g, evil, env) => env(evil + signedAssertionOf(g))],
  // The evil assertion is the Response's only Assertion; the signed one hides in its Advice.
  [
    'the signed assertion nested inside the evil one',
    (g, evil, env) => env(evil.replace('</saml:Assertion>', `<saml:Advice>${signedAssertionOf(g)}</saml:Advice></saml:Assertion>`)),
  ],
  // The signed assertion goes into the Response's Extensions, the evil one takes its place.
  [
    'the signed assertion moved into the Response Extensions',
    (g, evil, env) => env(`${evil}<samlp:Extensions>${signedAssertionOf(g)}</samlp:Extensions>`),
  ],
  // The Signature moves into the evil assertion, with the signed assertion inside its ds:Object.
  [
    'the signature moved into the evil assertion, the original in its Object',
    (g, evil, env) => {
      const signed = signedAssertionOf(g);
      const signature = SIGNATURE_RE.exec(signed)![0];
      const moved = signature.replace('</Signature>', `<Object>${signed.replace(signature, '')}</Object></Signature>`);
      return env(evil.replace('</saml:Issuer>', `</saml:Issuer>${moved}`));
    },
  ],
];

describe('SAML validation (service level)', () => {
  let t: TestApp;
  let tenantId: string;
  let urls: SamlUrls;
  let conn: SamlConnectionRow;
  const idp = new TestIdp(IDP_ENTITY);

  beforeAll(async () => {
    t = await startTestApp();
    tenantId = (await t.tenant('Acme')).tenant.id;
    urls = samlUrls(t.config.publicUrl, tenantId);
    conn = {
      entryPoint: 'https://idp.test/sso',
      idpIssuer: IDP_ENTITY,
      idpCertificates: normaliseCertificates([idp.certPem]),
      allowedDomains: ['acme.example'],
      defaultRole: 'agent',
      groupsClaim: 'groups',
      groupRoles: [],
      updatedAt: new Date(),
    };
    await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => putSamlConnection(tx, tenantId, conn));
  });
  afterAll(() => t?.close());

  async function begin() {
    const binding = newBinding();
    const url = await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => samlAuthorizeUrl(tx, tenantId, conn, urls, binding.hash));
    return { binding, url, ...authnRequestOf(url) };
  }
  const input = (requestId: string, over: Partial<AssertionInput> = {}): AssertionInput => ({
    inResponseTo: requestId,
    acsUrl: urls.acsUrl,
    audience: urls.spEntityId,
    email: 'ann@acme.example',
    displayName: 'Ann Example',
    groups: ['support', 'admins'],
    ...over,
  });
  async function post(xml: string, binding: Buffer | null) {
    try {
      return await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
        validateSamlResponse(tx, tenantId, conn, urls, postBinding(xml), binding),
      );
    } catch (err) {
      if (err instanceof SamlRefused) return { refused: err.reason };
      throw err;
    }
  }

  it('sends an AuthnRequest to the IdP and accepts its signed assertion', async () => {
    const b = await begin();
    expect(b.url.startsWith('https://idp.test/sso?')).toBe(true);
    expect(b.xml).toContain(`AssertionConsumerServiceURL="${urls.acsUrl}"`);
    expect(b.xml).toContain(urls.spEntityId);
    const out = await post(idp.signedResponse(input(b.id)), b.binding.hash);
    expect(out).toEqual({ email: 'ann@acme.example', displayName: 'Ann Example', groups: ['support', 'admins'], subject: 'ann@acme.example' });
  });

  const attacks: [string, (id: string, b: { hash: Buffer }) => { xml: string; binding?: Buffer | null }, string][] = [
    ['an unsigned assertion', (id) => ({ xml: idp.signedResponse(input(id), { signAssertion: false }) }), 'unsigned'],
    [
      'a signed response around an unsigned assertion',
      (id) => ({ xml: idp.signedResponse(input(id), { signAssertion: false, signResponse: true }) }),
      'unsigned',
    ],
    ['an assertion signed by another key', (id) => ({ xml: idp.signedResponse(input(id), { keys: makeKeyPair() }) }), 'signature_invalid'],
    [
      'a DOCTYPE with entities',
      (id) => ({ xml: `<!DOCTYPE r [<!ENTITY e "${'x'.repeat(64)}">]>` + idp.signedResponse(input(id, { displayName: 'Ann &e;' })) }),
      'malformed',
    ],
    ['an assertion signed with SHA-1', (id) => ({ xml: idp.signedResponse(input(id), { sha1: true }) }), 'weak_signature'],
    ['a wrong audience', (id) => ({ xml: idp.signedResponse(input(id, { audience: 'https://other.example/sp' })) }), 'audience_mismatch'],
    [
      'another recipient',
      (id) => ({ xml: idp.signedResponse(input(id, { recipient: 'https://other.example/acs', destination: urls.acsUrl })) }),
      'recipient_mismatch',
    ],
    ['another destination', (id) => ({ xml: idp.signedResponse(input(id, { destination: 'https://other.example/acs' })) }), 'recipient_mismatch'],
    ['another issuer', (id) => ({ xml: idp.signedResponse(input(id, { issuer: 'https://evil.example/idp' })) }), 'issuer_mismatch'],
    [
      'an expired assertion',
      (id) => ({ xml: idp.signedResponse(input(id, { notBefore: new Date(Date.now() - 3600_000), notOnOrAfter: new Date(Date.now() - 600_000) })) }),
      'expired',
    ],
    ['an unknown InResponseTo', () => ({ xml: idp.signedResponse(input('_' + 'f'.repeat(40))) }), 'in_response_to_unknown'],
    ['no browser cookie', (id) => ({ xml: idp.signedResponse(input(id)), binding: null }), 'binding_missing'],
    ['another browser', (id) => ({ xml: idp.signedResponse(input(id)), binding: newBinding().hash }), 'browser_mismatch'],
  ];
  it.each(attacks)('refuses %s', async (_name, make, reason) => {
    const b = await begin();
    const { xml, binding } = make(b.id, b.binding);
    expect(await post(xml, binding === undefined ? b.binding.hash : binding)).toEqual({ refused: reason });
  });

  // Signature wrapping (XSW): the signed assertion stays intact somewhere, an unsigned evil one sits where a
  // naive verifier (verify the signature by its ID, then read the first Assertion) would read it.
  it.each(xswVariants)('refuses signature wrapping: %s', async (_name, wrap) => {
    const b = await begin();
    const genuine = idp.signedResponse(input(b.id));
    const evil = idp.assertion(input(b.id, { email: 'mallory@acme.example', displayName: 'Mallory', groups: ['admins'] }));
    const xml = wrap(genuine, evil, (inner) => idp.envelope(input(b.id), inner));
    // The attack is real: the original signature still verifies over the wrapped document…
    expect(naiveSignatureCheck(xml, idp.certPem)).toBe(true);
    // …and the Response's Assertion, where a naive reader looks, is the evil one.
    expect(await naiveNameId(xml)).toBe('mallory@acme.example');
    expect(await post(xml, b.binding.hash)).toEqual({ refused: 'signature_invalid' });
  });

  it('refuses a replay of the same response', async () => {
    const b = await begin();
    const xml = idp.signedResponse(input(b.id));
    expect(await post(xml, b.binding.hash)).toMatchObject({ email: 'ann@acme.example' });
    expect(await post(xml, b.binding.hash)).toEqual({ refused: 'replayed' });
    // The same signed assertion again, its (unsigned) Response now answering a fresh request of this browser.
    const b2 = await begin();
    expect(await post(xml.replace(`InResponseTo="${b.id}"`, `InResponseTo="${b2.id}"`), b2.binding.hash)).toEqual({ refused: 'replayed' });
  });
});

describe('SAML sign-in over HTTP', () => {
  let t: TestApp;
  let tenantId: string;
  let key: string;
  let owner: Awaited<ReturnType<typeof signedInMember>>;
  let urls: SamlUrls;
  const idp = new TestIdp(IDP_ENTITY);
  const connection = () => ({
    entryPoint: 'https://idp.test/sso',
    idpIssuer: IDP_ENTITY,
    idpCertificates: [idp.certPem],
    allowedDomains: ['acme.example'],
    defaultRole: 'agent',
    groupsClaim: 'memberOf',
    groupRoles: [{ group: 'parley-admins', role: 'admin' }],
  });

  beforeAll(async () => {
    t = await startTestApp();
    const created = await t.tenant('Acme', ['acme.example']);
    tenantId = created.tenant.id;
    key = created.secretKey;
    owner = await signedInMember(t, tenantId, 'owner');
    urls = samlUrls(t.config.publicUrl, tenantId);
  });
  afterAll(() => t?.close());

  const audits = async (action: string) =>
    (
      await t.runtime.db.withOwner((tx) =>
        tx.query<{ actor_type: string; actor_id: string | null; metadata: Record<string, unknown> }>(
          'SELECT actor_type, actor_id, metadata FROM audit_entries WHERE tenant_id = $1 AND action = $2 ORDER BY id',
          [tenantId, action],
        ),
      )
    ).rows;
  /** How many refusals with this reason were audited (the first of a window as an entry, the rest counted). */
  const refusalCount = async (reason: string) =>
    (
      await t.runtime.db.withOwner((tx) =>
        tx.query<{ n: number }>(
          "SELECT coalesce(sum(count), 0)::int AS n FROM audit_refusals WHERE tenant_id = $1 AND action = 'sso.saml_refused' AND subject = $2",
          [tenantId, reason],
        ),
      )
    ).rows[0]!.n;
  const memberByEmail = async (email: string) =>
    (
      await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
        tx.query<{ id: string; role: string; display_name: string }>('SELECT id, role, display_name FROM members WHERE email = $1', [email]),
      )
    ).rows[0] ?? null;
  const cookieValue = (setCookies: string[], name: string) => {
    const c = setCookies.find((x) => x.startsWith(`${name}=`));
    return c ? c.slice(name.length + 1).split(';')[0]! : null;
  };

  /** "Sign in with SSO": the IdP URL (with the AuthnRequest) and the binding cookie the browser keeps. */
  async function begin(email = 'ann@acme.example') {
    const r = await fetch(`${t.url}/v1/auth/sso/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: t.url, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email }),
    });
    expect(r.status).toBe(200);
    const setCookies = r.headers.getSetCookie();
    const raw = setCookies.find((c) => c.startsWith('__Host-parley_sso='))!;
    // The IdP's POST back is cross-site: only a SameSite=None cookie comes with it.
    expect(raw).toMatch(/; Secure/);
    expect(raw).toMatch(/; HttpOnly/);
    expect(raw).toMatch(/; SameSite=None/);
    expect(raw).toMatch(/; Path=\//);
    const { redirectUrl } = (await r.json()) as { redirectUrl: string };
    return { ...authnRequestOf(redirectUrl), redirectUrl, cookie: cookieValue(setCookies, '__Host-parley_sso')! };
  }

  /** The browser posting the IdP's form to our ACS (cross-site, with its cookie). */
  async function acs(xml: string, cookie: string | null, body?: string | URLSearchParams, contentType = 'application/x-www-form-urlencoded') {
    const r = await fetch(`${t.url}/v1/auth/sso/saml/${tenantId}/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': contentType,
        origin: 'https://idp.test',
        'sec-fetch-site': 'cross-site',
        ...(cookie ? { cookie: `__Host-parley_sso=${cookie}` } : {}),
      },
      body: body ?? new URLSearchParams({ SAMLResponse: postBinding(xml), RelayState: '' }),
    });
    const setCookies = r.headers.getSetCookie();
    return {
      status: r.status,
      location: r.headers.get('location'),
      access: cookieValue(setCookies, '__Host-parley_access'),
      refresh: cookieValue(setCookies, '__Host-parley_refresh'),
    };
  }

  const input = (requestId: string, over: Partial<AssertionInput> = {}): AssertionInput => ({
    inResponseTo: requestId,
    acsUrl: urls.acsUrl,
    audience: urls.spEntityId,
    email: 'ann@acme.example',
    displayName: 'Ann Example',
    groups: ['support', 'parley-admins'],
    groupsAttribute: 'memberOf',
    ...over,
  });

  it('configures the connection: certificates checked, SP values returned, capabilities enforced, audited', async () => {
    // Only an owner, signed in, sets the IdP; a key is refused whatever it holds.
    const put = (body: unknown, k?: string) =>
      k ? call(t.url, 'PUT', '/v1/admin/sso/saml', { key: k, body }) : owner.client.call('PUT', '/v1/admin/sso/saml', body);
    const expired = makeKeyPair({ notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') });
    let r = await put({ ...connection(), idpCertificates: [idp.certPem, expired.certPem] });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([expect.objectContaining({ path: '/idpCertificates/1', code: 'certificate_expired' })]);
    r = await put({ ...connection(), idpCertificates: [expired.keyPem.replace(/PRIVATE KEY/g, 'PUBLIC KEY')] });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([expect.objectContaining({ path: '/idpCertificates/0', code: 'not_a_certificate' })]);
    r = await put({ ...connection(), idpCertificates: ['A'.repeat(200)] });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([expect.objectContaining({ path: '/idpCertificates/0', code: 'not_a_certificate' })]);
    expect(await audits('sso.saml_configured')).toHaveLength(0);

    r = await put({
      ...connection(),
      groupRoles: [
        { group: 'parley-admins', role: 'admin' },
        { group: 'it', role: 'owner' },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([expect.objectContaining({ path: '/groupRoles/1/role' })]); // an IdP group never makes an owner

    const reader = (await call(t.url, 'POST', '/v1/admin/api-keys', { key, body: { name: 'reader', capabilities: ['settings:read'] } })).body
      .secret as string;
    expect((await put(connection(), reader)).status).toBe(403);
    expect((await put(connection(), key)).status).toBe(403);
    const admin = await signedInMember(t, tenantId, 'admin');
    expect((await admin.client.call('PUT', '/v1/admin/sso/saml', connection())).status).toBe(403);
    expect((await call(t.url, 'GET', '/v1/admin/sso/saml', { key: reader })).status).toBe(404);

    r = await put(connection());
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      spEntityId: urls.spEntityId,
      acsUrl: urls.acsUrl,
      metadataUrl: urls.metadataUrl,
      idpIssuer: IDP_ENTITY,
      groupsClaim: 'memberOf',
    });
    expect(urls.acsUrl).toBe(`${t.config.publicUrl}/v1/auth/sso/saml/${tenantId}/acs`);
    r = await call(t.url, 'GET', '/v1/admin/sso/saml', { key: reader });
    expect(r.status).toBe(200);
    expect(r.body.idpCertificates).toHaveLength(1);
    expect(r.body.idpCertificates[0]).toContain('-----BEGIN CERTIFICATE-----');

    const configured = await audits('sso.saml_configured');
    expect(configured).toHaveLength(1);
    expect(JSON.stringify(configured[0]!.metadata)).not.toContain('BEGIN CERTIFICATE');

    const meta = await fetch(`${t.url}/v1/auth/sso/saml/${tenantId}/metadata`);
    expect(meta.status).toBe(200);
    const xml = await meta.text();
    expect(xml).toContain(`entityID="${urls.spEntityId}"`);
    expect(xml).toContain(`Location="${urls.acsUrl}"`);
    expect(xml).toContain('WantAssertionsSigned="true"');
  });

  it('signs in through the IdP: a session, the role from the group mapping, or the default role', async () => {
    const b = await begin();
    expect(b.redirectUrl.startsWith('https://idp.test/sso?SAMLRequest=')).toBe(true);
    const r = await acs(idp.signedResponse(input(b.id)), b.cookie);
    expect(r.status).toBe(303);
    expect(r.location).toBe('/console/');
    expect(r.access).toBeTruthy();
    expect(r.refresh).toBeTruthy();
    expect(await memberByEmail('ann@acme.example')).toMatchObject({ role: 'admin', display_name: 'Ann Example' });
    const signIns = await audits('member.sign_in');
    expect(signIns.at(-1)!.metadata).toMatchObject({ method: 'saml' });

    const b2 = await begin('bob@acme.example');
    const r2 = await acs(idp.signedResponse(input(b2.id, { email: 'bob@acme.example', displayName: 'Bob', groups: ['support'] })), b2.cookie);
    expect(r2.location).toBe('/console/');
    expect(await memberByEmail('bob@acme.example')).toMatchObject({ role: 'agent' });
  });

  it('an owner mapping written straight into the database still makes no owner: the default role instead', async () => {
    await t.runtime.db.withOwner((tx) =>
      tx.query(`UPDATE sso_connections SET group_roles = '[{"group":"it","role":"owner"}]' WHERE tenant_id = $1 AND kind = 'saml'`, [tenantId]),
    );
    try {
      const b = await begin('ivan@acme.example');
      const r = await acs(idp.signedResponse(input(b.id, { email: 'ivan@acme.example', displayName: 'Ivan', groups: ['it'] })), b.cookie);
      expect(r.location).toBe('/console/');
      expect(await memberByEmail('ivan@acme.example')).toMatchObject({ role: 'agent' });
    } finally {
      await t.runtime.db.withOwner((tx) =>
        tx.query(`UPDATE sso_connections SET group_roles = '[{"group":"parley-admins","role":"admin"}]' WHERE tenant_id = $1 AND kind = 'saml'`, [
          tenantId,
        ]),
      );
    }
  });

  const mallory = 'mallory@acme.example';
  const attacks: [string, (id: string) => string, string][] = [
    ['an unsigned assertion', (id) => idp.signedResponse(input(id, { email: mallory }), { signAssertion: false }), 'unsigned'],
    [
      'a signed response around an unsigned assertion',
      (id) => idp.signedResponse(input(id, { email: mallory }), { signAssertion: false, signResponse: true }),
      'unsigned',
    ],
    ['an assertion signed by another key', (id) => idp.signedResponse(input(id, { email: mallory }), { keys: makeKeyPair() }), 'signature_invalid'],
    ['a wrong audience', (id) => idp.signedResponse(input(id, { email: mallory, audience: 'https://other.example/sp' })), 'audience_mismatch'],
    ['another recipient', (id) => idp.signedResponse(input(id, { email: mallory, recipient: 'https://other.example/acs' })), 'recipient_mismatch'],
    [
      'an expired assertion',
      (id) =>
        idp.signedResponse(input(id, { email: mallory, notBefore: new Date(Date.now() - 3600_000), notOnOrAfter: new Date(Date.now() - 600_000) })),
      'expired',
    ],
    ['an unknown InResponseTo', () => idp.signedResponse(input(`_${'e'.repeat(40)}`, { email: mallory })), 'in_response_to_unknown'],
    ...xswVariants.map(([name, wrap]): [string, (id: string) => string, string] => [
      `signature wrapping: ${name}`,
      (id) =>
        wrap(idp.signedResponse(input(id, { email: 'carol@acme.example', groups: [] })), idp.assertion(input(id, { email: mallory })), (inner) =>
          idp.envelope(input(id), inner),
        ),
      'signature_invalid',
    ]),
  ];
  it.each(attacks)('refuses %s: a clear reason, audited, no session', async (_name, make, reason) => {
    const before = await refusalCount(reason);
    const b = await begin();
    const r = await acs(make(b.id), b.cookie);
    expect(r.status).toBe(303);
    expect(r.location).toBe(`/console/?sso_error=${reason}`);
    expect(SAML_REFUSALS).toContain(reason); // a known code: the console has words for each (console tests)
    expect(r.access).toBeNull();
    expect(r.refresh).toBeNull();
    // Audited: the first refusal of a reason in a window is an entry, later ones are counted beside it.
    expect(await refusalCount(reason)).toBe(before + 1);
    expect((await audits('sso.saml_refused')).some((e) => e.metadata.reason === reason)).toBe(true);
    expect(await memberByEmail(mallory)).toBeNull();
  });

  it('a flood of bogus Responses at the ACS is counted, not appended: the audit log grows by one entry per reason and window', async () => {
    const entries = async () =>
      (await t.runtime.db.withOwner((tx) => tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1', [tenantId])))
        .rows[0]!.n;
    const before = await entries();
    const countedBefore = await refusalCount('malformed');
    for (let i = 0; i < 30; i++) {
      const r = await fetch(`${t.url}/v1/auth/sso/saml/${tenantId}/acs`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `SAMLResponse=${'A'.repeat(40)}${i}`,
      });
      expect(r.headers.get('location')).toMatch(/^\/console\/\?sso_error=/);
    }
    expect(await entries()).toBeLessThanOrEqual(before + 1);
    expect(await refusalCount('malformed')).toBe(countedBefore + 30);
  });

  it('refuses a replay of the same response, and the Response from another browser', async () => {
    const b = await begin();
    const xml = idp.signedResponse(input(b.id));
    expect((await acs(xml, b.cookie)).location).toBe('/console/');
    const again = await acs(xml, b.cookie);
    expect(again.location).toBe('/console/?sso_error=replayed');
    expect(again.access).toBeNull();
    expect(await refusalCount('replayed')).toBeGreaterThan(0);

    // Login CSRF: the attacker's own (valid) Response posted from the victim's browser, which has its own cookie or none.
    const attacker = await begin();
    const victim = await begin();
    const forged = idp.signedResponse(input(attacker.id, { email: mallory }));
    expect((await acs(forged, victim.cookie)).location).toBe('/console/?sso_error=browser_mismatch');
    const attacker2 = await begin();
    expect((await acs(idp.signedResponse(input(attacker2.id, { email: mallory })), null)).location).toBe('/console/?sso_error=binding_missing');
    expect(await memberByEmail(mallory)).toBeNull();
  });

  it("refuses another tenant's Response (same IdP) at this tenant's ACS", async () => {
    const beta = await t.tenant('Beta', ['beta.example']);
    const betaUrls = samlUrls(t.config.publicUrl, beta.tenant.id);
    // Beta cannot list Acme's domain (Acme's people would be sent to Beta's IdP): 409, nothing stored.
    const betaOwner = await signedInMember(t, beta.tenant.id, 'owner');
    const grab = await betaOwner.client.call('PUT', '/v1/admin/sso/saml', connection());
    expect(grab.status).toBe(409);
    expect(grab.body.detail).toContain('already used for single sign-on by another organisation');
    expect((await call(t.url, 'GET', '/v1/admin/sso/saml', { key: beta.secretKey })).status).toBe(404);
    const put = await betaOwner.client.call('PUT', '/v1/admin/sso/saml', { ...connection(), allowedDomains: ['beta.example'] });
    expect(put.status).toBe(201);
    const b = await begin('mallory@beta.example');
    expect(b.redirectUrl).toContain('SAMLRequest=');
    const forBeta = idp.signedResponse(input(b.id, { email: 'mallory@beta.example', acsUrl: betaUrls.acsUrl, audience: betaUrls.spEntityId }));
    const before = await refusalCount('recipient_mismatch');
    const r = await acs(forBeta, b.cookie);
    expect(r.location).toBe('/console/?sso_error=recipient_mismatch');
    expect(r.access).toBeNull();
    expect(await refusalCount('recipient_mismatch')).toBe(before + 1);
    // Its Destination rewritten to ours (unsigned), the signed Recipient and Audience still say Beta.
    const b2 = await begin('mallory@beta.example');
    const rewritten = idp.signedResponse(
      input(b2.id, { email: 'mallory@beta.example', acsUrl: betaUrls.acsUrl, audience: betaUrls.spEntityId, destination: urls.acsUrl }),
    );
    const r2 = await acs(rewritten, b2.cookie);
    // (Beta's request id means nothing here: request ids live in each tenant's own rows.)
    expect(r2.location).toBe('/console/?sso_error=in_response_to_unknown');
    expect(r2.access).toBeNull();
  });

  it('refuses an email outside the allowed domains (audited by the sign-in)', async () => {
    const before = (await audits('sso.saml_refused')).length;
    const b = await begin();
    const r = await acs(idp.signedResponse(input(b.id, { email: 'eve@elsewhere.example' })), b.cookie);
    expect(r.location).toBe('/console/?sso_error=domain_not_allowed');
    expect(r.access).toBeNull();
    const refused = await audits('sso.saml_refused');
    expect(refused).toHaveLength(before + 1);
    expect(refused.at(-1)!.metadata).toEqual({ reason: 'domain_not_allowed' });
    expect(JSON.stringify(refused.at(-1))).not.toContain('eve@');
  });

  it("goes on to the second factor when the tenant's policy asks for one", async () => {
    const policy = (requireMfa: string) => call(t.url, 'PUT', '/v1/admin/sign-in-policy', { key, body: { requireMfa } });
    expect((await policy('everyone')).status).toBe(200);
    try {
      const b = await begin();
      const r = await fetch(`${t.url}/v1/auth/sso/saml/${tenantId}/acs`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `__Host-parley_sso=${b.cookie}` },
        body: new URLSearchParams({ SAMLResponse: postBinding(idp.signedResponse(input(b.id))) }),
      });
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toBe('/console/#mfa');
      const set = r.headers.getSetCookie();
      expect(cookieValue(set, '__Host-parley_mfa')).toBeTruthy();
      expect(cookieValue(set, '__Host-parley_access')).toBeNull();
    } finally {
      expect((await policy('off')).status).toBe(200);
    }
  });

  it('takes only a bounded urlencoded form at the ACS, and never answers 500', async () => {
    const b = await begin();
    const json = await acs('', b.cookie, JSON.stringify({ SAMLResponse: postBinding(idp.signedResponse(input(b.id))) }), 'application/json');
    expect(json.location).toBe('/console/?sso_error=malformed');
    const big = await acs('', b.cookie, `SAMLResponse=${'A'.repeat(600 * 1024)}`);
    expect(big.status).toBe(413);
    const junk = await acs('', b.cookie, 'SAMLResponse=%3Cnot-xml');
    expect(junk.location).toBe('/console/?sso_error=malformed');
    const notBase64 = await acs('', b.cookie, `SAMLResponse=${encodeURIComponent(Buffer.from('<samlp:Response').toString('base64'))}`);
    expect(notBase64.location).toBe('/console/?sso_error=malformed');
    const otherTenant = await fetch(`${t.url}/v1/auth/sso/saml/00000000-0000-4000-8000-000000000000/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'SAMLResponse=AAAA',
    });
    expect(otherTenant.status).toBe(303);
    expect(otherTenant.headers.get('location')).toBe('/console/?sso_error=not_configured');
  });

  it('removes the connection (audited); its endpoints then answer 404 or not_configured', async () => {
    const b = await begin();
    expect((await call(t.url, 'DELETE', '/v1/admin/sso/saml', { key })).status).toBe(403);
    expect((await owner.client.call('DELETE', '/v1/admin/sso/saml')).status).toBe(204);
    expect(await audits('sso.saml_removed')).toHaveLength(1);
    expect((await call(t.url, 'GET', '/v1/admin/sso/saml', { key })).status).toBe(404);
    expect((await fetch(`${t.url}/v1/auth/sso/saml/${tenantId}/metadata`)).status).toBe(404);
    expect((await acs(idp.signedResponse(input(b.id)), b.cookie)).location).toBe('/console/?sso_error=not_configured');
    expect((await owner.client.call('DELETE', '/v1/admin/sso/saml')).status).toBe(404);
  });
});

// Attack: the SAML entryPoint took any URL zod accepts (javascript:, data:, plain http:), and
// /v1/auth/sso/start handed it back as redirectUrl, which the console passed to location.assign().
describe('the SAML entry point is an https URL', () => {
  let t: TestApp;
  let tenantId: string;
  let owner: Awaited<ReturnType<typeof signedInMember>>;
  const idp = new TestIdp(IDP_ENTITY);
  const connection = (entryPoint: string) => ({
    entryPoint,
    idpIssuer: IDP_ENTITY,
    idpCertificates: [idp.certPem],
    allowedDomains: ['scheme.example'],
  });
  beforeAll(async () => {
    t = await startTestApp();
    tenantId = (await t.tenant('Scheme', ['scheme.example'])).tenant.id;
    owner = await signedInMember(t, tenantId, 'owner');
  });
  afterAll(() => t?.close());
  const start = () =>
    call(t.url, 'POST', '/v1/auth/sso/start', {
      body: { email: 'someone@scheme.example' },
      headers: { origin: t.url, 'sec-fetch-site': 'same-origin' },
    });

  it('refuses javascript:, data: and other schemes with a 400 naming /entryPoint; http: only in development', async () => {
    for (const ep of ['javascript:alert(document.domain)//', 'data:text/html,<script>alert(1)</script>', 'ftp://idp.scheme.example/sso']) {
      const r = await owner.client.call('PUT', '/v1/admin/sso/saml', connection(ep));
      expect(r.status, ep).toBe(400);
      expect(r.body.errors).toEqual([expect.objectContaining({ path: '/entryPoint' })]);
    }
    expect((await owner.client.call('GET', '/v1/admin/sso/saml')).status).toBe(404);
    // This test server runs in development, where an IdP on plain http (a local one) is allowed.
    expect((await owner.client.call('PUT', '/v1/admin/sso/saml', connection('http://idp.scheme.example/sso'))).status).toBe(201);
    expect((await owner.client.call('PUT', '/v1/admin/sso/saml', connection('https://idp.scheme.example/sso'))).status).toBe(200);
    expect(new URL((await start()).body.redirectUrl).origin).toBe('https://idp.scheme.example');
    // Outside development, https only.
    const production = { db: t.runtime.db, audit: t.runtime.audit, refusals: {} as never, publicUrl: t.config.publicUrl, env: 'production' as const };
    const ctx = { tenantId, requestId: null, actor: { type: 'member' as const, id: owner.memberId } };
    const body = { ...connection('http://idp.scheme.example/sso'), defaultRole: 'agent' as const, groupsClaim: 'groups', groupRoles: [] };
    await expect(putSamlAdmin(production, ctx, body)).rejects.toMatchObject({
      code: 'invalid_input',
      details: { errors: [expect.objectContaining({ path: '/entryPoint', code: 'invalid_url' })] },
    });
  });

  it('a stored entry point that is not http(s) (saved before this check) sends nobody there', async () => {
    await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
      tx.query("UPDATE sso_connections SET config = jsonb_set(config, '{entryPoint}', '\"javascript:alert(1)//\"') WHERE kind = 'saml'"),
    );
    const r = await start();
    expect(r.status).toBe(409);
    expect(r.text).not.toContain('javascript:');
    await owner.client.call('PUT', '/v1/admin/sso/saml', connection('https://idp.scheme.example/sso'));
    expect((await start()).status).toBe(200);
  });
});

// Attack (eleventh review): with keys.privileged on the approvals list, an owner re-pointed the SAML
// connection (default role agent, so not held) at an IdP whose key they held, signed in through it as sam,
// a password-less admin linked at the company's IdP (the address matched, and only a link at the same IdP
// was refused), and "sam" approved the owner's own held request for a keys:write + pii:reveal key.
describe('SSO and the approval rail: an owner cannot sign in as another approver through an IdP they control', () => {
  let t: TestApp;
  let tenantId: string;
  let key: string;
  let urls: SamlUrls;
  let owner: Awaited<ReturnType<typeof signedInMember>>;
  let admin2: Awaited<ReturnType<typeof signedInMember>>;
  let samId: string;
  const corp = new TestIdp('https://idp-corp.example/saml');
  const evil = new TestIdp('https://idp-owner-controlled.example/saml');
  // Made before the app starts: openssl is slow, and an idle keep-alive socket to the app may be closed meanwhile.
  const next = new TestIdp('https://idp-next.example/saml');
  const connection = (idp: TestIdp, over: Record<string, unknown> = {}) => ({
    entryPoint: `${new URL(idp.entityId).origin}/sso`,
    idpIssuer: idp.entityId,
    idpCertificates: [idp.certPem],
    allowedDomains: ['rail.example'],
    defaultRole: 'agent' as const,
    ...over,
  });
  const approval = (id: string) => ({ 'parley-approval': id });

  beforeAll(async () => {
    t = await startTestApp();
    const created = await t.tenant('Rail', ['rail.example']);
    tenantId = created.tenant.id;
    key = created.secretKey;
    urls = samlUrls(t.config.publicUrl, tenantId);
    owner = await signedInMember(t, tenantId, 'owner', 'owner@rail.example');
    admin2 = await signedInMember(t, tenantId, 'admin', 'admin2@rail.example');
  });
  afterAll(() => t?.close());

  const cookieOf = (r: Response, name: string) =>
    (r.headers.getSetCookie().find((c) => c.startsWith(`${name}=`)) ?? '').split(';')[0]!.slice(name.length + 1) || null;
  /** "Sign in with SSO" as `email`, the IdP answering with `idp`'s key (and issuer): where the browser lands, and its session. */
  async function ssoSignIn(idp: TestIdp, email: string, keys = idp.keys) {
    const start = await fetch(`${t.url}/v1/auth/sso/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: t.url, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email }),
    });
    expect(start.status).toBe(200);
    const { id } = authnRequestOf(((await start.json()) as { redirectUrl: string }).redirectUrl);
    const xml = idp.signedResponse({ inResponseTo: id, acsUrl: urls.acsUrl, audience: urls.spEntityId, email }, { keys });
    const r = await fetch(`${t.url}/v1/auth/sso/saml/${tenantId}/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://idp.test',
        'sec-fetch-site': 'cross-site',
        cookie: `__Host-parley_sso=${cookieOf(start, '__Host-parley_sso')}`,
      },
      body: new URLSearchParams({ SAMLResponse: postBinding(xml), RelayState: '' }),
    });
    const access = cookieOf(r, '__Host-parley_access');
    const as = (method: string, path: string, body?: unknown) =>
      call(t.url, method, path, { body, headers: { cookie: `__Host-parley_access=${access}`, origin: t.url, 'sec-fetch-site': 'same-origin' } });
    return { location: r.headers.get('location'), access, as };
  }
  const privilegedKey = { name: 'backdoor', capabilities: ['keys:write', 'pii:reveal'] };

  it('re-pointing the connection at another IdP waits for another admin when a member it could sign in as exists', async () => {
    const marked = await call(t.url, 'PATCH', '/v1/admin/settings', { key, body: { approvals: { operations: [...ADMIN_OPERATIONS] } } });
    expect(marked.status, marked.text).toBe(200);
    // Legitimately: the company's IdP (nobody yet to sign in as: at once), sam joins through it, and is made
    // admin with admin2's approval.
    expect((await owner.client.call('PUT', '/v1/admin/sso/saml', connection(corp))).status).toBe(201);
    const sam = await ssoSignIn(corp, 'sam@rail.example');
    expect(sam.location).toBe('/console/');
    samId = (await sam.as('GET', '/v1/admin/me')).body.member.id;
    const promote = await owner.client.call('PATCH', `/v1/admin/members/${samId}`, { role: 'admin' });
    expect(promote.status).toBe(202);
    expect((await admin2.client.call('POST', `/v1/admin/approvals/${promote.body.proposal.id}/approve`, {})).status).toBe(200);
    const promoted = await owner.client.call('PATCH', `/v1/admin/members/${samId}`, { role: 'admin' }, approval(promote.body.proposal.id));
    expect(promoted.body.member.role).toBe('admin');

    // The attack: the owner alone points the connection at an IdP they control. Held, nothing changed.
    const moved = await owner.client.call('PUT', '/v1/admin/sso/saml', connection(evil));
    expect(moved.status, moved.text).toBe(202);
    expect(moved.body.proposal).toMatchObject({ operation: 'keys.privileged', arguments: { idpIssuer: evil.entityId } });
    expect((await owner.client.call('GET', '/v1/admin/sso/saml')).body.idpIssuer).toBe(corp.entityId);
    // So is a new signing certificate for the same issuer (its holder would sign in as anyone linked there).
    const rotated = await owner.client.call('PUT', '/v1/admin/sso/saml', connection(corp, { idpCertificates: [corp.certPem, evil.certPem] }));
    expect(rotated.status, rotated.text).toBe(202);
    const forged = await ssoSignIn(corp, 'sam@rail.example', evil.keys);
    expect(forged.location).toBe('/console/?sso_error=signature_invalid');
    // What signs in nobody new runs at once: another entry point, a role that makes no admin, a certificate fewer.
    expect(
      (await owner.client.call('PUT', '/v1/admin/sso/saml', connection(corp, { entryPoint: 'https://login.idp-corp.example/sso' }))).status,
    ).toBe(200);
  });

  it('a password-less member linked at one IdP is not re-linked by their address at another: identity_mismatch, and no approval', async () => {
    // A connection saved by other means (before this rule, say) to the owner's IdP: sam is still linked at the company's.
    await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
      putSamlConnection(tx, tenantId, {
        ...connection(evil),
        idpCertificates: normaliseCertificates([evil.certPem]),
        groupsClaim: 'groups',
        groupRoles: [],
      }),
    );
    try {
      const asked = await owner.client.call('POST', '/v1/admin/api-keys', privilegedKey);
      expect(asked.status).toBe(202);
      expect((await owner.client.call('POST', `/v1/admin/approvals/${asked.body.proposal.id}/approve`, {})).status).toBe(403);
      const fake = await ssoSignIn(evil, 'sam@rail.example');
      expect(fake.location).toBe('/console/?sso_error=identity_mismatch');
      expect(fake.access).toBeNull();
      expect((await fake.as('POST', `/v1/admin/approvals/${asked.body.proposal.id}/approve`, {})).status).toBe(401);
      const done = await owner.client.call('POST', '/v1/admin/api-keys', privilegedKey, approval(asked.body.proposal.id));
      expect(done.status).toBe(409);
      // Someone new still joins through it (as an agent).
      expect((await ssoSignIn(evil, 'newcomer@rail.example')).location).toBe('/console/');
    } finally {
      await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
        putSamlConnection(tx, tenantId, {
          ...connection(corp),
          idpCertificates: normaliseCertificates([corp.certPem]),
          groupsClaim: 'groups',
          groupRoles: [],
        }),
      );
    }
  });

  it("resetting an approver's SSO link waits for another admin too; with approval an IdP migration re-links everyone at their first sign-in", async () => {
    const reset = await owner.client.call('DELETE', `/v1/admin/members/${samId}/sso-link`);
    expect(reset.status, reset.text).toBe(202);
    expect(reset.body.proposal).toMatchObject({ operation: 'keys.privileged', arguments: { member: samId, ssoLink: 'reset' } });
    expect((await ssoSignIn(corp, 'sam@rail.example')).location).toBe('/console/'); // still linked

    // The company moves to another IdP, with admin2's approval: sam's link at the old one is released.
    const moved = await owner.client.call('PUT', '/v1/admin/sso/saml', connection(next));
    expect(moved.status).toBe(202);
    expect((await admin2.client.call('POST', `/v1/admin/approvals/${moved.body.proposal.id}/approve`, {})).status).toBe(200);
    const ran = await owner.client.call('PUT', '/v1/admin/sso/saml', connection(next), approval(moved.body.proposal.id));
    expect(ran.status, ran.text).toBe(200);
    const sam = await ssoSignIn(next, 'sam@rail.example');
    expect(sam.location).toBe('/console/');
    expect((await sam.as('GET', '/v1/admin/me')).body.member).toMatchObject({ id: samId, role: 'admin' });
    // The old IdP signs in nobody any more.
    expect((await ssoSignIn(corp, 'sam@rail.example')).location).toBe('/console/?sso_error=signature_invalid');
  });
});
