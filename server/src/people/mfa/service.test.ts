// MFA service rules against the real database (PGlite), real crypto and a software authenticator.
import { capabilitiesOf } from '@parley/protocol';
import { createHash, randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SoftAuthenticator, strangerKey, FLAG_UP } from '../../test/authenticator.js';
import { startTestApp, type TestApp } from '../../test/app.js';
import { peopleDeps } from '../../test/console.js';
import { sweepExpired } from '../../jobs/retention.js';
import { factors } from './factors.js';
import * as svc from './service.js';

const PUBLIC_URL = 'https://parley.example';
let t: TestApp;
let deps: svc.MfaDeps;
let tenantId: string;

const totpOf = (secret: string) =>
  new TOTP({ issuer: 'Parley', label: 'x', algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
/** A code `steps` time steps from now (within the ±1 window for -1, 0, 1). */
const codeAt = (secret: string, steps: number) => totpOf(secret).generate({ timestamp: Date.now() + steps * 30_000 });

async function member(role = 'agent', email = `${randomUUID().slice(0, 8)}@acme.example`): Promise<svc.MemberCtx> {
  const id = randomUUID();
  await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
    tx.query("INSERT INTO members (tenant_id, id, email, display_name, role) VALUES ($1, $2, $3, 'Test Person', $4)", [tenantId, id, email, role]),
  );
  return { tenantId, memberId: id, requestId: null };
}

async function auditOf(memberId: string): Promise<{ action: string; actor_id: string; metadata: Record<string, unknown> }[]> {
  return t.runtime.db.withTenant(tenantId, { requestId: null }, async (tx) => {
    const { rows } = await tx.query<{ action: string; actor_id: string; metadata: Record<string, unknown> }>(
      'SELECT action, actor_id, metadata FROM audit_entries WHERE tenant_id = $1 AND target_id = $2 ORDER BY id',
      [tenantId, memberId],
    );
    return rows;
  });
}

async function enrolTotp(ctx: svc.MemberCtx): Promise<{ secret: string; recoveryCodes: string[] }> {
  const { secret } = await svc.beginTotp(deps, ctx);
  const { recoveryCodes } = await svc.confirmTotp(deps, ctx, codeAt(secret, -1));
  return { secret, recoveryCodes };
}

beforeAll(async () => {
  t = await startTestApp({ PARLEY_PUBLIC_URL: PUBLIC_URL });
  deps = peopleDeps(t);
  tenantId = (await t.tenant()).tenant.id;
});
afterAll(() => t?.close());
// Codes are computed here from the clock and checked by the server a moment later: each test starts
// clear of a 30-second step boundary, so "this step" and "the step before" mean the same on both sides.
beforeEach(async () => {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50));
});

