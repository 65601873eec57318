// verifyWebhook operations per second beside the standardwebhooks package's Webhook#verify: same run,
// same 1 KB payloads, rounds interleaved so neither side profits from warm-up order. About 10 s.
// Run: npx tsx bench/webhook-verify.ts
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signWebhook, verifyWebhook } from '../sdk-node/src/webhooks.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const ts = Math.floor(Date.now() / 1000);
// A few distinct deliveries, so no side benefits from caching one input.
const deliveries = Array.from({ length: 16 }, (_, i) => {
  const id = `msg_${randomBytes(12).toString('base64url')}`;
  const pad = randomBytes(1024).toString('base64url');
  const head = JSON.stringify({ id, type: 'message.created', i, text: '' });
  const body = JSON.stringify({ id, type: 'message.created', i, text: pad.slice(0, 1024 - head.length) });
  return { body, headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body) } };
});
const theirs = new Webhook(secret);

type Run = (d: (typeof deliveries)[number]) => unknown;
const contenders: [string, Run][] = [
  ['@parley/node verifyWebhook', (d) => verifyWebhook(d.body, d.headers, secret)],
  ['standardwebhooks Webhook#verify', (d) => theirs.verify(d.body, d.headers)],
];

function round(fn: Run, ms: number): { n: number; ms: number } {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) fn(deliveries[i & 15]!);
    n += 256;
  }
  return { n, ms: performance.now() - start };
}

for (const [, fn] of contenders) round(fn, 300); // warm up
const totals = contenders.map(() => ({ n: 0, ms: 0 }));
for (let r = 0; r < 4; r++) {
  contenders.forEach(([, fn], i) => {
    const { n, ms } = round(fn, 1100);
    totals[i]!.n += n;
    totals[i]!.ms += ms;
  });
}

console.log(`${Buffer.byteLength(deliveries[0]!.body)} B bodies, one secret, ${process.version}`);
contenders.forEach(([name], i) => {
  const rate = Math.round((totals[i]!.n / totals[i]!.ms) * 1000);
  console.log(`${name.padEnd(34)} ${rate.toLocaleString('en').padStart(10)} verifications/s`);
});
