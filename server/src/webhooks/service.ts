// The rules of webhook endpoints: URLs that outbound/ would refuse are refused when saved (a 400 naming
// the field) and again at every delivery; secrets are sealed with the tenant's data key and shown once;
// a rotation keeps the previous secret signing for a grace period; every change is audited.
import { randomUUID } from 'node:crypto';
import type {
  CreateWebhookEndpointRequest,
  ReplayWebhookRequest,
  UpdateWebhookEndpointRequest,
  WebhookDelivery,
  WebhookEndpoint,
} from '@parley/protocol';
import type { AuditLog } from '../audit/log.js';
import type { Keyring } from '../crypto/keyring.js';
import { WEBHOOK_PREVIOUS_SECRET, WEBHOOK_SECRET } from '../crypto/sealed-columns.js';
import type { Db, Tx } from '../db/types.js';
import { DomainError } from '../errors.js';
import type { RequestCtx } from '../http/context.js';
import { OutboundError, type Outbound } from '../outbound/outbound.js';
import { enqueueTestEvent, wakeAfterCommit } from './outbox.js';
import { newWebhookSecret } from './signing.js';
import * as store from './store.js';

export interface WebhookDeps {
  db: Db;
  audit: AuditLog;
  keyring: Keyring;
  outbound: Outbound;
}

type Ctx = RequestCtx & { tenantId: string };

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const who = (ctx: Ctx) => ({ tenantId: ctx.tenantId, requestId: ctx.requestId, actor: ctx.actor });

export const endpointView = (e: store.EndpointRow): WebhookEndpoint => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: e.events as WebhookEndpoint['events'],
  enabled: e.enabled,
  disabledReason: e.disabled_reason,
  failingSince: iso(e.failing_since),
  previousSecretExpiresAt:
    e.previous_secret_expires_at && e.previous_secret_expires_at > new Date() ? e.previous_secret_expires_at.toISOString() : null,
  createdAt: e.created_at.toISOString(),
  updatedAt: e.updated_at.toISOString(),
});

const deliveryView = (d: store.DeliveryRow): WebhookDelivery => ({
  id: d.id,
  eventId: d.event_id,
  eventType: d.event_type as WebhookDelivery['eventType'],
  status: d.status,
  attempts: d.attempts,
  responseCode: d.response_code,
  latencyMs: d.latency_ms,
  error: d.error,
  nextAttemptAt: d.status === 'pending' ? iso(d.next_attempt_at) : null,
  createdAt: d.created_at.toISOString(),
  deliveredAt: iso(d.delivered_at),
});

/** The URL as outbound/ will accept it at delivery time; a refusal is a 400 on `/url`. */
function checkedUrl(deps: WebhookDeps, url: string): string {
  try {
    return deps.outbound.check(url).toString();
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    throw new DomainError('invalid_input', 'The endpoint URL is not allowed.', {
      errors: [{ path: '/url', message: err.message, code: `url_${err.code}` }],
    });
  }
}

/** Only the host goes into the audit log: a URL's path or query may carry the receiver's own token. */
const host = (url: string) => new URL(url).host;

async function endpointOr404(tx: Tx, id: string, lock = false): Promise<store.EndpointRow> {
  const e = await store.getEndpoint(tx, id, lock);
  if (!e) throw new DomainError('not_found', 'No such webhook endpoint.');
  return e;
}

export async function createEndpoint(
  deps: WebhookDeps,
  ctx: Ctx,
  body: CreateWebhookEndpointRequest,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = checkedUrl(deps, body.url);
  const secret = newWebhookSecret();
  const id = randomUUID();
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const sealed = await deps.keyring.seal(tx, ctx.tenantId, secret, WEBHOOK_SECRET.context({ id }));
    const row = await store.insertEndpoint(tx, {
      tenantId: ctx.tenantId,
      id,
      url,
      description: body.description || null,
      events: [...new Set(body.events)],
      secretSealed: sealed,
    });
    await deps.audit.append(tx, {
      ...who(ctx),
      action: 'webhook.endpoint_create',
      target: { type: 'webhook_endpoint', id },
      metadata: { host: host(url), events: row.events },
    });
    return { endpoint: endpointView(row), secret };
  });
}

export async function listEndpoints(deps: WebhookDeps, ctx: Ctx): Promise<WebhookEndpoint[]> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => (await store.listEndpoints(tx)).map(endpointView));
}

export async function getEndpoint(deps: WebhookDeps, ctx: Ctx, id: string): Promise<WebhookEndpoint> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => endpointView(await endpointOr404(tx, id)));
}

