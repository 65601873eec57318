// The reports view in a DOM with a stand-in for the server (a fake fetch), as in console.test.tsx.
import { ROLE_CAPABILITIES, type AdminMe, type ReportResponse, type Role } from '@parley/protocol';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createClient } from './api.js';
import { App } from './app.js';
import { duration, ReportsView } from './views/reports.js';

const me = (role: Role): AdminMe => ({
  tenant: { id: '00000000-0000-4000-8000-0000000000aa', name: 'Acme' },
  capabilities: [...ROLE_CAPABILITIES[role]],
  member: {
    id: '00000000-0000-4000-8000-00000000a001',
    email: 'ann@acme.example',
    displayName: 'Ann Example',
    role,
    sessionId: '00000000-0000-4000-8000-000000005e55',
  },
  apiKey: null,
});

const REPORT: ReportResponse = {
  range: { from: '2026-01-10', to: '2026-01-12', timeZone: 'UTC', days: 3 },
  conversations: { total: 6, answered: 2, handedOff: 4 },
  handoffs: {
    total: 4,
    byReason: [
      { reason: 'visitor_request', count: 2 },
      { reason: 'low_confidence', count: 1 },
      { reason: 'sensitive_topic', count: 1 },
    ],
  },
  firstResponse: { count: 4, medianSeconds: 90, p90Seconds: 246 },
  resolution: { count: 3, medianSeconds: 600, p90Seconds: 1080 },
  csat: {
    count: 3,
    average: 3.33,
    distribution: [1, 2, 3, 4, 5].map((score) => ({ score, count: score === 2 || score === 3 ? 0 : 1 })),
  },
  unanswered: {
    total: 4,
    clusters: [
      {
        terms: ['password', 'reset'],
        count: 2,
        lastAskedAt: '2026-01-12T09:00:00.000Z',
        examples: [
          { conversationId: 'c1', text: 'Reset mail never came, write to [EMAIL_1]', askedAt: '2026-01-12T09:00:00.000Z' },
          { conversationId: 'c2', text: 'How do I reset my password? <img src=x onerror=alert(1)>', askedAt: '2026-01-11T09:00:00.000Z' },
        ],
      },
      {
        terms: ['norway', 'ship'],
        count: 1,
        lastAskedAt: '2026-01-10T09:00:00.000Z',
        examples: [{ conversationId: 'c3', text: 'Do you ship to Norway?', askedAt: '2026-01-10T09:00:00.000Z' }],
      },
      {
        terms: [],
        count: 1,
        lastAskedAt: '2026-01-10T08:00:00.000Z',
        examples: [{ conversationId: 'c4', text: 'Hello?', askedAt: '2026-01-10T08:00:00.000Z' }],
      },
    ],
  },
  daily: [
    { date: '2026-01-10', conversations: 2, answered: 1, handedOff: 1 },
    { date: '2026-01-11', conversations: 2, answered: 1, handedOff: 1 },
    { date: '2026-01-12', conversations: 2, answered: 0, handedOff: 2 },
  ],
};

const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });

/** A fake server answering reports with `reply(query)`; records every request. */
function server(reply: (q: URLSearchParams) => Response = () => json(REPORT)) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchImpl = vi.fn(async (url: string, init: RequestInit = {}) => {
    calls.push({ url, init });
    const u = new URL(url, 'http://console.test');
    if (u.pathname === '/v1/admin/reports') return reply(u.searchParams);
    return json({ type: '/docs/problems/not-found', title: 'not-found', status: 404, request_id: 'r' }, 404, 'application/problem+json');
  });
  return {
    fetchImpl: fetchImpl as unknown as typeof fetch,
    calls,
    queries: () => calls.map((c) => new URL(c.url, 'http://console.test').searchParams),
  };
}

function mount(node: preact.ComponentChild) {
  const el = document.createElement('div');
  document.body.append(el);
  act(() => render(node, el));
  return el;
}

afterEach(() => {
  document.body.innerHTML = '';
  location.hash = '';
  vi.useRealTimers();
});

