// SQL for webhooks: endpoints, the outbox (events and their deliveries), attempts, and the claims the
// delivery worker takes. Tenant-scoped statements run in the tenant's transaction (RLS); claims run as
// the platform role across tenants and touch only delivery metadata.
import { forgetInTx } from '../db/tx-memo.js';
import type { Tx } from '../db/types.js';

export interface EndpointRow {
  tenant_id: string;
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  secret_sealed: Uint8Array;
  previous_secret_sealed: Uint8Array | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: Date | null;
  response_code: number | null;
  latency_ms: number | null;
  error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

export interface AttemptRow {
  n: number;
  at: Date;
  response_code: number | null;
  latency_ms: number;
  error: string | null;
}

const ENDPOINT = `tenant_id, id, url, description, events, enabled, disabled_reason, secret_sealed, previous_secret_sealed,
  previous_secret_expires_at, failing_since, created_at, updated_at`;
const DELIVERY = `d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.status, d.attempts, d.next_attempt_at, d.response_code,
  d.latency_ms, d.error, d.created_at, d.delivered_at`;

/** The tenant's subscriptions as read in a transaction (outbox.ts): forgotten there by every write of them. */
export const SUBSCRIPTIONS = 'webhook-subscriptions';

/** The event types the tenant's enabled endpoints subscribe to. */
export async function subscribedTypes(tx: Tx, tenantId: string): Promise<Set<string>> {
  const { rows } = await tx.query<{ type: string }>(
    'SELECT DISTINCT unnest(events) AS type FROM webhook_endpoints WHERE tenant_id = $1 AND enabled',
    [tenantId],
  );
  return new Set(rows.map((r) => r.type));
}

export async function insertEndpoint(
  tx: Tx,
  e: { tenantId: string; id: string; url: string; description: string | null; events: string[]; secretSealed: Buffer },
): Promise<EndpointRow> {
  forgetInTx(tx, SUBSCRIPTIONS);
  const { rows } = await tx.query<EndpointRow>(
    `INSERT INTO webhook_endpoints (tenant_id, id, url, description, events, secret_sealed) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ENDPOINT}`,
    [e.tenantId, e.id, e.url, e.description, e.events, e.secretSealed],
  );
  return rows[0]!;
}

export async function listEndpoints(tx: Tx): Promise<EndpointRow[]> {
  return (await tx.query<EndpointRow>(`SELECT ${ENDPOINT} FROM webhook_endpoints ORDER BY created_at, id`)).rows;
}

export async function getEndpoint(tx: Tx, id: string, lock = false): Promise<EndpointRow | null> {
  const { rows } = await tx.query<EndpointRow>(`SELECT ${ENDPOINT} FROM webhook_endpoints WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

export async function updateEndpoint(
  tx: Tx,
  id: string,
  e: { url: string; description: string | null; events: string[]; enabled: boolean; disabledReason: string | null; failingSince: Date | null },
): Promise<EndpointRow> {
  forgetInTx(tx, SUBSCRIPTIONS);
  const { rows } = await tx.query<EndpointRow>(
    `UPDATE webhook_endpoints SET url = $2, description = $3, events = $4, enabled = $5, disabled_reason = $6, failing_since = $7, updated_at = now()
      WHERE id = $1 RETURNING ${ENDPOINT}`,
    [id, e.url, e.description, e.events, e.enabled, e.disabledReason, e.failingSince],
  );
  return rows[0]!;
}

export async function setSecrets(tx: Tx, id: string, current: Buffer, previous: Buffer | null, previousUntil: Date | null): Promise<EndpointRow> {
  const { rows } = await tx.query<EndpointRow>(
    `UPDATE webhook_endpoints SET secret_sealed = $2, previous_secret_sealed = $3, previous_secret_expires_at = $4, updated_at = now()
      WHERE id = $1 RETURNING ${ENDPOINT}`,
    [id, current, previous, previousUntil],
  );
  return rows[0]!;
}

export async function deleteEndpoint(tx: Tx, id: string): Promise<boolean> {
  forgetInTx(tx, SUBSCRIPTIONS);
  return (await tx.query('DELETE FROM webhook_endpoints WHERE id = $1', [id])).rowCount === 1;
}

/**
 * The outbox, in the caller's transaction and one statement: the event and one due delivery per enabled
 * endpoint of the tenant subscribed to `type` (or just `only`, for a test event), nothing when none is.
 * The tenant is named, not left to RLS: platform transactions (tenant creation, the CLI) raise events
 * too. Returns how many deliveries were written.
 */
export async function insertEvent(
  tx: Tx,
  e: { tenantId: string; id: string; type: string; body: string; conversationId: string | null; only: string | null },
): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `WITH ep AS (SELECT id FROM webhook_endpoints
                  WHERE tenant_id = $1 AND enabled AND CASE WHEN $6::uuid IS NULL THEN $3 = ANY (events) ELSE id = $6 END),
          ev AS (INSERT INTO webhook_events (tenant_id, id, type, body, conversation_id)
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM ep) RETURNING id),
          d AS (INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, next_attempt_at)
                SELECT $1, gen_random_uuid(), ep.id, ev.id, now() FROM ep, ev RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [e.tenantId, e.id, e.type, e.body, e.conversationId, e.only],
  );
  return rows[0]!.n;
}

