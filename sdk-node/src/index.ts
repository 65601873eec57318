export { signUserSession, IDENTITY_AUDIENCE, type SessionUser, type SessionSigningOptions } from './session.js';
export { verifyWebhook, signWebhook, WebhookVerificationError, type WebhookFailure, type WebhookHeaders, type VerifyWebhookOptions } from './webhooks.js';
export { Parley, type ParleyOptions } from './client.js';
export { ParleyApiError } from './errors.js';
