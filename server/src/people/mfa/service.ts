// MFA for members: TOTP and recovery codes, passkeys (WebAuthn) as a second factor or passwordless, and
// the admin reset. Services throw DomainError; they never see HTTP. Failed checks are audited in their own
// transaction (so the entry survives the refusal) and never carry a code, a secret or a response.
import { createHash, createHmac, hkdfSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { capabilitiesOf, type MemberRole, type Role } from '@parley/protocol';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  VerifiedRegistrationResponse,
} from '@simplewebauthn/server';
import type { AuditLog } from '../../audit/log.js';
import type { Config } from '../../config.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { Db, Tx } from '../../db/index.js';
import type { TxAuthority, TxContext } from '../../db/types.js';
import { assertWithin, DomainError } from '../../errors.js';
import { mfaRequiredFor, readPolicy } from '../policy.js';
import { newRecoveryCodes, newTotpSecret, otpauthUri, recoveryCodeHash, totpStep } from './codes.js';
import { factors, hasFactor, type Factors } from './factors.js';
import { actorPerson } from '../../tenants/store.js';
import { memberLogins, memberSessionAge } from '../store.js';
import * as store from './store.js';

// WebAuthn (and its X.509 and ASN.1 stack) loads with the first passkey ceremony, not at every start.
const webauthn = () => import('@simplewebauthn/server');

export interface MfaDeps {
  db: Db;
  audit: AuditLog;
  config: Pick<Config, 'publicUrl'>;
  keyring: Keyring;
  /** The MFA step's signing key: the passwordless decoy key is derived from it (for nothing else). */
  mfaKeys: { privateKey: KeyObject };
}

/** A member acting on their own factors (signed in, or in the MFA step of a sign-in). */
export interface MemberCtx {
  tenantId: string;
  memberId: string;
  requestId: string | null;
  /** The console session acting (self-service); absent in the sign-in step, where no session exists yet. */
  sessionId?: string | undefined;
  /**
   * The member's authority (self-service, from their session: http/context.ts adminCtx): each transaction
   * opened with this context holds them (tenants/authority.ts). Absent in the sign-in step.
   */
  authority?: TxAuthority | undefined;
}

/** Adding a factor, removing a passkey or seeing new recovery codes needs a sign-in this recent ("sudo mode"). */
export const FRESH_SIGN_IN_SECONDS = 15 * 60;

/**
 * A stolen session must not be able to plant the thief's own factor (a passkey outlives the session and
 * signs in without the password; a TOTP or new recovery codes lock the owner out): the session must come
 * from a recent sign-in.
 */
async function assertFreshSession(tx: Tx, ctx: MemberCtx): Promise<void> {
  if (!ctx.sessionId) return;
  const age = await memberSessionAge(tx, ctx.sessionId, ctx.memberId);
  if (age === null || age >= FRESH_SIGN_IN_SECONDS)
    throw new DomainError('forbidden', 'To change your second factors, sign in again first (within the last 15 minutes).');
}

export const CHALLENGE_TTL_SECONDS = 300;
const sealContext = (memberId: string) => `totp-secret/${memberId}`;
const actorOf = (ctx: MemberCtx) => ({ type: 'member', id: ctx.memberId });
const memberTarget = (id: string) => ({ type: 'member', id });

export type Factor = 'totp' | 'passkey' | 'recovery_code';

/** The relying party: the deployment's public URL. */
export function relyingParty(config: Pick<Config, 'publicUrl'>): { rpID: string; origin: string } {
  const u = new URL(config.publicUrl);
  return { rpID: u.hostname, origin: u.origin };
}

async function activeMember(tx: Tx, memberId: string): Promise<store.MemberRow> {
  const m = await store.getMember(tx, memberId);
  if (!m || m.status !== 'active') throw new DomainError('unauthenticated', 'The member is unknown or disabled.');
  return m;
}

async function audit(
  deps: MfaDeps,
  tx: Tx,
  ctx: MemberCtx,
  action: string,
  metadata: Record<string, unknown> = {},
  target = memberTarget(ctx.memberId),
) {
  await deps.audit.append(tx, { tenantId: ctx.tenantId, requestId: ctx.requestId, actor: actorOf(ctx), action, target, metadata });
}

/** A refused second factor: audited as a failed sign-in (in its own transaction, so it stays). */
// Not held (tenants/authority.ts): the record of a refused factor stays whatever happened to its member.
export async function recordFailure(deps: MfaDeps, ctx: MemberCtx, factor: Factor | 'passkey_sign_in', reason = 'mfa'): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, { requestId: ctx.requestId }, (tx) => audit(deps, tx, ctx, 'member.sign_in_failed', { reason, factor }));
}

