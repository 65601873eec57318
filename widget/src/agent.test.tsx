// The visitor's side of a conversation with a person: who replies (name and initial), typing both ways,
// the "will reply" note until the first reply, the resolved notice with its rating, and the away notice
// with an email field outside business hours.
import { ParleyError } from '@parley/browser';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { when } from './away.js';
import { fakeClient, message } from './test/fake-client.js';
import { mountApp, settle } from './test/mount.js';
import { typingSender } from './typing.js';

afterEach(() => {
  document.body.innerHTML = '';
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const sam = { name: 'Sam Lee', initial: 'S' };
const resumed = () => fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1' } });
const button = (root: Element, text: string) =>
  [...root.querySelectorAll('button')].find((b) => b.textContent === text || b.getAttribute('aria-label') === text)!;

describe('who replies', () => {
  test('an agent\'s message shows the agent\'s name and initial; the "will reply" note goes with the first reply', async () => {
    const fake = resumed();
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' } }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.note')?.textContent).toBe('A member of our team will reply here.'));
    fake.live.push({ event: 'status', data: { handoff: { id: 'h1', status: 'assigned' } }, id: '2' });
    await settle();
    expect(ui.$('.note')?.textContent).toBe('A member of our team will reply here.');
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'Hi, this is Sam from Acme', { author: sam }) }, id: '3' });
    await vi.waitFor(() => expect(ui.$('.m.agent')).not.toBeNull());
    expect(ui.$('.m.agent .who')!.textContent).toBe('SSam Lee');
    expect(ui.$('.m.agent .av')!.getAttribute('aria-hidden')).toBe('true');
    expect(ui.$('.m.agent .md')!.textContent).toBe('Hi, this is Sam from Acme');
    expect(ui.$('.note')).toBeNull();
    // Announced: agent messages land in the polite log.
    expect(ui.$('.m.agent')!.closest('[role=log]')!.getAttribute('aria-live')).toBe('polite');
  });

  test('a reload: the stored history (with a reply) shows no "will reply" note, and the replayed feed agrees', async () => {
    const fake = fakeClient({
      stored: { visitorSecret: 'pvs_1', conversationId: 'c1' },
      history: [message('m1', 'visitor', 'A person please'), message('m2', 'agent', 'Sam here', { author: sam })],
    });
    fake.client.getConversation.mockImplementationOnce(async (id: string) => ({
      conversation: { id, status: 'handoff', verified: false, createdAt: '2025-01-01T00:00:00.000Z' },
      messages: [message('m1', 'visitor', 'A person please'), message('m2', 'agent', 'Sam here', { author: sam })],
    }));
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(ui.$('.m.agent .who')?.textContent).toBe('SSam Lee'));
    expect(ui.$('.note')).toBeNull();
    // The new stream replays from the start: handoff, then the reply (already shown, kept once).
    fake.live.push({ event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' } }, id: '1' });
    fake.live.push({ event: 'message', data: { message: message('m2', 'agent', 'Sam here', { author: sam }) }, id: '2' });
    await settle();
    expect(ui.el.querySelectorAll('.m.agent')).toHaveLength(1);
    expect(ui.$('.note')).toBeNull();
  });

  test('right under the assistant\'s handoff notice, no "will reply" note says it again; after the visitor writes on, it does', async () => {
    const fake = fakeClient();
    const ui = await mountApp(fake);
    ui.type('I need a human');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(1));
    const notice = "I've asked a member of our team to take over. They'll reply here as soon as they can.";
    fake.answer.push({ event: 'done', data: { message: message('m2', 'assistant', notice, { notice: 'handoff' }) } });
    fake.answer.push({ event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' } } });
    fake.answer.end();
    await vi.waitFor(() => expect(ui.$<HTMLButtonElement>('.hd button')!.disabled).toBe(true));
    expect([...ui.el.querySelectorAll('.m .md')].at(-1)?.textContent).toBe(notice);
    expect(ui.$('.note')).toBeNull();

    fake.nextAnswer();
    ui.type('Hello? Anyone there?');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalledTimes(2));
    fake.answer.push({ event: 'done', data: { message: message('m3', 'visitor', 'Hello? Anyone there?') } });
    fake.answer.end();
    await vi.waitFor(() => expect(ui.$('.note')?.textContent).toBe('A member of our team will reply here.'));
  });

  test('taken by an agent: a person is on it, still "will reply" until they do', async () => {
    const fake = resumed();
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'assigned', data: { handoff: { id: 'h1', status: 'assigned' }, assignee: { displayName: 'Sam Lee' } }, id: '1' });
    await vi.waitFor(() => expect(ui.$<HTMLButtonElement>('.hd button')!.disabled).toBe(true));
    expect(ui.$('.note')?.textContent).toBe('A member of our team will reply here.');
  });

  test('without an author (an older message) the agent is "Support team"', async () => {
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1' }, history: [message('m1', 'agent', 'Hello')] });
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(ui.$('.m.agent .who')?.textContent).toBe('Support team'));
    expect(ui.$('.av')).toBeNull();
  });
});

