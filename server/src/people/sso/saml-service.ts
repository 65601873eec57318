// The tenant's SAML connection (read, replace, remove, each replacement and removal audited), the start of a
// sign-in and the check of a Response posted to the ACS: the transactions saml-routes.ts calls, so the
// routes keep to HTTP (cookies, redirects, status codes).
import type { SamlConnectionRequest } from '@parley/protocol';
import type { z } from 'zod';
import type { AuditLog } from '../../audit/log.js';
import type { RefusalLog } from '../../audit/refusals.js';
import type { Config } from '../../config.js';
import type { Db, Tx } from '../../db/types.js';
import { DomainError } from '../../errors.js';
import type { RequestCtx } from '../../http/context.js';
import { assertDomainsFree, makesPrivileged, reachesMembers, releaseLinksElsewhere } from '../sso.js';
import {
  bindingHash,
  certificateFingerprint,
  normaliseCertificates,
  samlAuthorizeUrl,
  SamlRefused,
  samlUrls,
  spMetadata,
  validateSamlResponse,
  type SamlRefusal,
  type SamlSignInProfile,
  type SamlUrls,
} from './saml.js';
import { deleteSamlConnection, getSamlConnection, putSamlConnection, type SamlConnectionRow } from './saml-store.js';

export interface SamlDeps {
  db: Db;
  audit: AuditLog;
  refusals: RefusalLog;
  publicUrl: string;
  env: Config['env'];
}

/**
 * What is wrong with an IdP entry point, or null: the browser is sent there, so http(s) only (never
 * javascript: or data:), and https outside development, as every other URL setting.
 */
export function entryPointProblem(url: string, env: Config['env']): string | null {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return 'must be an absolute https URL';
  }
  if (protocol !== 'https:' && protocol !== 'http:') return 'must be an http(s) URL';
  if (env !== 'development' && protocol !== 'https:') return 'must use https';
  return null;
}

type Ctx = RequestCtx & { tenantId: string };

const urlsFor = (deps: SamlDeps, tenantId: string) => samlUrls(deps.publicUrl, tenantId);
const noConnection = () => new DomainError('not_found', 'This tenant has no SAML connection.');

/** What the admin API shows of a connection: its settings and the SP's own URLs the IdP needs. */
function view(c: Omit<SamlConnectionRow, 'updatedAt'>, urls: SamlUrls) {
  return {
    entryPoint: c.entryPoint,
    idpIssuer: c.idpIssuer,
    idpCertificates: c.idpCertificates,
    allowedDomains: c.allowedDomains,
    defaultRole: c.defaultRole,
    groupsClaim: c.groupsClaim,
    groupRoles: c.groupRoles,
    spEntityId: urls.spEntityId,
    acsUrl: urls.acsUrl,
    metadataUrl: urls.metadataUrl,
  };
}
export type SamlConnectionView = ReturnType<typeof view>;

export async function getSamlAdmin(deps: SamlDeps, ctx: Ctx): Promise<SamlConnectionView> {
  const conn = await deps.db.withTenant(ctx.tenantId, ctx, (tx) => getSamlConnection(tx));
  if (!conn) throw noConnection();
  return view(conn, urlsFor(deps, ctx.tenantId));
}

/** A save of the connection, checked, with the connection it replaces (locked) and whether it reaches members. */
export interface SamlSave {
  conn: Omit<SamlConnectionRow, 'updatedAt'>;
  current: SamlConnectionRow | null;
  /** It could sign in as an existing member it could not before (sso.ts `reachesMembers`). */
  reachesMembers: boolean;
}

/** Checks a save (400 naming the field) and reads, under its lock, the connection it would replace. */
export async function prepareSamlSave(deps: SamlDeps, tx: Tx, body: z.output<typeof SamlConnectionRequest>): Promise<SamlSave> {
  const problem = entryPointProblem(body.entryPoint, deps.env);
  if (problem)
    throw new DomainError('invalid_input', 'The SAML connection is not valid.', {
      errors: [{ path: '/entryPoint', message: problem, code: 'invalid_url' }],
    });
  const idpCertificates = normaliseCertificates(body.idpCertificates);
  const conn: Omit<SamlConnectionRow, 'updatedAt'> = {
    entryPoint: body.entryPoint,
    idpIssuer: body.idpIssuer,
    idpCertificates,
    allowedDomains: [...new Set(body.allowedDomains)],
    defaultRole: body.defaultRole,
    groupsClaim: body.groupsClaim,
    groupRoles: body.groupRoles,
  };
  const current = await getSamlConnection(tx, { forUpdate: true });
  // Whoever holds a key the connection trusts signs in as anyone its issuer's identities are linked to.
  const trusted = new Set(current?.idpCertificates.map(certificateFingerprint));
  const trustChanged = !current || current.idpIssuer !== conn.idpIssuer || idpCertificates.some((c) => !trusted.has(certificateFingerprint(c)));
  const reaches = await reachesMembers(tx, 'saml', { trustChanged, domains: conn.allowedDomains, domainsBefore: current?.allowedDomains ?? [] });
  return { conn, current, reachesMembers: reaches };
}