/** A new set of recovery codes replaces the old one. */
async function issueRecoveryCodes(deps: MfaDeps, tx: Tx, ctx: MemberCtx, cause: string): Promise<string[]> {
  const { codes, rows } = newRecoveryCodes(ctx.memberId);
  await store.replaceRecoveryCodes(tx, ctx.tenantId, ctx.memberId, rows);
  await audit(deps, tx, ctx, 'mfa.recovery_codes_generated', { count: codes.length, cause });
  return codes;
}

/** On enrolment, codes are shown when the member had no factor before or had no unused code left. */
async function codesOnEnrolment(deps: MfaDeps, tx: Tx, ctx: MemberCtx, before: Factors): Promise<string[]> {
  if (hasFactor(before) && (await store.recoveryCodesLeft(tx, ctx.memberId)) > 0) return [];
  return issueRecoveryCodes(deps, tx, ctx, 'enrolment');
}

/** When the last factor goes, so do the recovery codes: they recover nothing. */
async function dropCodesWhenNoFactor(tx: Tx, memberId: string): Promise<void> {
  if (!hasFactor(await factors(tx, memberId))) await store.deleteRecoveryCodes(tx, memberId);
}

// ---- Overview -----------------------------------------------------------------------------------------

/** The member's factors, and whether the tenant's sign-in policy requires one of them. */
export async function myMfa(deps: MfaDeps, ctx: MemberCtx) {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const m = await activeMember(tx, ctx.memberId);
    const required = mfaRequiredFor(await readPolicy(tx), m.role as Role);
    const f = await factors(tx, ctx.memberId);
    const passkeys = await store.listPasskeys(tx, ctx.memberId);
    return {
      totp: f.totp,
      passkeys: passkeys.map(passkeyView),
      recoveryCodesLeft: await store.recoveryCodesLeft(tx, ctx.memberId),
      required,
    };
  });
}

const passkeyView = (p: store.PasskeyRow) => ({
  id: p.id,
  name: p.name,
  createdAt: p.created_at.toISOString(),
  lastUsedAt: p.last_used_at ? p.last_used_at.toISOString() : null,
});

// ---- TOTP ---------------------------------------------------------------------------------------------

export async function beginTotp(deps: MfaDeps, ctx: MemberCtx): Promise<{ secret: string; otpauthUri: string }> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const m = await activeMember(tx, ctx.memberId);
    await assertFreshSession(tx, ctx);
    const secret = newTotpSecret();
    const sealed = await deps.keyring.seal(tx, ctx.tenantId, secret, sealContext(ctx.memberId));
    if (!(await store.putPendingTotp(tx, ctx.tenantId, ctx.memberId, sealed))) {
      throw new DomainError('conflict', 'An authenticator app is set up already; remove it first.');
    }
    return { secret, otpauthUri: otpauthUri(secret, m.email) };
  });
}

async function openSecret(deps: MfaDeps, tx: Tx, ctx: MemberCtx, row: store.TotpRow): Promise<string> {
  const plain = await deps.keyring.open(tx, ctx.tenantId, Buffer.from(row.secret_sealed), sealContext(ctx.memberId));
  return plain.toString();
}

const wrongCode = () =>
  new DomainError('invalid_input', 'The code is wrong, expired or used already.', {
    errors: [{ path: '/code', message: 'is wrong, expired or used already', code: 'invalid_code' }],
  });

/** Confirms a pending enrolment with a code from the app: TOTP is active from now on. */
export async function confirmTotp(deps: MfaDeps, ctx: MemberCtx, code: string): Promise<{ recoveryCodes: string[] }> {
  const result = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await activeMember(tx, ctx.memberId);
    const row = await store.getTotp(tx, ctx.memberId);
    if (!row || row.confirmed_at) throw new DomainError('conflict', 'No authenticator app set-up is pending; begin again.');
    const step = totpStep(await openSecret(deps, tx, ctx, row), code);
    if (step === null) return null;
    const before = await factors(tx, ctx.memberId);
    if (!(await store.spendTotpStep(tx, ctx.memberId, step, { confirm: true }))) return null;
    await audit(deps, tx, ctx, 'mfa.totp_enrolled');
    return { recoveryCodes: await codesOnEnrolment(deps, tx, ctx, before) };
  });
  if (!result) throw wrongCode();
  return result;
}

