// The chat panel with a scripted client: the message list, streaming, the composer's keys, handoff,
// live agent messages, offline and error states.
import { ParleyError } from '@parley/browser';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeClient, message, SETTINGS } from './test/fake-client.js';
import { mountApp, settle } from './test/mount.js';

afterEach(() => {
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

describe('message list', () => {
  test('roles, a greeting, citations as links to their sources, system notes, a polite log', async () => {
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [
        message('m1', 'visitor', 'Refunds?'),
        message('m2', 'assistant', 'Within **5 days** [1]. See also [2].', {
          citations: [
            { title: 'Refunds', url: 'https://help.example/refunds', chunkId: 'k1' },
            { title: 'Evil](javascript:alert(1)) [x', url: 'javascript:alert(1)', chunkId: 'k2' },
          ],
        }),
        message('m3', 'system', 'Sam joined'),
        message('m4', 'agent', 'Hi, Sam here'),
      ],
    });
    const { el, $ } = await mountApp(fake);
    await vi.waitFor(() => expect(el.querySelectorAll('.m')).toHaveLength(4));
    expect($('[role=log]')!.getAttribute('aria-live')).toBe('polite');
    expect([...el.querySelectorAll('.m')].map((m) => m.className)).toEqual(['m assistant', 'm visitor', 'm assistant', 'm agent']);
    expect(el.querySelector('.m')!.textContent).toBe(SETTINGS.greeting);
    expect($('.note')!.textContent).toBe('Sam joined');
    expect($('.m.assistant strong')!.textContent).toBe('5 days');
    const sources = [...el.querySelectorAll('.src li')];
    expect(sources.map((li) => li.querySelector('a')?.getAttribute('href') ?? null)).toEqual(['https://help.example/refunds', null]);
    // Each source shows the number its [n] marker in the answer shows.
    expect(sources.map((li) => li.textContent)).toEqual(['[1] Refunds', '[2] Evil](javascript:alert(1)) [x']);
    expect($('a.cite')!.textContent).toBe('[1]');
    expect(el.querySelectorAll('a[href^="javascript"]')).toHaveLength(0);
    expect($('a.cite')!.getAttribute('href')).toBe('https://help.example/refunds');
  });

  test('a "Did you mean" offer is a button; clicking it picks that passage', async () => {
    const offer = { title: 'Returns › Refund timing', url: 'https://help.example/returns#refund-timing', chunkId: 'k7', suggested: true };
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [message('m1', 'visitor', 'money back?'), message('m2', 'assistant', 'Did you mean: Refund timing?', { citations: [offer] })],
    });
    const { el } = await mountApp(fake);
    await vi.waitFor(() => expect(el.querySelector('.src button')).not.toBeNull());
    const button = el.querySelector<HTMLButtonElement>('.src button')!;
    expect(button.textContent).toBe('Returns › Refund timing');
    expect(el.querySelector('.src a')).toBeNull();
    button.click();
    await vi.waitFor(() => expect(fake.client.pick).toHaveBeenCalledWith('c1', offer, expect.any(String)));
    expect(fake.client.sendMessage).not.toHaveBeenCalled();
  });

  test('a "Did you mean" offer asks in the visitor\'s language; the headings stay as the tenant wrote them', async () => {
    const offer = { title: 'Returns › Refund timing', url: null, chunkId: 'k7', suggested: true };
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [message('m1', 'visitor', 'استرداد؟'), message('m2', 'assistant', 'Did you mean: Returns › Refund timing?', { citations: [offer] })],
    });
    const { el } = await mountApp(fake, {}, 'ar');
    await vi.waitFor(() => expect(el.querySelector('.src button')).not.toBeNull());
    expect([...el.querySelectorAll('.m .md')].at(-1)!.textContent).toBe('هل تقصد:');
    expect(el.querySelector('.src button')!.textContent).toBe('Returns › Refund timing');
  });

  test('bidi controls (right-to-left override and the rest) never reach the DOM: no display spoofing', async () => {
    const RLO = '\u202E';
    const CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [
        message('m1', 'visitor', `Open invoice${RLO}fdp.exe please`),
        message('m2', 'assistant', `See **the ${RLO}egap** [1] and \`code\u2067x\u2069\`\n\n- item\u200F\u061C`, {
          citations: [{ title: `Refunds${RLO}txt.exe`, url: 'https://help.example/refunds', chunkId: 'k1' }],
        }),
        message('m3', 'system', `Sam\u202Bjoined\u202C`),
        message('m4', 'agent', `Hi\u202A\u202D\u2066\u2068\u200E`),
      ],
    });
    const { el } = await mountApp(fake, { settings: { ...SETTINGS, tenantName: `Shop${RLO}`, greeting: `Hello${RLO}olleh` } });
    await vi.waitFor(() => expect(el.querySelectorAll('.m')).toHaveLength(4));
    expect(el.innerHTML).not.toMatch(CONTROLS);
    expect(el.textContent).toContain('Open invoicefdp.exe please');
    expect(el.textContent).toContain('Refundstxt.exe');
    expect(el.textContent).toContain('Helloolleh');
  });

  test('each message and the greeting take their own direction (dir="auto") inside a right-to-left panel', async () => {
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [message('m1', 'visitor', 'Is my refund late?'), message('m2', 'assistant', 'مرحبا')],
    });
    const { el } = await mountApp(fake, { settings: { ...SETTINGS, greeting: 'Hello!' } });
    await vi.waitFor(() => expect(el.querySelectorAll('.m')).toHaveLength(3));
    expect([...el.querySelectorAll('.m .md')].map((m) => m.getAttribute('dir'))).toEqual(['auto', 'auto']);
    expect(el.querySelector('.m.assistant')!.getAttribute('dir')).toBe('auto');
  });

  test('the message box takes the direction of what is typed in it (dir="auto"), in a left-to-right and a right-to-left panel; empty, the panel\'s', async () => {
    for (const [locale, typed] of [
      ['en', 'مرحبا'],
      ['ar', 'Hello'],
    ] as const) {
      const { el, textarea, type } = await mountApp(fakeClient(), {}, locale);
      expect(el.querySelector('.p')!.getAttribute('dir')).toBe(locale === 'ar' ? 'rtl' : 'ltr');
      // Empty, it inherits the panel's direction (where its placeholder reads): Chromium takes an empty
      // dir="auto" box as left to right, an Arabic placeholder included.
      expect(textarea().dir).toBe('');
      type(typed);
      await settle();
      expect(textarea().getAttribute('dir')).toBe('auto');
      // Emptied, back to the panel's (Preact leaves dir="", which is no direction of its own).
      type('');
      await settle();
      expect(textarea().dir).toBe('');
      document.body.innerHTML = '';
    }
  });

  test("with no greeting of the tenant's own, the visitor's language greets, the tenant's name isolated", async () => {
    const { greeting: _, ...unset } = SETTINGS;
    const { el } = await mountApp(fakeClient(), { settings: { ...unset, tenantName: 'Northwind Ltd.' } }, 'ar');
    const hello = el.querySelector('.m.assistant')!;
    expect(hello.textContent).toBe('مرحبًا! اسألنا أي شيء عن Northwind Ltd..');
    expect(hello.querySelector('bdi')!.textContent).toBe('Northwind Ltd.');
    expect(el.querySelector('h2 bdi')!.textContent).toBe('Northwind Ltd.');
  });

  test("the assistant's handoff notice is said in the visitor's language; other answers are as written", async () => {
    const english = "I've asked a member of our team to take over. They'll reply here as soon as they can.";
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [message('m1', 'assistant', english, { notice: 'handoff' }), message('m2', 'assistant', 'Sure.')],
    });
    const { el } = await mountApp(fake, {}, 'ar');
    await vi.waitFor(() => expect(el.querySelectorAll('.m')).toHaveLength(3));
    const [notice, plain] = [...el.querySelectorAll('.m .md')];
    expect(notice!.textContent).toBe('أحلت سؤالك إلى أحد أعضاء فريقنا. سيرد عليك هنا.');
    expect(notice!.getAttribute('dir')).toBe('auto');
    expect(plain!.textContent).toBe('Sure.');
  });

  test('in English, a handoff notice is shown as stored, in its own words: the visitor sees what the agent reads', async () => {
    const unsure = "I'm not confident I can answer that correctly from our documentation, so I've asked a member of our team to follow up here.";
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [message('m1', 'assistant', unsure, { notice: 'unsure' })],
    });
    const { el } = await mountApp(fake, {}, 'en-GB');
    await vi.waitFor(() => expect(el.querySelectorAll('.m')).toHaveLength(2));
    expect(el.querySelectorAll('.m .md')[0]!.textContent).toBe(unsure);
  });

  test('the panel adds no landmark to the page: its title bar is no <header>', async () => {
    const { el } = await mountApp(fakeClient());
    expect(el.querySelector('header, footer, main, nav, aside, [role=banner]')).toBeNull();
  });

  test('a stored conversation that is gone is forgotten', async () => {
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'gone' } });
    await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.stored?.conversationId).toBeUndefined());
    expect(fake.client.events).not.toHaveBeenCalled();
  });
});

