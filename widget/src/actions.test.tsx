// Actions on the approval rail, as the visitor sees them: an offer with its inputs, Confirm and Not now,
// then the proposal's state from the stream until its outcome, announced, in the visitor's language.
import { ParleyError, type ActionOffer } from '@parley/browser';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeClient, message, proposal } from './test/fake-client.js';
import { mountApp, settle } from './test/mount.js';

afterEach(() => {
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

const OFFER: ActionOffer = {
  actionId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  name: 'refund_order',
  description: 'Refunds an order',
  risk: 'write',
  fields: [
    { name: 'orderId', type: 'string', required: true, description: 'Order number' },
    { name: 'amount', type: 'number', required: false },
  ],
};
const button = (root: Element, text: string) => [...root.querySelectorAll('button')].find((b) => b.textContent === text)!;
const resumed = () => fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1' } });

/** The visitor asks; the answer offers the action. */
async function offered(locale = 'en') {
  const fake = resumed();
  const ui = await mountApp(fake, { verified: true }, locale);
  ui.type('Refund my order');
  ui.key('Enter');
  await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalled());
  fake.answer.push({ event: 'message', data: { message: message('m1', 'visitor', 'Refund my order') } });
  fake.answer.push({ event: 'done', data: { message: message('m2', 'assistant', 'I can send this request for you.', { offer: OFFER }) } });
  fake.answer.end();
  await vi.waitFor(() => expect(ui.$('form.act')).not.toBeNull());
  return { fake, ui };
}

describe('an offer', () => {
  test('shows the description and a labelled input per field, after the answer that made it', async () => {
    const { ui } = await offered();
    const card = ui.$('form.act')!;
    expect(card.previousElementSibling!.className).toBe('m assistant');
    expect(card.querySelector('p')!.textContent).toBe('Refunds an order');
    const inputs = [...card.querySelectorAll('input')];
    expect(inputs.map((i) => [i.closest('label')!.textContent, i.type, i.required])).toEqual([
      ['Order number', 'text', true],
      ['amount', 'number', false],
    ]);
    expect(button(card, 'Confirm')).toBeDefined();
    expect(button(card, 'Not now').type).toBe('button');
  });

  test('Confirm proposes it with the inputs (numbers as numbers, empty ones left out); the card gives way to the state', async () => {
    const { fake, ui } = await offered();
    const order = ui.$<HTMLInputElement>('input[name=orderId]')!;
    order.value = 'AB12';
    button(ui.$('form.act')!, 'Confirm').click();
    await vi.waitFor(() => expect(fake.client.propose).toHaveBeenCalledTimes(1));
    expect(fake.client.propose).toHaveBeenCalledWith('c1', { actionId: OFFER.actionId, arguments: { orderId: 'AB12' } });
    await vi.waitFor(() => expect(ui.$('form.act')).toBeNull());
    expect(ui.$('.act.pending')!.textContent).toBe('refund_orderWaiting for a person to confirm…');
    // Focus does not fall to nowhere with the card.
    expect(document.activeElement).toBe(ui.textarea());
  });

  test('a number field sends a number', async () => {
    const { fake, ui } = await offered();
    ui.$<HTMLInputElement>('input[name=orderId]')!.value = 'CD34';
    ui.$<HTMLInputElement>('input[name=amount]')!.value = '12.5';
    button(ui.$('form.act')!, 'Confirm').click();
    await vi.waitFor(() =>
      expect(fake.client.propose).toHaveBeenCalledWith('c1', { actionId: OFFER.actionId, arguments: { orderId: 'CD34', amount: 12.5 } }),
    );
  });

  test('Not now dismisses it and proposes nothing', async () => {
    const { fake, ui } = await offered();
    button(ui.$('form.act')!, 'Not now').click();
    await settle();
    expect(ui.$('form.act')).toBeNull();
    expect(ui.$('.act')).toBeNull();
    expect(fake.client.propose).not.toHaveBeenCalled();
  });

  test('a refused proposal keeps the card for another try and says so', async () => {
    const { fake, ui } = await offered();
    fake.client.propose.mockRejectedValueOnce(new ParleyError(422, '/docs/problems/invalid-request', 'Invalid', undefined, 'req_1'));
    ui.$<HTMLInputElement>('input[name=orderId]')!.value = 'AB12';
    button(ui.$('form.act')!, 'Confirm').click();
    await vi.waitFor(() => expect(ui.$('[role=alert]')?.textContent).toContain('Something went wrong.'));
    expect(ui.$('form.act')).not.toBeNull();
    expect(button(ui.$('form.act')!, 'Confirm').disabled).toBe(false);
  });

  test('a later answer without an offer takes the card away', async () => {
    const { fake, ui } = await offered();
    fake.nextAnswer();
    ui.type('Never mind');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(2));
    fake.answer.push({ event: 'done', data: { message: message('m4', 'assistant', 'Fine.') } });
    fake.answer.end();
    await vi.waitFor(() => expect(ui.$('form.act')).toBeNull());
  });
});

