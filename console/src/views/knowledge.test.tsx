// The Knowledge page's web sources: one page fetched at once, or a sitemap crawled in the background and
// followed while it runs. The server is a stand-in answering as the real one does.
import type { CrawlJob, KnowledgeSource } from '@parley/protocol';
import { act } from 'preact/test-utils';
import { expect, test, vi } from 'vitest';
import { button, json, me, mount, problem, server, settle, type } from '../test/views.js';
import { KnowledgeView } from './knowledge.js';

// A crawl is asked about every 2 s; here every 20 ms.
const POLL = 20;
const later = (ms: number) => act(() => new Promise((r) => setTimeout(r, ms)));

const SITEMAP = 'https://help.example.com/sitemap.xml';
const job = (over: Partial<CrawlJob>): CrawlJob => ({
  id: '00000000-0000-4000-8000-0000000000c1',
  kind: 'sitemap',
  url: SITEMAP,
  status: 'queued',
  pagesTotal: null,
  pagesDone: 0,
  pagesFailed: 0,
  bytes: 0,
  errors: [],
  error: null,
  createdAt: '2027-01-15T08:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  ...over,
});
const source = (title: string): KnowledgeSource =>
  ({
    id: `00000000-0000-4000-8000-0000000000${title.length}0`,
    title,
    externalId: null,
    chunks: 2,
    updatedAt: '2027-01-15T08:00:00.000Z',
  }) as KnowledgeSource;

test('a sitemap is crawled in the background: its progress is followed, and its pages are listed when it ends', async () => {
  // What the crawl's list says now: the test moves the crawl on.
  let jobs: CrawlJob[] = [];
  let sources: KnowledgeSource[] = [];
  const { api, calls } = server({
    'GET /v1/admin/knowledge/sources': () => ({ sources }),
    'GET /v1/admin/knowledge/jobs': () => ({ jobs }),
    'POST /v1/admin/knowledge/sources': () => {
      jobs = [job({})];
      return json({ job: jobs[0] }, 202);
    },
  });
  const el = mount(<KnowledgeView api={api} me={me('admin')} pollMs={POLL} />);
  await settle();
  expect(el.textContent).not.toContain('Sitemap crawls');
  await type(el.querySelector<HTMLInputElement>('#knowledge-url')!, SITEMAP);
  await act(() => el.querySelectorAll<HTMLInputElement>('input[name=knowledge-web-kind]')[1]!.click());
  await act(() => button(el, 'Crawl').click());
  await settle();
  expect(calls.find((c) => c.key === 'POST /v1/admin/knowledge/sources')!.body).toEqual({ kind: 'sitemap', url: SITEMAP });
  await vi.waitFor(() => expect(el.querySelector('.crawl-queued')).not.toBeNull());
  expect(el.textContent).toContain('A crawl is running');
  jobs = [job({ status: 'running', pagesTotal: 10, pagesDone: 3, startedAt: '2027-01-15T08:00:01.000Z' })];
  await vi.waitFor(() => expect(el.querySelector('.crawl-running')).not.toBeNull());
  expect(el.textContent).toContain('3 of 10');
  sources = [source('Returns'), source('Shipping')];
  jobs = [
    job({ status: 'done', pagesTotal: 10, pagesDone: 10, pagesFailed: 1, errors: [{ url: 'https://help.example.com/old', message: 'HTTP 404' }] }),
  ];
  await vi.waitFor(() => expect(el.querySelector('.crawl-done')).not.toBeNull());
  expect(el.textContent).toContain('10 of 10 (1 failed)');
  expect(el.querySelector('details')!.textContent).toContain('HTTP 404');
  // The crawl ended: the sources are read again, and nothing more is asked.
  await vi.waitFor(() => expect(el.querySelector('tbody')!.textContent).toContain('Shipping'));
  const asked = calls.filter((c) => c.key === 'GET /v1/admin/knowledge/jobs').length;
  await later(POLL * 5);
  expect(calls.filter((c) => c.key === 'GET /v1/admin/knowledge/jobs').length).toBe(asked);
});

