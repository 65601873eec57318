// The rules of Sign-In Pro's admin side: settings (public keys only, JWKS URLs the outbound module
// accepts), signing secrets shown once, and a visitor's verified profile, sealed, with its audit entry.
import { createPublicKey, type JsonWebKeyInput, randomBytes, randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { identityAudience, type PutIdentityRequest } from '@parley/protocol';
import type { z } from 'zod';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db, Tx } from '../db/index.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import { OutboundError, type Outbound } from '../outbound/outbound.js';
import * as store from './store.js';
import type { IdentityMode } from './store.js';
import { keyProof, LEGACY_PROOF, secretContext, type VerifiedIdentity } from './verify.js';

export interface IdentityServiceDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  /** Checks a JWKS URL when it is saved (the connect-time check is the real guard). */
  outbound: Outbound;
}

type Ctx = RequestCtx & { tenantId: string };

const invalid = (path: string, message: string, code: string) =>
  new DomainError('invalid_input', 'The request does not match the expected shape.', { errors: [{ path, message, code }] });

function checkJwksUrl(url: string, outbound: Outbound): void {
  try {
    outbound.check(url);
  } catch (err) {
    if (err instanceof OutboundError) throw invalid('/jwksUrl', err.message, 'invalid_url');
    throw err;
  }
}

export async function getIdentity(deps: IdentityServiceDeps, ctx: Ctx) {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const s = await store.settings(tx);
    const secrets = await store.listSecrets(tx);
    return {
      // What a host signs its tokens for (signUserSession's tenant option): see protocol's identityAudience.
      tenantId: ctx.tenantId,
      audience: identityAudience(ctx.tenantId),
      mode: s?.mode ?? 'optional',
      publicKeys: s?.public_keys ?? [],
      jwksUrl: s?.jwks_url ?? null,
      secrets: secrets.map((x) => ({ id: x.id, kid: x.kid, createdAt: x.created_at.toISOString(), revokedAt: x.revoked_at?.toISOString() ?? null })),
    };
  });
}

type IdentityConfig = z.infer<typeof PutIdentityRequest>;

/** What Sign-In Pro trusts now, read under a lock: the mode, the registered keys (with their proofs) and the JWKS URL. */
export interface TrustedNow {
  mode: IdentityMode;
  publicKeys: unknown[];
  proofs: string[];
  jwksUrl: string | null;
}

export async function lockTrusted(tx: Tx): Promise<TrustedNow> {
  const s = await store.lockSettings(tx);
  const publicKeys = s?.public_keys ?? [];
  return {
    mode: s?.mode ?? 'optional',
    publicKeys,
    proofs: await Promise.all((publicKeys as JWK[]).map((k) => keyProof('key', k))),
    jwksUrl: s?.jwks_url ?? null,
  };
}

/** The JWKS URL verification asks: registered keys take precedence over it. */
const jwksInUse = (keys: readonly unknown[], url: string | null) => (keys.length ? null : url);

/**
 * Whether saving `body` changes what verifies users beyond taking trust out: another mode, a registered key
 * not registered now, a JWKS URL not stored now, or one stored but unused that would now be asked. This is
 * what `identity.mode` on the approvals list holds (a new signing secret too, see createSecret's route):
 * whoever controls a trusted key signs in as any verified user.
 */
export function widensTrust(now: TrustedNow, body: IdentityConfig, proofs: readonly string[]): boolean {
  const url = body.jwksUrl ?? null;
  const asked = jwksInUse(body.publicKeys ?? [], url);
  return (
    body.mode !== now.mode ||
    proofs.some((p) => !now.proofs.includes(p)) ||
    (url !== null && url !== now.jwksUrl) ||
    (asked !== null && asked !== jwksInUse(now.publicKeys, now.jwksUrl))
  );
}

/**
 * Checks a configuration before anything is proposed or saved (public keys only, each one a key, a JWKS URL
 * the outbound module accepts); the proofs of its registered keys.
 */
export async function checkIdentity(deps: IdentityServiceDeps, body: IdentityConfig): Promise<string[]> {
  if (body.jwksUrl) checkJwksUrl(body.jwksUrl, deps.outbound);
  if (body.publicKeys?.some((k) => 'd' in k || 'p' in k || 'k' in k)) {
    throw invalid('/publicKeys', 'send public keys only: never a private or symmetric key', 'private_key');
  }
  // Imported now, so a key that is not one is refused here rather than failing every sign-in later.
  body.publicKeys?.forEach((k, i) => {
    try {
      createPublicKey({ key: k as JsonWebKeyInput['key'], format: 'jwk' });
    } catch {
      throw invalid(`/publicKeys/${i}`, 'is not a valid public key (JWK)', 'invalid_key');
    }
  });
  return Promise.all((body.publicKeys ?? []).map((k) => keyProof('key', k as JWK)));
}