export async function updateEndpoint(deps: WebhookDeps, ctx: Ctx, id: string, body: UpdateWebhookEndpointRequest): Promise<WebhookEndpoint> {
  const url = body.url === undefined ? undefined : checkedUrl(deps, body.url);
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const before = await endpointOr404(tx, id, true);
    const enabled = body.enabled ?? before.enabled;
    const reenabled = enabled && !before.enabled;
    const row = await store.updateEndpoint(tx, id, {
      url: url ?? before.url,
      description: body.description === undefined ? before.description : body.description || null,
      events: body.events ? [...new Set(body.events)] : before.events,
      enabled,
      disabledReason: enabled ? null : (before.disabled_reason ?? 'Disabled by an admin.'),
      // Re-enabled: the failing streak starts over.
      failingSince: reenabled ? null : before.failing_since,
    });
    const changed = Object.keys(body).filter((k) => (body as Record<string, unknown>)[k] !== undefined);
    await deps.audit.append(tx, {
      ...who(ctx),
      action: 'webhook.endpoint_update',
      target: { type: 'webhook_endpoint', id },
      metadata: { changed, host: host(row.url), enabled },
    });
    return endpointView(row);
  });
}

export async function deleteEndpoint(deps: WebhookDeps, ctx: Ctx, id: string): Promise<void> {
  await deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    if (!(await store.deleteEndpoint(tx, id))) throw new DomainError('not_found', 'No such webhook endpoint.');
    await deps.audit.append(tx, { ...who(ctx), action: 'webhook.endpoint_delete', target: { type: 'webhook_endpoint', id } });
  });
}

/** A new secret, shown once; the current one keeps signing (alongside) for `graceSeconds`. */
export async function rotateSecret(
  deps: WebhookDeps,
  ctx: Ctx,
  id: string,
  graceSeconds: number,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const secret = newWebhookSecret();
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const before = await endpointOr404(tx, id, true);
    const current = await deps.keyring.seal(tx, ctx.tenantId, secret, WEBHOOK_SECRET.context({ id }));
    let previous: Buffer | null = null;
    if (graceSeconds > 0) {
      const old = await deps.keyring.open(tx, ctx.tenantId, before.secret_sealed, WEBHOOK_SECRET.context({ id }));
      previous = await deps.keyring.seal(tx, ctx.tenantId, old, WEBHOOK_PREVIOUS_SECRET.context({ id }));
    }
    const until = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
    const row = await store.setSecrets(tx, id, current, previous, until);
    await deps.audit.append(tx, {
      ...who(ctx),
      action: 'webhook.secret_rotate',
      target: { type: 'webhook_endpoint', id },
      metadata: { graceSeconds },
    });
    return { endpoint: endpointView(row), secret };
  });
}

export async function sendTest(deps: WebhookDeps, ctx: Ctx, id: string): Promise<{ eventId: string }> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await endpointOr404(tx, id);
    const eventId = await enqueueTestEvent(tx, ctx.tenantId, id);
    if (!eventId) throw new DomainError('conflict', 'The endpoint is disabled: enable it first.');
    await deps.audit.append(tx, { ...who(ctx), action: 'webhook.test', target: { type: 'webhook_endpoint', id }, metadata: { eventId } });
    return { eventId };
  });
}

export async function replay(deps: WebhookDeps, ctx: Ctx, id: string, body: ReplayWebhookRequest): Promise<number> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const endpoint = await endpointOr404(tx, id);
    if (!endpoint.enabled) throw new DomainError('conflict', 'The endpoint is disabled: enable it first.');
    const replayed = await store.replay(tx, id, 'deliveryId' in body ? { deliveryId: body.deliveryId } : { since: new Date(body.since) });
    if ('deliveryId' in body && !replayed && !(await store.getDelivery(tx, id, body.deliveryId)))
      throw new DomainError('not_found', 'No such delivery.');
    await deps.audit.append(tx, { ...who(ctx), action: 'webhook.replay', target: { type: 'webhook_endpoint', id }, metadata: { ...body, replayed } });
    if (replayed) wakeAfterCommit(tx);
    return replayed;
  });
}

export async function listDeliveries(
  deps: WebhookDeps,
  ctx: Ctx,
  id: string,
  q: { status?: WebhookDelivery['status'] | undefined; before?: string | undefined; limit: number },
): Promise<{ deliveries: WebhookDelivery[]; next: string | null }> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    await endpointOr404(tx, id);
    const rows = await store.listDeliveries(tx, id, q);
    return { deliveries: rows.map(deliveryView), next: rows.length === q.limit ? rows[rows.length - 1]!.id : null };
  });
}

/** One delivery with its body (while kept) and every attempt. */
export async function getDelivery(deps: WebhookDeps, ctx: Ctx, id: string, deliveryId: string): Promise<WebhookDelivery> {
  return deps.db.withTenant(ctx.tenantId, ctx, async (tx) => {
    const d = await store.getDelivery(tx, id, deliveryId);
    if (!d) throw new DomainError('not_found', 'No such delivery.');
    const attempts = await store.listAttempts(tx, deliveryId);
    return {
      ...deliveryView(d),
      payload: JSON.parse(d.body),
      attemptLog: attempts.map((a) => ({ at: a.at.toISOString(), responseCode: a.response_code, latencyMs: a.latency_ms, error: a.error })),
    };
  });
}
