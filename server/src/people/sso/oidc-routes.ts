// HTTP for OIDC sign-in: the tenant's connection (admin), the start (the SSO registry calls `protocol.begin`),
// and the callback the IdP sends the browser back to.
import { OidcConnectionRequest } from '@parley/protocol';
import { Router, type Request, type Response } from 'express';
import { gatedOnRow } from '../../approvals/gate.js';
import type { RefusalLog } from '../../audit/refusals.js';
import { isUuid } from '../../db/index.js';
import { DomainError } from '../../errors.js';
import { adminCtx } from '../../http/context.js';
import { route } from '../../http/routes.js';
import { parse } from '../../http/validate.js';
import type { Outbound } from '../../outbound/outbound.js';
import { requireCapability as can, requireOwner } from '../../tenants/auth.js';
import { readCookie, setCookie, SSO_COOKIE } from '../cookies.js';
import type { SignInDeps } from '../sign-in.js';
import { SsoRefused, ssoSignIn, type SsoProtocol } from '../sso.js';
import { SSO_REQUEST_TTL_SECONDS } from './connections.js';
import { finishOidcSignIn, OidcRefusal, startOidcSignIn, type OidcDeps } from './oidc.js';
import {
  checkOidcSave,
  deleteOidcConnection,
  getOidcConnection,
  oidcSaveHeld,
  prepareOidcSave,
  savedOidcConnection,
  writeOidcSave,
} from './oidc-admin.js';

export type OidcRouteDeps = SignInDeps & {
  /** The one way to the tenant's issuer (discovery, JWKS, token and userinfo endpoints). */
  outbound: Outbound;
  /**
   * Anyone can send a browser to the callback with anything in it: refusals are audited without letting
   * the log grow without bound (one entry per tenant, reason and window; repeats are counted).
   */
  refusals: RefusalLog;
};

/** Reason codes are ours (a fixed set); anything else is shown as the generic one. */
const REASON = /^[a-z_]{1,40}$/;

/**
 * `admin` goes under /v1/admin (GET/PUT/DELETE /sso/oidc), `auth` under /v1 (the callback), and `protocol`
 * into the SSO registry.
 */
export function ssoOidcRoutes(deps: OidcRouteDeps): { admin: Router; auth: Router; protocol: SsoProtocol } {
  const oidc: OidcDeps = { db: deps.db, audit: deps.audit, keyring: deps.keyring, outbound: deps.outbound, publicUrl: deps.config.publicUrl };

  const admin = Router();
  route(admin, '/sso/oidc', {
    get: [
      can('settings:read'),
      async (req, res) => {
        res.set('Cache-Control', 'no-store').json(await getOidcConnection(oidc, adminCtx(req)));
      },
    ],
    put: [
      can('signin:write'),
      // Whoever sets the IdP decides who signs in as whom: an owner's decision, not an admin's or a key's.
      requireOwner,
      async (req, res) => {
        const body = parse(OidcConnectionRequest, req.body);
        const { clientSecret, ...shown } = body;
        const checked = await checkOidcSave(oidc, adminCtx(req), body);
        // Held when it makes admins, or could sign in as existing members (another issuer, a new domain):
        // decided on the connection the save locks, and written on that same read.
        const out = await gatedOnRow(
          deps,
          req,
          res,
          (tx) => prepareOidcSave(tx, body, checked),
          (save) => ({ operation: 'keys.privileged', applies: oidcSaveHeld(body, save), arguments: shown, secrets: { clientSecret } }),
          (tx, save) => writeOidcSave(oidc, tx, adminCtx(req), body, save),
        );
        if (out) res.set('Cache-Control', 'no-store').json(await savedOidcConnection(oidc, adminCtx(req)));
      },
    ],
    delete: [
      can('signin:write'),
      // Whoever sets the IdP decides who signs in as whom: an owner's decision, not an admin's or a key's.
      requireOwner,
      async (req, res) => {
        await deleteOidcConnection(oidc, adminCtx(req));
        res.status(204).end();
      },
    ],
  });

  const protocol: SsoProtocol = {
    kind: 'oidc',
    async begin(req, res, tenantId) {
      try {
        const { url, bindingToken } = await startOidcSignIn(oidc, tenantId, { requestId: req.id, binding: readCookie(req, SSO_COOKIE) });
        // Lax: the IdP's redirect back is a cross-site top-level navigation, which must carry it.
        setCookie(res, SSO_COOKIE, bindingToken, { maxAgeSeconds: SSO_REQUEST_TTL_SECONDS, sameSite: 'Lax' });
        return url;
      } catch (err) {
        if (!(err instanceof OidcRefusal)) throw err;
        await audit(req, tenantId, err.reason);
        throw new DomainError(
          err.reason === 'not_configured' ? 'not_found' : 'conflict',
          "Single sign-on with your organisation's identity provider is not available right now. Ask your administrator.",
        );
      }
    },
  };

  async function audit(req: Request, tenantId: string, reason: string): Promise<void> {
    try {
      await deps.db.withTenant(tenantId, { requestId: req.id }, (tx) =>
        deps.refusals.record(tx, {
          tenantId,
          requestId: req.id,
          action: 'sso.oidc_refused',
          source: 'sso',
          subject: { field: 'reason', value: reason },
        }),
      );
    } catch (err) {
      // A tenant id in the URL that names no tenant has no log to write to.
      deps.logger.warn(
        { requestId: req.id, refusal: REASON.test(reason) ? reason : 'idp_error', error: (err as Error).name },
        'oidc refusal not audited',
      );
    }
  }

  const auth = Router();
  route(auth, '/auth/sso/oidc/:tenantId/callback', {
    get: async (req: Request, res: Response) => {
      res.set('Cache-Control', 'no-store');
      const tenantId = String(req.params.tenantId);
      const refuse = (reason: string) => {
        // Under `refusal`, not `reason` (which the logger redacts as free text): this is one of our codes.
        deps.logger.info({ requestId: req.id, refusal: REASON.test(reason) ? reason : 'idp_error' }, 'oidc sign-in refused');
        res.redirect(303, `/console/?sso_error=${REASON.test(reason) ? reason : 'idp_error'}`);
      };
      if (!isUuid(tenantId)) return refuse('state_unknown');
      const q = req.originalUrl.indexOf('?');
      const query = new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1));
      try {
        const profile = await finishOidcSignIn(oidc, tenantId, { requestId: req.id, query, binding: readCookie(req, SSO_COOKIE) });
        const out = await ssoSignIn(deps, req, res, { tenantId, kind: 'oidc', profile });
        res.redirect(303, out.status === 'signed_in' ? '/console/' : '/console/#mfa');
      } catch (err) {
        if (err instanceof OidcRefusal) {
          await audit(req, tenantId, err.reason);
          return refuse(err.reason);
        }
        // ssoSignIn audited its own refusal (domain, disabled member, connection gone).
        if (err instanceof SsoRefused) return refuse(err.reason);
        // Never the error's message: it may quote what the IdP sent.
        deps.logger.warn({ requestId: req.id, error: (err as Error)?.name, code: (err as DomainError)?.code }, 'oidc callback failed');
        await audit(req, tenantId, 'sign_in_failed');
        refuse('sign_in_failed');
      }
    },
  });

  return { admin, auth, protocol };
}
