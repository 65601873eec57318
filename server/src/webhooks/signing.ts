// Standard Webhooks signing: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the bytes of a
// `whsec_<base64>` secret. Receivers verify with @parley/node's verifyWebhook or any Standard Webhooks library.
import { createHmac, randomBytes } from 'node:crypto';

/** A new signing secret: 24 random bytes, as Svix issues them. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/** One `v1,…` signature entry. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The `webhook-signature` header: one entry per active secret (two during a rotation's grace period). */
export const signatureHeader = (secrets: readonly string[], id: string, timestamp: number, body: string): string =>
  secrets.map((s) => signWebhook(s, id, timestamp, body)).join(' ');
