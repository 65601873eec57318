import type { FieldError, Problem } from '@parley/protocol';

/** An RFC 7807 problem returned by the Parley API, with the request id to quote to support. */
export class ParleyApiError extends Error {
  override readonly name = 'ParleyApiError';
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly instance: string | undefined;
  readonly requestId: string;
  readonly errors: FieldError[];
  constructor(problem: Problem) {
    super(`${problem.title}${problem.detail ? `: ${problem.detail}` : ''} (request ${problem.request_id})`);
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.requestId = problem.request_id;
    this.errors = problem.errors ?? [];
  }
}
