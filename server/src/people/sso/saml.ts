// SAML 2.0 single sign-on, per tenant, with @node-saml/node-saml: SP-initiated (an AuthnRequest by the
// HTTP-Redirect binding, the Response by HTTP-POST to our ACS). What this module holds to:
// - the Assertion must be signed by one of the tenant's IdP certificates (a signed Response around an
//   unsigned Assertion is not enough), and everything we read comes from the signed bytes only;
// - Issuer = the configured IdP entity id; Audience = our SP entity id; the bearer SubjectConfirmation's
//   Recipient = our ACS URL and its InResponseTo = the request we sent; the Response's Destination, when
//   present, = our ACS URL; NotBefore / NotOnOrAfter with a small clock skew;
// - InResponseTo names a request this browser started (sso_requests, bound to a cookie's hash), used once;
// - an assertion id is accepted once until it expires (sso_replay).
// Every refusal has a reason code (SAML_REFUSALS); the caller audits it and shows the code.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import type { CacheProvider, Profile, SAML } from '@node-saml/node-saml';
import { SAML_REFUSALS as CODES, type SamlSignInError } from '@parley/protocol';
import type { Tx } from '../../db/types.js';
import { DomainError } from '../../errors.js';
import {
  assertionSeen,
  consumeSamlRequest,
  insertSamlRequest,
  lookupSamlRequest,
  rememberAssertion,
  type RequestState,
  type SamlConnectionRow,
} from './saml-store.js';

/** Why a SAML sign-in was refused: audited, and shown by the console (`/console/?sso_error=<code>`). */
export const SAML_REFUSALS: readonly SamlSignInError[] = CODES;
export type SamlRefusal = SamlSignInError;

export class SamlRefused extends Error {
  constructor(readonly reason: SamlRefusal) {
    super(`SAML sign-in refused: ${reason}`);
    this.name = 'SamlRefused';
  }
}

/** How long an AuthnRequest may wait for its Response. */
export const SAML_REQUEST_TTL_SECONDS = 10 * 60;
/** Clocks of the IdP and ours may differ by this much. */
export const SAML_CLOCK_SKEW_MS = 60_000;
const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

export interface SamlUrls {
  spEntityId: string;
  acsUrl: string;
  metadataUrl: string;
}

export function samlUrls(publicUrl: string, tenantId: string): SamlUrls {
  const base = `${publicUrl.replace(/\/+$/, '')}/v1/auth/sso/saml/${tenantId}`;
  return { spEntityId: base, acsUrl: `${base}/acs`, metadataUrl: `${base}/metadata` };
}

// ---- configuration ----

/**
 * IdP certificates as PEM, each checked: one X.509 certificate (PEM or bare base64 DER), not expired.
 * A refusal names the field (`/idpCertificates/<i>`).
 */
export function normaliseCertificates(input: readonly string[], now = new Date()): string[] {
  return input.map((raw, i) => {
    const path = `/idpCertificates/${i}`;
    const fail = (message: string, code: string): never => {
      throw new DomainError('invalid_input', `idpCertificates[${i}] ${message}.`, { errors: [{ path, message, code }] });
    };
    const blocks = raw.match(/-----BEGIN [A-Z0-9 ]+-----/g) ?? [];
    if (blocks.length > 1) fail('must hold exactly one certificate', 'not_a_certificate');
    if (blocks.length === 1 && blocks[0] !== '-----BEGIN CERTIFICATE-----')
      fail('must be an X.509 certificate (BEGIN CERTIFICATE), not a key', 'not_a_certificate');
    const b64 = raw.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) fail('must be a PEM or base64 X.509 certificate', 'not_a_certificate');
    let cert: X509Certificate | null = null;
    try {
      cert = new X509Certificate(Buffer.from(b64, 'base64'));
    } catch {
      fail('is not an X.509 certificate', 'not_a_certificate');
    }
    if (new Date(cert!.validTo).getTime() <= now.getTime()) fail(`expired on ${new Date(cert!.validTo).toISOString()}`, 'certificate_expired');
    return cert!.toString();
  });
}

/** SHA-256 fingerprint of a PEM certificate (for audit metadata: never the certificate itself). */
export const certificateFingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

// node-saml (and its XML signature stack) loads with the first SAML request, not at every start.
const nodeSaml = () => import('@node-saml/node-saml');

