// The approval rail for admin operations. A tenant lists the operations it holds to be high risk
// (settings `approvals.operations`); a request for one of them is then not run but proposed, and an
// owner or admin other than the requester approves it (decide() in service.ts; the database refuses
// anything else). The requester then repeats the exact request with `Parley-Approval: <proposal id>`:
// the claim (approved → executing, in SQL, for that operation, that requester and that request's hash)
// is the only way past the gate, so an approval runs the request it was given for, once.
//
// The operation itself runs after the claim's commit; its outcome is recorded as the proposal's result.
import { createHash, randomUUID } from 'node:crypto';
import { APPROVAL_HEADER, DEFAULT_ACTION_EXPIRY_SECONDS, type AdminOperation, type Proposal } from '@parley/protocol';
import type { Request, Response } from 'express';
import type { AuditLog } from '../audit/log.js';
import { isUuid } from '../db/index.js';
import type { ActorRef, Db, Tx, TxAuthority } from '../db/types.js';
import { DomainError } from '../errors.js';
import { adminCtx, type AdminAuth } from '../http/context.js';
import { tenantSettings } from '../tenants/settings.js';
import { keyPerson } from '../tenants/store.js';
import { approvalEvent } from '../webhooks/events.js';
import { approvalHolds, eventView, lapsedApproval, proposalView } from './service.js';
import * as store from './store.js';

export interface GateDeps {
  db: Db;
  audit: AuditLog;
}

export interface GateCtx {
  tenantId: string;
  requestId: string | null;
  actor: ActorRef;
  admin: AdminAuth;
  authority?: TxAuthority | undefined;
}

export interface GatedOperation {
  operation: AdminOperation;
  /** Whether this request is the high-risk kind of the operation (e.g. a key that holds keys:write). */
  applies: boolean;
  /** The request as the approver sees it. */
  arguments: Record<string, unknown>;
  /** Values the approver must not see (an API key); they count in the hash, and show as `[secret]`. */
  secrets?: Record<string, string | undefined>;
  reason?: string | null;
}

export type GateOutcome<T> = { ran: true; value: T } | { ran: false; proposal: Proposal };

const SECRET = '[secret]';

/** JSON with object keys in order, so one request always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const requestHash = (op: GatedOperation) =>
  createHash('sha256')
    .update(canonical({ operation: op.operation, arguments: op.arguments, secrets: op.secrets ?? {} }))
    .digest('hex');

const requesterOf = (admin: AdminAuth) =>
  admin.member ? { kind: 'member' as const, id: admin.member.id } : { kind: 'key' as const, id: admin.keyId! };

/**
 * Runs `run` now when the tenant does not hold this operation to need approval; proposes it when it
 * does; runs it under the approval named by `approvalId` (the `Parley-Approval` header) when given.
 */
export async function gate<T>(
  deps: GateDeps,
  ctx: GateCtx,
  op: GatedOperation,
  approvalId: string | undefined,
  run: () => Promise<T>,
): Promise<GateOutcome<T>> {
  if (approvalId !== undefined) return { ran: true, value: await runApproved(deps, ctx, async () => op, approvalId, run) };
  if (!op.applies) return { ran: true, value: await run() };
  const proposal = await inTenant(deps, ctx, async (tx) => ((await holds(tx, op)) ? propose(tx, deps, ctx, op) : null));
  return proposal ? { ran: false, proposal } : { ran: true, value: await run() };
}

/**
 * `gate` for an operation whose kind, and what the approver sees, depend on a row the operation locks
 * (the key a rotation copies). Without an approval, one transaction locks the row, then proposes the
 * operation or runs it on that same read. With one, the claim's transaction reads the row to name the
 * request, and the operation, run after the claim's commit as with `gate`, locks it again.
 */