test('one page is fetched at once; an address the server refuses is explained beside the field', async () => {
  let sources: KnowledgeSource[] = [];
  const { api, calls } = server({
    'GET /v1/admin/knowledge/sources': () => ({ sources }),
    'GET /v1/admin/knowledge/jobs': () => ({ jobs: [] }),
    'POST /v1/admin/knowledge/sources': (body) => {
      if (body.url.includes('localhost'))
        return problem(400, 'Validation failed', 'The request does not match the expected shape.', [
          { path: '/url', message: 'must be a public https address', code: 'custom' },
        ]);
      sources = [source('Returns and refunds')];
      return json({ sources: [{ ...sources[0], changed: true }] }, 201);
    },
  });
  const el = mount(<KnowledgeView api={api} me={me('admin')} pollMs={POLL} />);
  await settle();
  const input = el.querySelector<HTMLInputElement>('#knowledge-url')!;
  await type(input, 'http://localhost/returns');
  await act(() => button(el, 'Fetch').click());
  await vi.waitFor(() => expect(el.querySelector('#knowledge-url-error')?.textContent).toBe('must be a public https address'));
  expect(input.getAttribute('aria-invalid')).toBe('true');
  expect(document.activeElement).toBe(input);
  // The message was about the address as it was: editing it clears the message.
  await type(input, 'https://help.example.com/returns');
  expect(el.querySelector('#knowledge-url-error')).toBeNull();
  expect(input.getAttribute('aria-invalid')).toBeNull();
  await act(() => button(el, 'Fetch').click());
  await vi.waitFor(() => expect(el.querySelector('tbody')!.textContent).toContain('Returns and refunds'));
  expect(calls.filter((c) => c.key === 'POST /v1/admin/knowledge/sources').map((c) => c.body)[1]).toEqual({
    kind: 'url',
    url: 'https://help.example.com/returns',
  });
  expect(el.querySelector('#knowledge-url-error')).toBeNull();
});

test('an agent, who may read but not write knowledge, is offered no Add, Fetch, Delete or Embed; testing retrieval stays', async () => {
  const { api } = server({
    'GET /v1/admin/knowledge/sources': () => ({ sources: [source('Warranty')] }),
    'GET /v1/admin/knowledge/jobs': () => ({ jobs: [] }),
  });
  const el = mount(<KnowledgeView api={api} me={me('agent')} pollMs={POLL} />);
  await vi.waitFor(() => expect(el.querySelector('tbody')!.textContent).toContain('Warranty'));
  for (const label of ['Delete Warranty', 'Add', 'Fetch', 'Embed waiting passages']) expect(() => button(el, label)).toThrow();
  expect(el.querySelector('#knowledge-content')).toBeNull();
  expect(el.querySelector('#knowledge-url')).toBeNull();
  expect(el.querySelectorAll('thead th')).toHaveLength(4);
  expect(el.textContent).toContain('an owner or admin adds and deletes sources');
  expect(button(el, 'Search')).toBeDefined();
});

test('adding Markdown says what was stored, in words, and takes the focus there; the emptied form leaves nothing behind', async () => {
  let sources: KnowledgeSource[] = [];
  const { api } = server({
    'GET /v1/admin/knowledge/sources': () => ({ sources }),
    'GET /v1/admin/knowledge/jobs': () => ({ jobs: [] }),
    'POST /v1/admin/knowledge/sources': () => {
      sources = [{ ...source('Warranty'), chunks: 1 }];
      return json({ sources: [{ ...sources[0], changed: true }] }, 201);
    },
  });
  const el = mount(<KnowledgeView api={api} me={me('admin')} pollMs={POLL} />);
  await settle();
  await type(el.querySelector<HTMLTextAreaElement>('#knowledge-content')!, '# Warranty');
  const add = button(el, 'Add');
  add.focus();
  await act(() => add.click());
  // While it runs the button keeps the focus: busy, not disabled.
  expect(document.activeElement).toBe(add);
  await vi.waitFor(() => expect(el.textContent).toContain('Added “Warranty”: 1 passage.'));
  await later(10);
  // Done, the box is empty and Add disabled: the focus is on what was done, not the page.
  expect(add.disabled).toBe(true);
  expect(document.activeElement?.textContent).toBe('Added “Warranty”: 1 passage.');
});

test('a refused delete is explained beside the list it was asked from, in plain words, and the count is singular', async () => {
  const asked = vi.fn(() => true);
  vi.stubGlobal('confirm', asked);
  const { api } = server({
    'GET /v1/admin/knowledge/sources': () => ({ sources: [{ ...source('Warranty'), chunks: 1 }] }),
    'GET /v1/admin/knowledge/jobs': () => ({ jobs: [] }),
    'DELETE /v1/admin/knowledge/sources/00000000-0000-4000-8000-000000000080': () =>
      json(
        {
          type: '/docs/problems/missing-capability',
          title: 'Missing capability',
          status: 403,
          detail: 'This key or role lacks the capability knowledge:write.',
          request_id: 'req-7',
        },
        403,
        'application/problem+json',
      ),
  });
  const el = mount(<KnowledgeView api={api} me={me('admin')} pollMs={POLL} />);
  await vi.waitFor(() => expect(el.querySelector('tbody')!.textContent).toContain('Warranty'));
  await act(() => button(el, 'Delete Warranty').click());
  expect(asked).toHaveBeenCalledWith('Delete “Warranty” and its 1 passage? The assistant stops answering from it.');
  await vi.waitFor(() => expect(el.querySelector('[role=alert]')).not.toBeNull());
  const alert = el.querySelector('[role=alert]')!;
  expect(alert.querySelector('strong')!.textContent).toBe('You don’t have permission to do this');
  // Right after the list, before the Add form.
  expect(alert.compareDocumentPosition(el.querySelector('#knowledge-content')!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  expect(el.querySelector('.table-scroll')!.compareDocumentPosition(alert) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  vi.unstubAllGlobals();
});
