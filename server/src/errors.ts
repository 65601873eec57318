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
  | 'conflict'
  | 'throttled'
  | 'token_invalid'
  | 'token_expired'
  | 'token_replayed'
  | 'sso_required';

export interface DomainDetails {
  /** invalid_input: the fields at fault. */
  errors?: FieldError[];
  /** quota_exceeded: which limit, its maximum and the usage. */
  quota?: NonNullable<Problem['quota']>;
  /** too_many_streams, throttled: when to try again. */
  retryAfterSeconds?: number;
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
