// Domains and API keys (and /v1/admin/me, which any valid caller may read).
import { z } from 'zod';
import {
  ApiKeyListResponse,
  CreateApiKeyRequest,
  CreateDomainRequest,
  CreatedApiKeyResponse,
  DomainListResponse,
  DomainResponse,
  RotateApiKeyRequest,
} from '../admin.js';
import { AdminMeResponse } from '../people.js';
import { proposed } from './approvals.js';
import { operations } from './operation.js';

const IdParams = z.object({ id: z.string().uuid() });

export const adminOperations = operations([
  {
    operationId: 'getCaller',
    method: 'get',
    path: '/v1/admin/me',
    tag: 'Caller',
    summary: 'Who is calling: the tenant, the person or key, and its capabilities',
    description:
      'Any valid secret key or console session may read this about itself (no capability needed); a client uses it to show only what the caller can do. Not cached (`Cache-Control: no-store`).',
    security: ['admin'],
    responses: { 200: { description: 'The caller: `member` for a console session, `apiKey` for a secret key.', schema: AdminMeResponse } },
  },
  {
    operationId: 'listDomains',
    method: 'get',
    path: '/v1/admin/domains',
    tag: 'Domains and keys',
    summary: 'List the domains the widget may be embedded on',
    security: ['admin'],
    capability: 'domains:read',
    responses: { 200: { description: 'The allowed domains.', schema: DomainListResponse } },
  },
  {
    operationId: 'addDomain',
    method: 'post',
    path: '/v1/admin/domains',
    tag: 'Domains and keys',
    summary: 'Allow a domain',
    description:
      'A pattern such as `example.com`, `*.example.com` or `shop.example.com:8443`. A pattern already allowed is a 409. Audited as `domain.add`.',
    security: ['admin'],
    capability: 'domains:write',
    body: CreateDomainRequest,
    responses: { 201: { description: 'The domain is allowed.', schema: DomainResponse } },
  },
  {
    operationId: 'removeDomain',
    method: 'delete',
    path: '/v1/admin/domains/{id}',
    tag: 'Domains and keys',
    summary: 'Stop allowing a domain',
    description: 'Audited as `domain.remove`.',
    security: ['admin'],
    capability: 'domains:write',
    params: IdParams,
    responses: { 204: { description: 'Removed.' } },
  },
  {
    operationId: 'listApiKeys',
    method: 'get',
    path: '/v1/admin/api-keys',
    tag: 'Domains and keys',
    summary: 'List the secret keys',
    description: 'Every key ever made, revoked and expired ones included; never a secret.',
    security: ['admin'],
    capability: 'keys:read',
    responses: { 200: { description: 'The keys, oldest first.', schema: ApiKeyListResponse } },
  },
  {
    operationId: 'createApiKey',
    method: 'post',
    path: '/v1/admin/api-keys',
    tag: 'Domains and keys',
    summary: 'Create a secret key',
    description:
      'The caller may only hand out capabilities it holds itself (a 403 names the first one missing). The `sk_…` secret is in this answer only (`Cache-Control: no-store`) and is stored as a hash. Audited as `api_key.create`; sends the `key.created` webhook.',
    security: ['admin'],
    capability: 'keys:write',
    body: CreateApiKeyRequest,
    responses: {
      ...proposed('keys.privileged'),
      201: { description: 'The key and its secret, shown once.', schema: CreatedApiKeyResponse },
    },
    problems: [409],
  },
  {
    operationId: 'rotateApiKey',
    method: 'post',
    path: '/v1/admin/api-keys/{id}/rotate',
    tag: 'Domains and keys',
    summary: 'Rotate a secret key',
    description:
      'A new key with the same name and capabilities replaces an active one; the old key keeps working for `graceSeconds` (default one day; 0 ends it at once; never past its own expiry). The caller must hold every capability of the key. Rotating a key with `keys:write`, `pii:reveal`, `privacy:export` or `privacy:erase` waits for approval where the tenant lists `keys.privileged`. The body may be omitted. Audited as `api_key.rotate`; sends the `key.created` webhook.',
    security: ['admin'],
    capability: 'keys:write',
    params: IdParams,
    body: RotateApiKeyRequest,
    responses: {
      ...proposed('keys.privileged'),
      201: { description: 'The new key (`rotatedFrom` names the old one) and its secret, shown once.', schema: CreatedApiKeyResponse },
    },
    problems: [409],
  },
  {
    operationId: 'revokeApiKey',
    method: 'delete',
    path: '/v1/admin/api-keys/{id}',
    tag: 'Domains and keys',
    summary: 'Revoke a secret key',
    description:
      'At once; the caller must hold every capability of the key. An already revoked or expired key is a 404. Audited as `api_key.revoke`.',
    security: ['admin'],
    capability: 'keys:write',
    params: IdParams,
    responses: { 204: { description: 'Revoked.' } },
  },
]);
