// The approval sweep under its lease: one instance of the fleet expires proposals that waited too long,
// fails calls whose process died mid-call, and executes approved proposals nobody claimed.
import { approvalSweep, type ApprovalSweepCounts } from '../approvals/sweep.js';
import type { ApprovalDeps } from '../approvals/service.js';
import { runLeased, type LeasedRun } from './lease.js';

export const APPROVAL_JOB = 'approval-sweep';
export const APPROVAL_EVERY_MS = 30_000;

export function runApprovalSweep(
  deps: ApprovalDeps,
  holder: string,
  opts: { signal?: AbortSignal; now?: boolean } = {},
): Promise<LeasedRun<ApprovalSweepCounts>> {
  return runLeased(
    deps.db,
    {
      name: APPROVAL_JOB,
      holder,
      ttlMs: 5 * 60_000,
      everyMs: APPROVAL_EVERY_MS,
      ignoreSchedule: !!opts.now,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    () => approvalSweep(deps),
  );
}
