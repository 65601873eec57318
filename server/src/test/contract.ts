// Every response a test receives from a Parley test server is checked against the operation protocol
// defines for it (see contract-setup.ts). A response that does not match, or a /v1 route the contract
// does not list, is a contract violation and fails the test that received it.
import { findOperation, OPERATIONS } from '@parley/protocol/contract';
import { ProblemSchema } from '@parley/protocol';

/** Origins of the Parley servers tests started (test/app.ts adds each). */
export const parleyOrigins = new Set<string>();

export const violations: string[] = [];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Statuses any operation may answer with a problem. */
const ANY = new Set([400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 431, 500, 502, 503, 504]);

/** Until every area lists its operations, a /v1 path with no operation is only reported when this is set. */
const requireListed = process.env.PARLEY_CONTRACT_ALL === '1';

export async function checkResponse(method: string, url: URL, res: Response): Promise<void> {
  const where = `${method.toUpperCase()} ${url.pathname} → ${res.status}`;
  // A CORS preflight, or a method the path does not have (405): no operation, but still a known path
  // whose refusals are problems.
  const known = METHODS.some((m) => findOperation(OPERATIONS, m, url.pathname));
  const op = method.toUpperCase() === 'OPTIONS' || (res.status === 405 && known) ? undefined : findOperation(OPERATIONS, method, url.pathname);
  if (!op && known) {
    if (res.status >= 400) await checkProblem(where, res);
    return;
  }
  if (!op) {
    if (requireListed && url.pathname.startsWith('/v1/')) violations.push(`${where}: no operation in protocol/src/contract lists this route`);
    return;
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (res.status >= 400) {
    if (!ANY.has(res.status) && !op.problems?.includes(res.status)) violations.push(`${where}: ${res.status} is not a problem status ${op.operationId} declares`);
    return void (await checkProblem(where, res));
  }
  const spec = op.responses[res.status];
  if (!spec) return void violations.push(`${where}: ${op.operationId} declares no ${res.status} response`);
  // Redirects are described by their Location; the short body Express adds is not part of the contract.
  if (method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 304 || (res.status >= 300 && res.status < 400)) return;
  const empty = res.headers.get('content-length') === '0' || !type;
  // A variant without a schema or content type is an empty body; otherwise its type must be the one sent.
  const variants = [spec, ...(spec.alternatives ?? [])];
  const typeOf = (v: { schema?: unknown; contentType?: string }) => (v.schema || v.contentType ? (v.contentType ?? 'application/json') : null);
  const variant = variants.find((v) => (typeOf(v) === null ? empty : typeOf(v) === type));
  if (!variant) {
    const expected = variants.map((v) => typeOf(v) ?? 'no body').join(' or ');
    return void violations.push(`${where}: ${op.operationId} expects ${expected} for ${res.status}, got ${type || 'no body'}`);
  }
  if (!variant.schema || type !== 'application/json') return;
  const parsed = variant.schema.safeParse(await res.clone().json());
  if (!parsed.success) violations.push(`${where}: body does not match ${op.operationId}'s ${res.status} schema: ${parsed.error.message}`);
}

async function checkProblem(where: string, res: Response): Promise<void> {
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (type !== 'application/problem+json') return void violations.push(`${where}: a ${res.status} must be application/problem+json, got ${type || 'no body'}`);
  const parsed = ProblemSchema.safeParse(await res.clone().json());
  if (!parsed.success) violations.push(`${where}: problem does not match ProblemSchema: ${parsed.error.message}`);
}