/** The SP metadata XML an IdP imports. */
export async function spMetadata(urls: SamlUrls): Promise<string> {
  const { generateServiceProviderMetadata } = await nodeSaml();
  return generateServiceProviderMetadata({
    issuer: urls.spEntityId,
    callbackUrl: urls.acsUrl,
    wantAssertionsSigned: true,
    identifierFormat: NAMEID_EMAIL,
  });
}

// ---- the node-saml instance ----

/**
 * node-saml's request-id cache, backed by sso_requests inside the caller's transaction: saves ids with the
 * browser binding, finds only this browser's unused, unexpired ids, and uses an id up on removal.
 * It remembers what it saw, so a refusal can say why (unknown, used, expired, another browser).
 */
class RequestCache implements CacheProvider {
  seen: RequestState['state'] | null = null;
  consumed = new Set<string>();

  constructor(
    private readonly tx: Tx,
    private readonly tenantId: string,
    private readonly binding: Buffer | null,
  ) {}

  async saveAsync(key: string, value: string) {
    if (!this.binding) throw new Error('no browser binding');
    await insertSamlRequest(this.tx, this.tenantId, key, this.binding, SAML_REQUEST_TTL_SECONDS);
    return { value, createdAt: Date.now() };
  }

  async getAsync(key: string) {
    const s = await lookupSamlRequest(this.tx, key, this.binding);
    if (s.state !== 'pending') {
      this.seen ??= s.state;
      return null;
    }
    return s.createdAt.toISOString();
  }

  async removeAsync(key: string | null) {
    if (!key || !this.binding) return null;
    if (await consumeSamlRequest(this.tx, key, this.binding)) {
      this.consumed.add(key);
      return key;
    }
    return null;
  }
}

async function samlFor(conn: SamlConnectionRow, urls: SamlUrls, cache: CacheProvider): Promise<SAML> {
  const { SAML, ValidateInResponseTo } = await nodeSaml();
  return new SAML({
    entryPoint: conn.entryPoint,
    issuer: urls.spEntityId,
    callbackUrl: urls.acsUrl,
    audience: urls.spEntityId,
    idpCert: conn.idpCertificates,
    idpIssuer: conn.idpIssuer,
    wantAssertionsSigned: true,
    // The Response may be signed as well, but only the Assertion's signature counts.
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SAML_REQUEST_TTL_SECONDS * 1000,
    cacheProvider: cache,
    acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
    // Ask for no particular NameID format or authentication context: IdPs differ, and we read the email
    // from the attributes (or an email NameID); the IdP's own policy (MFA, …) stays in force.
    identifierFormat: null,
    disableRequestedAuthnContext: true,
  });
}

/** Starts a sign-in: the IdP URL with an AuthnRequest whose id is stored, bound to `binding`. */
export async function samlAuthorizeUrl(tx: Tx, tenantId: string, conn: SamlConnectionRow, urls: SamlUrls, binding: Buffer): Promise<string> {
  return (await samlFor(conn, urls, new RequestCache(tx, tenantId, binding))).getAuthorizeUrlAsync('', undefined, {});
}

// ---- the Response ----

export interface SamlSignInProfile {
  email: string;
  displayName: string;
  groups: string[];
  /** The NameID (or the email when there is none). */
  subject: string;
}

type Js = Record<string, unknown>;
const arr = (v: unknown): Js[] => (Array.isArray(v) ? (v as Js[]) : []);
const attrs = (v: Js | undefined): Record<string, string> => (v?.$ as Record<string, string> | undefined) ?? {};

/**
 * A first look at the (unverified) Response: only to refuse early and to name the reason. Nothing read
 * here is trusted: the accepted values come from node-saml's verified bytes.
 */
interface Shape {
  destination: string | null;
  inResponseTo: string | null;
  assertionIds: string[];
  assertionSigned: boolean;
  /** A Signature other than the Response's own, anywhere (a wrapped or moved one counts). */
  otherSignature: boolean;
  /** SHA-1 named as a signature or digest algorithm anywhere. */
  sha1: boolean;
}

