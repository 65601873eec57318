// Invitations by email, through a real SMTP server started here (smtp-server): the message carries the
// single-use link, the API never shows it, and the link signs the person in.
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { startTestApp, type TestApp } from '../test/app.js';
import { ConsoleClient, signedInMember, STRONG_PASSWORD } from '../test/console.js';
import { call } from '../test/http.js';
import { startTestSmtp, type TestSmtp } from '../test/smtp.js';

/** The body as nodemailer encodes long lines (RFC 2045 quoted-printable). */
const decodeQuotedPrintable = (s: string) =>
  s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

let smtp: TestSmtp;
let inbox: TestSmtp['inbox'];
let t: TestApp;
/** What the server logged, line by line (pino's JSON). */
const logged: string[] = [];

beforeAll(async () => {
  smtp = await startTestSmtp();
  inbox = smtp.inbox;
  t = await startTestApp(
    { PARLEY_SMTP_URL: smtp.url, PARLEY_SMTP_FROM: 'Parley <invites@parley.example>' },
    { logger: pino({ level: 'info' }, { write: (line: string) => void logged.push(line) }) },
  );
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

// A mail server refusing the invitee (550 unknown mailbox) made the invite a 500 and left it open, and the
// error's message, which quotes the address, went to the log with its stack.
test('a mail server refusing the invitee: a 502 saying the email was not sent, no open invitation left, and no address in the log', async () => {
  const ten = await t.tenant('Refused', ['refused.example']);
  const owner = await signedInMember(t, ten.tenant.id, 'owner');
  const email = 'nobody-here@refused.example';
  smtp.refuse.add(email);
  const from = logged.length;
  const res = await owner.client.call('POST', '/v1/admin/invites', { email, role: 'agent' });
  expect(res.status).toBe(502);
  expect(res.body).toMatchObject({ type: '/docs/problems/mail-not-sent', title: 'Email not sent' });
  expect(res.body.detail).toMatch(/refused the address/);
  const listed = (await owner.client.call('GET', '/v1/admin/invites')).body.invites.filter((i: { email: string }) => i.email === email);
  expect(listed).toEqual([expect.objectContaining({ revokedAt: expect.any(String) })]);
  const audit = (await call(t.url, 'GET', '/v1/admin/audit?limit=1000', { key: ten.secretKey })).body.entries as {
    action: string;
    target: { id: string } | null;
    metadata: Record<string, unknown>;
  }[];
  expect(audit.find((e) => e.action === 'member.invite_revoke' && e.target?.id === listed[0].id)?.metadata).toEqual({
    cause: 'mail_not_sent',
    mail: 'refused',
  });
  await vi.waitFor(() => expect(logged.slice(from).some((l) => l.includes('invitation email not sent'))).toBe(true));
  const lines = logged.slice(from);
  expect(lines.filter((l) => l.toLowerCase().includes('nobody-here'))).toEqual([]);
  expect(JSON.parse(lines.find((l) => l.includes('invitation email not sent'))!)).toMatchObject({ mail: { reason: 'refused', responseCode: 550 } });
  // Sent again to an address the server takes, it goes out.
  smtp.refuse.delete(email);
  expect((await owner.client.call('POST', '/v1/admin/invites', { email, role: 'agent' })).status).toBe(201);
});

test('a break-glass alert the mail server refuses is logged by its kind, without the address; the sign-in stands', async () => {
  const ten = await t.tenant('Glass refused', ['glassr.example']);
  const owner = await signedInMember(t, ten.tenant.id, 'owner', 'first@glassr.example');
  const second = await signedInMember(t, ten.tenant.id, 'admin', 'gone-owner@glassr.example');
  await owner.client.call('PATCH', `/v1/admin/members/${second.memberId}`, { role: 'owner' });
  await t.runtime.db.withTenant(ten.tenant.id, { requestId: null }, (tx) =>
    tx.query(
      "INSERT INTO sso_connections (tenant_id, kind, config, allowed_domains, default_role) VALUES ($1, 'oidc', '{}', ARRAY['glassr.example'], 'agent')",
      [ten.tenant.id],
    ),
  );
  expect((await owner.client.call('PUT', '/v1/admin/sign-in-policy', { enforceSso: true, breakGlassMemberId: owner.memberId })).status).toBe(200);
  smtp.refuse.add('gone-owner@glassr.example');
  const from = logged.length;
  const glass = await new ConsoleClient(t.url).call('POST', '/v1/auth/password', { email: 'first@glassr.example', password: STRONG_PASSWORD });
  expect(glass.body.status).toBe('signed_in');
  await vi.waitFor(() => expect(logged.slice(from).some((l) => l.includes('break-glass alert email failed'))).toBe(true));
  const lines = logged.slice(from);
  expect(lines.filter((l) => l.toLowerCase().includes('gone-owner'))).toEqual([]);
  expect(JSON.parse(lines.find((l) => l.includes('break-glass alert email failed'))!)).toMatchObject({
    mail: { reason: 'refused', responseCode: 550 },
  });
});
