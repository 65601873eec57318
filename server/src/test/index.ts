// @parley/server/testing: the helpers other workspaces' tests and benchmarks drive a real server with. Exported
// only under the "parley-source" condition and never built or published, so no runtime code can depend on it.
export * from './app.js';
export * from './authenticator.js';
export * from './console.js';
export * from './db.js';
export * from './http.js';
export * from './oidc-op.js';
export * from './pinecone-fake.js';
export * from './saml-idp.js';
export * from './stream.js';
export * from './webhook-receiver.js';
export * from './widget.js';
// Server internals the browser suites set state up with directly.
export { PLATFORM_TENANT } from '../db/index.js';
export type { ApprovalDeps } from '../approvals/service.js';
export { approvalSweep } from '../approvals/sweep.js';
export { createInvite } from '../people/service.js';
export type { CreatedTenant } from '../tenants/service.js';
export type { WebhookWorker } from '../webhooks/worker.js';
