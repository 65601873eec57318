// A real OpenID Provider (oidc-provider) for browser tests, with a sign-in page a person fills in: the
// account is the email typed, if the test registered it. Authorization code + PKCE, RS256 ID tokens
// signed with a throwaway key.
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface TestOp {
  issuer: string;
  /** Accounts by email: the claims the OP releases for them. */
  accounts: Map<string, { email: string; email_verified: boolean; name: string; groups?: string[] }>;
  close(): Promise<void>;
}

const form = (req: IncomingMessage) =>
  new Promise<URLSearchParams>((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => resolve(new URLSearchParams(body)));
  });

export async function startTestOp(opts: {
  host: 'localhost' | '127.0.0.1';
  clients: { client_id: string; client_secret: string; redirect_uris: string[] }[];
}): Promise<TestOp> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://${opts.host}:${(server.address() as AddressInfo).port}`;
  const accounts: TestOp['accounts'] = new Map();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'test-op', alg: 'RS256', use: 'sig' }] },
    clients: opts.clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    cookies: { keys: ['test-op-cookie-key-0123456789abcdef'] },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, id: string) => {
      const a = accounts.get(id);
      return a && { accountId: id, claims: async () => ({ sub: id, ...a }) };
    },
  });
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(`<!doctype html><title>Test IdP</title><h1>Test IdP sign-in</h1>
          <form method="post"><label>Email <input name="email" type="email"></label><button>Sign in at the IdP</button></form>`);
        return;
      }
      const accountId = (await form(req)).get('email') ?? '';
      if (!accounts.has(accountId)) {
        res.statusCode = 403;
        res.end('unknown account');
        return;
      }
      const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  return {
    issuer,
    accounts,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * An issuer that answers OpenID discovery and nothing else, closed when the test finishes: an OIDC
 * connection is checked against its discovery document before it is saved or held for approval.
 */
export async function discoveryOnlyIssuer(): Promise<string> {
  const discovery = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` }));
  });
  await new Promise<void>((r) => discovery.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(discovery.address() as AddressInfo).port}`;
  onTestFinished(() => new Promise<void>((r) => discovery.close(() => r())));
  return issuer;
}
