// SAML over HTTP: the admin API for the tenant's connection (GET/PUT/DELETE /v1/admin/sso/saml), the SP
// endpoints an IdP talks to (metadata, and the ACS the browser posts the Response to), and the
// SsoProtocol the foundation's POST /v1/auth/sso/start calls to begin a sign-in.
//
// Browser binding. The Response arrives as a cross-site POST from the IdP's page, on which browsers do
// not send SameSite=Lax (or Strict) cookies. The two ways to bind the flow to the browser that started
// it are a SameSite=None cookie, or an opaque id in RelayState whose hash we store. RelayState binds
// nothing: it travels with the Response, so an attacker who starts a sign-in in their own browser gets
// a Response and its RelayState together, and can make a victim's browser post both (login CSRF, the
// victim silently signed in as the attacker). Only a cookie the victim's browser holds can tell the
// two browsers apart, so the binding cookie is `__Host-parley_sso` with SameSite=None (still Secure,
// HttpOnly, host-only, 10 minutes, and worthless without the signed Response for its own request id).
import { gated } from '../../approvals/gate.js';
import type { RefusalLog } from '../../audit/refusals.js';
import type { Tx } from '../../db/types.js';
import { SamlAcsForm, SamlConnectionRequest, type Capability } from '@parley/protocol';
import express, { Router, type Request, type Response } from 'express';
import { isUuid } from '../../db/index.js';
import { DomainError } from '../../errors.js';
import { adminCtx } from '../../http/context.js';
import { route } from '../../http/routes.js';
import { parse } from '../../http/validate.js';
import { requireCapability as can, requireOwner } from '../../tenants/auth.js';
import { clearCookie, readCookie, setCookie, SSO_COOKIE } from '../cookies.js';
import type { SignInDeps } from '../sign-in.js';
import { assertDomainsFree, makesPrivileged, ssoSignIn, SsoRefused, type SsoProtocol } from '../sso.js';
import {
  bindingHash,
  certificateFingerprint,
  newBinding,
  normaliseCertificates,
  SAML_REQUEST_TTL_SECONDS,
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

/** The largest SAMLResponse form we read (a Response with a few certificates and many groups fits). */
export const SAML_ACS_BODY_LIMIT = 512 * 1024;

function view(c: SamlConnectionRow, urls: SamlUrls) {
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

export interface SamlRoutes {
  /** Mount under /v1/admin (after its authentication). */
  admin: Router;
  /** Mount at /v1/auth/sso/saml BEFORE the app's JSON body parser: the ACS takes a urlencoded form. */
  auth: Router;
  /** Register with the foundation's SSO registry. */
  protocol: SsoProtocol;
}

export function samlRoutes(deps: SignInDeps & { refusals: RefusalLog }): SamlRoutes {
  const { db, audit } = deps;
  const urlsFor = (tenantId: string) => samlUrls(deps.config.publicUrl, tenantId);
  // Anyone can post to the ACS: a refusal is audited once per reason and window, repeats are counted
  // (audit/refusals.ts), so a flood of bogus Responses cannot grow the log.
  const refused = (tx: Tx, tenantId: string, requestId: string | null, reason: SamlRefusal) =>
    deps.refusals.record(tx, { tenantId, requestId, action: 'sso.saml_refused', source: 'sso', subject: { field: 'reason', value: reason } });

  // ---- admin ----
  const admin = Router();
  const read: Capability = 'settings:read';
  const write: Capability = 'signin:write';
  route(admin, '/sso/saml', {
    get: [
      can(read),
      async (req, res) => {
        const { tenantId, requestId } = adminCtx(req);
        const conn = await db.withTenant(tenantId, { requestId }, (tx) => getSamlConnection(tx));
        if (!conn) throw new DomainError('not_found', 'This tenant has no SAML connection.');
        res.json(view(conn, urlsFor(tenantId)));
      },
    ],
    put: [
      can(write),
      // Whoever sets the IdP decides who signs in as whom: an owner's decision, not an admin's or a key's.
      requireOwner,
      async (req, res) => {
        const body = parse(SamlConnectionRequest, req.body);
        const idpCertificates = normaliseCertificates(body.idpCertificates);
        const { tenantId, requestId, actor } = adminCtx(req);
        const conn: Omit<SamlConnectionRow, 'updatedAt'> = {
          entryPoint: body.entryPoint,
          idpIssuer: body.idpIssuer,
          idpCertificates,
          allowedDomains: [...new Set(body.allowedDomains)],
          defaultRole: body.defaultRole,
          groupsClaim: body.groupsClaim,
          groupRoles: body.groupRoles,
        };
        const op = { operation: 'keys.privileged' as const, applies: makesPrivileged(body), arguments: body };
        const out = await gated(deps, req, res, op, () =>
          db.withTenant(tenantId, { requestId }, async (tx) => {
            await assertDomainsFree(tx, tenantId, conn.allowedDomains);
            const existed = await putSamlConnection(tx, tenantId, conn);
            await audit.append(tx, {
              tenantId,
              requestId,
              actor,
              action: 'sso.saml_configured',
              target: { type: 'sso_connection', id: 'saml' },
              metadata: {
                created: !existed,
                idpIssuer: conn.idpIssuer,
                certificates: idpCertificates.map(certificateFingerprint),
                allowedDomains: conn.allowedDomains,
                defaultRole: conn.defaultRole,
                groupRoles: conn.groupRoles.length,
              },
            });
            return existed;
          }),
        );
        if (out) res.status(out.value ? 200 : 201).json(view({ ...conn, updatedAt: new Date() }, urlsFor(tenantId)));
      },
    ],
    delete: [
      can(write),
      // Whoever sets the IdP decides who signs in as whom: an owner's decision, not an admin's or a key's.
      requireOwner,
      async (req, res) => {
        const { tenantId, requestId, actor } = adminCtx(req);
        await db.withTenant(tenantId, { requestId }, async (tx) => {
          if (!(await deleteSamlConnection(tx))) throw new DomainError('not_found', 'This tenant has no SAML connection.');
          await audit.append(tx, { tenantId, requestId, actor, action: 'sso.saml_removed', target: { type: 'sso_connection', id: 'saml' } });
        });
        res.status(204).end();
      },
    ],
  });

  // ---- sign-in ----
  const protocol: SsoProtocol = {
    kind: 'saml',
    async begin(req: Request, res: Response, tenantId: string): Promise<string> {
      const binding = newBinding();
      const url = await db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const conn = await getSamlConnection(tx);
        if (!conn) throw new DomainError('not_found', 'This tenant has no SAML connection.');
        return samlAuthorizeUrl(tx, tenantId, conn, urlsFor(tenantId), binding.hash);
      });
      // SameSite=None: the IdP posts the Response cross-site (see the top of this file).
      setCookie(res, SSO_COOKIE, binding.cookie, { maxAgeSeconds: SAML_REQUEST_TTL_SECONDS, sameSite: 'None' });
      return url;
    },
  };

  const auth = Router();
  const tenantOf = (req: Request): string | null => {
    const id = String(req.params.tenantId);
    return isUuid(id) ? id : null;
  };

  route(auth, '/:tenantId/metadata', {
    get: async (req, res) => {
      const tenantId = tenantOf(req);
      const conn = tenantId ? await db.withTenant(tenantId, { requestId: req.id }, (tx) => getSamlConnection(tx)) : null;
      if (!tenantId || !conn) throw new DomainError('not_found', 'No SAML connection here.');
      res.type('application/samlmetadata+xml').send(await spMetadata(urlsFor(tenantId)));
    },
  });

  const form = express.urlencoded({ extended: false, limit: SAML_ACS_BODY_LIMIT, parameterLimit: 10, type: 'application/x-www-form-urlencoded' });
  route(auth, '/:tenantId/acs', {
    post: [
      form,
      async (req, res) => {
        const tenantId = tenantOf(req);
        const requestId = req.id;
        const fail = (reason: SamlRefusal | string) => res.redirect(303, `/console/?sso_error=${reason}`);
        if (!tenantId) return fail('not_configured');
        const audited = async (reason: SamlRefusal) => {
          await db.withTenant(tenantId, { requestId }, (tx) => refused(tx, tenantId, requestId, reason)).catch(() => undefined); // an unknown tenant has no log to write to; the refusal stands
          return fail(reason);
        };
        const form = SamlAcsForm.safeParse(req.body ?? {});
        const samlResponse = form.success ? form.data.SAMLResponse : null;
        const cookie = readCookie(req, SSO_COOKIE);
        clearCookie(res, SSO_COOKIE);
        if (!samlResponse) return audited('malformed');

        let profile: SamlSignInProfile;
        try {
          // One transaction for the checks, the request id's use and the refusal's audit entry: a refused
          // Response still uses up its request id.
          const out = await db.withTenant(tenantId, { requestId }, async (tx) => {
            const conn = await getSamlConnection(tx);
            // No connection (or no such tenant): audited apart, where a tenant exists to write to.
            if (!conn) return null;
            try {
              return await validateSamlResponse(tx, tenantId, conn, urlsFor(tenantId), samlResponse, cookie ? bindingHash(cookie) : null);
            } catch (err) {
              if (!(err instanceof SamlRefused)) throw err;
              await refused(tx, tenantId, requestId, err.reason);
              return err;
            }
          });
          if (!out) return audited('not_configured');
          if (out instanceof SamlRefused) return fail(out.reason);
          profile = out;
        } catch (err) {
          // Never a 500 for a browser on its way back from the IdP: a refusal the console explains.
          deps.logger.error({ requestId, err: err instanceof Error ? err.name : 'unknown' }, 'SAML response could not be checked');
          return fail('unavailable');
        }

        try {
          const signIn = await ssoSignIn(deps, req, res, { tenantId, kind: 'saml', profile });
          return res.redirect(303, signIn.status === 'signed_in' ? '/console/' : '/console/#mfa');
        } catch (err) {
          // ssoSignIn audits its own refusals (domain not allowed, member disabled, connection gone).
          if (err instanceof SsoRefused) return fail(refusalCode(err.reason));
          return audited('sign_in_refused');
        }
      },
    ],
  });

  return { admin, auth, protocol };
}

/** ssoSignIn's reason, when it is one the console knows; a generic one otherwise. */
const refusalCode = (reason: string): SamlRefusal | string => (/^[a-z_]{1,40}$/.test(reason) ? reason : 'sign_in_refused');