export async function gateOnRow<R, T>(
  deps: GateDeps,
  ctx: GateCtx,
  approvalId: string | undefined,
  lock: (tx: Tx) => Promise<R>,
  describe: (row: R) => GatedOperation,
  run: (tx: Tx, row: R) => Promise<T>,
): Promise<GateOutcome<T>> {
  if (approvalId !== undefined) {
    const again = () => inTenant(deps, ctx, async (tx) => run(tx, await lock(tx)));
    return { ran: true, value: await runApproved(deps, ctx, async (tx) => describe(await lock(tx)), approvalId, again) };
  }
  return inTenant(deps, ctx, async (tx): Promise<GateOutcome<T>> => {
    const row = await lock(tx);
    const op = describe(row);
    if (op.applies && (await holds(tx, op))) return { ran: false, proposal: await propose(tx, deps, ctx, op) };
    return { ran: true, value: await run(tx, row) };
  });
}

// With the request's authority: a proposal, a claim and an operation run here (a key's rotation) hold the
// person behind the request until they commit (tenants/authority.ts).
const inTenant = <T>(deps: GateDeps, ctx: GateCtx, fn: (tx: Tx) => Promise<T>) => deps.db.withTenant(ctx.tenantId, ctx, fn);

/** Whether the tenant holds the operation to need approval. */
const holds = async (tx: Tx, op: GatedOperation) => (await tenantSettings(tx)).approvals.operations.includes(op.operation);

async function propose(tx: Tx, deps: GateDeps, ctx: GateCtx, op: GatedOperation): Promise<Proposal> {
  // Another person's approval needs a person who asked: a key the command line made (or such a key made)
  // is nobody's, and whoever holds it could approve their own request.
  if (!ctx.admin.member && !(await keyPerson(tx, ctx.admin.keyId!)))
    throw new DomainError(
      'forbidden',
      'A key no person made (by the command line, or by such a key) cannot ask for an operation this workspace holds for another person’s approval: nobody could tell who asked. Ask with a key a person made, or in the console.',
    );
  // Refused now rather than left to wait for no one and expire (a lone owner; a key whose maker is the
  // only other admin).
  if (!(await store.deciders(tx, requesterOf(ctx.admin))).length)
    throw new DomainError(
      'conflict',
      'Nobody else can approve this: the workspace needs another active owner or admin (invited with this operation off the approvals list, or by the CLI), or this operation taken off the approvals list (Settings).',
    );
  const id = randomUUID();
  const shown = {
    ...op.arguments,
    ...Object.fromEntries(Object.entries(op.secrets ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [[k, SECRET]]))),
  };
  const requestedBy = requesterOf(ctx.admin);
  await store.insertAdminProposal(tx, ctx.tenantId, {
    id,
    operation: op.operation,
    arguments: shown,
    argumentsHash: requestHash(op),
    reason: op.reason ?? null,
    requestedBy,
    expiresAt: new Date(Date.now() + DEFAULT_ACTION_EXPIRY_SECONDS * 1000),
  });
  const p = (await store.proposalById(tx, id))!;
  await deps.audit.append(tx, {
    ...ctx,
    action: 'approval.propose',
    target: { type: 'approval_proposal', id },
    metadata: { action: op.operation, risk: p.risk, status: p.status, requestedBy: requestedBy.kind, conversationId: null },
  });
  await approvalEvent(tx, ctx.tenantId, 'approval.requested', { proposal: eventView(p) });
  return proposalView(p, []);
}

