import { describe, expect, test } from 'vitest';
import { OPERATIONS } from './index.js';
import { findOperation } from './match.js';
import type { Operation } from './operation.js';

/** Every operation matching, the fewest parameters first, else in the contract's order: the rule, said plainly. */
function reference(method: string, path: string): Operation | undefined {
  const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  const re = (op: Operation) =>
    new RegExp(
      `^${op.path
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
        .join('')}$`,
    );
  const params = (op: Operation) => op.path.split('{').length;
  return OPERATIONS.filter((op) => op.method === m && re(op).test(path)).sort((a, b) => params(a) - params(b))[0];
}

describe('which operation a request is', () => {
  test("every operation's path, its parameters filled in either way, is the operation the rule names", () => {
    for (const op of OPERATIONS)
      for (const value of ['0b9c4e5a-1111-4222-8333-944445555666', 'me']) {
        const path = op.path.replace(/\{[^}]+\}/g, value);
        for (const method of [op.method, ...(op.method === 'get' ? ['HEAD'] : [])])
          expect(findOperation(OPERATIONS, method, path)).toBe(reference(method, path));
      }
  });

  test('a literal segment beats a parameter, whichever comes first; HEAD is served by GET; nothing else matches', () => {
    const op = (method: string, path: string) => ({ method, path }) as Operation;
    for (const ops of [
      [op('get', '/v1/x/{id}'), op('get', '/v1/x/me'), op('post', '/v1/x/me')],
      [op('post', '/v1/x/me'), op('get', '/v1/x/me'), op('get', '/v1/x/{id}')],
    ]) {
      expect(findOperation(ops, 'GET', '/v1/x/me')).toBe(ops.find((o) => o.method === 'get' && o.path === '/v1/x/me'));
      expect(findOperation(ops, 'HEAD', '/v1/x/42')?.path).toBe('/v1/x/{id}');
      expect(findOperation(ops, 'POST', '/v1/x/42')).toBeUndefined();
    }
    expect(findOperation(OPERATIONS, 'HEAD', '/healthz')?.path).toBe('/healthz');
    expect(findOperation(OPERATIONS, 'GET', '/wp-admin/setup.php')).toBeUndefined();
    expect(findOperation(OPERATIONS, 'BREW', '/healthz')).toBeUndefined();
  });
});
