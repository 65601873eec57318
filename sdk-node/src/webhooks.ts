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

/** Thrown by {@link verifyWebhook}; `reason` says which check failed. Answer such requests with 400 or 401. */
export class WebhookVerificationError extends Error {
  /** Always `'WebhookVerificationError'`. */
  override readonly name = 'WebhookVerificationError';
  /** Which check failed. Safe to log and to return to the sender. */
  readonly reason: WebhookFailure;
  /**
   * @param reason - which check failed
   * @param message - a human-readable explanation
   */
  constructor(reason: WebhookFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Incoming headers: a fetch `Headers`, or a record such as Node's `IncomingHttpHeaders`. Names are matched case-insensitively. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(' ') : v;
  }
  return undefined;
}

function secretBytes(secret: string): Buffer {
  const raw = typeof secret === 'string' ? (secret.startsWith('whsec_') ? secret.slice(6) : secret) : '';
  const key = Buffer.from(raw, 'base64');
  // Buffer skips characters outside the alphabet, so only a round trip proves the secret was base64.
  if (key.length < 16 || key.toString('base64').replace(/=+$/, '') !== raw.replace(/=+$/, '')) {
    throw new WebhookVerificationError('invalid_secret', 'the webhook secret is not a whsec_ base64 secret');
  }
  return key;
}

function mac(key: Buffer, id: string, timestamp: number | string, body: string | Uint8Array): Buffer {
  // The raw bytes are signed: decoding them first would change any body that is not valid UTF-8.
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/**
 * Computes the `v1,<base64>` value of a `webhook-signature` header, to test your own endpoint.
 * @param secret - the `whsec_…` signing secret
 * @param id - the `webhook-id`
 * @param timestamp - the `webhook-timestamp`, seconds since the epoch
 * @param body - the raw body, exactly as sent
 * @returns the signature entry, e.g. `v1,g0hM9SsE…`
 * @throws {@link WebhookVerificationError} with reason `invalid_secret` when the secret is not base64
 */
export function signWebhook(secret: string, id: string, timestamp: number | string, body: string | Uint8Array): string {
  return `v1,${mac(secretBytes(secret), id, timestamp, body).toString('base64')}`;
}

/** Options for {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, either way, in seconds. Default 300. */
  toleranceSec?: number;
  /** The clock, in milliseconds since the epoch; for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * Verifies a Parley webhook per the Standard Webhooks specification and returns its parsed JSON payload.
 *
 * @remarks
 * Pass the raw body (a re-serialised object does not verify) and, while rotating, every active
 * secret. Signature entries of versions other than `v1` are ignored. Deduplicate on the
 * `webhook-id`: a retried delivery keeps its id.
 *
 * @param rawBody - the request body exactly as received
 * @param headers - the request headers
 * @param secret - the `whsec_…` secret, or several during rotation
 * @param opts - tolerance and clock
 * @returns the parsed JSON payload (parse it with the protocol's `WebhookEvent` schema for types)
 * @throws {@link WebhookVerificationError} when any check fails
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  opts: VerifyWebhookOptions = {},
): unknown {
  const secrets = (Array.isArray(secret) ? secret : [secret]) as readonly string[];
  if (!secrets.length) throw new WebhookVerificationError('invalid_secret', 'at least one webhook secret is required');
  const keys = secrets.map(secretBytes);
  const tolerance = opts.toleranceSec ?? 300;
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new TypeError('toleranceSec must be a non-negative number');

  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !ts || !sigs) throw new WebhookVerificationError('missing_header', 'webhook-id, webhook-timestamp and webhook-signature are required');
  if (!/^\d{1,12}$/.test(ts)) throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not a number of seconds');
  const now = Math.floor((opts.now ?? Date.now)() / 1000);
  const timestamp = Number(ts);
  if (timestamp < now - tolerance) throw new WebhookVerificationError('timestamp_too_old', 'the webhook is older than the tolerance');
  if (timestamp > now + tolerance) throw new WebhookVerificationError('timestamp_too_new', 'the webhook timestamp is too far in the future');

  const expected = keys.map((k) => mac(k, id, ts, rawBody));
  const matched = sigs.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    // Buffer stops at padding and skips stray characters; only a canonical encoding counts.
    if (given.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, '')) return false;
    // timingSafeEqual needs equal lengths; the length of an HMAC is public, so checking it first leaks nothing.
    return expected.some((e) => e.length === given.length && timingSafeEqual(e, given));
  });
  if (!matched) throw new WebhookVerificationError('no_matching_signature', 'no signature matches');
  try {
    return JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString('utf8'));
  } catch {
    throw new WebhookVerificationError('invalid_json', 'the body is not JSON');
  }
}
