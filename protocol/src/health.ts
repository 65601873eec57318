// Health probes: liveness (the process answers) and readiness (the database answers too).
import { z } from 'zod';

/** GET /healthz */
export const HealthResponse = z.object({ status: z.literal('ok') });
export type HealthResponse = z.infer<typeof HealthResponse>;
/** GET /readyz; a 503 problem when the database is not reachable. */
export const ReadinessResponse = z.object({ status: z.literal('ready') });
export type ReadinessResponse = z.infer<typeof ReadinessResponse>;
