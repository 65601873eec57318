// The console's building blocks in a DOM: sign-in and the key's storage, problem display, secrets shown
// once, redaction tokens and highlighted matches, and the API client's handling of problems.
import { CAPABILITIES as PROTOCOL_CAPABILITIES } from '@parley/protocol';
import { render } from 'preact';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ApiError, createApi, type Api } from './api.js';
import { App } from './app.js';
import { Highlighted, ProblemView, SecretOnce } from './components.js';
import { verifyConsistency, verifyInclusion } from './merkle.js';
import { AuditView, checkContinuity, rememberedKey } from './views/audit.js';
import { loadKey } from './session.js';
import { InboxView, RedactedText } from './views/inbox.js';
import { CAPABILITIES, KeysView } from './views/keys.js';
import { KnowledgeView } from './views/knowledge.js';

const KEY = `sk_test_${'A1b2C3d4'.repeat(4)}`;
const settle = () => new Promise((r) => setTimeout(r, 30));
const me = (capabilities: string[]) => ({
  tenant: { id: '00000000-0000-4000-8000-0000000000aa', name: 'Acme' },
  apiKey: { id: '00000000-0000-4000-8000-0000000000bb', name: 'Agents', prefix: KEY.slice(0, 12), capabilities, expiresAt: null },
});

function mount(node: preact.ComponentChild) {
  const el = document.createElement('div');
  document.body.append(el);
  render(node, el);
  return el;
}
// Preact renders after a tick: let the typed value reach state before the form is submitted.
const type = async (input: HTMLInputElement | HTMLTextAreaElement, value: string) => {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await settle();
};
const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type, 'X-Request-Id': 'req_header' } });

afterEach(() => {
  document.body.innerHTML = '';
  sessionStorage.clear();
  localStorage.clear();
  location.hash = '';
  vi.restoreAllMocks();
});

describe('sign-in', () => {
  test('refuses what is not a secret key, and says where the key goes', async () => {
    const el = mount(<App fetchImpl={vi.fn()} />);
    expect(el.textContent).toContain('sent only to this server');
    await type(el.querySelector<HTMLInputElement>('#secret-key')!, 'pk_test_abc');
    el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await settle();
    expect(el.querySelector('[role=alert]')!.textContent).toMatch(/does not look like a secret key/);
    expect(sessionStorage.length).toBe(0);
  });

  test('keeps the key in sessionStorage only, shows its prefix, and forgets it on sign-out', async () => {
    const fetchImpl = vi.fn(async (url: string) => (url.endsWith('/me') ? json(me(['handoffs:read'])) : json({ handoffs: [] })));
    const el = mount(<App fetchImpl={fetchImpl as unknown as typeof fetch} />);
    await type(el.querySelector<HTMLInputElement>('#secret-key')!, ` ${KEY} `);
    el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await settle();
    expect(loadKey()).toBe(KEY);
    expect(localStorage.length).toBe(0);
    expect(el.querySelector('header')!.textContent).toContain(`${KEY.slice(0, 12)}…`);
    expect(el.textContent).not.toContain(KEY);
    await vi.waitFor(() => expect(fetchImpl).toHaveBeenCalledTimes(3));
    // The key's capabilities, then the inbox, loaded with the key, from this origin.
    expect(fetchImpl.mock.calls[0]![0]).toBe('/v1/admin/me');
    const [url, init] = fetchImpl.mock.calls[1] as unknown as [string, RequestInit];
    expect(url).toBe('/v1/admin/handoffs?status=pending');
    expect((init.headers as Record<string, string>).Authorization).toBe(`Bearer ${KEY}`);

    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Sign out')!.click();
    await settle();
    expect(loadKey()).toBeNull();
    expect(el.querySelector('#secret-key')).not.toBeNull();
  });
});

describe('inbox', () => {
  test("an anonymous visitor is shown by its pseudonymous reference", async () => {
    const handoff = { id: 'h1', conversationId: '00000000-0000-4000-8000-00000000c0de', status: 'pending', reason: 'visitor_request', assignedTo: null, visitorVerified: false, visitorRef: 'v_AbCdEfGhIjKlMnOp', createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() };
    const fetchImpl = vi.fn(async (url: string) =>
      url.includes('/handoffs?status=pending')
        ? json({ handoffs: [handoff] })
        : url.includes('/handoffs')
          ? json({ handoffs: [] })
          : json({ conversation: { id: handoff.conversationId, status: 'handoff', verified: false, createdAt: handoff.createdAt, visitorRef: handoff.visitorRef, identitySubject: null }, messages: [] }),
    );
    const el = mount(<InboxView api={createApi(KEY, fetchImpl as unknown as typeof fetch)} />);
    await settle();
    [...el.querySelectorAll<HTMLButtonElement>('button.link')].find((b) => b.textContent?.includes('visitor_request'))!.click();
    await settle();
    expect(el.querySelector('.transcript')!.textContent).toContain('anonymous visitor v_AbCdEfGhIjKlMnOp');
  });
});

