// The allowed domains page: a refused pattern is explained beside the field, once, in words.
import { act } from 'preact/test-utils';
import { expect, test, vi } from 'vitest';
import { button, mount, problem, server, type } from '../test/views.js';
import { DomainsView } from './domains.js';

test('a refused pattern: its message under the field, which is marked and focused; no request path shown', async () => {
  const message = 'a domain is a host, *.host or host:port, optionally with an https:// or http:// scheme';
  const { api, calls } = server({
    'GET /v1/admin/domains': () => ({ domains: [] }),
    'POST /v1/admin/domains': () =>
      problem(400, 'Validation failed', 'The request does not match the expected shape.', [{ path: '/pattern', message, code: 'invalid_string' }]),
  });
  const el = mount(<DomainsView api={api} />);
  await vi.waitFor(() => expect(calls.map((c) => c.key)).toContain('GET /v1/admin/domains'));
  const input = el.querySelector<HTMLInputElement>('#domain-pattern')!;
  await type(input, 'http://bad domain/');
  await act(() => button(el, 'Add').click());
  await vi.waitFor(() => expect(el.querySelector('#domain-pattern-error')?.textContent).toBe(message));
  expect(input.getAttribute('aria-invalid')).toBe('true');
  expect(input.getAttribute('aria-describedby')).toBe('domain-pattern-error');
  expect(document.activeElement).toBe(input);
  expect(el.textContent!.split(message).length).toBe(2);
  expect(el.textContent).not.toContain('/pattern');
  expect(el.textContent).not.toContain('expected shape');
  await type(input, 'shop.example.com');
  expect(el.querySelector('#domain-pattern-error')).not.toBeNull();
});
