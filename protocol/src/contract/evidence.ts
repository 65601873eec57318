// Evidence packs: a signed bundle of what the deployment can show an auditor about one tenant.
import {
  EvidencePackListResponse,
  EvidencePackParams,
  EvidencePackRequest,
  EvidenceSubscriptionRequest,
  EvidenceSubscriptionResponse,
} from '../evidence.js';
import { operations } from './operation.js';

const EVIDENCE = 'Data lifecycle';

export const evidenceOperations = operations([
  {
    operationId: 'createEvidencePack',
    method: 'post',
    path: '/v1/admin/evidence/packs',
    tag: EVIDENCE,
    summary: 'Build a signed evidence pack',
    description:
      "A zip for auditors: the tenant's signed audit checkpoint with an inclusion proof for every audit entry of the period, the policies in force (secrets removed) and their changes, key rotation history, AI call records (model, tokens, hashes; never text), handoff statistics, self-checks run against this deployment, and a report mapping each file to the framework's controls, saying which controls it does not cover. `manifest.json` lists every file with its SHA-256 and `manifest.sig` signs it with the deployment's audit key (C2SP signed note; verify offline with `verifyEvidencePack` or `parley evidence verify`). The manifest's hash is appended to the audit log as `evidence.pack`.",
    security: ['admin'],
    capability: 'evidence:export',
    body: EvidencePackRequest,
    responses: {
      200: {
        description: 'The pack; its manifest hash is in the `X-Parley-Evidence-Manifest` header.',
        contentType: 'application/zip',
        headers: { 'X-Parley-Evidence-Manifest': 'SHA-256 (hex) of manifest.json, as appended to the audit log' },
      },
    },
  },
  {
    operationId: 'listEvidencePacks',
    method: 'get',
    path: '/v1/admin/evidence/packs',
    tag: EVIDENCE,
    summary: 'List the kept evidence pack versions',
    description:
      'The versions the evidence sweep built for the subscription, newest first. A version is superseded once the policies it shows changed and a newer one was built.',
    security: ['admin'],
    capability: 'evidence:export',
    responses: { 200: { description: 'The kept versions.', schema: EvidencePackListResponse } },
  },
  {
    operationId: 'getEvidencePack',
    method: 'get',
    path: '/v1/admin/evidence/packs/{version}',
    tag: EVIDENCE,
    summary: 'Download a kept evidence pack version',
    description: 'The zip as it was built and signed (a superseded version too): verify it offline like any pack.',
    security: ['admin'],
    capability: 'evidence:export',
    params: EvidencePackParams,
    responses: { 200: { description: 'The pack.', contentType: 'application/zip' } },
  },
  {
    operationId: 'getEvidenceSubscription',
    method: 'get',
    path: '/v1/admin/evidence/subscription',
    tag: EVIDENCE,
    summary: 'Whether evidence packs are kept current',
    security: ['admin'],
    capability: 'evidence:export',
    responses: { 200: { description: 'The subscription, or null.', schema: EvidenceSubscriptionResponse } },
  },
  {
    operationId: 'setEvidenceSubscription',
    method: 'put',
    path: '/v1/admin/evidence/subscription',
    tag: EVIDENCE,
    summary: 'Keep an evidence pack current as policies change',
    description:
      'The evidence sweep builds a pack of the last `periodDays` now and again whenever the policies it shows (settings, sign-in, SSO, providers, domains, roles) change, marking the version it replaces superseded. Audited as `evidence.subscribe`.',
    security: ['admin'],
    capability: 'evidence:export',
    body: EvidenceSubscriptionRequest,
    responses: { 200: { description: 'Saved.', schema: EvidenceSubscriptionResponse } },
  },
  {
    operationId: 'deleteEvidenceSubscription',
    method: 'delete',
    path: '/v1/admin/evidence/subscription',
    tag: EVIDENCE,
    summary: 'Stop keeping evidence packs current',
    description: 'Kept versions stay. Audited as `evidence.unsubscribe`.',
    security: ['admin'],
    capability: 'evidence:export',
    responses: { 204: { description: 'Stopped (or there was no subscription).' } },
  },
]);
