// All SQL of approvals/: action definitions, proposals and their decisions. Inside the tenant's
// transaction (RLS), except tenantsWithDueProposals, which the sweep reads on the platform path. The
// database's triggers (migrations 096 to 123) hold the rail's rules; the statements here only ask.
import type { ActionRisk, AdminOperation, ProposalStatus } from '@parley/protocol';
import type { Tx } from '../db/types.js';

export interface ActionRow {
  id: string;
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  endpoint: string;
  risk: ActionRisk;
  expires_after_seconds: number;
  enabled: boolean;
  secret_sealed: Uint8Array;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export async function listActions(tx: Tx): Promise<ActionRow[]> {
  const { rows } = await tx.query<ActionRow>('SELECT * FROM actions WHERE deleted_at IS NULL ORDER BY name');
  return rows;
}

/** An action that is not removed; `lock` for a change. */
export async function actionById(tx: Tx, id: string, lock = false): Promise<ActionRow | null> {
  const { rows } = await tx.query<ActionRow>(`SELECT * FROM actions WHERE id = $1 AND deleted_at IS NULL${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

/** Any action, removed or not: what a proposal's execution reads. */
export async function anyActionById(tx: Tx, id: string): Promise<ActionRow | null> {
  const { rows } = await tx.query<ActionRow>('SELECT * FROM actions WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function actionNameTaken(tx: Tx, name: string): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM actions WHERE name = $1 AND deleted_at IS NULL', [name]);
  return rows.length > 0;
}

export async function insertAction(
  tx: Tx,
  tenantId: string,
  a: {
    id: string;
    name: string;
    description: string;
    inputSchema: unknown;
    endpoint: string;
    risk: ActionRisk;
    expiresAfterSeconds: number;
    enabled: boolean;
    secretSealed: Buffer;
  },
): Promise<ActionRow> {
  const { rows } = await tx.query<ActionRow>(
    `INSERT INTO actions (tenant_id, id, name, description, input_schema, endpoint, risk, expires_after_seconds, enabled, secret_sealed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [tenantId, a.id, a.name, a.description, JSON.stringify(a.inputSchema), a.endpoint, a.risk, a.expiresAfterSeconds, a.enabled, a.secretSealed],
  );
  return rows[0]!;
}

export async function updateAction(
  tx: Tx,
  id: string,
  a: { description: string; inputSchema: unknown; endpoint: string; risk: ActionRisk; expiresAfterSeconds: number; enabled: boolean },
): Promise<ActionRow> {
  const { rows } = await tx.query<ActionRow>(
    `UPDATE actions SET description = $2, input_schema = $3, endpoint = $4, risk = $5, expires_after_seconds = $6, enabled = $7, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
    [id, a.description, JSON.stringify(a.inputSchema), a.endpoint, a.risk, a.expiresAfterSeconds, a.enabled],
  );
  return rows[0]!;
}

export async function removeAction(tx: Tx, id: string): Promise<boolean> {
  const res = await tx.query('UPDATE actions SET deleted_at = now(), enabled = false, updated_at = now() WHERE id = $1 AND deleted_at IS NULL', [id]);
  return (res.rowCount ?? 0) > 0;
}

// ---- proposals ----

export interface ProposalRow {
  id: string;
  kind: 'action' | 'admin';
  /** An action's proposal: its action (null for an admin operation). */
  action_id: string | null;
  action_name: string | null;
  /** An admin operation's proposal: the operation and the hash of the exact request approved. */
  operation: AdminOperation | null;
  arguments_hash: string | null;
  risk: ActionRisk;
  conversation_id: string | null;
  subject: string | null;
  arguments: Record<string, unknown>;
  reason: string | null;
  requested_by_kind: 'visitor' | 'member' | 'key';
  requested_by_id: string;
  status: ProposalStatus;
  expires_at: Date;
  created_at: Date;
  executing_at: Date | null;
  result_status: number | null;
  result_summary: string | null;
  error: string | null;
}

export interface DecisionRow {
  decided_by_kind: 'member' | 'key';
  decided_by_id: string;
  decision: 'approve' | 'reject';
  /**
   * Whether the decider may decide this proposal now (an active member of a role holding approvals:decide,
   * or a live key holding it whose maker is one; for an admin operation, an active owner or admin in person):
   * a decision counts only while they may (migration 123).
   */
  counts: boolean;
  /** Whether it weighs as an admin's: it did when it was made, and does now. */
  admin: boolean;
  /** The person the decision is: the member, or the member who made the key (null for a key no person made). */
  person: string | null;
  reason: string | null;
  created_at: Date;
}

const PROPOSAL = `SELECT p.id, p.kind, p.action_id, a.name AS action_name, p.operation, p.arguments_hash, p.risk, p.conversation_id, p.subject, p.arguments, p.reason,
                         p.requested_by_kind, p.requested_by_id, p.status, p.expires_at, p.created_at, p.executing_at,
                         p.result_status, p.result_summary, p.error
                    FROM approval_proposals p LEFT JOIN actions a ON a.tenant_id = p.tenant_id AND a.id = p.action_id`;

export async function insertProposal(
  tx: Tx,
  tenantId: string,
  p: {
    id: string;
    actionId: string;
    risk: ActionRisk;
    conversationId: string | null;
    subject: string | null;
    arguments: unknown;
    reason: string | null;
    requestedBy: { kind: 'visitor' | 'member' | 'key'; id: string };
    status: 'pending' | 'approved';
    expiresAt: Date;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO approval_proposals (tenant_id, id, action_id, risk, conversation_id, subject, arguments, reason,
                                     requested_by_kind, requested_by_id, status, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      tenantId,
      p.id,
      p.actionId,
      p.risk,
      p.conversationId,
      p.subject,
      JSON.stringify(p.arguments),
      p.reason,
      p.requestedBy.kind,
      p.requestedBy.id,
      p.status,
      p.expiresAt,
    ],
  );
}

/** An admin operation waiting for approval: pending, risk `sensitive`, no conversation or subject. */
export async function insertAdminProposal(
  tx: Tx,
  tenantId: string,
  p: {
    id: string;
    operation: AdminOperation;
    arguments: unknown;
    argumentsHash: string;
    reason: string | null;
    requestedBy: { kind: 'member' | 'key'; id: string };
    expiresAt: Date;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO approval_proposals (tenant_id, id, kind, operation, arguments, arguments_hash, risk, reason,
                                     requested_by_kind, requested_by_id, status, expires_at)
     VALUES ($1, $2, 'admin', $3, $4, $5, 'sensitive', $6, $7, $8, 'pending', $9)`,
    [tenantId, p.id, p.operation, JSON.stringify(p.arguments), p.argumentsHash, p.reason, p.requestedBy.kind, p.requestedBy.id, p.expiresAt],
  );
}

/**
 * The claim of an approved admin operation by its requester repeating the exact request: approved →
 * executing in one statement, only for that operation, that requester and that request's hash, before
 * the approval expires. Null otherwise (nothing runs).
 */
export async function claimAdmin(
  tx: Tx,
  id: string,
  o: { operation: AdminOperation; requestedBy: { kind: 'member' | 'key'; id: string }; argumentsHash: string },
): Promise<{ id: string } | null> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE approval_proposals SET status = 'executing', executing_at = now()
      WHERE id = $1 AND kind = 'admin' AND status = 'approved' AND operation = $2 AND requested_by_kind = $3
        AND requested_by_id = $4 AND arguments_hash = $5 AND expires_at > now()
      RETURNING id`,
    [id, o.operation, o.requestedBy.kind, o.requestedBy.id, o.argumentsHash],
  );
  return rows[0] ?? null;
}

export async function proposalById(tx: Tx, id: string, lock = false): Promise<ProposalRow | null> {
  const { rows } = await tx.query<ProposalRow>(`${PROPOSAL} WHERE p.id = $1${lock ? ' FOR UPDATE OF p' : ''}`, [id]);
  return rows[0] ?? null;
}

/** The admin proposals a caller sees besides every action's: all, or only those it asked for. */
export type AdminProposalsSeen = 'all' | { requestedBy: { kind: 'member' | 'key'; id: string } };

/** The condition on `p` for `AdminProposalsSeen`, with its three parameters from `$n`. */
const seenBy = (n: number) => `(p.kind <> 'admin' OR $${n}::boolean OR (p.requested_by_kind = $${n + 1} AND p.requested_by_id = $${n + 2}))`;
const seenParams = (admin: AdminProposalsSeen) => {
  const mine = admin === 'all' ? null : admin.requestedBy;
  return [admin === 'all', mine?.kind ?? null, mine?.id ?? null];
};

export async function listProposals(tx: Tx, status: ProposalStatus | undefined, limit: number, admin: AdminProposalsSeen): Promise<ProposalRow[]> {
  const { rows } = await tx.query<ProposalRow>(
    `${PROPOSAL} WHERE ($1::text IS NULL OR p.status = $1) AND ${seenBy(3)} ORDER BY p.created_at DESC, p.id LIMIT $2`,
    [status ?? null, limit, ...seenParams(admin)],
  );
  return rows;
}

/** One proposal, when it is among those `admin` lets its caller see. */
export async function seenProposal(tx: Tx, id: string, admin: AdminProposalsSeen): Promise<ProposalRow | undefined> {
  const { rows } = await tx.query<ProposalRow>(`${PROPOSAL} WHERE p.id = $1 AND ${seenBy(2)}`, [id, ...seenParams(admin)]);
  return rows[0];
}

export async function decisionsOf(tx: Tx, proposalIds: string[]): Promise<Map<string, DecisionRow[]>> {
  const out = new Map<string, DecisionRow[]>();
  if (!proposalIds.length) return out;
  const { rows } = await tx.query<DecisionRow & { proposal_id: string }>(
    `SELECT d.proposal_id, d.decided_by_kind, d.decided_by_id, d.decision, s.decides AS counts, d.admin AND s.admin AS admin, d.reason, d.created_at,
            CASE WHEN d.decided_by_kind = 'member' THEN d.decided_by_id ELSE k.created_by_member::text END AS person
       FROM approval_decisions d
       LEFT JOIN api_keys k ON d.decided_by_kind = 'key' AND k.tenant_id = d.tenant_id AND k.id::text = d.decided_by_id
       JOIN approval_proposals p ON p.tenant_id = d.tenant_id AND p.id = d.proposal_id
       CROSS JOIN LATERAL parley_decider_standing(d.tenant_id, p.kind, d.decided_by_kind, d.decided_by_id) s
      WHERE d.proposal_id = ANY($1) ORDER BY d.created_at, d.decided_by_id`,
    [proposalIds],
  );
  for (const r of rows) out.set(r.proposal_id, [...(out.get(r.proposal_id) ?? []), r]);
  return out;
}

export async function insertDecision(
  tx: Tx,
  tenantId: string,
  d: { proposalId: string; by: { kind: 'member' | 'key'; id: string }; decision: 'approve' | 'reject'; reason: string | null },
): Promise<void> {
  await tx.query(
    `INSERT INTO approval_decisions (tenant_id, proposal_id, decided_by_kind, decided_by_id, decision, reason) VALUES ($1, $2, $3, $4, $5, $6)`,
    [tenantId, d.proposalId, d.by.kind, d.by.id, d.decision, d.reason],
  );
}

/** Moves a proposal from one status to another; false when it was not in `from` (someone else moved it). */
export async function transition(tx: Tx, id: string, from: ProposalStatus, to: ProposalStatus): Promise<boolean> {
  const res = await tx.query('UPDATE approval_proposals SET status = $3 WHERE id = $1 AND status = $2', [id, from, to]);
  return (res.rowCount ?? 0) === 1;
}

/**
 * The executor's claim: approved → executing in one statement, so one caller at most ever gets a
 * proposal to execute, whatever runs concurrently. Null when it is not approved (pending, decided
 * otherwise, expired, already claimed).
 */
export async function claimApproved(tx: Tx, id: string): Promise<{ id: string } | null> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE approval_proposals SET status = 'executing', executing_at = now() WHERE id = $1 AND kind = 'action' AND status = 'approved' RETURNING id`,
    [id],
  );
  return rows[0] ?? null;
}

