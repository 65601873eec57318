// The webhooks page: the secret shown once (create, rotate), the delivery log, replay and test, and a
// read-only view for who may only read. The server is a stand-in answering what the real one answers.
import type { AdminMe, WebhookEndpoint } from '@parley/protocol';
import { act } from 'preact/test-utils';
import { expect, test, vi } from 'vitest';
import { server, mount, button } from '../test/views.js';
import { WebhooksView } from './webhooks.js';

const me = (capabilities: AdminMe['capabilities']): AdminMe => ({
  tenant: { id: '00000000-0000-4000-8000-0000000000aa', name: 'Acme' },
  capabilities,
  member: null,
  apiKey: null,
});
const EP: WebhookEndpoint = {
  id: '00000000-0000-4000-8000-0000000000e1',
  url: 'https://api.example.com/hooks',
  description: 'pager',
  events: ['handoff.requested'],
  enabled: true,
  disabledReason: null,
  failingSince: null,
  previousSecretExpiresAt: null,
  createdAt: '2027-01-15T08:00:00.000Z',
  updatedAt: '2027-01-15T08:00:00.000Z',
};
const click = (el: Element, label: string) => act(() => button(el, label).click());

test('adding an endpoint shows its secret once; rotating shows the new one; the list never holds a secret', async () => {
  let endpoints: WebhookEndpoint[] = [];
  const { api, calls } = server({
    'GET /v1/admin/webhooks/endpoints': () => ({ endpoints }),
    'POST /v1/admin/webhooks/endpoints': (body) => {
      endpoints = [{ ...EP, url: body.url, events: body.events }];
      return { endpoint: endpoints[0], secret: 'whsec_Zmlyc3Qgc2VjcmV0IGZvciB0ZXN0cyE=' };
    },
    [`POST /v1/admin/webhooks/endpoints/${EP.id}/rotate`]: () => ({ endpoint: endpoints[0], secret: 'whsec_c2Vjb25kIHNlY3JldCBmb3IgdGVzdHMh' }),
  });
  const el = mount(<WebhooksView api={api} me={me(['webhooks:read', 'webhooks:write'])} />);
  await vi.waitFor(() => expect(el.textContent).toContain('No endpoints yet.'));
  const url = el.querySelector<HTMLInputElement>('#webhook-url')!;
  act(() => {
    url.value = 'https://api.example.com/hooks';
    url.dispatchEvent(new Event('input', { bubbles: true }));
  });
  act(() => void el.querySelector('form.card')!.dispatchEvent(new Event('submit', { cancelable: true })));
  await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('.secret input')?.value).toBe('whsec_Zmlyc3Qgc2VjcmV0IGZvciB0ZXN0cyE='));
  expect(calls.find((c) => c.key === 'POST /v1/admin/webhooks/endpoints')!.body).toEqual({
    url: 'https://api.example.com/hooks',
    events: ['handoff.requested'],
  });
  click(el, 'Done');
  await vi.waitFor(() => expect(el.querySelector('.secret')).toBeNull());
  expect(el.innerHTML).not.toContain('whsec_');
  await vi.waitFor(() => expect(el.textContent).toContain('https://api.example.com/hooks'));
  click(el, `Rotate secret of ${EP.url}`);
  await vi.waitFor(() => expect(el.querySelector<HTMLInputElement>('.secret input')?.value).toBe('whsec_c2Vjb25kIHNlY3JldCBmb3IgdGVzdHMh'));
  expect(calls.find((c) => c.key.endsWith('/rotate'))!.body).toEqual({ graceSeconds: 86400 });
});

