// Bring-your-own provider keys: sealed with the tenant's data key, write-only through the API, opened
// only for the tenant whose transaction is running. Every change is audited in the same transaction.
import type { Provider, ProviderName, SetProviderRequest } from '@parley/protocol';
import type { AuditLog } from '../../audit/log.js';
import type { Keyring } from '../../crypto/keyring.js';
import { PROVIDER_API_KEY } from '../../crypto/sealed-columns.js';
import type { Db, Tx } from '../../db/index.js';
import { carryableRead, oncePerTx, txTenant } from '../../db/tx-memo.js';
import type { RequestCtx } from '../../http/context.js';
import { DomainError } from '../../errors.js';
import type { Outbound } from '../../outbound/outbound.js';
import { BaseUrlError, checkBaseUrl } from './base-url.js';
import * as store from './store.js';
import type { ProviderRow } from './store.js';

export interface ProviderDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  env: 'development' | 'staging' | 'production';
  /** Checks base URLs when they are saved (requests to them go through it too). */
  outbound: Outbound;
}

/** What the answering pipeline needs to call a provider. Never log or return it. */
export interface ProviderCredentials {
  provider: ProviderName;
  apiKey: string;
  model: string;
  embeddingModel: string | null;
  /** Set for `openai-compatible` only; the official providers use their own hosts. */
  baseUrl: string | null;
}

type TenantCtx = RequestCtx & { tenantId: string };

const toProvider = (r: ProviderRow): Provider => ({
  provider: r.provider,
  model: r.model,
  embeddingModel: r.embedding_model,
  baseUrl: r.base_url,
  last4: r.api_key_last4,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const invalid = (path: string, message: string, code: string) =>
  new DomainError('invalid_input', 'The request does not match the expected shape.', { errors: [{ path, message, code }] });
const invalidBaseUrl = (message: string) => invalid('/baseUrl', message, 'invalid_base_url');

function baseUrlFor(provider: ProviderName, raw: string | undefined, outbound: Outbound): string | null {
  if (provider !== 'openai-compatible') {
    if (raw !== undefined) throw invalidBaseUrl(`is only accepted for openai-compatible; ${provider} keys go to ${provider} only`);
    return null;
  }
  if (raw === undefined) throw invalidBaseUrl('is required for openai-compatible');
  try {
    return checkBaseUrl(raw, outbound);
  } catch (err) {
    if (err instanceof BaseUrlError) throw invalidBaseUrl(err.message);
    throw err;
  }
}

export async function setProvider(
  deps: ProviderDeps,
  ctx: TenantCtx,
  provider: ProviderName,
  body: SetProviderRequest,
): Promise<{ provider: Provider; created: boolean }> {
  const baseUrl = baseUrlFor(provider, body.baseUrl, deps.outbound);
  if (provider === 'anthropic' && body.embeddingModel !== undefined) {
    throw invalid('/embeddingModel', 'anthropic offers no embedding models; set one on an openai or openai-compatible provider', 'no_embeddings');
  }
  const last4 = body.apiKey.slice(-4);
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const sealed = await deps.keyring.seal(tx, ctx.tenantId, body.apiKey, PROVIDER_API_KEY.context({ provider, base_url: baseUrl }));
    const { row, created } = await store.upsertProvider(tx, {
      tenantId: ctx.tenantId,
      provider,
      sealed,
      last4,
      baseUrl,
      model: body.model,
      embeddingModel: body.embeddingModel ?? null,
    });
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'provider.set',
      target: { type: 'provider', id: provider },
      metadata: { provider, model: body.model, embeddingModel: body.embeddingModel ?? null, baseUrl, last4, replaced: !created },
    });
    return { provider: toProvider(row), created };
  });
}

export async function listProviders(deps: ProviderDeps, ctx: TenantCtx): Promise<Provider[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    return (await store.listProviderRows(tx)).map(toProvider);
  });
}

export async function removeProvider(deps: ProviderDeps, ctx: TenantCtx, provider: ProviderName): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const removed = await store.deleteProvider(tx, provider);
    if (!removed) throw new DomainError('not_found', `No ${provider} provider is configured.`);
    await deps.audit.append(tx, {
      tenantId: ctx.tenantId,
      requestId: ctx.requestId,
      actor: ctx.actor,
      action: 'provider.remove',
      target: { type: 'provider', id: provider },
      metadata: { provider, model: removed.model, last4: removed.api_key_last4 },
    });
  });
}

// Carried from the transaction storing a question to its answer's (db/tx-memo.ts).
const PROVIDERS = carryableRead('providers:');

/**
 * The tenant's provider credentials, most recently configured first, for the answering pipeline.
 * `tx` must be this tenant's own `withTenant` transaction: on the platform path, or for another
 * tenant, it refuses rather than open keys outside the tenant's row-level security.
 */
export async function resolveProviderCredentials(tx: Tx, keyring: Keyring, tenantId: string): Promise<ProviderCredentials[]> {
  const scope = await txTenant(tx);
  if (!scope || scope.toLowerCase() !== tenantId.toLowerCase()) {
    throw new Error("provider credentials resolve only inside the tenant's own transaction");
  }
  // A turn needs them for answering and for embedding the query: opened once per transaction.
  return oncePerTx(tx, `${PROVIDERS}${tenantId.toLowerCase()}`, () => openProviderCredentials(tx, keyring, tenantId));
}

async function openProviderCredentials(tx: Tx, keyring: Keyring, tenantId: string): Promise<ProviderCredentials[]> {
  const rows = await store.sealedProviders(tx, tenantId);
  const out: ProviderCredentials[] = [];
  for (const r of rows) {
    out.push({
      provider: r.provider,
      apiKey: await keyring.openString(tx, tenantId, r.api_key_sealed, PROVIDER_API_KEY.context(r)),
      model: r.model,
      embeddingModel: r.embedding_model,
      baseUrl: r.base_url,
    });
  }
  return out;
}