async function shapeOf(xml: string): Promise<Shape | null> {
  try {
    const { parseXml2JsFromString } = await import('@node-saml/node-saml/lib/xml.js');
    const doc = (await parseXml2JsFromString(xml)) as Js;
    const response = doc.Response as Js | undefined;
    if (!response) return null;
    const assertions = arr(response.Assertion);
    return {
      destination: attrs(response).Destination ?? null,
      inResponseTo: attrs(response).InResponseTo ?? null,
      assertionIds: assertions.map((a) => attrs(a).ID ?? '').filter(Boolean),
      assertionSigned: assertions.length > 0 && assertions.every((a) => arr(a.Signature).length > 0),
      sha1: /Algorithm\s*=\s*["']http:\/\/www\.w3\.org\/2000\/09\/xmldsig#(rsa-sha1|dsa-sha1|hmac-sha1|sha1)["']/.test(xml),
      otherSignature: (xml.match(/<([A-Za-z_][\w.-]*:)?Signature[\s>]/g)?.length ?? 0) > arr(response.Signature).length,
    };
  } catch {
    return null;
  }
}

/** node-saml's error messages, as reason codes (the messages themselves never leave this module). */
async function reasonFor(err: unknown, shape: Shape, cache: RequestCache): Promise<SamlRefusal> {
  if (err instanceof SamlRefused) return err.reason;
  if (err instanceof (await nodeSaml()).SamlStatusError) return 'idp_error';
  const msg = err instanceof Error ? err.message : '';
  if (/InResponseTo/i.test(msg)) {
    switch (cache.seen) {
      case 'used':
        return 'replayed';
      case 'expired':
        return 'request_expired';
      case 'other_browser':
        return 'browser_mismatch';
      default:
        return 'in_response_to_unknown';
    }
  }
  if (/signature|signed|ID cannot refer|Referenced node|transforms|ref URI/i.test(msg)) {
    return shape.assertionSigned || shape.otherSignature ? 'signature_invalid' : 'unsigned';
  }
  if (/audience/i.test(msg)) return 'audience_mismatch';
  if (/not yet valid/i.test(msg)) return 'not_yet_valid';
  if (/expired|too old|subject confirmation/i.test(msg)) return 'expired';
  if (/issuer/i.test(msg)) return 'issuer_mismatch';
  return 'malformed';
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'emailAddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];
const NAME_ATTRIBUTES = [
  'displayName',
  'urn:oid:2.16.840.1.113730.3.1.241',
  'http://schemas.microsoft.com/identity/claims/displayname',
  'name',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
];
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function strings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string => typeof x === 'string');
}

function first(attributes: Record<string, unknown>, names: string[]): string | null {
  for (const n of names) {
    if (!Object.hasOwn(attributes, n)) continue;
    const v = strings(attributes[n])
      .map((s) => s.trim())
      .find((s) => s.length > 0);
    if (v) return v;
  }
  return null;
}

/** The person, from the verified assertion's NameID and attributes. */
function profileFrom(p: Profile, groupsClaim: string): SamlSignInProfile {
  const attributes = (p.attributes && typeof p.attributes === 'object' ? p.attributes : {}) as Record<string, unknown>;
  const nameId = typeof p.nameID === 'string' ? p.nameID.trim() : '';
  const email = (first(attributes, EMAIL_ATTRIBUTES) ?? (p.nameIDFormat === NAMEID_EMAIL || EMAIL_RE.test(nameId) ? nameId : '')).toLowerCase();
  if (!EMAIL_RE.test(email) || email.length > 254) throw new SamlRefused('no_email');
  const displayName = (first(attributes, NAME_ATTRIBUTES) ?? email.split('@')[0]!).slice(0, 100);
  const groups = Object.hasOwn(attributes, groupsClaim)
    ? strings(attributes[groupsClaim])
        .map((g) => g.trim())
        .filter((g) => g.length > 0 && g.length <= 200)
        .slice(0, 200)
    : [];
  return { email, displayName, groups, subject: (nameId || email).slice(0, 500) };
}