/** Whether a save waits for another owner's or admin's approval when `keys.privileged` is held. */
export const samlSaveHeld = (save: SamlSave): boolean => makesPrivileged(save.conn) || save.reachesMembers;

/** Writes a prepared save in its transaction; `created` when there was no connection. */
export async function writeSamlSave(deps: SamlDeps, tx: Tx, ctx: Ctx, save: SamlSave): Promise<{ created: boolean; connection: SamlConnectionView }> {
  const { conn } = save;
  await assertDomainsFree(tx, ctx.tenantId, conn.allowedDomains);
  const existed = await putSamlConnection(tx, ctx.tenantId, conn);
  // Identities at the IdP it trusted before sign in nobody now; their members link afresh at their next sign-in.
  const linksReleased = await releaseLinksElsewhere(tx, 'saml', conn.idpIssuer);
  await deps.audit.append(tx, {
    tenantId: ctx.tenantId,
    requestId: ctx.requestId,
    actor: ctx.actor,
    action: 'sso.saml_configured',
    target: { type: 'sso_connection', id: 'saml' },
    metadata: {
      created: !existed,
      idpIssuer: conn.idpIssuer,
      certificates: conn.idpCertificates.map(certificateFingerprint),
      allowedDomains: conn.allowedDomains,
      defaultRole: conn.defaultRole,
      groupRoles: conn.groupRoles.length,
      linksReleased,
    },
  });
  return { created: !existed, connection: view(conn, urlsFor(deps, ctx.tenantId)) };
}

/** Creates or replaces the connection, unheld (the route asks the approval rail first); `created` when there was none. */
export async function putSamlAdmin(
  deps: SamlDeps,
  ctx: Ctx,
  body: z.output<typeof SamlConnectionRequest>,
): Promise<{ created: boolean; connection: SamlConnectionView }> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => writeSamlSave(deps, tx, ctx, await prepareSamlSave(deps, tx, body)));
}

export async function deleteSamlAdmin(deps: SamlDeps, ctx: Ctx): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    if (!(await deleteSamlConnection(tx))) throw noConnection();
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'sso.saml_removed',
      target: { type: 'sso_connection', id: 'saml' },
    });
  });
}

/** The SP metadata of a tenant with a SAML connection; not_found otherwise. */
export async function samlMetadata(deps: SamlDeps, tenantId: string, requestId: string | null): Promise<string> {
  const conn = await deps.db.withTenant(tenantId, { requestId }, (tx) => getSamlConnection(tx));
  if (!conn) throw new DomainError('not_found', 'No SAML connection here.');
  return spMetadata(urlsFor(deps, tenantId));
}

/** The IdP URL a sign-in starts at, its AuthnRequest id stored and bound to the browser's cookie hash. */
export async function beginSamlSignIn(deps: SamlDeps, tenantId: string, requestId: string | null, binding: Buffer): Promise<string> {
  return deps.db.withTenant(tenantId, { requestId }, async (tx) => {
    const conn = await getSamlConnection(tx);
    if (!conn) throw noConnection();
    // One saved before the scheme was checked: nobody is sent to a javascript: or data: URL.
    if (entryPointProblem(conn.entryPoint, deps.env))
      throw new DomainError('conflict', 'Single sign-on is not set up correctly for this organisation: ask your administrator to check its IdP URL.');
    return samlAuthorizeUrl(tx, tenantId, conn, urlsFor(deps, tenantId), binding);
  });
}

// Anyone can post to the ACS: a refusal is audited once per reason and window, repeats are counted
// (audit/refusals.ts), so a flood of bogus Responses cannot grow the log.
const refused = (deps: SamlDeps, tx: Tx, tenantId: string, requestId: string | null, reason: SamlRefusal) =>
  deps.refusals.record(tx, { tenantId, requestId, action: 'sso.saml_refused', source: 'sso', subject: { field: 'reason', value: reason } });

/** Audits a refusal outside a check; a tenant that does not exist has no log to write to, and the refusal stands. */
export async function auditSamlRefusal(deps: SamlDeps, tenantId: string, requestId: string | null, reason: SamlRefusal): Promise<void> {
  await deps.db.withTenant(tenantId, { requestId }, (tx) => refused(deps, tx, tenantId, requestId, reason)).catch(() => undefined);
}

/**
 * Checks a posted Response against the tenant's connection and the browser's binding cookie: the profile it
 * signs in, or the refusal (audited in the same transaction, which also uses up the request id), or null
 * when the tenant has no connection (audited apart by the caller, where a tenant exists to write to).
 */
export async function checkSamlResponse(
  deps: SamlDeps,
  tenantId: string,
  requestId: string | null,
  samlResponse: string,
  cookie: string | null,
): Promise<SamlSignInProfile | SamlRefused | null> {
  return deps.db.withTenant(tenantId, { requestId }, async (tx) => {
    const conn = await getSamlConnection(tx);
    if (!conn) return null;
    try {
      return await validateSamlResponse(tx, tenantId, conn, urlsFor(deps, tenantId), samlResponse, cookie ? bindingHash(cookie) : null);
    } catch (err) {
      if (!(err instanceof SamlRefused)) throw err;
      await refused(deps, tx, tenantId, requestId, err.reason);
      return err;
    }
  });
}