describe('navigation', () => {
  const signedIn = (capabilities: string[]) => {
    sessionStorage.setItem('parley.console.secretKey', KEY);
    const fetchImpl = vi.fn(async (url: string) => {
      if (url.endsWith('/me')) return json(me(capabilities));
      if (url.includes('/handoffs')) return json({ handoffs: [] });
      if (url.includes('/audit/checkpoint')) return json({ origin: 'x', size: 0, rootHash: '', timestamp: '', signature: '', keyName: '', keyId: '' });
      if (url.includes('/audit')) return json({ entries: [], next: null });
      return json({ domains: [] });
    });
    return { el: mount(<App fetchImpl={fetchImpl as unknown as typeof fetch} />), fetchImpl };
  };
  const links = (el: HTMLElement) => [...el.querySelectorAll('nav a')].map((a) => a.textContent);

  test('offers only the views the signed-in key can use, and names the key and tenant', async () => {
    const { el } = signedIn(['handoffs:read', 'handoffs:write', 'conversations:read']);
    await vi.waitFor(() => expect(links(el)).toEqual(['Inbox']));
    expect(el.querySelector('header')!.textContent).toContain('(Agents, Acme)');
    expect(el.querySelector('h1')!.textContent).toBe('Inbox');
  });

  test('an address naming a view the key cannot use opens one it can; no request for the other', async () => {
    location.hash = '#keys';
    const { el, fetchImpl } = signedIn(['audit:read', 'domains:read']);
    await vi.waitFor(() => expect(links(el)).toEqual(['Domains', 'Audit']));
    expect(el.querySelector('h1')!.textContent).toBe('Domains');
    await settle();
    expect(fetchImpl.mock.calls.map((c) => c[0])).not.toContain('/v1/admin/api-keys');
  });

  test('a key with none of the views the console needs is told so', async () => {
    const { el } = signedIn(['answers:write']);
    await vi.waitFor(() => expect(el.textContent).toContain('none of the capabilities'));
    expect(links(el)).toEqual([]);
  });
});

describe('problems', () => {
  test('the API client turns problem+json into an ApiError with the request id', async () => {
    const api = createApi(KEY, async () =>
      json({ type: '/docs/problems/missing-capability', title: 'Missing capability', status: 403, detail: 'This key lacks the capability keys:write.', request_id: 'req_1' }, 403, 'application/problem+json'),
    );
    const err = await api('POST', '/api-keys', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).problem).toMatchObject({ title: 'Missing capability', status: 403, request_id: 'req_1' });
  });

  test('a response that is not a problem still carries the status and the request id header', async () => {
    const api = createApi(KEY, async () => new Response('bad gateway', { status: 502, headers: { 'X-Request-Id': 'req_2' } }));
    const err = (await api('GET', '/domains').catch((e: unknown) => e)) as ApiError;
    expect(err.problem).toMatchObject({ title: 'HTTP 502', status: 502, request_id: 'req_2' });
  });

  test('ProblemView shows title, detail, field errors and request id as an alert, and takes focus', async () => {
    const el = mount(
      <ProblemView
        problem={{ type: '/docs/problems/validation-failed', title: 'Validation failed', status: 400, detail: 'Nope.', request_id: 'req_9', errors: [{ path: '/name', message: 'Required', code: 'invalid_type' }] }}
      />,
    );
    const alert = el.querySelector('[role=alert]')!;
    expect(alert.textContent).toContain('Validation failed');
    expect(alert.textContent).toContain('Nope.');
    expect(alert.textContent).toContain('/name Required');
    expect(alert.textContent).toContain('req_9');
    await settle();
    expect(document.activeElement).toBe(alert);
  });
});

