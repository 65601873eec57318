// The approval rail in the console: pending proposals shown exactly as they will be sent, decided with a
// reason; the requester's own have no buttons; a sensitive one says what it still needs; the API's refusals
// read as messages; actions are defined with a schema checked as JSON and their secret shown once. The
// server is a stand-in answering what the real one answers.
import { ADMIN_OPERATION_LABELS, type Proposal } from '@parley/protocol';
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { json, server, mount, type, button, me, problem, settle, ME_ID } from '../test/views.js';
import { ActionsView } from './actions.js';
import { ApprovalsView } from './approvals.js';

const proposal = (over: Partial<Proposal> = {}): Proposal => ({
  id: '11111111-1111-4111-8111-111111111111',
  kind: 'action',
  operation: null,
  action: { id: '22222222-2222-4222-8222-222222222222', name: 'refund_order', risk: 'write' },
  arguments: { orderId: 'A-1001', note: '<img src=x onerror=alert(1)>' },
  subject: 'user_42',
  conversationId: '33333333-3333-4333-8333-333333333333',
  requestedBy: { kind: 'visitor', id: 'vis_9' },
  reason: 'The parcel never came',
  status: 'pending',
  decisions: [],
  expiresAt: '2027-01-16T08:00:00.000Z',
  createdAt: '2027-01-15T08:00:00.000Z',
  result: null,
  error: null,
  ...over,
});

