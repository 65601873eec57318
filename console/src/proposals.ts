// Proposals of both kinds on the approval rail: an action the assistant proposed (`kind: 'action'`), or an
// admin operation the tenant gates behind a second admin's approval (`kind: 'admin'`, `action` null,
// `operation` naming it).
import type { Proposal } from '@parley/protocol';
import { ADMIN_OPERATION_LABELS } from '@parley/protocol/constants';

/** What a gated request's 202 and `GET /v1/admin/approvals/:id` say that the requester's page reads. */
export type GatedProposal = Pick<Proposal, 'id' | 'status' | 'expiresAt' | 'arguments'> & Partial<Pick<Proposal, 'kind' | 'operation' | 'decisions'>>;

/** An operation's label; one this console does not know yet (a newer server) is named as the server names it. */
export const operationLabel = (operation: string | null | undefined): string =>
  (operation && (ADMIN_OPERATION_LABELS as Record<string, string>)[operation]) ?? operation ?? 'An admin operation';

/** What a proposal asks for: the action's name, or the admin operation's label. */
export const proposalTitle = (p: Pick<Proposal, 'action' | 'operation'>): string => p.action?.name ?? operationLabel(p.operation);
