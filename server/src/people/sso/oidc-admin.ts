// The tenant's OIDC connection: read, replace, remove. The client secret is write-only (sealed with the
// tenant's data key); the issuer is checked when saved by fetching its discovery document through outbound.
import type { OidcConnectionRequest, OidcConnectionSchema } from '@parley/protocol';
import type { z } from 'zod';
import type { AuditLog } from '../../audit/log.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { Db, Tx } from '../../db/types.js';
import { DomainError } from '../../errors.js';
import type { RequestCtx } from '../../http/context.js';
import { OutboundError, type Outbound } from '../../outbound/outbound.js';
import { assertDomainsFree, makesPrivileged, reachesMembers, releaseLinksElsewhere } from '../sso.js';
import { deleteConnection, readConnection, type SsoConnectionRow, writeConnection } from './connections.js';
import { discover, OIDC_SECRET_CONTEXT, oidcRedirectUri, refusalReason, type OidcConfig } from './oidc.js';

export interface OidcAdminDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  outbound: Outbound;
  publicUrl: string;
}

type Ctx = RequestCtx & { tenantId: string };
type Connection = z.infer<typeof OidcConnectionSchema>;

export const getOidcConnection = (deps: OidcAdminDeps, ctx: Ctx): Promise<Connection> =>
  deps.db.withTenant(ctx.tenantId, ctx, (tx) => connectionIn(deps, ctx, tx));

/**
 * The connection a save left, read once the save has committed: a read (on the read path, which shows this
 * instance's writes), so an owner removed the moment after is not told that nothing was changed.
 */
export const savedOidcConnection = (deps: OidcAdminDeps, ctx: Ctx): Promise<Connection> =>
  deps.db.withTenantRead(ctx.tenantId, ctx, (tx) => connectionIn(deps, ctx, tx));

async function connectionIn(deps: OidcAdminDeps, ctx: Ctx, tx: Tx): Promise<Connection> {
  const conn = await readConnection(tx, 'oidc');
  if (!conn) throw new DomainError('not_found', 'No OIDC connection is configured.');
  const c = conn.config as unknown as OidcConfig;
  return {
    issuer: c.issuer,
    clientId: c.clientId,
    hasClientSecret: conn.secretSealed !== null,
    allowedDomains: conn.allowedDomains,
    defaultRole: conn.defaultRole,
    groupsClaim: conn.groupsClaim,
    groupRoles: conn.groupRoles,
    redirectUri: oidcRedirectUri(deps.publicUrl, ctx.tenantId),
  };
}

const sameUrl = (a: string, b: string) => new URL(a).href === new URL(b).href;

const invalid = (path: string, message: string, code: string) =>
  new DomainError('invalid_input', 'The OIDC connection is not valid.', { errors: [{ path, message, code }] });

const secretRequired = () => invalid('/clientSecret', 'send the client secret again when the issuer or client id changes', 'secret_required');

/** Whether a save names another issuer or client than the stored connection (whose secret is then not theirs). */
const movedFrom = (stored: { config: Record<string, unknown> } | null, issuer: string, clientId: string): boolean => {
  const c = stored?.config as unknown as OidcConfig | undefined;
  return !!c && (!sameUrl(c.issuer, issuer) || c.clientId !== clientId);
};

const DISCOVERY_PROBLEM: Partial<Record<ReturnType<typeof refusalReason>, string>> = {
  issuer_refused: 'the issuer is not a destination this server may reach',
  idp_unreachable: 'the issuer did not answer',
  issuer_mismatch: 'the discovery document names another issuer: use exactly the issuer it names',
};

type OidcBody = z.output<typeof OidcConnectionRequest>;

/** A save of the connection after its issuer answered discovery: the issuer as it names itself. */
export interface OidcChecked {
  issuer: string;
}

/**
 * Checks a save before any transaction that writes: the issuer is a destination outbound may reach, and
 * answers its discovery document naming itself (stored as named there, since ID tokens are compared with it
 * exactly). 400 naming the field otherwise.
 */
export async function checkOidcSave(deps: OidcAdminDeps, ctx: Ctx, body: OidcBody): Promise<OidcChecked> {
  const named = body.issuer;
  try {
    deps.outbound.check(named);
  } catch (err) {
    if (err instanceof OutboundError) throw invalid('/issuer', err.message, 'invalid_url');
    throw err;
  }
  const before = await deps.db.withTenant(ctx.tenantId, ctx, (tx) => readConnection(tx, 'oidc'));
  // A stored secret is only ever sent to the issuer it was given for: a new issuer or client needs it again.
  // Refused here before discovery; decided again on the row the write locks (another save may move it meanwhile).
  const moved = movedFrom(before, named, body.clientId);
  if (body.clientSecret === undefined && before?.secretSealed && moved) throw secretRequired();
  let keptSecret: string | null = null;
  if (body.clientSecret === undefined && before?.secretSealed && !moved) {
    keptSecret = await deps.db.withTenant(ctx.tenantId, ctx, (tx) =>
      deps.keyring.openString(tx, ctx.tenantId, before.secretSealed!, OIDC_SECRET_CONTEXT),
    );
  }
  try {
    const config = await discover(deps.outbound, { issuer: named, clientId: body.clientId, clientSecret: body.clientSecret ?? keptSecret });
    const meta = config.serverMetadata();
    if (!meta.authorization_endpoint || !meta.token_endpoint || !meta.jwks_uri) {
      throw invalid('/issuer', 'the discovery document lacks an authorization, token or JWKS endpoint', 'discovery_incomplete');
    }
    return { issuer: meta.issuer };
  } catch (err) {
    if (err instanceof DomainError) throw err;
    const reason = refusalReason(err);
    throw invalid('/issuer', `discovery failed: ${DISCOVERY_PROBLEM[reason] ?? 'no valid OpenID Connect discovery document'}`, 'discovery_failed');
  }
}