/** A message's time in its `message.created` JSON as built before it is stored (events.ts), for MESSAGE_CREATED_CTES to fill. */
export const UNSTORED_TIME = new Date(0).toISOString();

/**
 * A message's `message.created` event as CTEs of the statement that stores the message (conversations/
 * store.ts), whose $2 is the tenant and $3 the conversation, and whose CTE `source` has the stored row when
 * it stored one: the event and one due delivery per enabled endpoint that wants it, else nothing, and
 * nothing built. `message` is the message's JSON (text, null for none) with UNSTORED_TIME for its time (the
 * quotes of its own text are escaped: only its key matches); `at` is SQL of the stored time as ISO 8601
 * text, which the event and the message get. The body is the one
 * outbox.ts writes of any event, byte for byte in form: compact, its keys in the same order; the id is as
 * unguessable (122 random bits). `outbox_deliveries` has a row per delivery.
 */
export const MESSAGE_CREATED_CTES = (p: { source: string; message: string; at: string }) =>
  `outbox_endpoints AS (SELECT id FROM webhook_endpoints
                         WHERE tenant_id = $2 AND enabled AND ${p.message}::text IS NOT NULL AND 'message.created' = ANY (events)),
        outbox_event AS (INSERT INTO webhook_events (tenant_id, id, type, body, conversation_id)
                         SELECT $2, ev.id, 'message.created',
                                '{"id":"' || ev.id || '","type":"message.created","createdAt":"' || ev.at || '","tenantId":"' || $2::text
                                  || '","data":{"conversationId":"' || $3::text || '","message":'
                                  || replace(${p.message}::text, '"createdAt":"${UNSTORED_TIME}"', '"createdAt":"' || ev.at || '"') || '}}',
                                $3
                           FROM (SELECT 'msg_' || translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/=', '-_') AS id, ${p.at} AS at
                                   FROM ${p.source}) ev
                          WHERE EXISTS (SELECT 1 FROM outbox_endpoints) RETURNING id),
        outbox_deliveries AS (INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, next_attempt_at)
                              SELECT $2, gen_random_uuid(), outbox_endpoints.id, outbox_event.id, now() FROM outbox_endpoints, outbox_event RETURNING 1)`;

export async function listDeliveries(
  tx: Tx,
  endpointId: string,
  q: { status?: string | undefined; before?: string | undefined; limit: number },
): Promise<DeliveryRow[]> {
  const params: unknown[] = [endpointId, q.limit];
  let where = 'd.endpoint_id = $1';
  if (q.status) where += ` AND d.status = $${params.push(q.status)}`;
  if (q.before) {
    where += ` AND (d.created_at, d.id) < (SELECT created_at, id FROM webhook_deliveries WHERE id = $${params.push(q.before)})`;
  }
  const { rows } = await tx.query<DeliveryRow>(
    `SELECT ${DELIVERY} FROM webhook_deliveries d JOIN webhook_events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
      WHERE ${where} ORDER BY d.created_at DESC, d.id DESC LIMIT $2`,
    params,
  );
  return rows;
}

