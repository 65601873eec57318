// Tenant settings, PII policy and scan, AI providers, Sign-In Pro identity.
import { operations } from './operation.js';

export const settingsOperations = operations([]);