/** A checked save with the connection it replaces (locked) and whether it reaches members. */
export interface OidcSave extends OidcChecked {
  current: SsoConnectionRow | null;
  /** It could sign in as an existing member it could not before (sso.ts `reachesMembers`). */
  reachesMembers: boolean;
}

/** Reads, under its lock, the connection a checked save would replace. */
export async function prepareOidcSave(tx: Tx, body: OidcBody, checked: OidcChecked): Promise<OidcSave> {
  const current = await readConnection(tx, 'oidc', { forUpdate: true });
  const trustChanged = !current || !sameUrl((current.config as unknown as OidcConfig).issuer, checked.issuer);
  const domains = [...new Set(body.allowedDomains)];
  const reaches = await reachesMembers(tx, 'oidc', { trustChanged, domains, domainsBefore: current?.allowedDomains ?? [] });
  return { ...checked, current, reachesMembers: reaches };
}

/** Whether a save waits for another owner's or admin's approval when `keys.privileged` is held. */
export const oidcSaveHeld = (body: OidcBody, save: OidcSave): boolean => makesPrivileged(body) || save.reachesMembers;

/** Writes a prepared save in its transaction. */
export async function writeOidcSave(deps: OidcAdminDeps, tx: Tx, ctx: Ctx, body: OidcBody, save: OidcSave): Promise<void> {
  const { issuer, current } = save;
  await assertDomainsFree(tx, ctx.tenantId, body.allowedDomains);
  // The secret kept is the one stored now, so whether it stays is decided on this row, not on an earlier read.
  let sealed: Buffer | null = null;
  if (body.clientSecret !== undefined) sealed = await deps.keyring.seal(tx, ctx.tenantId, body.clientSecret, OIDC_SECRET_CONTEXT);
  else if (current?.secretSealed) {
    if (movedFrom(current, issuer, body.clientId)) throw secretRequired();
    sealed = current.secretSealed;
  }
  const config: OidcConfig = { issuer, clientId: body.clientId };
  const { created } = await writeConnection(tx, ctx.tenantId, {
    kind: 'oidc',
    config: config as unknown as Record<string, unknown>,
    secretSealed: sealed,
    allowedDomains: [...new Set(body.allowedDomains)],
    defaultRole: body.defaultRole,
    groupsClaim: body.groupsClaim,
    groupRoles: body.groupRoles,
  });
  // Identities at the issuer it trusted before sign in nobody now; their members link afresh at their next sign-in.
  const linksReleased = await releaseLinksElsewhere(tx, 'oidc', issuer);
  await deps.audit.append(tx, {
    tenantId: ctx.tenantId,
    requestId: ctx.requestId,
    actor: ctx.actor,
    action: 'sso.oidc_configured',
    target: { type: 'sso_connection', id: 'oidc' },
    metadata: {
      created,
      issuer,
      clientId: body.clientId,
      allowedDomains: [...new Set(body.allowedDomains)],
      defaultRole: body.defaultRole,
      groupRoles: body.groupRoles.length,
      clientSecret: body.clientSecret !== undefined ? 'replaced' : sealed ? 'kept' : 'none',
      linksReleased,
    },
  });
}

/** Creates or replaces the connection, unheld (the route asks the approval rail first). */
export async function putOidcConnection(deps: OidcAdminDeps, ctx: Ctx, body: OidcBody): Promise<Connection> {
  const checked = await checkOidcSave(deps, ctx, body);
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => writeOidcSave(deps, tx, ctx, body, await prepareOidcSave(tx, body, checked)));
  return savedOidcConnection(deps, ctx);
}

export async function deleteOidcConnection(deps: OidcAdminDeps, ctx: Ctx): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const conn = await readConnection(tx, 'oidc', { forUpdate: true });
    if (!conn || !(await deleteConnection(tx, 'oidc'))) throw new DomainError('not_found', 'No OIDC connection is configured.');
    const c = conn.config as unknown as OidcConfig;
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'sso.oidc_removed',
      target: { type: 'sso_connection', id: 'oidc' },
      metadata: { issuer: c.issuer, clientId: c.clientId, allowedDomains: conn.allowedDomains },
    });
  });
}