/** Checks a code of the member's active TOTP and spends its time step. */
async function checkTotp(deps: MfaDeps, tx: Tx, ctx: MemberCtx, code: string): Promise<boolean> {
  const row = await store.getTotp(tx, ctx.memberId);
  if (!row || !row.confirmed_at) return false;
  const step = totpStep(await openSecret(deps, tx, ctx, row), code);
  if (step === null) return false;
  return store.spendTotpStep(tx, ctx.memberId, step, { confirm: false });
}

/** Removes the member's authenticator app; needs a current code. */
export async function removeTotp(deps: MfaDeps, ctx: MemberCtx, code: string): Promise<void> {
  const ok = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await activeMember(tx, ctx.memberId);
    const row = await store.getTotp(tx, ctx.memberId);
    if (!row || !row.confirmed_at) throw new DomainError('not_found', 'No authenticator app is set up.');
    if (!(await checkTotp(deps, tx, ctx, code))) return false;
    await store.deleteTotp(tx, ctx.memberId);
    await dropCodesWhenNoFactor(tx, ctx.memberId);
    await audit(deps, tx, ctx, 'mfa.totp_removed', { by: 'self' });
    return true;
  });
  if (!ok) throw wrongCode();
}

/** The sign-in step: true when the code is right and unused. Failures are audited. */
export async function verifyTotpFactor(deps: MfaDeps, ctx: MemberCtx, code: string): Promise<boolean> {
  const ok = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await activeMember(tx, ctx.memberId);
    return checkTotp(deps, tx, ctx, code);
  });
  if (!ok) await recordFailure(deps, ctx, 'totp');
  return ok;
}

// ---- Recovery codes -----------------------------------------------------------------------------------

export async function regenerateRecoveryCodes(deps: MfaDeps, ctx: MemberCtx): Promise<{ recoveryCodes: string[] }> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await activeMember(tx, ctx.memberId);
    await assertFreshSession(tx, ctx);
    if (!hasFactor(await factors(tx, ctx.memberId))) {
      throw new DomainError('conflict', 'Set up an authenticator app or a passkey first: recovery codes stand in for one.');
    }
    return { recoveryCodes: await issueRecoveryCodes(deps, tx, ctx, 'regenerate') };
  });
}

/** The sign-in step with a recovery code: true once per code. */
export async function verifyRecoveryCode(deps: MfaDeps, ctx: MemberCtx, code: string): Promise<boolean> {
  const ok = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await activeMember(tx, ctx.memberId);
    const id = await store.spendRecoveryCode(tx, ctx.memberId, recoveryCodeHash(ctx.memberId, code));
    if (!id) return false;
    await audit(deps, tx, ctx, 'mfa.recovery_code_used', { recoveryCodeId: id, left: await store.recoveryCodesLeft(tx, ctx.memberId) });
    return true;
  });
  if (!ok) await recordFailure(deps, ctx, 'recovery_code');
  return ok;
}

// ---- Passkeys -----------------------------------------------------------------------------------------

/** A challenge in flight is stored by the SHA-256 of a random handle the browser keeps in a cookie. */
const challengeKey = (handle: string) => createHash('sha256').update(handle).digest();
const newHandle = () => randomBytes(32).toString('base64url');

export interface Issued<T> {
  options: T;
  /** The cookie value that binds the challenge to this browser. */
  handle: string;
}

const memberUserId = (memberId: string) => new Uint8Array(Buffer.from(memberId.replace(/-/g, ''), 'hex'));
const userHandleOf = (memberId: string) => Buffer.from(memberUserId(memberId)).toString('base64url');

async function putChallenge(
  tx: Tx,
  purpose: store.ChallengePurpose,
  challenge: string,
  tenantId: string | null,
  memberId: string | null,
): Promise<string> {
  const handle = newHandle();
  await store.putChallenge(tx, { key: challengeKey(handle), purpose, challenge, tenantId, memberId, ttlSeconds: CHALLENGE_TTL_SECONDS });
  return handle;
}

async function takeChallenge(deps: MfaDeps, requestId: string | null, handle: string | null, purpose: store.ChallengePurpose) {
  if (!handle) return null;
  return deps.db.withoutTenant({ requestId }, (tx) => store.takeChallenge(tx, challengeKey(handle), purpose));
}

