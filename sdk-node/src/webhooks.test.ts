import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, test } from 'vitest';
import { signWebhook, verifyWebhook, WebhookVerificationError } from './webhooks.js';

// The Standard Webhooks specification's shared test vector.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const at = (s: number) => () => s * 1000;
const headers = (id: string, ts: number | string, sig: string) => ({ 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sig });

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.reason;
    throw err;
  }
  return 'accepted';
}

describe('verifyWebhook', () => {
  test("the specification's test vector", () => {
    expect(signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
    expect(verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, SPEC.signature), SPEC.secret, { now: at(SPEC.timestamp) })).toEqual({ test: 2432232314 });
  });

  test('agrees with the standardwebhooks package in both directions', () => {
    for (let i = 0; i < 50; i++) {
      const secret = `whsec_${randomBytes(24).toString('base64')}`;
      const id = `msg_${randomBytes(8).toString('hex')}`;
      const body = JSON.stringify({ i, data: randomBytes(40).toString('base64') });
      const now = new Date();
      const ts = Math.floor(now.getTime() / 1000);
      const theirs = new Webhook(secret).sign(id, now, body);
      expect(verifyWebhook(body, headers(id, ts, theirs), secret)).toEqual(JSON.parse(body));
      const ours = signWebhook(secret, id, ts, body);
      expect(ours).toBe(theirs);
      expect(new Webhook(secret).verify(body, headers(id, ts, ours))).toEqual(JSON.parse(body));
    }
  });

  test('header lookup is case-insensitive and works with fetch Headers', () => {
    const h = new Headers({ 'Webhook-Id': SPEC.id, 'Webhook-Timestamp': String(SPEC.timestamp), 'Webhook-Signature': SPEC.signature });
    expect(verifyWebhook(Buffer.from(SPEC.body), h, SPEC.secret, { now: at(SPEC.timestamp) })).toEqual({ test: 2432232314 });
  });

  test('several signatures and several secrets: rotation works both ways', () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    const sigs = `v1,${randomBytes(32).toString('base64')} v2,abc ${SPEC.signature}`;
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, sigs), SPEC.secret, { now: at(SPEC.timestamp) }))).toBe('accepted');
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, SPEC.signature), [other, SPEC.secret], { now: at(SPEC.timestamp) }))).toBe('accepted');
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, SPEC.signature), [other], { now: at(SPEC.timestamp) }))).toBe('no_matching_signature');
  });

  test.each([
    ['a tampered body', { body: '{"test": 2432232315}' }, 'no_matching_signature'],
    ['another id', { id: 'msg_other' }, 'no_matching_signature'],
    ['a wrong secret', { secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}` }, 'no_matching_signature'],
    ['a truncated signature', { sig: SPEC.signature.slice(0, -4) }, 'no_matching_signature'],
    ['a signature of another length', { sig: 'v1,AAAA' }, 'no_matching_signature'],
    ['an unknown version only', { sig: SPEC.signature.replace('v1,', 'v9,') }, 'no_matching_signature'],
    ['a replay 6 minutes later', { now: SPEC.timestamp + 360 }, 'timestamp_too_old'],
    ['a timestamp 6 minutes ahead', { now: SPEC.timestamp - 360 }, 'timestamp_too_new'],
    ['a non-numeric timestamp', { ts: '1614265330.5' }, 'invalid_timestamp'],
    ['a missing signature header', { sig: '' }, 'missing_header'],
    ['a secret that is not base64', { secret: 'whsec_***' }, 'invalid_secret'],
  ])('refuses %s', (_name, o: { body?: string; id?: string; secret?: string; sig?: string; now?: number; ts?: string }, expected) => {
    expect(
      reason(() =>
        verifyWebhook(o.body ?? SPEC.body, headers(o.id ?? SPEC.id, o.ts ?? SPEC.timestamp, o.sig ?? SPEC.signature), o.secret ?? SPEC.secret, { now: at(o.now ?? SPEC.timestamp) }),
      ),
    ).toBe(expected);
  });

  test('a signed body that is not JSON is refused after the signature checks out', () => {
    const sig = signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, 'not json');
    expect(reason(() => verifyWebhook('not json', headers(SPEC.id, SPEC.timestamp, sig), SPEC.secret, { now: at(SPEC.timestamp) }))).toBe('invalid_json');
  });
});