describe('TOTP', () => {
  it('enrols: a sealed pending secret, an otpauth URI for the member, active only after a right code', async () => {
    const m = await member('agent', 'ada@acme.example');
    const begun = await svc.beginTotp(deps, m);
    expect(begun.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(begun.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(begun.otpauthUri).toMatch(/^otpauth:\/\/totp\/Parley:ada(@|%40)acme\.example\?/);
    expect(uri.searchParams.get('issuer')).toBe('Parley');
    expect(uri.searchParams.get('secret')).toBe(begun.secret);
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');

    // Stored sealed, never in clear.
    const stored = await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
      tx.query<{ secret_sealed: Uint8Array }>('SELECT secret_sealed FROM member_totp WHERE member_id = $1', [m.memberId]),
    );
    expect(Buffer.from(stored.rows[0]!.secret_sealed).includes(Buffer.from(begun.secret))).toBe(false);
    expect(await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => factors(tx, m.memberId))).toEqual({ totp: false, passkeys: 0 });

    await expect(svc.confirmTotp(deps, m, '000000' === codeAt(begun.secret, 0) ? '111111' : '000000')).rejects.toMatchObject({
      code: 'invalid_input',
    });
    const { recoveryCodes } = await svc.confirmTotp(deps, m, codeAt(begun.secret, 0));
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => factors(tx, m.memberId))).toEqual({ totp: true, passkeys: 0 });

    // A second enrolment while one is active is refused.
    await expect(svc.beginTotp(deps, m)).rejects.toMatchObject({ code: 'conflict' });
    const actions = (await auditOf(m.memberId)).map((a) => a.action);
    expect(actions).toEqual(['mfa.totp_enrolled', 'mfa.recovery_codes_generated']);
  });

  it('accepts a code once: the same code, or one of an earlier step, is refused on replay', async () => {
    const m = await member();
    const { secret } = await enrolTotp(m); // confirmed with the step before now
    // The confirmation code itself cannot sign in.
    expect(await svc.verifyTotpFactor(deps, m, codeAt(secret, -1))).toBe(false);
    const now = codeAt(secret, 0);
    expect(await svc.verifyTotpFactor(deps, m, now)).toBe(true);
    expect(await svc.verifyTotpFactor(deps, m, now)).toBe(false); // replay
    expect(await svc.verifyTotpFactor(deps, m, codeAt(secret, -1))).toBe(false); // earlier step
    expect(await svc.verifyTotpFactor(deps, m, codeAt(secret, 1))).toBe(true); // a later step still works
    expect(await svc.verifyTotpFactor(deps, m, codeAt(secret, 3))).toBe(false); // outside the window
  });

  it('refuses the same code raced in parallel: exactly one wins', async () => {
    const m = await member();
    const { secret } = await enrolTotp(m);
    const code = codeAt(secret, 0);
    const results = await Promise.all(Array.from({ length: 4 }, () => svc.verifyTotpFactor(deps, m, code)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('audits a wrong code as a failed sign-in without the code', async () => {
    const m = await member();
    const { secret } = await enrolTotp(m);
    const wrong = codeAt(secret, 0) === '123456' ? '654321' : '123456';
    expect(await svc.verifyTotpFactor(deps, m, wrong)).toBe(false);
    const failed = (await auditOf(m.memberId)).filter((a) => a.action === 'member.sign_in_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ actor_id: m.memberId, metadata: { reason: 'mfa', factor: 'totp' } });
    expect(JSON.stringify(failed)).not.toContain(wrong);
  });

  it('removes only with a current code; recovery codes go with the last factor', async () => {
    const m = await member();
    const { secret } = await enrolTotp(m);
    await expect(svc.removeTotp(deps, m, codeAt(secret, -1))).rejects.toMatchObject({ code: 'invalid_input' }); // used step
    await svc.removeTotp(deps, m, codeAt(secret, 0));
    const mine = await svc.myMfa(deps, m);
    expect(mine).toEqual({ totp: false, passkeys: [], recoveryCodesLeft: 0, required: false });
    expect((await auditOf(m.memberId)).map((a) => a.action)).toContain('mfa.totp_removed');
  });

  it('a sealed secret copied onto another member does not open', async () => {
    const a = await member();
    const b = await member();
    await enrolTotp(a);
    const { secret: secretB } = await svc.beginTotp(deps, b);
    await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
      tx.query('UPDATE member_totp SET secret_sealed = (SELECT secret_sealed FROM member_totp WHERE member_id = $1) WHERE member_id = $2', [
        a.memberId,
        b.memberId,
      ]),
    );
    await expect(svc.confirmTotp(deps, b, codeAt(secretB, 0))).rejects.toThrow();
  });
});

describe('recovery codes', () => {
  it('work once each, are stored hashed, and regenerate replaces them', async () => {
    const m = await member();
    const { recoveryCodes } = await enrolTotp(m);
    const stored = await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
      tx.query<{ code_hash: Uint8Array }>('SELECT code_hash FROM member_recovery_codes WHERE member_id = $1', [m.memberId]),
    );
    expect(stored.rows).toHaveLength(10);
    for (const r of stored.rows) for (const c of recoveryCodes) expect(Buffer.from(r.code_hash).includes(Buffer.from(c))).toBe(false);

    expect(await svc.verifyRecoveryCode(deps, m, recoveryCodes[0]!)).toBe(true);
    expect(await svc.verifyRecoveryCode(deps, m, recoveryCodes[0]!)).toBe(false);
    // Case and dashes do not matter.
    expect(await svc.verifyRecoveryCode(deps, m, recoveryCodes[1]!.toUpperCase().replace(/-/g, ' '))).toBe(true);
    expect((await svc.myMfa(deps, m)).recoveryCodesLeft).toBe(8);

    const { recoveryCodes: fresh } = await svc.regenerateRecoveryCodes(deps, m);
    expect(await svc.verifyRecoveryCode(deps, m, recoveryCodes[2]!)).toBe(false);
    expect(await svc.verifyRecoveryCode(deps, m, fresh[0]!)).toBe(true);

    const log = await auditOf(m.memberId);
    expect(log.filter((a) => a.action === 'mfa.recovery_code_used')).toHaveLength(3);
    expect(JSON.stringify(log)).not.toContain(recoveryCodes[0]!);
  });

  it("another member's code does not work", async () => {
    const a = await member();
    const b = await member();
    const { recoveryCodes } = await enrolTotp(a);
    await enrolTotp(b);
    expect(await svc.verifyRecoveryCode(deps, b, recoveryCodes[0]!)).toBe(false);
  });

  it('are not issued without a factor', async () => {
    const m = await member();
    await expect(svc.regenerateRecoveryCodes(deps, m)).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('passkeys', () => {
  async function register(m: svc.MemberCtx, auth = new SoftAuthenticator(PUBLIC_URL)) {
    const { options, handle } = await svc.passkeyRegistrationOptions(deps, m);
    const out = await svc.addPasskey(deps, m, handle, auth.register(options), 'Laptop');
    return { auth, ...out, options };
  }
  async function mfa(m: svc.MemberCtx, auth: SoftAuthenticator, bend: Parameters<SoftAuthenticator['assert']>[1] = {}) {
    const { options, handle } = await svc.passkeyMfaOptions(deps, m);
    return svc.verifyPasskeyFactor(deps, m, handle, auth.assert(options, bend));
  }

  it('registers (first factor: recovery codes) and signs in as a second factor', async () => {
    const m = await member();
    const { passkey, recoveryCodes, options } = await register(m);
    expect(options.rp).toEqual({ name: 'Parley', id: 'parley.example' });
    expect(passkey.name).toBe('Laptop');
    expect(recoveryCodes).toHaveLength(10);
    expect(await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => factors(tx, m.memberId))).toEqual({ totp: false, passkeys: 1 });
    // A second passkey: the member has codes left, so none are re-issued.
    expect((await register(m)).recoveryCodes).toEqual([]);
  });

  it('refuses registering the same credential twice', async () => {
    const m = await member();
    const auth = new SoftAuthenticator(PUBLIC_URL);
    await register(m, auth);
    await expect(register(m, auth)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('verifies a second factor and moves the counter', async () => {
    const m = await member();
    const { auth } = await register(m);
    expect(await mfa(m, auth)).toBe(true);
    expect(await mfa(m, auth)).toBe(true);
    const row = await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
      tx.query<{ counter: string }>('SELECT counter::text AS counter FROM member_passkeys WHERE member_id = $1', [m.memberId]),
    );
    expect(row.rows[0]!.counter).toBe('2');
  });

  it('refuses a wrong origin, a wrong RP ID, another key, a wrong type, no user presence, a backwards counter', async () => {
    const m = await member();
    const { auth } = await register(m);
    expect(await mfa(m, auth, { origin: 'https://evil.example' })).toBe(false);
    expect(await mfa(m, auth, { rpId: 'evil.example' })).toBe(false);
    expect(await mfa(m, auth, { signWith: strangerKey() })).toBe(false);
    expect(await mfa(m, auth, { type: 'webauthn.create' })).toBe(false);
    expect(await mfa(m, auth, { flags: 0 })).toBe(false); // no user presence
    expect(await mfa(m, auth)).toBe(true); // counter now ahead
    expect(await mfa(m, auth, { counter: 1 })).toBe(false); // went backwards: a clone
    const failed = (await auditOf(m.memberId)).filter((a) => a.action === 'member.sign_in_failed');
    expect(failed).toHaveLength(6);
    expect(failed.at(-1)!.metadata).toMatchObject({ reason: 'mfa', factor: 'passkey', check: 'counter' });
  });

  it('refuses a replayed challenge and an assertion for another challenge', async () => {
    const m = await member();
    const { auth } = await register(m);
    const { options, handle } = await svc.passkeyMfaOptions(deps, m);
    const response = auth.assert(options);
    expect(await svc.verifyPasskeyFactor(deps, m, handle, response)).toBe(true);
    // The same response (and challenge) again.
    expect(await svc.verifyPasskeyFactor(deps, m, handle, response)).toBe(false);
    // A fresh challenge, answered with the old one.
    const second = await svc.passkeyMfaOptions(deps, m);
    expect(await svc.verifyPasskeyFactor(deps, m, second.handle, auth.assert(options))).toBe(false);
    // ...and that challenge is spent by the failed try, too.
    expect(await svc.verifyPasskeyFactor(deps, m, second.handle, auth.assert(second.options))).toBe(false);
  });

  it("refuses another member's passkey and another member's challenge", async () => {
    const a = await member();
    const b = await member();
    const { auth: authA } = await register(a);
    await register(b);
    const forB = await svc.passkeyMfaOptions(deps, b);
    expect(await svc.verifyPasskeyFactor(deps, b, forB.handle, authA.assert(forB.options))).toBe(false);
    const forA = await svc.passkeyMfaOptions(deps, a);
    expect(await svc.verifyPasskeyFactor(deps, b, forA.handle, authA.assert(forA.options))).toBe(false);
  });

  it('an authenticator without a counter (always 0) keeps working', async () => {
    const m = await member();
    const auth = new SoftAuthenticator(PUBLIC_URL, undefined, false);
    await register(m, auth);
    expect(await mfa(m, auth)).toBe(true);
    expect(await mfa(m, auth)).toBe(true);
  });

  it('refuses a registration with a wrong origin, a wrong RP ID, or a replayed challenge', async () => {
    const m = await member();
    for (const bend of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }, { type: 'webauthn.get' }]) {
      const { options, handle } = await svc.passkeyRegistrationOptions(deps, m);
      await expect(svc.addPasskey(deps, m, handle, new SoftAuthenticator(PUBLIC_URL).register(options, bend), 'x')).rejects.toMatchObject({
        code: 'invalid_input',
      });
    }
    const { options, handle } = await svc.passkeyRegistrationOptions(deps, m);
    await svc.addPasskey(deps, m, handle, new SoftAuthenticator(PUBLIC_URL).register(options), 'x');
    await expect(svc.addPasskey(deps, m, handle, new SoftAuthenticator(PUBLIC_URL).register(options), 'y')).rejects.toMatchObject({
      code: 'invalid_input',
    });
    // A challenge issued to another member.
    const other = await member();
    const theirs = await svc.passkeyRegistrationOptions(deps, other);
    await expect(svc.addPasskey(deps, m, theirs.handle, new SoftAuthenticator(PUBLIC_URL).register(theirs.options), 'z')).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });

  it('passwordless: a discoverable credential signs in its member; user verification is required', async () => {
    const m = await member();
    const { auth } = await register(m);
    const { options, handle } = await svc.passwordlessOptions(deps, null);
    expect(options.userVerification).toBe('required');
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(await svc.verifyPasswordless(deps, null, handle, auth.assert(options))).toEqual({ tenantId, memberId: m.memberId });

    const noUv = await svc.passwordlessOptions(deps, null);
    await expect(svc.verifyPasswordless(deps, null, noUv.handle, auth.assert(noUv.options, { flags: FLAG_UP }))).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    // Replayed challenge.
    await expect(svc.verifyPasswordless(deps, null, handle, auth.assert(options))).rejects.toMatchObject({ code: 'unauthenticated' });
    // A user handle naming someone else.
    const other = await svc.passwordlessOptions(deps, null);
    await expect(
      svc.verifyPasswordless(
        deps,
        null,
        other.handle,
        auth.assert(other.options, { userHandle: Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url') }),
      ),
    ).rejects.toMatchObject({ code: 'unauthenticated' });
    // An unknown credential.
    const unknown = await svc.passwordlessOptions(deps, null);
    await expect(svc.verifyPasswordless(deps, null, unknown.handle, new SoftAuthenticator(PUBLIC_URL).assert(unknown.options))).rejects.toMatchObject(
      {
        code: 'unauthenticated',
      },
    );
  });

  it("passwordless with an email hint lists that member's passkeys, or a stable decoy for an unknown address", async () => {
    const m = await member('agent', 'hint@acme.example');
    const { auth } = await register(m);
    const hinted = await svc.passwordlessOptions(deps, null, 'hint@acme.example');
    expect(hinted.options.allowCredentials?.map((c) => c.id)).toEqual([auth.id]);
    const nobody1 = await svc.passwordlessOptions(deps, null, 'nobody@acme.example');
    const nobody2 = await svc.passwordlessOptions(deps, null, 'nobody@acme.example');
    expect(nobody1.options.allowCredentials).toHaveLength(1);
    expect(nobody1.options.allowCredentials).toEqual(nobody2.options.allowCredentials);
  });

  it('a disabled member cannot sign in passwordless', async () => {
    const m = await member();
    const { auth } = await register(m);
    await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) =>
      tx.query("UPDATE members SET status = 'disabled' WHERE id = $1", [m.memberId]),
    );
    const { options, handle } = await svc.passwordlessOptions(deps, null);
    await expect(svc.verifyPasswordless(deps, null, handle, auth.assert(options))).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('removes a passkey', async () => {
    const m = await member();
    const { passkey } = await register(m);
    await svc.removePasskey(deps, m, passkey.id);
    expect(await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => factors(tx, m.memberId))).toEqual({ totp: false, passkeys: 0 });
    await expect(svc.removePasskey(deps, m, passkey.id)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('enrolment in the MFA step and admin reset', () => {
  it('step enrolment is allowed only while the member has no factor', async () => {
    const m = await member();
    await svc.assertNoFactor(deps, m);
    await enrolTotp(m);
    await expect(svc.assertNoFactor(deps, m)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('an admin resets every factor of an agent, but not of an owner; another owner can', async () => {
    const admin = await member('admin');
    const owner = await member('owner');
    const agent = await member('agent');
    await enrolTotp(agent);
    await enrolTotp(owner);
    const by = (m: svc.MemberCtx, role: 'owner' | 'admin') => ({
      tenantId,
      requestId: null,
      actor: { type: 'member', id: m.memberId },
      actorRole: role,
      held: new Set(capabilitiesOf(role)),
    });
    await svc.resetMfa(deps, by(admin, 'admin'), agent.memberId);
    expect(await t.runtime.db.withTenant(tenantId, { requestId: null }, (tx) => factors(tx, agent.memberId))).toEqual({ totp: false, passkeys: 0 });
    expect((await svc.myMfa(deps, agent)).recoveryCodesLeft).toBe(0);
    await expect(svc.resetMfa(deps, by(admin, 'admin'), owner.memberId)).rejects.toMatchObject({ code: 'forbidden' });
    // Another owner can; nobody resets their own (that is My account's, with its checks).
    await expect(svc.resetMfa(deps, by(owner, 'owner'), owner.memberId)).rejects.toMatchObject({ code: 'forbidden' });
    await svc.resetMfa(deps, by(await member('owner'), 'owner'), owner.memberId);
    const reset = (await auditOf(agent.memberId)).find((a) => a.action === 'mfa.reset');
    expect(reset).toMatchObject({ actor_id: admin.memberId, metadata: { totp: true, passkeys: 0, recoveryCodes: 10 } });
  });
});

describe('retention', () => {
  it('the sweep removes unanswered challenges and unconfirmed TOTP set-ups, nothing live', async () => {
    const stale = await member();
    const live = await member();
    const active = await member();
    await svc.beginTotp(deps, stale);
    await svc.beginTotp(deps, live);
    await enrolTotp(active);
    await svc.passwordlessOptions(deps, null);
    const fresh = await svc.passwordlessOptions(deps, null);
    await t.runtime.db.withOwner(async (tx) => {
      await tx.query("UPDATE member_totp SET created_at = now() - interval '2 days' WHERE member_id = ANY($1)", [[stale.memberId, active.memberId]]);
      await tx.query("UPDATE webauthn_challenges SET expires_at = now() - interval '2 hours' WHERE key <> $1", [
        createHash('sha256').update(fresh.handle).digest(),
      ]);
    });
    const counts = await sweepExpired(t.runtime);
    expect(counts.member_totp).toBe(1);
    expect(counts.webauthn_challenges).toBeGreaterThan(0);
    const left = await t.runtime.db.withOwner((tx) =>
      tx.query<{ member_id: string }>('SELECT member_id FROM member_totp WHERE member_id = ANY($1) ORDER BY member_id', [
        [stale.memberId, live.memberId, active.memberId],
      ]),
    );
    expect(left.rows.map((r) => r.member_id).sort()).toEqual([live.memberId, active.memberId].sort());
    const challenges = await t.runtime.db.withOwner((tx) => tx.query<{ n: number }>('SELECT count(*)::int AS n FROM webauthn_challenges'));
    expect(challenges.rows[0]!.n).toBe(1);
  });
});