export async function passkeyRegistrationOptions(deps: MfaDeps, ctx: MemberCtx): Promise<Issued<PublicKeyCredentialCreationOptionsJSON>> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const m = await activeMember(tx, ctx.memberId);
    await assertFreshSession(tx, ctx);
    const { rpID } = relyingParty(deps.config);
    const existing = await store.listPasskeys(tx, ctx.memberId);
    const { generateRegistrationOptions } = await webauthn();
    const options = await generateRegistrationOptions({
      rpName: 'Parley',
      rpID,
      userName: m.email,
      userDisplayName: m.display_name,
      userID: memberUserId(ctx.memberId),
      attestationType: 'none',
      timeout: CHALLENGE_TTL_SECONDS * 1000,
      excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    const handle = await putChallenge(tx, 'register', options.challenge, ctx.tenantId, ctx.memberId);
    return { options, handle };
  });
}

const refusedPasskey = (message = 'The passkey was not accepted.') =>
  new DomainError('invalid_input', message, {
    errors: [{ path: '/response', message: 'was not accepted', code: 'invalid_passkey' }],
  });

/** Verifies a registration and stores the passkey. */
export async function addPasskey(
  deps: MfaDeps,
  ctx: MemberCtx,
  handle: string | null,
  response: Record<string, unknown>,
  name: string | undefined,
): Promise<{ passkey: ReturnType<typeof passkeyView>; recoveryCodes: string[] }> {
  const ch = await takeChallenge(deps, ctx.requestId, handle, 'register');
  if (!ch || ch.tenantId !== ctx.tenantId || ch.memberId !== ctx.memberId)
    throw refusedPasskey('The passkey request expired or was used already; start again.');
  const { rpID, origin } = relyingParty(deps.config);
  let info: Extract<VerifiedRegistrationResponse, { verified: true }>['registrationInfo'];
  try {
    const { verifyRegistrationResponse } = await webauthn();
    const v = await verifyRegistrationResponse({
      response: response as unknown as RegistrationResponseJSON,
      expectedChallenge: ch.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: false,
    });
    if (!v.verified) throw new Error('not verified');
    info = v.registrationInfo;
  } catch {
    throw refusedPasskey();
  }
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await activeMember(tx, ctx.memberId);
    await assertFreshSession(tx, ctx);
    const before = await factors(tx, ctx.memberId);
    const id = randomUUID();
    const ok = await store.insertPasskey(tx, {
      tenantId: ctx.tenantId,
      id,
      memberId: ctx.memberId,
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      transports: (info.credential.transports ?? []).slice(0, 10),
      name: name ?? `Passkey ${before.passkeys + 1}`,
    });
    if (!ok) throw new DomainError('conflict', 'This passkey is registered already.');
    await audit(deps, tx, ctx, 'mfa.passkey_added', { passkeyId: id, userVerified: info.userVerified });
    const recoveryCodes = await codesOnEnrolment(deps, tx, ctx, before);
    const row = (await store.listPasskeys(tx, ctx.memberId)).find((p) => p.id === id)!;
    return { passkey: passkeyView(row), recoveryCodes };
  });
}

export async function removePasskey(deps: MfaDeps, ctx: MemberCtx, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await activeMember(tx, ctx.memberId);
    // Removing the last passkey drops the recovery codes too and leaves the password alone: as recent a
    // sign-in as adding one (a TOTP is removed with a current code instead).
    await assertFreshSession(tx, ctx);
    if (!(await store.deletePasskey(tx, ctx.memberId, id))) throw new DomainError('not_found', 'No such passkey.');
    await dropCodesWhenNoFactor(tx, ctx.memberId);
    await audit(deps, tx, ctx, 'mfa.passkey_removed', { passkeyId: id, by: 'self' });
  });
}

/** Options for a passkey as the second factor of the member in the MFA step. */
export async function passkeyMfaOptions(deps: MfaDeps, ctx: MemberCtx): Promise<Issued<PublicKeyCredentialRequestOptionsJSON>> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await activeMember(tx, ctx.memberId);
    const passkeys = await store.listPasskeys(tx, ctx.memberId);
    if (passkeys.length === 0) throw new DomainError('conflict', 'No passkey is registered for this member.');
    const { generateAuthenticationOptions } = await webauthn();
    const options = await generateAuthenticationOptions({
      rpID: relyingParty(deps.config).rpID,
      allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: p.transports })),
      userVerification: 'preferred',
      timeout: CHALLENGE_TTL_SECONDS * 1000,
    });
    const handle = await putChallenge(tx, 'mfa', options.challenge, ctx.tenantId, ctx.memberId);
    return { options, handle };
  });
}