/** The checks node-saml leaves to us, on the verified assertion. */
function checkAssertion(p: Profile, conn: SamlConnectionRow, urls: SamlUrls, requestId: string): { assertionId: string; expiresAt: Date } {
  if (p.issuer !== conn.idpIssuer) throw new SamlRefused('issuer_mismatch');
  const assertion = (p.getAssertion?.() as Js | undefined)?.Assertion as Js | undefined;
  const assertionId = attrs(assertion).ID;
  if (!assertion || !assertionId) throw new SamlRefused('malformed');
  const confirmations = arr(arr(assertion.Subject)[0]?.SubjectConfirmation)
    .filter((c) => attrs(c).Method === BEARER)
    .map((c) => attrs(arr(c.SubjectConfirmationData)[0]));
  const now = Date.now();
  const valid = confirmations.filter((d) => d.NotOnOrAfter && Date.parse(d.NotOnOrAfter) + SAML_CLOCK_SKEW_MS > now);
  if (!valid.length) throw new SamlRefused('expired');
  const forUs = valid.filter((d) => d.Recipient === urls.acsUrl);
  if (!forUs.length) throw new SamlRefused('recipient_mismatch');
  const answered = forUs.find((d) => d.InResponseTo === requestId);
  if (!answered) throw new SamlRefused('in_response_to_unknown');
  const conditions = attrs(arr(assertion.Conditions)[0]);
  const until = Math.max(Date.parse(answered.NotOnOrAfter!), conditions.NotOnOrAfter ? Date.parse(conditions.NotOnOrAfter) : 0);
  return { assertionId, expiresAt: new Date(until + SAML_CLOCK_SKEW_MS) };
}

/**
 * Validates a posted SAMLResponse for the tenant, inside the caller's transaction (which should commit
 * whether this returns or throws, so a used request id stays used). Throws SamlRefused.
 */
export async function validateSamlResponse(
  tx: Tx,
  tenantId: string,
  conn: SamlConnectionRow,
  urls: SamlUrls,
  samlResponse: string,
  binding: Buffer | null,
): Promise<SamlSignInProfile> {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(samlResponse)) throw new SamlRefused('malformed');
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  // SAML messages never carry a DTD (SAML core 1.3.x, "MUST NOT contain a DOCTYPE"): no entities to expand.
  if (/<!DOCTYPE/i.test(xml)) throw new SamlRefused('malformed');
  const shape = await shapeOf(xml);
  if (!shape) throw new SamlRefused('malformed');
  // SHA-1 signatures and digests are refused outright (chosen-prefix collisions are practical).
  if (shape.sha1) throw new SamlRefused('weak_signature');
  if (!binding) throw new SamlRefused('binding_missing');
  if (shape.destination !== null && shape.destination !== urls.acsUrl) throw new SamlRefused('recipient_mismatch');
  // An assertion id seen before: a replay, whatever request it now claims to answer.
  for (const id of shape.assertionIds) if (await assertionSeen(tx, sha256(`${conn.idpIssuer}\n${id}`))) throw new SamlRefused('replayed');

  const cache = new RequestCache(tx, tenantId, binding);
  let profile: Profile;
  try {
    const result = await (await samlFor(conn, urls, cache)).validatePostResponseAsync({ SAMLResponse: samlResponse });
    if (!result.profile || result.loggedOut) throw new SamlRefused('malformed');
    profile = result.profile;
  } catch (err) {
    throw new SamlRefused(await reasonFor(err, shape, cache));
  }
  const inResponseTo = typeof profile.inResponseTo === 'string' ? profile.inResponseTo : null;
  if (!inResponseTo) throw new SamlRefused('in_response_to_unknown');
  // Single use, refused or not: node-saml removes the id on most paths (that is our consume); when it
  // did not, we do, before our own checks.
  if (!cache.consumed.has(inResponseTo) && !(await consumeSamlRequest(tx, inResponseTo, binding))) throw new SamlRefused('replayed');
  const { assertionId, expiresAt } = checkAssertion(profile, conn, urls, inResponseTo);
  if (!(await rememberAssertion(tx, tenantId, sha256(`${conn.idpIssuer}\n${assertionId}`), expiresAt))) throw new SamlRefused('replayed');
  return profileFrom(profile, conn.groupsClaim);
}

/** A new browser binding: the cookie value and the hash stored with the request. */
export function newBinding(): { cookie: string; hash: Buffer } {
  const cookie = randomBytes(32).toString('base64url');
  return { cookie, hash: bindingHash(cookie) };
}
export const bindingHash = (cookie: string) => createHash('sha256').update(cookie, 'utf8').digest();
