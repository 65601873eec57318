// Every error leaves the server as application/problem+json (RFC 7807) carrying the request id.
import { problemType, type FieldError, type Problem, type ProblemSlug } from '@parley/protocol';
import type { Request, Response } from 'express';

const TITLES: Record<ProblemSlug, string> = {
  'malformed-json': 'Malformed JSON',
  'malformed-request': 'Malformed request',
  'validation-failed': 'Validation failed',
  'unsupported-media-type': 'Unsupported media type',
  'payload-too-large': 'Payload too large',
  'headers-too-large': 'Request headers too large',
  'request-timeout': 'Request timeout',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  unauthenticated: 'Authentication required',
  'missing-capability': 'Missing capability',
  forbidden: 'Forbidden',
  'origin-not-allowed': 'Origin not allowed',
  conflict: 'Conflict',
  'rate-limited': 'Too many requests',
  'budget-exceeded': 'AI budget exceeded',
  'quota-exceeded': 'Quota exceeded',
  'token-invalid': 'Invalid token',
  'token-expired': 'Token expired',
  'token-replayed': 'Token already used',
  'sso-required': 'Single sign-on required',
  'identity-required': 'Verified identity required',
  'mail-not-sent': 'Email not sent',
  'service-unavailable': 'Service unavailable',
  internal: 'Internal error',
};

/** The title of a problem type, for problems written outside Express (e.g. on a raw socket). */
export const problemTitle = (slug: ProblemSlug): string => TITLES[slug];

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: ProblemSlug,
    readonly detail?: string,
    readonly extra: {
      errors?: FieldError[];
      capability?: string;
      quota?: Problem['quota'];
      assignedTo?: string | null;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail ?? TITLES[slug]);
    this.name = 'HttpProblem';
  }
}

export const problems = {
  validation: (errors: FieldError[], detail = 'The request does not match the expected shape.') =>
    new HttpProblem(400, 'validation-failed', detail, { errors }),
  unauthenticated: (detail = 'A valid credential is required.') =>
    new HttpProblem(401, 'unauthenticated', detail, { headers: { 'WWW-Authenticate': 'Bearer realm="parley"' } }),
  missingCapability: (capability: string, detail = `This key or role lacks the capability ${capability}.`) =>
    new HttpProblem(403, 'missing-capability', detail, { capability }),
  forbidden: (detail: string) => new HttpProblem(403, 'forbidden', detail),
  notFound: (detail = 'No such resource.') => new HttpProblem(404, 'not-found', detail),
  conflict: (detail: string) => new HttpProblem(409, 'conflict', detail),
};

/** The one builder of a problem's body: a response's, or an event stream's `error` event. */
export function problemBody(req: Request, p: HttpProblem): Problem {
  return {
    type: problemType(p.slug),
    title: TITLES[p.slug],
    status: p.status,
    ...(p.detail ? { detail: p.detail } : {}),
    instance: req.originalUrl.split('?')[0],
    request_id: req.id,
    ...(p.extra.errors ? { errors: p.extra.errors } : {}),
    ...(p.extra.capability ? { capability: p.extra.capability } : {}),
    ...(p.extra.quota ? { quota: p.extra.quota } : {}),
    ...(p.extra.assignedTo !== undefined ? { assignedTo: p.extra.assignedTo } : {}),
  };
}

export function sendProblem(req: Request, res: Response, p: HttpProblem): void {
  const body = problemBody(req, p);
  for (const [k, v] of Object.entries(p.extra.headers ?? {})) res.setHeader(k, v);
  res.status(p.status).type('application/problem+json').send(JSON.stringify(body));
}
