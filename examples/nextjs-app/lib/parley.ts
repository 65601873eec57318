// Server-only configuration and helpers: the signing key and webhook secrets are read here, on the
// server, and never reach a client component. Only the signed token does.
import { createPrivateKey } from 'node:crypto';
import { signUserSession, type SessionSigningOptions } from '@parley/node';

/** Where Parley runs: the widget's script and its API. */
export const PARLEY_URL = process.env.PARLEY_URL ?? 'http://127.0.0.1:8787';
export const PUBLISHABLE_KEY = process.env.PARLEY_PUBLISHABLE_KEY ?? '';
// While rotating, list both secrets, comma-separated: a delivery verifies with either.
export const WEBHOOK_SECRETS = (process.env.PARLEY_WEBHOOK_SECRET ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

// Sign-In Pro: prefer your own key pair (only the public key is registered with Parley); a shared
// `idsec_…` secret from the console works too. Tokens name the tenant they are for (PARLEY_TENANT_ID, shown
// on the console's Sign-In Pro page): required with a key pair, whose public key another tenant (your
// staging, say) may register too; with a secret, which belongs to one tenant already, named when set.
const TENANT_ID = process.env.PARLEY_TENANT_ID?.trim() || undefined;
if (process.env.PARLEY_SESSION_PRIVATE_KEY && !TENANT_ID) throw new Error('PARLEY_SESSION_PRIVATE_KEY needs PARLEY_TENANT_ID');
const signing: SessionSigningOptions | null = process.env.PARLEY_SESSION_PRIVATE_KEY
  ? {
      privateKey: createPrivateKey(process.env.PARLEY_SESSION_PRIVATE_KEY),
      tenant: TENANT_ID!,
      ...(process.env.PARLEY_SESSION_KID ? { kid: process.env.PARLEY_SESSION_KID } : {}),
    }
  : process.env.PARLEY_IDENTITY_SECRET
    ? { secret: process.env.PARLEY_IDENTITY_SECRET, ...(TENANT_ID ? { tenant: TENANT_ID } : {}) }
    : null;

export interface User {
  id: string;
  email: string;
  name: string;
  plan: string;
}

/** Stand-in for your real authentication (read your session cookie here): every visitor is the same customer. */
export async function currentUser(): Promise<User> {
  return { id: 'cus_1042', email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro' };
}

/** A Sign-In Pro token for the user, or null when no key or secret is configured. Each token is accepted once. */
export async function signSession(user: User): Promise<string | null> {
  if (!signing) return null;
  return signUserSession({ id: user.id, email: user.email, name: user.name, traits: { plan: user.plan } }, { ...signing, expiresIn: '5m' });
}
