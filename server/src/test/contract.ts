// Every response a test receives from a Parley test server is checked against the operation protocol
// defines for it (see contract-setup.ts). A response that does not match, or a /v1 route the contract
// does not list, is a contract violation and fails the test that received it.
import { findOperation, OPERATIONS } from '@parley/protocol/contract';
import { ProblemSchema } from '@parley/protocol';

/** Origins of the Parley servers tests started (test/app.ts adds each). */
export const parleyOrigins = new Set<string>();

export const violations: string[] = [];

/** Statuses any operation may answer with a problem. */
const ANY = new Set([400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 431, 500, 502, 503, 504]);

/** Until every area lists its operations, a /v1 path with no operation is only reported when this is set. */
const requireListed = process.env.PARLEY_CONTRACT_ALL === '1';

export async function checkResponse(method: string, url: URL, res: Response): Promise<void> {
  const op = findOperation(OPERATIONS, method, url.pathname);
  const where = `${method.toUpperCase()} ${url.pathname} → ${res.status}`;
  if (!op) {
    if (requireListed && url.pathname.startsWith('/v1/')) violations.push(`${where}: no operation in protocol/src/contract lists this route`);
    return;
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (res.status >= 400) {
    if (type !== 'application/problem+json') return void violations.push(`${where}: a ${res.status} must be application/problem+json, got ${type || 'no body'}`);
    if (!ANY.has(res.status) && !op.problems?.includes(res.status)) violations.push(`${where}: ${res.status} is not a problem status ${op.operationId} declares`);
    const parsed = ProblemSchema.safeParse(await res.clone().json());
    if (!parsed.success) violations.push(`${where}: problem does not match ProblemSchema: ${parsed.error.message}`);
    return;
  }
  const spec = op.responses[res.status];
  if (!spec) return void violations.push(`${where}: ${op.operationId} declares no ${res.status} response`);
  if (method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 304) return;
  const expected = spec.contentType ?? 'application/json';
  if (!spec.schema) {
    // A non-JSON answer (an event stream, a page) declares its type and no schema.
    if (spec.contentType) return void (type !== expected && violations.push(`${where}: expected ${expected}, got ${type}`));
    if (res.headers.get('content-length') !== '0' && type) violations.push(`${where}: ${op.operationId} declares no body for ${res.status}, got ${type}`);
    return;
  }
  if (type !== expected) return void violations.push(`${where}: expected ${expected}, got ${type}`);
  if (expected !== 'application/json') return;
  const parsed = spec.schema.safeParse(await res.clone().json());
  if (!parsed.success) violations.push(`${where}: body does not match ${op.operationId}'s ${res.status} schema: ${parsed.error.message}`);
}
