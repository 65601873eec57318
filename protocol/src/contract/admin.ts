// Domains and API keys (and /v1/admin/me, which any valid caller may read).
import { z } from 'zod';
import { CreateDomainRequest, DomainListResponse, DomainSchema } from '../admin.js';
import { operations } from './operation.js';

const IdParams = z.object({ id: z.string().uuid() });

export const adminOperations = operations([
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
    description: 'A pattern such as `example.com`, `*.example.com` or `shop.example.com:8443`. Audited as `domain.added`.',
    security: ['admin'],
    capability: 'domains:write',
    body: CreateDomainRequest,
    responses: { 201: { description: 'The domain is allowed.', schema: z.object({ domain: DomainSchema }) } },
  },
  {
    operationId: 'removeDomain',
    method: 'delete',
    path: '/v1/admin/domains/{id}',
    tag: 'Domains and keys',
    summary: 'Stop allowing a domain',
    security: ['admin'],
    capability: 'domains:write',
    params: IdParams,
    responses: { 204: { description: 'Removed.' } },
  },
]);