export async function getDelivery(tx: Tx, endpointId: string, id: string): Promise<(DeliveryRow & { body: string }) | null> {
  const { rows } = await tx.query<DeliveryRow & { body: string }>(
    `SELECT ${DELIVERY}, e.body FROM webhook_deliveries d JOIN webhook_events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
      WHERE d.endpoint_id = $1 AND d.id = $2`,
    [endpointId, id],
  );
  return rows[0] ?? null;
}

export async function listAttempts(tx: Tx, deliveryId: string): Promise<AttemptRow[]> {
  return (
    await tx.query<AttemptRow>('SELECT n, at, response_code, latency_ms, error FROM webhook_attempts WHERE delivery_id = $1 ORDER BY n', [deliveryId])
  ).rows;
}

/** Makes deliveries of this endpoint due again now (a replay): same event, same webhook-id. */
export async function replay(tx: Tx, endpointId: string, by: { deliveryId: string } | { since: Date }): Promise<number> {
  const { rowCount } =
    'deliveryId' in by
      ? await tx.query(
          // Done or failed, it goes again; pending, it goes now instead of at its next retry, unless a
          // worker holds it this moment (that attempt is under way).
          `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), holder = NULL, lease_until = NULL
            WHERE endpoint_id = $1 AND id = $2
              AND (status <> 'pending' OR (next_attempt_at > now() AND (lease_until IS NULL OR lease_until < clock_timestamp())))`,
          [endpointId, by.deliveryId],
        )
      : await tx.query(
          `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), holder = NULL, lease_until = NULL
            WHERE endpoint_id = $1 AND status = 'failed' AND created_at >= $2`,
          [endpointId, by.since],
        );
  return rowCount;
}

// ---- The worker ---------------------------------------------------------------------------------

/** Claims up to `limit` due deliveries (any tenant) for `holder`; SKIP LOCKED keeps instances apart. */
export async function claimDue(
  tx: Tx,
  holder: string,
  leaseSeconds: number,
  now: Date,
  limit: number,
): Promise<{ tenant_id: string; id: string; endpoint_id: string }[]> {
  const { rows } = await tx.query<{ tenant_id: string; id: string; endpoint_id: string }>(
    `UPDATE webhook_deliveries d SET holder = $1, lease_until = clock_timestamp() + make_interval(secs => $2)
      FROM (SELECT tenant_id, id FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < clock_timestamp())
             ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) due
     WHERE d.tenant_id = due.tenant_id AND d.id = due.id
     RETURNING d.tenant_id, d.id, d.endpoint_id`,
    [holder, leaseSeconds, now, limit],
  );
  return rows;
}

/** The embedded database serves one process: any lease found when it opens was held by a process that died. */
export async function releaseAllLeases(tx: Tx): Promise<number> {
  return (await tx.query("UPDATE webhook_deliveries SET holder = NULL, lease_until = NULL WHERE status = 'pending' AND holder IS NOT NULL")).rowCount;
}

export interface Work {
  id: string;
  attempts: number;
  event_id: string;
  body: string;
  endpoint: EndpointRow;
}

/** What the attempts need, for the deliveries this holder still holds (of the tenant in `tx`). */
export async function workFor(tx: Tx, ids: string[], holder: string): Promise<Work[]> {
  const { rows } = await tx.query<{ id: string; attempts: number; event_id: string; body: string; endpoint_id: string }>(
    `SELECT d.id, d.attempts, d.event_id, e.body, d.endpoint_id FROM webhook_deliveries d
       JOIN webhook_events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
      WHERE d.id = ANY ($1::uuid[]) AND d.holder = $2 AND d.status = 'pending'`,
    [ids, holder],
  );
  const endpoints = new Map(
    (
      await tx.query<EndpointRow>(`SELECT ${ENDPOINT} FROM webhook_endpoints WHERE id = ANY ($1::uuid[])`, [
        [...new Set(rows.map((r) => r.endpoint_id))],
      ])
    ).rows.map((e) => [e.id, e]),
  );
  return rows.flatMap((r) => {
    const endpoint = endpoints.get(r.endpoint_id);
    return endpoint ? [{ id: r.id, attempts: r.attempts, event_id: r.event_id, body: r.body, endpoint }] : [];
  });
}