/** Records the outcome of a claimed call; false when the proposal is no longer executing (the sweep failed it). */
export async function finish(
  tx: Tx,
  id: string,
  o: { status: 'executed' | 'failed'; resultStatus: number | null; summary: string | null; error: string | null },
): Promise<boolean> {
  const res = await tx.query(
    `UPDATE approval_proposals SET status = $2, finished_at = now(), result_status = $3, result_summary = $4, error = $5
      WHERE id = $1 AND status = 'executing'`,
    [id, o.status, o.resultStatus, o.summary, o.error],
  );
  return (res.rowCount ?? 0) === 1;
}

/** Tenants with proposals the sweep has work on (ids only), read on the platform path. */
export async function tenantsWithDueProposals(tx: Tx, executingBefore: Date, approvedBefore: Date): Promise<string[]> {
  const { rows } = await tx.query<{ tenant_id: string }>(
    `SELECT DISTINCT tenant_id FROM approval_proposals
      WHERE (status IN ('pending', 'approved') AND expires_at <= now())
         OR (status = 'executing' AND executing_at <= $1)
         OR (status = 'approved' AND kind = 'action' AND updated_at <= $2)
      ORDER BY tenant_id`,
    [executingBefore, approvedBefore],
  );
  return rows.map((r) => r.tenant_id);
}