describe('typing', () => {
  test('"Sam is typing…" from the feed, in the live log; gone on stop or on the reply; the echo of my own typing is ignored', async () => {
    const fake = resumed();
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'typing', data: { role: 'visitor', active: true }, id: '1' });
    await settle();
    expect(ui.$('.note[role=status]')).toBeNull();
    fake.live.push({ event: 'typing', data: { role: 'agent', name: 'Sam', active: true }, id: '2' });
    await vi.waitFor(() => expect(ui.$('.note[role=status]')?.textContent).toBe('Sam is typing…'));
    expect(ui.$('.note[role=status]')!.closest('[role=log]')).not.toBeNull();
    fake.live.push({ event: 'typing', data: { role: 'agent', name: 'Sam', active: false }, id: '3' });
    await vi.waitFor(() => expect(ui.$('.note[role=status]')).toBeNull());
    fake.live.push({ event: 'typing', data: { role: 'agent', active: true }, id: '4' });
    await vi.waitFor(() => expect(ui.$('.note[role=status]')?.textContent).toBe('Support team is typing…'));
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'Done', { author: sam }) }, id: '5' });
    await vi.waitFor(() => expect(ui.$('.note[role=status]')).toBeNull());
  });

  test("the visitor's typing reaches the agent only once a person is involved: throttled, then stopped on send and on blur", async () => {
    const fake = resumed();
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    ui.type('h');
    await settle();
    expect(fake.client.sendTyping).not.toHaveBeenCalled();
    fake.live.push({ event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' } }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.note')).not.toBeNull());
    ui.type('he');
    ui.type('hel');
    ui.type('hell');
    expect(fake.client.sendTyping.mock.calls).toEqual([['c1', true]]);
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalled());
    expect(fake.client.sendTyping.mock.calls).toEqual([
      ['c1', true],
      ['c1', false],
    ]);
    ui.type('again');
    ui.textarea().dispatchEvent(new FocusEvent('blur'));
    expect(fake.client.sendTyping.mock.calls.slice(2)).toEqual([
      ['c1', true],
      ['c1', false],
    ]);
    // Blur with nothing typed since sends nothing.
    ui.textarea().dispatchEvent(new FocusEvent('blur'));
    expect(fake.client.sendTyping).toHaveBeenCalledTimes(4);
  });

  test('the sender: one "typing" per interval while keys come, one "stopped" after a pause', () => {
    vi.useFakeTimers();
    const sent: boolean[] = [];
    const s = typingSender((a) => sent.push(a), 3000, 5000);
    s.input();
    vi.advanceTimersByTime(1000);
    s.input();
    vi.advanceTimersByTime(1000);
    s.input();
    expect(sent).toEqual([true]);
    vi.advanceTimersByTime(1000);
    s.input();
    expect(sent).toEqual([true, true]);
    vi.advanceTimersByTime(4999);
    expect(sent).toEqual([true, true]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([true, true, false]);
    s.stop();
    expect(sent).toEqual([true, true, false]);
  });
});

