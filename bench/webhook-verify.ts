// verifyWebhook operations per second beside the standardwebhooks package, same payloads, same run.
// Run: npx tsx --conditions=parley-source bench/webhook-verify.ts
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signWebhook, verifyWebhook } from '../sdk-node/src/webhooks.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const body = JSON.stringify({ type: 'message.created', data: { text: 'x'.repeat(970) } }); // ~1 KB
const id = 'msg_bench';
const ts = Math.floor(Date.now() / 1000);
const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body) };
const theirs = new Webhook(secret);

function rate(name: string, fn: () => unknown, ms = 3000): void {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
  }
  console.log(`${name.padEnd(34)} ${Math.round(n / (ms / 1000)).toLocaleString('en').padStart(10)} verifications/s`);
}

console.log(`1 KB body, one secret, ${process.version}`);
rate('@parley/node verifyWebhook', () => verifyWebhook(body, headers, secret));
rate('standardwebhooks Webhook#verify', () => theirs.verify(body, headers));
