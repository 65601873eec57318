// Email to the people who can decide an admin operation (the tenant's active owners and admins other than
// the requester), sent by the approval sweep: once per proposal, within about a sweep interval of the
// request, whichever instance took it. A notice is recorded after its emails went out, so a sweep cut
// short sends it again rather than never. The email names the operation, the requester and the expiry;
// the request itself is read in the console, where a person signs in to decide.
import { ADMIN_OPERATION_LABELS } from '@parley/protocol';
import { toMailError, type Mailer } from '../people/mailer.js';
import type { ApprovalDeps } from './service.js';
import * as store from './store.js';

export interface ApprovalNotifier {
  mailer: Mailer;
  /** The console's Approvals page, linked from the email. */
  approvalsUrl: string;
}

const BATCH = 50;

/**
 * Emails the approvers of every admin operation that waits without a notice: how many notices went out,
 * and the tenants where one failed (tried again on the next sweep; the others go on).
 */
export async function sendApprovalNotices(
  deps: ApprovalDeps & { notifier: ApprovalNotifier },
): Promise<{ sent: number; failures: { tenantId: string; message: string }[] }> {
  const due = await deps.db.withPlatform({ requestId: null, audit: false, reason: 'admin operations awaiting a notice: ids only' }, (tx) =>
    store.unnoticedAdminProposals(tx, BATCH),
  );
  let sent = 0;
  const failures: { tenantId: string; message: string }[] = [];
  for (const { tenant_id: tenantId, id } of due) {
    try {
      if (await sendNotice(deps, tenantId, id)) sent++;
    } catch (err) {
      failures.push({ tenantId, message: `approval notice: ${(err as Error).message}` });
    }
  }
  return { sent, failures };
}

async function sendNotice(deps: ApprovalDeps & { notifier: ApprovalNotifier }, tenantId: string, id: string): Promise<boolean> {
  const notice = await deps.db.withTenant(tenantId, { requestId: null }, async (tx) => {
    const p = await store.proposalById(tx, id);
    if (!p || p.status !== 'pending') return null;
    const requester = (await store.requesterName(tx, p.requested_by_kind, p.requested_by_id)) ?? `${p.requested_by_kind} ${p.requested_by_id}`;
    const what = p.operation ? ADMIN_OPERATION_LABELS[p.operation] : 'Run an admin operation';
    return {
      to: await store.deciders(tx, { kind: p.requested_by_kind, id: p.requested_by_id }),
      subject: `Approval needed: ${what}`,
      text: [
        `${requester} asked to ${what[0]!.toLowerCase()}${what.slice(1)} in ${await store.tenantName(tx, tenantId)}.`,
        `Your workspace requires a second owner or admin to approve it. It waits for your decision until ${p.expires_at.toISOString()}.`,
        '',
        `Review it, exactly as it will run, and approve or reject it: ${deps.notifier.approvalsUrl}`,
      ].join('\n'),
    };
  });
  if (!notice) return false;
  // A mail failure is reported by its kind only (MailError): the mail server's words quote the address.
  for (const to of notice.to)
    await deps.notifier.mailer.send({ to, subject: notice.subject, text: notice.text }).catch((err: unknown) => {
      throw toMailError(err);
    });
  return deps.db.withTenant(tenantId, { requestId: null }, (tx) => store.recordNotice(tx, tenantId, id, notice.to.length));
}
