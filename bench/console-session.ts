// Console sessions: what a person's request costs beside a key's, and what a password sign-in costs
// beside the argon2id hash it is built around. A session is checked against its row on every request
// (so revocation is immediate); this prints that price.
//   GET /v1/admin/me with a session cookie vs a secret key, beside /healthz (the HTTP ceiling of this run);
//   password sign-ins per second vs argon2id verifications per second (the hashing ceiling).
// Run: npx tsx --conditions=parley-source bench/console-session.ts   (SECONDS=5 CONCURRENCY=8)
import argon2 from 'argon2';
import { startTestApp, ConsoleClient, signedInMember, STRONG_PASSWORD } from '@parley/server/testing';

const SECONDS = Number(process.env.SECONDS ?? 5);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);

async function rate(label: string, once: () => Promise<unknown>, seconds = SECONDS): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await once();
        n++;
      }
    }),
  );
  const r = n / seconds;
  console.log(`${label.padEnd(44)} ${r.toFixed(1).padStart(9)} /s`);
  return r;
}

const app = await startTestApp({ PARLEY_TRUST_PROXY: 'true' });
try {
  const tenant = await app.tenant('Bench', ['bench.example']);
  const { client, email } = await signedInMember(app, tenant.tenant.id, 'admin');
  const ok = async (res: Response | { status: number }) => {
    if (res.status !== 200) throw new Error(`status ${res.status}`);
  };
  const healthz = await rate('GET /healthz (ceiling)', async () => ok(await fetch(`${app.url}/healthz`).then(async (r) => (await r.text(), r))));
  const key = await rate('GET /v1/admin/me, secret key', async () =>
    ok(await fetch(`${app.url}/v1/admin/me`, { headers: { authorization: `Bearer ${tenant.secretKey}` } }).then(async (r) => (await r.text(), r))),
  );
  const session = await rate('GET /v1/admin/me, console session cookie', async () => ok(await client.call('GET', '/v1/admin/me')));
  console.log(
    `session / key ${(session / key).toFixed(2)}   key / healthz ${(key / healthz).toFixed(2)}   session / healthz ${(session / healthz).toFixed(2)}`,
  );

  const hash = await argon2.hash(STRONG_PASSWORD, { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 });
  const verify = await rate('argon2id verify, OWASP parameters (ceiling)', () => argon2.verify(hash, STRONG_PASSWORD));
  // Each sign-in from its own address, so the throttle (which would rightly slow one address) stays out.
  let i = 0;
  const signIns = await rate('POST /v1/auth/password (full sign-in)', async () => {
    const c = new ConsoleClient(app.url, { origin: app.url, 'sec-fetch-site': 'same-origin', 'x-forwarded-for': `198.51.100.${i++ % 250}` });
    const res = await c.call('POST', '/v1/auth/password', { email, password: STRONG_PASSWORD });
    if (res.body?.status !== 'signed_in') throw new Error(`sign-in: ${res.status} ${res.text}`);
  });
  console.log(`sign-in / argon2id verify ${(signIns / verify).toFixed(2)}`);
} finally {
  await app.close();
}
