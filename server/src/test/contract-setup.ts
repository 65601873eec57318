// Vitest setup for the server suites: wraps fetch so every response from a Parley test server is checked
// against the contract (test/contract.ts), and fails the test that received a response off-contract.
import { afterEach, expect } from 'vitest';
import { checkResponse, parleyOrigins, violations } from './contract.js';

// A worker runs this once per test file in one module scope (isolate: false): wrap the real fetch each time,
// never the previous file's wrapper, or every response would be checked once per file the worker has run.
const REAL_FETCH = Symbol.for('parley.test.realFetch');
const scope = globalThis as typeof globalThis & { [REAL_FETCH]?: typeof fetch };
const realFetch = (scope[REAL_FETCH] ??= globalThis.fetch);
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const res = await realFetch(input, init);
  // After a followed redirect the response is the target's: check it against the target's operation.
  const url = new URL(res.redirected ? res.url : input instanceof Request ? input.url : String(input));
  if (parleyOrigins.has(url.origin)) {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    await checkResponse(method, url, res);
  }
  return res;
};

afterEach(() => {
  const found = violations.splice(0);
  expect(found, 'responses off the contract (protocol/src/contract)').toEqual([]);
});
