// The approval sweep: proposals past their expiry that still wait (pending, or approved and never
// claimed) expire; calls claimed longer ago than the execution timeout whose outcome was never recorded
// (the process died mid-call) are marked failed, never called again; approved proposals nobody claimed
// (the process died between the approval's commit and the call) are executed; the approvers of admin
// operations that wait are emailed (notices.ts). Every tenant in its own transactions, so one failure
// does not stop the rest.
import type { ActorRef } from '../db/types.js';
import { approvalEvent } from '../webhooks/events.js';
import { execute, record } from './executor.js';
import { announce, eventView, proposalName, type ApprovalDeps } from './service.js';
import { sendApprovalNotices } from './notices.js';
import * as store from './store.js';

/** A claimed call older than this has certainly ended (calls time out after 10 s): its outcome is lost. */
export const EXECUTING_TIMEOUT_MS = 2 * 60_000;
/** An approved proposal unclaimed for this long lost its executor. */
export const STRANDED_AFTER_MS = 60_000;
const BATCH = 200;
const ACTOR: ActorRef = { type: 'system', id: 'approval-sweep' };

export interface ApprovalSweepCounts {
  expired: number;
  interrupted: number;
  executed: number;
  /** Admin operations whose approvers were emailed. */
  notified: number;
  failures: { tenantId: string; message: string }[];
}

export async function approvalSweep(deps: ApprovalDeps, opts: { now?: number } = {}): Promise<ApprovalSweepCounts> {
  const now = opts.now ?? Date.now();
  const executingBefore = new Date(now - EXECUTING_TIMEOUT_MS);
  const approvedBefore = new Date(now - STRANDED_AFTER_MS);
  const tenants = await deps.db.withPlatform({ requestId: null, audit: false, reason: 'finding tenants with proposals due: ids only' }, (tx) =>
    store.tenantsWithDueProposals(tx, executingBefore, approvedBefore),
  );
  const out: ApprovalSweepCounts = { expired: 0, interrupted: 0, executed: 0, notified: 0, failures: [] };
  for (const tenantId of tenants) {
    try {
      const stranded = await deps.db.withTenant(tenantId, { requestId: null }, async (tx) => {
        for (const due of await store.dueToExpire(tx, BATCH)) {
          if (!(await store.transition(tx, due.id, due.status, 'expired'))) continue;
          const p = (await store.proposalById(tx, due.id))!;
          await deps.audit.append(tx, {
            tenantId,
            requestId: null,
            actor: ACTOR,
            action: 'approval.expire',
            target: { type: 'approval_proposal', id: p.id },
            metadata: { action: proposalName(p), risk: p.risk, was: due.status },
          });
          await approvalEvent(tx, tenantId, 'approval.decided', { proposal: eventView(p), decision: 'expire' });
          await announce(tx, deps.bus, tenantId, p);
          out.expired++;
        }
        for (const id of await store.stuckExecuting(tx, executingBefore, BATCH)) {
          const error = 'The call was interrupted before its outcome was recorded; it is not retried (the endpoint may or may not have acted).';
          if (await record(tx, deps, tenantId, null, id, { status: 'failed', resultStatus: null, summary: null, error })) out.interrupted++;
        }
        return store.strandedApproved(tx, approvedBefore, BATCH);
      });
      for (const id of stranded) {
        // Another instance may claim it first: then this one is refused and calls nothing.
        await execute(deps, tenantId, id, null).then(
          () => out.executed++,
          () => undefined,
        );
      }
    } catch (err) {
      out.failures.push({ tenantId, message: (err as Error).message });
    }
  }
  // After expiry, so no one is asked to decide what just expired.
  if (deps.notifier) {
    const notices = await sendApprovalNotices({ ...deps, notifier: deps.notifier });
    out.notified = notices.sent;
    out.failures.push(...notices.failures);
  }
  return out;
}
