/** Field-level detail of a validation problem. */
export interface ProblemFieldError {
  path: string;
  message: string;
  code: string;
}

/** An RFC 7807 problem from the Parley API (or a network failure, with status 0 and type `network`). */
export class ParleyError extends Error {
  override readonly name = 'ParleyError';
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string | undefined,
    /** The API's request id (`request_id`), to quote to support. */
    readonly requestId: string | null,
    readonly errors: ProblemFieldError[] = [],
    readonly instance?: string,
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }

  /** True when retrying later may help (network, 429, 5xx). */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}
