// A SAML 2.0 identity provider for tests: a throwaway RSA key and self-signed certificate (made by the
// openssl command line, since node:crypto cannot issue X.509 certificates), and SAML Responses whose
// Assertion (or Response) it signs with xml-crypto: enveloped signature, exclusive c14n, rsa-sha256.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';

export interface KeyPair {
  keyPem: string;
  certPem: string;
}

const asn1Time = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';

/** A fresh RSA key and a self-signed certificate for it, valid from `notBefore` to `notAfter`. */
export function makeKeyPair(opts: { cn?: string; notBefore?: Date; notAfter?: Date } = {}): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'parley-saml-idp-'));
  try {
    const cn = opts.cn ?? 'Test IdP';
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-subj', `/CN=${cn}`, '-out', 'req.csr']);
    // `openssl ca -selfsign` is the one command of OpenSSL 3.0 that takes explicit validity dates.
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), randomBytes(8).toString('hex') + '\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = test',
        '[test]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir',
        'serial = $dir/serial',
        'default_md = sha256',
        'policy = any',
        'unique_subject = no',
        'copy_extensions = none',
        '[any]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = opts.notAfter ?? new Date(Date.now() + 30 * 24 * 3600_000);
    run([
      'ca',
      '-batch',
      '-notext',
      '-config',
      'ca.cnf',
      '-selfsign',
      '-keyfile',
      'key.pem',
      '-in',
      'req.csr',
      '-out',
      'cert.pem',
      '-startdate',
      asn1Time(notBefore),
      '-enddate',
      asn1Time(notAfter),
    ]);
    return { keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'), certPem: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface AssertionInput {
  /** The AuthnRequest id this answers. */
  inResponseTo: string;
  /** Where the browser posts it: the SP's ACS URL (Destination and Recipient unless given apart). */
  acsUrl: string;
  /** The SP's entity id (the Audience). */
  audience: string;
  email: string;
  displayName?: string;
  groups?: string[];
  issuer?: string;
  recipient?: string;
  destination?: string;
  subjectInResponseTo?: string;
  assertionId?: string;
  responseId?: string;
  notBefore?: Date;
  notOnOrAfter?: Date;
  /** An attribute name for the groups other than `groups`. */
  groupsAttribute?: string;
}

export const ASSERTION_XPATH = "/*[local-name(.)='Response']/*[local-name(.)='Assertion']";
const SIG_OPTS = {
  canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
};
const TRANSFORMS = ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'];

export class TestIdp {
  constructor(
    readonly entityId: string,
    readonly keys: KeyPair = makeKeyPair(),
  ) {}

  get certPem(): string {
    return this.keys.certPem;
  }

  /** The Assertion element alone, unsigned. */
  assertion(a: AssertionInput): string {
    const now = new Date();
    const notBefore = a.notBefore ?? new Date(now.getTime() - 30_000);
    const notOnOrAfter = a.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000);
    const id = a.assertionId ?? `_a${randomBytes(16).toString('hex')}`;
    const attr = (name: string, values: string[]) =>
      `<saml:Attribute Name="${esc(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values
        .map(
          (v) =>
            `<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`,
        )
        .join('')}</saml:Attribute>`;
    return (
      `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${iso(now)}">` +
      `<saml:Issuer>${esc(a.issuer ?? this.entityId)}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${esc(a.email)}</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
      `<saml:SubjectConfirmationData InResponseTo="${esc(a.subjectInResponseTo ?? a.inResponseTo)}" NotOnOrAfter="${iso(notOnOrAfter)}" Recipient="${esc(a.recipient ?? a.acsUrl)}"/>` +
      `</saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(notOnOrAfter)}"><saml:AudienceRestriction><saml:Audience>${esc(a.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="_s${randomBytes(8).toString('hex')}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      `<saml:AttributeStatement>${attr('email', [a.email])}${a.displayName ? attr('displayName', [a.displayName]) : ''}${a.groups?.length ? attr(a.groupsAttribute ?? 'groups', a.groups) : ''}</saml:AttributeStatement>` +
      `</saml:Assertion>`
    );
  }

  /** A Response around the given inner XML (usually one Assertion), unsigned. */
  envelope(a: Pick<AssertionInput, 'inResponseTo' | 'acsUrl' | 'destination' | 'responseId' | 'issuer'>, inner: string): string {
    return (
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${a.responseId ?? `_r${randomBytes(16).toString('hex')}`}" Version="2.0" IssueInstant="${iso(new Date())}" Destination="${esc(a.destination ?? a.acsUrl)}" InResponseTo="${esc(a.inResponseTo)}">` +
      `<saml:Issuer>${esc(a.issuer ?? this.entityId)}</saml:Issuer>` +
      `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
      inner +
      `</samlp:Response>`
    );
  }

  /** Signs the element at `xpath` (enveloped, placed right after its Issuer) with this IdP's key, or another. */
  sign(xml: string, xpath: string, keys: KeyPair = this.keys, sha1 = false): string {
    const sig = new SignedXml({
      ...SIG_OPTS,
      ...(sha1 ? { signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' } : {}),
      privateKey: keys.keyPem,
      publicCert: keys.certPem,
    });
    sig.addReference({
      xpath,
      transforms: TRANSFORMS,
      digestAlgorithm: sha1 ? 'http://www.w3.org/2000/09/xmldsig#sha1' : 'http://www.w3.org/2001/04/xmlenc#sha256',
    });
    sig.computeSignature(xml, { location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' } });
    return sig.getSignedXml();
  }

  /** The usual case: a Response with one Assertion, the Assertion signed. */
  signedResponse(a: AssertionInput, opts: { keys?: KeyPair; signResponse?: boolean; signAssertion?: boolean; sha1?: boolean } = {}): string {
    let xml = this.envelope(a, this.assertion(a));
    if (opts.signAssertion !== false) xml = this.sign(xml, ASSERTION_XPATH, opts.keys, opts.sha1);
    if (opts.signResponse) xml = this.sign(xml, "/*[local-name(.)='Response']", opts.keys, opts.sha1);
    return xml;
  }
}

/** The HTTP-POST binding's form field value. */
export const postBinding = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');
