// Conversations, handoffs, the inbox and its stream, canned replies, reports, webhooks.
import { operations } from './operation.js';

export const workspaceOperations = operations([]);
