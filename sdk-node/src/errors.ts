import type { FieldError, Problem, ProblemSlug, Proposal } from '@parley/protocol';

/** An RFC 7807 problem returned by the Parley API, with the request id to quote to support. */
export class ParleyApiError extends Error {
  /** Always `'ParleyApiError'`. */
  override readonly name = 'ParleyApiError';
  /** A URI reference naming the problem type; its page in the docs explains it. */
  readonly type: string;
  /** A short summary of the problem type. */
  readonly title: string;
  /** The HTTP status code. */
  readonly status: number;
  /** What went wrong in this occurrence, when the server says more than the title. */
  readonly detail: string | undefined;
  /** A URI reference to this occurrence, when given. */
  readonly instance: string | undefined;
  /** The request id (`req_…`), also in the server's logs and audit log. */
  readonly requestId: string;
  /** Field-level validation errors; empty unless the request body was refused. */
  readonly errors: FieldError[];
  /** For `missing-capability`: the capability the key lacks. */
  readonly capability: string | undefined;
  /** For `quota-exceeded`: which limit, its value, the tenant's usage and what the request would add. */
  readonly quota: Problem['quota'];
  /** For a `conflict` over a handoff: who holds it now (a member id or a key's agent label; `null`: nobody). */
  readonly assignedTo: string | null | undefined;
  /** The problem type's slug (`quota-exceeded`, `validation-failed`, …), or null for a type Parley does not define. */
  get slug(): ProblemSlug | null {
    const m = /\/docs\/problems\/([a-z-]+)$/.exec(this.type);
    return m ? (m[1] as ProblemSlug) : null;
  }
  /** Whether this is a problem of the given type: `if (err instanceof ParleyApiError && err.is('quota-exceeded'))`. */
  is(slug: ProblemSlug): boolean {
    return this.slug === slug;
  }
  /** @param problem - the `application/problem+json` body */
  constructor(problem: Problem) {
    super(`${problem.title}${problem.detail ? `: ${problem.detail}` : ''} (request ${problem.request_id})`);
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.requestId = problem.request_id;
    this.errors = problem.errors ?? [];
    this.capability = problem.capability;
    this.quota = problem.quota;
    this.assignedTo = problem.assignedTo;
  }
}

/**
 * The tenant holds this operation to need another owner's or admin's approval (its `approvals.operations`
 * setting): the server did not run it but proposed it. Once the proposal is approved (Approvals in the
 * console), send the same request again with `{ approval: err.proposal.id }` to run it, once.
 */
export class ParleyApprovalRequired extends Error {
  /** Always `'ParleyApprovalRequired'`. */
  override readonly name = 'ParleyApprovalRequired';
  /** The proposal: its `id` to send back once approved, the `operation`, `status` and `expiresAt`. */
  readonly proposal: Proposal;
  /** @param proposal - the `proposal` of the 202 answer */
  constructor(proposal: Proposal) {
    super(`${proposal.operation ?? 'This operation'} waits for another admin's approval (proposal ${proposal.id}, expires ${proposal.expiresAt})`);
    this.proposal = proposal;
  }
}
