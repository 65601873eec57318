// Data-subject requests: export and erase everything about one person.
import { DataSubjectErasure, DataSubjectExport, DataSubjectRequest } from '../lifecycle.js';
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
      "A data-subject access request, by verified user id or visitor reference (in the body, so it never lands in a URL log): the person's conversations with their messages (personal values put back), handoffs, ratings, left emails, visitor records and verified profile, as JSON. Audited as `privacy.export` with counts only, never the subject or the content.",
    security: ['admin'],
    capability: 'privacy:export',
    body: DataSubjectRequest,
    responses: { 200: { description: 'Everything stored about the subject in this tenant.', schema: DataSubjectExport } },
  },
  {
    operationId: 'eraseDataSubject',
    method: 'post',
    path: '/v1/admin/privacy/erase',
    tag: PRIVACY,
    summary: 'Erase one person',
    description:
      "Deletes the person's conversations (messages, live-feed events, PII vault entries, handoffs, ratings), visitor records with their widget sessions, and verified profile. The audit log is not edited (it holds no personal data); the erasure is audited as `privacy.erase` with counts only. Idempotent: erasing again deletes nothing.",
    security: ['admin'],
    capability: 'privacy:erase',
    body: DataSubjectRequest,
    responses: { 200: { description: 'What was deleted, by kind.', schema: DataSubjectErasure } },
  },
]);