describe('secrets', () => {
  test('a new secret is shown once with a copy button, and gone after Done', async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const done = vi.fn();
    const el = mount(<SecretOnce label="New key" secret="sk_test_secret" onDone={done} />);
    expect(el.textContent).toContain('only time it is shown');
    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Copy')!.click();
    await settle();
    expect(writeText).toHaveBeenCalledWith('sk_test_secret');
    expect(el.textContent).toContain('Copied');
  });

  test('creating a key shows its secret once; the list never holds it', async () => {
    const key = { id: '00000000-0000-4000-8000-000000000001', name: 'Agents', prefix: 'sk_test_Zzzz', capabilities: ['handoffs:read'], createdAt: new Date().toISOString(), expiresAt: null, revokedAt: null, lastUsedAt: null, rotatedFrom: null };
    const calls: [string, string | undefined][] = [];
    const api = createApi(KEY, async (url, init) => {
      calls.push([`${init?.method} ${String(url)}`, init?.body as string | undefined]);
      return init?.method === 'POST' ? json({ apiKey: key, secret: 'sk_test_NEWSECRET' }, 201) : json({ apiKeys: calls.length > 1 ? [key] : [] });
    });
    const el = mount(<KeysView api={api} />);
    await settle();
    await type(el.querySelector<HTMLInputElement>('#key-name')!, 'Agents');
    el.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await settle();
    expect(calls[1]![0]).toBe('POST /v1/admin/api-keys');
    expect(JSON.parse(calls[1]![1]!)).toMatchObject({ name: 'Agents' });
    expect(el.querySelector<HTMLInputElement>('.secret input')!.value).toBe('sk_test_NEWSECRET');
    expect(el.querySelector('tbody')!.textContent).toContain('sk_test_Zzzz…');
    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Done')!.click();
    await settle();
    expect(el.textContent).not.toContain('sk_test_NEWSECRET');
  });

  test('the capability list matches the protocol', () => {
    expect([...CAPABILITIES]).toEqual([...PROTOCOL_CAPABILITIES]);
  });
});

describe('knowledge', () => {
  test('lists sources, adds Markdown, searches in a chosen mode and shows text as text', async () => {
    const source = { id: '00000000-0000-4000-8000-000000000002', kind: 'markdown', externalId: 'returns', title: 'Returns', url: null, status: 'ready', chunks: 3, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() };
    const calls: [string, string | undefined][] = [];
    const api = createApi(KEY, async (url, init) => {
      const call = `${init?.method} ${String(url)}`;
      calls.push([call, init?.body as string | undefined]);
      if (call.endsWith('/knowledge/search')) {
        return json({ mode: 'bm25', results: [{ chunkId: 'c1', sourceId: source.id, externalId: 'returns', title: 'Returns › Refund timing', url: 'https://help.example/returns#refund-timing', score: 7.5, text: '<img src=x onerror=alert(1)> Refunds take 5 days.' }] });
      }
      if (call.endsWith('/knowledge/embeddings')) return json({ model: null, embedded: 0, pending: 0 });
      return init?.method === 'POST' ? json({ sources: [{ ...source, changed: true }] }, 201) : json({ sources: [source] });
    });
    const el = mount(<KnowledgeView api={api} />);
    await vi.waitFor(() => expect(el.querySelector('tbody')?.textContent).toContain('returns'));
    await type(el.querySelector<HTMLTextAreaElement>('#knowledge-content')!, '# Returns\n\n## Refund timing\n\nFive days.');
    await type(el.querySelector<HTMLInputElement>('#knowledge-external-id')!, 'returns');
    el.querySelectorAll('form')[0]!.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(calls.find(([c]) => c === 'POST /v1/admin/knowledge/sources')).toBeDefined());
    expect(JSON.parse(calls.find(([c]) => c === 'POST /v1/admin/knowledge/sources')![1]!)).toEqual({ kind: 'markdown', content: '# Returns\n\n## Refund timing\n\nFive days.', externalId: 'returns' });
    await type(el.querySelector<HTMLInputElement>('#knowledge-query')!, 'refund');
    const select = el.querySelector<HTMLSelectElement>('#knowledge-mode')!;
    select.value = 'dense';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    el.querySelectorAll('form')[1]!.dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(el.querySelector('.search-mode')?.textContent).toBe('bm25'));
    expect(JSON.parse(calls.find(([c]) => c.endsWith('/knowledge/search'))![1]!)).toEqual({ query: 'refund', limit: 5, mode: 'dense' });
    expect(el.querySelector('.search-mode')!.textContent).toBe('bm25');
    expect(el.textContent).toContain('no embedding model');
    expect(el.querySelector('.results img')).toBeNull();
    expect(el.querySelector('.results')!.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(el.querySelector<HTMLAnchorElement>('.results a')!.rel).toBe('noopener noreferrer');
    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Embed pending chunks')!.click();
    await vi.waitFor(() => expect(el.querySelector('.sync-status')?.textContent).toMatch(/No embedding model/));
  });
});

