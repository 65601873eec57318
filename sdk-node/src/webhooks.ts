// Standard Webhooks verification: `webhook-id`, `webhook-timestamp`, `webhook-signature` headers,
// `v1,<base64>` HMAC-SHA256 over `id.timestamp.body` with the `whsec_` secret, compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a webhook was refused. */
export type WebhookFailure =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_secret'
  | 'invalid_json';

/** Thrown by {@link verifyWebhook}; `reason` says which check failed. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly reason: WebhookFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Incoming headers, as a fetch `Headers` or a Node `IncomingHttpHeaders`-like record. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(' ') : v;
  }
  return undefined;
}

function secretBytes(secret: string): Buffer {
  const raw = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  const key = Buffer.from(raw, 'base64');
  if (!raw || key.length < 16 || key.toString('base64').replace(/=+$/, '') !== raw.replace(/=+$/, '')) {
    throw new WebhookVerificationError('invalid_secret', 'the webhook secret is not a whsec_ base64 secret');
  }
  return key;
}

const bodyString = (body: string | Uint8Array) => (typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));

/**
 * Computes the `v1,<base64>` signature of a webhook. Useful to test your own endpoint.
 * @param secret - the `whsec_…` signing secret
 * @param id - the `webhook-id`
 * @param timestamp - the `webhook-timestamp`, seconds since the epoch
 * @param body - the raw body, exactly as sent
 */
export function signWebhook(secret: string, id: string, timestamp: number | string, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.`).update(bodyString(body)).digest('base64');
  return `v1,${mac}`;
}

/** Options for {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, either way, in seconds. Default 300. */
  toleranceSec?: number;
  /** The clock, in milliseconds; for tests. */
  now?: () => number;
}

/**
 * Verifies a Parley webhook and returns its parsed JSON payload.
 * Pass the raw body (not a re-serialised object) and every active secret while rotating.
 * @throws {@link WebhookVerificationError} when any check fails
 */
export function verifyWebhook(rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string | readonly string[], opts: VerifyWebhookOptions = {}): unknown {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !ts || !sigs) throw new WebhookVerificationError('missing_header', 'webhook-id, webhook-timestamp and webhook-signature are required');
  if (!/^\d{1,12}$/.test(ts)) throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not a number of seconds');
  const tolerance = opts.toleranceSec ?? 300;
  const now = Math.floor((opts.now?.() ?? Date.now()) / 1000);
  const timestamp = Number(ts);
  if (timestamp < now - tolerance) throw new WebhookVerificationError('timestamp_too_old', 'the webhook is older than the tolerance');
  if (timestamp > now + tolerance) throw new WebhookVerificationError('timestamp_too_new', 'the webhook timestamp is in the future');
  const body = bodyString(rawBody);
  const expected = (Array.isArray(secret) ? secret : [secret as string]).map((s) =>
    Buffer.from(signWebhook(s, id, ts, body).slice(3), 'base64'),
  );
  const matched = sigs.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return expected.some((e) => e.length === given.length && timingSafeEqual(e, given));
  });
  if (!matched) throw new WebhookVerificationError('no_matching_signature', 'no signature matches');
  try {
    return JSON.parse(body);
  } catch {
    throw new WebhookVerificationError('invalid_json', 'the body is not JSON');
  }
}
