// The one module that calls an action endpoint. It takes a proposal id, nothing else, and runs it only
// after claiming it in SQL, under the tenant's row-level security: approved → executing in one UPDATE
// (store.claimApproved), so a pending, rejected, expired or already executed proposal is never called,
// and two callers racing for one proposal call it once. The claim commits before the call: a process
// that dies mid-call leaves `executing`, which the sweep marks failed after a timeout (never called again).
//
// The call is a Standard Webhooks request (webhook-id = the proposal id, signed with the action's secret;
// the tenant verifies it with @parley/node's verifyWebhook) through outbound/ (public addresses only, no
// redirects, 64 KB, 10 s). The subject in it is the verified user the proposal was made for.
import { ENGINE_PLACEHOLDER, outboundPlaceholder, type PlaceholderLabel } from '@parley/protocol/placeholder';
import { readSettings } from '../tenants/settings.js';
import { redact } from '../ai/pii/index.js';
import { ACTION_SECRET } from '../crypto/sealed-columns.js';
import { DomainError } from '../errors.js';
import { OutboundError } from '../outbound/outbound.js';
import { approvalEvent } from '../webhooks/events.js';
import { signatureHeader } from '../webhooks/signing.js';
import { announce, approvalHolds, eventView, lapsedApproval, proposalName, type ApprovalDeps } from './service.js';
import * as store from './store.js';

/** How much of an endpoint's answer is kept, in characters, after redaction. */
export const SUMMARY_CHARS = 1000;
const ACTOR = { type: 'system' as const, id: 'approval-executor' };

// Control characters (but tab and newline) out: the summary is shown to people and is untrusted.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

interface Outcome {
  status: 'executed' | 'failed';
  resultStatus: number | null;
  body: string | null;
  error: string | null;
}

/**
 * Executes an approved proposal: claim, call, record. Throws `conflict` when the proposal is not
 * approved, or its approval no longer holds (it is pending again; nothing is called). Returns the proposal as recorded.
 */
export async function execute(deps: ApprovalDeps, tenantId: string, proposalId: string, requestId: string | null): Promise<store.ProposalRow> {
  const call = await deps.db.withTenant(tenantId, { requestId }, async (tx) => {
    // An approval whose approver can no longer decide does not run, whoever claims it (the route, the sweep):
    // it goes back to pending in this transaction, which commits, and nothing is called.
    if (!(await approvalHolds(tx, deps, { tenantId, requestId, actor: ACTOR }, proposalId))) return null;
    if (!(await store.claimApproved(tx, proposalId))) {
      const p = await store.proposalById(tx, proposalId);
      throw new DomainError(p ? 'conflict' : 'not_found', p ? `The proposal is ${p.status}; only an approved one executes.` : 'No such proposal.');
    }
    const p = (await store.proposalById(tx, proposalId))!;
    const action = (await store.anyActionById(tx, p.action_id!))!;
    const secret = await deps.keyring.openString(tx, tenantId, action.secret_sealed, ACTION_SECRET.context({ id: action.id }));
    await deps.audit.append(tx, {
      tenantId,
      requestId,
      actor: ACTOR,
      action: 'action.execute',
      target: { type: 'approval_proposal', id: p.id },
      metadata: { action: action.name, risk: p.risk, host: new URL(action.endpoint).host },
    });
    await announce(tx, deps.bus, tenantId, p);
    const body = JSON.stringify({
      id: p.id,
      type: 'action.call',
      createdAt: new Date().toISOString(),
      tenantId,
      data: {
        action: { id: action.id, name: action.name },
        proposalId: p.id,
        conversationId: p.conversation_id,
        subject: p.subject,
        arguments: p.arguments,
      },
    });
    return { url: action.endpoint, secret, body, id: p.id };
  });
  if (!call) throw lapsedApproval();
  const outcome = await send(deps, call);
  return deps.db.withTenant(tenantId, { requestId }, async (tx) => {
    const summary = outcome.body === null ? null : await summarise(tx, outcome.body);
    await record(tx, deps, tenantId, requestId, proposalId, { ...outcome, summary });
    return (await store.proposalById(tx, proposalId))!;
  });
}

