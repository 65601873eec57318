// Every response a test receives from a Parley test server is checked against the OpenAPI document the
// server serves (generated from protocol/src/contract; see contract-setup.ts). A response that does not
// match its operation's schema, a status the operation does not declare, or a /v1 route the contract does
// not list, is a violation and fails the test that received it.
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
const deref = (x: Json): Json => (x.$ref ? deref(x.$ref.slice(2).split('/').reduce((o: Json, k: string) => o[k], doc)) : x);

/** Until every area lists its operations, a /v1 path with no operation is only reported when this is set. */
const requireListed = process.env.PARLEY_CONTRACT_ALL === '1';

export async function checkResponse(method: string, url: URL, res: Response): Promise<void> {
  const op = findOperation(OPERATIONS, method, url.pathname);
  const where = `${method.toUpperCase()} ${url.pathname} → ${res.status}`;
  if (!op) {
    if (requireListed && url.pathname.startsWith('/v1/')) violations.push(`${where}: no operation in protocol/src/contract lists this route`);
    return;
  }
  const responses = doc.paths[op.path][op.method].responses as Json;
  const declared = responses[res.status] ?? responses[`${String(res.status)[0]}XX`];
  if (!declared) return void violations.push(`${where}: ${op.operationId} declares no ${res.status} response`);
  const spec = deref(declared);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const content = spec.content as Json | undefined;
  // Redirects are described by their Location; the short body Express adds is not part of the contract.
  if (method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 304 || (res.status >= 300 && res.status < 400)) return;
  if (!content) {
    if (type && res.headers.get('content-length') !== '0') violations.push(`${where}: ${op.operationId} declares no body for ${res.status}, got ${type}`);
    return;
  }
  const media = content[type];
  if (!media) return void violations.push(`${where}: expected ${Object.keys(content).join(' or ')}, got ${type || 'no body'}`);
  if (!media.schema || !type.endsWith('json')) return;
  const validate = validator(deref(media.schema));
  if (!validate(await res.clone().json())) {
    violations.push(`${where}: body does not match ${op.operationId}'s ${res.status} schema: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
  }
}
