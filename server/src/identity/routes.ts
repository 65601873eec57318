// Admin side of Sign-In Pro: signing secrets (shown once), public keys or a JWKS URL, and the mode.
import { PutIdentityRequest } from '@parley/protocol';
import { randomBytes, randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db } from '../db/index.js';
import { isUuid } from '../db/index.js';
import { adminCtx, by } from '../http/context.js';
import { problems } from '../http/problem.js';
import { route } from '../http/routes.js';
import { parse } from '../http/validate.js';
import { OutboundError, type Outbound } from '../outbound/outbound.js';
import { requireCapability as can } from '../tenants/auth.js';
import type { Env } from '../tenants/service.js';
import { secretContext } from './verify.js';

export interface IdentityDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  env: Env;
  /** Checks a JWKS URL when it is saved (the connect-time check is the real guard). */
  outbound: Outbound;
}


function checkJwksUrl(url: string, outbound: Outbound): void {
  try {
    outbound.check(url);
  } catch (err) {
    if (err instanceof OutboundError) throw problems.validation([{ path: '/jwksUrl', message: err.message, code: 'invalid_url' }]);
    throw err;
  }
}

export function identityAdminRoutes(deps: IdentityDeps): Router {
  const r = Router();

  route(r, '/identity', {
    get: [can('settings:read'), async (req, res) => {
      const { tenantId } = adminCtx(req);
      const out = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const s = (await tx.query<{ mode: 'optional' | 'required'; public_keys: unknown[]; jwks_url: string | null }>('SELECT mode, public_keys, jwks_url FROM identity_settings')).rows[0];
        const secrets = await tx.query<{ id: string; kid: string; created_at: Date; revoked_at: Date | null }>(
          'SELECT id, kid, created_at, revoked_at FROM identity_secrets ORDER BY created_at',
        );
        return {
          mode: s?.mode ?? 'optional',
          publicKeys: s?.public_keys ?? [],
          jwksUrl: s?.jwks_url ?? null,
          secrets: secrets.rows.map((x) => ({ id: x.id, kid: x.kid, createdAt: x.created_at.toISOString(), revokedAt: x.revoked_at?.toISOString() ?? null })),
        };
      });
      res.json(out);
    }],
    put: [can('identity:write'), async (req, res) => {
      const body = parse(PutIdentityRequest, req.body);
      if (body.jwksUrl) checkJwksUrl(body.jwksUrl, deps.outbound);
      if (body.publicKeys?.some((k) => 'd' in k || 'p' in k || 'k' in k)) {
        throw problems.validation([{ path: '/publicKeys', message: 'send public keys only: never a private or symmetric key', code: 'private_key' }]);
      }
      const { tenantId } = adminCtx(req);
      await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        await tx.query(
          `INSERT INTO identity_settings (tenant_id, mode, public_keys, jwks_url, updated_at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (tenant_id) DO UPDATE SET mode = EXCLUDED.mode, public_keys = EXCLUDED.public_keys, jwks_url = EXCLUDED.jwks_url, updated_at = now()`,
          [tenantId, body.mode, JSON.stringify(body.publicKeys ?? []), body.jwksUrl ?? null],
        );
        await tx.query('UPDATE tenants SET policy_version = policy_version + 1 WHERE id = $1', [tenantId]);
        await deps.audit.append(tx, {
          tenantId,
          ...by(req),
          action: 'identity.configure',
          metadata: { mode: body.mode, publicKeys: (body.publicKeys ?? []).map((k) => k.kid ?? k.kty), jwksUrl: body.jwksUrl ?? null },
        });
      });
      res.status(204).end();
    }],
  });

  route(r, '/identity/secrets', {
    post: [can('identity:write'), async (req, res) => {
      const { tenantId } = adminCtx(req);
      const kid = randomBytes(8).toString('hex');
      const raw = randomBytes(32);
      const id = randomUUID();
      const createdAt = await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const sealed = await deps.keyring.seal(tx, tenantId, raw, secretContext(kid));
        const { rows } = await tx.query<{ created_at: Date }>(
          'INSERT INTO identity_secrets (id, tenant_id, kid, sealed) VALUES ($1, $2, $3, $4) RETURNING created_at',
          [id, tenantId, kid, sealed],
        );
        await deps.audit.append(tx, { tenantId, ...by(req), action: 'identity.secret_create', target: { type: 'identity_secret', id }, metadata: { kid } });
        return rows[0]!.created_at.toISOString();
      });
      res.status(201).setHeader('Cache-Control', 'no-store').json({ id, kid, secret: `idsec_${kid}_${raw.toString('base64url')}`, createdAt });
    }],
  });

  route(r, '/identity/secrets/:id', {
    delete: [can('identity:write'), async (req, res) => {
      const id = String(req.params.id);
      if (!isUuid(id)) throw problems.notFound();
      const { tenantId } = adminCtx(req);
      await deps.db.withTenant(tenantId, { requestId: req.id }, async (tx) => {
        const { rows } = await tx.query<{ kid: string }>('UPDATE identity_secrets SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING kid', [id]);
        if (!rows[0]) throw problems.notFound('No such active secret.');
        await deps.audit.append(tx, { tenantId, ...by(req), action: 'identity.secret_revoke', target: { type: 'identity_secret', id }, metadata: { kid: rows[0].kid } });
      });
      res.status(204).end();
    }],
  });
  return r;
}
