// Which operation a request is: the method and a concrete path matched against the path templates.
import type { Method, Operation } from './operation.js';

const compiled = new WeakMap<Operation, RegExp>();

function pattern(op: Operation): RegExp {
  let re = compiled.get(op);
  if (!re) {
    const body = op.path
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`);
    compiled.set(op, re);
  }
  return re;
}

/** The operation serving `method path` (HEAD is served by GET), preferring a literal segment over a parameter. */
export function findOperation(ops: readonly Operation[], method: string, path: string): Operation | undefined {
  const m = (method.toLowerCase() === 'head' ? 'get' : method.toLowerCase()) as Method;
  const hits = ops.filter((op) => op.method === m && pattern(op).test(path));
  // `/v1/admin/members/me` beats `/v1/admin/members/{id}`: fewer parameters win.
  return hits.sort((a, b) => a.path.split('{').length - b.path.split('{').length)[0];
}