/**
 * Verifies an assertion against a stored passkey and records the use. The counter must move forward
 * (unless the authenticator keeps none): a counter that went backwards is a cloned authenticator.
 */
async function checkAssertion(
  deps: MfaDeps,
  tx: Tx,
  passkey: store.PasskeyRow,
  challenge: string,
  response: AuthenticationResponseJSON,
  requireUserVerification: boolean,
): Promise<{ ok: true } | { ok: false; why: string }> {
  const { rpID, origin } = relyingParty(deps.config);
  let newCounter: number;
  try {
    const { verifyAuthenticationResponse } = await webauthn();
    const v = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential: {
        id: passkey.credential_id,
        publicKey: new Uint8Array(passkey.public_key),
        counter: Number(passkey.counter),
        transports: passkey.transports,
      },
      requireUserVerification,
    });
    if (!v.verified) return { ok: false, why: 'invalid' };
    newCounter = v.authenticationInfo.newCounter;
  } catch (err) {
    return { ok: false, why: /counter/i.test(String((err as Error)?.message)) ? 'counter' : 'invalid' };
  }
  if (!(await store.touchPasskey(tx, passkey.id, newCounter))) return { ok: false, why: 'counter' };
  return { ok: true };
}

const asAssertion = (response: Record<string, unknown>): AuthenticationResponseJSON | null =>
  typeof response.id === 'string' && response.id.length > 0 && response.id.length <= 1400
    ? (response as unknown as AuthenticationResponseJSON)
    : null;

/** The sign-in step with a passkey: true when the member of the step proved one of their passkeys. */
export async function verifyPasskeyFactor(deps: MfaDeps, ctx: MemberCtx, handle: string | null, response: Record<string, unknown>): Promise<boolean> {
  const ch = await takeChallenge(deps, ctx.requestId, handle, 'mfa');
  const assertion = asAssertion(response);
  let result: { ok: boolean; why?: string } = { ok: false, why: 'challenge' };
  if (ch && ch.tenantId === ctx.tenantId && ch.memberId === ctx.memberId && assertion) {
    result = await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
      await activeMember(tx, ctx.memberId);
      const passkey = await store.passkeyByCredential(tx, assertion.id);
      if (!passkey || passkey.member_id !== ctx.memberId) return { ok: false, why: 'unknown_credential' };
      return checkAssertion(deps, tx, passkey, ch.challenge, assertion, false);
    });
  }
  if (!result.ok) {
    await deps.db.withTenant(ctx.tenantId, { requestId: ctx.requestId }, (tx) =>
      audit(deps, tx, ctx, 'member.sign_in_failed', { reason: 'mfa', factor: 'passkey', check: result.why }),
    );
  }
  return result.ok;
}

// ---- Passwordless -------------------------------------------------------------------------------------

const decoyKeys = new WeakMap<KeyObject, Buffer>();
function decoyKey(deps: MfaDeps): Buffer {
  let k = decoyKeys.get(deps.mfaKeys.privateKey);
  if (!k) {
    const secret = deps.mfaKeys.privateKey.export({ format: 'der', type: 'pkcs8' });
    k = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'parley/passkey-decoy/v1', 32));
    decoyKeys.set(deps.mfaKeys.privateKey, k);
  }
  return k;
}

/**
 * Options for a passwordless sign-in. Without an email: any discoverable credential. With one: that
 * address's passkeys across its tenants — or, when it has none, a decoy id derived from the address, so
 * the answer does not tell whether the address has passkeys (or is a member at all).
 */
export async function passwordlessOptions(
  deps: MfaDeps,
  requestId: string | null,
  email?: string,
): Promise<Issued<PublicKeyCredentialRequestOptionsJSON>> {
  let allowCredentials: { id: string; transports?: string[] }[] | undefined;
  if (email) {
    const logins = await deps.db.withoutTenant({ requestId }, (tx) => memberLogins(tx, email));
    allowCredentials = [];
    for (const l of logins.filter((r) => r.status === 'active')) {
      const keys = await deps.db.withTenant(l.tenant_id, { requestId }, (tx) => store.listPasskeys(tx, l.member_id));
      for (const k of keys) allowCredentials.push({ id: k.credential_id, transports: k.transports });
    }
    if (allowCredentials.length === 0) {
      const decoy = createHmac('sha256', decoyKey(deps)).update(email).digest().toString('base64url');
      allowCredentials = [{ id: decoy, transports: ['internal', 'hybrid'] }];
    }
  }
  const { generateAuthenticationOptions } = await webauthn();
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(deps.config).rpID,
    allowCredentials,
    userVerification: 'required',
    timeout: CHALLENGE_TTL_SECONDS * 1000,
  });
  const handle = await deps.db.withoutTenant({ requestId }, (tx) => putChallenge(tx, 'passwordless', options.challenge, null, null));
  return { options, handle };
}