/** `opIn` names the request in the claim's transaction. */
async function runApproved<T>(
  deps: GateDeps,
  ctx: GateCtx,
  opIn: (tx: Tx) => Promise<GatedOperation>,
  approvalId: string,
  run: () => Promise<T>,
): Promise<T> {
  const held = await inTenant(deps, ctx, async (tx) => {
    // Named before the header is checked: a request about a row that is gone is a 404 whatever it says.
    const op = await opIn(tx);
    if (!isUuid(approvalId)) throw new DomainError('invalid_input', 'The Parley-Approval header must be a proposal id.');
    // Only the requester's own approved request is re-checked (and reopened when its approver can no longer
    // decide); anyone else's repeat is refused by the claim below, as before.
    const requestedBy = requesterOf(ctx.admin);
    const mine = await store.proposalById(tx, approvalId);
    if (mine?.kind === 'admin' && mine.requested_by_kind === requestedBy.kind && mine.requested_by_id === requestedBy.id) {
      const { admin: _, authority: __, ...rail } = ctx;
      if (!(await approvalHolds(tx, deps, rail, approvalId))) return false;
    }
    const claimed = await store.claimAdmin(tx, approvalId, {
      operation: op.operation,
      requestedBy,
      argumentsHash: requestHash(op),
    });
    if (!claimed) {
      const p = await store.proposalById(tx, approvalId);
      throw new DomainError(
        'conflict',
        !p || p.kind !== 'admin'
          ? 'No such approval.'
          : p.status !== 'approved'
            ? `The proposal is ${p.status}; only an approved one runs.`
            : 'This approval was given for another request, another requester, or has expired.',
      );
    }
    await deps.audit.append(tx, {
      ...ctx,
      action: 'approval.execute',
      target: { type: 'approval_proposal', id: approvalId },
      metadata: { action: op.operation },
    });
    return true;
  });
  if (!held) throw lapsedApproval();
  try {
    const value = await run();
    await finish(deps, ctx, approvalId, { status: 'executed', error: null });
    return value;
  } catch (err) {
    const error = err instanceof DomainError ? err.message.slice(0, 500) : 'The operation failed.';
    await finish(deps, ctx, approvalId, { status: 'failed', error });
    throw err;
  }
}

async function finish(deps: GateDeps, ctx: GateCtx, id: string, o: { status: 'executed' | 'failed'; error: string | null }): Promise<void> {
  // Not held to the requester's authority (tenants/authority.ts): what the operation did, under its own hold,
  // is recorded even if they are removed the moment after.
  await deps.db.withTenant(ctx.tenantId, { requestId: ctx.requestId }, async (tx) => {
    if (!(await store.finish(tx, id, { status: o.status, resultStatus: null, summary: null, error: o.error }))) return;
    const p = (await store.proposalById(tx, id))!;
    await deps.audit.append(tx, {
      ...ctx,
      action: o.status === 'executed' ? 'approval.executed' : 'approval.failed',
      target: { type: 'approval_proposal', id },
      metadata: { action: p.operation },
    });
    await approvalEvent(tx, ctx.tenantId, o.status === 'executed' ? 'action.executed' : 'action.failed', {
      proposal: eventView(p),
      ...(o.error ? { error: o.error } : {}),
    });
  });
}

/**
 * The gate for a route: the operation's outcome, or null once the 202 with the proposal is sent (the
 * requester repeats the request with `Parley-Approval` when it is approved).
 */
export async function gated<T>(deps: GateDeps, req: Request, res: Response, op: GatedOperation, run: () => Promise<T>): Promise<{ value: T } | null> {
  return answered(res, await gate(deps, adminCtx(req), op, req.get(APPROVAL_HEADER), run));
}

/** `gated` over `gateOnRow`. */
export async function gatedOnRow<R, T>(
  deps: GateDeps,
  req: Request,
  res: Response,
  lock: (tx: Tx) => Promise<R>,
  describe: (row: R) => GatedOperation,
  run: (tx: Tx, row: R) => Promise<T>,
): Promise<{ value: T } | null> {
  return answered(res, await gateOnRow(deps, adminCtx(req), req.get(APPROVAL_HEADER), lock, describe, run));
}

function answered<T>(res: Response, out: GateOutcome<T>): { value: T } | null {
  if (out.ran) return { value: out.value };
  res.status(202).setHeader('Cache-Control', 'no-store').json({ proposal: out.proposal });
  return null;
}
