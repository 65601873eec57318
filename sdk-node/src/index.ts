/**
 * Parley for Node: sign a logged-in user's session (Sign-In Pro), verify the webhooks Parley sends,
 * verify evidence packs offline, and call the admin API.
 *
 * @packageDocumentation
 */
export {
  signUserSession,
  IDENTITY_AUDIENCE,
  identityAudience,
  type SessionUser,
  type SessionAlgorithm,
  type SessionPrivateKey,
  type SessionSecretOptions,
  type SessionKeyOptions,
  type SessionSigningOptions,
} from './session.js';
export {
  verifyWebhook,
  signWebhook,
  WebhookVerificationError,
  type WebhookFailure,
  type WebhookHeaders,
  type VerifyWebhookOptions,
} from './webhooks.js';
export {
  verifyEvidencePack,
  EVIDENCE_PACK_FORMAT,
  EVIDENCE_PACK_KINDS,
  type EvidencePackKind,
  type EvidencePackFailure,
  type EvidencePackFile,
  type EvidencePackManifest,
  type EvidencePackVerification,
} from './evidence.js';
export { Parley, type ParleyOptions } from './client.js';
export {
  keyOperations,
  type CallOptions,
  type KeyOperation,
  type KeyOperationId,
  type OperationInput,
  type OperationMethod,
  type OperationOutput,
  type PagedOperationId,
  type ParleyApi,
  type ParleyOperation,
  type SuccessStatus,
} from './api.js';
export { ParleyApiError, ParleyApprovalRequired } from './errors.js';
export type { IdentityClaims, WebhookEvent, WebhookEventType } from '@parley/protocol';
