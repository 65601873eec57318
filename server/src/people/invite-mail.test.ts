// Invitations by email, through a real SMTP server started here (smtp-server): the message carries the
// single-use link, the API never shows it, and the link signs the person in.
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { ConsoleClient, signedInMember, STRONG_PASSWORD } from '../test/console.js';
import { startTestSmtp, type TestSmtp } from '../test/smtp.js';

/** The body as nodemailer encodes long lines (RFC 2045 quoted-printable). */
const decodeQuotedPrintable = (s: string) =>
  s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

let smtp: TestSmtp;
let inbox: TestSmtp['inbox'];
let t: TestApp;

beforeAll(async () => {
  smtp = await startTestSmtp();
  inbox = smtp.inbox;
  t = await startTestApp({ PARLEY_SMTP_URL: smtp.url, PARLEY_SMTP_FROM: 'Parley <invites@parley.example>' });
});
afterAll(async () => {
  await t.close();
  await smtp.close();
});

test('an invite goes out by SMTP with the link; the API and the console list never show it; the link works once', async () => {
  const ten = await t.tenant('Mailed', ['mailed.example']);
  const owner = await signedInMember(t, ten.tenant.id, 'owner');
  const before = inbox.length;
  const res = await owner.client.call('POST', '/v1/admin/invites', { email: 'kim@mailed.example', role: 'agent' });
  expect(res.status).toBe(201);
  expect(res.body.invite).toMatchObject({ delivery: 'smtp', inviteUrl: null });
  await vi.waitFor(() => expect(inbox.length).toBe(before + 1));
  const mail = inbox.at(-1)!;
  expect(mail.to).toEqual(['kim@mailed.example']);
  expect(mail.from).toBe('invites@parley.example');
  expect(mail.raw).toMatch(/^Subject: You are invited to Mailed on Parley\r?$/m);
  const body = decodeQuotedPrintable(mail.raw.slice(mail.raw.search(/\r?\n\r?\n/)));
  const link = /(http:\/\/\S+\/console\/#invite=inv_[A-Za-z0-9_-]{43})/.exec(body)![1]!;
  expect(link.startsWith(t.url)).toBe(true);
  const listed = await owner.client.call('GET', '/v1/admin/invites');
  expect(listed.text).not.toContain(link.split('#invite=')[1]);
  const stored = await t.runtime.db.withOwner((tx) => tx.query('SELECT row_to_json(i)::text AS j FROM member_invites i'));
  expect(JSON.stringify(stored.rows)).not.toContain(link.split('#invite=')[1]);

  const kim = new ConsoleClient(t.url);
  const token = link.split('#invite=')[1];
  const accepted = await kim.call('POST', '/v1/auth/invites/accept', { token, displayName: 'Kim', password: STRONG_PASSWORD });
  expect(accepted.body).toMatchObject({ status: 'signed_in', member: { email: 'kim@mailed.example', role: 'agent' } });
  expect(
    (await new ConsoleClient(t.url).call('POST', '/v1/auth/invites/accept', { token, displayName: 'Kim', password: STRONG_PASSWORD })).status,
  ).toBe(401);
});

test('a break-glass sign-in while SSO is enforced emails every owner at once', async () => {
  const ten = await t.tenant('Glass', ['glass.example']);
  const owner = await signedInMember(t, ten.tenant.id, 'owner', 'first@glass.example');
  const second = await signedInMember(t, ten.tenant.id, 'admin', 'second@glass.example');
  await owner.client.call('PATCH', `/v1/admin/members/${second.memberId}`, { role: 'owner' });
  await t.runtime.db.withTenant(ten.tenant.id, { requestId: null }, (tx) =>
    tx.query(
      "INSERT INTO sso_connections (tenant_id, kind, config, allowed_domains, default_role) VALUES ($1, 'oidc', '{}', ARRAY['glass.example'], 'agent')",
      [ten.tenant.id],
    ),
  );
  expect((await owner.client.call('PUT', '/v1/admin/sign-in-policy', { enforceSso: true, breakGlassMemberId: owner.memberId })).status).toBe(200);
  const before = inbox.length;
  const glass = await new ConsoleClient(t.url).call('POST', '/v1/auth/password', { email: 'first@glass.example', password: STRONG_PASSWORD });
  expect(glass.body.status).toBe('signed_in');
  await vi.waitFor(() => expect(inbox.length).toBe(before + 2));
  const alerts = inbox.slice(before);
  expect(alerts.flatMap((m) => m.to).sort()).toEqual(['first@glass.example', 'second@glass.example']);
  expect(alerts[0]!.raw).toMatch(/^Subject: Break-glass sign-in to Glass on Parley\r?$/m);
  expect(alerts[0]!.raw).not.toContain(STRONG_PASSWORD);
});
