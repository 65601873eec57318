// SAML 2.0 sign-in against a local IdP that this test signs for with a throwaway key (xml-crypto).
import { inflateRawSync } from 'node:zlib';
import { parseXml2JsFromString } from '@node-saml/node-saml/lib/xml.js';
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/app.js';
import { TestIdp, makeKeyPair, postBinding, type AssertionInput } from '../../test/saml-idp.js';
import { newBinding, normaliseCertificates, samlAuthorizeUrl, samlUrls, SamlRefused, validateSamlResponse, type SamlUrls } from './saml.js';
import { putSamlConnection, type SamlConnectionRow } from './saml-store.js';

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
  ['the signed assertion nested inside the evil one', (g, evil, env) => env(evil.replace('</saml:Assertion>', `<saml:Advice>${signedAssertionOf(g)}</saml:Advice></saml:Assertion>`))],
  // The signed assertion goes into the Response's Extensions, the evil one takes its place.
  ['the signed assertion moved into the Response Extensions', (g, evil, env) => env(`${evil}<samlp:Extensions>${signedAssertionOf(g)}</samlp:Extensions>`)],
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
      return await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => validateSamlResponse(tx, tenantId, conn, urls, postBinding(xml), binding));
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
    ['a signed response around an unsigned assertion', (id) => ({ xml: idp.signedResponse(input(id), { signAssertion: false, signResponse: true }) }), 'unsigned'],
    ['an assertion signed by another key', (id) => ({ xml: idp.signedResponse(input(id), { keys: makeKeyPair() }) }), 'signature_invalid'],
    ['a wrong audience', (id) => ({ xml: idp.signedResponse(input(id, { audience: 'https://other.example/sp' })) }), 'audience_mismatch'],
    ['another recipient', (id) => ({ xml: idp.signedResponse(input(id, { recipient: 'https://other.example/acs', destination: urls.acsUrl })) }), 'recipient_mismatch'],
    ['another destination', (id) => ({ xml: idp.signedResponse(input(id, { destination: 'https://other.example/acs' })) }), 'recipient_mismatch'],
    ['another issuer', (id) => ({ xml: idp.signedResponse(input(id, { issuer: 'https://evil.example/idp' })) }), 'issuer_mismatch'],
    ['an expired assertion', (id) => ({ xml: idp.signedResponse(input(id, { notBefore: new Date(Date.now() - 3600_000), notOnOrAfter: new Date(Date.now() - 600_000) })) }), 'expired'],
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
  });
});
