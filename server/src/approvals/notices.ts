// Email to the people who can decide an admin operation (the tenant's active owners and admins other than
// the requester), sent by the approval sweep: once per proposal, within about a sweep interval of the
// request, whichever instance took it. A notice is recorded after its emails went out, so a sweep cut
// short sends it again rather than never. The email names the operation, the requester and the expiry;
// the request itself is read in the console, where a person signs in to decide.
import { ADMIN_OPERATION_LABELS } from '@parley/protocol';
import type { Mailer } from '../people/mailer.js';
import type { ApprovalDeps } from './service.js';
import * as store from './store.js';

export interface ApprovalNotifier {
  mailer: Mailer;
  /** The console's Approvals page, linked from the email. */
  approvalsUrl: string;
}

const BATCH = 50;

/** Emails the approvers of every admin operation that waits without a notice; how many were sent. */
export async function sendApprovalNotices(deps: ApprovalDeps & { notifier: ApprovalNotifier }): Promise<number> {
  const due = await deps.db.withPlatform({ requestId: null, audit: false, reason: 'admin operations awaiting a notice: ids only' }, (tx) =>
    store.unnoticedAdminProposals(tx, BATCH),
  );
  let sent = 0;
  for (const { tenant_id: tenantId, id } of due) {
    const notice = await deps.db.withTenant(tenantId, { requestId: null }, async (tx) => {
      const p = await store.proposalById(tx, id);
      if (!p || p.status !== 'pending') return null;
      const requester = (await store.requesterName(tx, p.requested_by_kind, p.requested_by_id)) ?? `${p.requested_by_kind} ${p.requested_by_id}`;
      const what = p.operation ? ADMIN_OPERATION_LABELS[p.operation] : 'Run an admin operation';
      return {
        to: await store.approverEmails(tx, p.requested_by_kind === 'member' ? p.requested_by_id : null),
        subject: `Approval needed: ${what}`,
        text: [
          `${requester} asked to ${what[0]!.toLowerCase()}${what.slice(1)} in ${await store.tenantName(tx, tenantId)}.`,
          `Your workspace requires a second owner or admin to approve it. It waits for your decision until ${p.expires_at.toISOString()}.`,
          '',
          `Review it, exactly as it will run, and approve or reject it: ${deps.notifier.approvalsUrl}`,
        ].join('\n'),
      };
    });
    if (!notice) continue;
    for (const to of notice.to) await deps.notifier.mailer.send({ to, subject: notice.subject, text: notice.text });
    if (await deps.db.withTenant(tenantId, { requestId: null }, (tx) => store.recordNotice(tx, tenantId, id, notice.to.length))) sent++;
  }
  return sent;
}