/**
 * Saves mode, public keys and JWKS URL over `before` (locked in `tx` by lockTrusted); `kept` are the new
 * keys' proofs (checkIdentity). The identity of every widget session proved by a key taken out ends (its
 * refresh family is revoked).
 */
export async function saveIdentity(
  tx: Tx,
  deps: IdentityServiceDeps,
  ctx: Ctx,
  body: IdentityConfig,
  kept: readonly string[],
  before: TrustedNow,
): Promise<void> {
  const { tenantId } = ctx;
  const publicKeys = body.publicKeys ?? [];
  const jwksUrl = body.jwksUrl ?? null;
  await store.saveSettings(tx, tenantId, { mode: body.mode, publicKeys, jwksUrl });
  await store.bumpPolicyVersion(tx, tenantId);
  // The identities proved by a key taken out end with it: a registered key no longer registered, and
  // every key of a JWKS URL replaced, removed or no longer asked (registered keys take precedence). The
  // keys a JWKS URL serves are the host's to change without telling Parley: those end with the URL.
  const jwksGone = jwksInUse(before.publicKeys, before.jwksUrl) !== jwksInUse(publicKeys, jwksUrl);
  const keysChanged = jwksGone || before.proofs.length !== kept.length || before.proofs.some((p) => !kept.includes(p));
  const sessionsEnded = await store.endProvedSessions(tx, {
    proofs: keysChanged ? [LEGACY_PROOF] : [],
    kinds: jwksGone ? ['key', 'jwks'] : ['key'],
    keep: [...kept],
  });
  await deps.audit.append(tx, {
    tenantId,
    requestId: ctx.requestId,
    actor: ctx.actor,
    action: 'identity.configure',
    metadata: { mode: body.mode, publicKeys: publicKeys.map((k) => k.kid ?? k.kty), jwksUrl, sessionsEnded },
  });
}

/** A new signing secret; its value is returned once and stored only sealed. */
export async function createSecret(deps: IdentityServiceDeps, ctx: Ctx) {
  const { tenantId } = ctx;
  const kid = randomBytes(8).toString('hex');
  const raw = randomBytes(32);
  const id = randomUUID();
  const createdAt = await deps.db.withTenant(tenantId, ctx, async (tx) => {
    const sealed = await deps.keyring.seal(tx, tenantId, raw, secretContext(kid));
    const at = await store.insertSecret(tx, { id, tenantId, kid, sealed });
    await deps.audit.append(tx, {
      tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'identity.secret_create',
      target: { type: 'identity_secret', id },
      metadata: { kid },
    });
    return at.toISOString();
  });
  return { id, kid, secret: `idsec_${kid}_${raw.toString('base64url')}`, createdAt };
}

/** Revokes a signing secret, and the identity of every widget session it proved (their refresh families). */
export async function revokeSecret(deps: IdentityServiceDeps, ctx: Ctx, id: string): Promise<void> {
  const { tenantId } = ctx;
  await deps.db.withTenant(tenantId, ctx, async (tx) => {
    const kid = await store.revokeSecret(tx, id);
    if (!kid) throw new DomainError('not_found', 'No such active secret.');
    // Every identity the secret proved ends with it: the next refresh of those sessions is refused.
    const sessionsEnded = await store.endProvedSessions(tx, { proofs: [`secret:${kid}`, LEGACY_PROOF] });
    await deps.audit.append(tx, {
      tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'identity.secret_revoke',
      target: { type: 'identity_secret', id },
      metadata: { kid, sessionsEnded },
    });
  });
}

/** Keeps a visitor's verified profile (sealed) and audits the verification, in the caller's transaction. */
export async function recordVerifiedVisitor(
  tx: Tx,
  deps: { audit: AuditLog; keyring: Keyring },
  ctx: { tenantId: string; requestId: string | null },
  identity: VerifiedIdentity,
): Promise<void> {
  const sealed = await deps.keyring.seal(tx, ctx.tenantId, JSON.stringify(identity.profile), `visitor-profile/${identity.subject}`);
  await store.saveVerifiedVisitor(tx, ctx.tenantId, identity.subject, sealed);
  await deps.audit.append(tx, {
    tenantId: ctx.tenantId,
    requestId: ctx.requestId,
    // Not the subject: a user id is personal data (hosts often use emails), and the audit log is never
    // edited to erase anyone. The token id ties the entry to the host's own record of what it signed.
    actor: { type: 'visitor', id: null },
    action: 'identity.verify',
    source: 'widget-api',
    metadata: { jti: identity.jti },
  });
}