describe('reports', () => {
  test('tiles, a chart with a table alternative, reasons, ratings and grouped questions with a link to add knowledge', async () => {
    const s = server();
    const el = mount(<ReportsView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={me('admin')} />);
    await vi.waitFor(() => expect(el.querySelector('.tiles')).not.toBeNull());
    // The last 30 days in this browser's time zone by default; same-origin, cookies only.
    const q = s.queries()[0]!;
    expect(Date.parse(q.get('to')!) - Date.parse(q.get('from')!)).toBe(29 * 86_400_000);
    expect(q.get('timeZone')).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(s.calls[0]!.init.credentials).toBe('same-origin');
    expect(new Headers(s.calls[0]!.init.headers).has('Authorization')).toBe(false);

    const tiles = [...el.querySelectorAll('.tile')].map((t) => [t.querySelector('dt')!.textContent, t.querySelector('.tile-value')!.textContent]);
    expect(tiles).toEqual([
      ['Conversations', '6'],
      ['Answered by the assistant', '2'],
      ['Handed off', '4'],
      ['First response (median)', '1 min 30 s'],
      ['Resolution (median)', '10 min'],
      ['Satisfaction', '3.33 / 5'],
    ]);
    expect(el.querySelector('.tile:nth-child(2) .tile-note')!.textContent).toBe('33%');
    expect(el.querySelector('.tile:nth-child(4) .tile-note')!.textContent).toBe('p90 4 min 6 s · 4 handoffs');

    // The chart: one group per day, bars in proportion, named for assistive technology; the table says the same.
    const svg = el.querySelector('svg[role="img"]')!;
    expect(svg.getAttribute('aria-labelledby')).toBeTruthy();
    expect(el.querySelector(`#${svg.getAttribute('aria-labelledby')}`)!.textContent).toBe('Conversations per day');
    expect(el.querySelector(`#${svg.getAttribute('aria-describedby')}`)!.textContent).toContain('6 conversations over 3 days');
    expect(svg.querySelectorAll('g')).toHaveLength(3);
    expect([...svg.querySelectorAll('g:nth-of-type(3) rect')].map((r) => [r.getAttribute('class'), r.getAttribute('height')])).toEqual([
      ['handed-off', '100'],
    ]);
    const rows = [...el.querySelectorAll('.chart tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(rows).toEqual([
      ['2026-01-10', '2', '1', '1'],
      ['2026-01-11', '2', '1', '1'],
      ['2026-01-12', '2', '0', '2'],
    ]);

    const reasons = [...el.querySelectorAll('[aria-labelledby="report-reasons"] tr')].map((tr) => [
      tr.querySelector('th')!.textContent,
      tr.querySelector('.count')!.textContent,
    ]);
    expect(reasons).toEqual([
      ['The visitor asked for a person', '2'],
      ['The assistant was not sure', '1'],
      ['A sensitive topic', '1'],
    ]);
    const ratings = [...el.querySelectorAll('[aria-labelledby="report-csat"] tr')].map((tr) => [
      tr.querySelector('th')!.textContent,
      tr.querySelector('.count')!.textContent,
    ]);
    expect(ratings).toEqual([
      ['5 ★', '1'],
      ['4 ★', '1'],
      ['3 ★', '0'],
      ['2 ★', '0'],
      ['1 ★', '1'],
    ]);

    const clusters = [...el.querySelectorAll('.cluster')];
    expect(clusters.map((c) => c.querySelector('strong')!.textContent)).toEqual(['password · reset', 'norway · ship', 'Without a topic']);
    // Questions without a topic name nothing to write knowledge about.
    expect(clusters.map((c) => c.querySelector('a.add-knowledge') !== null)).toEqual([true, true, false]);
    const link = clusters[0]!.querySelector<HTMLAnchorElement>('a.add-knowledge')!;
    expect(link.getAttribute('href')).toBe('#knowledge');
    expect(link.getAttribute('aria-label')).toBe('Add knowledge about password · reset');
    // Visitor text is text: the redaction token as stored, markup never rendered.
    expect(clusters[0]!.textContent).toContain('write to [EMAIL_1]');
    expect(el.querySelector('.cluster img')).toBeNull();
    expect(clusters[0]!.textContent).toContain('<img src=x onerror=alert(1)>');
  });

  test('a chosen range and the presets ask again; a refused range is shown as a problem', async () => {
    const s = server((q) =>
      q.get('from')! > q.get('to')!
        ? json(
            {
              type: '/docs/problems/validation',
              title: 'Invalid request',
              status: 400,
              request_id: 'req_r',
              errors: [{ path: '/to', message: 'must not be before from', code: 'custom' }],
            },
            400,
            'application/problem+json',
          )
        : json(REPORT),
    );
    const el = mount(<ReportsView api={createClient({ fetchImpl: s.fetchImpl }).admin} me={me('agent')} />);
    await vi.waitFor(() => expect(el.querySelector('.tiles')).not.toBeNull());
    // An agent reads knowledge but cannot add it: no link that leads nowhere.
    expect(el.querySelector('a.add-knowledge')).toBeNull();

    await act(() => [...el.querySelectorAll('button')].find((b) => b.textContent === 'Last 7 days')!.click());
    await vi.waitFor(() => expect(s.calls).toHaveLength(2));
    const week = s.queries()[1]!;
    expect(Date.parse(week.get('to')!) - Date.parse(week.get('from')!)).toBe(6 * 86_400_000);

    const set = (id: string, value: string) =>
      act(() => {
        const input = el.querySelector<HTMLInputElement>(id)!;
        input.value = value;
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
    await set('#report-from', '2026-01-12');
    await set('#report-to', '2026-01-10');
    await act(() => void el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true })));
    await vi.waitFor(() => expect(el.querySelector('[role="alert"]')?.textContent).toContain('must not be before from'));
    expect(s.queries()[2]!.get('from')).toBe('2026-01-12');
    expect(el.querySelector('[role="alert"]')!.textContent).toContain('req_r');
  });

  test('an empty range says so instead of drawing nothing', async () => {
    const empty: ReportResponse = {
      ...REPORT,
      conversations: { total: 0, answered: 0, handedOff: 0 },
      handoffs: { total: 0, byReason: [] },
      firstResponse: { count: 0, medianSeconds: null, p90Seconds: null },
      resolution: { count: 0, medianSeconds: null, p90Seconds: null },
      csat: { count: 0, average: null, distribution: [1, 2, 3, 4, 5].map((score) => ({ score, count: 0 })) },
      unanswered: { total: 0, clusters: [] },
      daily: REPORT.daily.map((d) => ({ ...d, conversations: 0, answered: 0, handedOff: 0 })),
    };
    const el = mount(<ReportsView api={createClient({ fetchImpl: server(() => json(empty)).fetchImpl }).admin} me={me('admin')} />);
    await vi.waitFor(() => expect(el.querySelector('.tiles')).not.toBeNull());
    expect(el.textContent).toContain('No handoffs in this range.');
    expect(el.textContent).toContain('None in this range.');
    expect(el.querySelector('.tile:nth-child(4) .tile-value')!.textContent).toBe('—');
    expect(el.querySelector('.tile:nth-child(6) .tile-note')!.textContent).toBe('0 ratings');
    expect(el.querySelectorAll('svg rect')).toHaveLength(0);
  });

  test('durations read in at most two units', () => {
    expect([null, 0, 45.4, 60, 90, 246, 3600, 7500, 90_000, 266_400].map(duration)).toEqual([
      '—',
      '0 s',
      '45 s',
      '1 min',
      '1 min 30 s',
      '4 min 6 s',
      '1 h',
      '2 h 5 min',
      '1 d 1 h',
      '3 d 2 h',
    ]);
  });

  test('the navigation offers Reports to those who read conversations', async () => {
    const fetchImpl = vi.fn(async (url: string) => {
      if (url === '/v1/admin/me') return json(me('analyst'));
      if (url.startsWith('/v1/admin/reports')) return json(REPORT);
      return json({ handoffs: [], sources: [] });
    }) as unknown as typeof fetch;
    location.hash = '#reports';
    const el = mount(<App fetchImpl={fetchImpl} />);
    await vi.waitFor(() => expect(el.querySelector('h1')?.textContent).toBe('Reports'));
    expect(el.querySelector('nav a[aria-current="page"]')!.getAttribute('href')).toBe('#reports');
    await vi.waitFor(() => expect(el.querySelector('.tiles')).not.toBeNull());
  });
});