/** In the tenant: proposals past their expiry still waiting (pending, or approved but never claimed). */
export async function dueToExpire(tx: Tx, limit: number): Promise<{ id: string; status: 'pending' | 'approved' }[]> {
  const { rows } = await tx.query<{ id: string; status: 'pending' | 'approved' }>(
    `SELECT id, status FROM approval_proposals WHERE status IN ('pending', 'approved') AND expires_at <= now()
      ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

/** Claimed calls whose process never recorded an outcome (it died mid-call). */
export async function stuckExecuting(tx: Tx, before: Date, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM approval_proposals WHERE status = 'executing' AND executing_at <= $1 ORDER BY executing_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [before, limit],
  );
  return rows.map((r) => r.id);
}

/**
 * Approved action calls nobody claimed (the process died between the approval's commit and the call). An
 * approved admin operation is not stranded: it waits for its requester.
 */
export async function strandedApproved(tx: Tx, before: Date, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM approval_proposals WHERE status = 'approved' AND kind = 'action' AND updated_at <= $1 AND expires_at > now()
      ORDER BY updated_at LIMIT $2`,
    [before, limit],
  );
  return rows.map((r) => r.id);
}

/** Admin operations still waiting whose approvers were not emailed yet, across tenants (ids only). */
export async function unnoticedAdminProposals(tx: Tx, limit: number): Promise<{ tenant_id: string; id: string }[]> {
  const { rows } = await tx.query<{ tenant_id: string; id: string }>(
    `SELECT p.tenant_id, p.id FROM approval_proposals p
      WHERE p.kind = 'admin' AND p.status = 'pending' AND p.expires_at > now()
        AND NOT EXISTS (SELECT 1 FROM approval_notices n WHERE n.tenant_id = p.tenant_id AND n.proposal_id = p.id)
      ORDER BY p.created_at LIMIT $1`,
    [limit],
  );
  return rows;
}

