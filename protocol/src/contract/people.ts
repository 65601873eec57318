// Sign-in, sessions, MFA, SSO (OIDC, SAML), members, invites, the signed-in person (/me), and the platform operator routes.
import { operations } from './operation.js';

export const peopleOperations = operations([]);
