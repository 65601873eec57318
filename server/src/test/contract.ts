// Every response a test receives from a Parley test server is checked against the OpenAPI document the
// server serves (generated from protocol/src/contract; see contract-setup.ts). A response that does not
// match its operation's schema, a status the operation does not declare, or an answer from a route the
// contract does not list, is a violation and fails the test that received it.
import { findOperation, openApiDocument, OPERATIONS } from '@parley/protocol/contract';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** Origins of the Parley servers tests started (test/app.ts adds each). */
export const parleyOrigins = new Set<string>();

export const violations: string[] = [];

type Json = Record<string, any>;
const doc = openApiDocument() as Json;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const compiled = new Map<Json, ValidateFunction>();
const validator = (schema: Json) => {
  let v = compiled.get(schema);
  if (!v) compiled.set(schema, (v = ajv.compile(schema)));
  return v;
};
const deref = (x: Json): Json =>
  x.$ref
    ? deref(
        x.$ref
          .slice(2)
          .split('/')
          .reduce((o: Json, k: string) => o[k], doc),
      )
    : x;
const PROBLEM = deref({ $ref: '#/components/schemas/Problem' });
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

async function matches(where: string, what: string, schema: Json, res: Response): Promise<void> {
  const validate = validator(schema);
  if (!validate(await res.clone().json()))
    violations.push(`${where}: body does not match ${what}: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
}

async function checkProblem(where: string, res: Response): Promise<void> {
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (type !== 'application/problem+json')
    return void violations.push(`${where}: a ${res.status} must be application/problem+json, got ${type || 'no body'}`);
  await matches(where, 'the Problem schema', PROBLEM, res);
}

export async function checkResponse(method: string, url: URL, res: Response): Promise<void> {
  const where = `${method.toUpperCase()} ${url.pathname} → ${res.status}`;
  // Express routes `/x/` as `/x`, unless the contract lists `/x/` itself (the console's and the docs' pages,
  // whose `/x` is a redirect).
  const exact = url.pathname;
  const path = exact.length > 1 ? exact.replace(/\/$/, '') : exact;
  const find = (m: string) => findOperation(OPERATIONS, m, exact) ?? findOperation(OPERATIONS, m, path);
  // A CORS preflight, or a method the path does not have (405): no operation, but a known path whose
  // refusals are problems.
  const known = METHODS.some((m) => find(m));
  const op = method.toUpperCase() === 'OPTIONS' || (res.status === 405 && known) ? undefined : find(method);
  if (!op) {
    // A path no route serves answers a 404 problem; anything else came from a route the contract misses.
    if (res.status >= 400) return checkProblem(where, res);
    if (!known && res.status < 300 && method.toUpperCase() !== 'OPTIONS')
      violations.push(`${where}: no operation in protocol/src/contract lists this route`);
    return;
  }
  const responses = doc.paths[op.path][op.method].responses as Json;
  const declared = responses[res.status] ?? responses[`${String(res.status)[0]}XX`];
  if (!declared) return void violations.push(`${where}: ${op.operationId} declares no ${res.status} response`);
  const spec = deref(declared);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  // Redirects are described by their Location; the short body Express adds is not part of the contract.
  if (method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 304 || (res.status >= 300 && res.status < 400)) return;
  const content = spec.content as Json | undefined;
  const empty = !type || res.headers.get('content-length') === '0';
  if (!content) {
    if (!empty) violations.push(`${where}: ${op.operationId} declares no body for ${res.status}, got ${type}`);
    return;
  }
  const media = content[type];
  if (!media)
    return void violations.push(
      `${where}: ${op.operationId} expects ${Object.keys(content).join(' or ')} for ${res.status}, got ${type || 'no body'}`,
    );
  if (!media.schema || !type.endsWith('json')) return;
  await matches(where, `${op.operationId}'s ${res.status} schema`, deref(media.schema), res);
}
