// The views whose requests a tenant may gate behind a second admin's approval, met with a 202: creating a
// privileged key, setting the AI provider, changing Sign-In Pro's mode, saving the sign-in policy,
// inviting an admin or making a member one, scheduling the workspace's deletion, and the "Require approval for" checklist in Settings (saved with the
// settings request; taking an operation off may itself wait).
// Each waits with its form held, polls the proposal, and once it is approved Finish repeats the same request
// with Parley-Approval and shows its result. The server is a stand-in answering the rail's contract.
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { button, json, me, mount, server, type } from '../test/views.js';
import { IdentityView } from './identity.js';
import { KeysView } from './keys.js';
import { ProviderView } from './provider.js';
import { SettingsView } from './settings.js';
import { SignInSettingsView } from './signin-settings.js';
import { TeamView } from './team.js';

const ID = '77777777-7777-4777-8777-777777777777';
const proposal = (operation: string, status: string, args: unknown, decisions: unknown[] = []) => ({
  id: ID,
  kind: 'admin',
  operation,
  action: null,
  status,
  expiresAt: '2027-01-16T08:00:00.000Z',
  arguments: args,
  decisions,
});

/**
 * A gated route: 202 with a proposal unless the approval header names it, then `done`'s answer; the
 * proposal's status is `status()` when polled.
 */
function gatedRoute(operation: string, status: () => string, done: (body: any) => unknown, decisions: unknown[] = []) {
  let args: unknown = null;
  return {
    route: (body: any, headers: Headers) => {
      if (headers.get('Parley-Approval') === ID) return done(body);
      args = body;
      return json({ proposal: proposal(operation, 'pending', body) }, 202);
    },
    poll: { [`GET /v1/admin/approvals/${ID}`]: () => ({ proposal: proposal(operation, status(), args, decisions) }) },
  };
}
const submit = (form: Element) => act(() => void form.dispatchEvent(new Event('submit', { cancelable: true })));
const tick = () => act(() => void vi.advanceTimersByTime(5_000));
/** Lets the poll run until the page says it was approved (the poll starts once the view's effects have run). */
const approvedAfterPolls = (el: Element) =>
  vi.waitFor(async () => {
    await tick();
    expect(el.textContent).toContain('Approved by another admin');
  });
const sent = (calls: { key: string; body: any; headers: Headers }[], key: string) =>
  calls.filter((c) => c.key === key).map((c) => ({ body: c.body, approval: c.headers.get('Parley-Approval') }));

beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
afterEach(() => {
  document.body.innerHTML = '';
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('creating a privileged key', () => {
  const key = {
    id: '00000000-0000-4000-8000-000000000001',
    name: 'Deploy',
    prefix: 'sk_test_Dddd',
    capabilities: ['keys:write'],
    createdAt: '2027-01-15T08:00:00.000Z',
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    rotatedFrom: null,
    madeBy: null,
    heldBack: [],
  };

  test('waits with the form held, then Finish creates it and shows the secret once, focused', async () => {
    let status = 'pending';
    let made = false;
    const g = gatedRoute(
      'keys.privileged',
      () => status,
      () => {
        made = true;
        return json({ apiKey: key, secret: 'sk_test_FINISHEDSECRET' }, 201);
      },
    );
    const { api, calls } = server({
      'GET /v1/admin/api-keys': () => ({ apiKeys: made ? [key] : [] }),
      'POST /v1/admin/api-keys': g.route,
      ...g.poll,
    });
    const el = mount(<KeysView api={api} />);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await type(el.querySelector<HTMLInputElement>('#key-name')!, 'Deploy');
    await act(() => el.querySelector<HTMLInputElement>('input[type=checkbox]')!.click());
    await submit(el.querySelector('#key-name')!.closest('form')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Waiting for another admin’s approval'));
    expect(el.querySelector('.gated')!.textContent).toContain('Create or rotate a key with keys:write, pii:reveal or privacy:*, or make an admin');
    expect(button(el, 'Create key').disabled).toBe(true);
    expect(el.querySelector<HTMLInputElement>('#key-name')!.disabled).toBe(true);
    expect(el.querySelector<HTMLFieldSetElement>('#key-name ~ fieldset')!.disabled).toBe(true);
    expect(el.querySelector('.secret')).toBeNull();
    expect(el.querySelector('[role=alert]')).toBeNull();
    status = 'approved';
    await approvedAfterPolls(el);
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('.secret input')?.value).toBe('sk_test_FINISHEDSECRET'));
    expect(document.activeElement).toBe(el.querySelector('.secret input'));
    expect(el.querySelector('.gated')).toBeNull();
    await vi.waitFor(() => expect(el.querySelector('tbody')!.textContent).toContain('sk_test_Dddd…'));
    const posts = sent(calls, 'POST /v1/admin/api-keys');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toEqual(posts[0]!.body);
    expect(posts.map((p) => p.approval)).toEqual([null, ID]);
    expect(el.querySelector<HTMLInputElement>('#key-name')!.value).toBe('');
    await act(() => button(el, 'Done').click());
    expect(el.querySelector('.secret')).toBeNull();
  });

  test('rotating one waits too, with every Rotate held; Finish shows the new secret once', async () => {
    let status = 'pending';
    const rotated = { ...key, id: '00000000-0000-4000-8000-000000000002', prefix: 'sk_test_Eeee', rotatedFrom: key.id };
    const g = gatedRoute(
      'keys.privileged',
      () => status,
      () => json({ apiKey: rotated, secret: 'sk_test_ROTATEDSECRET' }, 201),
    );
    const { api, calls } = server({
      'GET /v1/admin/api-keys': () => ({ apiKeys: [key] }),
      [`POST /v1/admin/api-keys/${key.id}/rotate`]: g.route,
      ...g.poll,
    });
    const el = mount(<KeysView api={api} />);
    await vi.waitFor(() => expect(el.querySelector('tbody')!.textContent).toContain('Deploy'));
    await act(() => button(el, 'Rotate Deploy').click());
    await vi.waitFor(() => expect(el.textContent).toContain('Waiting for another admin’s approval'));
    expect(button(el, 'Rotate Deploy').disabled).toBe(true);
    expect(el.querySelector('.secret')).toBeNull();
    status = 'approved';
    await approvedAfterPolls(el);
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('.secret input')?.value).toBe('sk_test_ROTATEDSECRET'));
    expect(el.querySelector('.secret')!.textContent).toContain('New secret of "Deploy"');
    const posts = sent(calls, `POST /v1/admin/api-keys/${key.id}/rotate`);
    expect(posts.map((p) => [p.body, p.approval])).toEqual([
      [{ graceSeconds: 86400 }, null],
      [{ graceSeconds: 86400 }, ID],
    ]);
    expect(button(el, 'Rotate Deploy').disabled).toBe(false);
  });

  test('rejected: says so with the reason, makes nothing, and the form is back after Dismiss', async () => {
    let status = 'pending';
    const g = gatedRoute(
      'keys.privileged',
      () => status,
      () => json({ apiKey: key, secret: 'sk_test_NEVER' }, 201),
      [{ by: { kind: 'member', id: 'm2' }, decision: 'reject', at: '2027-01-15T09:00:00.000Z', reason: 'Use a narrower key' }],
    );
    const { api, calls } = server({ 'GET /v1/admin/api-keys': () => ({ apiKeys: [] }), 'POST /v1/admin/api-keys': g.route, ...g.poll });
    const el = mount(<KeysView api={api} />);
    await type(el.querySelector<HTMLInputElement>('#key-name')!, 'Deploy');
    await submit(el.querySelector('#key-name')!.closest('form')!);
    await vi.waitFor(() => expect(el.querySelector('.gated-waiting')).not.toBeNull());
    status = 'rejected';
    await tick();
    await vi.waitFor(() => expect(el.textContent).toContain('Another admin rejected it'));
    expect(el.textContent).toContain('Use a narrower key');
    expect(() => button(el, 'Finish')).toThrow();
    expect(sent(calls, 'POST /v1/admin/api-keys')).toHaveLength(1);
    await act(() => button(el, 'Dismiss').click());
    expect(el.querySelector('.gated')).toBeNull();
    expect(button(el, 'Create key').disabled).toBe(false);
    expect(el.querySelector('.secret')).toBeNull();
  });
});