async function send(deps: ApprovalDeps, call: { url: string; secret: string; body: string; id: string }): Promise<Outcome> {
  const timeoutMs = deps.callTimeoutMs ?? 10_000;
  const post = deps.outbound.fetcher({
    timeoutMs,
    connectTimeoutMs: Math.min(5000, timeoutMs),
    redirect: 'error',
    maxRedirects: 0,
    maxBytes: 64 * 1024,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const res = await post(call.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Parley-Actions/1',
        'webhook-id': call.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader([call.secret], call.id, timestamp, call.body),
      },
      body: call.body,
    });
    const text = await res.text().catch(() => '');
    const ok = res.status >= 200 && res.status <= 299;
    return {
      status: ok ? 'executed' : 'failed',
      resultStatus: res.status,
      body: text,
      error: ok ? null : `The endpoint answered HTTP ${res.status}.`,
    };
  } catch (err) {
    // outbound/ messages name the URL's problem, never a resolved address; other errors only by code.
    const error =
      err instanceof OutboundError
        ? `The call was refused or failed: ${err.message}`
        : `The call failed (${(err as NodeJS.ErrnoException).code ?? 'network error'}).`;
    return { status: 'failed', resultStatus: null, body: null, error: error.slice(0, 500) };
  }
}

/** A bounded, redacted summary of what the endpoint answered: untrusted, and maybe about a person. */
/**
 * The endpoint's answer, bounded and redacted. Its placeholders are of the kind that never restores
 * ([EMAIL_K1]): numbered apart from the conversation's, an [EMAIL_1] here would be the visitor's own, and the
 * visitor would be shown their address where the answer speaks of someone else's. Placeholders the answer
 * carries itself lose their power the same way.
 */
async function summarise(tx: Parameters<typeof readSettings>[0], body: string): Promise<string> {
  const bounded = body.replace(CONTROL, '').slice(0, SUMMARY_CHARS * 2);
  const { pii } = (await readSettings(tx)).effective;
  return redact(bounded, pii, 'api')
    .redacted.replace(ENGINE_PLACEHOLDER, (_m, label: PlaceholderLabel, n: string) => outboundPlaceholder(label, n))
    .slice(0, SUMMARY_CHARS);
}

/** Records the outcome of a claimed call: the status, the audit entry, the webhook and the conversation event. */
export async function record(
  tx: Parameters<typeof readSettings>[0],
  deps: Pick<ApprovalDeps, 'audit' | 'bus'>,
  tenantId: string,
  requestId: string | null,
  proposalId: string,
  o: { status: 'executed' | 'failed'; resultStatus: number | null; summary: string | null; error: string | null },
): Promise<boolean> {
  if (!(await store.finish(tx, proposalId, { status: o.status, resultStatus: o.resultStatus, summary: o.summary, error: o.error }))) return false;
  const p = (await store.proposalById(tx, proposalId))!;
  await deps.audit.append(tx, {
    tenantId,
    requestId,
    actor: ACTOR,
    action: o.status === 'executed' ? 'action.executed' : 'action.failed',
    target: { type: 'approval_proposal', id: proposalId },
    metadata: { action: proposalName(p), risk: p.risk, ...(o.resultStatus !== null ? { statusCode: o.resultStatus } : {}) },
  });
  await approvalEvent(tx, tenantId, o.status === 'executed' ? 'action.executed' : 'action.failed', {
    proposal: eventView(p),
    ...(o.resultStatus !== null ? { statusCode: o.resultStatus } : {}),
    ...(o.error ? { error: o.error } : {}),
  });
  await announce(tx, deps.bus, tenantId, p);
  return true;
}
