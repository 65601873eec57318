// RFC 7807 problem details, as every Parley error is sent. The type slugs are in constants.ts.
import { z } from 'zod';

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
  /** For a conflict over a handoff: who holds it now (a member id or a key's agent label; `null`: nobody). */
  assignedTo: z.string().nullable().optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