describe('a proposal', () => {
  test.each([
    ['approved', 'Waiting for a person to confirm…'],
    ['executing', 'Waiting for a person to confirm…'],
    ['rejected', 'Declined: nothing was done.'],
    ['expired', 'Expired: nobody confirmed it in time, so nothing was done.'],
    ['failed', 'It could not be done. A member of our team can help.'],
  ] as const)('%s from the stream reads "%s", in a live status', async (status, text) => {
    const fake = resumed();
    const ui = await mountApp(fake, { verified: true });
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'action', data: { proposal: proposal('p1', 'pending') }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.act')?.textContent).toBe('refund_orderWaiting for a person to confirm…'));
    const region = ui.$('.act')!;
    expect(region.getAttribute('role')).toBe('status');
    fake.live.push({
      event: 'action',
      data: { proposal: proposal('p1', status, { error: status === 'failed' ? 'The endpoint answered 500' : null }) },
      id: '2',
    });
    await vi.waitFor(() => expect(ui.$('.act')!.textContent).toBe(`refund_order${text}`));
    // The same region changes, so a screen reader hears the new state; one card per proposal.
    expect(ui.$('.act')).toBe(region);
    expect(ui.el.querySelectorAll('.act')).toHaveLength(1);
    // The endpoint's own error text is for the team, not the visitor.
    expect(ui.el.textContent).not.toContain('endpoint answered');
  });

  test("executed shows the endpoint's summary as text, never as markup", async () => {
    const fake = resumed();
    const ui = await mountApp(fake, { verified: true });
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    const summary = '{"refunded":true,"note":"<img src=x onerror=alert(1)><b>bold</b>"}';
    fake.live.push({ event: 'action', data: { proposal: proposal('p1', 'executed', { result: { statusCode: 200, summary } }) }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.act.executed')).not.toBeNull());
    expect(ui.$('.act.executed')!.firstElementChild!.nextSibling!.textContent).toBe('Done.');
    expect(ui.$('.act .sum')!.textContent).toBe(summary);
    expect(ui.el.querySelector('.act img, .act b')).toBeNull();
  });

  test("a late answer to Confirm does not take the stream's newer status back", async () => {
    const { fake, ui } = await offered();
    let answer!: (p: ReturnType<typeof proposal>) => void;
    fake.client.propose.mockImplementationOnce(() => new Promise((r) => (answer = r)));
    ui.$<HTMLInputElement>('input[name=orderId]')!.value = 'AB12';
    button(ui.$('form.act')!, 'Confirm').click();
    await vi.waitFor(() => expect(fake.client.propose).toHaveBeenCalled());
    fake.live.push({ event: 'action', data: { proposal: proposal('p1', 'rejected') }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.act.rejected')).not.toBeNull());
    answer(proposal('p1', 'pending'));
    await settle();
    expect(ui.$('.act.rejected')).not.toBeNull();
    expect(ui.el.querySelectorAll('.card.act')).toHaveLength(1);
  });

  test('sits in the thread where it was made: after the message before it, before later ones', async () => {
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [
        message('m1', 'visitor', 'Refund please', { createdAt: '2025-01-01T00:00:00.000Z' }),
        message('m2', 'agent', 'Asked for you', { createdAt: '2025-01-01T00:00:00.500Z' }),
        message('m3', 'agent', 'Anything else?', { createdAt: '2025-01-01T00:00:05.000Z' }),
      ],
    });
    const ui = await mountApp(fake, { verified: true });
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'action', data: { proposal: proposal('p1', 'pending') }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.act')).not.toBeNull());
    expect(ui.$('.act')!.previousElementSibling!.textContent).toContain('Asked for you');
    expect(ui.$('.act')!.nextElementSibling!.textContent).toContain('Anything else?');
  });

  test('in Arabic: translated, inside the right-to-left panel', async () => {
    const fake = resumed();
    const ui = await mountApp(fake, { verified: true }, 'ar');
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'action', data: { proposal: proposal('p1', 'rejected') }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.act')?.textContent).toBe('refund_orderمرفوض: لم يُنفَّذ أي شيء.'));
    expect(ui.$('.act')!.closest('[dir]')!.getAttribute('dir')).toBe('rtl');
    expect(ui.$('.act bdi')!.textContent).toBe('refund_order');
  });
});
