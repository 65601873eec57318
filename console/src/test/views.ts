// What the views' unit tests share: who is signed in, a stand-in server answering routes by "METHOD url",
// a mounted view, and the few user steps they take (type, find a button).
import { ROLE_CAPABILITIES, type AdminMe, type Role } from '@parley/protocol';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { vi } from 'vitest';
import { createClient } from '../api.js';

export const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': type } });

export const ME_ID = '00000000-0000-4000-8000-00000000a001';

/** A member of Acme Support, signed in, with `role`'s capabilities. */
export const me = (role: Role): AdminMe => ({
  tenant: { id: '00000000-0000-4000-8000-0000000000aa', name: 'Acme Support' },
  capabilities: [...ROLE_CAPABILITIES[role]],
  member: { id: ME_ID, email: 'ann@acme.example', displayName: 'Ann', role, sessionId: '00000000-0000-4000-8000-000000005e55' },
  apiKey: null,
});

/** An RFC 7807 answer as the API gives one, with request id `req-7`. */
export const problem = (status: number, title: string, detail: string, errors?: unknown[]) =>
  json(
    { type: `/docs/problems/${status}`, title, status, detail, request_id: 'req-7', ...(errors ? { errors } : {}) },
    status,
    'application/problem+json',
  );

/** Lets pending requests and the renders they cause finish. */
export const settle = () => act(async () => void (await new Promise((r) => setTimeout(r, 0))));

/**
 * An admin client whose requests are answered by `routes` (a 404 problem for any other), given the body and
 * the request's headers; `calls` records them.
 */
export function server(routes: Record<string, (body: any, headers: Headers) => unknown>) {
  const calls: { key: string; body: any; headers: Headers }[] = [];
  const fetchImpl = vi.fn(async (url: string, init: RequestInit = {}) => {
    const key = `${init.method ?? 'GET'} ${url}`;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    const headers = new Headers(init.headers);
    calls.push({ key, body, headers });
    const route = routes[key];
    if (!route) return json({ type: '/docs/problems/not-found', title: 'Not found', status: 404 }, 404);
    const out = route(body, headers);
    if (out instanceof Response) return out;
    return out === null ? new Response(null, { status: 204 }) : json(out);
  });
  return { api: createClient({ fetchImpl: fetchImpl as unknown as typeof fetch }).admin, calls };
}

export function mount(node: preact.ComponentChild) {
  const el = document.createElement('div');
  document.body.append(el);
  act(() => render(node, el));
  return el;
}

/** Types into a field (a select gets `change`, the rest `input`), as a person would. */
export const type = (input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string) =>
  act(() => {
    input.value = value;
    input.dispatchEvent(new Event(input instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
  });

/** The button with this text or accessible label; throws when there is none. */
export const button = (el: Element, label: string) => {
  const b = [...el.querySelectorAll<HTMLButtonElement>('button')].find(
    (x) => x.textContent?.trim() === label || x.getAttribute('aria-label') === label,
  );
  if (!b) throw new Error(`no button ${label}`);
  return b;
};