describe('streaming and the composer', () => {
  test('Enter sends; a typing indicator, then the streamed answer, announced once when done', async () => {
    const fake = fakeClient();
    const ui = await mountApp(fake);
    ui.type('  Opening hours?  ');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(1));
    expect(fake.client.sendMessage.mock.calls[0]!.slice(0, 2)).toEqual(['c1', 'Opening hours?']);
    expect(ui.textarea().value).toBe('');
    await vi.waitFor(() => expect(ui.$('.dots[role=status]')!.textContent).toBe('The assistant is typing…'));
    expect(ui.$<HTMLButtonElement>('button[type=submit]')!.disabled).toBe(true);
    fake.answer.push({ event: 'message', data: { message: message('m1', 'visitor', 'Opening hours?') } });
    fake.answer.push({ event: 'delta', data: { text: 'We open ' } });
    fake.answer.push({ event: 'delta', data: { text: 'at *9*' } });
    await vi.waitFor(() => expect(ui.$('.m.assistant[aria-hidden=true]')?.textContent).toBe('We open at 9'));
    expect(ui.$('.dots')).toBeNull();
    fake.answer.push({ event: 'done', data: { message: message('m2', 'assistant', 'We open at *9*.') } });
    fake.answer.end();
    await vi.waitFor(() => expect(ui.$('[aria-hidden=true]')).toBeNull());
    expect([...ui.el.querySelectorAll('.m')].map((m) => m.textContent)).toEqual([SETTINGS.greeting, 'YouOpening hours?', 'AssistantWe open at 9.']);
    expect(ui.emitted).toContainEqual(['message', expect.objectContaining({ id: 'm2' })]);
  });

  test('Shift+Enter, IME composition, blank text and a second Enter while answering do not send', async () => {
    const fake = fakeClient();
    const ui = await mountApp(fake);
    ui.type('first line');
    ui.key('Enter', { shiftKey: true });
    ui.key('Enter', { isComposing: true });
    ui.type('   ');
    ui.key('Enter');
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.client.sendMessage).not.toHaveBeenCalled();
    ui.type('question');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(1));
    ui.type('another');
    ui.key('Enter');
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.client.sendMessage).toHaveBeenCalledTimes(1);
    expect(ui.textarea().value).toBe('another');
  });

  test('live agent messages arrive, each message shown once whichever path brings it', async () => {
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1' } });
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalledTimes(1));
    ui.type('hello');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalled());
    const answer = message('m2', 'assistant', 'Hello!');
    fake.live.push({ event: 'message', data: { message: answer }, id: '1' });
    fake.answer.push({ event: 'done', data: { message: answer } });
    fake.answer.end();
    fake.live.push({ event: 'message', data: { message: message('m3', 'agent', 'Sam here') }, id: '2' });
    await vi.waitFor(() => expect(ui.$('.m.agent')?.textContent).toBe('Support teamSam here'));
    expect(ui.el.querySelectorAll('.m.assistant')).toHaveLength(2);
    expect(ui.emitted.filter(([e]) => e === 'message').map(([, m]) => (m as { id: string }).id)).toEqual(['m2', 'm3']);
    // A person is on it and has already replied: no "will reply" note, no second handoff.
    fake.live.push({ event: 'status', data: { handoff: { id: 'h1', status: 'assigned' } }, id: '3' });
    await vi.waitFor(() => expect(ui.$<HTMLButtonElement>('.hd button')!.disabled).toBe(true));
    expect(ui.$('.note')).toBeNull();
  });

  test("the visitor's own message is shown once when the live stream brings it before the send's answer does", async () => {
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1' } });
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalledTimes(1));
    ui.type('Still there?');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalled());
    const cmid = fake.client.sendMessage.mock.calls[0]![2]!;
    // Stored and published to the conversation's streams before the send's own response says so.
    const stored = message('m1', 'visitor', 'Still there?');
    // Another tab's message on the way is not this one: the unsent one still shows.
    fake.live.push({ event: 'message', data: { message: message('m0', 'visitor', 'Hello', {}), clientMessageId: 'other-tab' }, id: '1' });
    await vi.waitFor(() => expect(ui.el.querySelectorAll('.m.visitor')).toHaveLength(2));
    fake.live.push({ event: 'message', data: { message: stored, clientMessageId: cmid }, id: '2' });
    await settle();
    expect([...ui.el.querySelectorAll('.m.visitor')].map((m) => m.textContent)).toEqual(['YouHello', 'YouStill there?']);
    fake.answer.push({ event: 'message', data: { message: stored } });
    fake.answer.push({ event: 'done', data: { message: message('m2', 'assistant', 'Yes!') } });
    fake.answer.end();
    await vi.waitFor(() => expect(ui.$('.m.assistant:last-child')?.textContent).toContain('Yes!'));
    expect(ui.el.querySelectorAll('.m.visitor')).toHaveLength(2);
  });

  test('"talk to a person" opens a handoff (creating the conversation first) and then stays disabled', async () => {
    const fake = fakeClient();
    const ui = await mountApp(fake);
    const human = [...ui.el.querySelectorAll('button')].find((b) => b.textContent === 'Talk to a person')!;
    human.click();
    await vi.waitFor(() => expect(fake.client.requestHandoff).toHaveBeenCalledWith('c1'));
    await vi.waitFor(() => expect(human.disabled).toBe(true));
    expect(ui.$('.note')!.textContent).toContain('team');
  });
});

