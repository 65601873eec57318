// Tenant settings, PII policy and scan, AI providers, Sign-In Pro identity.
import { z } from 'zod';
import { CreatedIdentitySecretResponse, IdentitySettingsResponse, PiiScanRequest, PutIdentityRequest } from '../admin.js';
import { PiiScanResponse } from '../pii.js';
import { ProviderListResponse, ProviderParams, ProviderResponse, SetProviderRequest } from '../providers.js';
import { PutSettingsRequest, PutSettingsResponse, SettingsMergePatch, SettingsResponse } from '../settings.js';
import { proposed } from './approvals.js';
import { operations } from './operation.js';

const SETTINGS = 'Settings';
const PROVIDERS = 'AI providers';
const IDENTITY = 'Sign-In Pro';

export const settingsOperations = operations([
  {
    operationId: 'getSettings',
    method: 'get',
    path: '/v1/admin/settings',
    tag: SETTINGS,
    summary: "Read the tenant's settings",
    description:
      'The document as the tenant set it (a missing section takes its defaults), and `effective`: every setting as it applies now, defaults included.',
    security: ['admin'],
    capability: 'settings:read',
    responses: { 200: { description: 'The settings and the current policy version.', schema: SettingsResponse } },
  },
  {
    operationId: 'replaceSettings',
    method: 'put',
    path: '/v1/admin/settings',
    tag: SETTINGS,
    summary: 'Replace the settings document',
    description:
      'The whole document: a section left out is removed and takes its defaults again (to change one field, PATCH). A field of the wrong shape, or an unknown one, is a 400 naming it, and nothing is stored. The sign-in policy has its own endpoint and is kept. Bumps the policy version; audited as `settings.update`.',
    security: ['admin'],
    capability: 'settings:write',
    body: PutSettingsRequest,
    responses: {
      ...proposed('approvals.relax'),
      200: { description: 'Saved.', schema: PutSettingsResponse },
    },
    problems: [409],
  },
  {
    operationId: 'patchSettings',
    method: 'patch',
    path: '/v1/admin/settings',
    tag: SETTINGS,
    summary: 'Change some settings (JSON merge patch)',
    description:
      'An RFC 7396 merge patch (`application/merge-patch+json`, or `application/json`): objects merge member by member, `null` removes a member (its default applies again), anything else replaces it. The result is validated as a whole document: a wrong shape is a 400 naming the field, and nothing is stored. Bumps the policy version; audited as `settings.update`.',
    security: ['admin'],
    capability: 'settings:write',
    body: SettingsMergePatch,
    bodyContentType: 'application/merge-patch+json',
    responses: {
      ...proposed('approvals.relax'),
      200: { description: 'Saved.', schema: PutSettingsResponse },
    },
    problems: [409],
  },
  {
    operationId: 'scanPii',
    method: 'post',
    path: '/v1/admin/pii/scan',
    tag: SETTINGS,
    summary: 'Try the PII policy on a text',
    description: "What the tenant's policy finds in a text on a channel, and the text as a model would see it. Nothing is stored.",
    security: ['admin'],
    capability: 'pii:read',
    body: PiiScanRequest,
    responses: { 200: { description: 'The matches and the redacted text.', schema: PiiScanResponse } },
  },
  {
    operationId: 'listProviders',
    method: 'get',
    path: '/v1/admin/providers',
    tag: PROVIDERS,
    summary: 'List the configured AI providers',
    description: 'Keys are never returned: only their last four characters.',
    security: ['admin'],
    capability: 'settings:read',
    responses: { 200: { description: 'The providers.', schema: ProviderListResponse } },
  },
  {
    operationId: 'setProvider',
    method: 'put',
    path: '/v1/admin/providers/{provider}',
    tag: PROVIDERS,
    summary: 'Configure an AI provider (bring your own key)',
    description:
      'The key is stored sealed and never returned. An `openai-compatible` base URL must be reachable through the outbound rules (https in production). Audited.',
    security: ['admin'],
    capability: 'providers:write',
    params: ProviderParams,
    body: SetProviderRequest,
    responses: {
      ...proposed('ai.provider'),

      200: { description: 'Replaced.', schema: ProviderResponse },
      201: { description: 'Configured.', schema: ProviderResponse },
    },
    problems: [409],
  },
  {
    operationId: 'removeProvider',
    method: 'delete',
    path: '/v1/admin/providers/{provider}',
    tag: PROVIDERS,
    summary: 'Remove an AI provider and its key',
    description: 'Audited.',
    security: ['admin'],
    capability: 'providers:write',
    params: ProviderParams,
    responses: {
      ...proposed('ai.provider'),
      204: { description: 'Removed.' },
    },
    problems: [409],
  },
  {
    operationId: 'getIdentitySettings',
    method: 'get',
    path: '/v1/admin/identity',
    tag: IDENTITY,
    summary: 'Read the Sign-In Pro configuration',
    description: 'The mode, the public keys or JWKS URL, and the shared signing secrets (their ids, never their values).',
    security: ['admin'],
    capability: 'settings:read',
    responses: { 200: { description: 'The configuration.', schema: IdentitySettingsResponse } },
  },
  {
    operationId: 'updateIdentitySettings',
    method: 'put',
    path: '/v1/admin/identity',
    tag: IDENTITY,
    summary: 'Configure Sign-In Pro',
    description:
      '`required` makes every widget visitor sign in before chatting. Prefer public keys (or a JWKS URL) over shared secrets: send public keys only (a private or symmetric key is a 400). A public key taken out ends the identity of every widget session it verified, and a JWKS URL changed or removed ends every session verified through it (their next refresh is refused). Where the tenant lists `identity.mode`, a change that trusts more waits for approval: another mode, a public key not registered before, a JWKS URL not stored before (or one stored but unused that would now be asked); taking keys out does not. Bumps the policy version; audited as `identity.configure`, with the number of sessions ended.',
    security: ['admin'],
    capability: 'identity:write',
    body: PutIdentityRequest,
    responses: {
      ...proposed('identity.mode'),
      204: { description: 'Saved.' },
    },
    problems: [409],
  },
  {
    operationId: 'createIdentitySecret',
    method: 'post',
    path: '/v1/admin/identity/secrets',
    tag: IDENTITY,
    summary: 'Create a shared signing secret',
    description:
      'The secret is returned exactly once, here. Whoever holds it can sign in any verified user, so where the tenant lists `identity.mode` a new secret waits for approval (revoking one does not). Audited as `identity.secret_create`.',
    security: ['admin'],
    capability: 'identity:write',
    responses: {
      ...proposed('identity.mode'),
      201: { description: 'The new secret.', schema: CreatedIdentitySecretResponse },
    },
    problems: [409],
  },
  {
    operationId: 'revokeIdentitySecret',
    method: 'delete',
    path: '/v1/admin/identity/secrets/{id}',
    tag: IDENTITY,
    summary: 'Revoke a shared signing secret',
    description:
      'Tokens signed with it are refused from now on, and the identity of every widget session it verified ends (their next refresh is refused). Audited as `identity.secret_revoke`, with the number of sessions ended.',
    security: ['admin'],
    capability: 'identity:write',
    params: z.object({ id: z.uuid() }),
    responses: { 204: { description: 'Revoked.' } },
  },
]);