describe('bidi controls', () => {
  test('a transcript with a right-to-left override shows the controls as visible escapes, never raw', async () => {
    const RLO = '\u202E';
    const CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
    const handoff = { id: 'h1', conversationId: '00000000-0000-4000-8000-000000000003', status: 'pending', reason: `visitor_request${RLO}`, assignedTo: null, visitorVerified: false, createdAt: new Date().toISOString() };
    const api = createApi(KEY, async (url) => {
      const u = String(url);
      if (u.includes('/handoffs?status=pending')) return json({ handoffs: [handoff] });
      if (u.includes('/handoffs?status=assigned')) return json({ handoffs: [] });
      return json({
        conversation: { id: handoff.conversationId, status: 'handoff', verified: false, identitySubject: null },
        messages: [
          { id: 'm1', role: 'visitor', text: `Please open invoice${RLO}fdp.exe [EMAIL_1]\u2066x\u2069\u200E\u061C`, redactions: [], author: null, createdAt: new Date().toISOString() },
          { id: 'm2', role: 'agent', text: 'ok', redactions: [], author: `Sam${RLO}`, createdAt: new Date().toISOString() },
        ],
      });
    });
    const el = mount(<InboxView api={api} />);
    await vi.waitFor(() => expect(el.querySelector('.list button')).not.toBeNull());
    el.querySelector<HTMLButtonElement>('.list button')!.click();
    await vi.waitFor(() => expect(el.querySelectorAll('.msg')).toHaveLength(2));
    expect(el.innerHTML).not.toMatch(CONTROLS);
    expect(el.textContent).toContain('Please open invoice⟨U+202E⟩fdp.exe [EMAIL_1]⟨U+2066⟩x⟨U+2069⟩⟨U+200E⟩⟨U+061C⟩');
    expect(el.textContent).toContain('Agent Sam⟨U+202E⟩');
    expect(el.querySelector('button.token')!.textContent).toBe('[EMAIL_1]');
  });
});

describe('redaction display', () => {
  test('redaction tokens in a transcript are buttons that ask to reveal', () => {
    const onToken = vi.fn();
    const el = mount(<RedactedText text="Mail me at [EMAIL_1] or call [PHONE_2]." onToken={onToken} />);
    const buttons = el.querySelectorAll('button.token');
    expect([...buttons].map((b) => b.textContent)).toEqual(['[EMAIL_1]', '[PHONE_2]']);
    (buttons[1] as HTMLButtonElement).click();
    expect(onToken).toHaveBeenCalledWith('[PHONE_2]');
    expect(el.textContent).toBe('Mail me at [EMAIL_1] or call [PHONE_2].');
  });

  test('PII matches are highlighted by their offsets, as text (never HTML)', () => {
    const text = 'Hi <b>, I am Ann, ann@example.com';
    const start = text.indexOf('ann@');
    const el = mount(<Highlighted text={text} spans={[{ start, end: text.length, label: 'email · reversible' }]} />);
    expect(el.querySelector('mark')!.textContent).toBe('ann@example.comemail · reversible');
    expect(el.querySelector('b')).toBeNull();
  });
});

describe('audit inclusion proofs', () => {
  const sha = async (...parts: number[][]) => new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(parts.flat())));
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

  test('checks RFC 9162 proofs in the browser, and refuses a wrong leaf, index or root', async () => {
    const [l0, l1, l2] = await Promise.all([[0, 97], [0, 98], [0, 99]].map((leaf) => sha(leaf)));
    const n01 = await sha([1], [...l0!], [...l1!]);
    const root = hex(await sha([1], [...n01], [...l2!]));
    expect(await verifyInclusion(hex(l2!), 2, 3, [hex(n01)], root)).toBe(true);
    expect(await verifyInclusion(hex(l0!), 0, 3, [hex(l1!), hex(l2!)], root)).toBe(true);
    expect(await verifyInclusion(hex(l1!), 0, 3, [hex(l1!), hex(l2!)], root)).toBe(false);
    expect(await verifyInclusion(hex(l0!), 1, 3, [hex(l1!), hex(l2!)], root)).toBe(false);
    expect(await verifyInclusion(hex(l0!), 0, 3, [hex(l1!), hex(l2!)], hex(l0!))).toBe(false);
    expect(await verifyInclusion(hex(l2!), 3, 3, [hex(n01)], root)).toBe(false);
  });
});

