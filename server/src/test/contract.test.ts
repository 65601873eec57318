// The contract checker itself (test/contract.ts): it must judge a page by the operation that serves it,
// and check only servers that are Parley's.
import { expect, test } from 'vitest';
import { startTestApp } from './app.js';
import { checkResponse, parleyOrigins, violations } from './contract.js';

const page = () => new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } });

test('a page the contract lists with its trailing slash is that page, not the redirect at the path without it', async () => {
  await checkResponse('GET', new URL('http://127.0.0.1:1/console/'), page());
  await checkResponse('GET', new URL('http://127.0.0.1:1/docs/'), page());
  expect(violations.splice(0)).toEqual([]);
  // The redirect still answers only with a redirect.
  await checkResponse('GET', new URL('http://127.0.0.1:1/console'), page());
  expect(violations.splice(0)).toEqual(['GET /console → 200: getConsoleRedirect declares no 200 response']);
});

test("a closed test app's origin is checked no more: a later server of another kind may get its port", async () => {
  const app = await startTestApp();
  expect(parleyOrigins.has(app.url)).toBe(true);
  await app.close();
  expect(parleyOrigins.has(app.url)).toBe(false);
});
