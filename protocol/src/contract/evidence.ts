// Evidence packs: a signed bundle of what the deployment can show an auditor about one tenant.
import { EvidencePackRequest } from '../evidence.js';
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
]);
