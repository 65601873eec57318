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
import { SamlAcsForm, SamlConnectionRequest } from '@parley/protocol';
import express, { Router, type Request, type Response } from 'express';
import { gatedOnRow } from '../../approvals/gate.js';
import type { RefusalLog } from '../../audit/refusals.js';
import { isUuid } from '../../db/index.js';
import { DomainError } from '../../errors.js';
import { bounded } from '../../http/body.js';
import { adminCtx } from '../../http/context.js';
import { route } from '../../http/routes.js';
import { parse } from '../../http/validate.js';
import { requireCapability as can, requireOwner } from '../../tenants/auth.js';
import { clearCookie, readCookie, setCookie, SSO_COOKIE } from '../cookies.js';
import type { SignInDeps } from '../sign-in.js';
import { ssoSignIn, SsoRefused, type SsoProtocol } from '../sso.js';
import { newBinding, SAML_REQUEST_TTL_SECONDS, SamlRefused, type SamlRefusal, type SamlSignInProfile } from './saml.js';
import {
  auditSamlRefusal,
  beginSamlSignIn,
  checkSamlResponse,
  deleteSamlAdmin,
  getSamlAdmin,
  prepareSamlSave,
  samlSaveHeld,
  writeSamlSave,
  samlMetadata,
  type SamlDeps,
} from './saml-service.js';

/** The largest SAMLResponse form we read (a Response with a few certificates and many groups fits). */
export const SAML_ACS_BODY_LIMIT = 512 * 1024;

export interface SamlRoutes {
  /** Mount under /v1/admin (after its authentication). */
  admin: Router;
  /** Mount at /v1/auth/sso/saml BEFORE the app's JSON body parser: the ACS takes a urlencoded form. */
  auth: Router;
  /** Register with the foundation's SSO registry. */
  protocol: SsoProtocol;
}

export function samlRoutes(deps: SignInDeps & { refusals: RefusalLog }): SamlRoutes {
  const saml: SamlDeps = { db: deps.db, audit: deps.audit, refusals: deps.refusals, publicUrl: deps.config.publicUrl, env: deps.config.env };

  // ---- admin ----
  const admin = Router();
  route(admin, '/sso/saml', {
    get: [can('settings:read'), async (req, res) => void res.json(await getSamlAdmin(saml, adminCtx(req)))],
    put: [
      can('signin:write'),
      // Whoever sets the IdP decides who signs in as whom: an owner's decision, not an admin's or a key's.
      requireOwner,
      async (req, res) => {
        const body = parse(SamlConnectionRequest, req.body);
        // Held when it makes admins, or could sign in as existing members (another IdP, another key, a new
        // domain): decided on the connection the save locks, and written on that same read.
        const out = await gatedOnRow(
          deps,
          req,
          res,
          (tx) => prepareSamlSave(saml, tx, body),
          (save) => ({ operation: 'keys.privileged', applies: samlSaveHeld(save), arguments: body }),
          (tx, save) => writeSamlSave(saml, tx, adminCtx(req), save),
        );
        if (out) res.status(out.value.created ? 201 : 200).json(out.value.connection);
      },
    ],
    delete: [
      can('signin:write'),
      // Whoever sets the IdP decides who signs in as whom: an owner's decision, not an admin's or a key's.
      requireOwner,
      async (req, res) => {
        await deleteSamlAdmin(saml, adminCtx(req));
        res.status(204).end();
      },
    ],
  });

  // ---- sign-in ----
  const protocol: SsoProtocol = {
    kind: 'saml',
    async begin(req: Request, res: Response, tenantId: string): Promise<string> {
      const binding = newBinding();
      const url = await beginSamlSignIn(saml, tenantId, req.id, binding.hash);
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
      if (!tenantId) throw new DomainError('not_found', 'No SAML connection here.');
      res.type('application/samlmetadata+xml').send(await samlMetadata(saml, tenantId, req.id));
    },
  });

  const form = bounded(
    express.urlencoded({ extended: false, limit: SAML_ACS_BODY_LIMIT, parameterLimit: 10, type: 'application/x-www-form-urlencoded' }),
    SAML_ACS_BODY_LIMIT,
  );
  route(auth, '/:tenantId/acs', {
    post: [
      form,
      async (req, res) => {
        const tenantId = tenantOf(req);
        const requestId = req.id;
        const fail = (reason: SamlRefusal | string) => res.redirect(303, `/console/?sso_error=${reason}`);
        if (!tenantId) return fail('not_configured');
        const audited = async (reason: SamlRefusal) => {
          await auditSamlRefusal(saml, tenantId, requestId, reason);
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
          const out = await checkSamlResponse(saml, tenantId, requestId, samlResponse, cookie);
          // No connection (or no such tenant): audited apart, where a tenant exists to write to.
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
