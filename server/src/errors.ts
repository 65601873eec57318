// Domain errors: what a service refuses, by a stable code. Services throw these and know nothing of HTTP;
// http/ turns each code into a problem in one table (http/errors.ts).
import type { FieldError, Problem } from '@parley/protocol';

export type DomainCode =
  | 'not_found'
  | 'unauthenticated'
  | 'invalid_input'
  | 'quota_exceeded'
  | 'too_many_streams'
  | 'forbidden'
  | 'missing_capability'
  | 'origin_not_allowed'
  | 'identity_required'
  | 'budget_exceeded'
  | 'conflict'
  | 'throttled'
  | 'token_invalid'
  | 'token_expired'
  | 'token_replayed'
  | 'sso_required'
  | 'mail_not_sent';

export interface DomainDetails {
  /** invalid_input: the fields at fault. */
  errors?: FieldError[];
  /** quota_exceeded: which limit, its maximum and the usage. */
  quota?: NonNullable<Problem['quota']>;
  /** missing_capability: the capability the caller lacks. */
  capability?: string;
  /** too_many_streams, throttled, budget_exceeded: when to try again. */
  retryAfterSeconds?: number;
  /** conflict over a handoff: who holds it now (null: nobody). */
  assignedTo?: string | null;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainCode,
    message: string,
    readonly details: DomainDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** A key or role without `capability`: the refusal of the permission check and of handing out more than one holds. */
export const missingCapability = (capability: string, detail = `This key or role lacks the capability ${capability}.`) =>
  new DomainError('missing_capability', detail, { capability });

/** A key or person may only hand out (a key, a role) or rotate what it holds itself. */
export function assertWithin(held: ReadonlySet<string>, wanted: readonly string[]): void {
  const missing = wanted.find((c) => !held.has(c));
  if (missing) throw missingCapability(missing);
}