describe('resolved, and the rating', () => {
  test('a resolved notice after the last message; a score (labelled buttons), a comment, one post, a thank-you', async () => {
    const fake = resumed();
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' } }, id: '1' });
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'Fixed!', { author: sam }) }, id: '2' });
    fake.live.push({ event: 'resolved', data: { handoff: { id: 'h1' }, csat: true }, id: '3' });
    await vi.waitFor(() => expect(ui.$('.card')?.textContent).toContain('This conversation has been resolved.'));
    expect(ui.$('.card')!.previousElementSibling!.className).toBe('m agent');
    expect(ui.$<HTMLButtonElement>('.hd button')!.disabled).toBe(false);
    const group = ui.$('.stars[role=group]')!;
    expect(ui.el.querySelector(`#${group.getAttribute('aria-labelledby')}`)!.textContent).toBe('How did we do?');
    const stars = [...group.querySelectorAll('button')];
    expect(stars.map((b) => b.getAttribute('aria-label'))).toEqual(['1 out of 5', '2 out of 5', '3 out of 5', '4 out of 5', '5 out of 5']);
    expect(stars.every((b) => b.type === 'button' && b.getAttribute('aria-pressed') === 'false')).toBe(true);
    stars[3]!.click();
    await vi.waitFor(() => expect(stars[3]!.getAttribute('aria-pressed')).toBe('true'));
    // Chosen stars differ in shape, not only in colour.
    expect(stars.map((b) => `${b.className}${b.textContent}`)).toEqual(['on★', 'on★', 'on★', 'on★', '☆']);
    const comment = ui.$<HTMLTextAreaElement>('.card textarea')!;
    expect(comment.getAttribute('aria-label')).toBe('Anything to add? (optional)');
    expect(comment.dir).toBe('');
    comment.value = '  Quick and kind  ';
    comment.dispatchEvent(new Event('input', { bubbles: true }));
    // Written, a comment takes its own direction (in another script than the page's too).
    await vi.waitFor(() => expect(comment.getAttribute('dir')).toBe('auto'));
    await settle();
    fake.client.rate.mockRejectedValueOnce(new Error('offline'));
    ui.$<HTMLFormElement>('.card form')!.requestSubmit();
    await vi.waitFor(() => expect(ui.$('.card [role=alert]')?.textContent).toBe('Something went wrong.'));
    ui.$<HTMLButtonElement>('.card button[type=submit]')!.focus();
    ui.$<HTMLFormElement>('.card form')!.requestSubmit();
    await vi.waitFor(() => expect(ui.$('.card [role=status]')?.textContent).toBe('Thank you for your feedback!'));
    expect(fake.client.rate.mock.calls).toEqual([
      ['c1', 4, 'Quick and kind'],
      ['c1', 4, 'Quick and kind'],
    ]);
    expect(ui.$('.stars')).toBeNull();
    expect(document.activeElement).toBe(ui.textarea());
    // The conversation goes on below the notice.
    fake.live.push({ event: 'message', data: { message: message('m2', 'system', 'later') }, id: '4' });
    await vi.waitFor(() => expect(ui.el.querySelector('.log')!.lastElementChild!.textContent).toBe('later'));
  });

  test('the rating card comes fully into view, and again when a score brings its comment and Send', async () => {
    const scrolled: Element[] = [];
    vi.spyOn(HTMLElement.prototype, 'scrollIntoView').mockImplementation(function (this: Element) {
      scrolled.push(this);
    });
    const fake = resumed();
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'Fixed!', { author: sam }) }, id: '1' });
    fake.live.push({ event: 'resolved', data: { handoff: { id: 'h1' }, csat: true }, id: '2' });
    await vi.waitFor(() => expect(scrolled).toContain(ui.$('.card')));
    scrolled.length = 0;
    button(ui.el, '4 out of 5').click();
    await vi.waitFor(() => expect(ui.$('.card button[type=submit]')).not.toBeNull());
    await vi.waitFor(() => expect(scrolled).toContain(ui.$('.card')));
  });

  test('after a reload the replayed feed puts the notice where it was, before what came later', async () => {
    const later = [
      message('m1', 'visitor', 'Help'),
      message('m2', 'agent', 'Fixed!', { author: sam }),
      message('m3', 'visitor', 'One more question'),
      message('m4', 'assistant', 'Sure.'),
    ];
    const fake = fakeClient({ stored: { visitorSecret: 'pvs_1', conversationId: 'c1' }, history: later });
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(ui.el.querySelectorAll('.m')).toHaveLength(5));
    fake.live.push({ event: 'message', data: { message: later[0]! }, id: '1' });
    fake.live.push({ event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' } }, id: '2' });
    fake.live.push({ event: 'message', data: { message: later[1]! }, id: '3' });
    fake.live.push({ event: 'resolved', data: { handoff: { id: 'h1' }, csat: true }, id: '4' });
    fake.live.push({ event: 'message', data: { message: later[2]! }, id: '5' });
    fake.live.push({ event: 'message', data: { message: later[3]! }, id: '6' });
    await vi.waitFor(() => expect(ui.$('.card')).not.toBeNull());
    await settle();
    expect(ui.$('.card')!.previousElementSibling!.textContent).toContain('Fixed!');
    expect(ui.$('.card')!.nextElementSibling!.textContent).toContain('One more question');
  });

  test('a score alone is enough; reopened takes the notice away and the conversation goes on with the agent', async () => {
    const fake = resumed();
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'resolved', data: { handoff: { id: 'h1' }, csat: true }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.stars')).not.toBeNull());
    button(ui.el, '5 out of 5').click();
    await settle();
    ui.$<HTMLFormElement>('.card form')!.requestSubmit();
    await vi.waitFor(() => expect(fake.client.rate).toHaveBeenCalledWith('c1', 5, undefined));
    fake.live.push({ event: 'reopened', data: { handoff: { id: 'h1', status: 'assigned' } }, id: '2' });
    await vi.waitFor(() => expect(ui.$('.card')).toBeNull());
    expect(ui.$<HTMLButtonElement>('.hd button')!.disabled).toBe(true);
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'One more thing', { author: sam }) }, id: '3' });
    await vi.waitFor(() => expect(ui.$('.m.agent')).not.toBeNull());
  });

  test('a rating already given (the notice replayed after a reload) thanks instead of failing; no rating when none is offered', async () => {
    const fake = resumed();
    fake.client.rate.mockRejectedValueOnce(
      new ParleyError(409, '/docs/problems/conflict', 'conflict', 'This conversation was rated already.', 'req_1'),
    );
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'resolved', data: { handoff: { id: 'h1' }, csat: true }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.stars')).not.toBeNull());
    button(ui.el, '2 out of 5').click();
    await settle();
    ui.$<HTMLFormElement>('.card form')!.requestSubmit();
    await vi.waitFor(() => expect(ui.$('.card [role=status]')?.textContent).toBe('Thank you for your feedback!'));
    fake.live.push({ event: 'reopened', data: { handoff: { id: 'h1', status: 'assigned' } }, id: '2' });
    fake.live.push({ event: 'resolved', data: { handoff: { id: 'h1' }, csat: false }, id: '3' });
    await vi.waitFor(() => expect(ui.$('.card')?.textContent).toBe('This conversation has been resolved.'));
    expect(ui.$('.card form')).toBeNull();
  });

  test('in French', async () => {
    const fake = resumed();
    const ui = await mountApp(fake, {}, 'fr');
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'resolved', data: { handoff: { id: 'h1' }, csat: true }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.card')?.textContent).toContain('Cette conversation a été résolue.'));
    expect(button(ui.el, '3 sur 5')).toBeDefined();
  });
});

