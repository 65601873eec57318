// What the views' unit tests share: a stand-in server answering routes by "METHOD url", a mounted view,
// and the few user steps they take (type, find a button).
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { vi } from 'vitest';
import { createClient } from '../api.js';

export const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': type } });

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