/**
 * Verifies a passwordless assertion: the credential names its member; user verification is required (the
 * passkey is both factors). Returns the member to sign in, or throws `unauthenticated`.
 */
export async function verifyPasswordless(
  deps: MfaDeps,
  requestId: string | null,
  handle: string | null,
  response: Record<string, unknown>,
): Promise<{ tenantId: string; memberId: string }> {
  const refused = () => new DomainError('unauthenticated', 'The passkey was not accepted.');
  const ch = await takeChallenge(deps, requestId, handle, 'passwordless');
  const assertion = asAssertion(response);
  if (!assertion) throw refused();
  const owner = await deps.db.withoutTenant({ requestId }, (tx) => store.resolvePasskey(tx, assertion.id));
  if (!owner) throw refused();
  const ctx: MemberCtx = { tenantId: owner.tenantId, memberId: owner.memberId, requestId };
  let result: { ok: boolean; why?: string } = { ok: false, why: 'challenge' };
  if (ch) {
    result = await deps.db.withTenant(owner.tenantId, { requestId }, async (tx) => {
      const m = await store.getMember(tx, owner.memberId);
      if (!m || m.status !== 'active') return { ok: false, why: 'member_disabled' };
      // The authenticator's user handle, when it sends one, must be this member's.
      const userHandle = assertion.response?.userHandle;
      if (userHandle && userHandle !== userHandleOf(owner.memberId)) return { ok: false, why: 'user_handle' };
      const passkey = await store.passkeyByCredential(tx, assertion.id);
      if (!passkey) return { ok: false, why: 'unknown_credential' };
      return checkAssertion(deps, tx, passkey, ch.challenge, assertion, true);
    });
  }
  if (!result.ok) {
    await deps.db.withTenant(owner.tenantId, { requestId }, (tx) =>
      audit(deps, tx, ctx, 'member.sign_in_failed', { reason: 'passkey', factor: 'passkey', check: result.why }),
    );
    throw refused();
  }
  return owner;
}

// ---- Enrolment during the MFA step ---------------------------------------------------------------------

/**
 * Enrolment with only the MFA step cookie (no session) is allowed only while the member has no factor:
 * otherwise someone holding just the password could add their own factor and skip the real one.
 */
export async function assertNoFactor(deps: MfaDeps, ctx: MemberCtx): Promise<void> {
  const f = await deps.db.withTenant(ctx.tenantId, ctx, (tx) => factors(tx, ctx.memberId));
  if (hasFactor(f)) throw new DomainError('forbidden', 'This member has a second factor already: use it to sign in.');
}

// ---- Admin reset --------------------------------------------------------------------------------------

/** Removes every factor of another member (TOTP, passkeys, recovery codes). */
export async function resetMfa(
  deps: MfaDeps,
  ctx: TxContext & {
    tenantId: string;
    actor: { type: string; id: string | null };
    actorRole: string | null;
    held: ReadonlySet<string>;
  },
  memberId: string,
): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const target = await store.getMember(tx, memberId);
    if (!target) throw new DomainError('not_found', 'No such member.');
    // A reset is for someone who lost their factors; one's own are changed under My account, where removing
    // one needs a current code or a recent sign-in. A key is the person behind it here too.
    if ((await actorPerson(tx, ctx.actor)) === memberId) {
      throw new DomainError('forbidden', 'Change your own second factors under My account; a reset is for a teammate who lost theirs.');
    }
    if (target.role === 'owner' && ctx.actorRole !== 'owner') {
      throw new DomainError('forbidden', 'Only an owner can reset the second factors of an owner.');
    }
    // Weakening someone's sign-in is managing them: only by a caller holding all they hold.
    assertWithin(ctx.held, capabilitiesOf(target.role as MemberRole));
    const totp = await store.deleteTotp(tx, memberId);
    const passkeys = await store.deletePasskeys(tx, memberId);
    const codes = await store.deleteRecoveryCodes(tx, memberId);
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'mfa.reset',
      target: memberTarget(memberId),
      metadata: { totp, passkeys, recoveryCodes: codes },
    });
  });
}