describe('the AI provider and Sign-In Pro', () => {
  test('setting a provider waits with the form held; Finish sends the same key and then clears it from the page', async () => {
    let status = 'pending';
    const g = gatedRoute(
      'ai.provider',
      () => status,
      () => ({ provider: { provider: 'openai', model: 'gpt-4o-mini', last4: 'wxyz' } }),
    );
    const { api, calls } = server({ 'GET /v1/admin/providers': () => ({ providers: [] }), 'PUT /v1/admin/providers/openai': g.route, ...g.poll });
    const el = mount(<ProviderView api={api} />);
    await type(el.querySelector<HTMLInputElement>('#provider-key')!, 'sk-provider-abcdwxyz');
    await type(el.querySelector<HTMLInputElement>('#provider-model')!, 'gpt-4o-mini');
    await submit(el.querySelector('#provider-key')!.closest('form')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Waiting for another admin’s approval'));
    expect(el.querySelector('.gated')!.textContent).toContain('Change the AI provider');
    expect(button(el, 'Save').disabled).toBe(true);
    status = 'approved';
    await approvedAfterPolls(el);
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(el.querySelector('.gated')).toBeNull());
    const puts = sent(calls, 'PUT /v1/admin/providers/openai');
    expect(puts.map((p) => p.approval)).toEqual([null, ID]);
    expect(puts[1]!.body).toEqual({ apiKey: 'sk-provider-abcdwxyz', model: 'gpt-4o-mini' });
    expect(el.querySelector<HTMLInputElement>('#provider-key')!.value).toBe('');
  });

  test('changing the Sign-In Pro mode waits with the form held; Finish saves it', async () => {
    let status = 'pending';
    const g = gatedRoute(
      'identity.mode',
      () => status,
      () => null,
    );
    const { api, calls } = server({
      'GET /v1/admin/identity': () => ({ mode: 'optional', publicKeys: [], jwksUrl: null, secrets: [] }),
      'PUT /v1/admin/identity': g.route,
      ...g.poll,
    });
    const el = mount(<IdentityView api={api} />);
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('input[name=mode][value=optional]')!.checked).toBe(true));
    await act(() => el.querySelector<HTMLInputElement>('input[name=mode][value=required]')!.click());
    await submit(el.querySelector('#public-keys')!.closest('form')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Waiting for another admin’s approval'));
    expect(el.querySelector('.gated')!.textContent).toContain('Change Sign-In Pro mode');
    expect(el.querySelector<HTMLTextAreaElement>('#public-keys')!.disabled).toBe(true);
    expect(el.textContent).not.toContain('Saved.');
    status = 'approved';
    await approvedAfterPolls(el);
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(el.textContent).toContain('Saved.'));
    const puts = sent(calls, 'PUT /v1/admin/identity');
    expect(puts.map((p) => p.approval)).toEqual([null, ID]);
    expect(puts[1]!.body).toEqual({ mode: 'required', publicKeys: [] });
  });

  test('a new shared secret waits for approval; Finish creates it and shows it once', async () => {
    let status = 'pending';
    const g = gatedRoute(
      'identity.mode',
      () => status,
      () => json({ id: ID, kid: 'abcd', secret: 'idsec_abcd_s3cr3t', createdAt: '2027-01-15T08:00:00.000Z' }, 201),
    );
    const { api, calls } = server({
      'GET /v1/admin/identity': () => ({ mode: 'optional', publicKeys: [], jwksUrl: null, secrets: [] }),
      'POST /v1/admin/identity/secrets': g.route,
      ...g.poll,
    });
    const el = mount(<IdentityView api={api} />);
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('input[name=mode][value=optional]')!.checked).toBe(true));
    await act(() => button(el, 'Create a secret').click());
    await vi.waitFor(() => expect(el.textContent).toContain('Waiting for another admin’s approval'));
    expect(el.querySelector('.gated')!.textContent).toContain('Change Sign-In Pro mode or what it trusts');
    expect(button(el, 'Create a secret').getAttribute('aria-disabled')).toBe('true');
    expect(el.querySelector('.secret')).toBeNull();
    status = 'approved';
    await approvedAfterPolls(el);
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('.secret input')?.value).toBe('idsec_abcd_s3cr3t'));
    expect(sent(calls, 'POST /v1/admin/identity/secrets').map((p) => p.approval)).toEqual([null, ID]);
  });
});

