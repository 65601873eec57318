// A host application with logged-in users: its pages embed the Parley widget, its backend signs the
// user's session for Sign-In Pro, and it receives Parley's webhooks.
import { createPrivateKey, randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { signUserSession, verifyWebhook, WebhookVerificationError, type WebhookEvent } from '@parley/node';

const PORT = Number(process.env.PORT ?? 3000);
/** Where Parley runs: the widget's script and its API. */
const PARLEY_URL = process.env.PARLEY_URL ?? 'http://127.0.0.1:8787';
const PUBLISHABLE_KEY = process.env.PARLEY_PUBLISHABLE_KEY ?? '';
// While rotating, list both secrets, comma-separated: a delivery verifies with either.
const WEBHOOK_SECRETS = (process.env.PARLEY_WEBHOOK_SECRET ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

// Sign-In Pro: prefer your own key pair (only the public key is registered with Parley); a shared
// `idsec_…` secret from the console works too. Tokens name the tenant they are for (PARLEY_TENANT_ID, shown
// on the console's Sign-In Pro page): required with a key pair, whose public key another tenant (your
// staging, say) may register too; with a secret, which belongs to one tenant already, named when set.
const TENANT_ID = process.env.PARLEY_TENANT_ID?.trim() || undefined;
if (process.env.PARLEY_SESSION_PRIVATE_KEY && !TENANT_ID) throw new Error('PARLEY_SESSION_PRIVATE_KEY needs PARLEY_TENANT_ID');
const signing = process.env.PARLEY_SESSION_PRIVATE_KEY
  ? {
      privateKey: createPrivateKey(process.env.PARLEY_SESSION_PRIVATE_KEY),
      tenant: TENANT_ID!,
      ...(process.env.PARLEY_SESSION_KID ? { kid: process.env.PARLEY_SESSION_KID } : {}),
    }
  : process.env.PARLEY_IDENTITY_SECRET
    ? { secret: process.env.PARLEY_IDENTITY_SECRET, ...(TENANT_ID ? { tenant: TENANT_ID } : {}) }
    : null;

interface User {
  id: string;
  email: string;
  name: string;
  plan: string;
}

// Stand-in for your real authentication: every request is the same logged-in customer.
function requireLogin(_req: Request, res: Response, next: NextFunction): void {
  res.locals.user = { id: 'cus_1042', email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro' } satisfies User;
  next();
}

// Event ids already handled. A real app keeps them in its database (for a few days: Parley retries for
// about three); memory is enough for an example.
const handled = new Set<string>();
function seen(id: string): boolean {
  if (handled.has(id)) return true;
  handled.add(id);
  if (handled.size > 10_000) handled.delete(handled.values().next().value!);
  return false;
}

const app = express();
app.disable('x-powered-by');

// The webhook route reads the raw bytes: the signature covers them exactly, so it must run before any
// JSON parser touches the body.
app.post('/parley/webhooks', express.raw({ type: 'application/json', limit: '1mb' }), (req, res) => {
  if (!WEBHOOK_SECRETS.length) return void res.status(503).json({ error: 'PARLEY_WEBHOOK_SECRET is not set' });
  let event: WebhookEvent;
  try {
    event = verifyWebhook(req.body as Buffer, req.headers, WEBHOOK_SECRETS) as WebhookEvent;
  } catch (err) {
    // A problem document (RFC 7807) whose reason (a missing header, an old timestamp, no matching
    // signature) is safe to return.
    if (err instanceof WebhookVerificationError)
      return void res
        .status(401)
        .type('application/problem+json')
        .json({ type: 'about:blank', title: 'Webhook not verified', status: 401, reason: err.reason });
    throw err;
  }
  // Delivery is at least once: a retry carries the same id. Answer it, but act once.
  if (seen(event.id)) return void res.sendStatus(204);
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
  res.sendStatus(204);
});

// The widget asks for a fresh token whenever it needs one (each token is accepted once).
app.post('/parley/session', requireLogin, async (req, res) => {
  // A same-origin fetch only: another site must not obtain tokens with this user's cookies.
  if (req.get('sec-fetch-site') && req.get('sec-fetch-site') !== 'same-origin') return void res.sendStatus(403);
  if (!signing) return void res.status(503).json({ error: 'set PARLEY_SESSION_PRIVATE_KEY or PARLEY_IDENTITY_SECRET' });
  const user = res.locals.user as User;
  const token = await signUserSession(
    { id: user.id, email: user.email, name: user.name, traits: { plan: user.plan } },
    { ...signing, expiresIn: '5m' },
  );
  res.set('Cache-Control', 'no-store').json({ token });
});

app.use(express.static(new URL('../public/', import.meta.url).pathname, { index: false }));

app.get('/', requireLogin, (_req, res) => {
  const nonce = randomBytes(16).toString('base64');
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res.set(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'self' ${PARLEY_URL} 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'; connect-src 'self' ${PARLEY_URL}; base-uri 'none'; frame-ancestors 'none'`,
  );
  res.type('html').send(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Your account</title><link rel="stylesheet" href="/app.css"></head>
<body>
  <h1>Welcome back, ${esc((res.locals.user as User).name)}</h1>
  <p>Ask the assistant in the corner: support sees you as a verified customer.</p>
  <script src="/identify.js" nonce="${nonce}"></script>
  <script src="${esc(PARLEY_URL)}/loader.js" data-key="${esc(PUBLISHABLE_KEY)}" async nonce="${nonce}"></script>
</body>
</html>`);
});

app.listen(PORT, () => console.log(`example host on http://localhost:${PORT}`));
