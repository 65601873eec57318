import { randomBytes, randomInt } from 'node:crypto';
import { WebhookEvent } from '@parley/protocol';
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
    expect(verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, SPEC.signature), SPEC.secret, { now: at(SPEC.timestamp) })).toEqual({
      test: 2432232314,
    });
  });

  test('agrees with the standardwebhooks package in both directions', () => {
    for (let i = 0; i < 200; i++) {
      const secret = `whsec_${randomBytes(randomInt(24, 65)).toString('base64')}`;
      const id = `msg_${randomBytes(randomInt(1, 24)).toString('base64url')}`;
      // Random text with multi-byte characters, as a string and as the raw bytes Express hands over.
      const text = Array.from({ length: randomInt(0, 300) }, () => String.fromCodePoint(randomInt(32, 0x2fff))).join('');
      const body = JSON.stringify({ i, text });
      const raw = Buffer.from(body);
      const now = new Date();
      const ts = Math.floor(now.getTime() / 1000);
      const theirs = new Webhook(secret).sign(id, now, body);
      expect(verifyWebhook(body, headers(id, ts, theirs), secret)).toEqual(JSON.parse(body));
      expect(verifyWebhook(raw, headers(id, ts, theirs), secret)).toEqual(JSON.parse(body));
      const ours = signWebhook(secret, id, ts, raw);
      expect(ours).toBe(theirs);
      expect(new Webhook(secret).verify(body, headers(id, ts, ours))).toEqual(JSON.parse(body));
      expect(new Webhook(secret).verify(raw, headers(id, ts, ours))).toEqual(JSON.parse(body));
    }
  });

  test('a verified delivery parses as a protocol WebhookEvent', () => {
    const ts = 1_800_000_000;
    const event = {
      id: 'msg_2x',
      type: 'handoff.assigned',
      createdAt: '2027-01-15T08:00:00.000Z',
      tenantId: 't_1',
      data: { handoff: { id: 'h1', conversationId: 'c1', status: 'assigned' }, assignee: { id: 'agent-4', displayName: 'Sam' } },
    };
    const body = JSON.stringify(event);
    const payload = verifyWebhook(body, headers(event.id, ts, signWebhook(SPEC.secret, event.id, ts, body)), SPEC.secret, { now: at(ts) });
    const parsed = WebhookEvent.parse(payload);
    expect(parsed.type === 'handoff.assigned' && parsed.data.assignee?.id).toBe('agent-4');
    expect(WebhookEvent.safeParse({ ...event, type: 'invoice.paid' }).success).toBe(false);
  });

  test('header lookup is case-insensitive and works with fetch Headers', () => {
    const h = new Headers({ 'Webhook-Id': SPEC.id, 'Webhook-Timestamp': String(SPEC.timestamp), 'Webhook-Signature': SPEC.signature });
    expect(verifyWebhook(Buffer.from(SPEC.body), h, SPEC.secret, { now: at(SPEC.timestamp) })).toEqual({ test: 2432232314 });
  });

  test('several signatures and several secrets: rotation works both ways', () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    const ok = { now: at(SPEC.timestamp) };
    const sigs = `v1,${randomBytes(32).toString('base64')} v2,abc ${SPEC.signature}`;
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, sigs), SPEC.secret, ok))).toBe('accepted');
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, SPEC.signature), [other, SPEC.secret], ok))).toBe('accepted');
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, SPEC.signature), [other], ok))).toBe('no_matching_signature');
    // The sender signs with both during rotation: a receiver holding only the new secret accepts.
    const both = `${signWebhook(other, SPEC.id, SPEC.timestamp, SPEC.body)} ${SPEC.signature}`;
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, both), other, ok))).toBe('accepted');
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, SPEC.signature), [], ok))).toBe('invalid_secret');
    expect(reason(() => verifyWebhook(SPEC.body, headers(SPEC.id, SPEC.timestamp, SPEC.signature), [SPEC.secret, 'whsec_'], ok))).toBe(
      'invalid_secret',
    );
  });

  test('the tolerance is configurable and inclusive at its edges', () => {
    const h = headers(SPEC.id, SPEC.timestamp, SPEC.signature);
    expect(reason(() => verifyWebhook(SPEC.body, h, SPEC.secret, { now: at(SPEC.timestamp + 300) }))).toBe('accepted');
    expect(reason(() => verifyWebhook(SPEC.body, h, SPEC.secret, { now: at(SPEC.timestamp - 300) }))).toBe('accepted');
    expect(reason(() => verifyWebhook(SPEC.body, h, SPEC.secret, { now: at(SPEC.timestamp + 301) }))).toBe('timestamp_too_old');
    expect(reason(() => verifyWebhook(SPEC.body, h, SPEC.secret, { now: at(SPEC.timestamp + 30), toleranceSec: 10 }))).toBe('timestamp_too_old');
    expect(reason(() => verifyWebhook(SPEC.body, h, SPEC.secret, { now: at(SPEC.timestamp - 30), toleranceSec: 10 }))).toBe('timestamp_too_new');
    expect(reason(() => verifyWebhook(SPEC.body, h, SPEC.secret))).toBe('timestamp_too_old');
    expect(() => verifyWebhook(SPEC.body, h, SPEC.secret, { toleranceSec: -1 })).toThrow(TypeError);
  });

  test.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('refuses a delivery without %s', (name) => {
    const h: Record<string, string> = headers(SPEC.id, SPEC.timestamp, SPEC.signature);
    delete h[name];
    expect(reason(() => verifyWebhook(SPEC.body, h, SPEC.secret, { now: at(SPEC.timestamp) }))).toBe('missing_header');
  });

  test.each([
    ['a tampered body', { body: '{"test": 2432232315}' }, 'no_matching_signature'],
    ['another id', { id: 'msg_other' }, 'no_matching_signature'],
    ['a wrong secret', { secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}` }, 'no_matching_signature'],
    ['a truncated signature', { sig: SPEC.signature.slice(0, -4) }, 'no_matching_signature'],
    ['a shorter signature (no timingSafeEqual length error)', { sig: 'v1,AAAA' }, 'no_matching_signature'],
    ['a longer signature (no timingSafeEqual length error)', { sig: `${SPEC.signature}${SPEC.signature.slice(3)}` }, 'no_matching_signature'],
    ['a signature with stray characters', { sig: `${SPEC.signature}!!` }, 'no_matching_signature'],
    ['an empty v1 entry', { sig: 'v1,' }, 'no_matching_signature'],
    ['an entry without a version', { sig: SPEC.signature.slice(3) }, 'no_matching_signature'],
    ['a v1 entry with no comma', { sig: 'v1' }, 'no_matching_signature'],
    ['garbage entries', { sig: ',,, v1,%%% \t' }, 'no_matching_signature'],
    ['the signature with another timestamp', { ts: String(SPEC.timestamp + 1) }, 'no_matching_signature'],
    ['an unknown version only', { sig: SPEC.signature.replace('v1,', 'v9,') }, 'no_matching_signature'],
    ['a replay 6 minutes later', { now: SPEC.timestamp + 360 }, 'timestamp_too_old'],
    ['a timestamp 6 minutes ahead', { now: SPEC.timestamp - 360 }, 'timestamp_too_new'],
    ['a non-numeric timestamp', { ts: '1614265330.5' }, 'invalid_timestamp'],
    ['a negative timestamp', { ts: '-1614265330' }, 'invalid_timestamp'],
    ['a timestamp in milliseconds', { ts: '1614265330000' }, 'invalid_timestamp'],
    ['a missing signature header', { sig: '' }, 'missing_header'],
    ['a secret that is not base64', { secret: 'whsec_***' }, 'invalid_secret'],
    ['a secret that is too short', { secret: 'whsec_AAAA' }, 'invalid_secret'],
  ])('refuses %s', (_name, o: { body?: string; id?: string; secret?: string; sig?: string; now?: number; ts?: string }, expected) => {
    expect(
      reason(() =>
        verifyWebhook(o.body ?? SPEC.body, headers(o.id ?? SPEC.id, o.ts ?? SPEC.timestamp, o.sig ?? SPEC.signature), o.secret ?? SPEC.secret, {
          now: at(o.now ?? SPEC.timestamp),
        }),
      ),
    ).toBe(expected);
  });

  test('a signed body that is not JSON is refused after the signature checks out', () => {
    const sig = signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, 'not json');
    expect(reason(() => verifyWebhook('not json', headers(SPEC.id, SPEC.timestamp, sig), SPEC.secret, { now: at(SPEC.timestamp) }))).toBe(
      'invalid_json',
    );
  });
});
