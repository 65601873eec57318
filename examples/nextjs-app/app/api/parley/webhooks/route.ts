// Parley's webhooks, verified against the raw request body (Standard Webhooks). The body is read as
// bytes: parsed and re-serialised JSON is not the byte string that was signed.
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from '@parley/node';
import { WEBHOOK_SECRETS } from '../../../../lib/parley';

// Event ids already handled. A real app keeps them in its database (for a few days: Parley retries for
// about three); memory is enough for an example.
const handled = new Set<string>();
function seen(id: string): boolean {
  if (handled.has(id)) return true;
  handled.add(id);
  if (handled.size > 10_000) handled.delete(handled.values().next().value!);
  return false;
}

export async function POST(req: Request): Promise<Response> {
  if (!WEBHOOK_SECRETS.length) return Response.json({ error: 'PARLEY_WEBHOOK_SECRET is not set' }, { status: 503 });
  const body = new Uint8Array(await req.arrayBuffer());
  let event: WebhookEvent;
  try {
    event = verifyWebhook(body, req.headers, WEBHOOK_SECRETS) as WebhookEvent;
  } catch (err) {
    // A problem document (RFC 7807) whose reason (a missing header, an old timestamp, no matching
    // signature) is safe to return.
    if (err instanceof WebhookVerificationError)
      return Response.json(
        { type: 'about:blank', title: 'Webhook not verified', status: 401, reason: err.reason },
        { status: 401, headers: { 'content-type': 'application/problem+json' } },
      );
    throw err;
  }
  // Delivery is at least once: a retry carries the same id. Answer it, but act once.
  if (seen(event.id)) return new Response(null, { status: 204 });
  switch (event.type) {
    case 'handoff.requested':
      console.log(`handoff ${event.data.handoff.id} waiting for a person (${event.data.handoff.reason ?? 'no reason'})`);
      break;
    case 'handoff.resolved':
      console.log(`handoff ${event.data.handoff.id} resolved`);
      break;
    case 'webhook.test':
      console.log('test event received: the endpoint works');
      break;
    default:
      console.log(`parley event ${event.type}`);
  }
  // Answer quickly (Parley waits 10 s); slow work belongs after the answer, or in a queue.
  return new Response(null, { status: 204 });
}