describe('the sign-in policy', () => {
  test('relaxing MFA waits with the policy held; Finish saves the same policy', async () => {
    const policy = { requireMfa: 'everyone', enforceSso: false, breakGlassMemberId: null, idleTimeoutMinutes: 480, absoluteTimeoutHours: 168 };
    let status = 'pending';
    const g = gatedRoute(
      'signin.relax',
      () => status,
      (b) => ({ policy: b }),
    );
    const { api, calls } = server({
      'GET /v1/admin/sign-in-policy': () => ({ policy, connections: [] }),
      'PUT /v1/admin/sign-in-policy': g.route,
      'GET /v1/admin/members': () => ({ members: [] }),
      'GET /v1/admin/sso/oidc': () => ({ connection: null }),
      'GET /v1/admin/sso/saml': () => ({ connection: null }),
      ...g.poll,
    });
    const el = mount(<SignInSettingsView api={api} me={me('admin')} />);
    await vi.waitFor(() => expect(el.querySelector('#idle-minutes')).not.toBeNull());
    await act(() => el.querySelector<HTMLInputElement>('input[name=require-mfa][value=off]')!.click());
    const form = el.querySelector('#idle-minutes')!.closest('form')!;
    await submit(form);
    await vi.waitFor(() => expect(form.textContent).toContain('Waiting for another admin’s approval'));
    expect(form.textContent).toContain('Turn off MFA or SSO enforcement');
    expect([...form.querySelectorAll('fieldset')].every((f) => f.disabled)).toBe(true);
    expect(button(form, 'Save policy').disabled).toBe(true);
    expect(form.textContent).not.toContain('Policy saved.');
    status = 'approved';
    await approvedAfterPolls(form);
    await act(() => button(form, 'Finish').click());
    await vi.waitFor(() => expect(form.textContent).toContain('Policy saved.'));
    const puts = sent(calls, 'PUT /v1/admin/sign-in-policy');
    expect(puts.map((p) => p.approval)).toEqual([null, ID]);
    expect(puts[1]!.body).toEqual({ ...policy, requireMfa: 'off' });
    expect(puts[1]!.body).toEqual(puts[0]!.body);
    expect([...form.querySelectorAll('fieldset')].every((f) => !f.disabled)).toBe(true);
  });
});