/**
 * Who could decide an admin operation asked for by `requester` (their emails): active owners and admins,
 * less the requester, and less a requesting key's maker (the database refuses both).
 */
export async function deciders(tx: Tx, requester: { kind: string; id: string }): Promise<string[]> {
  const { rows } = await tx.query<{ email: string }>(
    `SELECT m.email FROM members m
      WHERE m.role IN ('owner', 'admin') AND m.status = 'active'
        AND m.id::text IS DISTINCT FROM $1
        AND m.id IS DISTINCT FROM (SELECT k.created_by_member FROM api_keys k WHERE k.id::text = $2)
      ORDER BY m.email`,
    [requester.kind === 'member' ? requester.id : null, requester.kind === 'key' ? requester.id : null],
  );
  return rows.map((r) => r.email);
}

/** The requester as approvers know them: a member's name, or a key's name. */
export async function requesterName(tx: Tx, kind: string, id: string): Promise<string | null> {
  const { rows } = await tx.query<{ name: string }>(
    kind === 'member' ? 'SELECT display_name AS name FROM members WHERE id::text = $1' : 'SELECT name FROM api_keys WHERE id::text = $1',
    [id],
  );
  return rows[0]?.name ?? null;
}

export async function tenantName(tx: Tx, tenantId: string): Promise<string> {
  return (await tx.query<{ name: string }>('SELECT name FROM tenants WHERE id = $1', [tenantId])).rows[0]?.name ?? 'your workspace';
}

/** Records that a proposal's approvers were emailed; false when another sweep recorded it first. */
export async function recordNotice(tx: Tx, tenantId: string, proposalId: string, recipients: number): Promise<boolean> {
  const { rowCount } = await tx.query(
    'INSERT INTO approval_notices (tenant_id, proposal_id, recipients) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [tenantId, proposalId, recipients],
  );
  return rowCount > 0;
}