export interface Outcome {
  at: Date;
  responseCode: number | null;
  latencyMs: number;
  error: string | null;
  /** succeeded, failed (given up), or pending again at nextAttemptAt. */
  status: 'pending' | 'succeeded' | 'failed';
  nextAttemptAt: Date | null;
}

/** Records an attempt if this holder still holds the delivery; false when it was lost. */
export async function recordAttempt(tx: Tx, tenantId: string, id: string, holder: string, o: Outcome): Promise<boolean> {
  const { rows } = await tx.query<{ attempts: number }>(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $3, next_attempt_at = $4, response_code = $5, latency_ms = $6, error = $7,
            delivered_at = CASE WHEN $3 = 'succeeded' THEN $8::timestamptz ELSE delivered_at END, holder = NULL, lease_until = NULL
      WHERE id = $1 AND holder = $2 RETURNING attempts`,
    [id, holder, o.status, o.nextAttemptAt, o.responseCode, o.latencyMs, o.error, o.at],
  );
  if (!rows[0]) return false;
  await tx.query(
    'INSERT INTO webhook_attempts (tenant_id, delivery_id, n, at, response_code, latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [tenantId, id, rows[0].attempts, o.at, o.responseCode, o.latencyMs, o.error?.slice(0, 500) ?? null],
  );
  return true;
}

/** A success ends the endpoint's failing streak; a failure starts one (or continues it). Returns the streak's start. */
export async function markEndpointHealth(tx: Tx, endpointId: string, ok: boolean, at: Date): Promise<Date | null> {
  const { rows } = await tx.query<{ failing_since: Date | null }>(
    ok
      ? 'UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL AND $2::timestamptz IS NOT NULL RETURNING failing_since'
      : 'UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1 RETURNING failing_since',
    [endpointId, at],
  );
  return rows[0]?.failing_since ?? null;
}

/**
 * An unanswering endpoint's deliveries not yet tried wait until `until` instead of each taking a worker
 * slot for the full timeout (one tenant's dead endpoint must not hold every slot); returns how many.
 */
export async function holdBack(tx: Tx, endpointId: string, until: Date): Promise<number> {
  return (
    await tx.query(
      "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE endpoint_id = $1 AND status = 'pending' AND attempts = 0 AND holder IS NULL AND next_attempt_at < $2",
      [endpointId, until],
    )
  ).rowCount;
}

/** The endpoint answers again: what was held back goes now. */
export async function release(tx: Tx, endpointId: string, at: Date): Promise<number> {
  return (
    await tx.query(
      "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE endpoint_id = $1 AND status = 'pending' AND attempts = 0 AND next_attempt_at > $2",
      [endpointId, at],
    )
  ).rowCount;
}

/** Disables an endpoint (it failed for too long); true when this call did it. */
export async function disableEndpoint(tx: Tx, endpointId: string, reason: string): Promise<boolean> {
  forgetInTx(tx, SUBSCRIPTIONS);
  return (
    (
      await tx.query('UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled', [
        endpointId,
        reason,
      ])
    ).rowCount === 1
  );
}

/** Stops the pending deliveries of a disabled endpoint: replay them once it works again. */
export async function failPending(tx: Tx, endpointId: string, error: string): Promise<number> {
  return (
    await tx.query(
      "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, error = $2 WHERE endpoint_id = $1 AND status = 'pending'",
      [endpointId, error],
    )
  ).rowCount;
}

export async function ownerEmails(tx: Tx): Promise<string[]> {
  return (await tx.query<{ email: string }>("SELECT email FROM members WHERE role = 'owner' AND status = 'active' ORDER BY created_at")).rows.map(
    (r) => r.email,
  );
}

/** A member's display name, for an assignee in an event. */
export async function memberName(tx: Tx, id: string): Promise<{ displayName?: string }> {
  const { rows } = await tx.query<{ display_name: string }>('SELECT display_name FROM members WHERE id = $1', [id]);
  return rows[0] ? { displayName: rows[0].display_name } : {};
}
