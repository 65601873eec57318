// RFC 7807 problem details, as every Parley error is sent.
import { z } from 'zod';

/** Stable problem type slugs; each `type` URI is `/docs/problems/<slug>` on the API origin. */
export const PROBLEM_SLUGS = [
  'malformed-json',
  'malformed-request',
  'validation-failed',
  'unsupported-media-type',
  'payload-too-large',
  'headers-too-large',
  'not-found',
  'method-not-allowed',
  'unauthenticated',
  'missing-capability',
  'forbidden',
  'origin-not-allowed',
  'conflict',
  'rate-limited',
  'budget-exceeded',
  'quota-exceeded',
  'token-invalid',
  'token-expired',
  'token-replayed',
  'sso-required',
  'identity-required',
  'service-unavailable',
  'internal',
] as const;
export type ProblemSlug = (typeof PROBLEM_SLUGS)[number];

export const problemType = (slug: ProblemSlug): string => `/docs/problems/${slug}`;

export const FieldErrorSchema = z.object({
  /** JSON Pointer (RFC 6901) to the offending field, e.g. `/capabilities/0`. */
  path: z.string(),
  message: z.string(),
  code: z.string(),
});
export type FieldError = z.infer<typeof FieldErrorSchema>;

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  request_id: z.string(),
  errors: z.array(FieldErrorSchema).optional(),
  /** For missing-capability: the capability the key lacks. */
  capability: z.string().optional(),
  /** For quota-exceeded: which limit, its value, the tenant's usage and what the request would add. */
  quota: z.object({ limit: z.string(), max: z.number(), used: z.number(), adding: z.number().optional() }).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
