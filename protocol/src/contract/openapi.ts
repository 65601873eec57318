// The OpenAPI 3.1 document, generated from the operations table and protocol's schemas (zod 4's JSON
// Schema output, which is the dialect OpenAPI 3.1 uses). Schemas are written in "input" form: what a
// client may send, and what a response must satisfy when the client parses it with the same schema.
import { z } from 'zod';
import { PROBLEM_SLUGS } from '../constants.js';
import { ProblemSchema } from '../problem.js';
import { WEBHOOK_EVENTS, WebhookEvent } from '../webhooks.js';
import { OPERATIONS } from './index.js';
import type { Operation, Security } from './operation.js';

type Json = Record<string, unknown>;

function schema(s: z.ZodType): Json {
  const out = z.toJSONSchema(s, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

const PROBLEM = { $ref: '#/components/responses/Problem' };

/** Problem statuses listed on an operation, for the reference: what its guards and parsing can answer. */
function problemStatuses(op: Operation): number[] {
  const s = new Set<number>(op.problems ?? []);
  if (op.body || op.query) s.add(400);
  if (!op.security.includes('none')) s.add(401);
  if (op.capability || op.security.includes('publishableKey')) s.add(403);
  if (op.params) s.add(404);
  if (op.body) {
    s.add(413);
    s.add(415);
  }
  s.add(429);
  return [...s].sort((a, b) => a - b);
}

const SECURITY: Record<Exclude<Security, 'none'>, string[]> = {
  secretKey: ['secretKey'],
  admin: ['secretKey', 'consoleSession'],
  session: ['consoleSession'],
  publishableKey: ['publishableKey'],
  widgetToken: ['widgetToken'],
  platform: ['platformOperator'],
  metricsToken: ['metricsToken'],
};

function security(op: Operation): Json[] {
  const names = new Set(op.security.flatMap((s) => (s === 'none' ? [] : SECURITY[s])));
  const out: Json[] = [...names].map((n) => ({ [n]: [] }));
  // `{}` in the list means "no credentials needed".
  if (op.security.includes('none')) out.push({});
  return out;
}

function parameters(op: Operation): Json[] {
  const list: Json[] = [];
  for (const [where, obj] of [
    ['path', op.params],
    ['query', op.query],
  ] as const) {
    if (!obj) continue;
    const s = schema(obj) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      const { description, ...rest } = prop as Json;
      list.push({
        name,
        in: where,
        required: where === 'path' || (s.required ?? []).includes(name),
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  }
  return list;
}

/** A merge patch is also accepted as plain application/json. */
const requestTypes = (op: Operation): string[] =>
  op.bodyContentType === 'application/merge-patch+json'
    ? ['application/merge-patch+json', 'application/json']
    : [op.bodyContentType ?? 'application/json'];

function operation(op: Operation): Json {
  const params = parameters(op);
  const responses: Json = {};
  for (const [status, r] of Object.entries(op.responses)) {
    responses[status] = {
      description: r.description,
      ...(r.headers
        ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) }
        : {}),
      ...(r.schema || r.contentType || r.alternatives
        ? {
            content: Object.fromEntries(
              [...(r.schema || r.contentType ? [r] : []), ...(r.alternatives ?? [])].map((v) => [
                v.contentType ?? 'application/json',
                v.schema ? { schema: schema(v.schema) } : {},
              ]),
            ),
          }
        : {}),
    };
  }
  for (const status of problemStatuses(op)) responses[status] ??= PROBLEM;
  responses['4XX'] = PROBLEM;
  responses['5XX'] = PROBLEM;
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description || op.capability
      ? { description: [op.description, op.capability ? `Needs the \`${op.capability}\` capability.` : undefined].filter(Boolean).join('\n\n') }
      : {}),
    ...(op.capability ? { 'x-parley-capability': op.capability } : {}),
    security: security(op),
    ...(params.length ? { parameters: params } : {}),
    ...(op.body
      ? { requestBody: { required: true, content: requestTypes(op).reduce((c, t) => Object.assign(c, { [t]: { schema: schema(op.body!) } }), {}) } }
      : {}),
    responses,
  };
}

export interface OpenApiOptions {
  /** The API's public origin, e.g. `https://parley.example.com`. */
  serverUrl?: string;
  version?: string;
}

export function openApiDocument(opts: OpenApiOptions = {}): Json {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  const tags = [...new Set(OPERATIONS.map((op) => op.tag))].map((name) => ({ name }));
  const webhooks = Object.fromEntries(
    Object.entries(WEBHOOK_EVENTS).map(([type, e]) => [
      type,
      {
        post: {
          operationId: `webhook:${type}`,
          summary: type,
          description: `${e.description}\n\nSigned per Standard Webhooks (\`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`); answer 2xx within 10 seconds.`,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(WebhookEvent.options.find((v) => v.shape.type.value === type)!) } },
          },
          responses: { '2XX': { description: 'Received. Anything else (or no answer in time) is retried.' } },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Parley API',
      version: opts.version ?? '1',
      summary: 'The admin, widget and answers API of Parley, and the webhooks it sends.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    tags,
    paths,
    webhooks,
    components: {
      schemas: { Problem: schema(ProblemSchema), ProblemType: { type: 'string', enum: PROBLEM_SLUGS.map((s) => `/docs/problems/${s}`) } },
      responses: {
        Problem: {
          description: 'An RFC 7807 problem; `type` is one of the documented problem types, `request_id` matches the X-Request-Id header.',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
      securitySchemes: {
        secretKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'A secret key (`sk_…`) created in the console or with the admin API; its capabilities bound what it may do.',
        },
        consoleSession: {
          type: 'apiKey',
          in: 'cookie',
          name: '__Host-parley_access',
          description: 'A person signed in to the console (same-origin requests; state-changing ones are CSRF-checked).',
        },
        publishableKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Parley-Key',
          description: 'The widget’s publishable key (`pk_…`), only from a page on the tenant’s allowed domains.',
        },
        widgetToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The short-lived widget session token the widget API returns with its configuration; refreshed with `POST /v1/widget/session/refresh`.',
        },
        platformOperator: { type: 'apiKey', in: 'cookie', name: '__Host-parley_access', description: 'A platform operator’s console session.' },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The deployment’s metrics scrape token (`PARLEY_METRICS_TOKEN`), for Prometheus; not a tenant key.',
        },
      },
    },
  };
}
