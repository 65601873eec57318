// Proposals of both kinds on the approval rail: an action the assistant proposed (`kind: 'action'`), or an
// admin operation the tenant gates behind a second admin's approval (`kind: 'admin'`, `action` null,
// `operation` naming it). @parley/protocol's Proposal does not have `kind` and `operation` yet (the admin
// rail lands with them); until then they are typed here, as the server will send them.
import type { Proposal } from '@parley/protocol';

export type RailProposal = Omit<Proposal, 'action'> & {
  kind?: 'action' | 'admin';
  operation?: string | null;
  action: Proposal['action'] | null;
};

/** What a gated request's 202 and `GET /v1/admin/approvals/:id` say that the requester's page reads. */
export type GatedProposal = Pick<RailProposal, 'id' | 'status' | 'expiresAt' | 'arguments'> &
  Partial<Pick<RailProposal, 'kind' | 'operation' | 'decisions'>>;

/** Each gated admin operation, as a person reads it. */
export const OPERATION_LABELS: Readonly<Record<string, string>> = {
  'keys.privileged': 'Create a key with keys:write or pii:reveal',
  'ai.provider': 'Change the AI provider',
  'identity.mode': 'Change Sign-In Pro mode',
  'signin.relax': 'Turn off MFA or SSO enforcement',
  'export.restricted': 'Export restricted data',
  'tenant.delete': 'Delete the workspace',
  'approvals.relax': 'Require fewer approvals',
};

/** An operation's label; one this console does not know yet is named as the server names it. */
export const operationLabel = (operation: string | null | undefined): string =>
  (operation && OPERATION_LABELS[operation]) ?? operation ?? 'An admin operation';

/** What a proposal asks for: the action's name, or the admin operation's label. */
export const proposalTitle = (p: Pick<RailProposal, 'action' | 'operation'>): string => p.action?.name ?? operationLabel(p.operation);
