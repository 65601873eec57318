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

// Each list's operations by method, fewer parameters first (`/x/me` before `/x/{id}`), else in the list's
// order: the first that matches is the one. Built once per list: every request's metrics ask.
const byMethod = new WeakMap<readonly Operation[], Map<Method, { op: Operation; re: RegExp }[]>>();

function indexOf(ops: readonly Operation[]): Map<Method, { op: Operation; re: RegExp }[]> {
  let index = byMethod.get(ops);
  if (!index) {
    index = new Map();
    const params = (op: Operation) => op.path.split('{').length;
    for (const op of [...ops].sort((a, b) => params(a) - params(b))) {
      const list = index.get(op.method) ?? index.set(op.method, []).get(op.method)!;
      list.push({ op, re: pattern(op) });
    }
    byMethod.set(ops, index);
  }
  return index;
}

/** The operation serving `method path` (HEAD is served by GET), preferring a literal segment over a parameter. */
export function findOperation(ops: readonly Operation[], method: string, path: string): Operation | undefined {
  const m = (method.toLowerCase() === 'head' ? 'get' : method.toLowerCase()) as Method;
  return indexOf(ops)
    .get(m)
    ?.find((e) => e.re.test(path))?.op;
}