describe('outside business hours', () => {
  const NEXT = '2026-12-01T12:00:00.000Z';

  test("the date and time the team is back, in the visitor's language (and time zone)", () => {
    expect(when(NEXT, 'en')).toMatch(/Tuesday.*December/);
    expect(when(NEXT, 'fr')).toMatch(/mardi.*décembre/);
    expect(when(NEXT, 'de')).toMatch(/Dienstag.*Dezember/);
    expect(when(NEXT, 'ar')).toMatch(/الثلاثاء/);
    expect(when(NEXT, 'en')).toBe(
      new Intl.DateTimeFormat('en', { weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit' }).format(new Date(NEXT)),
    );
    expect(when(NEXT, 'en-GB')).toMatch(/Tuesday,? 1 December/);
    // The visitor's own clock: the same instant reads differently in Tokyo and in Los Angeles.
    try {
      vi.stubEnv('TZ', 'Asia/Tokyo');
      expect(when(NEXT, 'en-GB')).toMatch(/Tuesday,? 1 December.* 21:00/);
      vi.stubEnv('TZ', 'America/Los_Angeles');
      expect(when(NEXT, 'en-GB')).toMatch(/Tuesday,? 1 December.* 0?4:00/);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(when(NEXT, 'en-!!')).toBe(when(NEXT, 'en'));
    expect(when('not a date', 'en')).toBe('');
  });

  test('asking for a person after hours: when they will hear back, and an email field that is sent once', async () => {
    const fake = fakeClient();
    fake.client.requestHandoff.mockResolvedValueOnce({ id: 'h1', status: 'pending', outsideHours: true, nextOpenAt: NEXT });
    const ui = await mountApp(fake);
    button(ui.el, 'Talk to a person').click();
    await vi.waitFor(() => expect(ui.$('.card')?.textContent).toContain(`We're away right now. We'll reply from ${when(NEXT, 'en')}.`));
    const input = ui.$<HTMLInputElement>('.card input')!;
    expect(input.type).toBe('email');
    expect(ui.el.querySelector(`label[for="${input.id}"]`)!.textContent).toBe("Leave your email and we'll reply there.");
    input.value = ' ana@example.com ';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await settle();
    fake.client.leaveContact.mockRejectedValueOnce(new Error('nope'));
    ui.$<HTMLFormElement>('.card form')!.requestSubmit();
    await vi.waitFor(() => expect(ui.$('.card [role=alert]')).not.toBeNull());
    ui.$<HTMLButtonElement>('.card button[type=submit]')!.focus();
    ui.$<HTMLFormElement>('.card form')!.requestSubmit();
    await vi.waitFor(() => expect(ui.$('.card [role=status]')?.textContent).toBe("Thanks! We'll reply to ana@example.com."));
    expect(fake.client.leaveContact.mock.calls).toEqual([
      ['c1', 'ana@example.com'],
      ['c1', 'ana@example.com'],
    ]);
    expect(ui.$('.card input')).toBeNull();
    expect(document.activeElement).toBe(ui.textarea());
    // An agent replies anyway: the away notice has done its job.
    fake.live.push({ event: 'message', data: { message: message('m1', 'agent', 'Early today!', { author: sam }) }, id: '9' });
    await vi.waitFor(() => expect(ui.$('.card')).toBeNull());
  });

  test('a handoff the assistant made after hours (in the answer stream) says so too, without a time when none is known', async () => {
    const fake = fakeClient();
    const ui = await mountApp(fake);
    ui.type('I need a human');
    ui.key('Enter');
    await vi.waitFor(() => expect(fake.client.sendMessage).toHaveBeenCalled());
    fake.answer.push({ event: 'done', data: { message: message('m1', 'assistant', 'Let me find someone.') } });
    fake.answer.push({ event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' }, outsideHours: true, nextOpenAt: null } });
    fake.answer.end();
    await vi.waitFor(() => expect(ui.$('.card p')?.textContent).toBe("We're away right now."));
  });

  test('coming back after leaving an email (the replayed handoff says so): the notice, no email field again', async () => {
    const fake = resumed();
    const ui = await mountApp(fake);
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({
      event: 'handoff',
      data: { handoff: { id: 'h1', status: 'pending' }, outsideHours: true, nextOpenAt: NEXT, contactLeft: true },
      id: '1',
    });
    await vi.waitFor(() => expect(ui.$('.card p')?.textContent).toContain("We're away right now."));
    expect(ui.$('.card input')).toBeNull();
  });

  test('right to left in Arabic, the date in Arabic', async () => {
    const fake = resumed();
    const ui = await mountApp(fake, {}, 'ar');
    await vi.waitFor(() => expect(fake.client.events).toHaveBeenCalled());
    fake.live.push({ event: 'handoff', data: { handoff: { id: 'h1', status: 'pending' }, outsideHours: true, nextOpenAt: NEXT }, id: '1' });
    await vi.waitFor(() => expect(ui.$('.card')?.textContent).toContain(when(NEXT, 'ar')));
    expect(ui.$('.card')!.closest('[dir]')!.getAttribute('dir')).toBe('rtl');
    expect(ui.$('.card p')!.textContent).toContain('نحن غير متاحين الآن.');
  });
});