test('the delivery log shows status, answer, latency and next attempt; replay one, replay failed since, send a test', async () => {
  const { api, calls } = server({
    'GET /v1/admin/webhooks/endpoints': () => ({ endpoints: [EP] }),
    [`GET /v1/admin/webhooks/endpoints/${EP.id}/deliveries`]: () => ({
      deliveries: [
        {
          id: '00000000-0000-4000-8000-0000000000d1',
          eventId: 'msg_1',
          eventType: 'handoff.requested',
          status: 'failed',
          attempts: 13,
          responseCode: 500,
          latencyMs: 12,
          error: 'The endpoint answered HTTP 500.',
          nextAttemptAt: null,
          createdAt: EP.createdAt,
          deliveredAt: null,
        },
        {
          id: '00000000-0000-4000-8000-0000000000d2',
          eventId: 'msg_2',
          eventType: 'handoff.requested',
          status: 'pending',
          attempts: 2,
          responseCode: null,
          latencyMs: 10000,
          error: 'no complete answer within 10000 ms',
          nextAttemptAt: '2027-01-15T09:00:00.000Z',
          createdAt: EP.createdAt,
          deliveredAt: null,
        },
      ],
      next: null,
    }),
    [`POST /v1/admin/webhooks/endpoints/${EP.id}/replay`]: (body) => ({ replayed: 'since' in body ? 3 : 1 }),
    [`POST /v1/admin/webhooks/endpoints/${EP.id}/test`]: () => ({ eventId: 'msg_t' }),
  });
  const el = mount(<WebhooksView api={api} me={me(['webhooks:read', 'webhooks:write'])} />);
  await vi.waitFor(() => expect(el.textContent).toContain(EP.url));
  click(el, `Deliveries to ${EP.url}`);
  await vi.waitFor(() => expect(el.textContent).toContain('msg_2'));
  const rows = [...el.querySelectorAll('#deliveries-title ~ .table-scroll table tbody tr')].map((r) =>
    [...r.querySelectorAll('td')].map((td) => td.textContent),
  );
  expect(rows[0]!.slice(1, 5)).toEqual(['failed', '13', '500', '12 ms']);
  expect(rows[1]!.slice(1, 5)).toEqual(['pending', '2', 'no answer', '10000 ms']);
  // A finished delivery is replayed; one waiting for its next retry is sent now instead.
  expect(() => button(el, 'Replay handoff.requested msg_2')).toThrow();
  expect(button(el, 'Send handoff.requested msg_2 now').textContent).toBe('Send now');
  click(el, 'Replay handoff.requested msg_1');
  await vi.waitFor(() => expect(el.textContent).toContain('One delivery queued again.'));
  expect(calls.find((c) => c.key.endsWith('/replay'))!.body).toEqual({ deliveryId: '00000000-0000-4000-8000-0000000000d1' });
  const since = el.querySelector<HTMLInputElement>('#replay-since')!;
  act(() => {
    since.value = '2027-01-15T00:00';
    since.dispatchEvent(new Event('input', { bubbles: true }));
  });
  act(() => void since.form!.dispatchEvent(new Event('submit', { cancelable: true })));
  await vi.waitFor(() => expect(el.textContent).toContain('3 deliveries queued again.'));
  expect(calls.filter((c) => c.key.endsWith('/replay'))[1]!.body).toEqual({ since: new Date('2027-01-15T00:00').toISOString() });
  click(el, `Send test event to ${EP.url}`);
  await vi.waitFor(() => expect(el.textContent).toContain('A test event is on its way'));
});

test('who may only read sees endpoints and deliveries, and no way to change them', async () => {
  const { api } = server({ 'GET /v1/admin/webhooks/endpoints': () => ({ endpoints: [EP] }) });
  const el = mount(<WebhooksView api={api} me={me(['webhooks:read'])} />);
  await vi.waitFor(() => expect(el.textContent).toContain(EP.url));
  expect(el.querySelector('#webhook-url')).toBeNull();
  expect(() => button(el, `Rotate secret of ${EP.url}`)).toThrow();
  expect(() => button(el, `Delete ${EP.url}`)).toThrow();
  expect(button(el, `Deliveries to ${EP.url}`)).toBeTruthy();
});