describe('the audit log as this browser last saw it', () => {
  const sha = async (...parts: number[][]) => new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(parts.flat())));
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const origin = 'parley.example/audit/7c2b2d8e-0000-4000-8000-000000000001';

  async function tree() {
    const [l0, l1, l2] = await Promise.all([[0, 97], [0, 98], [0, 99]].map((leaf) => sha(leaf)));
    const n01 = await sha([1], [...l0!], [...l1!]);
    return { l2: hex(l2!), root2: hex(n01), root3: hex(await sha([1], [...n01], [...l2!])) };
  }
  const cp = (size: number, root: string) => ({ origin, size, root, checkpoint: `${origin}\n${size}\n…\n`, verifierKey: 'k' });
  const apiFor = (routes: Record<string, unknown>) =>
    (async (_m: string, path: string) => {
      const key = Object.keys(routes).find((p) => path.startsWith(p));
      if (!key) throw new Error(`unexpected ${path}`);
      return routes[key];
    }) as unknown as Api;

  test('checks RFC 9162 consistency proofs in the browser', async () => {
    const t3 = await tree();
    expect(await verifyConsistency(2, 3, [t3.l2], t3.root2, t3.root3)).toBe(true);
    expect(await verifyConsistency(2, 3, [t3.l2], t3.root3, t3.root3)).toBe(false);
    expect(await verifyConsistency(2, 3, [t3.root2], t3.root2, t3.root3)).toBe(false);
    expect(await verifyConsistency(3, 2, [t3.l2], t3.root2, t3.root3)).toBe(false);
  });

  test('remembers the first checkpoint, then accepts only a proven extension of it', async () => {
    const t3 = await tree();
    expect(await checkContinuity(apiFor({}), cp(2, t3.root2))).toMatchObject({ kind: 'first' });
    expect(JSON.parse(localStorage.getItem(rememberedKey(origin))!)).toEqual({ size: 2, root: t3.root2 });
    const proofs = apiFor({ '/audit/proof/consistency?from=2&to=3': { proof: [t3.l2] } });
    expect(await checkContinuity(proofs, cp(3, t3.root3))).toMatchObject({ kind: 'extended', previous: { size: 2 } });
    expect(JSON.parse(localStorage.getItem(rememberedKey(origin))!)).toEqual({ size: 3, root: t3.root3 });
    expect(await checkContinuity(apiFor({}), cp(3, t3.root3))).toMatchObject({ kind: 'same' });
  });

  test('a log that shrank or forked is reported and the remembered checkpoint is kept', async () => {
    const t3 = await tree();
    localStorage.setItem(rememberedKey(origin), JSON.stringify({ size: 3, root: t3.root3 }));
    expect(await checkContinuity(apiFor({}), cp(2, t3.root2))).toMatchObject({ kind: 'shrank', previous: { size: 3 } });
    expect(await checkContinuity(apiFor({}), cp(3, t3.root2))).toMatchObject({ kind: 'forked' });
    localStorage.setItem(rememberedKey(origin), JSON.stringify({ size: 2, root: t3.root3 }));
    // A proof that does not link the remembered root to the new one: a rewritten history.
    expect(await checkContinuity(apiFor({ '/audit/proof/consistency': { proof: [t3.l2] } }), cp(3, t3.root3))).toMatchObject({ kind: 'forked' });
    expect(JSON.parse(localStorage.getItem(rememberedKey(origin))!)).toEqual({ size: 2, root: t3.root3 });
  });

  test('the audit view warns loudly when the log shrank since the last visit', async () => {
    const t3 = await tree();
    localStorage.setItem(rememberedKey(origin), JSON.stringify({ size: 3, root: t3.root3 }));
    const el = mount(<AuditView api={apiFor({ '/audit/checkpoint': cp(2, t3.root2), '/audit?': { entries: [], next: null } })} />);
    await settle();
    await settle();
    expect(el.querySelector('[role=alert]')!.textContent).toMatch(/shrank: this browser verified 3 entries before, the server now signs 2/);
  });
});