describe('offline and errors', () => {
  test('offline: a clear state, and the failed message is sent again with the same id once back online', async () => {
    const fake = fakeClient();
    fake.client.sendMessage.mockImplementationOnce(() => {
      throw new ParleyError(0, 'network', 'Network error', 'Failed to fetch', null);
    });
    const ui = await mountApp(fake);
    ui.type('are you there?');
    ui.key('Enter');
    await vi.waitFor(() => expect(ui.$('.bar[role=status]')?.textContent).toContain("You're offline"));
    dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(2));
    const [first, second] = fake.client.sendMessage.mock.calls;
    expect(second).toEqual(first);
    expect(ui.$('.bar')).toBeNull();
  });

  test('offline: the message shows at once, marked not sent yet, until it is sent; nothing else goes before it', async () => {
    const fake = fakeClient();
    const offline = () => {
      throw new ParleyError(0, 'network', 'Network error', 'Failed to fetch', null);
    };
    fake.client.sendMessage.mockImplementationOnce(offline).mockImplementationOnce(offline);
    const ui = await mountApp(fake);
    ui.type('are you there?');
    ui.key('Enter');
    await vi.waitFor(() => expect(ui.$('.bar[role=status]')?.textContent).toContain("You're offline"));
    expect(ui.textarea().value).toBe('');
    const mine = () => [...ui.el.querySelectorAll('.m.visitor')].map((m) => m.textContent);
    expect(mine()).toEqual(['Youare you there?Not sent yet']);
    // A second message waits in the box: sending tries the first again, with its id.
    ui.type('hello?');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(2));
    expect(ui.textarea().value).toBe('hello?');
    await vi.waitFor(() => expect(mine()).toEqual(['Youare you there?Not sent yet']));
    dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(3));
    const [first, second, third] = fake.client.sendMessage.mock.calls;
    expect([second, third]).toEqual([first, first]);
    // Sending again: no longer marked.
    await vi.waitFor(() => expect(mine()).toEqual(['Youare you there?']));
    fake.answer.push({ event: 'message', data: { message: message('m1', 'visitor', 'are you there?') } });
    fake.answer.push({ event: 'done', data: { message: message('m2', 'assistant', 'Yes.') } });
    fake.answer.end();
    await vi.waitFor(() => expect(ui.$('.m.assistant:last-child')?.textContent).toBe('AssistantYes.'));
    // The stored message took the place of the one shown while sending: once.
    expect(mine()).toEqual(['Youare you there?']);
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(4));
    expect(fake.client.sendMessage.mock.calls[3]!.slice(0, 2)).toEqual(['c1', 'hello?']);
  });

  test('a message at the length limit says so: a longer paste is cut off', async () => {
    const ui = await mountApp(fakeClient());
    expect(ui.textarea().maxLength).toBe(4000);
    ui.type('x'.repeat(3999));
    await settle();
    expect(ui.$('.bar')).toBeNull();
    ui.type('x'.repeat(4000));
    await vi.waitFor(() => expect(ui.$('.bar[role=status]')?.textContent).toBe('Messages are cut off at 4000 characters.'));
  });

  test('going offline shows the state; a failed answer offers a retry', async () => {
    const fake = fakeClient();
    const ui = await mountApp(fake);
    dispatchEvent(new Event('offline'));
    await vi.waitFor(() => expect(ui.$('.bar')?.textContent).toContain("You're offline"));
    dispatchEvent(new Event('online'));
    await vi.waitFor(() => expect(ui.$('.bar')).toBeNull());
    ui.type('hello');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(1));
    fake.answer.push({ event: 'error', data: { type: '/docs/problems/internal', title: 'internal', status: 500, request_id: 'req_1' } });
    await vi.waitFor(() => expect(ui.$('.bar[role=alert]')?.textContent).toContain('Something went wrong.'));
    expect(ui.$('.dots')).toBeNull();
    fake.nextAnswer();
    [...ui.el.querySelectorAll<HTMLButtonElement>('.bar button')].find((b) => b.textContent === 'Retry')!.click();
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(2));
    expect(ui.emitted.some(([e]) => e === 'error')).toBe(true);
  });

  test('where sign-in is required, an anonymous visitor is told so at once and cannot type a message that would be lost', async () => {
    const fake = fakeClient();
    const ui = await mountApp(fake, { settings: { ...SETTINGS, identityMode: 'required' } });
    expect(ui.$('.bar')?.textContent).toBe('Please sign in to chat with us.');
    expect(ui.textarea().disabled).toBe(true);
    expect([...ui.el.querySelectorAll<HTMLButtonElement>('.hd button')].find((b) => b.textContent === 'Talk to a person')!.disabled).toBe(true);
    expect(fake.client.createConversation).not.toHaveBeenCalled();
    // Signed in, the same widget takes messages.
    const verified = await mountApp(fakeClient(), { settings: { ...SETTINGS, identityMode: 'required' }, verified: true });
    expect(verified.textarea().disabled).toBe(false);
    expect(verified.$('.bar')).toBeNull();
  });

  test('a site that requires sign-in says so', async () => {
    const fake = fakeClient();
    fake.client.createConversation.mockRejectedValueOnce(
      new ParleyError(403, '/docs/problems/identity-required', 'identity-required', undefined, 'req_1'),
    );
    const ui = await mountApp(fake);
    ui.type('hello');
    ui.key('Enter');
    await vi.waitFor(() => expect(ui.$('.bar')?.textContent).toBe('Please sign in to chat with us.'));
  });
});
