// Data-subject requests: export and erase everything about one person.
import {
  DataSubjectErasure,
  DataSubjectExport,
  DataSubjectExportRequest,
  DataSubjectRequest,
  TenantDeletionRequest,
  TenantDeletionStatus,
  TenantExportRequest,
} from '../lifecycle.js';
import { proposed } from './approvals.js';
import { operations } from './operation.js';

const PRIVACY = 'Data lifecycle';

export const lifecycleOperations = operations([
  {
    operationId: 'exportDataSubject',
    method: 'post',
    path: '/v1/admin/privacy/export',
    tag: PRIVACY,
    summary: 'Export everything about one person',
    description:
      "A data-subject access request, by verified user id or visitor reference (in the body, so it never lands in a URL log): the person's conversations with their messages (personal values put back), handoffs, ratings, left emails, visitor records and verified profile, as JSON. It puts back every original value `pii:reveal` releases one at a time, so it needs a `reason` (10–500 characters; a 400 names `/reason` without one). Audited as `privacy.export` with the reason (any personal value in it taken out), the ids of the conversations it opened and counts, never the subject or the content. A key holding `privacy:export` is privileged: making one waits for approval where the tenant lists `keys.privileged`.",
    security: ['admin'],
    capability: 'privacy:export',
    body: DataSubjectExportRequest,
    responses: { 200: { description: 'Everything stored about the subject in this tenant.', schema: DataSubjectExport } },
  },
  {
    operationId: 'eraseDataSubject',
    method: 'post',
    path: '/v1/admin/privacy/erase',
    tag: PRIVACY,
    summary: 'Erase one person',
    description:
      "Deletes the person's conversations (messages, live-feed events, PII vault entries, handoffs, ratings), visitor records with their widget sessions, and verified profile. The audit log is not edited (it holds no personal data); the erasure is audited as `privacy.erase` with counts, and the optional `reason` with any personal value in it taken out. Idempotent: erasing again deletes nothing. A key holding `privacy:erase` is privileged: making one waits for approval where the tenant lists `keys.privileged`.",
    security: ['admin'],
    capability: 'privacy:erase',
    body: DataSubjectRequest,
    responses: { 200: { description: 'What was deleted, by kind.', schema: DataSubjectErasure } },
  },
  {
    operationId: 'exportTenant',
    method: 'post',
    path: '/v1/admin/tenant/export',
    tag: PRIVACY,
    summary: 'Export the whole workspace as a signed archive',
    description:
      'A zip of the tenant\'s conversations (messages, handoffs, ratings, visitors, verified profiles, PII vault entries), knowledge (sources, chunks, canned replies), settings (tenant settings, domains, identity, AI providers, SSO, webhooks, keys) and members (with invitations), and its whole audit log with inclusion proofs against the latest signed checkpoint. The data classification registry picks the columns: `secret` ones (key and password hashes, sealed secrets, tokens) are never exported; `personal` ones are (the data is the tenant\'s own), sealed ones opened; `restricted` ones (the original values the PII engine took out of messages) only when an owner, signed in, sets `includeRestricted` with a `reason`, and are otherwise left out, as `manifest.json` says. Same archive format, signature and verifier as evidence packs (`kind: "tenant-export"`; verify offline with `verifyEvidencePack` or `parley evidence verify`). Audited as `tenant.export` with the row counts per table and the classes included, never the content.',
    security: ['admin'],
    capability: 'tenant:export',
    body: TenantExportRequest,
    responses: {
      ...proposed('export.restricted'),

      200: {
        description: 'The archive; its manifest hash is in the `X-Parley-Evidence-Manifest` header.',
        contentType: 'application/zip',
        headers: { 'X-Parley-Evidence-Manifest': 'SHA-256 (hex) of manifest.json, as appended to the audit log' },
      },
    },
    problems: [409],
  },
  {
    operationId: 'getTenantDeletion',
    method: 'get',
    path: '/v1/admin/tenant/deletion',
    tag: PRIVACY,
    summary: "The tenant's scheduled deletion",
    description: 'Whether the deletion of the whole tenant is scheduled, and when it falls due. Owners only.',
    security: ['admin'],
    responses: { 200: { description: 'The deletion state.', schema: TenantDeletionStatus } },
  },
  {
    operationId: 'scheduleTenantDeletion',
    method: 'post',
    path: '/v1/admin/tenant/deletion',
    tag: PRIVACY,
    summary: 'Schedule the deletion of the tenant',
    description:
      'Schedules the deletion of the whole tenant after a grace period (7 days by default, 1 to 30). Until then the tenant works as before and any owner can cancel; then its data keys are destroyed and every row deleted, leaving a tombstone in the platform audit log. Every owner is emailed. Owners only; audited as `tenant.deletion.schedule`.',
    security: ['admin'],
    body: TenantDeletionRequest,
    responses: {
      ...proposed('tenant.delete'),
      201: { description: 'Scheduled.', schema: TenantDeletionStatus },
    },
    problems: [409],
  },
  {
    operationId: 'cancelTenantDeletion',
    method: 'delete',
    path: '/v1/admin/tenant/deletion',
    tag: PRIVACY,
    summary: "Cancel the tenant's scheduled deletion",
    description: 'Cancels a scheduled deletion that has not begun. Every owner is emailed. Owners only; audited as `tenant.deletion.cancel`.',
    security: ['admin'],
    responses: { 204: { description: 'Cancelled.' } },
    problems: [404],
  },
]);