afterEach(() => {
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

describe('approvals', () => {
  test('a pending call is shown verbatim with its subject, asker, reason and expiry, and approving it sends the reason', async () => {
    let pending = [proposal()];
    const { api, calls } = server({
      'GET /v1/admin/approvals?status=pending': () => ({ proposals: pending }),
      'GET /v1/admin/approvals': () => ({ proposals: [] }),
      'POST /v1/admin/approvals/11111111-1111-4111-8111-111111111111/approve': () => {
        const done = proposal({ status: 'executed', result: { statusCode: 200, summary: '{"ok":true}' } });
        pending = [];
        return { proposal: done };
      },
    });
    const el = mount(<ApprovalsView api={api} me={me('agent')} />);
    await settle();
    const card = el.querySelector('article.proposal')!;
    expect(card.querySelector('h2')!.textContent).toContain('refund_order');
    // Exactly the arguments, as text: markup from the conversation is not rendered.
    expect(card.querySelector('pre')!.textContent).toBe(JSON.stringify(proposal().arguments, null, 2));
    expect(card.querySelector('img')).toBeNull();
    expect(card.textContent).toContain('untrusted');
    expect(card.textContent).toContain('user_42');
    expect(card.textContent).toContain('vis_9');
    expect(card.textContent).toContain('The parcel never came');
    expect(card.textContent).toContain('Needs one approval.');
    type(card.querySelector<HTMLInputElement>('input')!, 'Checked the order');
    await act(async () => button(card, 'Approve').click());
    await settle();
    expect(calls.find((c) => c.key.endsWith('/approve'))!.body).toEqual({ reason: 'Checked the order' });
    await vi.waitFor(() => expect(el.textContent).toContain('Nothing is waiting.'));
    expect(el.querySelector('article.proposal')).toBeNull();
  });

  test("the requester's own proposal has no buttons; a sensitive one says what it still needs", async () => {
    const { api } = server({
      'GET /v1/admin/approvals?status=pending': () => ({
        proposals: [
          proposal({ requestedBy: { kind: 'member', id: ME_ID } }),
          proposal({
            id: '44444444-4444-4444-8444-444444444444',
            action: { id: '22222222-2222-4222-8222-222222222222', name: 'close_account', risk: 'sensitive' },
            decisions: [
              { by: { kind: 'member', id: 'other-member-id' }, decision: 'approve', counts: true, at: '2027-01-15T09:00:00.000Z', reason: null },
            ],
          }),
          proposal({
            id: '55555555-5555-4555-8555-555555555555',
            action: { id: '22222222-2222-4222-8222-222222222222', name: 'close_account', risk: 'sensitive' },
            decisions: [
              { by: { kind: 'member', id: 'removed-member-id' }, decision: 'approve', counts: false, at: '2027-01-15T09:00:00.000Z', reason: null },
            ],
          }),
        ],
      }),
      'GET /v1/admin/approvals': () => ({ proposals: [] }),
    });
    const el = mount(<ApprovalsView api={api} me={me('agent')} />);
    await settle();
    const [mine, sensitive, lapsed] = [...el.querySelectorAll('article.proposal')];
    expect(mine!.textContent).toContain('You asked for this');
    expect(mine!.querySelectorAll('button')).toHaveLength(0);
    expect(sensitive!.textContent).toContain('needs one more approval');
    expect(sensitive!.textContent).not.toContain('no longer counts');
    // An approval by someone who can no longer decide is shown, says so, and counts for nothing.
    expect(lapsed!.textContent).toContain('no longer counts');
    expect(lapsed!.textContent).toContain('needs two approvals');
    expect(button(sensitive!, 'Approve')).toBeTruthy();
  });

  test('a refusal from the API reads as a message', async () => {
    const { api } = server({
      'GET /v1/admin/approvals?status=pending': () => ({ proposals: [proposal()] }),
      'GET /v1/admin/approvals': () => ({ proposals: [] }),
      'POST /v1/admin/approvals/11111111-1111-4111-8111-111111111111/reject': () =>
        problem(409, 'Conflict', 'The proposal is expired; only a pending one is decided.'),
    });
    const el = mount(<ApprovalsView api={api} me={me('agent')} />);
    await settle();
    await act(async () => button(el, 'Reject').click());
    await settle();
    expect(el.querySelector('[role="alert"]')!.textContent).toContain('The proposal is expired; only a pending one is decided.');
  });

  test('history lists decided proposals with their result, filtered by status', async () => {
    const { api, calls } = server({
      'GET /v1/admin/approvals?status=pending': () => ({ proposals: [] }),
      'GET /v1/admin/approvals': () => ({ proposals: [proposal({ status: 'executed', result: { statusCode: 200, summary: 'refunded' } })] }),
      'GET /v1/admin/approvals?status=failed': () => ({ proposals: [proposal({ status: 'failed', error: 'endpoint timed out' })] }),
    });
    const el = mount(<ApprovalsView api={api} me={me('agent')} />);
    await settle();
    expect(el.querySelector('.proposal-history')!.textContent).toContain('answered 200');
    type(el.querySelector<HTMLSelectElement>('#history-status')!, 'failed');
    await settle();
    expect(calls.some((c) => c.key === 'GET /v1/admin/approvals?status=failed')).toBe(true);
    expect(el.querySelector('.proposal-history')!.textContent).toContain('endpoint timed out');
  });
});

describe('admin operations on the rail', () => {
  // `kind` and `operation` are not in @parley/protocol's Proposal yet: typed here as the server sends them.
  const adminProposal = (over: Partial<Proposal> = {}): Proposal => ({
    ...proposal(),
    id: '77777777-7777-4777-8777-777777777777',
    kind: 'admin',
    operation: 'export.restricted',
    action: null,
    arguments: { includeRestricted: true, reason: 'Moving to our own archive, <b>OPS-42</b>' },
    subject: null,
    conversationId: null,
    requestedBy: { kind: 'member', id: 'other-admin-id' },
    reason: null,
    ...over,
  });

  test('a pending admin operation reads as its label with its arguments verbatim, and another admin approves it', async () => {
    const { api, calls } = server({
      'GET /v1/admin/approvals?status=pending': () => ({ proposals: [adminProposal()] }),
      'GET /v1/admin/approvals': () => ({ proposals: [] }),
      'POST /v1/admin/approvals/77777777-7777-4777-8777-777777777777/approve': () => ({ proposal: adminProposal({ status: 'approved' }) }),
    });
    const el = mount(<ApprovalsView api={api} me={me('admin')} />);
    await settle();
    const card = el.querySelector('article.proposal')!;
    expect(card.querySelector('h2')!.textContent).toBe('Export restricted data admin export.restricted');
    expect(card.querySelector('pre')!.textContent).toBe(JSON.stringify(adminProposal().arguments, null, 2));
    expect(card.querySelector('b')).toBeNull();
    expect(card.textContent).toContain('Needs another admin’s approval.');
    // Not from a conversation: no untrusted-text warning, no subject or conversation rows.
    expect(card.textContent).not.toContain('untrusted');
    expect(card.textContent).not.toContain('Conversation');
    expect(card.textContent).toContain('member other-admin-id');
    await act(async () => button(card, 'Approve Export restricted data').click());
    await settle();
    expect(calls.map((c) => c.key)).toContain('POST /v1/admin/approvals/77777777-7777-4777-8777-777777777777/approve');
  });

  test('each operation has a readable label; one the console does not know is named as the server names it', async () => {
    const ops = Object.keys(ADMIN_OPERATION_LABELS);
    expect(ops.sort()).toEqual(
      ['ai.provider', 'approvals.relax', 'export.restricted', 'identity.mode', 'keys.privileged', 'signin.relax', 'tenant.delete'].sort(),
    );
    const { api } = server({
      'GET /v1/admin/approvals?status=pending': () => ({ proposals: [] }),
      'GET /v1/admin/approvals': () => ({
        proposals: [
          adminProposal({ status: 'executed', operation: 'tenant.delete' }),
          adminProposal({ id: '88888888-8888-4888-8888-888888888888', status: 'rejected', operation: 'billing.change' as never }),
          proposal({ status: 'executed' }),
        ],
      }),
    });
    const el = mount(<ApprovalsView api={api} me={me('admin')} />);
    await settle();
    const rows = [...el.querySelectorAll('.proposal-history summary')].map((s) => s.textContent);
    expect(rows[0]).toMatch(/^Delete the workspace executed/);
    expect(rows[1]).toMatch(/^billing\.change rejected/);
    expect(rows[2]).toMatch(/^refund_order executed/);
  });
});

describe('actions', () => {
  test('an admin adds an action only with a JSON schema, and sees its signing secret once', async () => {
    const created = {
      id: '22222222-2222-4222-8222-222222222222',
      name: 'refund_order',
      description: 'Refunds an order',
      inputSchema: { type: 'object' },
      endpoint: 'https://shop.example/refund',
      risk: 'sensitive',
      expiresAfterSeconds: 7200,
      enabled: true,
      createdAt: '2027-01-15T08:00:00.000Z',
      updatedAt: '2027-01-15T08:00:00.000Z',
    };
    let actions: unknown[] = [];
    const { api, calls } = server({
      'GET /v1/admin/actions': () => ({ actions }),
      'POST /v1/admin/actions': () => {
        actions = [created];
        return json({ action: created, secret: 'whsec_c2VjcmV0' }, 201);
      },
    });
    const el = mount(<ActionsView api={api} me={me('admin')} />);
    await settle();
    type(el.querySelector<HTMLInputElement>('#action-name')!, 'refund_order');
    type(el.querySelector<HTMLTextAreaElement>('#action-description')!, 'Refunds an order');
    type(el.querySelector<HTMLInputElement>('#action-endpoint')!, 'https://shop.example/refund');
    type(el.querySelector<HTMLSelectElement>('#action-risk')!, 'sensitive');
    type(el.querySelector<HTMLInputElement>('#action-hours')!, '2');
    type(el.querySelector<HTMLTextAreaElement>('#action-schema')!, '{ "type": "object", ');
    expect(el.textContent).toContain('Not valid JSON');
    expect(button(el, 'Add action').disabled).toBe(true);
    type(el.querySelector<HTMLTextAreaElement>('#action-schema')!, '{ "type": "object" }');
    expect(button(el, 'Add action').disabled).toBe(false);
    await act(async () => void el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true })));
    await settle();
    expect(calls.find((c) => c.key === 'POST /v1/admin/actions')!.body).toEqual({
      name: 'refund_order',
      description: 'Refunds an order',
      inputSchema: { type: 'object' },
      endpoint: 'https://shop.example/refund',
      risk: 'sensitive',
      expiresAfterSeconds: 7200,
    });
    await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('.secret input')?.value).toBe('whsec_c2VjcmV0'));
    expect(el.textContent).toContain('verifyWebhook');
    await vi.waitFor(() => expect(el.querySelector('tbody')!.textContent).toContain('refund_order'));
  });
});