describe('an SSO connection that makes admins', () => {
  test('saving it waits with Save held; Finish saves the same connection', async () => {
    let status = 'pending';
    const g = gatedRoute(
      'keys.privileged',
      () => status,
      (b) => json({ ...b, spEntityId: 'e', acsUrl: 'a', metadataUrl: 'm' }, 201),
    );
    const policy = { requireMfa: 'off', enforceSso: false, breakGlassMemberId: null, idleTimeoutMinutes: 480, absoluteTimeoutHours: 168 };
    const { api, calls } = server({
      'GET /v1/admin/sign-in-policy': () => ({ policy, connections: [] }),
      'GET /v1/admin/members': () => ({ members: [] }),
      'PUT /v1/admin/sso/saml': g.route,
      'GET /v1/admin/sso/saml': () => ({ connection: null }),
      ...g.poll,
    });
    const el = mount(<SignInSettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.querySelector('#saml-entry-point')).not.toBeNull());
    await type(el.querySelector<HTMLInputElement>('#saml-entry-point')!, 'https://idp.example/sso');
    await type(el.querySelector<HTMLInputElement>('#saml-issuer')!, 'https://idp.example/');
    await type(el.querySelector<HTMLTextAreaElement>('#saml-certs')!, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----');
    await type(el.querySelector<HTMLTextAreaElement>('#saml-domains')!, 'acme.example');
    await act(() => {
      const role = el.querySelector<HTMLSelectElement>('#saml-default-role')!;
      role.value = 'admin';
      role.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const form = el.querySelector('#saml-entry-point')!.closest('form')!;
    await submit(form);
    await vi.waitFor(() => expect(form.textContent).toContain('Waiting for another admin’s approval'));
    expect(button(form, 'Save connection').disabled).toBe(true);
    expect([...form.querySelectorAll('fieldset')].every((f) => f.disabled)).toBe(true);
    status = 'approved';
    await approvedAfterPolls(form);
    await act(() => button(form, 'Finish').click());
    await vi.waitFor(() => expect(el.textContent).toContain('Connection saved.'));
    const puts = sent(calls, 'PUT /v1/admin/sso/saml');
    expect(puts.map((p) => p.approval)).toEqual([null, ID]);
    expect(puts[0]!.body).toMatchObject({ defaultRole: 'admin', allowedDomains: ['acme.example'] });
    expect(puts[1]!.body).toEqual(puts[0]!.body);
  });
});

describe('settings: which operations need approval, and deleting the workspace', () => {
  const box = (el: Element, label: string) =>
    [...el.querySelectorAll('#approval-operations-title ~ form label.check')].find((l) => l.textContent?.includes(label))!.querySelector('input')!;
  const checklist = (el: Element) => el.querySelector('#approval-operations-title')!.closest('section')!;

  test('the checklist shows what is marked; marking more saves at once with the settings request', async () => {
    const { api, calls } = server({
      'GET /v1/admin/settings': () => ({ settings: { approvals: { operations: ['tenant.delete'] } }, policyVersion: 3 }),
      'PATCH /v1/admin/settings': () => ({ policyVersion: 4 }),
      'GET /v1/admin/tenant/deletion': () => ({ state: 'none', requestedAt: null, dueAt: null }),
    });
    const el = mount(<SettingsView api={api} me={me('admin')} />);
    await vi.waitFor(() => expect(box(el, 'Delete the workspace').checked).toBe(true));
    const labels = [...checklist(el).querySelectorAll('label.check')].map((l) => l.textContent!.trim());
    expect(labels).toEqual([
      'Create or rotate a key with keys:write, pii:reveal or privacy:*, or make an admin',
      'Change the AI provider',
      'Change Sign-In Pro mode or what it trusts',
      'Turn off MFA or SSO enforcement',
      'Export restricted data',
      'Delete the workspace',
      'Taking operations off this list',
    ]);
    expect(box(el, 'Change the AI provider').checked).toBe(false);
    await act(() => box(el, 'Taking operations off this list').click());
    await act(() => box(el, 'Create or rotate a key').click());
    await submit(checklist(el).querySelector('form')!);
    await vi.waitFor(() => expect(checklist(el).textContent).toContain('Saved.'));
    // Only the list is sent: nothing else in the settings rides on it.
    expect(sent(calls, 'PATCH /v1/admin/settings')).toEqual([
      { body: { approvals: { operations: ['keys.privileged', 'tenant.delete', 'approvals.relax'] } }, approval: null },
    ]);
    // Typing in the other settings form does not reset the checklist.
    await type(el.querySelector<HTMLTextAreaElement>('#greeting')!, 'Hello');
    expect(box(el, 'Create or rotate a key').checked).toBe(true);
  });

  test('taking an operation off waits for approval with the list held, and Finish saves it', async () => {
    let status = 'pending';
    const g = gatedRoute(
      'approvals.relax',
      () => status,
      () => ({ policyVersion: 5 }),
    );
    const { api, calls } = server({
      'GET /v1/admin/settings': () => ({ settings: { approvals: { operations: ['ai.provider', 'approvals.relax'] } }, policyVersion: 4 }),
      'PATCH /v1/admin/settings': g.route,
      'GET /v1/admin/tenant/deletion': () => ({ state: 'none', requestedAt: null, dueAt: null }),
      ...g.poll,
    });
    const el = mount(<SettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(box(el, 'Change the AI provider').checked).toBe(true));
    await act(() => box(el, 'Change the AI provider').click());
    await submit(checklist(el).querySelector('form')!);
    await vi.waitFor(() => expect(checklist(el).textContent).toContain('Waiting for another admin’s approval'));
    expect(checklist(el).textContent).toContain('Require fewer approvals');
    expect(box(el, 'Change the AI provider').closest('fieldset')!.disabled).toBe(true);
    expect(button(checklist(el), 'Save approvals').disabled).toBe(true);
    status = 'approved';
    await approvedAfterPolls(checklist(el));
    await act(() => button(checklist(el), 'Finish').click());
    await vi.waitFor(() => expect(checklist(el).textContent).toContain('Saved.'));
    expect(sent(calls, 'PATCH /v1/admin/settings')).toEqual([
      { body: { approvals: { operations: ['approvals.relax'] } }, approval: null },
      { body: { approvals: { operations: ['approvals.relax'] } }, approval: ID },
    ]);
    expect(box(el, 'Change the AI provider').closest('fieldset')!.disabled).toBe(false);
  });

  test('read-only without settings:write', async () => {
    const { api } = server({ 'GET /v1/admin/settings': () => ({ settings: { approvals: { operations: ['ai.provider'] } }, policyVersion: 1 }) });
    const el = mount(<SettingsView api={api} me={me('agent')} />);
    await vi.waitFor(() => expect(box(el, 'Change the AI provider').checked).toBe(true));
    expect(box(el, 'Change the AI provider').closest('fieldset')!.disabled).toBe(true);
    expect(() => button(checklist(el), 'Save approvals')).toThrow();
    expect(checklist(el).textContent).toContain('Only owners and admins can change which operations need approval.');
  });

  test('scheduling the deletion waits for approval with the form held; Finish schedules it', async () => {
    let status = 'pending';
    let state: Record<string, unknown> = { state: 'none', requestedAt: null, dueAt: null };
    const g = gatedRoute(
      'tenant.delete',
      () => status,
      () => {
        state = { state: 'scheduled', requestedAt: '2027-01-15T08:00:00.000Z', dueAt: '2027-01-22T08:00:00.000Z' };
        return json(state, 201);
      },
    );
    const { api, calls } = server({
      'GET /v1/admin/settings': () => ({ settings: {}, policyVersion: 1 }),
      'GET /v1/admin/tenant/deletion': () => state,
      'POST /v1/admin/tenant/deletion': g.route,
      ...g.poll,
    });
    const el = mount(<SettingsView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.querySelector('#deletion-confirm')).not.toBeNull());
    await type(el.querySelector<HTMLInputElement>('#deletion-confirm')!, 'Acme Support');
    await submit(button(el, 'Schedule deletion').form!);
    const zone = () => el.querySelector('.danger-zone')!;
    await vi.waitFor(() => expect(zone().textContent).toContain('Waiting for another admin’s approval'));
    expect(zone().textContent).toContain('Delete the workspace');
    expect(button(el, 'Schedule deletion').disabled).toBe(true);
    expect(el.querySelector<HTMLInputElement>('#deletion-confirm')!.disabled).toBe(true);
    expect(el.querySelector<HTMLInputElement>('#deletion-grace')!.disabled).toBe(true);
    status = 'approved';
    await approvedAfterPolls(zone());
    await act(() => button(zone(), 'Finish').click());
    await vi.waitFor(() => expect(zone().textContent).toContain('Deletion scheduled for'));
    expect(sent(calls, 'POST /v1/admin/tenant/deletion')).toEqual([
      { body: { graceDays: 7 }, approval: null },
      { body: { graceDays: 7 }, approval: ID },
    ]);
    expect(document.activeElement).toBe(el.querySelector('#delete-workspace-title'));
  });
});

describe('making an admin', () => {
  const member = {
    id: '00000000-0000-4000-8000-0000000000b0',
    email: 'bo@acme.example',
    displayName: 'Bo',
    role: 'agent',
    status: 'active',
    mfa: { totp: false, passkeys: 0 },
    lastSignInAt: null,
    createdAt: '2027-01-15T08:00:00.000Z',
    sso: [],
  };
  const invite = {
    id: '00000000-0000-4000-8000-0000000000c0',
    email: 'cy@acme.example',
    role: 'admin',
    delivery: 'log',
    inviteUrl: 'http://localhost/console/#invite=inv_x',
    expiresAt: '2027-01-22T08:00:00.000Z',
    acceptedAt: null,
    revokedAt: null,
    createdAt: '2027-01-15T08:00:00.000Z',
  };

  test('an invitation for an admin waits, then Finish sends the same invitation with the approval', async () => {
    let status = 'pending';
    const g = gatedRoute(
      'keys.privileged',
      () => status,
      () => json({ invite }, 201),
    );
    const { api, calls } = server({
      'GET /v1/admin/members': () => ({ members: [member] }),
      'GET /v1/admin/invites': () => ({ invites: [] }),
      'POST /v1/admin/invites': g.route,
      ...g.poll,
    });
    const el = mount(<TeamView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.textContent).toContain('bo@acme.example'));
    await type(el.querySelector<HTMLInputElement>('#invite-email')!, 'cy@acme.example');
    const role = el.querySelector<HTMLSelectElement>('#invite-role')!;
    await act(() => {
      role.value = 'admin';
      role.dispatchEvent(new Event('change'));
    });
    await submit(el.querySelector('#invite-email')!.closest('form')!);
    await vi.waitFor(() => expect(el.textContent).toContain('Waiting for another admin’s approval'));
    expect(button(el, 'Send invitation').disabled).toBe(true);
    expect(el.textContent).not.toContain('Invitation for cy@acme.example created');
    status = 'approved';
    await approvedAfterPolls(el);
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(el.textContent).toContain('Invitation for cy@acme.example created'));
    expect(sent(calls, 'POST /v1/admin/invites')).toEqual([
      { body: { email: 'cy@acme.example', role: 'admin' }, approval: null },
      { body: { email: 'cy@acme.example', role: 'admin' }, approval: ID },
    ]);
  });

  test("a member's new role waits in their row while it is proposed", async () => {
    const g = gatedRoute(
      'keys.privileged',
      () => 'pending',
      () => ({ member: { ...member, role: 'admin' } }),
    );
    const { api } = server({
      'GET /v1/admin/members': () => ({ members: [member] }),
      'GET /v1/admin/invites': () => ({ invites: [] }),
      [`PATCH /v1/admin/members/${member.id}`]: g.route,
      ...g.poll,
    });
    const el = mount(<TeamView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(el.textContent).toContain('bo@acme.example'));
    const select = el.querySelector<HTMLSelectElement>('select[aria-label="Role of Bo"]')!;
    await act(() => {
      select.value = 'admin';
      select.dispatchEvent(new Event('change'));
    });
    await vi.waitFor(() => expect(el.querySelector('.row-problem')!.textContent).toContain('Waiting for another admin’s approval'));
  });

  test("resetting an admin's SSO link waits in their row while it is proposed, then Finish resets it", async () => {
    const admin = { ...member, role: 'admin', sso: ['saml'] };
    let status = 'pending';
    let reset = false;
    const g = gatedRoute(
      'keys.privileged',
      () => status,
      () => {
        reset = true;
        return new Response(null, { status: 204 });
      },
    );
    const { api, calls } = server({
      'GET /v1/admin/members': () => ({ members: [reset ? { ...admin, sso: [] } : admin] }),
      'GET /v1/admin/invites': () => ({ invites: [] }),
      [`DELETE /v1/admin/members/${member.id}/sso-link`]: g.route,
      ...g.poll,
    });
    vi.stubGlobal('confirm', () => true);
    const el = mount(<TeamView api={api} me={me('owner')} />);
    await vi.waitFor(() => expect(button(el, 'Reset SSO link').disabled).toBe(false));
    await act(() => button(el, 'Reset SSO link').click());
    await vi.waitFor(() => expect(el.querySelector('.row-problem')!.textContent).toContain('Waiting for another admin’s approval'));
    status = 'approved';
    await approvedAfterPolls(el);
    await act(() => button(el, 'Finish').click());
    await vi.waitFor(() => expect(reset).toBe(true));
    expect(sent(calls, `DELETE /v1/admin/members/${member.id}/sso-link`).map((c) => c.approval)).toEqual([null, ID]);
  });
});
